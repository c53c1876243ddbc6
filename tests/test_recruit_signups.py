"""Sign-ups, the leader's decisions, the waitlist, no-shows and the check-in rule, through plain service calls."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from volunteer_app.activities import corrections, publishing, service, signup_roster, signups
from volunteer_app.activities.signups import SignupError
from volunteer_app.checkin import service as checkin
from volunteer_app.checkin.service import CheckinError
from volunteer_app.models import Activity, AuditEvent, Notice, Signup, utcnow

from . import factories


def upcoming(session, team, **fields):
    """A scheduled activity of team tomorrow."""
    start = utcnow().replace(microsecond=0) + timedelta(days=1)
    return factories.make_activity(session, team, starts_at=start, **fields)


def people(session, n, unit=None):
    return [factories.make_volunteer(session, f"志愿者{i}", home_unit=unit) for i in range(n)]


def statuses(session, activity):
    session.expire_all()
    return [s.status for s in session.exec(select(Signup).where(Signup.activity_id == activity.id)
                                           .order_by(Signup.id)).all()]


def notices(session, volunteer, kind=None):
    query = select(Notice.kind).where(Notice.volunteer_id == volunteer.id)
    return [k for k in session.exec(query.order_by(Notice.id)).all() if kind is None or k == kind]


def error_code(call):
    with pytest.raises(SignupError) as info:
        call()
    return info.value.code


def test_auto_admission_fills_the_places_then_waitlists_and_promotes_in_order(session, world):
    activity = upcoming(session, world.team_a, audience="city", capacity=2)
    a, b, c, d = people(session, 4)
    for person in (a, b, c, d):
        signups.signup(session=session, activity_id=activity.id, volunteer_id=person.id)
    assert statuses(session, activity) == ["admitted", "admitted", "waitlisted", "waitlisted"]
    fresh = session.get(Activity, activity.id)
    assert (fresh.admitted_count, fresh.waitlist_count) == (2, 2)
    assert notices(session, c) == ["signup_waitlisted"]
    signups.cancel(session=session, activity_id=activity.id, volunteer_id=a.id)
    assert statuses(session, activity) == ["cancelled", "admitted", "admitted", "waitlisted"]
    assert notices(session, c) == ["signup_waitlisted", "signup_promoted"]
    assert notices(session, d) == ["signup_waitlisted"]
    fresh = session.get(Activity, activity.id)
    assert (fresh.admitted_count, fresh.waitlist_count) == (2, 1)
    assert session.exec(select(AuditEvent.action).where(AuditEvent.action == "signup.cancel")).all()


def test_clear_codes_for_every_refusal(session, world):
    stranger = factories.make_volunteer(session, "外人", home_unit=world.community2)
    team_only = upcoming(session, world.team_a)
    assert error_code(lambda: signups.signup(session=session, activity_id=team_only.id,
                                             volunteer_id=stranger.id)) == "not_member"
    street = upcoming(session, world.team_a, audience="unit", audience_unit_id=world.street.id)
    assert error_code(lambda: signups.signup(session=session, activity_id=street.id,
                                             volunteer_id=stranger.id)) == "not_in_audience"
    signups.signup(session=session, activity_id=street.id, volunteer_id=world.volunteer.id)  # lives in the street
    assert error_code(lambda: signups.signup(session=session, activity_id=street.id,
                                             volunteer_id=world.volunteer.id)) == "already_signed_up"
    assert error_code(lambda: signups.signup(session=session, activity_id=street.id,
                                             volunteer_id=world.office.id)) == "not_participant"
    late = upcoming(session, world.team_a, audience="city")
    late.signup_deadline = utcnow() - timedelta(minutes=1)
    session.flush()
    assert error_code(lambda: signups.signup(session=session, activity_id=late.id,
                                             volunteer_id=stranger.id)) == "deadline_passed"
    gone = upcoming(session, world.team_a, audience="city", status="cancelled")
    assert error_code(lambda: signups.signup(session=session, activity_id=gone.id,
                                             volunteer_id=stranger.id)) == "activity_cancelled"
    past = factories.make_activity(session, world.team_a, audience="city", status="closed",
                                   starts_at=utcnow() - timedelta(days=2))
    assert error_code(lambda: signups.signup(session=session, activity_id=past.id,
                                             volunteer_id=stranger.id)) == "activity_past"
    running = factories.make_activity(session, world.team_a, audience="city", status="open")
    assert error_code(lambda: signups.signup(session=session, activity_id=running.id,
                                             volunteer_id=stranger.id)) == "not_upcoming"
    assert session.exec(select(Signup).where(Signup.volunteer_id == stranger.id)).all() == []


def test_full_only_when_the_waitlist_is_full_too_and_nothing_is_left_behind(session, world, monkeypatch):
    monkeypatch.setattr(signups, "WAITLIST_LIMIT", 1)
    activity = upcoming(session, world.team_a, audience="city", capacity=1)
    a, b, c = people(session, 3)
    signups.signup(session=session, activity_id=activity.id, volunteer_id=a.id)
    assert signups.signup(session=session, activity_id=activity.id, volunteer_id=b.id).status == "waitlisted"
    assert error_code(lambda: signups.signup(session=session, activity_id=activity.id, volunteer_id=c.id)) == "full"
    assert signups.signup_of(session=session, activity_id=activity.id, volunteer_id=c.id) is None


def test_cancel_after_the_deadline_is_refused_and_a_cancelled_person_may_sign_up_again(session, world):
    activity = upcoming(session, world.team_a, audience="city", capacity=5)
    signups.signup(session=session, activity_id=activity.id, volunteer_id=world.volunteer.id)
    signups.cancel(session=session, activity_id=activity.id, volunteer_id=world.volunteer.id)
    assert error_code(lambda: signups.cancel(session=session, activity_id=activity.id,
                                             volunteer_id=world.volunteer.id)) == "not_signed_up"
    again = signups.signup(session=session, activity_id=activity.id, volunteer_id=world.volunteer.id)
    assert again.status == "admitted"
    later = activity.starts_at + timedelta(minutes=1)
    assert error_code(lambda: signups.cancel(session=session, activity_id=activity.id,
                                             volunteer_id=world.volunteer.id, now=later)) in ("too_late_to_cancel",)


def test_leader_admits_within_capacity_and_declines_with_one_reason(session, world):
    activity = upcoming(session, world.team_a, audience="city", capacity=2, admission="leader")
    crowd = people(session, 4)
    rows = [signups.signup(session=session, activity_id=activity.id, volunteer_id=p.id) for p in crowd]
    assert {r.status for r in rows} == {"pending"}
    assert error_code(lambda: signups.decide(session=session, activity_id=activity.id, actor_id=world.member_a.id,
                                             signup_ids=[rows[0].id], decision="admit")) == "not_allowed"
    assert error_code(lambda: signups.decide(session=session, activity_id=activity.id, actor_id=world.leader_a.id,
                                             signup_ids=[rows[0].id], decision="decline")) == "reason_required"
    done = signups.decide(session=session, activity_id=activity.id, actor_id=world.leader_a.id,
                          signup_ids=[r.id for r in rows[:3]], decision="admit")
    assert done.admitted == [rows[0].id, rows[1].id] and done.waitlisted == [rows[2].id]
    done = signups.decide(session=session, activity_id=activity.id, actor_id=world.leader_a.id,
                          signup_ids=[rows[0].id, rows[3].id], decision="decline", reason="人数已够")
    assert done.declined == [rows[0].id, rows[3].id]
    assert statuses(session, activity) == ["declined", "admitted", "admitted", "declined"]  # the first in line moved up
    assert notices(session, crowd[2]) == ["signup_waitlisted", "signup_promoted"]
    assert notices(session, crowd[3]) == ["signup_declined"]
    assert session.exec(select(Notice.params).where(Notice.volunteer_id == crowd[3].id)).one()["reason"] == "人数已够"
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.action.like("signup.%"))).all()
    assert sorted(actions) == ["signup.admit", "signup.admit", "signup.admit", "signup.decline", "signup.decline"]
    assert error_code(lambda: signups.signup(session=session, activity_id=activity.id,
                                             volunteer_id=crowd[3].id)) == "declined"


def test_no_shows_on_close_and_a_correction_flips_them_back(session, world):
    activity = factories.make_activity(session, world.team_a, status="scheduled",
                                       starts_at=utcnow().replace(microsecond=0) + timedelta(minutes=30))
    for person in (world.member_a, world.leader_a):
        signups.signup(session=session, activity_id=activity.id, volunteer_id=person.id)
    activity.status = "open"
    session.flush()
    checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.leader_a.id, method="self_scan",
                     at=activity.starts_at)
    service.close_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id,
                           at=activity.ends_at + timedelta(minutes=5))
    session.expire_all()
    mine = signups.signup_of(session=session, activity_id=activity.id, volunteer_id=world.member_a.id)
    assert mine.status == "no_show"
    assert signups.signup_of(session=session, activity_id=activity.id, volunteer_id=world.leader_a.id).status == \
        "admitted"
    roster = signup_roster.roster(session=session, activity=session.get(Activity, activity.id))
    assert {row.volunteer.id: row.no_shows for row in roster}[world.member_a.id] == 1
    corrections.add_missed(session=session, activity_id=activity.id, volunteer_id=world.member_a.id, minutes=60,
                           reason="漏签", actor_id=world.leader_a.id)
    session.expire_all()
    assert signups.signup_of(session=session, activity_id=activity.id, volunteer_id=world.member_a.id).status == \
        "admitted"


def test_editing_notifies_those_signed_up_and_cancelling_releases_everyone(session, world):
    activity = upcoming(session, world.team_a, audience="city", capacity=1)
    a, b = people(session, 2)
    for person in (a, b):
        signups.signup(session=session, activity_id=activity.id, volunteer_id=person.id)
    fields = dict(theme_id=activity.theme_id, title="改了时间", place=activity.place,
                  starts_at=activity.starts_at + timedelta(hours=1), ends_at=activity.ends_at + timedelta(hours=1),
                  capacity=2, audience="city")
    service.update_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id, **fields)
    assert statuses(session, activity) == ["admitted", "admitted"]  # the larger headcount took b in
    assert notices(session, a) == ["signup_admitted", "activity_changed"]
    assert session.exec(select(Notice.params).where(Notice.volunteer_id == a.id, Notice.kind == "activity_changed")
                        ).one()["changed"] == ["time", "title"]
    with pytest.raises(publishing.PublishError) as info:
        service.update_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id,
                                **{**fields, "capacity": 1})
    assert info.value.code == "capacity_below_admitted"
    service.cancel_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id, reason="暴雨")
    assert statuses(session, activity) == ["cancelled", "cancelled"]
    fresh = session.get(Activity, activity.id)
    assert (fresh.admitted_count, fresh.waitlist_count) == (0, 0)
    assert notices(session, b)[-1] == "activity_cancelled"
    assert session.exec(select(Notice.params).where(Notice.volunteer_id == b.id, Notice.kind == "activity_cancelled")
                        ).one()["reason"] == "暴雨"


def test_publishing_checks_the_recruitment_settings(session, world):
    start = utcnow().replace(microsecond=0) + timedelta(days=1)
    base = dict(session=session, team_id=world.team_a.id, actor_id=world.leader_a.id,
                theme_id=factories.theme(session).id, title="文明劝导", place="路口", starts_at=start,
                ends_at=start + timedelta(hours=2))
    for bad, code in [({"audience": "unit", "audience_unit_id": world.district2.id}, "bad_audience"),
                      ({"audience": "unit"}, "bad_audience"), ({"audience": "planet"}, "bad_audience"),
                      ({"signup_deadline": start}, "bad_deadline"),
                      ({"meeting_lat": 39.1}, "bad_meeting_point"),
                      ({"meeting_lat": float("nan"), "meeting_lng": 117.2}, "bad_meeting_point"),
                      ({"admission": "lottery"}, "bad_admission")]:
        with pytest.raises(publishing.PublishError) as info:
            service.create_activity(**base, **bad)
        assert info.value.code == code, bad
    made = service.create_activity(**base, audience="unit", audience_unit_id=world.street.id, admission="leader",
                                   signup_deadline=start - timedelta(hours=3), meeting_point="南门",
                                   meeting_lat=39.1, meeting_lng=117.2, requirements="带水杯", admitted_only=True)
    assert (made.audience, made.members_only, made.audience_unit_id) == ("unit", False, world.street.id)
    team_only = service.create_activity(**base)
    assert (team_only.audience, team_only.members_only) == ("team", True)


def test_admitted_only_refuses_a_self_scan_but_the_leader_may_check_in_by_hand(session, world):
    activity = factories.make_activity(session, world.team_a, status="open", audience="city", admitted_only=True)
    outsider, admitted = people(session, 2)
    session.add(Signup(activity_id=activity.id, volunteer_id=admitted.id, status="admitted"))
    session.flush()
    with pytest.raises(CheckinError) as info:
        checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.member_a.id,
                         method="self_scan")
    assert info.value.code == "not_admitted" and "leader" in info.value.message
    checkin.check_in(session=session, activity_id=activity.id, volunteer_id=admitted.id, method="self_scan")
    checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.member_a.id,
                     method="leader_manual", recorded_by_id=world.leader_a.id)
    checkin.check_in(session=session, activity_id=activity.id, volunteer_id=outsider.id, method="leader_scan",
                     recorded_by_id=world.leader_a.id)
    with pytest.raises(CheckinError) as info:  # an outsider nobody admitted is not entered by name
        checkin.check_in(session=session, activity_id=activity.id, volunteer_id=people(session, 1)[0].id,
                         method="leader_manual", recorded_by_id=world.leader_a.id)
    assert info.value.code == "members_by_name"


def test_an_admitted_outsider_may_be_entered_by_name_and_counts_like_a_member(session, world):
    activity = factories.make_activity(session, world.team_a, status="open", audience="city")
    outsider = people(session, 1)[0]
    session.add(Signup(activity_id=activity.id, volunteer_id=outsider.id, status="admitted"))
    session.flush()
    checkin.check_in(session=session, activity_id=activity.id, volunteer_id=outsider.id, method="leader_manual",
                     recorded_by_id=world.leader_a.id)
    checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.member_a.id, method="self_scan")
    summary = service.close_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id,
                                     at=activity.ends_at)
    assert summary.attendee_count == 2
