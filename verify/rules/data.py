"""Reading the rule files: TOML in, frozen values out, with clear errors for broken files.

Rules are data so that a region can be added or corrected without touching code (as OpenFisca
keeps legislation parameters). This module only reads and checks shape; verify.rules.engine
evaluates. The full JSON Schema (schema.json) is enforced in the tests; at load time a light
structural check names the file, the rule and the field that is wrong.
"""

from __future__ import annotations

import os
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

CATEGORIES = ("asylum_seeker", "temporary_protection", "undocumented", "visitor", "resident")
ENTITLEMENTS = (
    "same_as_resident", "care_that_cannot_wait", "self_pay", "resident_rules", "manual_check"
)
STEP_KINDS = ("step", "fee", "contact", "record", "judgement", "note")
DOCUMENTS = ("lma", "ut", "none")
VALIDITIES = ("valid", "not_valid", "none")
SHOW = ("desk", "detail")
DATE_KINDS = ("applies_from", "reviewed", "decided", "published", "undated")
MAX_AGE = 130


@dataclass(frozen=True)
class StepData:
    kind: str
    text: str
    text_en: str
    source: str
    show: str = "desk"
    cite: str = ""  # key of the cited document; default: the source's file


@dataclass(frozen=True)
class When:
    """Conditions of a rule; None means "any"."""

    category: frozenset[str] | None = None
    age_min: int | None = None
    age_max: int | None = None
    document: frozenset[str] | None = None
    validity: frozenset[str] | None = None
    registered: bool | None = None


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
    cite: str = ""

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
    cite: str = ""


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

    def citation(self) -> Citation | None:
        """The region's routine as a person finds it (None without a routine on file)."""
        if not self.routine:
            return None
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
    documents: Mapping[str, Citation] = field(default_factory=dict)
    # Every Swedish region (name, title, title_en, aliases); those without a file answer
    # from the national rules.
    regions: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()
    laws: tuple[str, ...] = ()  # document keys of the laws the national rules rest on


@dataclass(frozen=True)
class RuleBook:
    national: National
    regions: Mapping[str, RegionRules]

    def cite(self, source: str, key: str = "") -> Citation | None:
        """The document a passage is from: the explicit key, else the source's file."""
        name = key or source.split(": ", 1)[0]
        found = self.national.documents.get(name)
        if found is not None:
            return found
        for r in self.regions.values():
            if r.seed and r.seed == name:
                return r.citation()
        return None

    def laws(self) -> tuple[Citation, ...]:
        return tuple(c for k in self.national.laws if (c := self.national.documents.get(k)))


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
        files += sorted(p for p in extra.glob("*.toml") if p.name != NATIONAL_FILE)
    return files


def read_toml(path: Path) -> dict[str, Any]:
    """A rule file, read bounded (`verify.tomlfile`): regular, small, shallow, UTF-8."""
    return tomlfile.read_toml(path)


def load_book(extra_dir: str | None = None) -> RuleBook:
    """Read and check every rule file. Raises ConfigError naming the file and field."""
    return _load_book_cached(extra_dir if extra_dir is not None else os.environ.get(
        "VERIFY_RULES_DIR") or None)


@lru_cache(maxsize=4)
def _load_book_cached(extra_dir: str | None) -> RuleBook:
    national = parse_national(read_toml(RULES_DIR / NATIONAL_FILE), str(RULES_DIR / NATIONAL_FILE))
    regions: dict[str, RegionRules] = {}
    for path in rule_files(extra_dir):
        region = parse_region(read_toml(path), str(path), national.child_under)
        regions[region.name] = region
    for name, title, title_en, aliases in national.regions:
        if name not in regions:
            regions[name] = RegionRules(
                name=name, title=title, title_en=title_en, aliases=aliases, seed="",
                document="", responsible="region", responsible_text="", responsible_text_en="",
                rules=(), path=str(RULES_DIR / NATIONAL_FILE), routine=False,
            )
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


def _source(t: Mapping[str, Any], at: _At, *, required: bool = True) -> str:
    src = _str(t, "source", at, required=required)
    if src and ": " not in src:
        raise at.sub("source").fail('must read "<file>: <quoted passage>"')
    return src


def parse_when(value: Any, at: _At, child_under: int) -> When:
    if value is None:
        return When()
    t = _table(value, at)
    known = {"category", "age", "age_min", "age_max", "document", "validity", "registered"}
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
    )


