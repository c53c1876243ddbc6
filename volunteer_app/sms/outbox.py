"""The outbox: messages kept in a table instead of sent, for development and the demo.

Office accounts read them at /office/sms-outbox (a page marked as not real SMS). The texts here stand in for
the provider's approved templates, in Chinese as a phone would show them.
"""
from __future__ import annotations

from sqlmodel import Session, select

from ..models import SmsOutbox, utcnow
from . import check_params

TEXTS = {
    "code": "【红马甲】验证码{0}，{1}分钟内有效。请勿告诉他人。",
    "register_taken": "【红马甲】有人用您的手机号注册红马甲。您已有账号，如果是您本人，验证码为{0}（{1}分钟内有效）；如非本人操作，请忽略。",
    "signup_admitted": "【红马甲】您报名的“{0}”（{1}）已录用，请准时参加。",
    "activity_cancelled": "【红马甲】您报名的“{0}”（{1}）已取消。",
}
SHOWN = 50


class OutboxSender:
    """Keeps each message as an SmsOutbox row in the caller's transaction (or a transaction of its own)."""

    def send(self, *, session: Session | None, phone: str, template: str, params: list[str]) -> None:
        row = SmsOutbox(phone=phone, template=template, params=check_params(template, params), created_at=utcnow())
        if session is not None:
            session.add(row)
            session.flush()
            return
        from ..db import session_scope

        with session_scope() as own:
            own.add(row)


def text_of(row: SmsOutbox) -> str:
    """The message as the phone would show it."""
    return TEXTS[row.template].format(*row.params)


def latest(*, session: Session, limit: int = SHOWN) -> list[SmsOutbox]:
    """The newest messages, newest first."""
    return list(session.exec(select(SmsOutbox).order_by(SmsOutbox.id.desc()).limit(limit)))
