"""Activity and personal tokens: signatures, ages, windows, and every kind of garbage in the URL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from volunteer_app import tokens
from volunteer_app.tokens import TokenError

KEY = "app-secret"
SECRET = "activity-secret"
NOW = datetime(2026, 3, 5, 1, 30, tzinfo=timezone.utc)
START, END = NOW - timedelta(hours=1), NOW + timedelta(hours=1)


def verify(token, *, at=NOW, secret=SECRET, key=KEY):
    parsed = tokens.parse_activity_token(token)
    tokens.verify_activity_token(parsed, secret_key=key, activity_secret=secret, scanned_at=at,
                                 starts_at=START, ends_at=END)
    return parsed


def rotating(at=NOW, activity_id=42, secret=SECRET, key=KEY):
    return tokens.rotating_token(secret_key=key, activity_id=activity_id, activity_secret=secret, at=at)


def test_a_fresh_rotating_token_is_accepted_and_names_its_activity():
    token = rotating()
    assert len(token) <= 40 and token.isascii()
    assert verify(token).activity_id == 42


@pytest.mark.parametrize("age, ok", [(0, True), (44, True), (60, True), (76, False), (3600, False)])
def test_rotating_token_age_limit(age, ok):
    token = rotating(at=NOW - timedelta(seconds=age))
    if ok:
        verify(token)
    else:
        with pytest.raises(TokenError) as excinfo:
            verify(token)
        assert excinfo.value.code == "token_expired"


def test_a_token_from_the_future_is_refused():
    with pytest.raises(TokenError) as excinfo:
        verify(rotating(at=NOW + timedelta(minutes=5)))
    assert excinfo.value.code == "token_future"


def test_regenerating_the_activity_secret_revokes_its_tokens():
    with pytest.raises(TokenError) as excinfo:
        verify(rotating(), secret="a-new-secret")
    assert excinfo.value.code == "bad_token"


def test_another_app_key_cannot_sign():
    with pytest.raises(TokenError):
        verify(rotating(key="someone-else"))


def test_changing_the_activity_id_breaks_the_signature():
    token = rotating(activity_id=42)
    other = "r" + tokens._b36(43) + token[token.index("."):]
    with pytest.raises(TokenError) as excinfo:
        verify(other)
    assert excinfo.value.code == "bad_token"


GARBAGE = [
    "", "0", "42", "r", "r16.", "r16.abc", "x" * 5000, "r16.1.\x00\x00", "r16.1.😀😀😀😀😀😀😀😀",
    "r16.1.AAAA\u200bAAAAAAAAAAA", "p16.AAAAAAAAAAAAAAAA==", "R16.1.AAAAAAAAAAAAAAAA", "r016.1.AAAAAAAAAAAAAAAA",
    "v16.1.AAAAAAAAAAAAAAAA", "../etc/passwd", "r-1.1.AAAAAAAAAAAAAAAA",
]


@pytest.mark.parametrize("token", GARBAGE)
def test_garbage_is_a_bad_token(token):
    with pytest.raises(TokenError) as excinfo:
        verify(token)
    assert excinfo.value.code == "bad_token"


@pytest.mark.parametrize("cut", [1, 5, 10])
def test_truncated_or_altered_tokens_are_refused(cut):
    token = rotating()
    with pytest.raises(TokenError):
        verify(token[:-cut])
    flipped = token[:-cut] + ("A" if token[-cut] != "A" else "B") + token[len(token) - cut + 1:]
    with pytest.raises(TokenError):
        verify(flipped)


def test_poster_token_only_inside_the_window_with_margin():
    token = tokens.poster_token(secret_key=KEY, activity_id=7, activity_secret=SECRET)
    verify(token, at=START - timedelta(minutes=20))
    verify(token, at=END + timedelta(minutes=20))
    with pytest.raises(TokenError) as early:
        verify(token, at=START - timedelta(hours=2))
    assert early.value.code == "not_started"
    with pytest.raises(TokenError) as late:
        verify(token, at=END + timedelta(hours=2))
    assert late.value.code == "ended"


def test_personal_token_round_trip_and_forgery():
    token = tokens.personal_token(secret_key=KEY, volunteer_id=12345, session_version=3)
    assert tokens.read_personal_token(token, secret_key=KEY) == (12345, 3)
    with pytest.raises(TokenError):
        tokens.read_personal_token(token, secret_key="other")
    with pytest.raises(TokenError):
        tokens.read_personal_token(token.replace("v", "r", 1), secret_key=KEY)
    with pytest.raises(TokenError):
        tokens.read_personal_token("12345", secret_key=KEY)
