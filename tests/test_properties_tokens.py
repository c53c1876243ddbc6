"""Property tests of the QR tokens (tokens.py): random bytes, truncation, one changed character,
other keys, future and old times. Whatever comes in, the answer is the token's claims or a TokenError
with a known code — never another exception, and never a forged token accepted."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from volunteer_app import tokens
from volunteer_app.tokens import TokenError

KEY = "app-secret-key-for-property-tests"
CODES = set(TokenError.messages)
TOKEN_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.rpv"

ids = st.integers(min_value=1, max_value=10**12)
secrets_ = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2035, 12, 31),
                       timezones=st.just(timezone.utc))
SETTINGS = settings(max_examples=80, deadline=None)


def verify(token: str, *, secret: str, at: datetime, key: str = KEY, window=(None, None)):
    starts, ends = window
    parsed = tokens.parse_activity_token(token)
    tokens.verify_activity_token(parsed, secret_key=key, activity_secret=secret, scanned_at=at,
                                 starts_at=starts or at - timedelta(hours=1), ends_at=ends or at + timedelta(hours=1))
    return parsed


def refused(call) -> str:
    with pytest.raises(TokenError) as info:
        call()
    assert info.value.code in CODES
    return info.value.code


@SETTINGS
@given(ids, secrets_, moments, st.integers(min_value=0, max_value=44))
def test_a_fresh_rotating_token_round_trips(activity_id, secret, minted_at, age_seconds):
    token = tokens.rotating_token(secret_key=KEY, activity_id=activity_id, activity_secret=secret, at=minted_at)
    assert len(token) <= tokens.MAX_TOKEN_LENGTH
    parsed = verify(token, secret=secret, at=minted_at + timedelta(seconds=age_seconds))
    assert (parsed.kind, parsed.activity_id, parsed.step) == ("rotating", activity_id, tokens.time_step(minted_at))


@SETTINGS
@given(st.one_of(st.text(max_size=80), st.binary(max_size=80).map(lambda b: b.decode("latin-1")),
                 st.text(alphabet=TOKEN_CHARS, max_size=70)))
@example("")
@example("r1.1." + "A" * 16)
@example("12345")  # a plain database id
@example("r1.1.AAAAAAAAAAAAAAAA=")  # with base64 padding
@example("r\u200b1.1.AAAAAAAAAAAAAAAA")  # a zero-width space
@example("r1.1.AAAAAAAA\x00AAAAAAA")
@example("p" + "z" * 13 + "." + "A" * 16)
@example("r01.1.AAAAAAAAAAAAAAAA")  # a leading zero: a second spelling of the same id
def test_random_input_is_refused_as_bad_token(raw):
    code = refused(lambda: verify(raw, secret="0" * 32, at=datetime(2026, 3, 5, tzinfo=timezone.utc)))
    assert code == "bad_token"
    assert refused(lambda: tokens.read_personal_token(raw, secret_key=KEY)) == "bad_token"


@SETTINGS
@given(ids, secrets_, moments, st.data())
def test_a_truncated_token_is_refused(activity_id, secret, at, data):
    token = tokens.rotating_token(secret_key=KEY, activity_id=activity_id, activity_secret=secret, at=at)
    cut = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    assert refused(lambda: verify(token[:cut], secret=secret, at=at)) == "bad_token"


@SETTINGS
@given(ids, secrets_, moments, st.booleans(), st.data())
def test_one_changed_character_is_refused(activity_id, secret, at, poster, data):
    if poster:
        token = tokens.poster_token(secret_key=KEY, activity_id=activity_id, activity_secret=secret)
    else:
        token = tokens.rotating_token(secret_key=KEY, activity_id=activity_id, activity_secret=secret, at=at)
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.sampled_from(TOKEN_CHARS).filter(lambda c: c != token[position]))
    changed = token[:position] + replacement + token[position + 1:]
    assert refused(lambda: verify(changed, secret=secret, at=at)) == "bad_token"


@SETTINGS
@given(ids, secrets_, secrets_, moments, st.text(min_size=1, max_size=40))
def test_another_key_or_activity_secret_is_refused(activity_id, secret, other_secret, at, other_key):
    assume(other_secret != secret and other_key != KEY)
    token = tokens.rotating_token(secret_key=KEY, activity_id=activity_id, activity_secret=secret, at=at)
    assert refused(lambda: verify(token, secret=other_secret, at=at)) == "bad_token"
    assert refused(lambda: verify(token, secret=secret, at=at, key=other_key)) == "bad_token"
    forged = tokens.rotating_token(secret_key=other_key, activity_id=activity_id, activity_secret=secret, at=at)
    assert refused(lambda: verify(forged, secret=secret, at=at)) == "bad_token"


@SETTINGS
@given(ids, secrets_, moments, st.integers(min_value=1, max_value=10**6))
def test_a_token_for_another_activity_does_not_verify_for_this_one(activity_id, secret, at, offset):
    token = tokens.rotating_token(secret_key=KEY, activity_id=activity_id, activity_secret=secret, at=at)
    other = tokens.rotating_token(secret_key=KEY, activity_id=activity_id + offset, activity_secret=secret, at=at)
    body, _, signature = token.rpartition(".")
    other_body = other.rpartition(".")[0]
    spliced = f"{other_body}.{signature}"  # this activity's signature on another activity's claims
    assert refused(lambda: verify(spliced, secret=secret, at=at)) == "bad_token"
    assert body != other_body


@SETTINGS
@given(ids, secrets_, moments, st.integers(min_value=tokens.FUTURE_SKEW_SECONDS + tokens.STEP_SECONDS + 1,
                                           max_value=10**8))
def test_a_token_dated_in_the_future_is_refused(activity_id, secret, scanned_at, ahead):
    token = tokens.rotating_token(secret_key=KEY, activity_id=activity_id, activity_secret=secret,
                                  at=scanned_at + timedelta(seconds=ahead))
    assert refused(lambda: verify(token, secret=secret, at=scanned_at)) == "token_future"


@SETTINGS
@given(ids, secrets_, moments, st.integers(min_value=tokens.MAX_AGE_SECONDS + 1, max_value=10**8))
def test_an_old_rotating_token_is_refused(activity_id, secret, minted_at, age):
    token = tokens.rotating_token(secret_key=KEY, activity_id=activity_id, activity_secret=secret, at=minted_at)
    assert refused(lambda: verify(token, secret=secret, at=minted_at + timedelta(seconds=age))) == "token_expired"


@SETTINGS
@given(ids, secrets_, moments, st.integers(min_value=-10**6, max_value=10**6))
def test_a_poster_is_honoured_exactly_inside_the_window_and_margin(activity_id, secret, starts, offset_minutes):
    ends = starts + timedelta(hours=2)
    token = tokens.poster_token(secret_key=KEY, activity_id=activity_id, activity_secret=secret)
    at = starts + timedelta(minutes=offset_minutes)
    inside = starts - tokens.POSTER_MARGIN <= at <= ends + tokens.POSTER_MARGIN
    if inside:
        assert verify(token, secret=secret, at=at, window=(starts, ends)).kind == "poster"
    else:
        expected = "not_started" if at < starts else "ended"
        assert refused(lambda: verify(token, secret=secret, at=at, window=(starts, ends))) == expected


@SETTINGS
@given(ids, st.integers(min_value=1, max_value=10**6), secrets_, moments)
def test_personal_tokens_round_trip_and_are_not_activity_tokens(volunteer_id, version, secret, at):
    token = tokens.personal_token(secret_key=KEY, volunteer_id=volunteer_id, session_version=version)
    assert tokens.read_personal_token(token, secret_key=KEY) == (volunteer_id, version)
    assert refused(lambda: tokens.read_personal_token(token, secret_key=KEY + "x")) == "bad_token"
    assert refused(lambda: verify(token, secret=secret, at=at)) == "bad_token"
    activity_token = tokens.rotating_token(secret_key=KEY, activity_id=volunteer_id, activity_secret=secret, at=at)
    assert refused(lambda: tokens.read_personal_token(activity_token, secret_key=KEY)) == "bad_token"


@SETTINGS
@given(ids, st.integers(min_value=1, max_value=10**6), st.data())
def test_a_changed_personal_token_is_refused(volunteer_id, version, data):
    token = tokens.personal_token(secret_key=KEY, volunteer_id=volunteer_id, session_version=version)
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.sampled_from(TOKEN_CHARS).filter(lambda c: c != token[position]))
    changed = token[:position] + replacement + token[position + 1:]
    assert refused(lambda: tokens.read_personal_token(changed, secret_key=KEY)) == "bad_token"
