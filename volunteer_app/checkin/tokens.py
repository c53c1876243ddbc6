"""Signed tokens in QR codes: activity tokens (/c/<token>) and personal volunteer tokens (/v/<token>).

Public functions (all pure: no database, no request; secrets are passed in):

    rotating_token(*, secret_key, activity_id, activity_secret, at=None) -> str
    poster_token(*, secret_key, activity_id, activity_secret) -> str
    parse_activity_token(token) -> ActivityToken            # raises TokenError("bad_token")
    verify_activity_token(parsed, *, secret_key, activity_secret, scanned_at, starts_at, ends_at) -> None
        # raises TokenError("bad_token" | "token_expired" | "token_future" | "not_started" | "ended")
    personal_token(*, secret_key, volunteer_id, session_version) -> str
    read_personal_token(token, *, secret_key) -> tuple[int, int]   # (volunteer_id, session_version)

Token shapes (URL-safe, short, so that the QR stays coarse and scans from a metre away):

    rotating  r<activity id base36>.<time step base36>.<signature>
    poster    p<activity id base36>.<signature>
    personal  v<volunteer id base36>.<session version base36>.<signature>

The signature is HMAC-SHA256 truncated to 96 bits, keyed with the app's SECRET_KEY and, for activity
tokens, the activity's own secret: regenerating `Activity.secret` revokes every token of that activity,
and bumping `Volunteer.session_version` revokes a personal code. A rotating token names its 15-second
time step; it is refused when older than MAX_AGE_SECONDS at scan time, or dated more than
FUTURE_SKEW_SECONDS ahead (a leader's phone clock is not involved: the server mints every token).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l

from ..errors import DomainError

STEP_SECONDS = 15
MAX_AGE_SECONDS = 60
FUTURE_SKEW_SECONDS = 20
POSTER_MARGIN = timedelta(minutes=30)
MAX_TOKEN_LENGTH = 64
_SIG_BYTES = 12
_SHAPE = re.compile(r"^[rpv][0-9a-z]{1,13}(\.[0-9a-z]{1,13})?\.[A-Za-z0-9_-]{16}$")


class TokenError(DomainError):
    """A token that cannot be used; the code says why."""

    status = 400
    messages = {
        "bad_token": _l("This code is not valid. It may be damaged or incomplete; scan it again."),
        "token_expired": _l("This code has expired. Ask the leader for the current code and scan it again."),
        "token_future": _l("This code is not valid yet. Scan the code the leader is showing now."),
        "not_started": _l("Check-in for this activity has not started yet."),
        "ended": _l("This activity has already ended."),
    }


@dataclass(frozen=True)
class ActivityToken:
    """What an activity token claims before its signature is checked."""

    kind: str  # "rotating" or "poster"
    activity_id: int
    step: int | None
    raw: str


def time_step(at: datetime) -> int:
    """The 15-second step that `at` falls in."""
    return int(at.timestamp()) // STEP_SECONDS


def rotating_token(*, secret_key: str, activity_id: int, activity_secret: str, at: datetime | None = None) -> str:
    """The rotating token of the activity for the time step of `at` (now by default)."""
    step = time_step(at or datetime.now(timezone.utc))
    body = f"r{_b36(activity_id)}.{_b36(step)}"
    return f"{body}.{_sign(secret_key, activity_secret, body)}"


def poster_token(*, secret_key: str, activity_id: int, activity_secret: str) -> str:
    """The printed poster token; it is only honoured inside the activity window plus a margin."""
    body = f"p{_b36(activity_id)}"
    return f"{body}.{_sign(secret_key, activity_secret, body)}"


def parse_activity_token(token: str) -> ActivityToken:
    """Split a token from a URL into its claims, refusing anything malformed (TokenError('bad_token'))."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH or not _SHAPE.match(token):
        raise TokenError("bad_token")
    kind = token[0]
    parts = token[1:].split(".")
    try:
        if kind == "r" and len(parts) == 3:
            return ActivityToken("rotating", _int36(parts[0]), _int36(parts[1]), token)
        if kind == "p" and len(parts) == 2:
            return ActivityToken("poster", _int36(parts[0]), None, token)
    except ValueError:
        pass
    raise TokenError("bad_token")


def verify_activity_token(
    parsed: ActivityToken,
    *,
    secret_key: str,
    activity_secret: str,
    scanned_at: datetime,
    starts_at: datetime,
    ends_at: datetime,
) -> None:
    """Check the signature, then the token's age (rotating) or the activity window (poster)."""
    body, _, signature = parsed.raw.rpartition(".")
    if not hmac.compare_digest(signature, _sign(secret_key, activity_secret, body)):
        raise TokenError("bad_token")
    if parsed.kind == "rotating":
        minted = parsed.step * STEP_SECONDS
        now = scanned_at.timestamp()
        if minted > now + FUTURE_SKEW_SECONDS:
            raise TokenError("token_future")
        if now - minted > MAX_AGE_SECONDS:
            raise TokenError("token_expired")
        return
    if scanned_at < starts_at - POSTER_MARGIN:
        raise TokenError("not_started")
    if scanned_at > ends_at + POSTER_MARGIN:
        raise TokenError("ended")


def personal_token(*, secret_key: str, volunteer_id: int, session_version: int) -> str:
    """A volunteer's personal code; bumping their session_version revokes it."""
    body = f"v{_b36(volunteer_id)}.{_b36(session_version)}"
    return f"{body}.{_sign(secret_key, 'personal', body)}"


def read_personal_token(token: str, *, secret_key: str) -> tuple[int, int]:
    """(volunteer_id, session_version) from a genuine personal token, else TokenError('bad_token').

    The caller still compares the version with the volunteer's current one.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not _SHAPE.match(token) or token[0] != "v":
        raise TokenError("bad_token")
    body, _, signature = token.rpartition(".")
    if not hmac.compare_digest(signature, _sign(secret_key, "personal", body)):
        raise TokenError("bad_token")
    parts = body[1:].split(".")
    if len(parts) != 2:
        raise TokenError("bad_token")
    try:
        return _int36(parts[0]), _int36(parts[1])
    except ValueError as exc:
        raise TokenError("bad_token") from exc


def _sign(secret_key: str, purpose_secret: str, body: str) -> str:
    key = hashlib.sha256(f"{secret_key}\x00{purpose_secret}".encode()).digest()
    digest = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()[:_SIG_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii")


_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _b36(number: int) -> str:
    if number < 0:
        raise ValueError("negative")
    if number == 0:
        return "0"
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits))


def _int36(text: str) -> int:
    """Parse base36 written the way _b36 writes it (no leading zeros, lower case): one spelling per number."""
    if not text or (len(text) > 1 and text[0] == "0") or any(c not in _ALPHABET for c in text):
        raise ValueError(text)
    return int(text, 36)
