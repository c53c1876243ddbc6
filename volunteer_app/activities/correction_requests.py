"""Correction requests (纠错申请): a volunteer asks, the team's leader (or the office) resolves, the volunteer is told.

A request is about a recorded attendance of the asker ("fix": the hours are wrong) or about an activity of one
of the asker's teams where they are not recorded ("missing", within the 10-working-day recording window). An
accepted request goes through the corrections service (corrections.py), so every rule of a correction holds (a
closed activity, the leader's deadline, who may take part), and the audit log keeps both. Open requests older
than 10 working days are overdue: the leader's home and the office's dashboard list them per team.

Functions (keyword-only `session`; they only flush; errors are RequestError):

    ask(*, session, volunteer_id, activity_id, attendance_id=None, minutes=None, reason, now=None)
    missing_choices(*, session, volunteer_id, now=None) -> [(Activity, Team)]
    accept(*, session, request_id, actor_id, minutes, answer="", now=None)
    decline(*, session, request_id, actor_id, answer, now=None)
    request_for_resolver(*, session, volunteer_id, request_id) -> CorrectionRequest | None
    overdue_by_team(*, session, team_ids=None, scope=..., now=None) -> [(Team, count, oldest)]
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from .. import audit, notify
from ..errors import DomainError
from ..models import Activity, Attendance, CorrectionRequest, Membership, Team, Unit, Volunteer, utcnow
from ..teams.rules import active_leader, active_member, is_active_leader
from ..units import units_in_scope
from ..workdays import past_recording_deadline
from . import corrections
from .service import _office_may

REASON_MAX = 500
# Requests for missing attendances reach back this far (the recording window is 10 working days: at most
# about three calendar weeks with a holiday inside; the window itself decides).
MISSING_LOOKBACK = timedelta(days=30)
# An open request is overdue after 10 working days: never before 12 calendar days (two weekends).
OVERDUE_AT_LEAST = timedelta(days=12)


class RequestError(DomainError):
    messages = {
        "reason_required": _l("Say what is wrong, in up to 500 characters."),
        "answer_required": _l("Give the volunteer a reason, in up to 500 characters."),
        "bad_minutes": _l("Enter the hours as a number between 0 and %(max)s."),
        "not_closed": _l("This activity is not closed yet: its record is still being taken."),
        "not_a_member": _l("Choose an activity of one of your teams."),
        "already_recorded": _l("You are already recorded at this activity: open that record to ask for a fix."),
        "too_late": _l("This activity ended more than 10 working days ago. Ask the Civilization Office."),
        "already_open": _l("You already asked about this activity; the leader has not answered yet."),
        "not_open": _l("This request has already been answered."),
    }


def ask(*, session: Session, volunteer_id: int, activity_id: int, attendance_id: int | None = None,
        minutes=None, reason: str, now: datetime | None = None) -> CorrectionRequest:
    """File a request: a fix of one's own attendance, or (attendance_id None) a missing attendance."""
    now = now or utcnow()
    text = _text(reason, "reason_required")
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise RequestError("not_a_member")
    if activity.status != "closed":
        raise RequestError("not_closed")
    recorded = session.exec(select(Attendance).where(Attendance.activity_id == activity_id,
                                                     Attendance.volunteer_id == volunteer_id)).first()
    if attendance_id is None:
        if recorded is not None:
            raise RequestError("already_recorded")
        if session.exec(select(Membership.id).where(*active_member(team=activity.team_id, volunteer=volunteer_id))
                        ).first() is None:
            raise RequestError("not_a_member")
        if past_recording_deadline(activity.ends_at, now):
            raise RequestError("too_late")
    elif recorded is None or recorded.id != attendance_id:
        raise RequestError("not_a_member")
    if session.exec(select(CorrectionRequest.id).where(
            CorrectionRequest.volunteer_id == volunteer_id, CorrectionRequest.activity_id == activity_id,
            CorrectionRequest.status == "open")).first() is not None:
        raise RequestError("already_open")
    request = CorrectionRequest(volunteer_id=volunteer_id, activity_id=activity_id, team_id=activity.team_id,
                                attendance_id=attendance_id, kind="fix" if attendance_id else "missing",
                                minutes=_minutes(activity, minutes, allow_none=True), reason=text, created_at=now)
    session.add(request)
    session.flush()
    audit.record(session=session, action="correction_request.create", object_type="correction_request",
                 object_id=request.id, actor_id=volunteer_id, team_id=activity.team_id, reason=text,
                 data={"new": {"kind": request.kind, "minutes": request.minutes}, "activity_id": activity_id,
                       "attendance_id": attendance_id})
    return request


