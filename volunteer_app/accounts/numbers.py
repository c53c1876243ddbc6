"""Volunteer numbers (志愿者编号): the stable public number of a person, never an ID number.

A number is the city's 6-digit administrative code, an 8-digit sequence (the account's id) and a check
character computed as for the resident ID number (ISO 7064 MOD 11-2; "X" stands for 10), so a mistyped
digit is caught before any look-up: 330100 00012345 7.
"""
from __future__ import annotations

import re

from flask import current_app, has_app_context
from sqlalchemy import bindparam, update

from ..config import Defaults
from ..models import Volunteer

SEQUENCE_DIGITS = 8
_WEIGHTS = [pow(2, i, 11) for i in range(14, 0, -1)]  # weights of the 14 digits before the check character
_PATTERN = re.compile(r"^\d{14}[\dX]$")


def check_character(digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character of 14 digits."""
    total = sum(int(d) * w for d, w in zip(digits, _WEIGHTS))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def volunteer_number(city_code: str, sequence: int) -> str:
    """The number of the account with this sequence (its id) in the city with this 6-digit code."""
    if not (len(city_code) == 6 and city_code.isdigit()) or not 0 < sequence < 10**SEQUENCE_DIGITS:
        raise ValueError("a 6-digit city code and a sequence of at most 8 digits")
    digits = f"{city_code}{sequence:0{SEQUENCE_DIGITS}d}"
    return digits + check_character(digits)


def numberer(city_code: str):
    """A fast volunteer_number(city_code, sequence) for writing many at once (the demo seed's 166,000): the
    weighted sums of the sequence's two 4-digit halves come from tables, the same check character."""
    volunteer_number(city_code, 1)  # validates the code
    prefix = sum(int(d) * w for d, w in zip(city_code, _WEIGHTS))

    def half(weights):
        return [sum(int(d) * w for d, w in zip(f"{n:04d}", weights)) for n in range(10_000)]

    high, low = half(_WEIGHTS[6:10]), half(_WEIGHTS[10:14])
    checks = ["X" if v == 10 else str(v) for v in ((12 - t % 11) % 11 for t in range(11))]

    def make(sequence: int) -> str:
        return f"{city_code}{sequence:08d}{checks[(prefix + high[sequence // 10_000] + low[sequence % 10_000]) % 11]}"

    return make


def is_valid(number: str) -> bool:
    """Whether a typed number is well formed and its check character matches (case and spaces forgiven)."""
    number = normalise(number)
    return bool(_PATTERN.match(number)) and check_character(number[:14]) == number[14]


def normalise(number: str) -> str:
    return re.sub(r"\s+", "", number or "").upper()


def city_code() -> str:
    """The configured CITY_CODE (the default outside an app context, e.g. a script)."""
    return current_app.config.get("CITY_CODE", Defaults.CITY_CODE) if has_app_context() else Defaults.CITY_CODE


def assign(*, session, volunteer) -> str:
    """Give a flushed volunteer (its id known) its number, once; the number never changes afterwards."""
    if volunteer.volunteer_no is None:
        volunteer.volunteer_no = volunteer_number(city_code(), volunteer.id)
        session.add(volunteer)
        session.flush()
    return volunteer.volunteer_no


def assign_many(*, session, volunteer_ids) -> None:
    """Numbers for volunteers written in bulk (a roster import): one executemany UPDATE."""
    code = city_code()
    rows = [{"vid": vid, "no": volunteer_number(code, vid)} for vid in volunteer_ids]
    if rows:
        table = Volunteer.__table__
        session.execute(update(table).where(table.c.id == bindparam("vid"), table.c.volunteer_no.is_(None))
                        .values(volunteer_no=bindparam("no")), rows)