def parse_step(value: Any, at: _At) -> StepData:
    t = _table(value, at)
    kind = _str(t, "kind", at)
    if kind not in STEP_KINDS:
        raise at.sub("kind").fail(f"must be one of {', '.join(STEP_KINDS)}")
    show = _str(t, "show", at, required=False, default="desk")
    if show not in SHOW:
        raise at.sub("show").fail(f"must be one of {', '.join(SHOW)}")
    return StepData(kind=kind, text=_str(t, "text", at), text_en=_str(t, "text_en", at),
                    source=_source(t, at), show=show, cite=_str(t, "cite", at, required=False))


def parse_rule(value: Any, at: _At, origin: str, child_under: int) -> Rule:
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
        when=parse_when(t.get("when"), at.sub("when"), child_under),
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
        cite=_str(t, "cite", at, required=False),
    )
    if rule.valid_from and rule.valid_to and rule.valid_from > rule.valid_to:
        raise at.fail("valid_from is after valid_to")
    return rule


def _rules(doc: Mapping[str, Any], at: _At, origin: str, child_under: int) -> tuple[Rule, ...]:
    raw = doc.get("rules", [])
    if not isinstance(raw, list):
        raise at.sub("rules").fail("must be a list of [[rules]] tables")
    rules = tuple(parse_rule(r, at.sub(f"rules[{i}]"), origin, child_under)
                  for i, r in enumerate(raw))
    ids = [r.id for r in rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise at.fail(f"duplicate rule id(s) {dupes}")
    return rules


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
    derive: list[Derive] = []
    for i, d_raw in enumerate(doc.get("derive", [])):
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
            cite=_str(d, "cite", dat, required=False),
        ))
    documents: dict[str, Citation] = {}
    for key, raw in _table(doc.get("documents", {}), at.sub("documents")).items():
        dat = at.sub(f"documents.{key}")
        c = _table(raw, dat)
        kind = _str(c, "date_kind", dat, required=False, default="undated")
        if kind not in DATE_KINDS:
            raise dat.sub("date_kind").fail(f"must be one of {', '.join(DATE_KINDS)}")
        when = _date(c, "date", dat)
        documents[key] = Citation(
            title=_str(c, "title", dat), publisher=_str(c, "publisher", dat),
            region=_str(c, "region", dat, required=False), date=_iso(when),
            date_kind=kind if when else "undated",
            url=_str(c, "url", dat, required=False) or None,
        )
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
        rules=_rules(doc, at, "national", child_under),
        documents=documents,
        regions=tuple(all_regions),
        laws=tuple(laws),
    )


def parse_region(doc: Mapping[str, Any], path: str, child_under: int = 18) -> RegionRules:
    at = _At(path)
    head = _table(doc.get("region"), at.sub("region"))
    hat = at.sub("region")
    name = _str(head, "name", hat)
    if not name.replace("-", "").isalnum() or name != name.lower():
        raise hat.sub("name").fail("must be lower-case letters, digits and '-'")
    aliases = head.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise hat.sub("aliases").fail("must be a list of strings")
    seed = _str(head, "seed", hat)
    responsible = _str(head, "responsible", hat)
    region = RegionRules(
        name=name,
        title=_str(head, "title", hat),
        title_en=_str(head, "title_en", hat),
        aliases=tuple(a.strip().lower() for a in aliases),
        seed=seed,
        document=_str(head, "document", hat),
        responsible=responsible,
        responsible_text=_str(head, "responsible_text", hat, required=False),
        responsible_text_en=_str(head, "responsible_text_en", hat, required=False),
        rules=_rules(doc, at, name, child_under),
        path=path,
        valid_from=_date(head, "valid_from", hat),
        valid_from_source=_str(head, "valid_from_source", hat,
                               required=head.get("valid_from") is not None),
        valid_to=_date(head, "valid_to", hat),
        reviewed=_date(head, "reviewed", hat),
        dates_note=_str(head, "dates_note", hat, required=False),
        dates_note_en=_str(head, "dates_note_en", hat, required=False),
        publisher=_str(head, "publisher", hat),
        url=_str(head, "url", hat, required=False) or None,
    )
    unknown = set(doc) - {"region", "rules"}
    if unknown:
        raise at.fail(f"unknown top-level table(s) {sorted(unknown)}")
    return region
