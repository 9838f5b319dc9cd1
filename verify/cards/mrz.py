"""Machine-readable zones (ICAO Doc 9303): parse, check, repair OCR confusions, judge a UT card.

A UT card (EU uniform residence-permit card) carries a TD1 zone: 3 lines of 30 characters.
Passports carry TD3 (2 × 44); a few cards carry TD2 (2 × 36). Everything here is pure: text in,
frozen values out. Nothing from a zone is ever logged, and `repr(Mrz)` hides the person.

Check digits (9303 part 3, 4.9): characters valued 0-9, A=10 … Z=35, `<`=0, weights 7-3-1,
sum mod 10. Two characters whose values differ by a multiple of 10 (e.g. `<`/`A`/`K`/`U`,
`6`/`G`) give the same digit: no check digit can tell them apart, so the OCR repair never
relies on a check digit to choose between them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from verify.clock import now as local_now
from verify.clock import today as local_today
from verify.errors import ParseError
from verify.model import Document, Status, Validity

Format = Literal["TD1", "TD2", "TD3"]

CHARSET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
LINE_SHAPES: dict[Format, tuple[int, int]] = {"TD1": (3, 30), "TD2": (2, 36), "TD3": (2, 44)}
MAX_INPUT = 4096
UT_ISSUER = "SWE"


# States and organisations a zone may name (issuing state, nationality): ISO 3166-1 alpha-3
# (Debian iso-codes) and the 9303 part 3 codes (D for Germany, UN, EU, refugee and
# stateless codes, UTO for specimens). Used by the camera reader to rule out misreads.
STATES = frozenset((
    "ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA "
    "BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN "
    "CIV CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU "
    "EGY ERI ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB "
    "GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL "
    "ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO "
    "LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR "
    "MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER "
    "PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM "
    "SLB SLE SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK "
    "TKL TKM TLS TON TTO TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM "
    "VUT WLF WSM YEM ZAF ZMB ZWE "
    "D EUE GBD GBN GBO GBP GBS UNO UNA UNK XBA XIM XCC XCE XCO XEC XPO XES XMP XOM XDC XXA "
    "XXB XXC XXX RKS UTO"
).split())

# Confusions an OCR engine makes on OCR-B. Digits → letters in alphabetic positions, letters →
# digits in numeric positions: the position's type alone forces these.
TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "T": "1", "Z": "2",
            "S": "5", "G": "6", "B": "8", "A": "4"}
TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B", "4": "A", "7": "T"}
# In alphanumeric positions both readings are legal; only a check digit can choose, and only
# between characters whose values differ by something other than a multiple of 10.
AMBIGUOUS = {"O": "0D", "0": "OD", "D": "0O", "Q": "0O", "I": "1", "1": "I", "B": "8", "8": "B",
             "S": "5", "5": "S", "Z": "2", "2": "Z"}
MAX_CANDIDATES = 4096


def char_value(c: str) -> int:
    """9303 value of one zone character."""
    if c.isdigit():
        return ord(c) - 48
    if "A" <= c <= "Z":
        return ord(c) - 55
    return 0  # filler `<` (and anything else: callers validate the charset first)


def check_digit(data: str) -> str:
    """The 9303 check digit of `data` (weights 7, 3, 1 repeating; sum mod 10)."""
    weights = (7, 3, 1)
    return str(sum(char_value(c) * weights[i % 3] for i, c in enumerate(data)) % 10)


# --------------------------------------------------------------------------------------------
# Layout: where each field sits, per format. (line, start, end) slices; line index 0-based.

@dataclass(frozen=True)
class Layout:
    fmt: Format
    code: tuple[int, int, int]
    state: tuple[int, int, int]
    number: tuple[int, int, int]
    number_check: tuple[int, int]
    optional1: tuple[int, int, int]
    birth: tuple[int, int, int]
    birth_check: tuple[int, int]
    sex: tuple[int, int]
    expiry: tuple[int, int, int]
    expiry_check: tuple[int, int]
    nationality: tuple[int, int, int]
    optional2: tuple[int, int, int] | None
    optional2_check: tuple[int, int] | None
    names: tuple[int, int, int]
    composite: tuple[int, int]
    composite_parts: tuple[tuple[int, int, int], ...]


LAYOUTS: dict[Format, Layout] = {
    "TD1": Layout(
        "TD1", code=(0, 0, 2), state=(0, 2, 5), number=(0, 5, 14), number_check=(0, 14),
        optional1=(0, 15, 30), birth=(1, 0, 6), birth_check=(1, 6), sex=(1, 7),
        expiry=(1, 8, 14), expiry_check=(1, 14), nationality=(1, 15, 18),
        optional2=(1, 18, 29), optional2_check=None, names=(2, 0, 30), composite=(1, 29),
        composite_parts=((0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)),
    ),
    "TD2": Layout(
        "TD2", code=(0, 0, 2), state=(0, 2, 5), number=(1, 0, 9), number_check=(1, 9),
        optional1=(1, 28, 35), birth=(1, 13, 19), birth_check=(1, 19), sex=(1, 20),
        expiry=(1, 21, 27), expiry_check=(1, 27), nationality=(1, 10, 13),
        optional2=None, optional2_check=None, names=(0, 5, 36), composite=(1, 35),
        composite_parts=((1, 0, 10), (1, 13, 20), (1, 21, 35)),
    ),
    "TD3": Layout(
        "TD3", code=(0, 0, 2), state=(0, 2, 5), number=(1, 0, 9), number_check=(1, 9),
        optional1=(1, 28, 42), birth=(1, 13, 19), birth_check=(1, 19), sex=(1, 20),
        expiry=(1, 21, 27), expiry_check=(1, 27), nationality=(1, 10, 13),
        optional2=None, optional2_check=(1, 42), names=(0, 5, 44), composite=(1, 43),
        composite_parts=((1, 0, 10), (1, 13, 20), (1, 21, 43)),
    ),
}


def _type_template(fmt: Format) -> list[str]:
    """Per line, one letter per position: n numeric, a alphabetic, x alphanumeric, s sex."""
    lay = LAYOUTS[fmt]
    rows, width = LINE_SHAPES[fmt]
    tpl = [["x"] * width for _ in range(rows)]

    def mark(sl: tuple[int, int, int], kind: str) -> None:
        for i in range(sl[1], sl[2]):
            tpl[sl[0]][i] = kind

    for sl in (lay.code, lay.state, lay.nationality, lay.names):
        mark(sl, "a")
    for sl in (lay.birth, lay.expiry):
        mark(sl, "n")
    for pos in (lay.birth_check, lay.expiry_check, lay.composite):
        tpl[pos[0]][pos[1]] = "n"
    tpl[lay.sex[0]][lay.sex[1]] = "s"
    # The document-number check digit is numeric unless a TD1/TD2 long number overflows (`<`).
    tpl[lay.number_check[0]][lay.number_check[1]] = "c"
    if lay.optional2_check is not None:
        tpl[lay.optional2_check[0]][lay.optional2_check[1]] = "c"
    return ["".join(row) for row in tpl]


TEMPLATES: dict[Format, list[str]] = {f: _type_template(f) for f in LAYOUTS}


# --------------------------------------------------------------------------------------------
# The value

@dataclass(frozen=True)
class Mrz:
    """One machine-readable zone, read and checked. `repr` never shows the person."""

    format: Format
    document_code: str
    issuing_state: str
    document_number: str
    nationality: str
    sex: str  # "M", "F" or "X" (unspecified)
    birth_date: date | None = field(repr=False)
    expiry_date: date | None
    optional_data: str = field(repr=False)
    surname: str = field(repr=False)
    given_names: str = field(repr=False)
    check_results: tuple[tuple[str, bool], ...]
    problems: tuple[str, ...] = ()
    repaired: tuple[str, ...] = ()  # field names an OCR repair changed (never the values)
    lines: tuple[str, ...] = field(default=(), repr=False)

    @property
    def checks(self) -> dict[str, bool]:
        return dict(self.check_results)

    @property
    def failed(self) -> tuple[str, ...]:
        """Fields whose check digit fails, then other problems (impossible dates)."""
        return tuple(k for k, ok in self.check_results if not ok)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.problems

    @property
    def is_residence_permit(self) -> bool:
        """9303 part 5: TD1 cards begin with A, C or I; a permit holder is not a national."""
        return (self.format in ("TD1", "TD2") and self.document_code[:1] in "ACI"
                and self.nationality != self.issuing_state)

    @property
    def kind(self) -> str:
        if self.document_code.startswith("P"):
            return "passport"
        if self.is_residence_permit and self.issuing_state == UT_ISSUER:
            return "ut"
        if self.is_residence_permit:
            return "residence_permit"
        return "id_card"

    def age(self, today: date) -> int | None:
        if self.birth_date is None:
            return None
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    def __repr__(self) -> str:
        return (f"Mrz({self.format}, code={self.document_code!r}, state={self.issuing_state!r}, "
                f"failed={list(self.failed)!r})")

    __str__ = __repr__

    def describe(self) -> str:
        """One line for `verify parse`: what the zone is, without name or birth date."""
        kinds = {"ut": "UT card (residence permit)", "residence_permit": "residence permit",
                 "passport": "passport", "id_card": "identity card"}
        expiry = self.expiry_date.isoformat() if self.expiry_date else "unreadable"
        state = "all check digits pass" if self.ok else (
            "FAILED: " + ", ".join([*self.failed, *self.problems]))
        return (f"MRZ {self.format}: {kinds[self.kind]} {self.document_code.rstrip('<')} "
                f"issued by {self.issuing_state}, number {self.document_number}, "
                f"expires {expiry}; {state}")

    def to_json(self, show_name: bool = False, today: date | None = None) -> dict[str, Any]:
        """JSON facts for `Document.mrz`; the name only when asked for."""
        out: dict[str, Any] = {
            "format": self.format,
            "document_kind": self.kind,
            "document_code": self.document_code.rstrip("<") or "<",
            "issuing_state": self.issuing_state,
            "document_number": self.document_number,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "age": self.age(today) if today is not None else None,
            "sex": self.sex,
            "nationality": self.nationality,
            "checks": self.checks,
            "problems": list(self.problems),
            "repaired": list(self.repaired),
        }
        if show_name:
            out["names"] = {"surname": self.surname, "given_names": self.given_names}
        return out


# --------------------------------------------------------------------------------------------
# Shape

_SEPARATORS = re.compile(r"[\s|]+")
_OCR_FILLERS = str.maketrans({"«": "<", "‹": "<", "≤": "<", "〈": "<", "(": "<", "{": "<",
                              "[": "<"})


def _tokens(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(text.strip().upper()) if t]


def looks_like_mrz(text: str) -> bool:
    """Cheap shape test: a few tokens of zone characters adding up to a zone's length."""
    if not isinstance(text, str) or len(text) > MAX_INPUT:
        return False
    joined = "".join(_tokens(text))
    if not 60 <= len(joined) <= 100 or "<<" not in joined:
        return False
    if joined[0] not in "ACIPV":
        return False
    return sum(c in CHARSET for c in joined) >= len(joined) - 2


