"""Scanning an activity's code: /c/<token> (the scan page, the check-in / check-out button, refusal reports),
/c/result/<id>, and /healthz. A leader scanning a volunteer's personal code: checkin/personal.py.

GET never writes to the database. The scan time is kept in the cookie session ("pending_scan",
10 minutes) so that a scanner who must log in first, or who taps the button a little later, is judged
by the moment of the scan; it is good for one check-in (_used). Refusals are counted as described in
checkin/service.py.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from flask import (Response, abort, current_app, flash, redirect, render_template, request, session as http_session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from .. import tokens
from ..accounts.auth import parse_session_id
from ..db import get_engine, get_session, reads_first, write_transaction
from ..errors import DomainError, retry_after_seconds
from ..extensions import limiter, login_manager
from ..models import Activity, Attendance, Team, utcnow
from . import bp, participation, personal, scan_key, service  # noqa: F401 (personal: its routes are on bp)

PENDING_KEY = "pending_scan"
PENDING_FOR = timedelta(minutes=10)
DEVICE_COOKIE = "rv_device"
REFUSAL_STATUS = {"bad_token": 400, "token_future": 400, "token_expired": 410, "not_member": 403,
                  "not_participant": 403, "not_admitted": 403, "too_many_attempts": 429}


def _session_login() -> tuple[int, int] | None:
    """(volunteer id, session version) as the signed session cookie states them (flask-login's "_user_id"),
    or None. Not yet proof of a valid login: service.self_check_in confirms it against the database."""
    return parse_session_id(http_session.get("_user_id"))


def _count_breach(_limit) -> Response:
    """Too many attempts is a refusal too: count it and answer with the translated page."""
    return _refuse_and_count("too_many_attempts", _("Too many attempts. Please wait a minute and try again."),
                             token=None, activity_id=None)


# Keyed on the person, not the address: on a day of action thousands of phones share one carrier NAT address.
@limiter.limit("30 per minute", key_func=scan_key, on_breach=_count_breach)
def _count_attempt() -> None:
    """Count one refused or repeated check-in POST of this person; past the limit the limiter answers 429."""


@bp.get("/healthz")
def healthz():
    """Liveness for the load balancer (and the trivial endpoint of the check-in benchmark)."""
    return Response("ok", mimetype="text/plain")


@bp.get("/c/<token>")
@limiter.limit("120 per minute", key_func=scan_key)
def scan(token: str):
    """Validate a scanned activity code and show one big button (never writes)."""
    scanned_at = _scan_time(token, remember=True)
    session = get_session()
    try:
        activity = service.activity_for_token(session=session, token=token,
                                              secret_key=current_app.config["SECRET_KEY"], scanned_at=scanned_at)
        _require_scannable(activity)
    except DomainError as exc:
        return _refusal_page(exc.code, exc.message, token)
    context = {"activity": activity, "team": session.get(Team, activity.team_id), "token": token}
    if not current_user.is_authenticated:
        http_session["next"] = url_for("checkin.scan", token=token)
        response = Response(render_template("checkin/scan.html", state="login",
                                            can_register="accounts.register" in current_app.view_functions,
                                            **context))
        return _with_device_cookie(response)
    refused = _participation_refusal(activity, current_user.id, "self_scan")
    if refused is not None:
        return _refusal_page(refused, str(service.CheckinError.messages[refused]), token)
    attendance = service.attendance_of(session=session, activity_id=activity.id, volunteer_id=current_user.id)
    state = _state(attendance)
    response = Response(render_template("checkin/scan.html", state=state, attendance=attendance,
                                        geo=activity.radius_m is not None, **context))
    return _with_device_cookie(response)


@bp.post("/c/<token>")
@reads_first
def scan_post(token: str):
    """Do what the button said: check in or check out (CSRF-protected).

    A check-in is the hot path of a day of action and runs on the driver path (service.self_check_in): the
    login is read from the signed session cookie and confirmed by the same query that reads the activity and
    the membership, then one insert in a short write transaction. Everything else (check-out, refusals,
    repeats) takes the ordinary way, with flask-login's current_user. Refused and repeated attempts count
    against a per-person limit (_count_attempt); a new check-in never does: each one is a distinct
    attendance the person is entitled to, and the unique constraint bounds them.
    """
    login = _session_login()
    if login is None:  # no login in the session: flask-login may still restore one from the remember-me cookie
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        login = (current_user.id, current_user.session_version)
    action = request.form.get("action", "")
    try:
        expected = int(request.form.get("activity", ""))
    except ValueError:
        expected = None
    activity_id = None
    try:
        if action == "out":
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            scanned_at = _scan_time(token, remember=False)
            gate = service.gate_for_token(session=get_session(), token=token,
                                          secret_key=current_app.config["SECRET_KEY"], scanned_at=scanned_at,
                                          volunteer_id=current_user.id, expected_activity_id=expected)
            activity_id = gate.id
            with write_transaction() as session:
                service.check_out(session=session, activity_id=activity_id, volunteer_id=current_user.id)
            flash(_("You are checked out. Thank you for your service!"), "success")
        else:
            now = utcnow()  # a used kept scan means the person is in already, which the insert answers
            scanned_at = kept_scan(http_session, token, now) or now
            try:
                checked_in = service.self_check_in(
                    engine=get_engine(), token=token, secret_key=current_app.config["SECRET_KEY"],
                    scanned_at=scanned_at, volunteer_id=login[0], session_version=login[1],
                    expected_activity_id=expected, device_hash=_device_hash(), geo=_geo_from_form())
            except service.NotWritten as not_written:
                activity_id = not_written.planned["activity_id"]
                service.raise_not_inserted(session=get_session(), planned=not_written.planned)
            if checked_in is None:  # the login has ended (logged out elsewhere, account closed)
                logout_user()
                return login_manager.unauthorized()
            activity_id = checked_in.activity_id
    except DomainError as exc:  # CheckinError, TokenError
        if not current_user.is_authenticated:  # a refusal is told only to a valid login
            return login_manager.unauthorized()
        if exc.code in ("already_checked_in", "already_checked_out"):
            _count_attempt()
            flash(exc.message, "info")
            return redirect(url_for("checkin.result", activity_id=activity_id), code=303)
        return _refuse_and_count(exc.code, exc.message, token=token, activity_id=activity_id, attempt=True)
    return redirect(url_for("checkin.result", activity_id=activity_id), code=303)


@bp.post("/c/<token>/refusal")
@limiter.limit("30 per minute", key_func=scan_key)
def report_refusal(token: str):
    """The refusal page reports itself here; the server re-derives the code from the token (never trusts it)."""
    session = get_session()
    scanned_at = _scan_time(token, remember=False)
    activity_id = None
    code = None
    try:
        activity = service.activity_for_token(session=session, token=token,
                                              secret_key=current_app.config["SECRET_KEY"], scanned_at=scanned_at)
        activity_id = activity.id
        _require_scannable(activity)
        if current_user.is_authenticated:
            code = _participation_refusal(activity, current_user.id, "self_scan")
    except DomainError as exc:
        code = exc.code
    if code is not None:
        service.record_refusal(session=session, code=code, activity_id=activity_id,
                               volunteer_id=current_user.id if current_user.is_authenticated else None)
    return Response(status=204)


@bp.get("/c/result/<int:activity_id>")
@login_required
def result(activity_id: int):
    """My attendance at this activity after a scan (only my own record is shown)."""
    session = get_session()
    activity = session.get(Activity, activity_id)
    attendance = service.attendance_of(session=session, activity_id=activity_id, volunteer_id=current_user.id) \
        if activity is not None else None
    if attendance is None:
        abort(404)
    return render_template("checkin/result.html", activity=activity, attendance=attendance,
                           state=_state(attendance), team=session.get(Team, activity.team_id))


# --- helpers ------------------------------------------------------------------------------


def _scan_time(token: str, *, remember: bool) -> datetime:
    """When this token was scanned: the kept scan of the same token (≤ 10 min old) unless it has been used, else
    now (kept as a new scan of the token when remember is set)."""
    now = utcnow()
    kept = kept_scan(http_session, token, now)
    if kept is not None and not _used(token, kept):
        return kept
    if remember and len(token) <= tokens.MAX_TOKEN_LENGTH:
        http_session[PENDING_KEY] = {"token": token, "scanned_at": now.timestamp()}
    return now


def kept_scan(session: Mapping, token: str, now: datetime) -> datetime | None:
    """The time of the scan of this token that the session keeps, if it is at most 10 minutes old."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("token") != token:
        return None
    try:
        scanned_at = datetime.fromtimestamp(float(pending.get("scanned_at")), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return scanned_at if timedelta(0) <= now - scanned_at <= PENDING_FOR else None


def _used(token: str, scanned_at: datetime) -> bool:
    """A kept scan is good for one check-in: once the person has checked in to its activity after it, a later
    request is judged by its own time. The session is not rewritten to drop the scan, so that a check-in
    answers without a new cookie; the attendance tells instead."""
    if not current_user.is_authenticated:
        return False
    try:
        activity_id = tokens.parse_activity_token(token).activity_id
    except tokens.TokenError:
        return False
    attendance = service.attendance_of(session=get_session(), activity_id=activity_id, volunteer_id=current_user.id)
    return attendance is not None and attendance.checked_in_at >= scanned_at


def _require_scannable(activity: Activity) -> None:
    if activity.status != "open":
        raise service.CheckinError({"scheduled": "not_open"}.get(activity.status, activity.status))


def _state(attendance: Attendance | None) -> str:
    if attendance is None:
        return "in"
    if attendance.voided_at is not None:
        return "voided"
    if attendance.checked_out_at is None:
        return "out"
    return "done"


def _refusal_page(code: str, message: str, token: str | None):
    status = REFUSAL_STATUS.get(code, 409)
    report = url_for("checkin.report_refusal", token=token) if token and request.method == "GET" else None
    headers = {"Retry-After": str(retry_after_seconds())} if status == 429 else {}
    return render_template("checkin/refused.html", code=code, message=message, report_url=report,
                           heading=_refusal_heading()), status, headers


def _refusal_heading() -> str:
    """What did not happen: a refused button says which one; a refused scan (GET) may have been either."""
    if request.method != "POST":
        return _("Scan not accepted")
    return _("Not checked out") if request.form.get("action") == "out" else _("Not checked in")


def _refuse_and_count(code: str, message: str, *, token: str | None, activity_id: int | None,
                      attempt: bool = False):
    """Answer a refused POST and count it (nothing else of the request is kept).

    An attempt (a refused check-in POST) counts against the person's limit first: past it the answer is
    "too many attempts" (counted once per breach by _count_breach) instead.
    """
    get_session().rollback()
    if attempt:
        _count_attempt()
    with write_transaction() as session:
        service.record_refusal(session=session, code=code, activity_id=activity_id,
                               volunteer_id=current_user.id if current_user.is_authenticated else None)
    return _refusal_page(code, message, token)


def _device_hash() -> str | None:
    return device_hash(request.cookies.get(DEVICE_COOKIE), current_app.config["SECRET_KEY"])


def device_hash(raw: str | None, secret_key: str) -> str | None:
    """A keyed hash of the browser's long-lived random cookie (its value raw): many people from one phone shows up."""
    if not raw or len(raw) > 64:
        return None
    return hmac.new(secret_key.encode(), b"device:" + raw.encode(), hashlib.sha256).hexdigest()[:32]


def _with_device_cookie(response: Response) -> Response:
    if not request.cookies.get(DEVICE_COOKIE):
        response.set_cookie(DEVICE_COOKIE, secrets.token_urlsafe(16), max_age=2 * 365 * 24 * 3600,
                            httponly=True, samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE"))
    return response


def _geo_from_form() -> tuple | None:
    return geo_from(request.form)


def geo_from(form: Mapping) -> tuple | None:
    """(lat, lng, accuracy) as the button's script sent them in form, or None; the service judges the values."""
    values = [form.get(k, "") for k in ("lat", "lng", "acc")]
    if not all(values):
        return None
    try:
        return tuple(float(v[:32]) for v in values)
    except ValueError:
        return None


def _participation_refusal(activity: Activity, volunteer_id: int, method: str) -> str | None:
    """Why volunteer_id may not be recorded at activity by method (checkin/participation.py), or None."""
    return participation.refusal_for(get_session(), team_id=activity.team_id, volunteer_id=volunteer_id,
                                     members_only=activity.members_only, method=method,
                                     activity_id=activity.id, admitted_only=activity.admitted_only)
