"""Notices (通知): the in-app notice centre (bell, list, mark read), reminders, an activity's calendar file.

Sending is volunteer_app.notify.send, the one door every domain uses. This package reads and renders the in-app
notices (service, render), sends the reminders cron asks for (reminders, cli), and serves the .ics (calendar).
The blueprint is defined here; its routes are in views, which create_app imports.
"""
from __future__ import annotations

from flask import Blueprint, g
from flask_login import current_user

bp = Blueprint("notices", __name__)


@bp.app_context_processor
def _bell() -> dict:
    return {"notice_bell_count": notice_bell_count}


def notice_bell_count() -> int:
    """Unread notices of the logged-in person, counted once per request and only when a page shows the bell
    (a POST that redirects, such as the check-in, never counts)."""
    if "notice_bell_count" not in g:
        from ..db import get_session
        from .service import unread_count

        g.notice_bell_count = unread_count(session=get_session(), volunteer_id=current_user.id) \
            if current_user.is_authenticated else 0
    return g.notice_bell_count
