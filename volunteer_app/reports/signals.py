"""Stored signals of padding: `refresh()` runs every detector (detectors.py) over the whole city and stores the
findings (models.SignalFinding, filed under the primary activity's date, unit, theme and team) with the time
they were computed (models.SignalRun); the signals page reads them through the dashboard's filter
(`stored_signals()`). A refresh runs from cron (`volunteer-app signals refresh`), at the end of `seed-demo`,
and when an office user asks for it.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ..models import Activity, SignalFinding, SignalRun, Team, Unit, Volunteer, utcnow
from .detectors import (
    LIMIT,
    Finding,
    all_signals,
    device_bursts,
    late_entries,
    overlapping_attendances,
    overlong_minutes,
    repeated_rosters,
    retro_without_photos,
)
from .filters import EARLIEST, ReportFilter

KINDS = ("overlap", "device_burst", "overlong", "late_entry", "retro_no_photo", "repeated_roster")
STORED_PER_KIND = 5000  # a refresh keeps at most this many findings of each kind, the most recent
REFRESH_WORKERS = 2  # detectors run in this many threads by refresh() and the office's button
_REFRESH_LOCK = 0x5167_0001  # PostgreSQL advisory lock: one refresh writes at a time


@dataclass
class Computed:
    """The findings of one run of every detector, ready to store."""

    computed_at: datetime
    seconds: float
    rows: list[dict]


@dataclass
class Stored:
    """What the signals page shows: when the findings were computed (None: never), and the findings by kind."""

    run: SignalRun | None
    findings: dict[str, list[Finding]]


def everything(zone: ZoneInfo) -> ReportFilter:
    """A filter over every counted activity of the city (what a refresh looks at)."""
    return ReportFilter(start=EARLIEST, end=date(2999, 12, 30), zone=zone, scope=None, unit=None)


def compute(*, session: Session, zone: ZoneInfo, per_kind: int = STORED_PER_KIND, workers: int = 1) -> Computed:
    """Run every detector over the whole city and return the findings as rows of signal_finding.

    Only reads; the caller stores the result with store() in a short write transaction of its own,
    so that the seconds of reading never hold the database's writer lock (check-ins go on meanwhile).
    With workers > 1 the detectors run in that many threads, each in a read transaction of its own on
    the session's engine (the database works while Python waits), so they see records committed up to
    a moment after `computed_at`.
    """
    computed_at = utcnow()
    started = time.perf_counter()
    f = everything(zone)
    if workers > 1:
        found = _detect_in_parallel(session.get_bind(), f, per_kind, workers)
    else:
        found = all_signals(session=session, f=f, limit=per_kind)
    ids = {activity_id for items in found.values() for finding in items for activity_id in finding.activity_ids}
    activities = {}
    for chunk in _chunks(sorted(ids), 5000):
        for row in session.exec(select(Activity.id, Activity.starts_at, Activity.unit_id, Activity.theme_id,
                                       Activity.team_id).where(Activity.id.in_(chunk))):
            activities[row[0]] = row
    rows = []
    for kind, items in found.items():
        for finding in items:
            primary = _primary(finding, activities)
            if primary is None:
                continue  # its activities went while the detectors ran: nothing to link to
            rows.append({
                "kind": kind, "at": finding.at, "activity_id": primary[0], "activity_starts_at": primary[1],
                "unit_id": primary[2], "theme_id": primary[3], "team_id": primary[4],
                "volunteer_id": finding.volunteer_id, "activity_ids": [int(i) for i in finding.activity_ids],
                "figures": {key: value.isoformat() if isinstance(value, datetime) else value
                            for key, value in finding.figures.items()},
            })
    return Computed(computed_at, time.perf_counter() - started, rows)


DETECTORS = (  # the slowest first, so that the threads finish about together
    ("overlap", lambda session, f, limit: overlapping_attendances(session=session, f=f, limit=limit)),
    ("device_burst", lambda session, f, limit: device_bursts(session=session, f=f, limit=limit)),
    ("late_entry", lambda session, f, limit: late_entries(session=session, f=f, limit=limit)),
    ("overlong", lambda session, f, limit: overlong_minutes(session=session, f=f, limit=limit)),
    ("repeated_roster", lambda session, f, limit: repeated_rosters(session=session, f=f, limit=limit)),
    ("retro_no_photo", lambda session, f, limit: retro_without_photos(session=session, f=f, limit=limit)),
)


def _detect_in_parallel(engine: Engine, f: ReportFilter, limit: int | None, workers: int) -> dict[str, list[Finding]]:
    def run(kind, detector):
        with Session(engine) as session:
            return kind, detector(session, f, limit)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="signals") as pool:
        found = dict(pool.map(lambda item: run(*item), DETECTORS))
    return {kind: found[kind] for kind in KINDS}


def store(*, session: Session, computed: Computed) -> bool:
    """Replace the stored findings with `computed`, in the caller's transaction (delete + insert).

    Returns False, and stores nothing, when the stored set was computed later than this one (two
    refreshes overlapped and the newer one wrote first). On PostgreSQL an advisory lock makes
    concurrent refreshes write one after the other; SQLite's writer lock does the same.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFRESH_LOCK})
    latest = session.exec(select(func.max(SignalRun.computed_at))).one()
    if latest is not None and latest > computed.computed_at:
        return False
    session.execute(delete(SignalFinding))
    session.execute(delete(SignalRun))
    if computed.rows:
        session.execute(SignalFinding.__table__.insert(), computed.rows)
    session.add(SignalRun(computed_at=computed.computed_at, seconds=round(computed.seconds, 3),
                          findings=len(computed.rows)))
    session.flush()
    return True


