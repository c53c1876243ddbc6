"""Signals of padded numbers: each detector is one query over the filtered activities.

A signal is not proof; it points at records worth a look, each with links to them. Every detector takes the
dashboard's filter (a district office sees its own district only) and returns at most `limit` findings, the
most recent first. They read attendances (seconds for a city year), so the signals page reads the findings
stored by signals.refresh() instead.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, and_, cast, exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from ..models import Activity, Attendance, Photo, Team, Volunteer
from ..workdays import RECORDING_WORKING_DAYS, _local_date, recording_deadline
from .filters import ReportFilter, activity_conditions

LIMIT = 50
BURST_MINUTES = 10  # self check-ins for different people from one device within this many minutes
BURST_VOLUNTEERS = 3  # ... at least this many different people
ROSTER_MIN_SIZE = 3  # rosters smaller than this repeat innocently
ROSTER_MIN_WEEKS = 3  # the same roster in at least this many different weeks


@dataclass
class Finding:
    """One signal: what it is, whose team, which activities (links), and the figures behind it."""

    kind: str
    at: datetime
    team_id: int
    team_name: str
    activity_ids: list[int]
    volunteer_name: str | None = None
    figures: dict = field(default_factory=dict)
    volunteer_id: int | None = None


def all_signals(*, session: Session, f: ReportFilter, limit: int | None = LIMIT) -> dict[str, list[Finding]]:
    """Every detector's findings, by kind, in the order the page shows them."""
    return {
        "overlap": overlapping_attendances(session=session, f=f, limit=limit),
        "device_burst": device_bursts(session=session, f=f, limit=limit),
        "overlong": overlong_minutes(session=session, f=f, limit=limit),
        "late_entry": late_entries(session=session, f=f, limit=limit),
        "retro_no_photo": retro_without_photos(session=session, f=f, limit=limit),
        "repeated_roster": repeated_rosters(session=session, f=f, limit=limit),
    }


def overlapping_attendances(*, session: Session, f: ReportFilter, limit: int | None = LIMIT) -> list[Finding]:
    """One volunteer checked in to a second activity while the first (whose window overlaps it) still ran."""
    first, second = aliased(Attendance), aliased(Attendance)
    one, two = aliased(Activity), aliased(Activity)
    # The pairs are found first, each attendance of the filter looking ahead through the volunteer's index
    # entries up to its activity's end, and only then ordered: with ORDER BY ... LIMIT in the same query
    # PostgreSQL walks every attendance newest first looking back at all earlier ones (36 s for a city year).
    pairs = (
        select(first.volunteer_id.label("volunteer_id"), one.id.label("one_id"), two.id.label("two_id"),
               one.team_id.label("team_id"), second.checked_in_at.label("at"))
        .join(one, one.id == first.activity_id)
        .join(second, and_(second.volunteer_id == first.volunteer_id, second.id != first.id,
                           second.checked_in_at >= first.checked_in_at, second.checked_in_at < one.ends_at))
        .join(two, two.id == second.activity_id)
        .where(*activity_conditions(f, activity=one),
               two.id != one.id, two.status == "closed",
               two.starts_at < one.ends_at, one.starts_at < two.ends_at,
               first.voided_at.is_(None), second.voided_at.is_(None),
               or_(second.checked_in_at > first.checked_in_at, second.id > first.id))
        .cte("overlap_pairs").prefix_with("MATERIALIZED")
    )
    rows = session.exec(
        select(pairs.c.volunteer_id, Volunteer.name, pairs.c.one_id, pairs.c.two_id, pairs.c.team_id, Team.name,
               pairs.c.at)
        .join(Volunteer, Volunteer.id == pairs.c.volunteer_id)
        .join(Team, Team.id == pairs.c.team_id)
        .order_by(pairs.c.at.desc())
        .limit(limit)
    ).all()
    return [Finding("overlap", at, team_id, team_name, [one_id, two_id], name, volunteer_id=volunteer_id)
            for volunteer_id, name, one_id, two_id, team_id, team_name, at in rows]


