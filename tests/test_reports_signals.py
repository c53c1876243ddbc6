"""Each padding detector finds the planted case and leaves the clean look-alike alone."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from volunteer_app.models import Photo, Volunteer
from volunteer_app.reports import detectors
from volunteer_app.reports.filters import ReportFilter
from volunteer_app.workdays import recording_deadline

from .factories import PASSWORD_HASH, make_activity, make_attendance, make_volunteer
from .reports_data import at, sync_counts

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def year():
    return ReportFilter(start=date(2026, 1, 1), end=date(2026, 12, 31), zone=ZONE, scope=None, unit=None)


def attend(session, activity, volunteer, *, minutes=60, method="self_scan", checked_in_at=None, created_at=None,
           device=None):
    attendance = make_attendance(session, activity, volunteer, minutes=minutes, method=method,
                                 checked_in_at=checked_in_at)
    if created_at is not None:
        attendance.created_at = created_at
    attendance.device_hash = device
    session.add(attendance)
    session.flush()
    return attendance


def closed(session, team, day, hour=9, hours=2, **fields):
    return make_activity(session, team, starts_at=at(day, hour), hours=hours, status="closed", **fields)


def test_overlap_finds_one_volunteer_in_two_places(session, world, year):
    first = closed(session, world.team_a, "2026-03-07", 9)
    second = closed(session, world.team_b, "2026-03-07", 10)
    attend(session, first, world.member_a, checked_in_at=at("2026-03-07", 9))
    attend(session, second, world.member_a, checked_in_at=at("2026-03-07", 10) + timedelta(minutes=5))
    # clean: back-to-back activities, the second starting when the first ends
    early = closed(session, world.team_b, "2026-03-08", 9)
    late = closed(session, world.team_b, "2026-03-08", 11)
    attend(session, early, world.member_b, checked_in_at=at("2026-03-08", 9))
    attend(session, late, world.member_b, checked_in_at=at("2026-03-08", 11))
    session.commit()
    found = detectors.overlapping_attendances(session=session, f=year)
    assert len(found) == 1
    assert set(found[0].activity_ids) == {first.id, second.id}
    assert found[0].volunteer_name == world.member_a.name


def test_overlap_ignores_voided_records(session, world, year):
    first = closed(session, world.team_a, "2026-03-07", 9)
    second = closed(session, world.team_b, "2026-03-07", 10)
    attend(session, first, world.member_a)
    wrong = attend(session, second, world.member_a)
    wrong.voided_at = at("2026-03-08")
    session.commit()
    assert detectors.overlapping_attendances(session=session, f=year) == []


def test_device_burst_finds_many_people_from_one_device(session, world, year):
    activity = closed(session, world.team_a, "2026-05-09", 9)
    people = [make_volunteer(session, f"志愿者{i}") for i in range(5)]
    for minute, person in enumerate(people[:3]):
        attend(session, activity, person, created_at=at("2026-05-09", 9) + timedelta(minutes=2 * minute),
               device="dev-burst")
    # clean: the same device hours apart (a shared family phone), and two people within minutes
    for hour, person in zip((9, 11, 13), people[2:] + [world.member_a]):
        other = closed(session, world.team_b, "2026-05-10", hour)
        attend(session, other, person, created_at=at("2026-05-10", hour), device="dev-family")
    pair = closed(session, world.team_b, "2026-05-11", 9)
    for minute, person in enumerate(people[:2]):
        attend(session, pair, person, created_at=at("2026-05-11", 9) + timedelta(minutes=minute), device="dev-pair")
    session.commit()
    found = detectors.device_bursts(session=session, f=year)
    assert len(found) == 1
    assert found[0].activity_ids == [activity.id] and found[0].figures["volunteers"] == 3


def test_overlong_finds_minutes_beyond_the_activity(session, world, year):
    activity = closed(session, world.team_a, "2026-06-06", 9, hours=2)
    attend(session, activity, world.member_a, minutes=150)
    attend(session, activity, world.leader_a, minutes=120)  # clean: exactly the whole activity
    session.commit()
    found = detectors.overlong_minutes(session=session, f=year)
    assert [(f.volunteer_name, f.figures["credited"], f.figures["length"]) for f in found] == [
        (world.member_a.name, 150, 120)]


def test_late_entry_follows_the_working_day_calendar(session, world, year):
    """An activity ending 30 September 2026, before the National Day holiday: the deadline lies in mid-October."""
    planted = closed(session, world.team_a, "2026-09-30", 9)
    clean = closed(session, world.team_b, "2026-09-30", 9)
    deadline = recording_deadline(planted.ends_at)
    assert (deadline - date(2026, 9, 30)).days > 14  # the holiday week does not count
    on_deadline = datetime.combine(deadline, time(18), ZONE)
    attend(session, planted, world.member_a, created_at=on_deadline + timedelta(days=1))
    attend(session, planted, world.leader_a, created_at=on_deadline)
    attend(session, clean, world.member_b, created_at=on_deadline)
    session.commit()
    found = detectors.late_entries(session=session, f=year)
    assert [(f.activity_ids, f.figures["records"]) for f in found] == [([planted.id], 1)]


def test_retro_without_photos(session, world, year):
    bare = closed(session, world.team_a, "2026-04-04", is_retro=True)
    with_photo = closed(session, world.team_a, "2026-04-05", is_retro=True)
    closed(session, world.team_b, "2026-04-06")  # clean: run live, no photo needed
    session.add(Photo(activity_id=with_photo.id, width=1, height=1, size_bytes=1, image=b"x", thumbnail=b"x"))
    session.commit()
    found = detectors.retro_without_photos(session=session, f=year)
    assert [f.activity_ids for f in found] == [[bare.id]]


def test_repeated_roster_week_after_week(session, world, year):
    # ids as large as a city's (166,000² overflows a 32-bit sum of squares)
    crew = []
    for i in range(4):
        phone = f"1990001{i:04d}"
        crew.append(Volunteer(id=160_000 + i, name=f"固定{i}", phone=phone, phone_tail=phone[-4:],
                              password_hash=PASSWORD_HASH))
    session.add_all(crew)
    session.flush()
    planted = []
    for day in ("2026-03-02", "2026-03-09", "2026-03-16"):
        activity = closed(session, world.team_a, day)
        for person in crew:
            attend(session, activity, person)
        sync_counts(session, activity)
        planted.append(activity.id)
    # clean: team B changes one person every week; same roster in only two weeks is not a pattern
    for week, day in enumerate(("2026-03-03", "2026-03-10", "2026-03-17")):
        activity = closed(session, world.team_b, day)
        for person in crew[:3] + [make_volunteer(session, f"轮换{week}")]:
            attend(session, activity, person)
    for day in ("2026-04-07", "2026-04-14"):
        activity = closed(session, world.team_b, day)
        for person in crew[1:]:
            attend(session, activity, person)
    session.commit()
    found = detectors.repeated_rosters(session=session, f=year)
    assert len(found) == 1
    assert sorted(found[0].activity_ids) == sorted(planted)
    assert found[0].figures == {"weeks": 3, "size": 4}


def test_signals_respect_the_area(session, world, year):
    """A district office does not see another district's signals."""
    bare = closed(session, world.team_a, "2026-04-04", is_retro=True)
    session.commit()
    assert detectors.retro_without_photos(session=session, f=year)[0].activity_ids == [bare.id]
    district2 = ReportFilter(start=year.start, end=year.end, zone=ZONE, scope=world.district2, unit=None)
    assert detectors.retro_without_photos(session=session, f=district2) == []
