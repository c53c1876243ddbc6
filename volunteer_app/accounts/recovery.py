"""A new password with an SMS code: "forgot password" (reset) and an imported volunteer's first login (claim).

Both take the phone, the code sent to it (codes.py) and the new password. An imported volunteer has no
password (service.NO_PASSWORD) and has not agreed to the privacy notice yet: the claim (or a reset) asks for
that consent, after the code is right, so only the owner learns the account's state.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from .. import audit
from ..models import Volunteer, utcnow
from .codes import CodeError, account_for_phone, use_code
from .service import AccountError, check_password_rules, set_new_password

PURPOSES = ("reset", "claim")


def set_password_with_code(*, session: Session, purpose: str, phone: str, code: str | None, password: str,
                           consent: bool, secret_key: str, now: datetime | None = None) -> Volunteer:
    """Set the password of the account with this phone once its code is right; every old session ends."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    now = now or utcnow()
    check_password_rules(password)
    use_code(session=session, purpose=purpose, phone=phone, code=code, secret_key=secret_key, now=now)
    volunteer = account_for_phone(session=session, phone=phone)
    if volunteer is None:  # a code is never sent to a number without an account; this one was guessed
        raise CodeError("no_code")
    if volunteer.consent_at is None and not consent:
        raise AccountError("consent_required")
    set_new_password(session=session, volunteer=volunteer, password=password, now=now)
    audit.record(session=session, action=f"password.{purpose}_by_code", object_type="volunteer",
                 object_id=volunteer.id, actor_id=volunteer.id, data={})
    return volunteer
