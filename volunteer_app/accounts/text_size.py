"""Large text for older volunteers (适老化): chosen once, remembered for the account and, before login, the device.

The account's choice wins once logged in; a visitor's choice lives in a cookie and becomes the account's at login
if the account never chose. Large text is one extra stylesheet (static/large-text.css), loaded only when chosen.
"""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, url_for
from flask_login import current_user

from ..db import get_session
from ..i18n import is_safe_redirect
from .service import TEXT_SIZES, AccountError, set_text_size

bp = Blueprint("text_size", __name__)
COOKIE = "text_size"
COOKIE_AGE = 5 * 365 * 24 * 3600


def init_app(app: Flask) -> None:
    """Templates ask `text_size()` which size to show; POST /text-size switches."""
    app.register_blueprint(bp)
    app.jinja_env.globals["text_size"] = current_text_size


def current_text_size() -> str:
    """"large" or "normal": the account's choice, else this device's, else normal."""
    if current_user.is_authenticated and current_user.text_size in TEXT_SIZES:
        return current_user.text_size
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen in TEXT_SIZES else "normal"


def adopt_device_choice(volunteer) -> None:
    """At login: an account that never chose takes the size chosen on this device."""
    chosen = request.cookies.get(COOKIE)
    if volunteer.text_size is None and chosen in TEXT_SIZES and chosen != "normal":
        set_text_size(session=get_session(), volunteer=volunteer, size=chosen)


@bp.post("/text-size")
def switch():
    """Switch between normal and large text, then go back to the page. Anyone."""
    size = request.form.get("size", "")
    if size not in TEXT_SIZES:
        raise AccountError("bad_text_size")
    if current_user.is_authenticated:
        set_text_size(session=get_session(), volunteer=current_user.volunteer, size=size)
    target = request.form.get("next") or ""
    response = redirect(target if target and is_safe_redirect(target) else url_for("home.index"), code=303)
    response.set_cookie(COOKIE, size, max_age=COOKIE_AGE, samesite="Lax", httponly=True,
                        secure=request.is_secure)
    return response
