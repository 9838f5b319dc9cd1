"""The little CSS the visible-text reader understands: declarations that hide, and the simple
rules of a page's own `<style>` that apply them. Pure, linear in the text.

A browser hides text in many ways; a lookup page that hides a "valid" sentence must not read as
valid. What is understood (docs/hostile-conditions.md lists what is not): `display:none`,
`visibility:hidden|collapse`, `content-visibility:hidden`, `font-size` of zero, `opacity` of
zero (or all but zero), in an inline style or in a top-level rule of the page's own stylesheet
whose selector is a simple one: an element name, `.class`, `#id`, or a compound of them
(`p.note#x`). Rules inside `@media`, `@supports` and other at-rules, and selectors with
combinators, attributes or pseudo-classes, are not applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Below this an element's text is not readable on the screen.
_MIN_OPACITY = 0.05
_HIDING = {
    "display": frozenset({"none"}),
    "visibility": frozenset({"hidden", "collapse"}),
    "content-visibility": frozenset({"hidden"}),
}
_NUMBER = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+))([a-z%]*)")
# An identifier: a name start (`_`, a letter, any character from U+00A0 up), then name
# characters (those, digits and `-`). Written as the complement within U+0000-U+009F: a class
# spanning all of Unicode (or re.I over it) costs about 25 ms to compile at every start; this
# is the same set of characters (tests/lookup/test_css.py checks it).
_NAME_START = r"[^\x00-\x40\x5b-\x5e\x60\x7b-\x9f]"
_NAME_CHAR = r"[^\x00-\x2c\x2e\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x9f]"
_IDENT = rf"-?{_NAME_START}{_NAME_CHAR}*"
_SIMPLE = re.compile(rf"(\*|{_IDENT})?((?:[.#]{_IDENT})*)")
_PART = re.compile(rf"([.#])({_IDENT})")
_STRUCTURE = re.compile(r"[{};]")
_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})\s?|(.))", re.S)


@dataclass(frozen=True)
class Selector:
    """A simple selector: an element name (or any), and the classes and id it requires."""

    tag: str | None
    classes: frozenset[str]
    ident: str | None

    def matches(self, tag: str, classes: frozenset[str], ident: str | None) -> bool:
        return (
            (self.tag is None or self.tag == tag)
            and self.classes <= classes
            and (self.ident is None or self.ident == ident)
        )


def declarations_hide(declarations: str) -> bool:
    """Whether a declaration block (an inline style, a rule's body) hides its element."""
    for declaration in declarations.casefold().split(";"):
        prop, _, value = declaration.partition(":")
        prop = prop.strip()
        value = value.replace("!important", "").strip()
        if value in _HIDING.get(prop, ()):
            return True
        if prop == "font-size" and _zero(value, 0.0):
            return True
        if prop == "opacity" and _zero(value, _MIN_OPACITY):
            return True
    return False


def _zero(value: str, below: float) -> bool:
    """A number (any unit, or a percentage of one) at or under `below`."""
    match = _NUMBER.fullmatch(value)
    if not match:
        return False
    number = float(match.group(1))
    if match.group(2) == "%":
        number /= 100
    return number <= below


def unescape(text: str) -> str:
    """CSS escapes read as a browser reads them: `\\6c` and `\\l` are both `l`."""

    def one(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        return match.group(2)

    return _ESCAPE.sub(one, text)


def strip_comments(sheet: str) -> str:
    """The sheet without `/* … */` comments; an unclosed one runs to the end, as in a browser."""
    out: list[str] = []
    i = 0
    while True:
        start = sheet.find("/*", i)
        if start < 0:
            out.append(sheet[i:])
            return "".join(out)
        out.append(sheet[i:start])
        end = sheet.find("*/", start + 2)
        if end < 0:
            return "".join(out)
        i = end + 2


def top_level_rules(sheet: str) -> list[tuple[str, str]]:
    """(selector text, declarations) of each top-level rule; at-rules and their blocks skipped.

    One pass over the text, counting braces, so a sheet of any shape costs its length.
    """
    rules: list[tuple[str, str]] = []
    depth = 0
    start = 0  # where the current prelude (or block body) begins
    prelude = ""
    for match in _STRUCTURE.finditer(sheet):
        i, c = match.start(), match.group()
        if c == "{":
            if depth == 0:
                prelude = sheet[start:i].strip()
                start = i + 1
            depth += 1
        elif c == "}":
            if depth == 0:
                start = i + 1
                continue
            depth -= 1
            if depth == 0:
                if prelude and not prelude.startswith("@"):
                    rules.append((prelude, sheet[start:i]))
                start = i + 1
        elif c == ";" and depth == 0:
            start = i + 1  # a statement at-rule (`@import …;`) or stray text ends here
    return rules


def parse_selector(text: str) -> Selector | None:
    """A simple selector, or None for anything else (combinators, attributes, pseudo-classes)."""
    match = _SIMPLE.fullmatch(text.strip())
    if not match or not (match.group(1) or match.group(2)):
        return None
    tag = match.group(1)
    # Class and id compared case-folded, as a page in quirks mode does: when in doubt, hide.
    parts = [(m.group(1), m.group(2).casefold()) for m in _PART.finditer(match.group(2))]
    classes = frozenset(name for mark, name in parts if mark == ".")
    ids = [name for mark, name in parts if mark == "#"]
    if len(set(ids)) > 1:
        return None  # `#a#b` matches nothing
    return Selector(
        tag=None if tag in (None, "*") else tag.casefold(),
        classes=classes,
        ident=ids[0] if ids else None,
    )


def hiding_selectors(sheet: str) -> tuple[Selector, ...]:
    """The simple selectors whose top-level rules hide their elements."""
    found: dict[Selector, None] = {}
    for prelude, body in top_level_rules(strip_comments(sheet)):
        if not declarations_hide(unescape(body)):
            continue
        for part in unescape(prelude).split(","):
            selector = parse_selector(part)
            if selector is not None:
                found[selector] = None
    return tuple(found)


class SelectorIndex:
    """Hiding selectors filed by what an element must have (its id, a class, its name), so an
    element is checked only against the rules that could match it."""

    def __init__(self, selectors: tuple[Selector, ...]) -> None:
        self._by: dict[tuple[str, str], list[Selector]] = {}
        for s in selectors:
            if s.ident is not None:
                key = ("#", s.ident)
            elif s.classes:
                key = (".", min(s.classes))
            else:
                key = ("", s.tag or "*")
            self._by.setdefault(key, []).append(s)

    def __bool__(self) -> bool:
        return bool(self._by)

    def candidates(
        self, tag: str, classes: frozenset[str], ident: str | None
    ) -> list[list[Selector]]:
        """The groups of selectors that could match an element, to check with `matches`."""
        keys = [("", "*"), ("", tag), *((".", c) for c in classes)]
        if ident is not None:
            keys.append(("#", ident))
        return [group for key in keys if (group := self._by.get(key))]
