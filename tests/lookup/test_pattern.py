"""Token patterns that could backtrack without end are refused on load; every pattern that is
accepted matches any token of the longest allowed length in bounded time."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.cards.reference import MAX_TOKEN_CHARS
from verify.lookup.pattern import pattern_problem


@pytest.mark.parametrize("pattern", [
    "[A-Za-z0-9]{4,64}", "[A-Z]{2}[0-9]{6}", "(?:[A-Z]{4}-){2}[A-Z]{4}", "LMA[0-9]{8}",
    "[A-Za-z0-9\\-_.]{8,12}", "(?:LMA|UT)[0-9]{8}", "[0-9]+",
])
def test_the_patterns_people_write_are_accepted(pattern: str) -> None:
    assert pattern_problem(pattern) is None


@pytest.mark.parametrize("pattern", [
    "(a+)+", "(a*)*", "(?:[a-z]+)+$", "(a|a)*", "(a|ab)+", "(\\w+\\s?)+", "(a)\\1",
    "(?=a)a+", "a*a*a*b", "x" * 300, "(",
])
def test_patterns_that_could_backtrack_without_end_are_refused(pattern: str) -> None:
    assert pattern_problem(pattern) is not None


PIECES = st.sampled_from(["a", "[a-z]", "\\w", ".", "(?:a|b)", "[0-9]", "-"])
QUANT = st.sampled_from(["", "+", "*", "?", "{2}", "{1,5}", "{3,}"])
ATOM = st.builds(lambda p, q: p + q, PIECES, QUANT)
GROUP = st.builds(lambda atoms, q: "(?:" + "".join(atoms) + ")" + q,
                  st.lists(ATOM, min_size=1, max_size=3), QUANT)
PATTERN = st.lists(st.one_of(ATOM, GROUP), min_size=1, max_size=5).map("".join)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(PATTERN)
def test_every_accepted_pattern_runs_in_bounded_time(pattern: str) -> None:
    """The worst tokens for a backtracking engine: long runs that almost fit, then a misfit."""
    if pattern_problem(pattern) is not None:
        return
    compiled = re.compile(pattern)
    for token in ("a" * (MAX_TOKEN_CHARS - 1) + "!", "ab" * (MAX_TOKEN_CHARS // 2 - 1) + "!",
                  "a-" * (MAX_TOKEN_CHARS // 2 - 1) + "!", "1" * (MAX_TOKEN_CHARS - 1) + "!"):
        started = time.monotonic()
        compiled.fullmatch(token)
        assert time.monotonic() - started < 0.5, (pattern, token)
