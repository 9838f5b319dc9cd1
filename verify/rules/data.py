"""Reading the rule files: TOML in, frozen values out, with clear errors for broken files.

Rules are data so that a region can be added or corrected without touching code (as OpenFisca
keeps legislation parameters). This module only reads and checks shape; verify.rules.engine
evaluates. The full JSON Schema (schema.json) is enforced in the tests; at load time a light
structural check names the file, the rule and the field that is wrong.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from verify import tomlfile
from verify.errors import ConfigError
from verify.model import Citation

RULES_DIR = Path(__file__).resolve().parent
NATIONAL_FILE = "national.toml"
COMPILED_FILE = "compiled.json"

CATEGORIES = ("asylum_seeker", "temporary_protection", "undocumented", "visitor", "resident")
ENTITLEMENTS = (
    "same_as_resident", "care_that_cannot_wait", "self_pay", "resident_rules", "manual_check"
)
STEP_KINDS = ("step", "fee", "contact", "record", "judgement", "note")
DOCUMENTS = ("lma", "ut", "none")
VALIDITIES = ("valid", "not_valid", "none")
SHOW = ("desk", "detail")
# The groups `verify regions` and the coverage matrix speak of.
GROUPS = ("asylum_adult", "asylum_child", "temporary_protection_adult",
          "temporary_protection_child", "undocumented_adult", "undocumented_child")
DATE_KINDS = ("applies_from", "reviewed", "decided", "published", "undated")
MAX_AGE = 130


@dataclass(frozen=True)
class StepData:
    kind: str
    text: str
    text_en: str
    source: str
    show: str = "desk"
    # A date the desk writes, this many months after the day of the visit: the text's
    # `{date}` is filled in (e.g. a validity date a record system asks for).
    date_months: int | None = None


@dataclass(frozen=True)
class When:
    """Conditions of a rule; None means "any"."""

    category: frozenset[str] | None = None
    age_min: int | None = None
    age_max: int | None = None
    document: frozenset[str] | None = None
    validity: frozenset[str] | None = None
    registered: bool | None = None
    # Yes/no facts a routine states as a condition (e.g. "stadigvarande uppehåller sig i
    # länet"), named in national.toml's [conditions]: (name, required answer).
    conditions: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True)
class Condition:
    """A yes/no fact a routine makes care depend on: asked (desk button, CLI flag), never
    assumed."""

    name: str
    question: str
    question_en: str
    yes: str
    yes_en: str
    no: str
    no_en: str
    flag: str  # the command-line option that answers it


@dataclass(frozen=True)
class Document:
    """A document cited, as a person finds it, with the passages kept from it.

    `owner` is "national" or the region whose document it is: a region's decision may cite
    only its own documents and national ones. `quotes` are the short verbatim passages kept in
    the repository (law sections, page quotes), read on `read`; a seed document has none here
    (its text is the seed file).
    """

    key: str
    owner: str
    citation: Citation
    quotes: tuple[str, ...] = ()
    read: date | None = None
    written_about: int | None = None  # the year an undated page was written, as estimated


@dataclass(frozen=True)
class Rule:
    id: str
    origin: str  # region name, or "national"
    when: When
    steps: tuple[StepData, ...] = ()
    entitlement: str | None = None  # None: the rule only adds steps
    responsible: str | None = None
    responsible_text: str = ""
    responsible_text_en: str = ""
    summary: str = ""
    summary_en: str = ""
    source: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    first: bool = False  # its steps go before every other step (e.g. "check the card first")

    def in_force(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True)
class Derive:
    """How a document (kind + validity) sets the category, or which candidates remain."""

    document: str
    validity: str | None
    category: str | None
    candidates: tuple[str, ...]
    fact: str
    question: str
    question_en: str
    source: str


@dataclass(frozen=True)
class RegionRules:
    name: str
    title: str
    title_en: str
    aliases: tuple[str, ...]
    seed: str
    document: str
    responsible: str
    responsible_text: str
    responsible_text_en: str
    rules: tuple[Rule, ...]
    path: str
    valid_from: date | None = None
    valid_from_source: str = ""
    valid_to: date | None = None
    reviewed: date | None = None
    dates_note: str = ""
    dates_note_en: str = ""
    publisher: str = ""
    url: str | None = None
    # False: no routine of this region is on file; the national rules answer (with a note).
    routine: bool = True
    # The region's own documents ([documents.<key>] in its file); `main` names its routine.
    documents: Mapping[str, Document] = field(default_factory=dict)
    main: str = ""
    # Groups the region's documents speak to (shown by `verify regions`), e.g. "asylum_child".
    covers: tuple[str, ...] = ()
    note: str = ""  # what the documents leave to the national rules, in words
    note_en: str = ""
    derive: tuple[Derive, ...] = ()  # how this region's routine reads a card, before national

    def citation(self) -> Citation | None:
        """The region's routine as a person finds it (None without a routine on file)."""
        if not self.routine:
            return None
        if self.main:
            return self.documents[self.main].citation
        if self.valid_from:
            when, kind = _iso(self.valid_from), "applies_from"
        elif self.reviewed:
            when, kind = _iso(self.reviewed), "reviewed"
        else:
            when, kind = None, "undated"
        return Citation(title=self.document, publisher=self.publisher, region=self.title,
                        date=when, date_kind=kind, url=self.url)

    def in_force(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "routine": self.routine,
            "title": self.title,
            "title_en": self.title_en,
            "seed": self.seed,
            "document": self.document,
            "valid_from": _iso(self.valid_from),
            "valid_to": _iso(self.valid_to),
            "reviewed": _iso(self.reviewed),
            "dates_note": self.dates_note,
            "dates_note_en": self.dates_note_en,
            "publisher": self.publisher,
            "url": self.url,
            "citation": c.to_json() if (c := self.citation()) else None,
            "aliases": list(self.aliases),
            "covers": list(self.covers),
            "note": self.note,
            "note_en": self.note_en,
            "documents": [
                {**d.citation.to_json(), "key": d.key,
                 "read": _iso(d.read), "written_about": d.written_about}
                for d in self.documents.values()
            ] if self.documents else (
                [c.to_json()] if (c := self.citation()) is not None else []),
            "rules": len(self.rules),
            "rule_dates": sorted(
                {f"{r.id}: {_iso(r.valid_from) or '…'} – {_iso(r.valid_to) or '…'}"
                 for r in self.rules if r.valid_from or r.valid_to}
            ),
        }


