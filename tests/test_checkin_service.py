"""Check-in rules, called directly (pretix style): each refusal has its stable code; counts stay true."""
from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.activities import service as activities
from volunteer_app.checkin import service as checkin
from volunteer_app.checkin.service import CheckinError
from volunteer_app.models import Activity, Attendance, utcnow

from . import factories


def assert_counts_true(session, activity_id):
    """A closed activity's tally equals the sum of its non-voided attendances; an open one's is not kept yet."""
    session.expire_all()
    activity = session.get(Activity, activity_id)
    count, minutes = session.exec(
        select(func.count(Attendance.id), func.coalesce(func.sum(Attendance.credited_minutes), 0))
        .where(Attendance.activity_id == activity_id, Attendance.voided_at.is_(None))
    ).one()
    expected = (count, minutes) if activity.status == "closed" else (0, 0)
    assert (activity.attendee_count, activity.total_minutes) == expected


@pytest.fixture
def open_activity(session, world):
    activity = factories.make_activity(session, world.team_a, status="open", created_by=world.leader_a)
    session.commit()
    return activity


def test_check_in_then_out_credits_minutes_inside_the_window(session, world, open_activity):
    start = open_activity.starts_at
    attendance = checkin.check_in(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id,
                                  method="self_scan", at=start - timedelta(minutes=20))
    assert attendance.method == "self_scan" and attendance.recorded_by_id == world.member_a.id
    assert attendance in session and attendance.id is not None  # a normal persistent object for callers
    out = checkin.check_out(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id,
                            at=start + timedelta(minutes=45, seconds=30))
    assert out.credited_minutes == 45  # the 20 minutes before the start are not credited
    session.commit()
    assert_counts_true(session, open_activity.id)


def test_second_check_in_answers_with_the_first_time(session, world, open_activity):
    checkin.check_in(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id,
                     method="self_scan")
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id,
                         method="self_scan")
    assert excinfo.value.code == "already_checked_in"
    assert ":" in excinfo.value.params["time"]
    session.commit()
    assert session.exec(select(func.count(Attendance.id))).one() == 1
    assert_counts_true(session, open_activity.id)


@pytest.mark.parametrize("status, code", [("scheduled", "not_open"), ("closed", "closed"),
                                          ("cancelled", "cancelled")])
def test_only_an_open_activity_takes_check_ins(session, world, status, code):
    activity = factories.make_activity(session, world.team_a, status=status)
    session.commit()
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.member_a.id,
                         method="self_scan")
    assert excinfo.value.code == code


def test_members_only_refuses_strangers_and_open_activities_take_anyone(session, world, open_activity):
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=open_activity.id, volunteer_id=world.volunteer.id,
                         method="self_scan")
    assert excinfo.value.code == "not_member"
    public = factories.make_activity(session, world.team_a, status="open", members_only=False)
    checkin.check_in(session=session, activity_id=public.id, volunteer_id=world.volunteer.id, method="self_scan")


def test_leader_methods_need_a_leader_of_that_team(session, world, open_activity):
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id,
                         method="leader_manual", recorded_by_id=world.leader_b.id)
    assert excinfo.value.code == "not_leader"
    attendance = checkin.check_in(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id,
                                  method="leader_manual", recorded_by_id=world.leader_a.id)
    assert attendance.recorded_by_id == world.leader_a.id
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=open_activity.id, volunteer_id=world.leader_a.id,
                         method="retro_log")
    assert excinfo.value.code == "bad_method"


def test_a_member_removed_from_the_team_cannot_check_in(session, world, open_activity):
    from volunteer_app.models import Membership

    membership = session.exec(select(Membership).where(Membership.volunteer_id == world.member_a.id)).one()
    membership.status = "left"
    session.commit()
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id,
                         method="self_scan")
    assert excinfo.value.code == "not_member"


def test_check_in_window_margins(session, world):
    activity = factories.make_activity(session, world.team_a, status="open",
                                       starts_at=utcnow().replace(microsecond=0) + timedelta(hours=3))
    session.commit()
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.member_a.id,
                         method="self_scan")
    assert excinfo.value.code == "not_started"
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.member_a.id,
                         method="self_scan", at=activity.ends_at + timedelta(hours=2))
    assert excinfo.value.code == "ended"


