"""From a text or scan to a Status: classify, look up or read the MRZ, then decide.

This is the one path every front end takes (CLI, daemon, Python API), so every front end
fails closed the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from drivers.scan import Scan
from verify.cards.classify import ParsedReference, classify
from verify.clock import now
from verify.errors import ParseError
from verify.lookup.settings import Settings
from verify.model import Document, Status, Validity
from verify.rules import decide_for_status

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
    return decide_for_status(
        status,
        region=region,
        category=category,
        age=age,
        birth_date=birth_date,
        registered=registered,
        today=today,
        conditions=conditions,
    )


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
