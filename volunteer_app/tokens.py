"""Every signed or hashed token of the app, one scheme per family, each kind with its own purpose.

Signed tokens (pure functions: no database, no request; secrets are passed in). The key of a kind is
SHA-256(SECRET_KEY, NUL, purpose): `sign(secret_key, purpose, body)` is HMAC-SHA256 truncated to 96 bits,
so a token of one kind never passes for another. A kind whose holder can revoke it puts a per-object
secret in its purpose (an activity's secret, a team's invite nonce, a volunteer's session version).

    kind       shape (URL-safe, short so the QR stays coarse)      purpose           revoked by
    rotating   r<activity id>.<15-second step>.<signature>         Activity.secret   regenerate the secret
    poster     p<activity id>.<signature>                          Activity.secret   regenerate the secret
    personal   v<volunteer id>.<session version>.<signature>       "personal"        bump session_version
    invite     itsdangerous URLSafeSerializer [team id, nonce]     salt INVITE_SALT  a new Team.invite_nonce

Ids and numbers are base36. A rotating token names its 15-second time step; it is refused when older than
MAX_AGE_SECONDS at scan time, or dated more than FUTURE_SKEW_SECONDS ahead (the server mints every token).
A poster token is honoured inside the activity window plus POSTER_MARGIN.

Hashed tokens: `new_hashed_token()` gives a random token to show once and the SHA-256 to store;
`token_hash(token)` finds it again. Password reset links use them (one use, 24 h: accounts/service.py).

Short codes (the 6 digits sent by SMS, accounts/codes.py): `new_short_code()`; stored as `short_code_hash(...)`,
the signature under purpose "sms_code" of purpose, phone and code. A million codes are quick to try against a
plain SHA-256, so this hash is keyed by the app secret: a copy of the table alone does not give the codes away.

Coming kinds take a new purpose (certificate verification: `sign(secret_key, "certificate", body)`)
or a hashed token (API keys), never a scheme of their own.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer

from .errors import DomainError

STEP_SECONDS = 15
MAX_AGE_SECONDS = 60
FUTURE_SKEW_SECONDS = 20
POSTER_MARGIN = timedelta(minutes=30)
MAX_TOKEN_LENGTH = 64
_SIG_BYTES = 12
INVITE_SALT = "team-invite"
_INVITE_CHARS = re.compile(r"[A-Za-z0-9_\-.]+")
_MAX_INVITE_LENGTH = 200
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
    return f"{body}.{sign(secret_key, activity_secret, body)}"


def poster_token(*, secret_key: str, activity_id: int, activity_secret: str) -> str:
    """The printed poster token; it is only honoured inside the activity window plus a margin."""
    body = f"p{_b36(activity_id)}"
    return f"{body}.{sign(secret_key, activity_secret, body)}"


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
    if not hmac.compare_digest(signature, sign(secret_key, activity_secret, body)):
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
    return f"{body}.{sign(secret_key, 'personal', body)}"


def read_personal_token(token: str, *, secret_key: str) -> tuple[int, int]:
    """(volunteer_id, session_version) from a genuine personal token, else TokenError('bad_token').

    The caller still compares the version with the volunteer's current one.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not _SHAPE.match(token) or token[0] != "v":
        raise TokenError("bad_token")
    body, _, signature = token.rpartition(".")
    if not hmac.compare_digest(signature, sign(secret_key, "personal", body)):
        raise TokenError("bad_token")
    parts = body[1:].split(".")
    if len(parts) != 2:
        raise TokenError("bad_token")
    try:
        return _int36(parts[0]), _int36(parts[1])
    except ValueError as exc:
        raise TokenError("bad_token") from exc


def invite_token(*, secret_key: str, team_id: int, nonce: str) -> str:
    """A signed token naming the team and its current invite nonce; a new nonce revokes every older token."""
    return URLSafeSerializer(secret_key, salt=INVITE_SALT).dumps([team_id, nonce])


def read_invite_token(token: str, *, secret_key: str) -> tuple[int, str]:
    """(team_id, nonce) from a genuine invite token, else TokenError('bad_token').

    The caller still compares the nonce with the team's current one.
    """
    # Base64 decoding skips characters outside its alphabet; refuse them first, so one token has one spelling.
    if not token or len(token) > _MAX_INVITE_LENGTH or not _INVITE_CHARS.fullmatch(token):
        raise TokenError("bad_token")
    serializer = URLSafeSerializer(secret_key, salt=INVITE_SALT)
    try:
        payload = serializer.loads(token)
    except (BadData, ValueError, TypeError, UnicodeError):
        raise TokenError("bad_token") from None
    # The last base64 character carries unused bits: "…B" may decode like "…A". Only the one spelling we issue counts.
    if not hmac.compare_digest(serializer.dumps(payload), token):
        raise TokenError("bad_token")
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)
            and not isinstance(payload[0], bool) and isinstance(payload[1], str)):
        raise TokenError("bad_token")
    return payload[0], payload[1]


def new_hashed_token() -> tuple[str, str]:
    """A random token to show once (256 bits, URL-safe) and its hash, the only thing to store."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a hashed token is stored and found."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_short_code() -> str:
    """Six random digits, for a code sent by SMS."""
    return f"{secrets.randbelow(1_000_000):06d}"


def short_code_hash(secret_key: str, *, purpose: str, phone: str, code: str) -> str:
    """The keyed hash under which a short code is stored: valid only for its purpose and phone."""
    return sign(secret_key, "sms_code", f"{purpose}.{phone}.{code}")


def sign(secret_key: str, purpose: str, body: str) -> str:
    """The signature of body for one purpose: HMAC-SHA256 under SHA-256(secret_key NUL purpose), 96 bits, base64url."""
    key = hashlib.sha256(f"{secret_key}\x00{purpose}".encode()).digest()
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
