"""Check-in and check-out: the one place where attendances are created live. Every function takes a keyword-only
`session` (or the engine, for the driver path), only flushes, and raises CheckinError / TokenError with a stable code.

A check-in = read_gate (one query: the activity, membership, leadership) + plan_check_in (every rule, no database)
+ apply_check_in (one INSERT ... SELECT ... ON CONFLICT DO NOTHING that writes only while the activity is open).
The volunteer's own scan (POST /c/<token>) runs the same gate and insert as DirectStatements on a pooled driver
connection (self_check_in; docs/PERFORMANCE.md says why). The unique (activity_id, volunteer_id) constraint is
the guard against double counting: a repeat writes nothing and answers "already checked in at 09:02". On
PostgreSQL the check-in and the check-out hold a share lock on the activity row, so a concurrent close is
serialised with them; on SQLite every write transaction is serial anyway (BEGIN IMMEDIATE).

Who may take part (team members, admitted sign-ups, a suspended team...) is decided in checkin/participation.py;
its refusal codes are CheckinError codes like the rest. Check-in and check-out never touch the activity's
attendee_count/total_minutes (its closed tally, set when it closes), so a crowd does not queue on one row.
Refused scans are counted in ScanRefusal (record_refusal); a GET never writes: the refusal page reports itself
to POST /c/<token>/refusal, which re-derives the code.
"""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, NoReturn
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Engine, Row, bindparam, exists, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from .. import tokens
from ..accounts.auth import valid_login
from ..db import DirectStatement, driver_connection, driver_write
from ..errors import DomainError
from ..models import Activity, Attendance, ScanRefusal, utcnow
from ..teams.rules import active_leader, is_active_leader
from . import participation
from .geo import geo_status

SELF_AND_LEADER_METHODS = ("self_scan", "leader_scan", "leader_manual")
# An open activity accepts check-ins from this long before its start (people come early).
EARLY_MARGIN_SECONDS = 60 * 60
# ...and until this long after its end, if the leader has not closed it yet.
LATE_MARGIN_SECONDS = 60 * 60
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
        **participation.MESSAGES,
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
    """Check a volunteer in to an open activity, exactly once: read_gate, plan_check_in, apply_check_in."""
    gate = read_gate(session=session, activity_id=activity_id, volunteer_id=volunteer_id, recorded_by_id=recorded_by_id)
    try:
        planned = plan_check_in(gate=gate, volunteer_id=volunteer_id, method=method, recorded_by_id=recorded_by_id,
                                at=at, device_hash=device_hash, geo=geo)
    except CheckinError as error:
        # Someone from outside the team who came in with a code is in already: say so, not "members only".
        existing = attendance_of(session=session, activity_id=activity_id, volunteer_id=volunteer_id) \
            if error.code == "members_by_name" else None
        if existing is None:
            raise
        _raise_existing(existing)
    return session.get(Attendance, apply_check_in(session=session, planned=planned))


def read_gate(*, session: Session, activity_id: int, volunteer_id: int, recorded_by_id: int | None = None) -> Row | None:
    """What a check-in needs to know, in one query: the activity's window, status, fence and secret, whether
    the volunteer may take part (participation.columns), and whether the recorder is an active leader of it."""
    params = {"activity_id": activity_id, "volunteer_id": volunteer_id, "recorded_by_id": recorded_by_id}
    return session.connection().execute(_GATE, params).first()


def plan_check_in(
    *,
    gate: Row | None,
    volunteer_id: int,
    method: str,
    recorded_by_id: int | None = None,
    at: datetime | None = None,
    device_hash: str | None = None,
    geo: tuple | None = None,
) -> dict:
    """Every rule of a check-in, judged on a gate row (read_gate): the attendance row apply_check_in will write.

    No database access: a view can read the gate in a read transaction and write in a short second one.
    """
    at = at or utcnow()
    if method not in SELF_AND_LEADER_METHODS:
        raise CheckinError("bad_method")
    if gate is None:
        raise CheckinError("no_activity")
    _require_open(gate, at)
    if method != "self_scan" and (recorded_by_id is None or not gate.recorder_leads):
        raise CheckinError("not_leader")
    refused = participation.refusal(gate, members_only=gate.members_only, method=method,
                                    admitted_only=gate.admitted_only)
    if refused is not None:
        raise CheckinError(refused)
    # No look-up of an existing attendance here: the unique constraint answers repeats in apply_check_in,
    # which saves a query on the common path (a new attendance).
    status, accuracy = geo_status(gate, geo)
    return {
        "activity_id": gate.id,
        "volunteer_id": volunteer_id,
        "checked_in_at": at,
        "checkout_auto": False,
        "credited_minutes": 0,
        "method": method,
        "recorded_by_id": recorded_by_id if method != "self_scan" else volunteer_id,
        "created_at": min(at, utcnow()),
        "device_hash": device_hash,
        "geo_status": status,
        "geo_accuracy_m": accuracy,
    }