def _split_lines(text: str, ocr_tolerant: bool) -> tuple[Format, list[str]]:
    if not isinstance(text, str):
        raise ParseError("mrz_type", "the machine-readable zone must be text")
    if len(text) > MAX_INPUT:
        raise ParseError("mrz_too_long", "too much text for a machine-readable zone")
    upper = text.upper()
    if ocr_tolerant:
        upper = upper.translate(_OCR_FILLERS)
    tokens = _tokens(upper)
    if not tokens:
        raise ParseError("mrz_empty", "no machine-readable zone given")
    bad = sorted({c for t in tokens for c in t if c not in CHARSET})
    if bad and not ocr_tolerant:
        raise ParseError(
            "mrz_charset",
            "a machine-readable zone holds only A-Z, 0-9 and '<'; found {chars}",
            chars=", ".join(repr(c) for c in bad[:5]),
        )
    if bad:
        tokens = ["".join(c for c in t if c in CHARSET) for t in tokens]
        tokens = [t for t in tokens if t]
    # Lines given one per token, each the right length (the name line may lack its fillers).
    for fmt, (rows, width) in LINE_SHAPES.items():
        if len(tokens) != rows:
            continue
        name_line = 2 if fmt == "TD1" else 0
        lines = [t + "<" * (width - len(t)) if i == name_line and len(t) < width else t
                 for i, t in enumerate(tokens)]
        if all(len(t) == width for t in lines):
            return fmt, lines
    # One run of characters, or OCR lines that drifted: cut at the zone's fixed widths.
    joined = "".join(tokens)
    for fmt, (rows, width) in LINE_SHAPES.items():
        if len(joined) == rows * width and (len(tokens) == 1 or ocr_tolerant):
            return fmt, [joined[i * width:(i + 1) * width] for i in range(rows)]
    if ocr_tolerant:
        fixed = _refit_fillers(tokens)
        if fixed is not None:
            return fixed
    lengths = "+".join(str(len(t)) for t in tokens)
    raise ParseError(
        "mrz_shape",
        "not a machine-readable zone: lines of {lengths} characters; expected 3×30 (UT card, "
        "TD1), 2×44 (passport, TD3) or 2×36 (TD2)", lengths=lengths,
    )


