"""Check-in and check-out: the one place where attendances are created live.

Public functions (keyword-only `session`; they only flush; errors are CheckinError / TokenError with stable codes):

    check_in(*, session, activity_id, volunteer_id, method, recorded_by_id=None, at=None,
             device_hash=None, geo=None) -> Attendance
        method: "self_scan" | "leader_scan" | "leader_manual". geo: (lat, lng, accuracy_m) or None.
        Codes: no_activity, not_open, closed, cancelled, not_started, ended, not_member, not_leader,
        bad_method, already_checked_in (params: time), voided.
        = apply_check_in(session=, attendance=plan_check_in(same arguments)): the reads, then the write.
    check_out(*, session, activity_id, volunteer_id, at=None, recorded_by_id=None) -> Attendance
        Codes: no_activity, not_open, closed, cancelled, not_checked_in, already_checked_out (params: time),
        voided, bad_time.
    activity_for_token(*, session, token, secret_key, scanned_at, expected_activity_id=None) -> Activity
        Codes: bad_token, token_expired, token_future, not_started, ended, wrong_activity.
    attendance_of(*, session, activity_id, volunteer_id) -> Attendance | None
    credited_minutes(checked_in_at, checked_out_at, starts_at, ends_at) -> int
    geo_status(activity, geo) -> tuple[str | None, int | None]
    record_refusal(*, session, code, activity_id=None, volunteer_id=None) -> None

Never double-counted: the unique (activity_id, volunteer_id) constraint is the guard. The insert runs in a
SAVEPOINT; when a concurrent request won, the IntegrityError is caught and answered "already checked in at
09:02". The activity's denormalised counters are changed by relative UPDATEs guarded by `status = 'open'`:
on PostgreSQL that row update also serialises a check-in against a concurrent close (the loser re-reads the
status and is refused), so attendee_count and total_minutes always equal the sum of the non-voided
attendances; on SQLite every write transaction is already serial (BEGIN IMMEDIATE).

Refused scans are counted in ScanRefusal. GET /c/<token> never writes to the database: a refusal found on
the GET is reported by the page itself (static/checkin.js POSTs it to /c/<token>/refusal, where the server
re-validates the token and derives the code itself, so the count cannot be forged), and a refusal found by
a check-in POST is recorded by that POST. We chose this over writing a "log row" on GET because a GET that
writes takes SQLite's write lock and would let a flood of scanned garbage compete with real check-ins; a
scanner's phone always runs the page's script, so people who saw a refusal are counted.
"""
from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from ..errors import DomainError
from ..models import Activity, Attendance, Membership, ScanRefusal, utcnow
from . import tokens

SELF_AND_LEADER_METHODS = ("self_scan", "leader_scan", "leader_manual")
_INSERT_COLUMNS = ("activity_id", "volunteer_id", "checked_in_at", "checkout_auto", "credited_minutes", "method",
                   "recorded_by_id", "created_at", "device_hash", "geo_status", "geo_accuracy_m")
# An open activity accepts check-ins from this long before its start (people come early).
EARLY_MARGIN_SECONDS = 60 * 60
# ...and until this long after its end, if the leader has not closed it yet.
LATE_MARGIN_SECONDS = 60 * 60
# Beyond this accuracy a position says nothing about the fence.
MAX_USEFUL_ACCURACY_M = 2000
_DISPLAY_TZ = ZoneInfo("Asia/Shanghai")


class CheckinError(DomainError):
    """A check-in or check-out that cannot be done; `code` is stable."""

    status = 409
    messages = {
        "no_activity": _l("This activity does not exist."),
        "not_open": _l("This activity is not open for check-in yet. Ask the leader to open it."),
        "closed": _l("This activity is closed. Ask the leader if your attendance is missing."),
        "cancelled": _l("This activity was cancelled."),
        "not_started": _l("Check-in for this activity has not started yet."),
        "ended": _l("This activity has already ended."),
        "not_member": _l("This activity is for members of the team only."),
        "not_leader": _l("Only a leader of the team can do this."),
        "bad_method": _l("This way of recording an attendance is not allowed here."),
        "already_checked_in": _l("You are already checked in (at %(time)s)."),
        "already_checked_out": _l("You are already checked out (at %(time)s)."),
        "not_checked_in": _l("You have not checked in to this activity."),
        "voided": _l("This attendance was voided by the team. Ask the leader."),
        "bad_time": _l("The check-out time cannot be before the check-in time."),
        "wrong_activity": _l("This code belongs to another activity. Scan the code of this activity."),
    }


def check_in(
    *,
    session: Session,
    activity_id: int,
    volunteer_id: int,
    method: str,
    recorded_by_id: int | None = None,
    at: datetime | None = None,
    device_hash: str | None = None,
    geo: tuple | None = None,
) -> Attendance:
    """Check a volunteer in to an open activity, exactly once (plan_check_in, then apply_check_in)."""
    attendance = plan_check_in(session=session, activity_id=activity_id, volunteer_id=volunteer_id, method=method,
                               recorded_by_id=recorded_by_id, at=at, device_hash=device_hash, geo=geo)
    return apply_check_in(session=session, attendance=attendance)