def missing_choices(*, session: Session, volunteer_id: int, now: datetime | None = None) -> list[tuple]:
    """Closed activities of my teams, still inside the recording window, where I am not recorded."""
    now = now or utcnow()
    mine = select(Membership.team_id).where(*active_member(volunteer=volunteer_id))
    recorded = select(Attendance.activity_id).where(Attendance.volunteer_id == volunteer_id)
    rows = session.exec(select(Activity, Team).join(Team, Team.id == Activity.team_id).where(
        Activity.team_id.in_(mine), Activity.status == "closed", Activity.ends_at >= now - MISSING_LOOKBACK,
        Activity.ends_at <= now, Activity.id.not_in(recorded)).order_by(Activity.starts_at.desc())).all()
    return [(a, t) for a, t in rows if not past_recording_deadline(a.ends_at, now)]


def accept(*, session: Session, request_id: int, actor_id: int, minutes, answer: str = "",
           now: datetime | None = None) -> CorrectionRequest:
    """Make the change asked for (with the minutes the leader settles on) and tell the volunteer."""
    now = now or utcnow()
    request = _open(session, request_id)
    activity = session.get(Activity, request.activity_id)
    value = _minutes(activity, minutes, allow_none=False)
    note = (answer or "").strip()[:REASON_MAX] or None
    why = note or request.reason
    # The corrections service's refusals (ActivityError: the leader's deadline passed...) reach the caller as such.
    if request.kind == "missing":
        attendance = corrections.add_missed(session=session, activity_id=activity.id,
                                            volunteer_id=request.volunteer_id, minutes=value, reason=why,
                                            actor_id=actor_id, at=now)
        request.attendance_id = attendance.id
    else:
        attendance = session.get(Attendance, request.attendance_id)
        if attendance.credited_minutes != value or attendance.voided_at is not None:
            corrections.adjust_minutes(session=session, attendance_id=attendance.id, minutes=value, reason=why,
                                       actor_id=actor_id, at=now)
    _resolve(session, request, "accepted", actor_id, note, now, minutes=value)
    return request


def decline(*, session: Session, request_id: int, actor_id: int, answer: str,
            now: datetime | None = None) -> CorrectionRequest:
    """Decline with a reason the volunteer reads."""
    now = now or utcnow()
    request = _open(session, request_id)
    text = _text(answer, "answer_required")
    _resolve(session, request, "declined", actor_id, text, now)
    return request


def request_for_resolver(*, session: Session, volunteer_id: int, request_id: int) -> CorrectionRequest | None:
    """A request the user may resolve: an active leader of its team, or the office over the activity's unit."""
    request = session.get(CorrectionRequest, request_id)
    if request is None:
        return None
    if is_active_leader(session, request.team_id, volunteer_id):
        return request
    return request if _office_may(session, session.get(Activity, request.activity_id), volunteer_id) else None


def requests_of(*, session: Session, volunteer_id: int) -> list[tuple]:
    """My requests with their activities, newest first."""
    return session.exec(select(CorrectionRequest, Activity).join(Activity, Activity.id == CorrectionRequest.activity_id)
                        .where(CorrectionRequest.volunteer_id == volunteer_id)
                        .order_by(CorrectionRequest.id.desc())).all()


def team_requests(*, session: Session, team_id: int, status: str = "open", limit: int = 50) -> list[tuple]:
    """A team's requests of one status (oldest open first; newest answered first) with activity, person, record."""
    order = CorrectionRequest.id if status == "open" else CorrectionRequest.id.desc()
    return session.exec(select(CorrectionRequest, Activity, Volunteer, Attendance)
                        .join(Activity, Activity.id == CorrectionRequest.activity_id)
                        .join(Volunteer, Volunteer.id == CorrectionRequest.volunteer_id)
                        .outerjoin(Attendance, Attendance.id == CorrectionRequest.attendance_id)
                        .where(CorrectionRequest.team_id == team_id, CorrectionRequest.status == status)
                        .order_by(order).limit(limit)).all()


