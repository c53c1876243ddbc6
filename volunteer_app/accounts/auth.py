"""Login sessions with flask-login.

The session stores "<id>:<session_version>"; bumping a volunteer's session_version (logout
everywhere, password reset, account deletion) ends every session that person had.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..db import get_session
from ..extensions import login_manager
from ..models import Volunteer
from .phone import mask_phone


def init_app(app: Flask) -> None:
    """Bind flask-login and the user helpers that templates use."""
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in first.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.globals["current_user"] = current_user


@login_manager.user_loader
def load_user(session_id: str) -> "User | None":
    """Find the logged-in volunteer; an outdated session version logs them out."""
    try:
        raw_id, raw_version = session_id.split(":", 1)
        volunteer_id, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    volunteer = get_session().get(Volunteer, volunteer_id)
    if volunteer is None or not volunteer.is_active or volunteer.deleted_at is not None:
        return None
    if volunteer.session_version != version:
        return None
    return User(volunteer)


class User:
    """What flask-login needs, wrapped around a Volunteer row."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, volunteer: Volunteer):
        self.volunteer = volunteer
        self.id = volunteer.id
        self.name = volunteer.name
        self.role = volunteer.role

    @property
    def is_active(self) -> bool:
        return self.volunteer.is_active

    @property
    def is_office(self) -> bool:
        return self.volunteer.role == "office"

    def get_id(self) -> str:
        return f"{self.volunteer.id}:{self.volunteer.session_version}"
