"""The SMS notice channel: a few important notices also go out as a text message, after the commit.

Off unless SMS_NOTICE_KINDS names kinds (e.g. "signup_admitted,activity_cancelled"; only kinds that have an SMS
template, sms.TEMPLATES). create_app adds the channel to NOTICE_CHANNELS; notify.send holds it until the
transaction commits (`after_commit = True`), so a rolled-back admission never texts anyone. The message goes
through the configured sender (Tencent Cloud SMS or the outbox) in a transaction of its own; a failure is
logged, never shown to the person whose action caused the notice.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app
from sqlmodel import Session

from ..models import Activity, Notice, Volunteer
from . import TEMPLATES, sender_for

TITLE_MAX = 20  # a template parameter is short; a long title is cut


def parse_kinds(text: str) -> tuple[str, ...]:
    """"signup_admitted, activity_cancelled" → the kinds, refusing any without an SMS template."""
    kinds = tuple(k.strip() for k in (text or "").split(",") if k.strip())
    unknown = [k for k in kinds if k not in TEMPLATES or k in ("code", "register_taken")]
    if unknown:
        raise ValueError(f"SMS_NOTICE_KINDS: no SMS template for {', '.join(unknown)}")
    return kinds


class SmsNoticeChannel:
    """A NOTICE_CHANNELS entry that texts the notices of `kinds` once their transaction has committed."""

    after_commit = True

    def __init__(self, kinds: tuple[str, ...]):
        self.kinds = frozenset(kinds)

    def __call__(self, notice: Notice) -> None:
        if notice.kind not in self.kinds:
            return
        from ..db import session_scope

        with session_scope() as session:
            message = message_for(session=session, notice=notice)
            if message is not None:
                phone, params = message
                sender_for(current_app.config).send(session=session, phone=phone, template=notice.kind,
                                                    params=params)


def message_for(*, session: Session, notice: Notice) -> tuple[str, list[str]] | None:
    """(phone, template parameters) of a notice, the start in the display time zone; None when there is nobody
    to text (no phone, no activity)."""
    person = session.get(Volunteer, notice.volunteer_id)
    activity = session.get(Activity, notice.activity_id) if notice.activity_id else None
    if person is None or not person.phone or person.deleted_at is not None or activity is None:
        return None
    title = activity.title if len(activity.title) <= TITLE_MAX else activity.title[:TITLE_MAX - 1] + "…"
    zone = ZoneInfo(current_app.config.get("DISPLAY_TIMEZONE") or "Asia/Shanghai")
    return person.phone, [title, activity.starts_at.astimezone(zone).strftime("%m-%d %H:%M")]
