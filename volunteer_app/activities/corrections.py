"""Corrections of a closed activity's records: adjust minutes, void an attendance, add a missed volunteer.

Each needs a closed activity and a reason; an active leader of the team may make them until the
10-working-day recording deadline (volunteer_app/workdays.py), the office (within its unit, if limited) at
any time. Adding a missed volunteer follows who may take part (checkin/participation.py), so a suspended
team adds no one. Every change is in the audit log with old and new values, and the activity's
attendee_count and total_minutes move by relative UPDATEs in the same transaction.

Functions (keyword-only `session`; they only flush; errors are service.ActivityError):

    adjust_minutes(*, session, attendance_id, minutes, reason, actor_id, at=None) -> Attendance
    void_attendance(*, session, attendance_id, reason, actor_id, at=None) -> Attendance
    add_missed(*, session, activity_id, volunteer_id, minutes, reason, actor_id, at=None) -> Attendance
    may_correct(*, session, activity, actor_id, at=None) -> refusal code or None
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from .. import audit
from ..checkin import participation
from ..models import Activity, Attendance, utcnow
from ..teams.rules import is_active_leader
from ..workdays import past_recording_deadline
from . import signups
from .service import ActivityError, _office_may, _reason


def adjust_minutes(*, session: Session, attendance_id: int, minutes: int, reason: str, actor_id: int,
                   at: datetime | None = None) -> Attendance:
    """Set an attendance's credited minutes, with a reason (after close)."""
    reason = _reason(reason)
    attendance, activity = _correctable(session, attendance_id, actor_id, at or utcnow())
    if attendance.voided_at is not None:
        raise ActivityError("already_voided")
    minutes = _minutes(activity, minutes)
    old = attendance.credited_minutes
    attendance.credited_minutes = minutes
    session.flush()
    _bump(session, activity.id, minutes=minutes - old)
    audit.record(session=session, action="attendance.adjust", object_type="attendance", object_id=attendance.id,
                 actor_id=actor_id, team_id=activity.team_id, reason=reason,
                 data={"old": {"credited_minutes": old}, "new": {"credited_minutes": minutes},
                       "activity_id": activity.id, "volunteer_id": attendance.volunteer_id})
    return attendance


def void_attendance(*, session: Session, attendance_id: int, reason: str, actor_id: int,
                    at: datetime | None = None) -> Attendance:
    """Void an attendance with a reason (after close); it stays in the records, no longer counted."""
    reason = _reason(reason)
    at = at or utcnow()
    attendance, activity = _correctable(session, attendance_id, actor_id, at)
    if attendance.voided_at is not None:
        raise ActivityError("already_voided")
    attendance.voided_at = at
    attendance.void_reason = reason
    session.flush()
    _bump(session, activity.id, count=-1, minutes=-attendance.credited_minutes)
    signups.refresh_no_show(session=session, activity_id=activity.id, volunteer_id=attendance.volunteer_id)
    audit.record(session=session, action="attendance.void", object_type="attendance", object_id=attendance.id,
                 actor_id=actor_id, team_id=activity.team_id, reason=reason,
                 data={"old": {"voided": False, "credited_minutes": attendance.credited_minutes},
                       "new": {"voided": True}, "activity_id": activity.id,
                       "volunteer_id": attendance.volunteer_id})
    return attendance


def add_missed(*, session: Session, activity_id: int, volunteer_id: int, minutes: int, reason: str, actor_id: int,
               at: datetime | None = None) -> Attendance:
    """Record a member the live check-in missed (after close), as leader_manual, with a reason."""
    reason = _reason(reason)
    at = at or utcnow()
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise ActivityError("not_allowed")
    _may_correct(session, activity, actor_id, at)
    _may_take_part(session, activity.team_id, volunteer_id, members_only=activity.members_only,
                   method="leader_manual", activity_id=activity_id)
    if session.exec(select(Attendance.id).where(Attendance.activity_id == activity_id,
                                                Attendance.volunteer_id == volunteer_id)).first():
        raise ActivityError("already_recorded")
    minutes = _minutes(activity, minutes)
    attendance = Attendance(activity_id=activity_id, volunteer_id=volunteer_id, checked_in_at=activity.starts_at,
                            checked_out_at=activity.starts_at + timedelta(minutes=minutes),
                            credited_minutes=minutes, method="leader_manual", recorded_by_id=actor_id,
                            created_at=at)
    session.add(attendance)
    session.flush()
    _bump(session, activity_id, count=1, minutes=minutes)
    signups.refresh_no_show(session=session, activity_id=activity_id, volunteer_id=volunteer_id)
    audit.record(session=session, action="attendance.add", object_type="attendance", object_id=attendance.id,
                 actor_id=actor_id, team_id=activity.team_id, reason=reason,
                 data={"old": None, "new": {"credited_minutes": minutes, "method": "leader_manual"},
                       "activity_id": activity_id, "volunteer_id": volunteer_id})
    return attendance


def may_correct(*, session: Session, activity: Activity, actor_id: int, at: datetime | None = None) -> str | None:
    """None if actor_id may correct the activity's records now, else the refusal code."""
    try:
        _may_correct(session, activity, actor_id, at or utcnow())
    except ActivityError as exc:
        return exc.code
    return None


# --- helpers ------------------------------------------------------------------------------


def _may_correct(session: Session, activity: Activity, actor_id: int, at: datetime) -> None:
    if activity.status != "closed":
        raise ActivityError("not_closed")
    if _office_may(session, activity, actor_id):
        return
    if not is_active_leader(session, activity.team_id, actor_id):
        raise ActivityError("not_allowed")
    if past_recording_deadline(activity.ends_at, at):
        raise ActivityError("too_late_for_leader")


def _correctable(session: Session, attendance_id: int, actor_id: int, at: datetime) -> tuple[Attendance, Activity]:
    attendance = session.get(Attendance, attendance_id)
    if attendance is None:
        raise ActivityError("no_attendance")
    activity = session.get(Activity, attendance.activity_id)
    _may_correct(session, activity, actor_id, at)
    return attendance, activity


def _may_take_part(session: Session, team_id: int, volunteer_id: int, *, members_only: bool, method: str,
                   activity_id: int | None = None) -> None:
    """Raise the participation rule's refusal (checkin/participation.py) for recording volunteer_id by method."""
    refused = participation.refusal_for(session, team_id=team_id, volunteer_id=volunteer_id,
                                        members_only=members_only, method=method, activity_id=activity_id)
    if refused is not None:
        raise ActivityError(refused)


def _minutes(activity: Activity, minutes) -> int:
    limit = int((activity.ends_at - activity.starts_at).total_seconds() // 60)
    try:
        value = int(minutes)
    except (TypeError, ValueError):
        raise ActivityError("bad_minutes", max=limit) from None
    if not 0 <= value <= limit:
        raise ActivityError("bad_minutes", max=limit)
    return value


def _bump(session: Session, activity_id: int, *, count: int = 0, minutes: int = 0) -> None:
    session.execute(
        update(Activity).where(Activity.id == activity_id)
        .values(attendee_count=Activity.attendee_count + count, total_minutes=Activity.total_minutes + minutes)
        .execution_options(synchronize_session=False)
    )
    activity = session.get(Activity, activity_id)
    if activity is not None:
        session.expire(activity, ["attendee_count", "total_minutes"])
