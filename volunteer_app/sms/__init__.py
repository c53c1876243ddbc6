"""Text messages (SMS): one sender interface, two implementations chosen by configuration.

    sender = sms.sender_for(app.config)      # TencentSender when SMS_PROVIDER = "tencent", else OutboxSender
    sender.send(session=session, phone="13912345678", template="code", params=["123456", "5"])

A message is a template name (TEMPLATES) and its parameters, in the template's order; the words live in the
provider's approved templates (Tencent Cloud SMS templates, each with its id in SMS_TEMPLATE_IDS) and, for the
outbox, in outbox.TEXTS. Tencent Cloud sends for real (sms/tencent.py); the outbox (sms/outbox.py) keeps the
message in a table that office accounts read at /office/sms-outbox, for development and the demo. The outbox
is never used when the provider is configured: `sender_for` chooses one or the other, never both.

A sender raises SmsSendError when the provider refuses or cannot be reached; callers that must not fail a
person's request over it (the notice channel) catch it and log.
"""
from __future__ import annotations

from typing import Protocol

from sqlmodel import Session

# template name: its parameters, in order
TEMPLATES = {
    "code": ("code", "minutes"),  # 验证码 {1}，{2} 分钟内有效
    "register_taken": ("code", "minutes"),  # someone tried to register your number; if it was you, the code is {1}
    "signup_admitted": ("activity", "starts"),
    "activity_cancelled": ("activity", "starts"),
}
PROVIDERS = ("outbox", "tencent")


class SmsSendError(Exception):
    """The provider refused the message or could not be reached."""


class Sender(Protocol):
    def send(self, *, session: Session | None, phone: str, template: str, params: list[str]) -> None:
        """Send one message to an 11-digit mainland number (or keep it, for the outbox)."""


def sender_for(config) -> Sender:
    """The sender the configuration names: Tencent Cloud SMS when SMS_PROVIDER is "tencent", else the outbox."""
    provider = config.get("SMS_PROVIDER") or "outbox"
    if provider == "tencent":
        from .tencent import TencentSender

        return TencentSender.from_config(config)
    if provider != "outbox":
        raise ValueError(f"unknown SMS_PROVIDER {provider!r}; one of {PROVIDERS}")
    from .outbox import OutboxSender

    return OutboxSender()


class HeldMessages:
    """A sender that keeps messages until `deliver`: a view stores the code, commits, and only then waits for
    the provider, so no transaction (on SQLite: the writer's turn) stays open across an HTTP call."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, list[str]]] = []

    def send(self, *, session: Session | None, phone: str, template: str, params: list[str]) -> None:
        self.messages.append((phone, template, check_params(template, params)))

    def deliver(self, sender: Sender, *, session: Session | None) -> None:
        """Send what was held through sender (SmsSendError if it fails)."""
        held, self.messages = self.messages, []
        for phone, template, params in held:
            sender.send(session=session, phone=phone, template=template, params=params)


def init_app(app) -> None:
    """Check the SMS settings at start (a wrong provider or a missing credential fails now, not at the first
    code) and add the SMS notice channel when SMS_NOTICE_KINDS names kinds."""
    sender_for(app.config)
    kinds = app.config.get("SMS_NOTICE_KINDS") or ()
    if isinstance(kinds, str):
        from .notices import parse_kinds

        kinds = parse_kinds(kinds)
    if kinds:
        from .notices import SmsNoticeChannel

        app.config["NOTICE_CHANNELS"] = [*app.config.get("NOTICE_CHANNELS", ()), SmsNoticeChannel(kinds)]


def check_params(template: str, params: list[str]) -> list[str]:
    """The parameters as strings, refusing an unknown template or a wrong count (a programming error)."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown SMS template {template!r}")
    if len(params) != len(TEMPLATES[template]):
        raise ValueError(f"template {template!r} takes {len(TEMPLATES[template])} parameters")
    return [str(p) for p in params]