def plan_check_in(
    *,
    session: Session,
    activity_id: int,
    volunteer_id: int,
    method: str,
    recorded_by_id: int | None = None,
    at: datetime | None = None,
    device_hash: str | None = None,
    geo: tuple | None = None,
) -> Attendance:
    """Every check that only reads: the unsaved Attendance that apply_check_in will write.

    The check-in view ends its read transaction between the two calls, so that on SQLite the write
    transaction (and its lock) lasts only for the two statements of apply_check_in.
    """
    at = at or utcnow()
    if method not in SELF_AND_LEADER_METHODS:
        raise CheckinError("bad_method")
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise CheckinError("no_activity")
    _require_open(activity, at)
    if method != "self_scan" and (recorded_by_id is None or not is_leader(session, activity.team_id, recorded_by_id)):
        raise CheckinError("not_leader")
    if activity.members_only and not is_member(session, activity.team_id, volunteer_id):
        raise CheckinError("not_member")
    # No look-up of an existing attendance here: the unique constraint answers repeats in apply_check_in,
    # which saves a query on the common path (a new attendance).
    status, accuracy = geo_status(activity, geo)
    now = utcnow()
    return Attendance(
        activity_id=activity_id,
        volunteer_id=volunteer_id,
        checked_in_at=at,
        method=method,
        recorded_by_id=recorded_by_id if method != "self_scan" else volunteer_id,
        created_at=min(at, now),
        device_hash=device_hash,
        geo_status=status,
        geo_accuracy_m=accuracy,
    )


def apply_check_in(*, session: Session, attendance: Attendance) -> Attendance:
    """Write a planned attendance: the counter update (guarded by status = 'open') and the insert.

    The first statement is a write, so a SQLite transaction begun here takes the write lock at once
    and never has to upgrade a read snapshot. A concurrent duplicate hits the unique constraint.
    """
    activity_id, volunteer_id = attendance.activity_id, attendance.volunteer_id
    try:
        with session.begin_nested():
            # Prebuilt Core statements on the session's connection: building and ORM-compiling a statement
            # per request costs more than running it on this hot path.
            connection = session.connection()
            bumped = connection.execute(_BUMP_ATTENDEES, {"activity_id": activity_id}).rowcount
            if not bumped:
                status = session.exec(select(Activity.status).where(Activity.id == activity_id)).first()
                raise CheckinError({"scheduled": "not_open", None: "no_activity"}.get(status, status or "not_open"))
            values = {c: getattr(attendance, c) for c in _INSERT_COLUMNS}
            attendance.id = connection.execute(_INSERT_ATTENDANCE, values).inserted_primary_key[0]
    except IntegrityError:
        # A concurrent request checked the same person in first: answer with its time.
        existing = attendance_of(session=session, activity_id=activity_id, volunteer_id=volunteer_id)
        if existing is None:
            raise
        _raise_existing(existing)
    make_transient_to_detached(attendance)  # the row exists: make the object a normal persistent one
    session.add(attendance)
    activity = session.get(Activity, activity_id)
    if activity is not None:
        session.expire(activity, ["attendee_count"])
    return attendance


