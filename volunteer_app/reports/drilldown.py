"""The office's drill-down below the tallies: the filtered activities, one activity's records and photos."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from ..models import Activity, Attendance, Photo, Team, Theme, Unit, Volunteer
from .filters import ReportFilter, activity_conditions


def activities_statement(f: ReportFilter):
    """The filtered activities with their team, theme and unit, newest first (the first drill-down level)."""
    return (
        select(Activity, Team, Theme, Unit)
        .join(Team, Team.id == Activity.team_id)
        .join(Theme, Theme.id == Activity.theme_id)
        .join(Unit, Unit.id == Activity.unit_id)
        .where(*activity_conditions(f))
        .order_by(Activity.starts_at.desc(), Activity.id.desc())
    )


def live_counts_for(*, session: Session, activity_ids: list[int]) -> dict[int, tuple[int, int]]:
    """activity id → (live, all) non-voided attendances, for one page of activities (their denormalised counts)."""
    if not activity_ids:
        return {}
    return {row[0]: (int(row[1]), int(row[2])) for row in session.exec(
        select(Activity.id, Activity.live_count, Activity.attendee_count).where(Activity.id.in_(activity_ids)))}


def activity_in_area(*, session: Session, area: Unit | None, activity_id: int):
    """(activity, team, theme, unit) when the activity lies in the area, else None (404 for 'not yours' too)."""
    row = session.exec(
        select(Activity, Team, Theme, Unit)
        .join(Team, Team.id == Activity.team_id)
        .join(Theme, Theme.id == Activity.theme_id)
        .join(Unit, Unit.id == Activity.unit_id)
        .where(Activity.id == activity_id)
    ).first()
    if row is None or (area is not None and not row[3].path.startswith(area.path)):
        return None
    return row


def activity_records(*, session: Session, activity_id: int) -> list[tuple[Attendance, Volunteer, Volunteer | None]]:
    """Every attendance of an activity (voided ones too, shown as such) with the volunteer and the recorder."""
    recorder = Volunteer.__table__.alias("recorder")
    rows = session.exec(
        select(Attendance, Volunteer, recorder.c.name)
        .join(Volunteer, Volunteer.id == Attendance.volunteer_id)
        .join(recorder, recorder.c.id == Attendance.recorded_by_id, isouter=True)
        .where(Attendance.activity_id == activity_id)
        .order_by(Attendance.checked_in_at, Attendance.id)
    ).all()
    return rows


def activity_photos(*, session: Session, activity_id: int) -> list[tuple[int, bytes, datetime]]:
    """The activity's photo evidence as (id, thumbnail JPEG, uploaded at), oldest first; full images stay unread."""
    return session.exec(select(Photo.id, Photo.thumbnail, Photo.created_at)
                        .where(Photo.activity_id == activity_id).order_by(Photo.id)).all()
