"""Issue 12, point 5: a suspended team stops running; what it already counted stays and is still shown.

Its leader can no longer open an activity, and nobody is checked in or recorded by any path (self scan,
leader scan, manual, add-missed, retro log). Both backends.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from volunteer_app.activities import corrections, retro
from volunteer_app.activities import service as activities
from volunteer_app.activities.service import ActivityError
from volunteer_app.checkin import service as checkin
from volunteer_app import tokens
from volunteer_app.checkin.service import CheckinError
from volunteer_app.models import Activity, Attendance, Volunteer, utcnow
from volunteer_app.teams.service import set_team_suspended

from . import factories
from .test_activities_flow import SECRET, fresh, rotating
from .test_checkin_driver_path import self_check_in

SUSPENDED = "该队伍已被暂停"


def suspend(session, world):
    set_team_suspended(session=session, team=world.team_a, suspended=True, office_id=world.office.id,
                       reason="核查台账")
    session.commit()


def attendance_count(session) -> int:
    fresh(session)
    return session.exec(select(func.count(Attendance.id))).one()


@pytest.fixture
def running(session, world):
    """Team A with a scheduled, an open and a closed activity (one counted attendance), then suspended."""
    scheduled = factories.make_activity(session, world.team_a, status="scheduled")
    opened = factories.make_activity(session, world.team_a, status="open", title="正在进行")
    closed = factories.make_activity(session, world.team_a, status="closed", title="已结束的活动",
                                     starts_at=utcnow().replace(microsecond=0) - timedelta(hours=3))
    factories.make_attendance(session, closed, world.leader_a, minutes=60)
    closed.attendee_count, closed.total_minutes = 1, 60
    session.commit()
    suspend(session, world)
    return scheduled, opened, closed


# --- the services ------------------------------------------------------------------------------------


def test_a_suspended_teams_leader_cannot_open_an_activity(session, world, running):
    scheduled, _opened, _closed = running
    with pytest.raises(ActivityError) as excinfo:
        activities.open_activity(session=session, activity_id=scheduled.id, actor_id=world.leader_a.id)
    assert excinfo.value.code == "team_suspended"
    fresh(session)
    assert session.get(Activity, scheduled.id).status == "scheduled"


@pytest.mark.parametrize("method", ["self_scan", "leader_scan", "leader_manual"])
def test_no_check_in_of_any_kind_at_a_suspended_team(session, world, running, method):
    _scheduled, opened, _closed = running
    with pytest.raises(CheckinError) as excinfo:
        checkin.check_in(session=session, activity_id=opened.id, volunteer_id=world.member_a.id, method=method,
                         recorded_by_id=None if method == "self_scan" else world.leader_a.id)
    assert excinfo.value.code == "team_suspended"


def test_the_self_scan_gate_refuses_at_a_suspended_team(app, session, world, running):
    _scheduled, opened, _closed = running
    with pytest.raises(CheckinError) as excinfo:
        self_check_in(app, opened, world.member_a)
    assert excinfo.value.code == "team_suspended"
    assert attendance_count(session) == 1  # the closed activity's, nothing new


def test_no_add_missed_nor_retro_log_at_a_suspended_team(session, world, running):
    _scheduled, _opened, closed = running
    for actor in (world.leader_a, world.office):  # the office reactivates the team first
        with pytest.raises(ActivityError) as excinfo:
            corrections.add_missed(session=session, activity_id=closed.id, volunteer_id=world.member_a.id,
                                  minutes=30, reason="漏签", actor_id=actor.id)
        assert excinfo.value.code == "team_suspended"
    ends_at = utcnow().replace(microsecond=0) - timedelta(hours=2)
    with pytest.raises(ActivityError) as excinfo:
        retro.log_retro(session=session, team_id=world.team_a.id, actor_id=world.leader_a.id,
                             theme_id=factories.theme(session).id, title="补录", place="社区",
                             starts_at=ends_at - timedelta(hours=1), ends_at=ends_at,
                             attendees=[(world.member_a.id, 60)])
    assert excinfo.value.code == "team_suspended"
    assert attendance_count(session) == 1


def test_reactivated_the_team_runs_again(session, world, running):
    _scheduled, opened, _closed = running
    set_team_suspended(session=session, team=world.team_a, suspended=False, office_id=world.office.id, reason="")
    checkin.check_in(session=session, activity_id=opened.id, volunteer_id=world.member_a.id, method="self_scan")
    session.commit()
    assert attendance_count(session) == 2


# --- through the routes ------------------------------------------------------------------------------


def test_the_leader_is_told_and_offered_nothing_that_would_be_refused(client, auth, session, world, running):
    scheduled, opened, closed = running
    auth.login(world.leader_a.phone)
    page = client.get(f"/activities/{scheduled.id}").get_data(as_text=True)
    assert 'id="team-suspended"' in page and 'id="open-activity"' not in page
    response = client.post(f"/activities/{scheduled.id}/open", follow_redirects=True)
    assert SUSPENDED in response.get_data(as_text=True)
    fresh(session)
    assert session.get(Activity, scheduled.id).status == "scheduled"
    page = client.get(f"/activities/{opened.id}").get_data(as_text=True)
    assert 'id="team-suspended"' in page and 'id="manual"' not in page and 'id="qr"' not in page
    history = client.get(f"/activities/{closed.id}").get_data(as_text=True)  # counted history is still shown
    assert "李队长" in history and 'id="add-missed"' not in history


def test_members_cannot_self_scan_and_the_leader_cannot_check_anyone_in(client, auth, session, world, running):
    _scheduled, opened, _closed = running
    token = rotating(opened)
    auth.login(world.member_a.phone)
    assert client.get(f"/c/{token}").status_code == 409
    response = client.post(f"/c/{token}", data={"action": "in", "activity": str(opened.id)})
    assert response.status_code == 409 and SUSPENDED in response.get_data(as_text=True)
    auth.logout()
    auth.login(world.leader_a.phone)
    page = client.post(f"/activities/{opened.id}/manual", data={"volunteer": str(world.member_a.id), "action": "in"},
                       follow_redirects=True)
    assert SUSPENDED in page.get_data(as_text=True)
    fresh(session)  # the member's logout above renewed their personal code (it names their session version)
    version = session.get(Volunteer, world.member_a.id).session_version
    personal = tokens.personal_token(secret_key=SECRET, volunteer_id=world.member_a.id, session_version=version)
    page = client.post(f"/v/{personal}", data={"activity": str(opened.id), "action": "in"}, follow_redirects=True)
    assert SUSPENDED in page.get_data(as_text=True)
    assert attendance_count(session) == 1
