"""Whether a profile's `token_pattern` runs in bounded time on any token. Pure.

Python's `re` backtracks: `(a+)+` doubles its work with every character of a token that almost
fits (10 s for 29 characters), and a profile file is written by a person. So a token pattern is
held to a shape whose matching time is at most polynomial and small: no quantifier inside a
quantified group unless the inner count is fixed (`(?:[A-Z]{4}-){2}` is fine), no alternation
inside a repeated group, no back-references or look-arounds, at most `MAX_VARIABLE_REPEATS`
variable-length repeats in all, and the pattern itself short. Tokens are also bounded in length
(`verify.cards.reference.MAX_TOKEN_CHARS`), so the worst case is a few hundred thousand steps.
"""

from __future__ import annotations

import re
import re._parser as sre  # the standard library's own parser: what `re` will run
from typing import Any

from verify.locale import N_

MAX_PATTERN_CHARS = 200
MAX_VARIABLE_REPEATS = 2

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_REFUSED = {
    sre.GROUPREF: "backref",
    sre.GROUPREF_EXISTS: "conditional",
    sre.ASSERT: "lookaround",
    sre.ASSERT_NOT: "lookaround",
}
# The sentence for each problem, whole, so that each can be translated as one.
PROBLEMS = {
    "long": N_("lookup profile {path}: token_pattern {pattern} is refused: it is longer than "
               "{n} characters"),
    "not_a_pattern": N_("lookup profile {path}: token_pattern {pattern} is not a regular "
                        "expression ({why})"),
    "backref": N_("lookup profile {path}: token_pattern {pattern} is refused: it uses a "
                  "back-reference"),
    "conditional": N_("lookup profile {path}: token_pattern {pattern} is refused: it uses a "
                      "conditional group"),
    "lookaround": N_("lookup profile {path}: token_pattern {pattern} is refused: it uses a "
                     "look-ahead or look-behind"),
    "nested": N_("lookup profile {path}: token_pattern {pattern} is refused: a repeat inside a "
                 "repeat can take exponential time, as (a+)+ does"),
    "alternative": N_("lookup profile {path}: token_pattern {pattern} is refused: an "
                      "alternative inside a repeat can take exponential time, as (a|ab)* does"),
    "many": N_("lookup profile {path}: token_pattern {pattern} is refused: more than {n} "
               "repeats of varying length can take very long"),
}


def pattern_problem(pattern: str) -> tuple[str, dict[str, object]] | None:
    """What could make `pattern` take unbounded time: a key of `PROBLEMS` and its values."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return "long", {"n": MAX_PATTERN_CHARS}
    try:
        parsed = sre.parse(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return "not_a_pattern", {"why": str(exc)}
    variable = 0
    # (items, inside a repeat that can run more than once)
    todo: list[tuple[Any, bool]] = [(parsed, False)]
    while todo:
        items, in_repeat = todo.pop()
        for op, arg in items:
            if op in _REFUSED:
                return _REFUSED[op], {}
            if op in _REPEATS:
                low, high, body = arg
                varies = low != high
                if in_repeat and varies:
                    return "nested", {}
                variable += varies
                if variable > MAX_VARIABLE_REPEATS:
                    return "many", {"n": MAX_VARIABLE_REPEATS}
                todo.append((body, in_repeat or high > 1))
            elif op is sre.BRANCH:
                if in_repeat:
                    return "alternative", {}
                todo.extend((branch, in_repeat) for branch in arg[1])
            elif op is sre.SUBPATTERN:
                todo.append((arg[-1], in_repeat))
            elif op is getattr(sre, "ATOMIC_GROUP", None):
                todo.append((arg, in_repeat))
    return None