def apply_check_in(*, session: Session, planned: dict) -> int:
    """Write a planned attendance, if its activity is still open; the new attendance's id.

    One statement, INSERT ... SELECT ... ON CONFLICT DO NOTHING: the row is written only while the activity's
    status is 'open' and only if the person is not in yet (the unique constraint, also against a concurrent
    request). Otherwise nothing is written and the answer says why ("already checked in at 09:02", closed...).
    On PostgreSQL the SELECT takes a share lock on the activity row, so a concurrent close either waits for
    this check-in (and then checks it out and counts it) or makes it wait and refuse. The activity's counters
    are not touched: they are its closed tally, set when it closes (no hot row for a crowd to queue on).
    """
    connection = session.connection()
    insert_new = _INSERT_NEW["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
    attendance_id = connection.execute(insert_new, planned).scalar()
    if attendance_id is not None:
        return attendance_id
    raise_not_inserted(session=session, planned=planned)


def raise_not_inserted(*, session: Session, planned: dict) -> NoReturn:
    """Say why a planned attendance was not written: already in (at 09:02), voided, or the activity not open."""
    existing = attendance_of(session=session, activity_id=planned["activity_id"], volunteer_id=planned["volunteer_id"])
    if existing is not None:
        _raise_existing(existing)
    status = session.connection().execute(_ACTIVITY_STATUS, {"activity_id": planned["activity_id"]}).scalar()
    raise CheckinError({"scheduled": "not_open", None: "no_activity"}.get(status, status or "not_open"))


class CheckedIn(NamedTuple):
    """What self_check_in wrote."""

    activity_id: int
    attendance_id: int


class NotWritten(Exception):
    """self_check_in wrote nothing although every rule passed (the person was in already, or the activity
    closed meanwhile): `planned` is the row, for raise_not_inserted to say why."""

    def __init__(self, planned: dict):
        super().__init__("attendance not written")
        self.planned = planned


def self_check_in(
    *,
    engine: Engine,
    token: str,
    secret_key: str,
    scanned_at: datetime,
    volunteer_id: int,
    session_version: int,
    expected_activity_id: int | None = None,
    device_hash: str | None = None,
    geo: tuple | None = None,
) -> CheckedIn | None:
    """The volunteer's own check-in by a scanned token, on the driver path: the activity and the new attendance.

    The day-of-action hot path (POST /c/<token>), equal in its rules to gate_for_token + plan_check_in +
    apply_check_in: one read (the gate, which also confirms that this login is still valid: account
    active, not deleted, same session version) and one insert, each a DirectStatement on one pooled
    connection in autocommit mode, the insert a write transaction of its own (db.driver_write). Returns None when the login
    is no longer valid (the caller sends the person to log in); raises TokenError / CheckinError like
    gate_for_token and plan_check_in, and NotWritten when the insert wrote nothing.
    """
    parsed = tokens.parse_activity_token(token)
    dialect = engine.dialect
    with driver_connection(engine) as connection:
        cursor = connection.cursor()
        gate = _SELF_GATE.first(cursor, dialect, {"activity_id": parsed.activity_id, "volunteer_id": volunteer_id,
                                                  "recorded_by_id": None, "session_version": session_version})
        if gate is not None and not gate.login_valid:
            return None
        _check_token(parsed, gate, secret_key=secret_key, scanned_at=scanned_at,
                     expected_activity_id=expected_activity_id)
        planned = plan_check_in(gate=gate, volunteer_id=volunteer_id, method="self_scan",
                                device_hash=device_hash, geo=geo)
        row = driver_write(engine, connection, _INSERT_NEW_DIRECT[dialect.name], planned)
    if row is None:
        raise NotWritten(planned)
    return CheckedIn(activity_id=gate.id, attendance_id=row.id)


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
    # A share lock on the activity row (PostgreSQL; SQLite writers are serial anyway): a concurrent close
    # waits for this check-out, or this check-out waits for the close and is refused.
    activity = session.get(Activity, activity_id, with_for_update={"read": True})
    if activity is None:
        raise CheckinError("no_activity")
    if activity.status != "open":
        raise CheckinError({"scheduled": "not_open"}.get(activity.status, activity.status))
    if recorded_by_id is not None and recorded_by_id != volunteer_id \
            and not is_active_leader(session, activity.team_id, recorded_by_id):
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
    done = session.execute(
        update(Attendance)
        .where(Attendance.id == attendance.id, Attendance.checked_out_at.is_(None), Attendance.voided_at.is_(None))
        .values(checked_out_at=at, credited_minutes=minutes)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire(attendance)
    if not done:  # a concurrent request checked out first
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
    _check_token(parsed, activity, secret_key=secret_key, scanned_at=scanned_at,
                 expected_activity_id=expected_activity_id)
    return activity


def gate_for_token(
    *,
    session: Session,
    token: str,
    secret_key: str,
    scanned_at: datetime,
    volunteer_id: int,
    expected_activity_id: int | None = None,
) -> Row:
    """Like activity_for_token, but the gate row of read_gate (one query; the check-in POST's read)."""
    parsed = tokens.parse_activity_token(token)
    gate = read_gate(session=session, activity_id=parsed.activity_id, volunteer_id=volunteer_id)
    _check_token(parsed, gate, secret_key=secret_key, scanned_at=scanned_at,
                 expected_activity_id=expected_activity_id)
    return gate


def _check_token(parsed, activity, *, secret_key: str, scanned_at: datetime, expected_activity_id: int | None) -> None:
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


def record_refusal(*, session: Session, code: str, activity_id: int | None = None,
                   volunteer_id: int | None = None) -> None:
    """Count one refused scan."""
    session.add(ScanRefusal(code=code[:40], activity_id=activity_id, volunteer_id=volunteer_id))
    session.flush()


# --- helpers ------------------------------------------------------------------------------


def _require_open(activity, at: datetime) -> None:
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


_a = Activity.__table__.c
_GATE = select(
    _a.id, _a.team_id, _a.status, _a.starts_at, _a.ends_at, _a.members_only, _a.admitted_only, _a.lat, _a.lng,
    _a.radius_m, _a.secret, *participation.columns(_a.team_id, bindparam("volunteer_id"), _a.id),
    exists().where(*active_leader(team=_a.team_id, volunteer=bindparam("recorded_by_id"))).label("recorder_leads"),
).where(_a.id == bindparam("activity_id"))
_SELF_GATE = DirectStatement(_GATE.add_columns(
    exists().where(*valid_login(bindparam("volunteer_id"), bindparam("session_version"))).label("login_valid")))
_ACTIVITY_STATUS = select(_a.status).where(_a.id == bindparam("activity_id"))
_t = Attendance.__table__
_NEW_ROW = ("activity_id", "volunteer_id", "checked_in_at", "checkout_auto", "credited_minutes", "method",
            "recorded_by_id", "created_at", "device_hash", "geo_status", "geo_accuracy_m")
_OPEN_ACTIVITY_ROW = select(_a.id, *(bindparam(c, type_=_t.c[c].type) for c in _NEW_ROW[1:])).where(
    _a.id == bindparam("activity_id"), _a.status == "open")
_INSERT_NEW = {
    name: dialect_insert(_t).from_select(_NEW_ROW, select_)
    .on_conflict_do_nothing(index_elements=[_t.c.activity_id, _t.c.volunteer_id]).returning(_t.c.id)
    for name, dialect_insert, select_ in (("sqlite", sqlite_insert, _OPEN_ACTIVITY_ROW),
                                          ("postgresql", postgresql_insert, _OPEN_ACTIVITY_ROW.with_for_update(read=True)))
}
_INSERT_NEW_DIRECT = {name: DirectStatement(statement) for name, statement in _INSERT_NEW.items()}


def _hhmm(value: datetime) -> str:
    return value.astimezone(_DISPLAY_TZ).strftime("%H:%M")
