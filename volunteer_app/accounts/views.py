"""Login, registration, reset links, my record and the office's person search."""
from __future__ import annotations

import base64

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request,
                   session as http_session, url_for)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from ..db import commit, get_session
from ..extensions import limiter
from ..i18n import is_safe_redirect
from ..models import Volunteer
from ..qr import qr_png
from ..units import office_scope, unit_choices, unit_label
from ..web import office_or_404, page_arg, paginate, parse_id, wants_fragment
from .auth import User
from .codes import COUNTED, CodeError
from .forms import CodeRequestForm, LoginForm, PersonSearchForm, RegisterForm, ResetPasswordForm
from .pending import forget_pending, pending_phone, render_step_one, wait_seconds
from .phone import normalise_phone
from .text_size import adopt_device_choice
from .service import (AccountError, attendance_history, authenticate, end_sessions, issue_password_reset, my_record,
                      person_in_scope, register_volunteer, reset_for_token, search_people, use_password_reset)

bp = Blueprint("accounts", __name__)

# Keys in the cookie session that survive logging in: a pending scan or invite is kept.
KEPT_ON_LOGIN = ("pending_scan", "pending_invite", "next")
_SESSION_VERSION_OF_PHONE = select(Volunteer.__table__.c.session_version).where(
    Volunteer.__table__.c.phone == bindparam("phone"))


def _number_and_address(action: str):
    """Rate-limit key: the phone number of the form and the address. Guessing one account's password (or
    registering one number again and again) stays limited, while a crowd behind one carrier address (a
    registration drive) is not. Any spelling of a number counts as that number.

    A login's count also names the account's session version: someone behind the victim's carrier address can
    spend the victim's tries, but once the owner proves the number is theirs (a password reset through a reset
    link bumps the version) the count starts again, instead of only after the hour.

    Never raises: the limiter would take an exception for its storage failing and fall back to counting per
    process (an oversized body would then weaken the limits of every server). The view answers such a body."""

    def key() -> str:
        try:
            phone = normalise_phone(request.form.get("phone"))
        except HTTPException:  # the body is refused (e.g. too large)
            phone = None
        if phone and action == "login":
            phone = f"{phone}.{_login_generation(phone)}"
        return f"{action}:{phone or '-'}@{get_remote_address()}"

    return key


def _login_generation(phone: str) -> str:
    """The session version of the account with this number ("-" if none), read once per request."""
    if "login_generation" not in g:
        try:
            version = get_session().connection().execute(
                _SESSION_VERSION_OF_PHONE, {"phone": phone}).scalar()
        except SQLAlchemyError:  # counted without it rather than failing the limiter (see the key's docstring)
            version = None
        g.login_generation = "-" if version is None else str(version)
    return g.login_generation


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 100 per hour", methods=["POST"], key_func=_number_and_address("login"),
               error_message=lambda: _(
    "Too many attempts to log in with this number. Please wait a minute and try again, or ask your team "
    "leader for a password reset link."))
@limiter.limit("300 per minute; 3000 per hour", methods=["POST"], error_message=lambda: _(
    "Too many logins from this network right now. Please wait a minute and try again."))
def login():
    """Phone + password login. Anyone."""
    if current_user.is_authenticated:
        return redirect(after_login_target())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            volunteer = authenticate(session=get_session(), phone=form.phone.data, password=form.password.data)
        except AccountError as exc:
            form.phone.errors.append(exc.message)
        else:
            start_session(volunteer, remember=form.remember.data)
            return redirect(after_login_target())
    status = 200 if request.method == "GET" else 400 if form.errors else 200
    return render_template("accounts/login.html", form=form), status


def start_session(volunteer, *, remember: bool = False) -> None:
    """Log in with a fresh session (no fixation), keeping a pending scan or invite."""
    kept = {key: http_session[key] for key in KEPT_ON_LOGIN if key in http_session}
    http_session.clear()
    http_session.update(kept)
    adopt_device_choice(volunteer)
    login_user(User(volunteer), remember=remember)


def after_login_target() -> str:
    """Where to go after logging in: a safe ?next=, a kept target, a kept invite, or home."""
    target = request.args.get("next") or http_session.pop("next", None)
    if target and is_safe_redirect(target):
        return target
    invite = http_session.get("pending_invite")
    if isinstance(invite, str) and invite:
        return url_for("teams.join", token=invite)
    return url_for("home.index")


@bp.post("/logout")
@login_required
def logout():
    """End the session on the server too: a copy of the cookie no longer logs in. Logged-in people.

    A login carries its session version and the version is per person, so this ends the person's sessions on
    their other devices as well (as a password reset does)."""
    _end_sessions_and_log_out()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"), code=303)


@bp.post("/me/logout-everywhere")
@login_required
def logout_everywhere():
    """End every session of the logged-in person, on every device (a lost phone). Logged-in people."""
    _end_sessions_and_log_out()
    flash(_("You are logged out on every device."), "info")
    return redirect(url_for("accounts.login"), code=303)


def _end_sessions_and_log_out() -> None:
    end_sessions(session=get_session(), volunteer_id=current_user.id)
    logout_user()
    http_session.clear()


@bp.route("/register", methods=["GET", "POST"])
# Per number + address, and a loose flood guard per address: at a registration drive a whole room shares one
# Wi-Fi or carrier NAT address.
@limiter.limit("10 per minute; 50 per hour", methods=["POST"], key_func=_number_and_address("register"),
               error_message=lambda: _("Too many attempts to register this number. Please wait a minute and try again."))
@limiter.limit("300 per minute; 3000 per hour", methods=["POST"], error_message=lambda: _(
    "Too many registrations from this network right now. Please wait a minute and try again."))
