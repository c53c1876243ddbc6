"""Mainland mobile numbers: normalise what people type, validate, mask for display."""
from __future__ import annotations

import re
import unicodedata

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212().]")


def normalise_phone(raw: str | None) -> str | None:
    """Return the 11-digit number, or None if raw is not a mainland mobile number.

    Accepts full-width digits, spaces, dashes, brackets and a +86 / 0086 / 86 prefix.
    """
    if not raw:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()  # full-width digits and plus sign → ASCII
    text = _SEPARATORS.sub("", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    if not text.isascii() or not MOBILE_RE.match(text):
        return None
    return text


def mask_phone(phone: str | None) -> str:
    """138****1234: enough to recognise, not enough to call."""
    if not phone:
        return ""
    if len(phone) != 11:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"
