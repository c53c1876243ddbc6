"""Login sessions with flask-login.

The session stores "<id>:<session_version>"; bumping a volunteer's session_version (logout
everywhere, password reset, account deletion) ends every session that person had.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, select, true

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
    # No session protection: its "basic" mode only marks a session non-fresh when the address or browser
    # changes (phones change addresses all the time) and nothing here asks for a fresh login; "strong" would
    # log a volunteer out whenever the carrier moves them. Sessions end by session_version instead.
    login_manager.session_protection = None
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.globals["current_user"] = current_user


@login_manager.user_loader
def load_user(session_id: str) -> "User | None":
    """Find the logged-in volunteer; an outdated session version logs them out.

    Runs on every logged-in request, so it reads the few columns it needs with one prebuilt Core
    statement; the full Volunteer row is loaded only when a view asks for `current_user.volunteer`.
    """
    login = parse_session_id(session_id)
    if login is None:
        return None
    params = {"volunteer_id": login[0], "session_version": login[1]}
    row = get_session().connection().execute(_LOGIN_ROW, params).first()
    return User(row) if row is not None else None


def parse_session_id(session_id) -> tuple[int, int] | None:
    """(volunteer id, session version) of a stored "<id>:<session_version>", or None if it is not one."""
    try:
        raw_id, raw_version = session_id.split(":", 1)
        volunteer_id, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    if not 0 < volunteer_id < 2**63 or not -2**63 <= version < 2**63:
        return None
    return volunteer_id, version


def valid_login(volunteer_id, session_version) -> tuple:
    """The conditions of a login that still holds (account active, not deleted, same session version), on the
    volunteer table, for a statement's WHERE: the user loader's and the check-in gate's."""
    return (_v.id == volunteer_id, _v.is_active == true(), _v.deleted_at.is_(None),
            _v.session_version == session_version)


_v = Volunteer.__table__.c
_LOGIN_ROW = select(_v.id, _v.name, _v.role, _v.session_version, _v.text_size).where(
    *valid_login(bindparam("volunteer_id"), bindparam("session_version")))


class User:
    """What flask-login needs: the logged-in volunteer's id, name, role and session version.

    `volunteer` is the full row (loaded on first use, from the request's session).
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True  # load_user returns no User for an inactive or deleted account

    def __init__(self, row):
        self.id = row.id
        self.name = row.name
        self.role = row.role
        self.session_version = row.session_version
        self.text_size = row.text_size
        self._volunteer: Volunteer | None = None

    @property
    def volunteer(self) -> Volunteer:
        if self._volunteer is None:
            self._volunteer = get_session().get(Volunteer, self.id)
        return self._volunteer

    @property
    def is_office(self) -> bool:
        return self.role == "office"

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"