@dataclass(frozen=True)
class National:
    title: str
    child_under: int
    categories: Mapping[str, tuple[str, str]]  # category → (sv, en)
    derive: tuple[Derive, ...]
    rules: tuple[Rule, ...]
    documents: Mapping[str, Document] = field(default_factory=dict)
    conditions: Mapping[str, Condition] = field(default_factory=dict)
    # Every Swedish region (name, title, title_en, aliases); those without a file answer
    # from the national rules.
    regions: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()
    laws: tuple[str, ...] = ()  # document keys of the laws the national rules rest on


@dataclass(frozen=True)
class RuleBook:
    national: National
    regions: Mapping[str, RegionRules]

    def document(self, source: str) -> Document | None:
        """The document a passage is from: the source's own (a key of [documents], or a
        region's seed file)."""
        name = source.split(": ", 1)[0]
        found = self.national.documents.get(name)
        if found is not None:
            return found
        for r in self.regions.values():
            if name in r.documents:
                return r.documents[name]
            if r.seed and r.seed == name and (c := r.citation()) is not None:
                return Document(key=name, owner=r.name, citation=c)
        return None

    def cite(self, source: str) -> Citation | None:
        """The cited document as a person finds it."""
        doc = self.document(source)
        return doc.citation if doc is not None else None

    def owner(self, source: str) -> str | None:
        """Whose document a passage is from: "national", a region's name, or None (unknown)."""
        doc = self.document(source)
        return doc.owner if doc is not None else None

    def laws(self) -> tuple[Citation, ...]:
        return tuple(d.citation for k in self.national.laws
                     if (d := self.national.documents.get(k)))


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


