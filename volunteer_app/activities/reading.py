"""Reading activities: the look-up that authorises viewers (leaders': service.activity_for_leader), a team's
list, an activity's attendances and live count, the themes. The rules that change activities are in service.py."""
from __future__ import annotations

from sqlalchemy import case, func
from sqlmodel import Session, select

from ..models import Activity, Attendance, Theme, Volunteer
from ..teams.rules import is_active_leader
from .service import _office_may


def activity_for_viewer(*, session: Session, volunteer_id: int, activity_id: int) -> Activity | None:
    """The activity for its team's leaders or the office (within its unit); else None (→ 404)."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        return None
    if is_active_leader(session, activity.team_id, volunteer_id) or _office_may(session, activity, volunteer_id):
        return activity
    return None


def team_activities(*, session: Session, team_id: int) -> dict[str, list[Activity]]:
    """The team's activities grouped: open, upcoming (scheduled), closed, cancelled; newest first."""
    groups: dict[str, list[Activity]] = {"open": [], "scheduled": [], "closed": [], "cancelled": []}
    rows = session.exec(select(Activity).where(Activity.team_id == team_id).order_by(Activity.starts_at.desc())
                        .limit(500)).all()
    for activity in rows:
        groups[activity.status].append(activity)
    groups["scheduled"].reverse()  # soonest first
    return groups


def attendances_with_people(*, session: Session, activity_id: int) -> list[tuple[Attendance, Volunteer]]:
    """Every attendance of the activity with its volunteer, in check-in order."""
    return list(session.exec(
        select(Attendance, Volunteer).join(Volunteer, Volunteer.id == Attendance.volunteer_id)
        .where(Attendance.activity_id == activity_id).order_by(Attendance.checked_in_at, Attendance.id)
    ).all())


def live_count(*, session: Session, activity_id: int) -> tuple[int, int]:
    """(checked in so far, still in) among the non-voided attendances."""
    total, still_in = session.exec(
        select(func.count(Attendance.id),
               func.coalesce(func.sum(case((Attendance.checked_out_at.is_(None), 1), else_=0)), 0))
        .where(Attendance.activity_id == activity_id, Attendance.voided_at.is_(None))
    ).one()
    return int(total), int(still_in)


def themes(*, session: Session) -> list[Theme]:
    """Active themes in their display order."""
    return list(session.exec(select(Theme).where(Theme.is_active.is_(True)).order_by(Theme.sort_order)).all())