def register():
    """A new volunteer registers: the number gets a code (codes.register_code), then name, code, password,
    community, consent. Anyone not logged in."""
    if current_user.is_authenticated:
        return redirect(after_login_target())
    phone = None if request.args.get("again") else pending_phone("register")
    if request.method == "GET" and phone is None:
        return render_step_one("register", CodeRequestForm())
    form = RegisterForm(phone=phone)
    session = get_session()
    if form.validate_on_submit():
        try:
            volunteer = register_volunteer(
                session=session, name=form.name.data, phone=form.phone.data, password=form.password.data,
                community_id=parse_id(form.community.data), consent=bool(form.consent.data), code=form.code.data,
                secret_key=current_app.config["SECRET_KEY"],
            )
        except CodeError as exc:
            if exc.code in COUNTED:
                commit()  # the wrong guess counts although the page answers 400
            form.code.errors = list(form.code.errors) + [exc.message]
        except AccountError as exc:
            target = {"bad_name": form.name, "bad_phone": form.phone, "phone_taken": form.phone,
                      "weak_password": form.password, "bad_unit": form.community,
                      "consent_required": form.consent}.get(exc.code, form.name)
            target.errors = list(target.errors) + [exc.message]
        else:
            forget_pending("register")
            start_session(volunteer)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(after_login_target(), code=303)
    elif request.method == "POST":
        # Say at once everything the service would refuse next, so one pass over the form fixes it all.
        if not form.consent.data and "consent" not in form.errors:
            form.consent.errors = [AccountError("consent_required").message]
        if parse_id(form.community.data) is None:
            form.community.errors = [AccountError("bad_unit").message]
    choices = unit_choices(session=session, district_id=parse_id(request.form.get("district")),
                           street_id=parse_id(request.form.get("street")))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/register.html", form=form, choices=choices, wait=wait_seconds(
        normalise_phone(form.phone.data)), selected=parse_id(form.community.data)), status


@bp.get("/register/units")
def unit_picker():
    """The district → street → community selects, narrowed by what is chosen (an htmx fragment). Anyone."""
    choices = unit_choices(session=get_session(), district_id=parse_id(request.args.get("district")),
                           street_id=parse_id(request.args.get("street")))
    if not wants_fragment():
        return redirect(url_for("accounts.register"))
    return render_template("accounts/_unit_picker.html", choices=choices, selected=parse_id(request.args.get("community")),
                           purpose="team" if request.args.get("purpose") == "team" else None)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute; 60 per hour", methods=["POST"])
@limiter.limit("30 per minute")
def reset_password(token: str):
    """Set a new password with a one-time link from a leader or the office. Whoever holds the link."""
    session = get_session()
    try:
        _reset, volunteer = reset_for_token(session=session, token=token)
    except AccountError as exc:
        return render_template("accounts/reset_invalid.html", message=exc.message), 404
    form = ResetPasswordForm()
    needs_consent = volunteer.consent_at is None
    if form.validate_on_submit():
        try:
            volunteer = use_password_reset(session=session, token=token, password=form.password.data,
                                           consent=bool(form.consent.data))
        except AccountError as exc:
            (form.consent if exc.code == "consent_required" else form.password).errors.append(exc.message)
        else:
            logout_user()
            start_session(volunteer)
            flash(_("Your new password is set."), "success")
            return redirect(url_for("home.index"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset.html", form=form, person=volunteer,
                           needs_consent=needs_consent), status


@bp.get("/me")
@login_required
def my_record_page():
    """My hours, sessions by theme, star level, history and personal QR. The logged-in person."""
    session = get_session()
    record = my_record(session=session, volunteer_id=current_user.id,
                       star_hours=tuple(current_app.config["STAR_LEVEL_HOURS"]))
    history = paginate(session=session, statement=attendance_history(current_user.id), page=page_arg(),
                       per_page=current_app.config["PAGE_SIZE"])
    context = {"record": record, "history": history, "has_personal_qr": "checkin.my_qr" in current_app.view_functions,
               "star_hours": sorted(current_app.config["STAR_LEVEL_HOURS"]),
               "home_unit": unit_label(session=session, unit_id=current_user.volunteer.home_unit_id)}
    if wants_fragment():
        return render_template("accounts/_history.html", **context)
    return render_template("accounts/me.html", **context)


@bp.route("/office/people", methods=["GET", "POST"])
@login_required
def people_search():
    """The office looks up a person (audited); limited offices see only their area. Office staff."""
    office = office_or_404()
    form = PersonSearchForm()
    hits = None
    if form.validate_on_submit():
        session = get_session()
        hits = search_people(session=session, office=office, query=form.q.data,
                             scope=office_scope(session=session, office=office))
    status = 400 if request.method == "POST" and form.errors else 200
    return render_template("accounts/people.html", form=form, hits=hits), status


@bp.post("/office/people/<int:volunteer_id>/reset")
@login_required
def office_issue_reset(volunteer_id: int):
    """The office issues a one-time reset link for a person in its area. Office staff."""
    office = office_or_404()
    session = get_session()
    person = person_in_scope(session=session, volunteer_id=volunteer_id,
                             scope=office_scope(session=session, office=office))
    if person is None:
        abort(404)
    token = issue_password_reset(session=session, volunteer=person, issued_by_id=office.id)
    return render_reset_link(person, token, back=url_for("accounts.people_search"))


def render_reset_link(person, token: str, *, back: str):
    """The page that shows a new reset link once, as a QR code and a link to copy."""
    url = url_for("accounts.reset_password", token=token, _external=True)
    qr = "data:image/png;base64," + base64.b64encode(qr_png(url)).decode("ascii")
    response = current_app.make_response(render_template("accounts/reset_link.html", person=person, url=url,
                                                          qr=qr, back=back))
    response.headers["Cache-Control"] = "no-store"
    return response
