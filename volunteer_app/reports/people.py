"""人数: how many different volunteers attended, and how many are registered, for a filter.

For the city, a theme or a district over whole local months the distinct count is read from the
active_months summary (summary_triggers.py); a range whose partial months hold no other counted activity
is as good as whole months, other partial months add their attendances exactly. Any other filter counts
attendances, reached from the filtered activities through the (activity_id, ...) index.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import BigInteger, and_, func, literal, or_, union
from sqlmodel import Session, select

from .. import summary_triggers
from ..models import Activity, ActiveMonths, Attendance, Membership, Team, Theme, Unit, Volunteer
from .filters import ReportFilter, activity_conditions, month_days, month_numbers


def filtered_volunteers(*, session: Session, f: ReportFilter, with_theme: bool = True) -> int:
    """人数 of a filter (with_theme=False: the active volunteers, any theme), exact, from the summary when it can."""
    theme = f.theme if with_theme else None
    scope = _summary_scope(f, theme)
    if scope is None:
        return distinct_volunteers(session=session, conditions=activity_conditions(f, with_theme=with_theme))
    whole, partial = _month_plan(session, f, with_theme)
    if not whole:
        return distinct_volunteers(session=session, conditions=activity_conditions(f, with_theme=with_theme))
    masks: dict[int, int] = {}
    for month in whole:
        era, bit = divmod(month, summary_triggers.ERA_MONTHS)
        masks[era] = masks.get(era, 0) | (1 << bit)
    in_months = or_(*(and_(ActiveMonths.era == era, ActiveMonths.months.op("&")(literal(mask, BigInteger)) != 0)
                      for era, mask in sorted(masks.items())))
    kind, scope_id = scope
    from_summary = select(ActiveMonths.volunteer_id).where(
        ActiveMonths.scope == kind, ActiveMonths.scope_id == scope_id, in_months)
    if not partial:
        if len(masks) == 1 and _only_months(session, f, with_theme, whole):
            in_months = ActiveMonths.era == next(iter(masks))  # every row of the era has a bit in the range
        counted = func.count() if len(masks) == 1 else func.count(func.distinct(ActiveMonths.volunteer_id))
        return int(session.exec(select(counted).where(
            ActiveMonths.scope == kind, ActiveMonths.scope_id == scope_id, in_months)).one())
    exact = [select(Attendance.volunteer_id).where(
        Attendance.activity_id.in_(select(Activity.id).where(
            *activity_conditions(replace(f, start=start, end=end), with_theme=with_theme))),
        Attendance.voided_at.is_(None)) for start, end in partial]
    both = union(from_summary, *exact).subquery()
    return int(session.exec(select(func.count()).select_from(both)).one())


def distinct_volunteers(*, session: Session, conditions: list) -> int:
    """How many different volunteers attended the activities matching conditions (from the attendances)."""
    counted = select(Activity.id).where(*conditions)
    return int(session.exec(
        select(func.count(func.distinct(Attendance.volunteer_id))).where(
            Attendance.activity_id.in_(counted), Attendance.voided_at.is_(None))
    ).one())


def registered_volunteers(*, session: Session, f: ReportFilter) -> int:
    """Volunteers with an account: the whole city, or the active members of the area's (or the team's) teams."""
    if f.team is not None:
        teams = [f.team.id]
    elif f.area is not None:
        teams = select(Team.id).where(Team.unit_id.in_(select(Unit.id).where(Unit.path.startswith(f.area.path))))
    else:
        return int(session.exec(select(func.count()).select_from(Volunteer).where(  # count(*): the index alone
            Volunteer.role == "volunteer", Volunteer.deleted_at.is_(None))).one())
    return int(session.exec(select(func.count(func.distinct(Membership.volunteer_id))).where(
        Membership.team_id.in_(teams), Membership.status == "active")).one())


def _summary_scope(f: ReportFilter, theme: Theme | None) -> tuple[int, int] | None:
    """The active_months scope that holds exactly this filter's volunteers, or None (count attendances)."""
    if f.zone.key != summary_triggers.ZONE or f.team is not None:
        return None
    area = f.area
    if area is not None and (theme is not None or area.level != "district"):
        return None
    if theme is not None:
        return summary_triggers.SCOPE_THEME, theme.id
    if area is not None:
        return summary_triggers.SCOPE_UNIT, area.id
    return summary_triggers.SCOPE_CITY, 0


def _month_plan(session: Session, f: ReportFilter, with_theme: bool) -> tuple[list[int], list[tuple[date, date]]]:
    """The range's local months (year * 12 + month - 1) to read whole from the summary, and the parts of
    months to count from attendances. A partial month counts as whole when no counted activity of the
    filter lies in the part of the month outside the range."""
    whole, partial = [], []
    for month in month_numbers(f):
        first, last = month_days(month)
        start, end = max(first, f.start), min(last, f.end)
        outside = [(first, start - timedelta(days=1))] if start > first else []
        if end < last:
            outside.append((end + timedelta(days=1), last))
        if not outside or not any(_has_activity(session, replace(f, start=a, end=b), with_theme) for a, b in outside):
            whole.append(month)
        else:
            partial.append((start, end))
    return whole, partial


def _only_months(session: Session, f: ReportFilter, with_theme: bool, months: list[int]) -> bool:
    """Whether the filter's counted activities of the era of `months` (contiguous, one era) all lie in those
    months: then no bit test is needed (the common case of a range that covers all the data)."""
    era = months[0] // summary_triggers.ERA_MONTHS
    era_first, _ = month_days(era * summary_triggers.ERA_MONTHS)
    _, era_last = month_days((era + 1) * summary_triggers.ERA_MONTHS - 1)
    first, _ = month_days(months[0])
    _, last = month_days(months[-1])
    outside = [(era_first, first - timedelta(days=1))] if first > era_first else []
    if last < era_last:
        outside.append((last + timedelta(days=1), era_last))
    return not any(_has_activity(session, replace(f, start=a, end=b), with_theme) for a, b in outside)


def _has_activity(session: Session, f: ReportFilter, with_theme: bool) -> bool:
    return session.exec(select(Activity.id).where(*activity_conditions(f, with_theme=with_theme)).limit(1)).first() \
        is not None
