"""LMA case numbers as printed under the card's photo: `XX-XXXXXX`, optionally `/N` (card serial).

Only ASCII digits are accepted. The card prints ASCII; a number typed with other digit forms
(Arabic-Indic, full-width, …) is refused with a message rather than silently converted, so one
number has exactly one spelling and look-alike characters cannot slip through (docs/parsing.md).
"""

from __future__ import annotations

import unicodedata

from verify.errors import ParseError
from verify.model import LmaNumber

# Dashes people type or paste: hyphen-minus, hyphen, non-breaking hyphen, figure dash,
# en dash, em dash, minus sign.
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
# Spaces inside the number: space, no-break space, narrow no-break space, thin space.
INNER_SPACES = " \u00a0\u202f\u2009"
MAX_LEN = 64


def parse_lma(text: str) -> LmaNumber:
    """`12-345678/1`, `12345678`, `12 345678`, `12–345678` → LmaNumber("12-345678", 1)."""
    if not isinstance(text, str):
        raise ParseError("lma_not_text", "an LMA number must be text")
    s = text.strip()
    if not s:
        raise ParseError("lma_empty", "no LMA number given")
    if len(s) > MAX_LEN:
        raise ParseError("lma_too_long", "too long for an LMA number (XX-XXXXXX)")
    for ch in s:
        if ch.isdigit() and not ("0" <= ch <= "9"):
            name = unicodedata.name(ch, f"U+{ord(ch):04X}")
            raise ParseError(
                "lma_non_ascii_digit",
                "use the digits 0-9 as printed on the card (found {name})", name=name,
            )
    number_part, slash, serial_part = s.partition("/")
    serial = _parse_serial(serial_part) if slash else None
    digits = _digits(number_part)
    return LmaNumber(number=f"{digits[:2]}-{digits[2:]}", serial=serial)


def _digits(part: str) -> str:
    part = part.strip()
    out: list[str] = []
    separators = 0
    for i, ch in enumerate(part):
        if "0" <= ch <= "9":
            out.append(ch)
        elif ch in DASHES or ch in INNER_SPACES:
            # One separator, after the first two digits, as printed: 12-345678 / 12 345678.
            if len(out) != 2 or separators:
                raise ParseError(
                    "lma_bad_separator",
                    "an LMA number is written XX-XXXXXX: "
                    "one dash or space after the first two digits",
                )
            separators += 1
            if i + 1 < len(part) and (part[i + 1] in DASHES or part[i + 1] in INNER_SPACES):
                raise ParseError(
                    "lma_bad_separator", "only one dash or space between the digit groups"
                )
        elif ch.isalpha():
            raise ParseError(
                "lma_letters", "an LMA number has only digits; found the letter {ch}", ch=repr(ch)
            )
        else:
            raise ParseError(
                "lma_bad_character",
                "an LMA number has only digits and one dash; found {ch}", ch=_show(ch),
            )
    if len(out) != 8:
        raise ParseError(
            "lma_digit_count",
            "an LMA number has 8 digits (XX-XXXXXX); this has {n}", n=len(out),
        )
    return "".join(out)


def _parse_serial(part: str) -> int:
    part = part.strip()
    if not part:
        raise ParseError("lma_serial_missing", "a card serial follows the slash, e.g. 12-345678/1")
    if not all("0" <= ch <= "9" for ch in part):
        raise ParseError(
            "lma_serial_not_digits", "the card serial after the slash is a number, e.g. /1"
        )
    if len(part) > 3 or (len(part) > 1 and part[0] == "0"):
        raise ParseError("lma_serial_bad", "not a card serial: /{part}", part=part)
    value = int(part)
    if value == 0:
        raise ParseError("lma_serial_zero", "card serials start at 1; /0 is not a card serial")
    return value


def _show(ch: str) -> str:
    if ch.isprintable():
        return repr(ch)
    return f"U+{ord(ch):04X}"
