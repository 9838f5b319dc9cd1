"""A region's decision cites its own documents and national ones, never another region's: walked
over every region × category × child/adult/unknown age × card outcome (valid, not valid,
unknown, no card; LMA card, application card, UT card). Every passage of a kept document (a law,
a region's page) is found in that document's kept quotes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.support_rules import passage_found, split_source
from verify.model import Document, Status, Validity
from verify.rules import decide, decide_for_status, load_book, regions

TODAY = date(2026, 11, 22)
BOOK = load_book()
CATEGORIES = [None, "asylum_seeker", "temporary_protection", "undocumented", "visitor", "resident"]
AGES = [None, 6, 40]
CARDS = [None] + [(kind, state) for kind in ("lma", "application", "ut")
                  for state in ("valid", "not_valid", "unknown")]


def card_status(kind: str, state: str) -> Status:
    return Status(
        document=Document(kind=kind),  # type: ignore[arg-type]
        validity=Validity(state=state, basis="lookup",  # type: ignore[arg-type]
                          checked_at=datetime(2026, 11, 22, 10, tzinfo=UTC),
                          detail="test card", reason=state),
    )


def decisions(region: str):  # type: ignore[no-untyped-def]
    for category in CATEGORIES:
        for age in AGES:
            for card in CARDS:
                if card is None:
                    yield (category, age, card), decide(region=region, category=category,
                                                        age=age, today=TODAY)
                else:
                    status = decide_for_status(card_status(*card), region=region,
                                               category=category, age=age, today=TODAY)
                    assert status.decision is not None
                    yield (category, age, card), status.decision


@pytest.mark.parametrize("region", [r.name for r in regions()])
def test_no_decision_cites_another_regions_document(region: str) -> None:
    reg = BOOK.regions[region]
    allowed_owner = {"national", region}
    n = 0
    for case, d in decisions(region):
        n += 1
        cites = [*d.cites, *(s.cite for s in d.steps if s.cite is not None)]
        for c in cites:
            assert c.region in ("", reg.title), (case, c.title, c.region)
        for src in (*d.sources, *(s.source for s in d.steps)):
            owner = BOOK.owner(src)
            assert owner is None or owner in allowed_owner, (case, src)
            name, _ = split_source(src)
            doc = BOOK.document(src)
            if doc is not None and doc.key == name and doc.quotes:
                assert passage_found(src, {}), (case, src)
    assert n == len(CATEGORIES) * len(AGES) * len(CARDS)


def test_the_national_rules_cite_only_national_documents() -> None:
    rules = [*BOOK.national.rules]
    sources = [r.source for r in rules if r.source]
    sources += [s.source for r in rules for s in r.steps]
    sources += [d.source for d in BOOK.national.derive]
    for src in sources:
        assert BOOK.owner(src) == "national", src
        cite = BOOK.cite(src)
        assert cite is not None and cite.region == ""


def test_a_failed_card_check_never_reads_no_care() -> None:
    """Not valid or unknown: the subsidised status is not confirmed; what applies for each
    reading is said, and no decision is `self_pay` for a card the lookup could not check
    outside a routine that says so."""
    for r in regions():
        for kind in ("lma", "application"):
            for state in ("not_valid", "unknown"):
                d = decide_for_status(card_status(kind, state), region=r.name, age=40,
                                      today=TODAY).decision
                assert d is not None
                assert d.entitlement != "self_pay", (r.name, kind, state)
                if d.entitlement == "manual_check":
                    words = " ".join([d.summary, *(m.question for m in d.missing),
                                      *(a for m in d.missing for a in m.answers.values())])
                    assert "inte kan anstå" in words or "papperslös" in words.lower(), \
                        (r.name, kind, state, words)
