"""The values that flow through the toolkit: documents, validity, decisions, status.

All immutable. `Status.to_json()` is the interface contract (docs/status-schema.json); keys
may be added, never renamed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

SCHEMA_VERSION = 1

# As docs/status-schema.json: "application" is the application card (from June 2026).
DocumentKind = Literal["lma", "application", "ut", "passport", "unknown"]
ValidityState = Literal["valid", "not_valid", "unknown"]
Category = Literal["asylum_seeker", "temporary_protection", "undocumented", "visitor", "resident"]
Entitlement = Literal[
    "same_as_resident", "care_that_cannot_wait", "self_pay", "resident_rules", "manual_check"
]

# Whether a card's chip vouches for its printed zone (docs/chip.md); beside validity, never in it.
AuthenticityState = Literal["verified", "altered", "untrusted", "failed", "not_read"]

EXIT_VALID = 0
EXIT_NOT_VALID = 1
EXIT_USAGE = 2
EXIT_UNKNOWN = 3
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it


@dataclass(frozen=True)
class LmaNumber:
    """An LMA case number, normalised to `XX-XXXXXX`, with the card serial when printed."""

    number: str
    serial: int | None = None

    def __str__(self) -> str:
        return self.number if self.serial is None else f"{self.number}/{self.serial}"


@dataclass(frozen=True)
class LookupReference:
    """A lookup the agency can answer: the exact https URL to fetch and the token inside it."""

    url: str
    token: str
    kind: str = "lma"  # the card kind whose profile the address fits: "lma" | "application"
    profile: str = ""  # that profile's name


@dataclass(frozen=True)
class Document:
    kind: DocumentKind
    lma_number: str | None = None
    card_serial: int | None = None
    lookup_token: str | None = None
    lookup_url: str | None = None
    # JSON-ready facts from the machine-readable zone (see verify.cards.mrz); no name unless asked.
    mrz: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lma_number": self.lma_number,
            "card_serial": self.card_serial,
            "lookup_token": self.lookup_token,
            "lookup_url": self.lookup_url,
            "mrz": dict(self.mrz) if self.mrz is not None else None,
        }


@dataclass(frozen=True)
class ProfileUse:
    """Which lookup profile read the page, and whether a person confirmed its wording."""

    name: str
    confirmed: bool

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "confirmed": self.confirmed}


@dataclass(frozen=True)
class Validity:
    state: ValidityState
    basis: str
    checked_at: datetime
    detail: str
    right_to_work: bool | None = None
    manual_check_url: str | None = None
    profile: ProfileUse | None = None  # set for answers from the agency's lookup
    # A stable code of the outcome (docs/status-schema.json), for integrators and for the
    # words a person reads (verify.present looks it up in the catalogue); never the English.
    reason: str = ""
    # The values the human sentence of `reason` needs (e.g. seconds waited); not in JSON.
    facts: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "reason": self.reason,
            "right_to_work": self.right_to_work,
            "basis": self.basis,
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "manual_check_url": self.manual_check_url,
            "detail": self.detail,
            "profile": self.profile.to_json() if self.profile is not None else None,
        }


@dataclass(frozen=True)
class Citation:
    """A source as a person finds it: title, publisher, region, a date and a public address.

    `date_kind` says what the date is: applies_from, reviewed, decided or undated. The rule
    data's `source` ("<seed file>: <quoted passage>") stays beside it for audit.
    """

    title: str
    publisher: str
    region: str = ""
    date: str | None = None  # ISO date
    date_kind: str = "undated"
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "publisher": self.publisher, "region": self.region,
                "date": self.date, "date_kind": self.date_kind, "url": self.url}


@dataclass(frozen=True)
class Step:
    """One thing the desk or prescriber must do, with the seed passage it rests on."""

    text: str
    source: str
    kind: str = "step"  # step | fee | contact | record | judgement | note
    text_en: str | None = None
    # "desk": on the one-screen view; "detail": only with --verbose (and always in JSON).
    show: str = "desk"
    cite: Citation | None = None  # the document `source` is from, as a person finds it

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "text_en": self.text_en,
            "source": self.source,
            "show": self.show,
            "cite": self.cite.to_json() if self.cite else None,
        }


@dataclass(frozen=True)
class MissingFact:
    """A fact the decision needs but does not have, and what each answer would mean."""

    fact: str
    question: str
    answers: Mapping[str, str] = field(default_factory=dict)
    question_en: str = ""
    answers_en: Mapping[str, str] = field(default_factory=dict)
    # Answer (the Swedish label, as in `answers`) -> the value to decide with: an age range
    # "LO-HI", a category or a validity. Lets a desk turn a tapped answer into a fact.
    values: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"fact": self.fact, "question": self.question, "answers": dict(self.answers),
                "question_en": self.question_en, "answers_en": dict(self.answers_en)}


@dataclass(frozen=True)
class Decision:
    region: str
    category: Category | Literal["unknown"]  # "unknown": the decision asks for it (missing)
    entitlement: Entitlement
    steps: tuple[Step, ...] = ()
    responsible: str | None = None
    missing: tuple[MissingFact, ...] = ()
    summary: str = ""
    summary_en: str = ""
    # Added by issue 6 (additive): who answers for what, in words; the facts decided on.
    responsible_text: str = ""
    responsible_text_en: str = ""
    region_title: str = ""
    as_of: str | None = None  # ISO date the rules were evaluated for
    age: int | None = None
    registered: bool = False
    rules: tuple[str, ...] = ()  # ids of the rules that fired, for audit of the rule data
    sources: tuple[str, ...] = ()  # the passages the entitlement rests on
    # Added by issue 13 (additive): the documents of `sources`, as a person finds them; and
    # a note when the region has no routine on file and the national rules answer.
    cites: tuple[Citation, ...] = ()
    routine: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "category": self.category,
            "entitlement": self.entitlement,
            "responsible": self.responsible,
            "summary": self.summary,
            "summary_en": self.summary_en,
            "steps": [s.to_json() for s in self.steps],
            "missing": [m.to_json() for m in self.missing],
            "responsible_text": self.responsible_text,
            "responsible_text_en": self.responsible_text_en,
            "region_title": self.region_title,
            "as_of": self.as_of,
            "age": self.age,
            "registered": self.registered,
            "rules": list(self.rules),
            "sources": list(self.sources),
            "cites": [c.to_json() for c in self.cites],
            "routine": self.routine,
        }


@dataclass(frozen=True)
class Authenticity:
    """What the chip's signature says about the card (passive authentication), or why it could
    not be read. Nothing read from the chip is kept here: a state, a stable reason code, an
    English detail, and the few facts the sentence needs (issuer country, a date, field names).
    """

    state: AuthenticityState
    reason: str
    detail: str
    checked_at: datetime
    facts: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        facts = dict(self.facts)
        return {
            "state": self.state,
            "reason": self.reason,
            "detail": self.detail,
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "issuer": facts.get("issuer"),
            "fields": [f for f in facts.get("fields", "").split(",") if f],
            # Active Authentication (a copied chip cannot pass it): passed, failed,
            # not_offered (the chip has no DG15), unsupported; null before the chip was read.
            "clone_check": facts.get("clone_check"),
        }


@dataclass(frozen=True)
class Status:
    document: Document
    validity: Validity
    decision: Decision | None = None
    # Set only when the chip was asked for (`--chip`, a desk with a card reader).
    authenticity: Authenticity | None = None

    @property
    def exit_code(self) -> int:
        code = {"valid": EXIT_VALID, "not_valid": EXIT_NOT_VALID}.get(
            self.validity.state, EXIT_UNKNOWN
        )
        # A valid expiry on a card whose chip was asked for but did not vouch for it is a
        # case for a person: 3, never 0.
        if code == EXIT_VALID and self.authenticity is not None \
                and self.authenticity.state != "verified":
            return EXIT_UNKNOWN
        return code

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "document": self.document.to_json(),
            "validity": self.validity.to_json(),
            "decision": self.decision.to_json() if self.decision is not None else None,
            "authenticity": (self.authenticity.to_json()
                             if self.authenticity is not None else None),
        }
