"""`classify`: whatever text arrives, the answer is a value or the project's own ParseError."""

from __future__ import annotations

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
KINDS = st.sampled_from([None, "lma", "url", "token", "lookup", "mrz"])


@settings(max_examples=300)
@given(st.text(max_size=400), KINDS)
def test_arbitrary_text_never_raises_anything_but_parse_error(text: str, kind: str | None) -> None:
    try:
        parsed = classify(text, as_kind=kind, settings=SETTINGS)
    except ParseError as exc:
        assert exc.reason and exc.message
        return
    assert parsed.describe()
    assert parsed.to_json()["kind"] == parsed.kind


@given(st.binary(max_size=200))
def test_bytes_decoded_any_way_are_handled(data: bytes) -> None:
    for text in (data.decode("latin-1"), data.decode("utf-8", "replace")):
        try:
            classify(text, settings=SETTINGS)
        except ParseError:
            pass


def test_classify_never_fetches() -> None:
    # Classification is pure: an LMA number and a reference come back without any lookup.
    assert classify("12-345678", settings=SETTINGS).kind == "lma_number"
    assert classify("VALID0001", settings=SETTINGS).kind == "lookup_reference"
