"""decide_for_status (the path `verify card --region` takes), ages, rendering, and hostile input
(hypothesis): decide never raises anything but ParseError."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from verify.check import with_decision
from verify.errors import ParseError
from verify.model import Document, Status, Validity
from verify.present.decision import render_decision
from verify.rules import decide, decide_for_status, load_book

TODAY = date(2026, 11, 22)
AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
URL = "https://www.migrationsverket.se/lmakort/ABCD1234"


def lma(state: str) -> Status:
    return Status(
        document=Document(kind="lma", lma_number="12-345678", lookup_token="ABCD1234"),
        validity=Validity(state=state, basis="lookup", checked_at=AT, detail="…",
                          manual_check_url=URL),
    )


def ut(state: str, **mrz: object) -> Status:
    return Status(
        document=Document(kind="ut", mrz=mrz or None),
        validity=Validity(state=state, basis="mrz_expiry", checked_at=AT, detail="…"),
    )


def test_valid_lma_card_makes_an_asylum_seeker() -> None:
    s = decide_for_status(lma("valid"), region="skane", age=40, today=TODAY)
    assert s.decision is not None
    assert (s.decision.category, s.decision.entitlement) == ("asylum_seeker",
                                                             "care_that_cannot_wait")
    assert s.exit_code == 0  # the card's validity still drives `verify card`'s exit code
    assert s.to_json()["decision"]["region"] == "skane"


def test_lookup_failed_is_a_manual_check_with_the_address() -> None:
    s = decide_for_status(lma("unknown"), region="norrbotten", age=40, today=TODAY)
    d = s.decision
    assert d is not None and d.entitlement == "manual_check"
    assert d.steps[0].text.endswith(f"{URL}.")
    assert [m.fact for m in d.missing] == ["validity"]
    answers = d.missing[0].answers_en
    assert "Care that cannot wait" in answers["the card is valid"]


def test_no_longer_valid_lma_card_asks_why() -> None:
    d = decide_for_status(lma("not_valid"), region="skane", age=8, today=TODAY).decision
    assert d is not None and d.entitlement == "manual_check" and d.category == "unknown"
    (m,) = d.missing
    assert m.fact == "why_card_not_valid"
    joined = " ".join(m.answers_en.values())
    assert "Same care as residents" in joined and "Ordinary resident rules" in joined
    # Staff who know the answer get a decision.
    d2 = decide_for_status(lma("not_valid"), region="skane", age=8, category="undocumented",
                           today=TODAY).decision
    assert d2 is not None and d2.entitlement == "same_as_resident"
    d3 = decide_for_status(lma("not_valid"), region="skane", age=8, registered=True,
                           today=TODAY).decision
    assert d3 is not None and d3.entitlement == "resident_rules"


def test_age_comes_from_the_ut_card_mrz() -> None:
    child = decide_for_status(ut("valid", birth_date="2015-06-01"), region="stockholm",
                              today=TODAY).decision
    adult = decide_for_status(ut("valid", age=44), region="stockholm", today=TODAY).decision
    assert child is not None and child.entitlement == "same_as_resident" and child.age == 11
    assert adult is not None and adult.entitlement == "care_that_cannot_wait"
    # An unreadable MRZ birth date is simply unknown, never a crash.
    unknown = decide_for_status(ut("valid", birth_date="15-06-??"), region="stockholm",
                                today=TODAY).decision
    assert unknown is not None and unknown.entitlement == "manual_check"


def test_explicit_age_wins_over_the_card() -> None:
    d = decide_for_status(ut("valid", age=44), region="stockholm", age=12, today=TODAY).decision
    assert d is not None and d.entitlement == "same_as_resident"


def test_birth_date_turns_18_on_the_birthday() -> None:
    before = decide(region="skane", category="asylum_seeker", birth_date="2008-11-23",
                    today=TODAY)
    on = decide(region="skane", category="asylum_seeker", birth_date="2008-11-22",
                today=TODAY)
    assert (before.age, before.entitlement) == (17, "same_as_resident")
    assert (on.age, on.entitlement) == (18, "care_that_cannot_wait")


def test_not_a_card_with_a_category_is_decided_without_a_document() -> None:
    s = Status(document=Document(kind="unknown"),
               validity=Validity(state="unknown", basis="not_a_card", checked_at=AT, detail=""))
    d = decide_for_status(s, region="vgr", category="undocumented", age=30,
                          today=TODAY).decision
    assert d is not None and d.entitlement == "care_that_cannot_wait"


def test_with_decision_in_check_calls_the_rules() -> None:
    s = with_decision(lma("valid"), region="ostergotland", age=5, today=TODAY)
    assert s.decision is not None and s.decision.entitlement == "same_as_resident"
    assert with_decision(lma("valid"), region=None).decision is None


@pytest.mark.parametrize("bad", ["2026-13-01", "1.1.2000", "", "2000-02-30", "x" * 50,
                                 "2099-01-01", "1800-01-01"])
def test_bad_birth_date_is_a_parse_error(bad: str) -> None:
    with pytest.raises(ParseError):
        decide(region="skane", category="asylum_seeker", birth_date=bad, today=TODAY)


def test_bad_category_lists_the_valid_ones() -> None:
    with pytest.raises(ParseError, match="temporary_protection"):
        decide(region="skane", category="refugee", age=3)


def test_json_keys_are_english_and_serialisable() -> None:
    d = decide(region="ostergotland", category="temporary_protection", age=30, today=TODAY)
    j = json.loads(json.dumps(d.to_json(), ensure_ascii=False))
    assert {"region", "category", "entitlement", "responsible", "steps", "missing",
            "sources"} <= set(j)
    assert all({"kind", "text", "text_en", "source"} <= set(s) for s in j["steps"])


def test_desk_view_is_swedish_verdict_first_and_verbose_adds_sources() -> None:
    d = decide(region="norrbotten", category="asylum_seeker", age=30, document="lma",
               validity="valid", today=TODAY)
    desk = render_decision(d)
    lines = desk.splitlines()
    assert "VÅRD SOM INTE KAN ANSTÅ" in lines[1]
    assert "betalare 6624" in desk and "Källa" not in desk
    assert len(lines) < 40  # one screen
    verbose = render_decision(d, verbose=True)
    assert verbose.count("Källa: ") == len(d.steps)
    assert "001_36f15bc48b9dd1b8.txt" in verbose
    en = render_decision(d, lang="en")
    assert "CARE THAT CANNOT WAIT" in en and "payer 6624" in en


def test_missing_facts_are_rendered_with_each_answer() -> None:
    d = decide(region="skane", category="asylum_seeker", today=TODAY)
    text = render_decision(d)
    assert "Saknas" in text and "under 18 år →" in text and "18 år eller äldre →" in text


# --- hypothesis: arbitrary input never crashes decide, only ParseError ---------------------

REGIONS = ["ostergotland", "norrbotten", "vastra-gotaland", "skane", "stockholm"]


@pytest.mark.parametrize(("given", "day", "rule_date"), [
    # Before the law on undocumented people (2013-07-01): no rule yet, whatever the age.
    ({"region": "ostergotland", "category": "undocumented", "document": "lma",
      "validity": "valid"}, date(2000, 1, 1), "2013-07-01"),
    # After the Ukrainian rules end (2027-03-04), age unknown: child and adult rules both gone.
    ({"region": "stockholm", "document": "ut", "validity": "valid"}, date(2028, 1, 1),
     "2027-03-04"),
])
def test_no_rule_in_force_still_says_what_to_do(given: dict[str, str], day: date,
                                                rule_date: str) -> None:
    """Every answer to the unknown age leads to "no rule applies", so no fact is missing; the
    decision must still tell staff what to do and which rules applied when."""
    d = decide(**given, today=day)
    assert d.entitlement == "manual_check" and d.missing == ()
    assert d.steps[0].kind == "step" and "vilken rutin som gäller" in d.steps[0].text
    notes = [s.text for s in d.steps if s.kind == "note"]
    assert len(notes) >= 2 and all(rule_date in n for n in notes)  # child's and adult's rule
    assert "Ask" in render_decision(d, lang="en")


@settings(max_examples=300, deadline=None)
@example(region="ostergotland", category="undocumented", age=None, birth_date=None,
         registered=False, document="lma", validity="valid", today=date(2000, 1, 1))
@example(region="stockholm", category=None, age=None, birth_date=None, registered=False,
         document="ut", validity="valid", today=date(2028, 1, 1))
@given(
    region=st.one_of(st.sampled_from(REGIONS), st.text(max_size=20)),
    category=st.one_of(st.none(), st.sampled_from(
        ["asylum_seeker", "temporary_protection", "undocumented", "visitor", "resident",
         "Asylum-Seeker"]), st.text(max_size=20)),
    age=st.one_of(st.none(), st.integers(min_value=-5, max_value=200)),
    birth_date=st.one_of(st.none(), st.text(max_size=12),
                         st.dates().map(lambda d: d.isoformat())),
    registered=st.booleans(),
    document=st.sampled_from(["lma", "ut", "none"]),
    validity=st.sampled_from(["valid", "not_valid", "unknown"]),
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
)
def test_decide_never_crashes(region, category, age, birth_date, registered, document,
                              validity, today) -> None:
    try:
        d = decide(region=region, category=category, age=age, birth_date=birth_date,
                   registered=registered, document=document, validity=validity, today=today)
    except ParseError:
        return
    assert d.entitlement in ("same_as_resident", "care_that_cannot_wait", "self_pay",
                             "resident_rules", "manual_check")
    if d.entitlement == "manual_check":
        assert d.missing or d.steps  # always says what to do next
    render_decision(d)
    render_decision(d, lang="en", verbose=True)
    json.dumps(d.to_json())
    # Deciding is a pure function: the same input gives the same decision.
    assert decide(region=region, category=category, age=age, birth_date=birth_date,
                  registered=registered, document=document, validity=validity,
                  today=today) == d


def test_a_region_without_a_file_answers_from_the_national_rules_and_says_so() -> None:
    """Every region has a file today; one a deployment removes (or a new region named in
    national.toml first) still answers, from the law, with the note and the laws cited."""
    book = load_book()
    bare = dataclasses.replace(book.regions["gotland"], rules=(), documents={}, main="",
                               routine=False)
    book = dataclasses.replace(book, regions={**book.regions, "gotland": bare})
    d = decide(region="gotland", category="asylum_seeker", age=40, book=book,
               today=date(2026, 12, 3))
    assert d.routine is False and d.entitlement == "care_that_cannot_wait"
    assert any(c.title.startswith("Lag (2008:344)") for c in d.cites)
    assert "Ingen regional rutin för Region Gotland" in render_decision(d)