def test_check_out_refusals(session, world, open_activity):
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_out(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id)
    assert excinfo.value.code == "not_checked_in"
    now = utcnow()
    checkin.check_in(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id,
                     method="self_scan", at=now)
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_out(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id,
                          at=now - timedelta(minutes=5))
    assert excinfo.value.code == "bad_time"
    checkin.check_out(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id)
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_out(session=session, activity_id=open_activity.id, volunteer_id=world.member_a.id)
    assert excinfo.value.code == "already_checked_out"
    session.commit()
    assert_counts_true(session, open_activity.id)


def test_close_checks_out_those_still_in_and_fixes_the_totals(session, world):
    start = utcnow().replace(microsecond=0) - timedelta(hours=3)
    activity = factories.make_activity(session, world.team_a, status="open", starts_at=start, hours=2)
    session.commit()
    checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.member_a.id, method="self_scan",
                     at=start + timedelta(minutes=10))
    checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.leader_a.id, method="self_scan",
                     at=start)
    checkin.check_out(session=session, activity_id=activity.id, volunteer_id=world.leader_a.id,
                      at=start + timedelta(minutes=30))
    summary = activities.close_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id)
    session.commit()
    assert (summary.attendee_count, summary.total_minutes, summary.auto_checked_out) == (2, 110 + 30, 1)
    auto = checkin.attendance_of(session=session, activity_id=activity.id, volunteer_id=world.member_a.id)
    assert auto.checkout_auto and auto.checked_out_at == activity.ends_at and auto.credited_minutes == 110
    assert_counts_true(session, activity.id)
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.volunteer.id,
                         method="self_scan")
    assert excinfo.value.code == "closed"
    with pytest.raises(activities.ActivityError) as excinfo:
        activities.close_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id)
    assert excinfo.value.code == "closed"


def test_a_stranger_cannot_close(session, world, open_activity):
    with pytest.raises(activities.ActivityError) as excinfo:
        activities.close_activity(session=session, activity_id=open_activity.id, actor_id=world.leader_b.id)
    assert excinfo.value.code == "not_allowed"


GEO_CASES = [
    ((39.9, 116.4, 15), "inside"),
    ((39.9 + 0.0045, 116.4, 10), "inside"),  # ~500 m north, exactly around the fence of 501 m
    ((39.95, 116.4, 10), "outside"),
    ((0, 0, 10), "outside"),
    ((math.nan, 116.4, 10), "unknown"),
    ((math.inf, 116.4, 10), "unknown"),
    ((39.9, -math.inf, 10), "unknown"),
    (("north", "east", "10"), "unknown"),
    ((39.9, 116.4, 0), "unknown"),
    ((39.9, 116.4, -5), "unknown"),
    ((39.9, 116.4, 100000), "unknown"),
    ((91, 116.4, 10), "unknown"),
    (None, "unknown"),
]


@pytest.mark.parametrize("geo, expected", GEO_CASES)
def test_geofence_keeps_only_a_verdict(geo, expected):
    activity = Activity(team_id=1, theme_id=1, unit_id=1, title="t", starts_at=utcnow(), ends_at=utcnow(),
                        secret="s", lat=39.9, lng=116.4, radius_m=501)
    status, accuracy = checkin.geo_status(activity, geo)
    assert status == expected
    if expected != "unknown":
        assert accuracy == int(geo[2])


def test_no_fence_no_signal():
    activity = Activity(team_id=1, theme_id=1, unit_id=1, title="t", starts_at=utcnow(), ends_at=utcnow(), secret="s")
    assert checkin.geo_status(activity, (39.9, 116.4, 10)) == (None, None)


def test_geo_signal_is_stored_without_coordinates(session, world):
    activity = factories.make_activity(session, world.team_a, status="open", lat=39.9, lng=116.4, radius_m=200)
    session.commit()
    attendance = checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.member_a.id,
                                  method="self_scan", geo=(39.95, 116.4, 30))
    assert (attendance.geo_status, attendance.geo_accuracy_m) == ("outside", 30)
    assert not any(isinstance(v, float) and 39 < v < 41 for v in attendance.model_dump().values())