# ---------------------------------------------------------------------------------------------
# Loading


def rule_files(extra_dir: str | None = None) -> list[Path]:
    """Region files shipped with the package, then those in VERIFY_RULES_DIR (which may add
    regions or replace a shipped one by name)."""
    files = sorted(p for p in RULES_DIR.glob("*.toml") if p.name != NATIONAL_FILE)
    if extra_dir:
        extra = Path(extra_dir)
        if not extra.is_dir():
            raise ConfigError(f"VERIFY_RULES_DIR {extra_dir!r} is not a directory")
        # Listed with its errors said (glob would give nothing for a folder it cannot list).
        try:
            with os.scandir(extra) as entries:
                names = [e.name for e in entries]
        except OSError as exc:
            raise ConfigError(f"cannot read the rules folder {extra}: "
                              f"{exc.strerror or type(exc).__name__}") from None
        files += sorted(extra / n for n in names if n.endswith(".toml") and n != NATIONAL_FILE)
    return files


def read_toml(path: Path, compiled: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The file's data. A shipped file whose bytes match the compiled snapshot
    (compiled.json, like a .pyc) is taken from it: Python's TOML parser is pure Python and the
    21 files would take most of a cold start; any edit makes the hash differ and the TOML is
    read."""
    text = tomlfile.read_text(path)  # bounded: regular, small, UTF-8
    raw = text.encode("utf-8")
    entry = (compiled or {}).get(path.name)
    if isinstance(entry, Mapping) and entry.get("sha256") == hashlib.sha256(raw).hexdigest() \
            and path.parent == RULES_DIR:
        return dict(entry["doc"])
    return tomlfile.parse_toml(text, path)


def read_compiled() -> dict[str, Any]:
    """The compiled snapshot of the shipped rule files, or nothing (then the TOML is read)."""
    try:
        data = json.loads((RULES_DIR / COMPILED_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def compiled_snapshot() -> dict[str, Any]:
    """What compiled.json holds: each shipped file's hash and its data (dates as ISO text,
    which the parser reads as dates). Regenerate after editing a rule file:
    PYTHONPATH=. python -c 'from verify.rules.data import write_compiled; write_compiled()'"""
    out: dict[str, Any] = {}
    for path in sorted(RULES_DIR.glob("*.toml")):
        raw = path.read_bytes()
        out[path.name] = {"sha256": hashlib.sha256(raw).hexdigest(),
                          "doc": _jsonable(tomlfile.parse_toml(raw.decode("utf-8"), path))}
    return out


def write_compiled() -> None:
    (RULES_DIR / COMPILED_FILE).write_text(
        json.dumps(compiled_snapshot(), ensure_ascii=False, sort_keys=True, indent=0) + "\n",
        encoding="utf-8")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, date):
        return obj.isoformat()
    return obj


def load_book(extra_dir: str | None = None) -> RuleBook:
    """Read and check every rule file. Raises ConfigError naming the file and field."""
    return _load_book_cached(extra_dir if extra_dir is not None else os.environ.get(
        "VERIFY_RULES_DIR") or None)


@lru_cache(maxsize=4)
def _load_book_cached(extra_dir: str | None) -> RuleBook:
    compiled = read_compiled()
    national = parse_national(read_toml(RULES_DIR / NATIONAL_FILE, compiled),
                              str(RULES_DIR / NATIONAL_FILE))
    regions: dict[str, RegionRules] = {}
    for path in rule_files(extra_dir):
        region = parse_region(read_toml(path, compiled), str(path), national.child_under,
                              frozenset(national.conditions))
        regions[region.name] = region
    for name, title, title_en, aliases in national.regions:
        if name not in regions:
            regions[name] = RegionRules(
                name=name, title=title, title_en=title_en, aliases=aliases, seed="",
                document="", responsible="region", responsible_text="", responsible_text_en="",
                rules=(), path=str(RULES_DIR / NATIONAL_FILE), routine=False,
            )
    owners = {k: "national" for k in national.documents}
    for r in regions.values():
        for k in r.documents:
            if owners.setdefault(k, r.name) != r.name:
                raise ConfigError(f"rule file {r.path}: document key {k!r} is also used by "
                                  f"{owners[k]!r}")
    seen: dict[str, str] = {}
    for r in regions.values():
        for n in {r.name, *r.aliases}:
            if seen.setdefault(n, r.name) != r.name:
                raise ConfigError(f"rule file {r.path}: name or alias {n!r} is also used by "
                                  f"region {seen[n]!r}")
    return RuleBook(national=national, regions=dict(sorted(regions.items())))


class _At:
    """Where in a file we are, for error messages."""

    def __init__(self, path: str, where: str = "") -> None:
        self.path, self.where = path, where

    def sub(self, part: str) -> _At:
        return _At(self.path, f"{self.where}.{part}" if self.where else part)

    def fail(self, message: str) -> ConfigError:
        return ConfigError(f"rule file {self.path}: {self.where or 'top level'}: {message}")


def _table(value: Any, at: _At) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise at.fail("must be a table")
    return value


def _str(t: Mapping[str, Any], key: str, at: _At, *, required: bool = True,
         default: str = "") -> str:
    value = t.get(key)
    if value is None:
        if required:
            raise at.sub(key).fail("is required")
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        raise at.sub(key).fail("must be a non-empty string")
    return value


def _date(t: Mapping[str, Any], key: str, at: _At) -> date | None:
    value = t.get(key)
    if value is None:
        return None
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise at.sub(key).fail("must be a date, e.g. 2025-11-05")


def _bool(t: Mapping[str, Any], key: str, at: _At) -> bool:
    value = t.get(key, False)
    if not isinstance(value, bool):
        raise at.sub(key).fail("must be true or false")
    return value


def _choices(value: Any, allowed: tuple[str, ...], at: _At) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise at.fail(f"must be a non-empty list of {', '.join(allowed)}")
    bad = [v for v in value if v not in allowed]
    if bad:
        raise at.fail(f"unknown value(s) {bad}; allowed: {', '.join(allowed)}")
    return frozenset(value)


# A source's document: a seed file, or the key of a [documents] table (what a person can open).
SOURCE_DOCUMENT = re.compile(r"[0-9]{3}_[0-9a-f]+\.txt|[a-z0-9][a-z0-9-]*")


def _source(t: Mapping[str, Any], at: _At, *, required: bool = True) -> str:
    if "cite" in t:
        raise at.sub("cite").fail('is not used: the source names its document, '
                                  '"<document key>: <quoted passage>"')
    src = _str(t, "source", at, required=required)
    if src and ": " not in src:
        raise at.sub("source").fail('must read "<file>: <quoted passage>"')
    if src and not SOURCE_DOCUMENT.fullmatch(src.split(": ", 1)[0]):
        raise at.sub("source").fail(
            "must name a seed file (000_….txt) or the key of a [documents] table, then the "
            f"quoted passage; got {src.split(': ', 1)[0]!r}")
    return src


def parse_when(value: Any, at: _At, child_under: int,
               conditions: frozenset[str] = frozenset()) -> When:
    if value is None:
        return When()
    t = _table(value, at)
    known = {"category", "age", "age_min", "age_max", "document", "validity", "registered",
             *conditions}
    unknown = set(t) - known
    if unknown:
        raise at.fail(f"unknown condition(s) {sorted(unknown)}; known: {sorted(known)}")
    age_min, age_max = t.get("age_min"), t.get("age_max")
    for key, v in (("age_min", age_min), ("age_max", age_max)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)
                              or not 0 <= v <= MAX_AGE):
            raise at.sub(key).fail(f"must be a whole number 0–{MAX_AGE}")
    if "age" in t:
        if age_min is not None or age_max is not None:
            raise at.fail("give either age or age_min/age_max, not both")
        if t["age"] == "child":
            age_max = child_under - 1
        elif t["age"] == "adult":
            age_min = child_under
        else:
            raise at.sub("age").fail('must be "child" or "adult"')
    if age_min is not None and age_max is not None and age_min > age_max:
        raise at.fail("age_min is above age_max")
    registered = t.get("registered")
    if registered is not None and not isinstance(registered, bool):
        raise at.sub("registered").fail("must be true or false")
    return When(
        category=_choices(t["category"], CATEGORIES, at.sub("category")) if "category" in t
        else None,
        age_min=age_min,
        age_max=age_max,
        document=_choices(t["document"], DOCUMENTS, at.sub("document")) if "document" in t
        else None,
        validity=_choices(t["validity"], VALIDITIES, at.sub("validity")) if "validity" in t
        else None,
        registered=registered,
        conditions=tuple(sorted((name, _bool(t, name, at)) for name in conditions if name in t)),
    )


def parse_step(value: Any, at: _At) -> StepData:
    t = _table(value, at)
    kind = _str(t, "kind", at)
    if kind not in STEP_KINDS:
        raise at.sub("kind").fail(f"must be one of {', '.join(STEP_KINDS)}")
    show = _str(t, "show", at, required=False, default="desk")
    if show not in SHOW:
        raise at.sub("show").fail(f"must be one of {', '.join(SHOW)}")
    months = t.get("date_months")
    if months is not None and (not isinstance(months, int) or isinstance(months, bool)
                               or not 1 <= months <= 120):
        raise at.sub("date_months").fail("must be a whole number of months, 1–120")
    step = StepData(kind=kind, text=_str(t, "text", at), text_en=_str(t, "text_en", at),
                    source=_source(t, at), show=show,
                    date_months=months)
    if months is not None and not ("{date}" in step.text and "{date}" in step.text_en):
        raise at.sub("text").fail("a step with date_months must say where the date goes: {date}")
    return step


def parse_rule(value: Any, at: _At, origin: str, child_under: int,
               conditions: frozenset[str] = frozenset()) -> Rule:
    t = _table(value, at)
    rule_id = _str(t, "id", at)
    at = _At(at.path, f"{at.where}[{rule_id}]")
    entitlement = t.get("entitlement")
    if entitlement is not None and entitlement not in ENTITLEMENTS:
        raise at.sub("entitlement").fail(f"must be one of {', '.join(ENTITLEMENTS)}")
    steps_raw = t.get("steps", [])
    if not isinstance(steps_raw, list):
        raise at.sub("steps").fail("must be a list of [[rules.steps]] tables")
    steps = tuple(parse_step(s, at.sub(f"steps[{i}]")) for i, s in enumerate(steps_raw))
    if entitlement is None and not steps and t.get("responsible") is None:
        raise at.fail("a rule needs an entitlement, a responsible party or steps")
    rule = Rule(
        id=rule_id,
        origin=origin,
        when=parse_when(t.get("when"), at.sub("when"), child_under, conditions),
        steps=steps,
        entitlement=entitlement,
        responsible=_str(t, "responsible", at, required=False) or None,
        responsible_text=_str(t, "responsible_text", at, required=False),
        responsible_text_en=_str(t, "responsible_text_en", at, required=False),
        summary=_str(t, "summary", at, required=entitlement is not None),
        summary_en=_str(t, "summary_en", at, required=entitlement is not None),
        source=_source(t, at, required=entitlement is not None or "responsible" in t),
        valid_from=_date(t, "valid_from", at),
        valid_to=_date(t, "valid_to", at),
        first=_bool(t, "first", at),
    )
    if rule.valid_from and rule.valid_to and rule.valid_from > rule.valid_to:
        raise at.fail("valid_from is after valid_to")
    return rule


def _rules(doc: Mapping[str, Any], at: _At, origin: str, child_under: int,
           conditions: frozenset[str] = frozenset()) -> tuple[Rule, ...]:
    raw = doc.get("rules", [])
    if not isinstance(raw, list):
        raise at.sub("rules").fail("must be a list of [[rules]] tables")
    rules = tuple(parse_rule(r, at.sub(f"rules[{i}]"), origin, child_under, conditions)
                  for i, r in enumerate(raw))
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise at.fail(f"duplicate rule id(s) {dupes}")
    return rules


def parse_documents(raw: Any, at: _At, owner: str, region_title: str = "") -> dict[str, Document]:
    """[documents.<key>] tables: title, publisher, date and date_kind, url, the day the page was
    read, and the quotes kept from it."""
    documents: dict[str, Document] = {}
    for key, value in _table(raw if raw is not None else {}, at).items():
        dat = at.sub(key)
        c = _table(value, dat)
        kind = _str(c, "date_kind", dat, required=False, default="undated")
        if kind not in DATE_KINDS:
            raise dat.sub("date_kind").fail(f"must be one of {', '.join(DATE_KINDS)}")
        when = _date(c, "date", dat)
        quotes = c.get("quotes", [])
        if not isinstance(quotes, list) or not all(isinstance(q, str) and q.strip()
                                                   for q in quotes):
            raise dat.sub("quotes").fail("must be a list of quoted passages")
        about = c.get("written_about")
        if about is not None and (not isinstance(about, int) or isinstance(about, bool)):
            raise dat.sub("written_about").fail("must be a year, e.g. 2015")
        documents[key] = Document(
            key=key, owner=owner,
            citation=Citation(
                title=_str(c, "title", dat), publisher=_str(c, "publisher", dat),
                region=region_title or _str(c, "region", dat, required=False),
                date=_iso(when), date_kind=kind if when else "undated",
                url=_str(c, "url", dat, required=False) or None,
            ),
            quotes=tuple(quotes), read=_date(c, "read", dat), written_about=about,
        )
    return documents


def parse_conditions(raw: Any, at: _At) -> dict[str, Condition]:
    out: dict[str, Condition] = {}
    for name, value in _table(raw if raw is not None else {}, at).items():
        cat = at.sub(name)
        c = _table(value, cat)
        out[name] = Condition(
            name=name, question=_str(c, "question", cat), question_en=_str(c, "question_en", cat),
            yes=_str(c, "yes", cat), yes_en=_str(c, "yes_en", cat), no=_str(c, "no", cat),
            no_en=_str(c, "no_en", cat), flag=_str(c, "flag", cat),
        )
    return out


def parse_derives(raw: Any, at: _At) -> list[Derive]:
    """[[derive]]: how a card (kind + validity) sets the category, or which candidates remain."""
    if not isinstance(raw, list):
        raise at.sub("derive").fail("must be a list of [[derive]] tables")
    derive: list[Derive] = []
    for i, d_raw in enumerate(raw):
        dat = at.sub(f"derive[{i}]")
        d = _table(d_raw, dat)
        document = _str(d, "document", dat)
        if document not in DOCUMENTS:
            raise dat.sub("document").fail(f"must be one of {', '.join(DOCUMENTS)}")
        validity = _str(d, "validity", dat, required=False) or None
        if validity is not None and validity not in VALIDITIES:
            raise dat.sub("validity").fail(f"must be one of {', '.join(VALIDITIES)}")
        category = _str(d, "category", dat, required=False) or None
        candidates = tuple(sorted(_choices(d["candidates"], CATEGORIES, dat.sub("candidates")),
                                  key=CATEGORIES.index)) if "candidates" in d else ()
        if (category is None) == (not candidates):
            raise dat.fail("give exactly one of category or candidates")
        if category is not None and category not in CATEGORIES:
            raise dat.sub("category").fail(f"must be one of {', '.join(CATEGORIES)}")
        derive.append(Derive(
            document=document, validity=validity, category=category, candidates=candidates,
            fact=_str(d, "fact", dat, required=bool(candidates)),
            question=_str(d, "question", dat, required=bool(candidates)),
            question_en=_str(d, "question_en", dat, required=bool(candidates)),
            source=_source(d, dat),
        ))
    return derive


def parse_national(doc: Mapping[str, Any], path: str) -> National:
    at = _At(path)
    head = _table(doc.get("national"), at.sub("national"))
    child_under = head.get("child_under", 18)
    if not isinstance(child_under, int) or isinstance(child_under, bool) or not 1 <= child_under \
            <= MAX_AGE:
        raise at.sub("national.child_under").fail("must be a whole number")
    cats_raw = _table(doc.get("categories"), at.sub("categories"))
    categories: dict[str, tuple[str, str]] = {}
    for cat in CATEGORIES:
        c = _table(cats_raw.get(cat), at.sub(f"categories.{cat}"))
        categories[cat] = (_str(c, "sv", at.sub(f"categories.{cat}")),
                           _str(c, "en", at.sub(f"categories.{cat}")))
    derive = parse_derives(doc.get("derive", []), at)
    documents = parse_documents(doc.get("documents"), at.sub("documents"), "national")
    conditions = parse_conditions(doc.get("conditions"), at.sub("conditions"))
    all_regions = []
    for i, raw in enumerate(doc.get("regions", [])):
        rat = at.sub(f"regions[{i}]")
        r = _table(raw, rat)
        aliases = r.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise rat.sub("aliases").fail("must be a list of strings")
        all_regions.append((_str(r, "name", rat), _str(r, "title", rat), _str(r, "title_en", rat),
                            tuple(a.strip().lower() for a in aliases)))
    laws = head.get("laws", [])
    if not isinstance(laws, list) or not all(isinstance(k, str) and k in documents for k in laws):
        raise at.sub("national.laws").fail("must list keys of [documents] tables")
    return National(
        title=_str(head, "title", at.sub("national")),
        child_under=child_under,
        categories=categories,
        derive=tuple(derive),
        rules=_rules(doc, at, "national", child_under, frozenset(conditions)),
        documents=documents,
        conditions=conditions,
        regions=tuple(all_regions),
        laws=tuple(laws),
    )


def parse_region(doc: Mapping[str, Any], path: str, child_under: int = 18,
                 conditions: frozenset[str] = frozenset()) -> RegionRules:
    at = _At(path)
    head = _table(doc.get("region"), at.sub("region"))
    hat = at.sub("region")
    name = _str(head, "name", hat)
    if not name.replace("-", "").isalnum() or name != name.lower():
        raise hat.sub("name").fail("must be lower-case letters, digits and '-'")
    aliases = head.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise hat.sub("aliases").fail("must be a list of strings")
    main = _str(head, "main", hat, required=False)
    title = _str(head, "title", hat)
    documents = parse_documents(doc.get("documents"), at.sub("documents"), name, title)
    if main and main not in documents:
        raise hat.sub("main").fail("must name one of this file's [documents] tables")
    seed = _str(head, "seed", hat, required=not main)
    responsible = _str(head, "responsible", hat)
    covers = head.get("covers", [])
    if not isinstance(covers, list) or not all(c in GROUPS for c in covers):
        raise hat.sub("covers").fail(f"must list groups of {', '.join(GROUPS)}")
    region = RegionRules(
        name=name,
        title=title,
        title_en=_str(head, "title_en", hat),
        aliases=tuple(a.strip().lower() for a in aliases),
        seed=seed,
        document=documents[main].citation.title if main else _str(head, "document", hat),
        responsible=responsible,
        responsible_text=_str(head, "responsible_text", hat, required=False),
        responsible_text_en=_str(head, "responsible_text_en", hat, required=False),
        rules=_rules(doc, at, name, child_under, conditions),
        path=path,
        valid_from=_date(head, "valid_from", hat),
        valid_from_source=_str(head, "valid_from_source", hat,
                               required=head.get("valid_from") is not None),
        valid_to=_date(head, "valid_to", hat),
        reviewed=_date(head, "reviewed", hat),
        dates_note=_str(head, "dates_note", hat, required=False),
        dates_note_en=_str(head, "dates_note_en", hat, required=False),
        publisher=documents[main].citation.publisher if main else _str(head, "publisher", hat),
        url=_str(head, "url", hat, required=False) or None,
        documents=documents,
        main=main,
        covers=tuple(covers),
        note=_str(head, "note", hat, required=False),
        note_en=_str(head, "note_en", hat, required=False),
        derive=tuple(parse_derives(doc.get("derive", []), at)),
    )
    unknown = set(doc) - {"region", "rules", "documents", "derive"}
    if unknown:
        raise at.fail(f"unknown top-level table(s) {sorted(unknown)}")
    return region
