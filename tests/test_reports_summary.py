"""The summaries the dashboard reads (activity.live_count and active_months, kept by database triggers)
always equal what the attendances say, whoever writes them; and 人数 read from the summary equals the
distinct count over the attendances for every kind of filter."""
from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, inspect, text
from sqlmodel import select

from volunteer_app import schema
from volunteer_app.activities import corrections, retro
from volunteer_app.activities import service as activities
from volunteer_app.checkin import service as checkin
from volunteer_app.db import make_engine
from volunteer_app.models import LIVE_METHODS, Activity, ActiveMonths, Attendance, Unit, utcnow
from volunteer_app import summary_triggers as summary
from volunteer_app.reports import people
from volunteer_app.reports.filters import ReportFilter, activity_conditions
from volunteer_app.teams.roster_import.apply import validate_and_write
from volunteer_app.teams.roster_import.parse import read_table

from . import factories, reports_data
from .reports_data import at
from .test_foundation_db import _fresh_database
from .test_import_rosters import good_volunteers, xlsx

SHANGHAI = ZoneInfo("Asia/Shanghai")


def expected_months(session) -> dict[tuple[int, int, int, int], int]:
    """active_months as the attendances define it, computed in Python."""
    units = {unit.id: unit for unit in session.exec(select(Unit))}
    rows = session.exec(
        select(Attendance.volunteer_id, Activity.theme_id, Activity.unit_id, Activity.starts_at)
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(Attendance.voided_at.is_(None), Activity.status == "closed")).all()
    months: dict[tuple[int, int, int, int], int] = {}
    for volunteer_id, theme_id, unit_id, starts_at in rows:
        local = starts_at.astimezone(SHANGHAI)
        era, bit = divmod(local.year * 12 + local.month - 1, summary.ERA_MONTHS)
        scopes = [(summary.SCOPE_CITY, 0), (summary.SCOPE_THEME, theme_id)]
        unit = units.get(unit_id)
        while unit is not None:
            if unit.level == "district":
                scopes.append((summary.SCOPE_UNIT, unit.id))
            unit = units.get(unit.parent_id)
        for scope, scope_id in scopes:
            key = (scope, scope_id, era, volunteer_id)
            months[key] = months.get(key, 0) | (1 << bit)
    return months


def assert_summaries_true(session) -> None:
    session.commit()
    session.expire_all()
    stored = {(row.scope, row.scope_id, row.era, row.volunteer_id): row.months
              for row in session.exec(select(ActiveMonths))}
    assert stored == expected_months(session)
    live = dict(session.exec(
        select(Attendance.activity_id, func.count())
        .where(Attendance.voided_at.is_(None), Attendance.method.in_(LIVE_METHODS))
        .group_by(Attendance.activity_id)).all())
    for activity_id, live_count in session.exec(select(Activity.id, Activity.live_count)
                                                .where(Activity.status == "closed")):
        assert live_count == live.get(activity_id, 0), activity_id


def month_rows(session, volunteer_id) -> int:
    return session.exec(select(func.count()).select_from(ActiveMonths)
                        .where(ActiveMonths.volunteer_id == volunteer_id)).one()


def test_every_writer_keeps_the_summaries_true(session, world):
    """Check-in, check-out, close, minute adjustment, void, add-missed, retro log, import, edits and deletes."""
    activity = factories.make_activity(session, world.team_a, status="open")
    session.commit()
    checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.member_a.id, method="self_scan")
    checkin.check_in(session=session, activity_id=activity.id, volunteer_id=world.leader_a.id, method="leader_scan",
                     recorded_by_id=world.leader_a.id)
    assert_summaries_true(session)
    assert month_rows(session, world.member_a.id) == 0  # an open activity is not counted yet

    checkin.check_out(session=session, activity_id=activity.id, volunteer_id=world.member_a.id)
    assert_summaries_true(session)

    activities.close_activity(session=session, activity_id=activity.id, actor_id=world.leader_a.id)
    assert_summaries_true(session)
    assert session.get(Activity, activity.id).live_count == 2
    assert month_rows(session, world.member_a.id) == 3  # city, theme, district

    mine = session.exec(select(Attendance).where(Attendance.activity_id == activity.id,
                                                 Attendance.volunteer_id == world.member_a.id)).one()
    corrections.adjust_minutes(session=session, attendance_id=mine.id, minutes=10, reason="提前离开",
                              actor_id=world.leader_a.id)
    assert_summaries_true(session)

    corrections.void_attendance(session=session, attendance_id=mine.id, reason="代签", actor_id=world.leader_a.id)
    assert_summaries_true(session)
    assert month_rows(session, world.member_a.id) == 0
    assert session.get(Activity, activity.id).live_count == 1

    newcomer = factories.make_volunteer(session, "周补录")
    factories.add_member(session, world.team_a, newcomer)
    session.commit()
    corrections.add_missed(session=session, activity_id=activity.id, volunteer_id=newcomer.id, minutes=30,
                          reason="漏签", actor_id=world.leader_a.id)
    assert_summaries_true(session)
    assert month_rows(session, newcomer.id) == 3

    ended = utcnow().replace(microsecond=0) - timedelta(days=1)
    retro.log_retro(session=session, team_id=world.team_a.id, actor_id=world.leader_a.id,
                         theme_id=factories.theme(session, "sanitation").id, title="补记清扫", place="楼道",
                         starts_at=ended - timedelta(hours=2), ends_at=ended,
                         attendees=[(world.member_a.id, 60), (newcomer.id, 90)])
    assert_summaries_true(session)
    assert month_rows(session, world.member_a.id) == 3

    result = validate_and_write(session=session, kind="volunteers", actor_id=world.office.id, scope=None,
                                table=read_table("volunteers", "名册.xlsx", xlsx(good_volunteers(world))))
    assert result.ok
    assert_summaries_true(session)

    # Edits of a closed activity, reopening, cancelling, deleting records: whatever code does it.
    row = session.get(Activity, activity.id)
    row.theme_id = factories.theme(session, "ecology").id
    row.starts_at -= timedelta(days=40)
    row.ends_at -= timedelta(days=40)
    session.add(row)
    assert_summaries_true(session)
    row = session.get(Activity, activity.id)
    row.status = "open"
    session.add(row)
    assert_summaries_true(session)
    row = session.get(Activity, activity.id)
    row.status = "closed"
    session.add(row)
    assert_summaries_true(session)
    voided = session.get(Attendance, mine.id)
    voided.voided_at = None  # un-voided by hand
    session.add(voided)
    assert_summaries_true(session)
    session.delete(session.get(Attendance, mine.id))
    assert_summaries_true(session)
    session.execute(text("DELETE FROM attendance"))
    assert_summaries_true(session)
    assert session.exec(select(func.count()).select_from(ActiveMonths)).one() == 0