def check_out(
    *,
    session: Session,
    activity_id: int,
    volunteer_id: int,
    at: datetime | None = None,
    recorded_by_id: int | None = None,
) -> Attendance:
    """Check a volunteer out and credit the minutes inside the activity window."""
    at = at or utcnow()
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise CheckinError("no_activity")
    if activity.status != "open":
        raise CheckinError({"scheduled": "not_open"}.get(activity.status, activity.status))
    if recorded_by_id is not None and recorded_by_id != volunteer_id \
            and not is_leader(session, activity.team_id, recorded_by_id):
        raise CheckinError("not_leader")
    attendance = attendance_of(session=session, activity_id=activity_id, volunteer_id=volunteer_id)
    if attendance is None:
        raise CheckinError("not_checked_in")
    if attendance.voided_at is not None:
        raise CheckinError("voided")
    if attendance.checked_out_at is not None:
        raise CheckinError("already_checked_out", time=_hhmm(attendance.checked_out_at))
    if at < attendance.checked_in_at:
        raise CheckinError("bad_time")
    minutes = credited_minutes(attendance.checked_in_at, at, activity.starts_at, activity.ends_at)
    with session.begin_nested():
        done = session.execute(
            update(Attendance)
            .where(Attendance.id == attendance.id, Attendance.checked_out_at.is_(None), Attendance.voided_at.is_(None))
            .values(checked_out_at=at, credited_minutes=minutes)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done:
            done = session.execute(
                update(Activity)
                .where(Activity.id == activity_id, Activity.status == "open")
                .values(total_minutes=Activity.total_minutes + minutes)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not done:
                raise CheckinError("closed")
    session.expire(attendance)
    session.expire(activity, ["total_minutes"])
    if not done:
        session.refresh(attendance)
        raise CheckinError("already_checked_out", time=_hhmm(attendance.checked_out_at or at))
    return attendance


def activity_for_token(
    *,
    session: Session,
    token: str,
    secret_key: str,
    scanned_at: datetime,
    expected_activity_id: int | None = None,
) -> Activity:
    """The activity a genuine, current token points to (TokenError / CheckinError otherwise)."""
    parsed = tokens.parse_activity_token(token)
    activity = session.get(Activity, parsed.activity_id)
    if activity is None:
        raise tokens.TokenError("bad_token")
    tokens.verify_activity_token(
        parsed,
        secret_key=secret_key,
        activity_secret=activity.secret,
        scanned_at=scanned_at,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
    )
    if expected_activity_id is not None and expected_activity_id != activity.id:
        raise CheckinError("wrong_activity")
    return activity


def attendance_of(*, session: Session, activity_id: int, volunteer_id: int) -> Attendance | None:
    """The attendance of this volunteer at this activity, voided or not."""
    return session.exec(
        select(Attendance).where(Attendance.activity_id == activity_id, Attendance.volunteer_id == volunteer_id)
    ).first()


def credited_minutes(checked_in_at: datetime, checked_out_at: datetime, starts_at: datetime, ends_at: datetime) -> int:
    """Whole minutes of [check-in, check-out] that lie inside the activity window."""
    start = max(checked_in_at, starts_at)
    end = min(checked_out_at, ends_at)
    if end <= start:
        return 0
    return int((end - start).total_seconds() // 60)


def geo_status(activity: Activity, geo: tuple | None) -> tuple[str | None, int | None]:
    """('inside' | 'outside' | 'unknown', accuracy in m) for a fenced activity; (None, None) without a fence.

    Only the verdict and the accuracy are kept, never the coordinates. Nonsense (NaN, infinities, out of
    range, accuracy ≤ 0) and positions too vague to judge count as unknown: a signal, not a refusal.
    """
    if activity.lat is None or activity.lng is None or not activity.radius_m:
        return None, None
    try:
        lat, lng, accuracy = (float(v) for v in geo) if geo is not None else (None, None, None)
    except (TypeError, ValueError):
        return "unknown", None
    if lat is None or not all(math.isfinite(v) for v in (lat, lng, accuracy)):
        return "unknown", None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or accuracy <= 0:
        return "unknown", None
    stored_accuracy = int(min(accuracy, 1_000_000))
    if accuracy > MAX_USEFUL_ACCURACY_M:
        return "unknown", stored_accuracy
    distance = _distance_m(activity.lat, activity.lng, lat, lng)
    return ("inside" if distance <= activity.radius_m else "outside"), stored_accuracy


def record_refusal(*, session: Session, code: str, activity_id: int | None = None,
                   volunteer_id: int | None = None) -> None:
    """Count one refused scan."""
    session.add(ScanRefusal(code=code[:40], activity_id=activity_id, volunteer_id=volunteer_id))
    session.flush()


# --- helpers ------------------------------------------------------------------------------


def _require_open(activity: Activity, at: datetime) -> None:
    if activity.status != "open":
        raise CheckinError({"scheduled": "not_open"}.get(activity.status, activity.status))
    if (activity.starts_at - at).total_seconds() > EARLY_MARGIN_SECONDS:
        raise CheckinError("not_started")
    if (at - activity.ends_at).total_seconds() > LATE_MARGIN_SECONDS:
        raise CheckinError("ended")


def _raise_existing(existing: Attendance) -> None:
    if existing.voided_at is not None:
        raise CheckinError("voided")
    raise CheckinError("already_checked_in", time=_hhmm(existing.checked_in_at))


def is_member(session: Session, team_id: int, volunteer_id: int) -> bool:
    """An active member (or leader) of the team."""
    params = {"team_id": team_id, "volunteer_id": volunteer_id}
    return session.connection().execute(_ACTIVE_MEMBER, params).first() is not None


def is_leader(session: Session, team_id: int, volunteer_id: int) -> bool:
    """An active leader of the team."""
    params = {"team_id": team_id, "volunteer_id": volunteer_id}
    return session.connection().execute(_ACTIVE_LEADER, params).first() is not None


_member_where = (Membership.team_id == bindparam("team_id"), Membership.volunteer_id == bindparam("volunteer_id"),
                 Membership.status == "active")
_ACTIVE_MEMBER = select(Membership.id).where(*_member_where).limit(1)
_ACTIVE_LEADER = select(Membership.id).where(*_member_where, Membership.role == "leader").limit(1)
_BUMP_ATTENDEES = (
    update(Activity.__table__)
    .where(Activity.__table__.c.id == bindparam("activity_id"), Activity.__table__.c.status == "open")
    .values(attendee_count=Activity.__table__.c.attendee_count + 1)
)
_INSERT_ATTENDANCE = insert(Attendance.__table__)


def _hhmm(value: datetime) -> str:
    return value.astimezone(_DISPLAY_TZ).strftime("%H:%M")


def _distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(h)))
