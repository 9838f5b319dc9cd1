"""LMA numbers as people type them; everything else refused with the reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify.cards.lma import parse_lma
from verify.errors import ParseError
from verify.model import LmaNumber


@pytest.mark.parametrize(
    "text, number, serial",
    [
        ("12-345678", "12-345678", None),
        ("12-345678/1", "12-345678", 1),
        ("12345678", "12-345678", None),
        ("12 345678", "12-345678", None),
        ("12\u2013345678", "12-345678", None),  # en dash
        ("12\u2014345678/2", "12-345678", 2),  # em dash
        ("12\u2212345678", "12-345678", None),  # minus sign
        ("  12-345678/12 \n", "12-345678", 12),
        ("12-345678 / 3", "12-345678", 3),
        ("12\u00a0345678", "12-345678", None),  # no-break space
    ],
)
def test_accepted_spellings_normalise(text: str, number: str, serial: int | None) -> None:
    assert parse_lma(text) == LmaNumber(number, serial)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "lma_empty"),
        ("   ", "lma_empty"),
        ("12-34567", "lma_digit_count"),
        ("12-3456789", "lma_digit_count"),
        ("1234567", "lma_digit_count"),
        ("12-34567A", "lma_letters"),
        ("AB-345678", "lma_letters"),
        ("12-345678/0", "lma_serial_zero"),
        ("12-345678/", "lma_serial_missing"),
        ("12-345678/x", "lma_serial_not_digits"),
        ("12-345678/01", "lma_serial_bad"),
        ("12-345678/1/2", "lma_serial_not_digits"),
        ("1-2345678", "lma_bad_separator"),
        ("12--345678", "lma_bad_separator"),
        ("12-345-678", "lma_bad_separator"),
        ("12_345678", "lma_bad_character"),
        ("12-345678\x00", "lma_bad_character"),
        ("١٢-٣٤٥٦٧٨", "lma_non_ascii_digit"),  # Arabic-Indic digits
        ("１２-３４５６７８", "lma_non_ascii_digit"),  # full-width digits
        ("9" * 100, "lma_too_long"),
    ],
)
def test_refused_with_reason(text: str, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_lma(text)
    assert caught.value.reason == reason
    assert caught.value.message  # a sentence for the person at the desk


def test_messages_say_what_is_wrong() -> None:
    with pytest.raises(ParseError, match="8 digits.*this has 7"):
        parse_lma("12-34567")
    with pytest.raises(ParseError, match="letter 'A'"):
        parse_lma("12-34567A")
    with pytest.raises(ParseError, match="start at 1"):
        parse_lma("12-345678/0")
    with pytest.raises(ParseError, match="digits 0-9"):
        parse_lma("１２-３４５６７８")


@given(st.text(max_size=80))
def test_arbitrary_text_gives_number_or_parse_error(text: str) -> None:
    try:
        value = parse_lma(text)
    except ParseError:
        return
    assert len(value.number) == 9 and value.number[2] == "-"
    assert value.number.replace("-", "").isascii() and value.number.replace("-", "").isdigit()
    assert value.serial is None or value.serial >= 1


@given(st.from_regex(r"[ ]*[0-9]{2}[-\u2013 ]?[0-9]{6}(/[1-9][0-9]{0,2})?[ ]*", fullmatch=True))
def test_normalising_twice_equals_once(text: str) -> None:
    once = parse_lma(text)
    assert parse_lma(str(once)) == once
    assert parse_lma(once.number).number == once.number
