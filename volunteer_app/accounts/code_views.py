"""Pages that prove a phone by SMS code: sending a code, forgot password, claiming an imported account, and the
office's outbox of demo messages. Registration's second step is accounts.register (views.py).

Each flow has two steps: the number (a code is "sent"; the answer never says whether the number has an
account), then the code with what it unlocks. The number is kept in the cookie session between the steps,
only to fill in the second page.
"""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session as http_session, url_for)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user
from werkzeug.exceptions import HTTPException

from ..db import commit, get_session
from ..extensions import limiter
from ..sms import HeldMessages, SmsSendError, outbox, sender_for
from ..web import office_or_404
from .codes import COUNTED, CodeError, request_code
from .forms import CodePasswordForm, CodeRequestForm
from .pending import PENDING, forget_pending, pending_phone, render_step_one, wait_seconds
from .phone import mask_phone, normalise_phone
from .recovery import set_password_with_code
from .service import AccountError
from .views import after_login_target, start_session

bp = Blueprint("codes", __name__)

STEPS = {  # purpose: (step one's endpoint, step two's endpoint)
    "register": ("accounts.register", "accounts.register"),
    "reset": ("codes.forgot", "codes.forgot_verify"),
    "claim": ("codes.claim", "codes.claim_verify"),
}
SEND_PER_PHONE = "2 per minute; 10 per hour; 20 per day"
SEND_PER_ADDRESS = "30 per minute; 300 per hour; 2000 per day"


def _phone_key(action: str):
    """Rate-limit key: the number alone, whatever the address (codes to one phone cost it a text each; guesses
    at one number's code count together). A form without a number is counted per address."""

    def key() -> str:
        try:
            phone = normalise_phone(request.form.get("phone"))
        except HTTPException:  # the body is refused (too large): counted as no number, answered by the view
            phone = None
        return f"{action}:{phone or '-'}" if phone else f"{action}:-@{get_remote_address()}"

    return key


def _send_limits(action: str):
    """The limits of a page that sends codes: per number, and per address (a room shares one address)."""

    def decorate(view):
        view = limiter.limit(SEND_PER_ADDRESS, methods=["POST"], error_message=lambda: _(
            "Too many codes asked for from this network right now. Please wait a minute and try again."))(view)
        return limiter.limit(SEND_PER_PHONE, methods=["POST"], key_func=_phone_key(action), error_message=lambda: _(
            "Too many codes asked for this number. Please wait and try again later."))(view)

    return decorate


def send_code(purpose: str):
    """Step one's POST: send a code (or act as if), remember the number, go to step two (303)."""
    form = CodeRequestForm()
    if not form.validate_on_submit():
        return render_step_one(purpose, form, 400)
    session, held = get_session(), HeldMessages()
    try:
        row = request_code(session=session, purpose=purpose, phone=form.phone.data,
                           secret_key=current_app.config["SECRET_KEY"], sender=held)
        commit()  # the code is stored (and counted) before the provider is asked: no transaction waits on it
        try:
            held.deliver(sender_for(current_app.config), session=session)
        except SmsSendError:
            current_app.logger.exception("SMS code to %s not sent", mask_phone(row.phone))
            raise CodeError("send_failed") from None
    except CodeError as exc:
        form.phone.errors = list(form.phone.errors) + [exc.message]
        return render_step_one(purpose, form, 400 if exc.code != "too_soon" else 429)
    http_session[PENDING] = {**(http_session.get(PENDING) or {}), purpose: row.phone}
    return redirect(url_for(STEPS[purpose][1]), code=303)


@bp.post("/register/code")
@_send_limits("register-code")
def register_code():
    """Send a registration code to a number (its owner's, if it is registered). Anyone not logged in."""
    if current_user.is_authenticated:
        return redirect(after_login_target())
    return send_code("register")


@bp.route("/forgot", methods=["GET", "POST"])
@_send_limits("reset-code")
def forgot():
    """Forgot password, step one: the number. Anyone."""
    return _step_one("reset")


@bp.route("/claim", methods=["GET", "POST"])
@_send_limits("claim-code")
def claim():
    """Claim an account a team imported, step one: the number. Anyone."""
    return _step_one("claim")


def _step_one(purpose: str):
    if request.method == "POST":
        return send_code(purpose)
    form = CodeRequestForm(phone=pending_phone(purpose) or None)
    return render_step_one(purpose, form)


@bp.route("/forgot/verify", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"], key_func=_phone_key("reset-verify"))
@limiter.limit("300 per minute; 3000 per hour", methods=["POST"])
def forgot_verify():
    """Forgot password, step two: the code and a new password. Whoever has the code."""
    return _step_two("reset")


@bp.route("/claim/verify", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"], key_func=_phone_key("claim-verify"))
@limiter.limit("300 per minute; 3000 per hour", methods=["POST"])
def claim_verify():
    """Claim an account, step two: the code, a password and consent. Whoever has the code."""
    return _step_two("claim")


def _step_two(purpose: str):
    phone = pending_phone(purpose)
    form = CodePasswordForm(phone=phone)
    if request.method == "GET" and not phone:
        return redirect(url_for(STEPS[purpose][0]))
    if form.validate_on_submit():
        try:
            volunteer = set_password_with_code(
                session=get_session(), purpose=purpose, phone=form.phone.data, code=form.code.data,
                password=form.password.data, consent=bool(form.consent.data),
                secret_key=current_app.config["SECRET_KEY"])
        except CodeError as exc:
            if exc.code in COUNTED:
                commit()  # the wrong guess counts although the page answers 400
            form.code.errors = list(form.code.errors) + [exc.message]
        except AccountError as exc:
            (form.consent if exc.code == "consent_required" else form.password).errors.append(exc.message)
        else:
            forget_pending(purpose)
            logout_user()
            start_session(volunteer)
            flash(_("Your password is set. Welcome!") if purpose == "claim" else _("Your new password is set."),
                  "success")
            return redirect(url_for("home.index"), code=303)
    status = 400 if request.method == "POST" else 200
    shown = form.phone.data or phone
    return render_template("accounts/code_password.html", form=form, purpose=purpose, phone=shown,
                           wait=wait_seconds(normalise_phone(shown))), status


@bp.get("/office/sms-outbox")
@login_required
def outbox_page():
    """The demo's text messages, kept instead of sent (never when an SMS provider is set). Office staff."""
    office_or_404()
    if (current_app.config.get("SMS_PROVIDER") or "outbox") != "outbox":
        abort(404)
    rows = outbox.latest(session=get_session())
    response = current_app.make_response(render_template(
        "accounts/sms_outbox.html", messages=[(row, outbox.text_of(row)) for row in rows]))
    response.headers["Cache-Control"] = "no-store"
    return response
