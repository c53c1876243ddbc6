"""Codes by SMS: a person proves a phone is theirs (registration, forgotten password, claiming an imported account).

A code is 6 digits, lives CODE_LIFETIME, allows MAX_TRIES wrong guesses and is stored only as a keyed hash
(tokens.short_code_hash). A new code for the same phone and purpose ends the earlier one. Sending is limited
per phone here, in the database, so the limits hold across app servers: one code per RESEND_AFTER and
CODES_PER_DAY in any 24 hours, whatever the purpose. The views add Flask-Limiter limits per phone and address
and per address.

Nobody learns from the answer whether a number has an account: a request for a code always "sends" one. For
registration, the owner of a number that is already registered gets the code in a message that says someone
tried to register it; for a reset or a claim, a number without an account gets nothing. Either way the row is
written, so the limits count the same.

The pages pass an sms.HeldMessages as the sender, commit, then deliver: the provider's answer is awaited
outside any transaction, and a code whose text could not be sent still counts against the limits.

A wrong guess must count even though the request answers 400 (which rolls back): the views commit after a
CodeError whose code is in COUNTED.
"""
from __future__ import annotations

import hmac
import unicodedata
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update
from sqlmodel import Session, select

from .. import tokens
from ..errors import DomainError
from ..models import SMS_CODE_PURPOSES, SmsCode, Volunteer, utcnow
from ..sms import Sender, SmsSendError
from .phone import normalise_phone

CODE_LIFETIME = timedelta(minutes=5)
MAX_TRIES = 5
RESEND_AFTER = timedelta(seconds=60)
CODES_PER_DAY = 10
DAY = timedelta(hours=24)
COUNTED = frozenset({"wrong_code", "too_many_tries"})


class CodeError(DomainError):
    messages = {
        "bad_phone": _l("Enter an 11-digit mainland mobile number."),
        "no_code": _l("Ask for a code first: tap “Send code”."),
        "wrong_code": _l("The code is wrong. Check the text message and try again (%(left)s tries left)."),
        "code_expired": _l("This code has expired. Tap “Send again” for a new one."),
        "too_many_tries": _l("Too many wrong codes. Tap “Send again” for a new one."),
        "too_soon": _l("A code was just sent. You can ask for another in %(seconds)s seconds."),
        "too_many_today": _l("Too many codes were sent to this number today. Please try again tomorrow."),
        "send_failed": _l("The text message could not be sent. Please try again in a minute."),
    }


def request_code(*, session: Session, purpose: str, phone: str, secret_key: str, sender: Sender,
                 now: datetime | None = None) -> SmsCode:
    """A new code for purpose and phone, sent when it should be (see the module's docstring); limits checked."""
    if purpose not in SMS_CODE_PURPOSES:
        raise ValueError(f"unknown code purpose {purpose!r}")
    number = normalise_phone(phone)
    if number is None:
        raise CodeError("bad_phone")
    now = now or utcnow()
    check_limits(session=session, phone=number, now=now)
    session.execute(update(SmsCode).where(SmsCode.phone == number, SmsCode.purpose == purpose,
                                          SmsCode.used_at.is_(None), SmsCode.expires_at > now)
                    .values(expires_at=now))
    code = tokens.new_short_code()
    row = SmsCode(purpose=purpose, phone=number, created_at=now, expires_at=now + CODE_LIFETIME,
                  code_hash=tokens.short_code_hash(secret_key, purpose=purpose, phone=number, code=code))
    session.add(row)
    session.flush()
    template = _template(session=session, purpose=purpose, phone=number)
    if template is not None:
        try:
            sender.send(session=session, phone=number, template=template,
                        params=[code, str(int(CODE_LIFETIME.total_seconds() // 60))])
        except SmsSendError:
            raise CodeError("send_failed") from None
    return row


def check_limits(*, session: Session, phone: str, now: datetime) -> None:
    """CodeError('too_soon') within RESEND_AFTER of the last code, ('too_many_today') past CODES_PER_DAY."""
    count, last = session.exec(select(func.count(SmsCode.id), func.max(SmsCode.created_at))
                               .where(SmsCode.phone == phone, SmsCode.created_at > now - DAY)).one()
    if last is not None:
        wait = (_aware(last) + RESEND_AFTER - now).total_seconds()
        if wait > 0:
            raise CodeError("too_soon", seconds=int(wait) + (wait % 1 > 0))
    if count >= CODES_PER_DAY:
        raise CodeError("too_many_today")


def resend_wait(*, session: Session, phone: str | None, now: datetime | None = None) -> int:
    """Seconds until another code may be sent to phone (0 if now); the page's countdown starts from it."""
    if not phone:
        return 0
    now = now or utcnow()
    last = session.exec(select(func.max(SmsCode.created_at)).where(SmsCode.phone == phone)).one()
    if last is None:
        return 0
    return max(0, int((_aware(last) + RESEND_AFTER - now).total_seconds() + 0.999))


def use_code(*, session: Session, purpose: str, phone: str, code: str | None, secret_key: str,
             now: datetime | None = None) -> SmsCode:
    """Check and use up the latest code for purpose and phone; CodeError says why not (a wrong guess counts)."""
    now = now or utcnow()
    number = normalise_phone(phone)
    row = session.exec(select(SmsCode).where(SmsCode.phone == number, SmsCode.purpose == purpose)
                       .order_by(SmsCode.id.desc()).limit(1)).first() if number else None
    if row is None or row.used_at is not None:
        raise CodeError("no_code")
    if _aware(row.expires_at) <= now:
        raise CodeError("code_expired")
    if row.tries >= MAX_TRIES:
        raise CodeError("too_many_tries")
    typed = unicodedata.normalize("NFKC", code or "").strip().replace(" ", "")
    expected = tokens.short_code_hash(secret_key, purpose=purpose, phone=number, code=typed)
    if not (len(typed) == 6 and typed.isascii() and typed.isdigit() and hmac.compare_digest(expected, row.code_hash)):
        # One UPDATE that adds one: two wrong guesses at once both count.
        session.execute(update(SmsCode).where(SmsCode.id == row.id).values(tries=SmsCode.tries + 1))
        session.refresh(row)
        if row.tries >= MAX_TRIES:
            raise CodeError("too_many_tries")
        raise CodeError("wrong_code", left=MAX_TRIES - row.tries)
    used = session.execute(update(SmsCode).where(SmsCode.id == row.id, SmsCode.used_at.is_(None)).values(used_at=now))
    if used.rowcount != 1:
        raise CodeError("no_code")
    return row


def account_for_phone(*, session: Session, phone: str | None) -> Volunteer | None:
    """The active account with this number, if any."""
    number = normalise_phone(phone)
    if number is None:
        return None
    return session.exec(select(Volunteer).where(Volunteer.phone == number, Volunteer.deleted_at.is_(None),
                                                Volunteer.is_active.is_(True))).first()


def _template(*, session: Session, purpose: str, phone: str) -> str | None:
    """Which message the code goes out in, or None when nobody should get one."""
    owner = account_for_phone(session=session, phone=phone)
    if purpose == "register":
        return "code" if owner is None else "register_taken"
    return "code" if owner is not None else None


def _aware(moment: datetime) -> datetime:
    """SQLite may hand back a naive UTC time from an aggregate; make it aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