def device_bursts(*, session: Session, f: ReportFilter, limit: int | None = LIMIT, minutes: int = BURST_MINUTES,
                  volunteers: int = BURST_VOLUNTEERS) -> list[Finding]:
    """Self check-ins for several different volunteers from one browser or device within a few minutes."""
    base = (Attendance.method == "self_scan", Attendance.device_hash.is_not(None), Attendance.voided_at.is_(None),
            Attendance.activity_id.in_(select(Activity.id).where(*activity_conditions(f))))
    shared = select(Attendance.device_hash).where(*base).group_by(Attendance.device_hash).having(
        func.count(func.distinct(Attendance.volunteer_id)) >= volunteers)
    rows = session.exec(
        select(Attendance.device_hash, Attendance.created_at, Attendance.volunteer_id, Attendance.activity_id,
               Activity.team_id, Team.name)
        .join(Activity, Activity.id == Attendance.activity_id)
        .join(Team, Team.id == Activity.team_id)
        .where(*base, Attendance.device_hash.in_(shared))
        .order_by(Attendance.device_hash, Attendance.created_at)
    ).all()
    window = timedelta(minutes=minutes)
    findings = []
    by_device = defaultdict(list)
    for row in rows:
        by_device[row[0]].append(row)
    for device, scans in by_device.items():
        start = 0
        while start < len(scans):
            end = start
            while end + 1 < len(scans) and scans[end + 1][1] - scans[start][1] <= window:
                end += 1
            burst = scans[start:end + 1]
            people = {scan[2] for scan in burst}
            if len(people) >= volunteers:
                first = burst[0]
                findings.append(Finding("device_burst", first[1], first[4], first[5],
                                        sorted({scan[3] for scan in burst}),
                                        figures={"volunteers": len(people), "minutes": minutes,
                                                 "device": device[:8]}))
                start = end + 1
            else:
                start += 1
    findings.sort(key=lambda finding: finding.at, reverse=True)
    return findings[:limit]


def overlong_minutes(*, session: Session, f: ReportFilter, limit: int | None = LIMIT) -> list[Finding]:
    """Credited minutes longer than the activity itself lasted."""
    length = _minutes_between(session, Activity.starts_at, Activity.ends_at)
    rows = session.exec(
        select(Attendance.credited_minutes, length, Volunteer.name, Activity.id, Activity.starts_at,
               Activity.team_id, Team.name, Attendance.volunteer_id)
        .join(Activity, Activity.id == Attendance.activity_id)
        .join(Volunteer, Volunteer.id == Attendance.volunteer_id)
        .join(Team, Team.id == Activity.team_id)
        .where(*activity_conditions(f), Attendance.voided_at.is_(None),
               Attendance.credited_minutes > length + 0.5)  # half a minute absorbs float rounding of the length
        .order_by(Activity.starts_at.desc())
        .limit(limit)
    ).all()
    return [Finding("overlong", starts_at, team_id, team_name, [activity_id], name,
                    figures={"credited": credited, "length": int(round(float(activity_length)))},
                    volunteer_id=volunteer_id)
            for credited, activity_length, name, activity_id, starts_at, team_id, team_name, volunteer_id in rows]


def late_entries(*, session: Session, f: ReportFilter, limit: int | None = LIMIT) -> list[Finding]:
    """Activities with records entered more than 10 working days after the activity ended.

    Ten working days are at least ten calendar days, so the database finds the candidates and
    China's calendar (holidays, adjusted workdays) decides.
    """
    rows = session.exec(
        select(Activity.id, Activity.ends_at, Activity.team_id, Team.name, Attendance.created_at)
        .join(Attendance, Attendance.activity_id == Activity.id)
        .join(Team, Team.id == Activity.team_id)
        .where(*activity_conditions(f), Attendance.voided_at.is_(None),
               _days_between(session, Activity.ends_at, Attendance.created_at) > RECORDING_WORKING_DAYS)
    ).all()
    late: dict[int, Finding] = {}
    deadlines: dict[int, date] = {}  # the calendar is asked once per activity, not once per record
    for activity_id, ends_at, team_id, team_name, created_at in rows:
        deadline = deadlines.get(activity_id)
        if deadline is None:
            deadline = deadlines[activity_id] = recording_deadline(ends_at)
        if not _local_date(created_at) > deadline:  # workdays.past_recording_deadline, its deadline cached
            continue
        finding = late.get(activity_id)
        if finding is None:
            finding = late[activity_id] = Finding("late_entry", ends_at, team_id, team_name, [activity_id],
                                                  figures={"records": 0, "latest": created_at})
        finding.figures["records"] += 1
        finding.figures["latest"] = max(finding.figures["latest"], created_at)
    return sorted(late.values(), key=lambda finding: finding.at, reverse=True)[:limit]


