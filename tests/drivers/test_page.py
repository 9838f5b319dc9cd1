"""`page:`: a keyboard scanner typing into the desk page, through the common framer."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import open_source
from drivers.layout import LAYOUTS, render, type_text
from drivers.page import KeyboardPolicy, deliver, is_scanner_burst
from drivers.scan import SourceError

URL = "https://www.migrationsverket.se/lmakort/VALID0001"
POLICY = KeyboardPolicy()


def typed_on_swedish_desk(text: str) -> str:
    """What a Swedish desktop makes of a US-set scanner typing `text`."""
    return render(type_text(text, LAYOUTS["us"]), LAYOUTS["se"])


def test_scanner_speed_is_a_burst_and_human_speed_is_not():
    text = typed_on_swedish_desk(URL)
    assert is_scanner_burst(text, [8] * (len(text) - 1), POLICY)
    assert not is_scanner_burst(text, [150] * (len(text) - 1), POLICY)
    one_pause = [8] * (len(text) - 1)
    one_pause[10] = 400
    assert not is_scanner_burst(text, one_pause, POLICY)
    assert not is_scanner_burst("abc", [5, 5], POLICY)  # too short for a card's code
    assert not is_scanner_burst(text, [8] * 3, POLICY)  # gaps do not fit the text
    assert not is_scanner_burst("abcdefgh\x00ij", [1] * 10, POLICY)


@settings(max_examples=200, derandomize=True)
@given(st.text(max_size=60), st.lists(st.floats(allow_nan=True, allow_infinity=True),
                                      max_size=60))
def test_any_text_and_timing_gives_a_plain_answer(text, gaps):
    assert is_scanner_burst(text, gaps, POLICY) in (True, False)


def test_a_fast_person_is_not_a_scanner():
    text = typed_on_swedish_desk(URL)
    n = len(text) - 1
    assert not is_scanner_burst(text, [45] * n, POLICY)  # a practised typist, steady
    assert not is_scanner_burst(text, [20, 55] * (n // 2) + [20] * (n % 2), POLICY)  # rollover
    assert not is_scanner_burst("12345678", [31] * 7, POLICY)  # an LMA number typed briskly
    assert is_scanner_burst(text, [2, 58] * (n // 2) + [2] * (n % 2), POLICY)  # a bursty scanner


@pytest.mark.parametrize("key", ["a", "1", "<", "Ö"])
def test_a_held_key_is_not_a_scanner(key):
    for length in (8, 30, 400):
        assert not is_scanner_burst(key * length, [1] * (length - 1), POLICY)


def test_a_key_held_after_some_typing_is_not_a_scanner_but_a_zones_filler_is_fine():
    assert not is_scanner_burst("abc" + "d" * 20, [10] * 22, POLICY)
    assert not is_scanner_burst("https://x.se/" + "0" * 8 + "/", [5] * 21, POLICY)
    line = "ANDERSSON<<ANNA<<<<<<<<<<<<<<<"  # the third line of a TD1 zone
    assert is_scanner_burst(line, [5] * (len(line) - 1), POLICY)


@settings(max_examples=300, derandomize=True)
@given(st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S"]), min_size=8,
               max_size=80),
       st.lists(st.floats(0, 60), min_size=79, max_size=79))
def test_a_burst_is_taken_only_when_every_rule_holds(text, pool):
    gaps = pool[: len(text) - 1]
    mean = sum(gaps) / len(gaps)
    held = any(len(set(text[i:i + 8])) == 1 and text[i] != "<" for i in range(len(text) - 7))
    expected = mean <= POLICY.mean_gap_ms and len(set(text)) > 1 and not held
    assert is_scanner_burst(text, gaps, POLICY) == expected


def test_the_policy_comes_from_the_source_url_and_is_checked():
    assert KeyboardPolicy.from_url("page:?gap=40&min=6") == KeyboardPolicy(40, 6, 30)
    assert KeyboardPolicy.from_url("page:?gap=20") == KeyboardPolicy(20, 8, 20)
    assert KeyboardPolicy.from_url("page:?mean=15") == KeyboardPolicy(60, 8, 15)
    for bad in ("page:?gap=x", "page:?gap=0", "page:?min=1", "page:?gap=5000", "page:?mean=0",
                "page:?gap=20&mean=40", "page:?mean=x"):
        with pytest.raises(SourceError):
            KeyboardPolicy.from_url(bad)


def test_a_burst_goes_through_framing_and_layout_repair_like_any_keyboard_scanner():
    assert not deliver("nobody listens")  # no page source open: refused, not dropped silently
    scans = []
    with open_source("page:") as source:
        reader = threading.Thread(target=lambda: scans.extend(
            s for _, s in zip(range(2), source, strict=False)))
        reader.start()
        deadline = 200
        while not deliver(typed_on_swedish_desk(URL)) and deadline:  # until the source is open
            deadline -= 1
            reader.join(0.01)
        assert deliver("]Q1" + URL, "\t")  # AIM prefix, Tab suffix: the framer's job
        reader.join(5)
    assert [s.payload for s in scans] == [URL, URL]
    assert scans[1].symbology == "QR" and scans[0].source == "page:"
    assert not deliver("closed again")
