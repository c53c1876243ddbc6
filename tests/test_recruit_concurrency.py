"""Never overbooked: 200 volunteers tapping "sign up" at once for the last 10 places, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from volunteer_app.models import Activity, Notice, Signup, utcnow

from . import factories
from .test_checkin_concurrency import logged_in_client

CROWD = 200


def test_two_hundred_at_once_for_the_last_ten_places(app, session, world):
    activity = factories.make_activity(session, world.team_a, audience="city", capacity=50, admitted_count=40,
                                       starts_at=utcnow().replace(microsecond=0) + timedelta(days=1))
    crowd = [factories.make_volunteer(session, f"志愿者{i}") for i in range(CROWD)]
    session.commit()
    clients = [logged_in_client(app, person) for person in crowd]
    barrier = threading.Barrier(CROWD)

    def tap(client):
        barrier.wait(timeout=60)
        return client.post(f"/activities/{activity.id}/signup", headers={"HX-Request": "true"}).status_code

    with ThreadPoolExecutor(max_workers=CROWD) as pool:
        codes = list(pool.map(tap, clients))
    assert set(codes) == {200}, sorted(set(codes))
    session.rollback()
    counts = dict(session.exec(select(Signup.status, func.count()).group_by(Signup.status)).all())
    assert counts == {"admitted": 10, "waitlisted": CROWD - 10}
    fresh = session.get(Activity, activity.id, populate_existing=True)
    assert (fresh.admitted_count, fresh.waitlist_count) == (50, CROWD - 10)
    assert session.exec(select(func.count(Notice.id))).one() == CROWD
    # Whoever came first by id is first in line: the waitlist is in id order, so a cancel promotes the lowest id.
    first_in_line = session.exec(select(Signup).where(Signup.status == "waitlisted").order_by(Signup.id)).first()
    admitted = session.exec(select(Signup).where(Signup.status == "admitted")).first()
    canceller = logged_in_client(app, session.get(type(world.volunteer), admitted.volunteer_id))
    assert canceller.post(f"/activities/{activity.id}/signup/cancel").status_code == 303
    session.rollback()
    assert session.get(Signup, first_in_line.id, populate_existing=True).status == "admitted"
