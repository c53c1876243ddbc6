"""Volunteer numbers (志愿者编号): the stable public number of a person, never an ID number.

A number is the city's 6-digit administrative code, an 8-digit sequence (the account's id) and a check
character computed as for the resident ID number (ISO 7064 MOD 11-2; "X" stands for 10), so a mistyped
digit is caught before any look-up: 330100 00012345 7.
"""
from __future__ import annotations

import re

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


def is_valid(number: str) -> bool:
    """Whether a typed number is well formed and its check character matches (case and spaces forgiven)."""
    number = normalise(number)
    return bool(_PATTERN.match(number)) and check_character(number[:14]) == number[14]


def normalise(number: str) -> str:
    return re.sub(r"\s+", "", number or "").upper()
