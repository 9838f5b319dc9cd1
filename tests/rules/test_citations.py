"""Sources as documents: every rule a person reads cites a document they can find (title,
publisher; date and address where known), not a seed file name."""

from __future__ import annotations

from datetime import date

import pytest

from verify.present.decision import render_decision
from verify.rules.data import load_book
from verify.rules.engine import decide

BOOK = load_book()
CITED = [
    (origin, rule.id, text, source)
    for origin, rules in [("national", BOOK.national.rules),
                          *((r.name, r.rules) for r in BOOK.regions.values())]
    for rule in rules
    for text, source in [(rule.summary or rule.id, rule.source),
                         *((s.text, s.source) for s in rule.steps)]
    if source
] + [("national", f"derive-{d.document}-{d.validity}", d.question or d.category or "",
      d.source) for d in BOOK.national.derive]


def test_every_rule_file_is_covered() -> None:
    origins = {origin for origin, *_ in CITED}
    assert origins == {"national", *(r.name for r in BOOK.regions.values() if r.routine)}
    assert {"norrbotten", "ostergotland", "skane", "stockholm", "vastra-gotaland"} <= origins
    assert len(CITED) > 60


@pytest.mark.parametrize("origin, rule, text, source", CITED,
                         ids=[f"{o}:{r}:{i}" for i, (o, r, *_) in enumerate(CITED)])
def test_every_human_citation_names_a_title_and_a_publisher(origin, rule, text, source) -> None:
    cite = BOOK.cite(source)
    assert cite is not None, f"{origin}/{rule}: no document for {source[:40]!r}"
    assert cite.title.strip() and cite.publisher.strip()
    assert not cite.title.endswith(".txt") and ".md" not in cite.title
    assert cite.url is None or cite.url.startswith(("https://", "http://"))  # as the page was read
    assert cite.date_kind in ("applies_from", "reviewed", "decided", "published", "undated")


def test_each_routine_names_its_document_region_publisher_and_date() -> None:
    for r in BOOK.regions.values():
        cite = r.citation()
        if not r.routine:
            assert cite is None
            continue
        assert cite is not None and cite.title == r.document and cite.region == r.title
        assert cite.publisher.startswith(("Region", "Västra Götalandsregionen"))
        for doc in r.documents.values():  # every document of a region is that region's
            assert doc.citation.region == r.title and doc.owner == r.name
    assert BOOK.regions["vastra-gotaland"].citation().date == "2025-11-05"  # type: ignore[union-attr]
    assert BOOK.regions["stockholm"].citation().date_kind == "reviewed"  # type: ignore[union-attr]


def test_the_desk_reads_the_document_and_verbose_keeps_the_seed_passage() -> None:
    d = decide(region="skane", category="asylum_seeker", age=40, today=date(2026, 11, 22))
    plain = render_decision(d)
    assert "”Förskrivning till asylsökande eller papperslösa”, Region Skåne" in plain
    assert "003_0fd7b30433d790e5.txt" not in plain
    verbose = render_decision(d, verbose=True)
    assert "003_0fd7b30433d790e5.txt: " in verbose
    assert all(s.source and s.cite for s in d.steps)
    # The first step (no card checked: scan it) rests on the Migration Agency's own words.
    assert d.to_json()["steps"][0]["source"].startswith("migrationsverket-lma-card-2022: ")
    assert d.to_json()["cites"][0]["publisher"]
