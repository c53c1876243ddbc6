"""The number a code was sent to, kept in the cookie session between the two steps of a code flow."""
from __future__ import annotations

from flask import render_template, session as http_session

from ..db import get_session
from .codes import resend_wait

PENDING = "sms_phone"  # cookie-session key: {purpose: the number a code was last sent to}


def pending_phone(purpose: str) -> str | None:
    """The number a code for purpose was last sent to from this browser, if any."""
    pending = http_session.get(PENDING)
    return pending.get(purpose) if isinstance(pending, dict) else None


def forget_pending(purpose: str) -> None:
    """The flow is done: its number is no longer needed."""
    pending = dict(http_session.get(PENDING) or {})
    pending.pop(purpose, None)
    http_session[PENDING] = pending


def render_step_one(purpose: str, form, status: int = 200):
    """The page that asks for the number a code goes to."""
    return render_template("accounts/code_request.html", form=form, purpose=purpose), status


def wait_seconds(phone: str | None) -> int:
    """Seconds before another code may go to phone: the resend button counts them down."""
    return resend_wait(session=get_session(), phone=phone)