def test_rebuild_gives_what_the_triggers_keep(session, world):
    reports_data.build(session, world)
    assert_summaries_true(session)
    before = {(row.scope, row.scope_id, row.era, row.volunteer_id): row.months
              for row in session.exec(select(ActiveMonths))}
    session.execute(text("UPDATE activity SET live_count = 0"))
    session.execute(text("DELETE FROM active_months"))
    summary.rebuild(session.connection())
    assert_summaries_true(session)
    assert before == {(row.scope, row.scope_id, row.era, row.volunteer_id): row.months
                      for row in session.exec(select(ActiveMonths))}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_creates_the_triggers(kind, tmp_path):
    """db upgrade (not only create_all) installs the triggers."""
    url, drop = _fresh_database(kind, tmp_path)
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
        with engine.connect() as conn:
            if kind == "sqlite":
                names = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
            else:
                names = set(conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())
        assert set(summary.SQLITE_TRIGGERS if kind == "sqlite" else summary.POSTGRESQL_TRIGGERS) <= names
        assert "active_months" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
        drop()


def report_filter(session, start: date, end: date, *, unit=None, theme=None) -> ReportFilter:
    return ReportFilter(start=start, end=end, zone=SHANGHAI, scope=None, unit=unit,
                        theme=factories.theme(session, theme) if theme else None)


def test_volunteers_from_the_summary_equal_the_distinct_count(session, world):
    """Whole months, partial months with and without other activities in them, each scope, and fall-backs."""
    reports_data.build(session, world)
    extra = factories.make_activity(session, world.team_b, starts_at=at("2026-03-31", 20), status="closed",
                                    title="月末")  # 2026-03-31 20:00 local is still March (12:00 UTC)
    factories.make_attendance(session, extra, world.member_a, minutes=30, method="leader_manual")
    late = factories.make_activity(session, world.team_a, starts_at=at("2026-05-01", 1), status="closed",
                                   title="五月一日凌晨")  # April 30 17:00 UTC, but May locally
    factories.make_attendance(session, late, world.volunteer, minutes=30)
    session.commit()
    ranges = [
        (date(2026, 3, 1), date(2026, 4, 30)),  # whole months
        (date(2026, 3, 2), date(2026, 4, 29)),  # partial months without other activities: read whole
        (date(2026, 3, 10), date(2026, 4, 30)),  # a1 (7 March) lies outside: March counted from attendances
        (date(2026, 3, 8), date(2026, 3, 15)),  # inside one month
        (date(2026, 4, 1), date(2026, 5, 31)),  # the local month of 1 May 01:00
        (date(2026, 3, 31), date(2026, 3, 31)),
        (date(2025, 12, 1), date(2031, 1, 31)),  # across eras (60-month words)
        (date(2026, 3, 1), date(2026, 5, 31)),  # every activity: no bit test needed
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2026, 4, 1), date(2026, 4, 30)),  # other themes' activities outside, this theme's not
    ]
    units = [None, world.district, world.district2, world.street, world.community]
    checked = 0
    for start, end in ranges:
        for unit in units:
            for theme in (None, "civilized_traffic", "sanitation"):
                f = report_filter(session, start, end, unit=unit, theme=theme)
                for with_theme in (True, False):
                    truth = people.distinct_volunteers(
                        session=session, conditions=activity_conditions(f, with_theme=with_theme))
                    assert people.filtered_volunteers(session=session, f=f, with_theme=with_theme) == truth, \
                        (start, end, unit and unit.name, theme, with_theme)
                    checked += 1
    assert checked == len(ranges) * len(units) * 3 * 2
    whole = report_filter(session, date(2026, 3, 1), date(2026, 4, 30))
    assert people.filtered_volunteers(session=session, f=whole) == reports_data.EXPECTED["volunteers"]
