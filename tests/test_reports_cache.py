"""The dashboard's cache never shows figures older than the records."""
from __future__ import annotations

import re

import pytest

from volunteer_app.models import utcnow
from volunteer_app.reports import cache

from . import reports_data
from .factories import make_attendance, make_volunteer
from .reports_data import RANGE, sync_counts


@pytest.fixture
def data(session, world, client):
    client.set_cookie("lang", "en")
    return reports_data.build(session, world)


def shown(client, label: str) -> str:
    html = client.get("/office", query_string=RANGE).get_data(as_text=True)
    return re.search(rf"<strong>([^<]*)</strong>\s*<span>{re.escape(label)}</span>", html).group(1)


def test_a_new_attendance_shows_at_once(client, auth, world, data, session):
    auth.login(world.office.phone)
    assert shown(client, "volunteers (人数)") == "5"
    assert shown(client, "volunteers (人数)") == "5"  # served from the cache
    newcomer = make_volunteer(session, "新人")
    make_attendance(session, data["a1"], newcomer, minutes=30)
    sync_counts(session, data["a1"])
    session.commit()
    assert shown(client, "volunteers (人数)") == "6"
    assert shown(client, "attendances (人次)") == "8"


def test_a_voided_attendance_leaves_at_once(client, auth, world, data, session):
    auth.login(world.office.phone)
    assert shown(client, "volunteers (人数)") == "5"
    attendance = session.get(type(data["a3"]), data["a3"].id)
    from sqlmodel import select

    from volunteer_app.models import Attendance

    row = session.exec(select(Attendance).where(Attendance.activity_id == data["a3"].id,
                                                Attendance.volunteer_id == world.volunteer.id)).one()
    row.voided_at = utcnow()
    session.add(row)
    sync_counts(session, attendance)
    session.commit()
    assert shown(client, "volunteers (人数)") == "4"


def test_the_cache_is_bounded():
    cache.clear()
    for i in range(cache.MAX_ENTRIES + 10):
        cache.remember("test", (i,), ("v",), lambda i=i: i)
    assert len(cache._entries) == cache.MAX_ENTRIES
    assert cache.remember("test", (cache.MAX_ENTRIES + 9,), ("v",), lambda: "recomputed") == cache.MAX_ENTRIES + 9
    assert cache.remember("test", (0,), ("v",), lambda: "recomputed") == "recomputed"  # evicted first
    assert cache.remember("test", (0,), ("v2",), lambda: "new version") == "new version"
    cache.clear()
