"""Property tests of the phone normaliser: whatever people type, it never raises; every way of writing a
valid number gives that number; anything that is not 11 digits starting 1[3-9] gives None."""
from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from volunteer_app.accounts.phone import mask_phone, normalise_phone

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
FULL_WIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")

valid_numbers = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
separators = st.sampled_from(["", " ", "-", "  ", "\u3000", "\u2013", "\u2212", "."])
prefixes = st.sampled_from(["", "+86", "+86 ", "0086", "0086 ", "86", "+86-", "＋86"])


def written(number: str, prefix: str, sep: str, full_width: bool, grouping: tuple[int, int]) -> str:
    """The number the way a person might write it: 138 0013 8000, +86-138-..., in full-width digits..."""
    a, b = grouping
    text = prefix + sep.join(part for part in (number[:a], number[a:b], number[b:]) if part)
    if full_width:
        text = text.translate(FULL_WIDTH)
    return text


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=60), st.binary(max_size=40).map(lambda b: b.decode("latin-1"))))
@example("")
@example("\x00" * 11)
@example("1" * 10_000)
@example("١٣٨٠٠١٣٨٠٠٠")  # Arabic-Indic digits: digits, but not ours
@example("𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟎𝟎")  # mathematical digits fold to ASCII under NFKC
def test_never_raises_and_answers_a_mobile_number_or_none(raw):
    result = normalise_phone(raw)
    assert result is None or (MOBILE.match(result) and result.isascii())


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_normalising_is_idempotent(raw):
    once = normalise_phone(raw)
    if once is not None:
        assert normalise_phone(once) == once


@settings(max_examples=100, deadline=None)
@given(
    valid_numbers,
    prefixes,
    separators,
    st.booleans(),
    st.sampled_from([(3, 7), (3, 3), (11, 11), (4, 8), (2, 6)]),
    st.sampled_from(["", " ", "\t", "\u3000"]),
)
def test_every_way_of_writing_a_valid_number_gives_that_number(number, prefix, sep, full_width, grouping, pad):
    text = pad + written(number, prefix, sep, full_width, grouping) + pad
    assert normalise_phone(text) == number


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=16))
def test_digit_strings_are_accepted_exactly_when_they_are_a_mobile_number(digits):
    """Without a prefix, 11 digits starting 1[3-9] pass and nothing else does (13 digits 86... is the +86 form)."""
    result = normalise_phone(digits)
    if MOBILE.match(digits):
        assert result == digits
    elif len(digits) == 13 and digits.startswith("86") and MOBILE.match(digits[2:]):
        assert result == digits[2:]
    elif len(digits) == 15 and digits.startswith("0086") and MOBILE.match(digits[4:]):
        assert result == digits[4:]
    else:
        assert result is None


@settings(max_examples=100, deadline=None)
@given(valid_numbers, st.sampled_from(["0", "00", "1", "12"]), st.booleans())
def test_a_digit_too_many_or_too_few_is_refused(number, extra, cut):
    text = number[:-1] if cut else number + extra
    assert normalise_phone(text) is None


@settings(max_examples=50, deadline=None)
@given(
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.sampled_from("012"),
)
def test_numbers_not_starting_1_3_to_9_are_refused(rest, second):
    assert normalise_phone(f"1{second}{rest}") is None
    assert normalise_phone(f"2{rest}3") is None


@settings(max_examples=50, deadline=None)
@given(valid_numbers)
def test_the_mask_hides_the_middle_four_digits(number):
    masked = mask_phone(number)
    assert masked == number[:3] + "****" + number[-4:]
