"""An open activity's live count comes from its attendances; its stored tally is written when it closes.

Check-ins and check-outs never update the activity row (a crowd checking in at once would queue on it);
the leader's live page and home page still show what is happening, and closing sets the tally.
"""
from __future__ import annotations

import re

from volunteer_app.activities.reading import live_count
from volunteer_app.activities.service import close_activity
from volunteer_app.checkin import service as checkin
from volunteer_app import tokens
from volunteer_app.models import Activity

from . import factories

SECRET = "test-secret-key-not-for-production"


def test_check_ins_leave_the_activity_row_alone_until_close(session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    for person in (world.member_a, world.leader_a):
        checkin.check_in(session=session, activity_id=activity.id, volunteer_id=person.id, method="self_scan")
    checkin.check_out(session=session, activity_id=activity.id, volunteer_id=world.member_a.id)
    session.commit()
    session.expire_all()
    stored = session.get(Activity, activity.id)
    assert (stored.attendee_count, stored.total_minutes) == (0, 0)
    assert live_count(session=session, activity_id=activity.id) == (2, 1)
    summary = close_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id)
    session.commit()
    session.expire_all()
    stored = session.get(Activity, activity.id)
    assert (stored.attendee_count, stored.total_minutes) == (2, summary.total_minutes) and summary.attendee_count == 2


def test_a_check_in_to_an_activity_closed_meanwhile_writes_nothing(session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    gate = checkin.read_gate(session=session, activity_id=activity.id, volunteer_id=world.member_a.id)
    planned = checkin.plan_check_in(gate=gate, volunteer_id=world.member_a.id, method="self_scan")
    close_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id)  # between read and write
    try:
        checkin.apply_check_in(session=session, planned=planned)
    except checkin.CheckinError as exc:
        assert exc.code == "closed"
    else:
        raise AssertionError("a closed activity took a check-in")
    assert checkin.attendance_of(session=session, activity_id=activity.id, volunteer_id=world.member_a.id) is None


def test_leader_home_shows_open_now_then_the_headcount(client, auth, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    auth.login(world.member_a.phone)
    token = tokens.rotating_token(secret_key=SECRET, activity_id=activity.id, activity_secret=activity.secret)
    assert client.post(f"/c/{token}", data={"action": "in", "activity": str(activity.id)}).status_code == 303
    auth.logout()
    auth.login(world.leader_a.phone)
    home = client.get("/").get_data(as_text=True)
    listed = re.search(r'id="team-activities">(.*?)</ul>', home, re.S).group(1)
    assert "签到中" in listed and "0\u00a0人参加" not in listed
    live = client.get(f"/activities/{activity.id}/live").get_data(as_text=True)
    assert re.search(r'id="live-count">1<', live)
    assert client.post(f"/activities/{activity.id}/close").status_code == 303
    listed = re.search(r'id="team-activities">(.*?)</ul>', client.get("/").get_data(as_text=True), re.S).group(1)
    assert "签到中" not in listed and "1\u00a0人参加" in listed