def _refit_fillers(tokens: Sequence[str]) -> tuple[Format, list[str]] | None:
    """OCR drops or doubles `<` in long filler runs: stretch or shrink the last run to fit.

    Check digits still decide afterwards; this only restores the line width.
    """
    for fmt, (rows, width) in LINE_SHAPES.items():
        if len(tokens) != rows or not all(abs(len(t) - width) <= 4 for t in tokens):
            continue
        lines: list[str] = []
        for t in tokens:
            if len(t) == width:
                lines.append(t)
                continue
            runs = list(re.finditer(r"<{2,}", t))
            if not runs:
                break
            run = runs[-1]
            new_len = len(run.group()) + width - len(t)
            if new_len < 1:
                break
            lines.append(t[:run.start()] + "<" * new_len + t[run.end():])
        if len(lines) == rows and all(len(x) == width for x in lines):
            return fmt, lines
    return None


# --------------------------------------------------------------------------------------------
# OCR repair

def _type_fix(fmt: Format, lines: list[str]) -> list[str]:
    """Letters in numeric positions become digits and digits in alphabetic ones letters."""
    out = []
    for line, tpl in zip(lines, TEMPLATES[fmt], strict=True):
        chars = list(line)
        for i, (c, kind) in enumerate(zip(chars, tpl, strict=True)):
            if kind == "n" and not c.isdigit():
                chars[i] = TO_DIGIT.get(c, c)
            elif kind == "a" and c.isdigit():
                chars[i] = TO_LETTER.get(c, c)
            elif kind == "s" and c not in "MFX<":
                chars[i] = {"K": "<", "H": "M", "N": "M", "E": "F", "P": "F"}.get(c, c)
            elif kind == "c" and c not in "0123456789<":
                chars[i] = TO_DIGIT.get(c, c)
        out.append("".join(chars))
    # The name line: a K inside the trailing filler run is a mis-read `<` (names are unchecked).
    lay = LAYOUTS[fmt]
    li, s, e = lay.names
    name = out[li][s:e]
    m = re.search(r"<[<K]*$", name)
    if m:
        name = name[:m.start()] + "<" * (len(name) - m.start())
    out[li] = out[li][:s] + name + out[li][e:]
    return out