_EVERYWHERE = object()


def overdue_by_team(*, session: Session, team_ids: list[int] | None = None, scope=_EVERYWHERE,
                    now: datetime | None = None) -> list[tuple[Team, int, datetime]]:
    """Teams with open requests older than 10 working days: (team, how many, the oldest's time).

    Limited to team_ids (a leader's teams) or to the teams in an office scope (None: the whole city)."""
    now = now or utcnow()
    statement = select(CorrectionRequest.team_id, CorrectionRequest.created_at).where(
        CorrectionRequest.status == "open", CorrectionRequest.created_at <= now - OVERDUE_AT_LEAST)
    if team_ids is not None:
        statement = statement.where(CorrectionRequest.team_id.in_(team_ids or [-1]))
    if scope is not _EVERYWHERE and scope is not None:
        statement = statement.where(CorrectionRequest.team_id.in_(
            select(Team.id).where(Team.unit_id.in_(units_in_scope(scope)))))
    found: dict[int, list[datetime]] = {}
    for team_id, created_at in session.exec(statement).all():
        if past_recording_deadline(created_at, now):
            found.setdefault(team_id, []).append(created_at)
    if not found:
        return []
    teams = {t.id: t for t in session.exec(select(Team).where(Team.id.in_(list(found))))}
    return sorted(((teams[tid], len(times), min(times)) for tid, times in found.items()), key=lambda r: r[2])


def leads_any(*, session: Session, volunteer_id: int) -> list[int]:
    """The ids of the teams the person actively leads."""
    return list(session.exec(select(Membership.team_id).where(*active_leader(volunteer=volunteer_id))).all())


def unit_name(*, session: Session, team: Team) -> str:
    unit = session.get(Unit, team.unit_id)
    return unit.name if unit else ""


# --- helpers ------------------------------------------------------------------------------


def _open(session: Session, request_id: int) -> CorrectionRequest:
    request = session.get(CorrectionRequest, request_id)
    if request is None or request.status != "open":
        raise RequestError("not_open")
    return request


def _resolve(session: Session, request: CorrectionRequest, status: str, actor_id: int, answer: str | None,
             now: datetime, minutes: int | None = None) -> None:
    # The conditional update is the guard when two leaders answer at once: the second finds it answered.
    claimed = session.execute(
        CorrectionRequest.__table__.update()
        .where(CorrectionRequest.__table__.c.id == request.id, CorrectionRequest.__table__.c.status == "open")
        .values(status=status, resolved_by_id=actor_id, resolved_at=now, answer=answer, resolved_minutes=minutes,
                attendance_id=request.attendance_id))
    if claimed.rowcount != 1:
        raise RequestError("not_open")
    session.expire(request)
    audit.record(session=session, action=f"correction_request.{'accept' if status == 'accepted' else 'decline'}",
                 object_type="correction_request", object_id=request.id, actor_id=actor_id, team_id=request.team_id,
                 reason=answer, data={"old": {"status": "open"}, "new": {"status": status, "minutes": minutes},
                                      "volunteer_id": request.volunteer_id, "activity_id": request.activity_id})
    notify.send(session=session, volunteer_id=request.volunteer_id,
                kind="correction_accepted" if status == "accepted" else "correction_declined",
                activity_id=request.activity_id, params={"reason": answer} if answer else {})


def _text(raw: str | None, code: str) -> str:
    text = (raw or "").strip()
    if not text or len(text) > REASON_MAX:
        raise RequestError(code)
    return text


def hours_to_minutes(raw: str | None, activity: Activity) -> int | None:
    """Minutes from hours typed in a form ("1.5", empty: None); RequestError('bad_minutes') for anything else."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return round(float(text) * 60) if len(text) <= 8 and text.replace(".", "", 1).isdigit() else _bad(activity)
    except (ValueError, OverflowError):
        return _bad(activity)


def _bad(activity: Activity):
    raise RequestError("bad_minutes", max=f"{_limit(activity) / 60:g}")


def _limit(activity: Activity) -> int:
    return int((activity.ends_at - activity.starts_at).total_seconds() // 60)


def _minutes(activity: Activity, value: int | None, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _limit(activity):
        _bad(activity)
    return value
