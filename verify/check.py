"""From a text or scan to a Status: classify, look up or read the MRZ, then decide.

This is the one path every front end takes (CLI, daemon, Python API), so every front end
fails closed the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from drivers.scan import Scan
from verify.cards.classify import ParsedReference, classify
from verify.clock import now
from verify.errors import ParseError
from verify.lookup.settings import Settings
from verify.model import Document, Status, Step, Validity
from verify.rules import decide_for_status
from verify.rules.engine import age_from_mrz, resolve_age

if TYPE_CHECKING:
    from verify.lookup.client import LookupClient


def check_text(
    text: str,
    *,
    as_kind: str | None = None,
    show_name: bool = False,
    client: LookupClient | None = None,
    card: str | None = None,
) -> Status:
    """`as_kind` narrows what the text may be ("url", "token", "lma", "mrz", "lookup", "scan").

    `card` ("lma", "application") names the card kind of a typed token (default: config).
    Pass one `client` to reuse its connection across lookups (the daemon does).
    """
    settings = client.settings if client is not None else Settings.from_env()
    if card is not None:
        settings = settings.for_card(card)
    parsed = classify(text, as_kind=as_kind, show_name=show_name, settings=settings)
    if client is not None or not isinstance(parsed, ParsedReference):
        return parsed.status(client)
    # The client brings requests; a card read without a lookup (an MRZ) never loads it.
    from verify.lookup.client import LookupClient

    with LookupClient(settings) as own:
        return parsed.status(own)


def with_decision(
    status: Status,
    *,
    region: str | None,
    category: str | None = None,
    age: int | None = None,
    birth_date: str | None = None,
    registered: bool = False,
    today: date | None = None,
    conditions: Mapping[str, bool] | None = None,
) -> Status:
    """Add the region's decision when a region is known; otherwise the status is unchanged.
    `conditions` answers yes/no facts a region's routine asks (e.g. resident_in_county)."""
    if region is None:
        return status
    decided = decide_for_status(
        status,
        region=region,
        category=category,
        age=age,
        birth_date=birth_date,
        registered=registered,
        today=today,
        conditions=conditions,
    )
    if status.document.kind == "application" and decided.decision is not None:
        decided = dataclasses.replace(decided, decision=dataclasses.replace(
            decided.decision, steps=tuple(application_step(s) for s in decided.decision.steps)))
    return decided


# The routines on file were written when asylum seekers carried LMA cards; the application card
# replaced it in June 2026 and is decided the same way. A step that tells staff to check the LMA
# card says, for an application card, which card it means; the cited passage stays as written.
_CARD_WORDS = (
    ("ett giltigt LMA-kort", "ett giltigt ansökningskort (det ersatte LMA-kortet i juni 2026)"),
    ("LMA-kortet", "ansökningskortet (det ersatte LMA-kortet)"),
    ("LMA-kort", "ansökningskort (det ersatte LMA-kortet)"),
)
_CARD_WORDS_EN = (
    ("a valid LMA card", "a valid application card (it replaced the LMA card in June 2026)"),
    ("the LMA card", "the application card (it replaced the LMA card)"),
    ("LMA card", "application card (it replaced the LMA card)"),
)


def application_step(step: Step) -> Step:
    """A step as it reads for an application card: the card it speaks of is that card."""
    text, text_en = step.text, step.text_en
    for old, new in _CARD_WORDS:
        if old in text:
            text = text.replace(old, new)
            break
    for old, new in _CARD_WORDS_EN:
        if text_en and old in text_en:
            text_en = text_en.replace(old, new)
            break
    return dataclasses.replace(step, text=text, text_en=text_en)


def check(
    text_or_scan: str | Scan,
    *,
    region: str | None = None,
    age: int | None = None,
    registered: bool = False,
    client: LookupClient | None = None,
) -> Status:
    """The stable Python API: `verify.check("https://…")` → Status (see `Status.to_json()`).

    Never raises for a bad payload: a text that is no card gives an `unknown` status saying so.
    """
    is_scan = isinstance(text_or_scan, Scan)
    text = text_or_scan.payload if isinstance(text_or_scan, Scan) else text_or_scan
    try:
        status = check_text(text, as_kind="scan" if is_scan else None, client=client)
    except ParseError as exc:
        status = not_a_card(exc)
    return with_decision(status, region=region, age=age, registered=registered)


def not_a_card(exc: ParseError) -> Status:
    """A scan that is nothing usable still gets a status (daemon): unknown, saying why."""
    return Status(
        document=Document(kind="unknown"),
        validity=Validity(
            state="unknown",
            basis="not_a_card",
            checked_at=now(),
            detail=f"not a card: {exc.message}",
            reason="not_a_card",
            facts=(("why", exc.reason),),
        ),
    )


def age_conflict(
    status: Status, *, age: int | None, birth_date: str | None, today: date | None = None
) -> tuple[int, int] | None:
    """(age given, age in the card's zone) when a typed age or birth date disagrees with the
    card's own machine-readable zone; None when they agree or either is missing.

    A contradiction is said, never settled in silence: the decision for a child and for an
    adult differ, and neither the typist nor the zone is known to be the one that is right.
    """
    if age is None and birth_date is None:
        return None
    day = today or now().date()
    zone = age_from_mrz(status.document.mrz, day)
    if zone is None:
        return None
    typed = resolve_age(age, birth_date, day)
    return None if typed is None or typed == zone else (typed, zone)
