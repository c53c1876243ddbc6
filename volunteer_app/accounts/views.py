"""Login and logout."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session as http_session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..db import get_session
from ..i18n import is_safe_redirect
from ..extensions import limiter
from .auth import User
from .forms import LoginForm
from .service import AccountError, authenticate

bp = Blueprint("accounts", __name__)

# Keys in the cookie session that survive logging in: a pending scan or invite is kept.
KEPT_ON_LOGIN = ("pending_scan", "pending_invite", "next")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 100 per hour", methods=["POST"])
def login():
    """Phone + password login."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
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
    login_user(User(volunteer), remember=remember)


def after_login_target() -> str:
    """Where to go after logging in: a safe ?next=, a kept target, or home."""
    target = request.args.get("next") or http_session.pop("next", None)
    if target and is_safe_redirect(target):
        return target
    return url_for("home.index")


@bp.post("/logout")
@login_required
def logout():
    """End the session."""
    logout_user()
    http_session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"), code=303)
