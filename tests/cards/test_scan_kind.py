"""A scanned code is a card only as a lookup address or an MRZ; typed tokens stay a manual path."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.cards.classify import classify
from verify.errors import ParseError
from verify.lookup.profile import load_profile
from verify.lookup.settings import Settings

SETTINGS = Settings(
    profile=load_profile(),
    base="https://www.migrationsverket.se/lmakort/",
    allowed_hosts=frozenset({"www.migrationsverket.se"}),
)


@pytest.mark.parametrize("text", ["ABC12345", "CODE39TEST", "VALID0001", "12345678", "lmakort/VAL"])
def test_scanned_barcodes_that_are_no_address_are_not_cards(text: str) -> None:
    with pytest.raises(ParseError) as err:
        classify(text, as_kind="scan", settings=SETTINGS)
    assert err.value.reason == "not_a_card_scan"


def test_a_scanned_address_is_a_lookup_and_the_same_token_typed_is_too() -> None:
    scanned = classify(SETTINGS.base + "VALID0001", as_kind="scan", settings=SETTINGS)
    typed = classify("VALID0001", settings=SETTINGS)
    assert scanned.kind == typed.kind == "lookup_reference"
    assert scanned.to_json()["lookup_url"] == typed.to_json()["lookup_url"]


@settings(max_examples=200, derandomize=True)
@given(st.text(max_size=200))
def test_a_scan_is_never_taken_for_a_typed_token(text: str) -> None:
    try:
        parsed = classify(text, as_kind="scan", settings=SETTINGS)
    except ParseError:
        return
    if parsed.kind == "lookup_reference":
        assert text.strip().lower().startswith(("https:", "http:", "//"))
    else:
        assert parsed.kind == "mrz"
