"""A person's record (志愿服务记录): who may open it, its rows, and one row's details.

The person sees their own; the office any person in its area (accounts.service.person_in_scope); a leader the
record of an active member of a team they lead, limited to that team's activities (nobody sees another team's
doings). Everyone else gets None, which the views answer with 404.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlmodel import Session, select

from ..models import Activity, Attendance, AuditEvent, CorrectionRequest, Membership, Team, Theme, Unit, Volunteer
from ..teams.rules import active_leader, active_member
from ..units import office_scope
from .service import attendance_history, person_in_scope


@dataclass(frozen=True)
class RecordAccess:
    """A person whose record the viewer may open; team_ids limits the rows to those teams (a leader's view)."""

    person: Volunteer
    team_ids: tuple[int, ...] | None = None


def record_access(*, session: Session, viewer: Volunteer, person_id: int) -> RecordAccess | None:
    """What of person_id's record viewer may see, or None."""
    if viewer.id == person_id:
        return RecordAccess(viewer)
    if viewer.role == "office":
        person = person_in_scope(session=session, volunteer_id=person_id,
                                 scope=office_scope(session=session, office=viewer))
        return RecordAccess(person) if person is not None else None
    person = session.get(Volunteer, person_id)
    if person is None or person.deleted_at is not None:
        return None
    led = select(Membership.team_id).where(*active_leader(volunteer=viewer.id))
    teams = tuple(session.exec(select(Membership.team_id).join(Team, Team.id == Membership.team_id).where(
        *active_member(volunteer=person_id), Membership.team_id.in_(led), Team.status == "active")).all())
    return RecordAccess(person, teams) if teams else None


def record_rows(access: RecordAccess):
    """The statement of the record's rows (Attendance, Activity, Theme, Team), newest first."""
    statement = attendance_history(access.person.id)
    if access.team_ids is not None:
        statement = statement.where(Activity.team_id.in_(access.team_ids))
    return statement


@dataclass(frozen=True)
class Change:
    """One correction of an attendance, from the audit log."""

    action: str
    at: object
    actor: str
    reason: str | None
    old_minutes: int | None
    new_minutes: int | None


@dataclass(frozen=True)
class RecordDetail:
    attendance: Attendance
    activity: Activity
    theme: Theme
    team: Team
    unit: Unit | None
    person: Volunteer
    recorded_by: Volunteer | None
    leaders: list[Volunteer]
    changes: list[Change] = field(default_factory=list)
    requests: list[CorrectionRequest] = field(default_factory=list)


def attendance_for_viewer(*, session: Session, volunteer_id: int, attendance_id: int) -> RecordDetail | None:
    """One record row with its details, if the viewer (volunteer_id) may open the person's record and that row."""
    attendance = session.get(Attendance, attendance_id)
    viewer = session.get(Volunteer, volunteer_id)
    if attendance is None or viewer is None:
        return None
    access = record_access(session=session, viewer=viewer, person_id=attendance.volunteer_id)
    activity = session.get(Activity, attendance.activity_id)
    if access is None or (access.team_ids is not None and activity.team_id not in access.team_ids):
        return None
    leaders = list(session.exec(select(Volunteer).join(Membership, Membership.volunteer_id == Volunteer.id)
                                .where(*active_leader(team=activity.team_id)).order_by(Volunteer.name)))
    requests = list(session.exec(select(CorrectionRequest).where(CorrectionRequest.attendance_id == attendance.id)
                                 .order_by(CorrectionRequest.id)))
    return RecordDetail(
        attendance, activity, session.get(Theme, activity.theme_id), session.get(Team, activity.team_id),
        session.get(Unit, activity.unit_id), access.person,
        session.get(Volunteer, attendance.recorded_by_id) if attendance.recorded_by_id else None,
        leaders, _changes(session, attendance.id), requests)


def _changes(session: Session, attendance_id: int) -> list[Change]:
    events = session.exec(select(AuditEvent, Volunteer.name).outerjoin(Volunteer, Volunteer.id == AuditEvent.actor_id)
                          .where(AuditEvent.object_type == "attendance", AuditEvent.object_id == attendance_id,
                                 AuditEvent.action.in_(("attendance.adjust", "attendance.void", "attendance.add")))
                          .order_by(AuditEvent.id)).all()
    changes = []
    for event, actor in events:
        data = json.loads(event.data or "{}")
        old, new = data.get("old") or {}, data.get("new") or {}
        changes.append(Change(event.action, event.at, actor or "", event.reason,
                              old.get("credited_minutes"), new.get("credited_minutes")))
    return changes
