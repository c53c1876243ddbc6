"""Accounts: creating volunteers and checking passwords."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import DomainError
from ..models import Volunteer, utcnow
from .phone import normalise_phone

# Checked against when the phone is unknown, so that a wrong phone costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class AccountError(DomainError):
    messages = {
        "bad_credentials": _l("Phone number or password is wrong."),
        "bad_phone": _l("Enter an 11-digit mainland mobile number."),
        "phone_taken": _l("This phone number is already registered. Log in instead."),
    }


def authenticate(*, session: Session, phone: str, password: str) -> Volunteer:
    """The volunteer with this phone and password, or AccountError('bad_credentials')."""
    number = normalise_phone(phone)
    volunteer = session.exec(select(Volunteer).where(Volunteer.phone == number)).first() if number else None
    if volunteer is None or not volunteer.is_active or volunteer.deleted_at is not None:
        check_password_hash(_DUMMY_HASH, password)
        raise AccountError("bad_credentials")
    if not check_password_hash(volunteer.password_hash, password):
        raise AccountError("bad_credentials")
    return volunteer


def create_volunteer(
    *,
    session: Session,
    name: str,
    phone: str,
    password: str | None = None,
    password_hash: str | None = None,
    role: str = "volunteer",
    home_unit_id: int | None = None,
    office_unit_id: int | None = None,
    consent: bool = False,
) -> Volunteer:
    """Create a volunteer (or office account); the phone must be new."""
    number = normalise_phone(phone)
    if number is None:
        raise AccountError("bad_phone")
    if session.exec(select(Volunteer.id).where(Volunteer.phone == number)).first() is not None:
        raise AccountError("phone_taken")
    volunteer = Volunteer(
        name=name.strip(),
        phone=number,
        phone_tail=number[-4:],
        password_hash=password_hash or generate_password_hash(password or ""),
        role=role,
        home_unit_id=home_unit_id,
        office_unit_id=office_unit_id,
        consent_at=utcnow() if consent else None,
    )
    session.add(volunteer)
    session.flush()
    return volunteer
