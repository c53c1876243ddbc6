"""Never double-counted: parallel identical POSTs, and many volunteers at once, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func
from sqlmodel import select

from volunteer_app.activities.reading import live_count
from volunteer_app import tokens
from volunteer_app.models import Activity, Attendance

from . import factories

SECRET = "test-secret-key-not-for-production"


def logged_in_client(app, volunteer):
    """A test client whose cookie session holds this volunteer's login (no password hashing per client)."""
    client = app.test_client()
    with client.session_transaction() as http:
        http["_user_id"] = f"{volunteer.id}:{volunteer.session_version}"
        http["_fresh"] = True
    return client


def fire(clients_and_urls, data):
    """POST from every (client, url) at the same moment; return the status codes."""
    barrier = threading.Barrier(len(clients_and_urls))

    def post(pair):
        client, url = pair
        barrier.wait(timeout=30)
        return client.post(url, data=data).status_code

    with ThreadPoolExecutor(max_workers=len(clients_and_urls)) as pool:
        return list(pool.map(post, clients_and_urls))


def test_fifty_identical_posts_make_one_attendance(app, session, world):
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    token = tokens.rotating_token(secret_key=SECRET, activity_id=activity.id, activity_secret=activity.secret)
    client = logged_in_client(app, world.member_a)
    cookie = client.get_cookie("session").value
    clients = []
    for _ in range(50):
        c = app.test_client()
        c.set_cookie("session", cookie)
        clients.append((c, f"/c/{token}"))
    codes = fire(clients, {"action": "in", "activity": str(activity.id)})
    assert set(codes) == {303}, codes  # the first wins, the others are told "already checked in"
    session.commit()
    assert session.exec(select(func.count(Attendance.id))).one() == 1
    assert live_count(session=session, activity_id=activity.id) == (1, 1)


def test_many_volunteers_at_once_lose_nothing(app, session, world):
    activity = factories.make_activity(session, world.team_a, status="open", members_only=False)
    people = [factories.make_volunteer(session, f"志愿者{i}") for i in range(30)]
    session.commit()
    token = tokens.rotating_token(secret_key=SECRET, activity_id=activity.id, activity_secret=activity.secret)
    clients = [(logged_in_client(app, person), f"/c/{token}") for person in people]
    codes = fire(clients, {"action": "in", "activity": str(activity.id)})
    assert set(codes) == {303}, codes
    session.commit()
    assert session.exec(select(func.count(Attendance.id))).one() == 30
    assert live_count(session=session, activity_id=activity.id) == (30, 30)


def test_check_ins_racing_a_close_keep_the_counts_true(app, session, world):
    activity = factories.make_activity(session, world.team_a, status="open", members_only=False)
    people = [factories.make_volunteer(session, f"志愿者{i}") for i in range(20)]
    session.commit()
    token = tokens.rotating_token(secret_key=SECRET, activity_id=activity.id, activity_secret=activity.secret)
    pairs = [(logged_in_client(app, person), f"/c/{token}") for person in people]
    pairs.append((logged_in_client(app, world.leader_a), f"/activities/{activity.id}/close"))
    codes = fire(pairs, {"action": "in", "activity": str(activity.id)})
    assert all(code in (303, 409) for code in codes), codes  # checked in, or refused because closed
    session.commit()
    session.expire_all()
    closed = session.get(Activity, activity.id)
    count, minutes = session.exec(
        select(func.count(Attendance.id), func.coalesce(func.sum(Attendance.credited_minutes), 0))
        .where(Attendance.activity_id == activity.id, Attendance.voided_at.is_(None))).one()
    assert closed.status == "closed"
    assert (closed.attendee_count, closed.total_minutes) == (count, minutes)
    assert codes.count(303) - 1 == count  # every accepted check-in is counted (the close itself answered 303)
