"""Issue 12, point 2: who may take part (checkin/participation.py), on every way of recording an attendance.

A leader could record anyone in the city by volunteer id: a volunteer of another district, an office account,
a deleted account. Now every path refuses whoever may not take part, with a stable code: manual check-in,
the leader's scan of a personal code, the self-scan (its SQL gate), add-missed and the retro log. Both backends.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.activities import corrections, retro
from volunteer_app.activities.service import ActivityError
from volunteer_app.checkin import service as checkin
from volunteer_app import tokens
from volunteer_app.checkin.service import CheckinError
from volunteer_app.models import Attendance, ScanRefusal, utcnow

from . import factories
from .test_activities_flow import SECRET, fresh, rotating
from .test_checkin_driver_path import self_check_in


def attendance_count(session) -> int:
    fresh(session)
    return session.exec(select(func.count(Attendance.id))).one()


def delete(session, volunteer):
    """Anonymised as privacy.delete_account leaves a person (a membership row may still say active)."""
    volunteer.deleted_at, volunteer.phone, volunteer.name = utcnow(), None, "已注销"
    session.add(volunteer)
    session.commit()


@pytest.fixture
def open_to_all(session, world):
    """An open activity of team A that takes non-members who show a code."""
    activity = factories.make_activity(session, world.team_a, status="open", members_only=False)
    session.commit()
    return activity


# --- the service, called directly ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["self_scan", "leader_scan", "leader_manual"])
def test_an_office_account_is_never_recorded(session, world, open_to_all, method):
    factories.add_member(session, world.team_a, world.office)  # even as a member of the team
    session.commit()
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=open_to_all.id, volunteer_id=world.office.id, method=method,
                         recorded_by_id=None if method == "self_scan" else world.leader_a.id)
    assert excinfo.value.code == "not_participant"


@pytest.mark.parametrize("method", ["self_scan", "leader_scan", "leader_manual"])
def test_a_deleted_account_is_never_recorded(session, world, open_to_all, method):
    delete(session, world.member_a)
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=open_to_all.id, volunteer_id=world.member_a.id, method=method,
                         recorded_by_id=None if method == "self_scan" else world.leader_a.id)
    assert excinfo.value.code == "not_participant"


def test_a_missing_volunteer_id_is_refused(session, world, open_to_all):
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=open_to_all.id, volunteer_id=987654, method="leader_manual",
                         recorded_by_id=world.leader_a.id)
    assert excinfo.value.code == "not_participant"


def test_a_non_member_is_never_entered_by_name_but_may_show_a_code_at_an_activity_open_to_all(session, world,
                                                                                           open_to_all):
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=open_to_all.id, volunteer_id=world.member_b.id,
                         method="leader_manual", recorded_by_id=world.leader_a.id)
    assert excinfo.value.code == "members_by_name"
    assert str(excinfo.value.message)
    scanned = checkin.check_in(session=session, activity_id=open_to_all.id, volunteer_id=world.member_b.id,
                               method="leader_scan", recorded_by_id=world.leader_a.id)
    assert scanned.method == "leader_scan"
    with pytest.raises(CheckinError) as excinfo:  # once in with a code, entering them by name says they are in
        checkin.check_in(session=session, activity_id=open_to_all.id, volunteer_id=world.member_b.id,
                         method="leader_manual", recorded_by_id=world.leader_a.id)
    assert excinfo.value.code == "already_checked_in"


def test_the_self_scan_gate_refuses_an_office_account(app, session, world, open_to_all):
    with pytest.raises(CheckinError) as excinfo:
        self_check_in(app, open_to_all, world.office)
    assert excinfo.value.code == "not_participant"
    assert attendance_count(session) == 0


def test_add_missed_refuses_an_office_account_and_a_deleted_one(session, world):
    activity = factories.make_activity(session, world.team_a, status="closed",
                                       starts_at=utcnow().replace(microsecond=0) - timedelta(hours=3))
    factories.add_member(session, world.team_a, world.office)
    session.commit()
    delete(session, world.member_a)
    for person in (world.office, world.member_a):
        with pytest.raises(ActivityError) as excinfo:
            corrections.add_missed(session=session, activity_id=activity.id, volunteer_id=person.id, minutes=30,
                                  reason="漏签", actor_id=world.leader_a.id)
        assert excinfo.value.code == "not_participant"
    assert attendance_count(session) == 0


def test_retro_log_refuses_an_office_account(session, world):
    factories.add_member(session, world.team_a, world.office)
    session.commit()
    ends_at = utcnow().replace(microsecond=0) - timedelta(hours=2)
    with pytest.raises(ActivityError) as excinfo:
        retro.log_retro(session=session, team_id=world.team_a.id, actor_id=world.leader_a.id,
                             theme_id=factories.theme(session).id, title="补录", place="社区",
                             starts_at=ends_at - timedelta(hours=1), ends_at=ends_at,
                             attendees=[(world.member_a.id, 60), (world.office.id, 60)])
    assert excinfo.value.code == "not_participant"


# --- through the routes ------------------------------------------------------------------------------


def manual(client, activity, volunteer_id):
    return client.post(f"/activities/{activity.id}/manual", data={"volunteer": str(volunteer_id), "action": "in"},
                       follow_redirects=True)


def test_manual_check_in_by_id_refuses_strangers_office_and_deleted_accounts(client, auth, session, world,
                                                                            open_to_all):
    """The probe's request: POST /activities/<own activity>/manual with volunteer=<any id>&action=in."""
    factories.add_member(session, world.team_a, world.office)  # on the roster, still never recorded
    session.commit()
    auth.login(world.leader_a.phone)
    for stranger in (world.member_b, world.volunteer, world.office_district2):  # not on the team's roster
        assert manual(client, open_to_all, stranger.id).status_code == 404
    page = manual(client, open_to_all, world.office.id)
    assert page.status_code == 200 and "该账号不能参加活动" in page.get_data(as_text=True)
    delete(session, world.member_a)  # a deleted account whose membership row still says active
    page = manual(client, open_to_all, world.member_a.id)
    assert page.status_code == 200 and "该账号不能参加活动" in page.get_data(as_text=True)
    assert attendance_count(session) == 0
    member = factories.make_volunteer(session, "吴新人", home_unit=world.community)
    factories.add_member(session, world.team_a, member)
    session.commit()
    assert manual(client, open_to_all, member.id).status_code == 200
    assert attendance_count(session) == 1