def _variants(segment: str) -> Iterator[str]:
    options = [c + AMBIGUOUS.get(c, "") for c in segment]
    for combo in itertools.product(*options):
        yield "".join(combo)


def _n_variants(segment: str) -> int:
    n = 1
    for c in segment:
        n *= 1 + len(AMBIGUOUS.get(c, ""))
    return n


def _check_repair(fmt: Format, lines: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """Try the alphanumeric readings the check digits can tell apart; keep a single winner.

    The zone as read is kept when it already passes every check. Otherwise every combination
    of readings of the ambiguous characters in checked alphanumeric positions is tried, and a
    repair is made only when exactly one combination passes every check digit.
    """
    if _all_checks(parse_fields(fmt, lines)[1]):
        return lines, ()
    lay = LAYOUTS[fmt]
    # Alphanumeric segments a check digit covers: the document number (+ TD1/TD2 overflow),
    # TD3 personal number, TD1/TD2 optional data (composite only).
    segments: list[tuple[str, tuple[int, int, int]]] = [
        ("document_number", lay.number), ("optional_data", lay.optional1)]
    if lay.optional2 is not None:
        segments.append(("optional_data", lay.optional2))
    choices: list[list[str]] = []
    total = 1
    for _, (li, s, e) in segments:
        seg = lines[li][s:e]
        n = _n_variants(seg)
        if total * n > MAX_CANDIDATES:
            choices.append([seg])
            continue
        total *= n
        choices.append(list(_variants(seg)))
    winners: list[list[str]] = []
    for combo in itertools.product(*choices):
        cand = list(lines)
        for (_, (li, s, e)), seg in zip(segments, combo, strict=True):
            cand[li] = cand[li][:s] + seg + cand[li][e:]
        if _all_checks(parse_fields(fmt, cand)[1]):
            winners.append(cand)
            if len(winners) > 1:
                break
    if len(winners) != 1:
        return lines, ()
    win = winners[0]
    changed = [name for name, (li, s, e) in segments if win[li][s:e] != lines[li][s:e]]
    return win, tuple(dict.fromkeys(changed))


def _all_checks(results: Sequence[tuple[str, bool]]) -> bool:
    return all(ok for _, ok in results)


# --------------------------------------------------------------------------------------------
# Fields

def _get(lines: Sequence[str], sl: tuple[int, int, int]) -> str:
    return lines[sl[0]][sl[1]:sl[2]]


def _at(lines: Sequence[str], pos: tuple[int, int]) -> str:
    return lines[pos[0]][pos[1]]


def _digit_ok(data: str, digit: str) -> bool:
    return digit.isdigit() and check_digit(data) == digit


def parse_fields(
    fmt: Format, lines: Sequence[str]
) -> tuple[dict[str, str], list[tuple[str, bool]]]:
    """Raw field strings and check-digit verdicts, 9303 rules (incl. long document numbers)."""
    lay = LAYOUTS[fmt]
    number = _get(lines, lay.number)
    number_check = _at(lines, lay.number_check)
    optional1 = _get(lines, lay.optional1)
    # 9303 parts 5/6: a number longer than 9 characters puts `<` in the check position and
    # continues in the optional data, ending with its check digit, then a filler.
    if fmt in ("TD1", "TD2") and number_check == "<" and optional1[:1] not in ("", "<"):
        ext = optional1.split("<", 1)[0]
        full_number = number + ext[:-1]
        number_ok = _digit_ok(full_number, ext[-1])
        optional1 = optional1[len(ext):]
    else:
        full_number = number
        number_ok = _digit_ok(number, number_check)
    results = [
        ("document_number", number_ok),
        ("birth_date", _digit_ok(_get(lines, lay.birth), _at(lines, lay.birth_check))),
        ("expiry_date", _digit_ok(_get(lines, lay.expiry), _at(lines, lay.expiry_check))),
    ]
    if lay.optional2_check is not None:  # TD3 personal number: `<` check digit when empty
        digit = _at(lines, lay.optional2_check)
        pn = _get(lines, lay.optional1)
        results.append(("optional_data", _digit_ok(pn, digit)
                        or (digit == "<" and set(pn) <= {"<"})))
    composite = "".join(_get(lines, p) for p in lay.composite_parts)
    results.append(("composite", _digit_ok(composite, _at(lines, lay.composite))))
    optional = optional1
    if lay.optional2 is not None:
        optional = optional1.rstrip("<") + "<" + _get(lines, lay.optional2)
    raw = {
        "document_code": _get(lines, lay.code),
        "issuing_state": _get(lines, lay.state),
        "document_number": full_number.replace("<", ""),
        "birth_date": _get(lines, lay.birth),
        "sex": _at(lines, lay.sex),
        "expiry_date": _get(lines, lay.expiry),
        "nationality": _get(lines, lay.nationality),
        "optional_data": optional.strip("<"),
        "names": _get(lines, lay.names),
    }
    return raw, results


def _yymmdd(raw: str) -> tuple[int, int, int] | None:
    if len(raw) != 6 or not raw.isdigit():
        return None
    return int(raw[:2]), int(raw[2:4]), int(raw[4:6])


def _make_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def resolve_birth(raw: str, today: date) -> date | None:
    """A birth date is never in the future: the latest century that keeps it in the past."""
    parts = _yymmdd(raw)
    if parts is None:
        return None
    yy, mm, dd = parts
    for century in (today.year // 100 * 100, today.year // 100 * 100 - 100):
        d = _make_date(century + yy, mm, dd)
        if d is None:
            return None
        if d <= today:
            return d
    return None


def resolve_expiry(raw: str, today: date) -> date | None:
    """An expiry date is near today: the century that puts it closest (within 50 years)."""
    parts = _yymmdd(raw)
    if parts is None:
        return None
    yy, mm, dd = parts
    best: date | None = None
    base = today.year // 100 * 100
    for century in (base - 100, base, base + 100):
        d = _make_date(century + yy, mm, dd)
        if d is None:
            return None
        if best is None or abs((d - today).days) < abs((best - today).days):
            best = d
    return best


def _names(raw: str) -> tuple[str, str]:
    primary, _, secondary = raw.partition("<<")
    return (primary.replace("<", " ").strip(), secondary.replace("<", " ").strip())


def parse_mrz(text: str, *, ocr_tolerant: bool = False, today: date | None = None) -> Mrz:
    """Read a zone. Raises ParseError when the text cannot be a zone at all.

    A zone whose check digits fail is still returned (with `failed` naming the fields), so the
    caller can say which field is wrong; `mrz_status` turns that into `unknown`.
    `today` resolves two-digit years (default: the local date).
    """
    if today is None:

        today = local_today()
    fmt, lines = _split_lines(text, ocr_tolerant)
    code = lines[0][0]
    if code == "V":
        raise ParseError("mrz_visa",
                         "this is a visa's machine-readable zone, not a card or passport")
    if code not in "ACIP":
        raise ParseError("mrz_code",
                         "a machine-readable zone starts with P, I, A or C (document code)")
    if fmt == "TD3" and code != "P" or fmt == "TD1" and code == "P":
        raise ParseError("mrz_code",
                         "a {fmt} zone with this document code is not a card or passport",
                         fmt=fmt)
    repaired: tuple[str, ...] = ()
    if ocr_tolerant:
        fixed = _type_fix(fmt, lines)
        typed = ("characters_by_type",) if fixed != lines else ()
        lines, repaired = _check_repair(fmt, fixed)
        repaired = typed + repaired
    raw, results = parse_fields(fmt, lines)
    problems: list[str] = []
    birth = resolve_birth(raw["birth_date"], today)
    if birth is None:
        problems.append("birth_date_unreadable")
    expiry = resolve_expiry(raw["expiry_date"], today)
    if expiry is None:
        problems.append("expiry_date_unreadable")
    sex = raw["sex"]
    if sex not in "MFX<":
        problems.append("sex_unreadable")
    surname, given = _names(raw["names"])
    if not surname and not given:
        problems.append("name_missing")
    return Mrz(
        format=fmt,
        document_code=raw["document_code"],
        issuing_state=raw["issuing_state"].rstrip("<"),
        document_number=raw["document_number"],
        nationality=raw["nationality"].rstrip("<"),
        sex="X" if sex == "<" else sex,
        birth_date=birth,
        expiry_date=expiry,
        optional_data=raw["optional_data"],
        surname=surname,
        given_names=given,
        check_results=tuple(results),
        problems=tuple(problems),
        repaired=repaired,
        lines=tuple(lines),
    )


# --------------------------------------------------------------------------------------------
# Status

FIELD_WORDS = {"document_number": "document number", "birth_date": "birth date",
               "expiry_date": "expiry date", "optional_data": "personal number",
               "composite": "composite (whole zone)"}


def mrz_status(
    mrz: Mrz, *, today: date, show_name: bool = False, now: datetime | None = None
) -> Status:
    """Validity for UT purposes. Only a Swedish residence-permit card whose every check digit
    passes can be `valid`, and only while today ≤ its expiry date. Doubt gives `unknown`."""
    if now is None:

        now = local_now()
    kind = mrz.kind
    doc = Document(kind=_doc_kind(kind), mrz=mrz.to_json(show_name=show_name, today=today))
    expiry = mrz.expiry_date

    def validity(
        state: Literal["valid", "not_valid", "unknown"], basis: str, reason: str, detail: str,
        **facts: str,
    ) -> Status:
        return Status(document=doc, validity=Validity(
            state=state, basis=basis, checked_at=now, detail=detail, reason=reason,
            facts=tuple(facts.items())))

    if mrz.failed or mrz.problems:
        words = [FIELD_WORDS.get(f, f) for f in mrz.failed]
        words += [p.replace("_", " ") for p in mrz.problems]
        return validity("unknown", "mrz_check_failed", "mrz_check_failed",
                        "the machine-readable zone did not read correctly (" + ", ".join(words)
                        + "); read it again or check the card by eye",
                        fields=",".join([*mrz.failed, *mrz.problems]))
    assert expiry is not None
    if kind != "ut":
        what = {"passport": "a passport", "residence_permit": "a residence permit",
                "id_card": "an identity card"}[kind]
        return validity("unknown", "not_a_ut_card", "not_a_ut_card",
                        f"{what} issued by {mrz.issuing_state}, expires {expiry.isoformat()}: "
                        "not a Swedish UT card, so it does not show temporary protection",
                        kind=kind, issuer=mrz.issuing_state, date=expiry.isoformat())
    if today <= expiry:
        return validity("valid", "mrz_expiry", "ut_valid",
                        f"UT card issued by SWE, valid until {expiry.isoformat()} (expiry in the "
                        "machine-readable zone; all check digits pass)", date=expiry.isoformat())
    return validity("not_valid", "mrz_expiry", "ut_expired",
                    f"UT card expired on {expiry.isoformat()}", date=expiry.isoformat())


def _doc_kind(kind: str) -> Any:
    """The contract's document kinds (docs/status-schema.json): ut, passport, unknown. Other
    residence permits and identity cards are `unknown` there; `mrz.document_kind` says which."""
    return kind if kind in ("ut", "passport") else "unknown"


def mrz_facts(mrz: Mrz, today: date) -> Mapping[str, Any]:
    """What the decision layer needs: age and birth date (no name)."""
    return {"age": mrz.age(today),
            "birth_date": mrz.birth_date.isoformat() if mrz.birth_date else None}


# --------------------------------------------------------------------------------------------
# Composing zones (fixtures, demo, tests): the inverse of parse_mrz.

def _pad(value: str, width: int) -> str:
    value = re.sub(r"[^A-Z0-9<]", "<", value.upper().replace(" ", "<"))
    if len(value) > width:
        raise ValueError(f"{value!r} does not fit in {width} characters")
    return value + "<" * (width - len(value))


def _name_field(surname: str, given_names: str, width: int) -> str:
    name = _pad(surname, 99).rstrip("<") + "<<" + _pad(given_names, 99).rstrip("<")
    return _pad(name[:width], width)


def compose_td1(
    *, document_number: str, birth: str, expiry: str, surname: str, given_names: str,
    sex: str = "<", nationality: str = "UKR", issuing_state: str = UT_ISSUER,
    document_code: str = "IR", optional1: str = "", optional2: str = "",
) -> str:
    """Three lines of a TD1 zone (dates as YYMMDD), check digits computed, long numbers
    overflowing into the optional data as 9303 part 5 says."""
    number = document_number.upper()
    if len(number) > 9:
        line1_number = number[:9] + "<"
        opt1 = _pad(number[9:] + check_digit(number) + "<" + optional1, 15)
    else:
        line1_number = _pad(number, 9) + check_digit(_pad(number, 9))
        opt1 = _pad(optional1, 15)
    line1 = _pad(document_code, 2) + _pad(issuing_state, 3) + line1_number + opt1
    line2 = (birth + check_digit(birth) + sex + expiry + check_digit(expiry)
             + _pad(nationality, 3) + _pad(optional2, 11))
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    return "\n".join((line1, line2, _name_field(surname, given_names, 30)))


def compose_td3(
    *, document_number: str, birth: str, expiry: str, surname: str, given_names: str,
    sex: str = "<", nationality: str = "UKR", issuing_state: str = "UKR",
    document_code: str = "P", personal_number: str = "",
) -> str:
    """Two lines of a passport zone (TD3), check digits computed."""
    number = _pad(document_number, 9)
    personal = _pad(personal_number, 14)
    pcheck = "<" if set(personal) == {"<"} else check_digit(personal)
    line2 = (number + check_digit(number) + _pad(nationality, 3) + birth + check_digit(birth)
             + sex + expiry + check_digit(expiry) + personal + pcheck)
    line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:43])
    line1 = _pad(document_code, 2) + _pad(issuing_state, 3) + _name_field(surname, given_names, 39)
    return "\n".join((line1, line2))
