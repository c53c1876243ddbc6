"""The retro log: a past activity recorded afterwards, closed at once, with its attendees and their minutes.

An active leader of a running team logs it until the 10-working-day recording deadline after its end;
each attendance is method "retro_log" and follows who may take part (checkin/participation.py).

    log_retro(*, session, team_id, actor_id, theme_id, title, place, starts_at, ends_at,
              attendees: list[tuple[volunteer_id, minutes or None]], same_minutes=None, at=None) -> Activity

An attendee whose own minutes are None is credited same_minutes (the form's "same minutes for all");
without either, the log is refused (minutes_required).
"""
from __future__ import annotations

import secrets as pysecrets
from datetime import datetime, timedelta

from sqlmodel import Session

from .. import audit
from ..models import Activity, Attendance, utcnow
from ..workdays import past_recording_deadline
from .corrections import _may_take_part, _minutes
from .service import ActivityError, _recount, _running_team, _validated


def log_retro(*, session: Session, team_id: int, actor_id: int, theme_id: int, title: str, place: str,
              starts_at: datetime, ends_at: datetime, attendees: list[tuple[int, int | None]],
              same_minutes: int | None = None, at: datetime | None = None) -> Activity:
    """Record a past activity with its attendees (volunteer id, minutes); each attendance is retro_log."""
    at = at or utcnow()
    team = _running_team(session, team_id, actor_id)
    fields = _validated(session, theme_id, title, place, starts_at, ends_at, None, True, "rotating",
                        None, None, None, at, past_allowed=True)
    if ends_at > at:
        raise ActivityError("not_past")
    if past_recording_deadline(ends_at, at):
        raise ActivityError("too_late_for_leader")
    unique = {}
    for volunteer_id, minutes in attendees:
        unique[int(volunteer_id)] = minutes if minutes is not None else same_minutes
    if not unique:
        raise ActivityError("no_attendees")
    if any(minutes is None for minutes in unique.values()):
        raise ActivityError("minutes_required")
    activity = Activity(team_id=team_id, unit_id=team.unit_id, secret=pysecrets.token_hex(16),
                        created_by_id=actor_id, status="closed", is_retro=True, opened_at=at, closed_at=at, **fields)
    session.add(activity)
    session.flush()
    for volunteer_id, minutes in unique.items():
        _may_take_part(session, team_id, volunteer_id, members_only=True, method="retro_log")
        minutes = _minutes(activity, minutes)
        session.add(Attendance(activity_id=activity.id, volunteer_id=volunteer_id, checked_in_at=starts_at,
                               checked_out_at=starts_at + timedelta(minutes=minutes), credited_minutes=minutes,
                               method="retro_log", recorded_by_id=actor_id, created_at=at))
    session.flush()
    count, total = _recount(session, activity.id)
    session.expire(activity)
    audit.record(session=session, action="activity.retro_log", object_type="activity", object_id=activity.id,
                 actor_id=actor_id, team_id=team_id,
                 data={"new": {"attendee_count": count, "total_minutes": total,
                               "attendees": sorted(unique.items())}})
    return activity