def test_a_leader_scan_of_an_office_accounts_personal_code_records_nothing(client, auth, session, world,
                                                                         open_to_all):
    token = tokens.personal_token(secret_key=SECRET, volunteer_id=world.office.id, session_version=1)
    auth.login(world.leader_a.phone)
    assert open_to_all.title not in client.get(f"/v/{token}").get_data(as_text=True)  # nothing is offered
    page = client.post(f"/v/{token}", data={"activity": str(open_to_all.id), "action": "in"}, follow_redirects=True)
    assert "该账号不能参加活动" in page.get_data(as_text=True)
    assert attendance_count(session) == 0


def test_an_office_account_scanning_an_activity_code_is_refused_and_counted(client, auth, session, world,
                                                                          open_to_all):
    token = rotating(open_to_all)
    auth.login(world.office.phone)
    page = client.get(f"/c/{token}")
    assert page.status_code == 403 and "该账号不能参加活动" in page.get_data(as_text=True)
    response = client.post(f"/c/{token}", data={"action": "in", "activity": str(open_to_all.id)})
    assert response.status_code == 403 and 'id="refusal"' in response.get_data(as_text=True)
    assert attendance_count(session) == 0
    assert session.exec(select(ScanRefusal.code)).all() == ["not_participant"]


def test_add_missed_through_the_page_refuses_an_office_account_on_the_roster(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="closed",
                                       starts_at=utcnow().replace(microsecond=0) - timedelta(hours=3))
    factories.add_member(session, world.team_a, world.office)
    session.commit()
    auth.login(world.leader_a.phone)
    page = client.post(f"/activities/{activity.id}/add-missed", follow_redirects=True,
                       data={"add-volunteer": str(world.office.id), "add-minutes": "30", "add-reason": "漏签"})
    assert "该账号不能参加活动" in page.get_data(as_text=True)
    assert attendance_count(session) == 0
