"""The sign-ups as the leader sees them, and who holds an admitted sign-up (for the manual check-in).

    roster(*, session, activity, status=None) -> list[RosterRow]
    is_admitted(*, session, activity_id, volunteer_id) -> bool
    admitted_clause(activity_id) -> SQL condition on Volunteer
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from ..models import Activity, Attendance, Signup, Volunteer
from .signups import signup_of


@dataclass(frozen=True)
class RosterRow:
    """One sign-up as the leader sees it: the person, their past hours and no-shows with this team."""

    signup: Signup
    volunteer: Volunteer
    past_minutes: int
    no_shows: int
    checked_in: bool


def is_admitted(*, session: Session, activity_id: int, volunteer_id: int) -> bool:
    """Whether this volunteer holds an admitted sign-up for the activity."""
    found = signup_of(session=session, activity_id=activity_id, volunteer_id=volunteer_id)
    return found is not None and found.status == "admitted"


def admitted_clause(activity_id: int):
    """SQL: the Volunteer row holds an admitted sign-up for the activity (for the manual check-in's search)."""
    return select(Signup.id).where(Signup.activity_id == activity_id, Signup.volunteer_id == Volunteer.id,
                                   Signup.status == "admitted").exists()


def roster(*, session: Session, activity: Activity, status: str | None = None) -> list[RosterRow]:
    """The activity's sign-ups in id order (the waitlist's order), with each person's past with this team."""
    statement = (select(Signup, Volunteer).join(Volunteer, Volunteer.id == Signup.volunteer_id)
                 .where(Signup.activity_id == activity.id).order_by(Signup.id).limit(2000))
    if status:
        statement = statement.where(Signup.status == status)
    rows = session.exec(statement).all()
    ids = [volunteer.id for _signup, volunteer in rows]
    if not ids:
        return []
    minutes = dict(session.exec(
        select(Attendance.volunteer_id, func.sum(Attendance.credited_minutes))
        .join(Activity, Activity.id == Attendance.activity_id)
        .where(Activity.team_id == activity.team_id, Activity.status == "closed", Attendance.voided_at.is_(None),
               Attendance.volunteer_id.in_(ids)).group_by(Attendance.volunteer_id)).all())
    no_shows = dict(session.exec(
        select(Signup.volunteer_id, func.count(Signup.id)).join(Activity, Activity.id == Signup.activity_id)
        .where(Activity.team_id == activity.team_id, Signup.status == "no_show", Signup.volunteer_id.in_(ids))
        .group_by(Signup.volunteer_id)).all())
    present = set(session.exec(select(Attendance.volunteer_id).where(
        Attendance.activity_id == activity.id, Attendance.voided_at.is_(None), Attendance.volunteer_id.in_(ids))).all())
    return [RosterRow(s, v, int(minutes.get(v.id) or 0), int(no_shows.get(v.id) or 0), v.id in present)
            for s, v in rows]