def retro_without_photos(*, session: Session, f: ReportFilter, limit: int | None = LIMIT) -> list[Finding]:
    """Activities logged after the fact that carry no photo evidence."""
    rows = session.exec(
        select(Activity.id, Activity.starts_at, Activity.attendee_count, Activity.team_id, Team.name)
        .join(Team, Team.id == Activity.team_id)
        .where(*activity_conditions(f), Activity.is_retro.is_(True),
               ~exists().where(Photo.activity_id == Activity.id))
        .order_by(Activity.starts_at.desc())
        .limit(limit)
    ).all()
    return [Finding("retro_no_photo", starts_at, team_id, team_name, [activity_id],
                    figures={"attendances": attendee_count})
            for activity_id, starts_at, attendee_count, team_id, team_name in rows]


def repeated_rosters(*, session: Session, f: ReportFilter, limit: int | None = LIMIT, min_size: int = ROSTER_MIN_SIZE,
                     min_weeks: int = ROSTER_MIN_WEEKS) -> list[Finding]:
    """A team whose activities in several different weeks list exactly the same volunteers.

    Each activity's roster gets a cheap fingerprint in SQL (size, sum and sum of squares of the
    volunteer ids); only activities whose fingerprints repeat are compared exactly.
    """
    per_activity = (
        select(Attendance.activity_id.label("activity_id"), func.count().label("size"),
               func.sum(Attendance.volunteer_id).label("s1"),
               func.sum(cast(Attendance.volunteer_id, BigInteger) * cast(Attendance.volunteer_id, BigInteger))
               .label("s2"))  # 166,000² does not fit PostgreSQL's integer
        .where(Attendance.activity_id.in_(select(Activity.id).where(*activity_conditions(f))),
               Attendance.voided_at.is_(None))
        .group_by(Attendance.activity_id)
        .having(func.count() >= min_size)
        .subquery()
    )
    rows = session.exec(
        select(Activity.id, Activity.team_id, Activity.starts_at, per_activity.c.size, per_activity.c.s1,
               per_activity.c.s2)
        .join(per_activity, per_activity.c.activity_id == Activity.id)
    ).all()
    groups = defaultdict(list)
    for activity_id, team_id, starts_at, size, s1, s2 in rows:
        groups[(team_id, int(size), int(s1), int(s2))].append((activity_id, starts_at))
    candidates = [items for items in groups.values() if len({_week(at, f) for _, at in items}) >= min_weeks]
    if not candidates:
        return []
    ids = [activity_id for items in candidates for activity_id, _ in items]
    rosters = defaultdict(set)
    for activity_id, volunteer_id in session.exec(
            select(Attendance.activity_id, Attendance.volunteer_id)
            .where(Attendance.activity_id.in_(ids), Attendance.voided_at.is_(None))):
        rosters[activity_id].add(volunteer_id)
    team_names = dict(session.exec(select(Team.id, Team.name).where(
        Team.id.in_({key[0] for key, items in groups.items() if items in candidates}))).all())
    findings = []
    for (team_id, size, _s1, _s2), items in groups.items():
        if items not in candidates:
            continue
        exact = defaultdict(list)
        for activity_id, at in items:
            exact[frozenset(rosters[activity_id])].append((at, activity_id))
        for roster, same in exact.items():
            weeks = {_week(at, f) for at, _ in same}
            if len(weeks) >= min_weeks:
                same.sort(reverse=True)
                findings.append(Finding("repeated_roster", same[0][0], team_id, team_names.get(team_id, ""),
                                        [activity_id for _, activity_id in same],
                                        figures={"weeks": len(weeks), "size": len(roster)}))
    findings.sort(key=lambda finding: finding.at, reverse=True)
    return findings[:limit]


def _week(at: datetime, f: ReportFilter) -> tuple[int, int]:
    """The local ISO (year, week) of a datetime."""
    iso = at.astimezone(f.zone).isocalendar()
    return iso[0], iso[1]


def _minutes_between(session: Session, start, end):
    """end - start in minutes, as a number, on either backend."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_part("epoch", end - start) / 60
    return (func.julianday(end) - func.julianday(start)) * 1440


def _days_between(session: Session, start, end):
    """end - start in days, as a number, on either backend."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_part("epoch", end - start) / 86400
    return func.julianday(end) - func.julianday(start)