def refresh(engine: Engine, *, zone: ZoneInfo | None = None, workers: int = REFRESH_WORKERS) -> Computed:
    """Compute the findings (reads only), then store them in one short write transaction."""
    from ..db import session_scope

    zone = zone or ZoneInfo("Asia/Shanghai")
    with session_scope(engine, write=False) as session:
        computed = compute(session=session, zone=zone, workers=workers)
    with session_scope(engine) as session:
        store(session=session, computed=computed)
    return computed


def stored_signals(*, session: Session, f: ReportFilter, limit: int = LIMIT) -> Stored:
    """The stored findings that fall in the filter, by kind, the most recent first, at most `limit` of each.

    A finding belongs to the filter when its primary activity does (counted, started in the range, in
    the area, of the theme and team), as the detectors' own filter would select it.
    """
    run = session.exec(select(SignalRun).order_by(SignalRun.computed_at.desc())).first()
    conditions = [SignalFinding.activity_starts_at >= f.start_utc, SignalFinding.activity_starts_at < f.end_utc]
    if f.area is not None:
        conditions.append(SignalFinding.unit_id.in_(select(Unit.id).where(Unit.path.startswith(f.area.path))))
    if f.theme is not None:
        conditions.append(SignalFinding.theme_id == f.theme.id)
    if f.team is not None:
        conditions.append(SignalFinding.team_id == f.team.id)
    findings = {}
    for kind in KINDS:
        rows = session.exec(
            select(SignalFinding, Team.name, Volunteer.name)
            .join(Team, Team.id == SignalFinding.team_id)
            .outerjoin(Volunteer, Volunteer.id == SignalFinding.volunteer_id)
            .where(SignalFinding.kind == kind, *conditions)
            .order_by(SignalFinding.at.desc(), SignalFinding.id)
            .limit(limit)
        ).all()
        findings[kind] = [_finding(row, team_name, volunteer_name) for row, team_name, volunteer_name in rows]
    return Stored(run, findings)


def _finding(row: SignalFinding, team_name: str, volunteer_name: str | None) -> Finding:
    figures = dict(row.figures or {})
    if row.kind == "late_entry" and isinstance(figures.get("latest"), str):
        figures["latest"] = datetime.fromisoformat(figures["latest"])
    return Finding(row.kind, row.at, row.team_id, team_name, list(row.activity_ids or []), volunteer_name, figures,
                   row.volunteer_id)


def _primary(finding: Finding, activities: dict) -> tuple | None:
    """The activity a finding is filed under: the first of its activities that belongs to its team."""
    known = [activities[i] for i in finding.activity_ids if i in activities]
    for row in known:
        if row[4] == finding.team_id:
            return row
    return known[0] if known else None


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]
