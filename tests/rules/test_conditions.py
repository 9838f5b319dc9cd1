# ruff: noqa: E501  (the rule file below quotes its passages verbatim)
"""What a routine states becomes data the engine asks, computes or flags: a yes/no condition
("stadigvarande i länet") is asked, never assumed; a desk date is computed from the visit; an old
routine is flagged; a region's own reading of a card applies only in that region."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify.desk.state import BadAnswer, decide_with_answers
from verify.desk.view import desk_view
from verify.errors import ParseError
from verify.model import Document, Status, Validity
from verify.rules import decide, decide_for_status, load_book
from verify.rules.engine import add_months

TESTLAND = """
[region]
name = "testland"
title = "Region Testland"
title_en = "Region Testland"
main = "testland-page"
responsible = "region"
covers = ["asylum_adult", "undocumented_adult"]

[documents.testland-page]
title = "Vård till asylsökande i Testland"
publisher = "Region Testland"
url = "https://testland.invalid/asyl"
date = 2015-03-01
date_kind = "published"
read = 2026-12-03
quotes = [
  "Asylsökande som stadigvarande uppehåller sig i länet har samma rätt till vård som folkbokförda.",
  "skriver du in ett datum 12 månader från besöksdatumet.",
  "Visas ingen information = personen har fått avslag.",
]

[[derive]]
document = "lma"
validity = "not_valid"
category = "undocumented"
source = "testland-page: Visas ingen information = personen har fått avslag."

[[rules]]
id = "t-resident"
when = { category = ["asylum_seeker", "undocumented"], age = "adult", resident_in_county = true }
entitlement = "same_as_resident"
summary = "Stadigvarande i länet: samma vård som folkbokförda."
summary_en = "Staying permanently in the county: the same care as registered residents."
source = "testland-page: Asylsökande som stadigvarande uppehåller sig i länet har samma rätt till vård som folkbokförda."

[[rules]]
id = "t-date"
when = { category = ["asylum_seeker"] }
[[rules.steps]]
kind = "record"
text = "Skriv giltighetsdatum {date} där systemet frågar."
text_en = "Write the validity date {date} where the system asks."
source = "testland-page: skriver du in ett datum 12 månader från besöksdatumet."
date_months = 12
"""

DAY = date(2026, 11, 22)


@pytest.fixture
def book(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "testland.toml").write_text(TESTLAND, encoding="utf-8")
    return load_book(str(tmp_path))


def test_an_unanswered_condition_is_asked_with_what_each_answer_means(book) -> None:  # type: ignore[no-untyped-def]
    d = decide(region="testland", category="asylum_seeker", age=40, today=DAY, book=book)
    assert d.entitlement == "manual_check"
    (m,) = d.missing
    assert m.fact == "resident_in_county" and "stadigvarande" in m.question
    assert set(m.values.values()) == {"yes", "no"}
    meanings = " | ".join(m.answers.values())
    assert "Samma vård som folkbokförda" in meanings and "Vård som inte kan anstå" in meanings


@pytest.mark.parametrize("answer, entitlement", [(True, "same_as_resident"),
                                                 (False, "care_that_cannot_wait")])
def test_an_answered_condition_decides(book, answer: bool, entitlement: str) -> None:  # type: ignore[no-untyped-def]
    d = decide(region="testland", category="undocumented", age=40, today=DAY, book=book,
               conditions={"resident_in_county": answer})
    assert d.entitlement == entitlement and not d.missing


def test_a_condition_no_rule_asks_is_not_asked() -> None:
    d = decide(region="halland", category="asylum_seeker", age=40, today=DAY)
    assert all(m.fact != "resident_in_county" for m in d.missing)


def test_an_unknown_condition_is_a_clear_error(book) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError, match="unknown fact"):
        decide(region="testland", category="asylum_seeker", age=40, today=DAY, book=book,
               conditions={"has_cat": True})


def test_the_desk_date_is_computed_from_the_day_of_the_visit(book) -> None:  # type: ignore[no-untyped-def]
    d = decide(region="testland", category="asylum_seeker", age=40, today=date(2026, 1, 31),
               book=book, conditions={"resident_in_county": True})
    texts = [s.text for s in d.steps]
    assert any("2027-01-31" in t for t in texts), texts
    d = decide(region="testland", category="asylum_seeker", age=40, today=date(2027, 2, 28),
               book=book, conditions={"resident_in_county": True})
    assert any("2028-02-28" in s.text_en for s in d.steps if s.text_en)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
       st.integers(min_value=1, max_value=120))
def test_add_months_lands_in_the_right_month_never_past_its_end(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day == day.day or later.day < day.day


def test_a_routine_older_than_five_years_is_flagged(book) -> None:  # type: ignore[no-untyped-def]
    d = decide(region="testland", category="undocumented", age=40, today=DAY, book=book,
               conditions={"resident_in_county": True})
    assert d.steps[0].kind == "note" and "2015" in d.steps[0].text
    assert "kontrollera med regionen" in d.steps[0].text
    fresh = decide(region="testland", category="undocumented", age=40, today=date(2019, 1, 1),
                   book=book, conditions={"resident_in_county": True})
    assert not any("2015" in s.text for s in fresh.steps)


def test_a_regions_own_reading_of_the_card_applies_there_only(book) -> None:  # type: ignore[no-untyped-def]
    d = decide(region="testland", document="lma", validity="not_valid", age=40, today=DAY,
               book=book, conditions={"resident_in_county": False})
    assert d.category == "undocumented" and d.entitlement == "care_that_cannot_wait"
    assert any("testland-page" in src for src in d.sources)
    other = decide(region="blekinge", document="lma", validity="not_valid", age=40, today=DAY,
                   book=book)
    assert other.category == "unknown" and other.missing[0].fact == "why_card_not_valid"


def _card_for(region: str, age: int | None):  # type: ignore[no-untyped-def]
    """A valid LMA card on the desk screen, decided for the region (age as the card gives)."""
    status = Status(document=Document(kind="lma"),
                    validity=Validity(state="valid", basis="lookup", detail="test",
                                      checked_at=datetime(2026, 12, 3, 9, tzinfo=UTC),
                                      reason="valid"))
    return decide_for_status(status, region=region, age=age, today=date(2026, 12, 3))


def test_the_desk_page_asks_the_condition_with_two_buttons() -> None:
    status = _card_for("sormland", 40)
    view = desk_view(status, lang="sv")
    (question,) = view["questions"]
    assert question["fact"] == "resident_in_county" and question["answerable"]
    assert "stadigvarande" in question["question"] and "--resident" not in question["question"]
    assert sorted(o["value"] for o in question["options"]) == ["no", "yes"]
    assert any(o["label"].startswith("Ja") for o in question["options"])


@pytest.mark.parametrize("answer, entitlement", [("yes", "same_as_resident"),
                                                 ("no", "care_that_cannot_wait")])
def test_a_desk_answer_decides_the_condition(answer: str, entitlement: str) -> None:
    status = _card_for("vastmanland", None)
    asked = {m.fact for m in status.decision.missing}
    assert asked == {"age", "resident_in_county"}
    adult = next(v for v in next(m for m in status.decision.missing if m.fact == "age")
                 .values.values() if v.startswith("18"))
    answered = decide_with_answers(status, "vastmanland",
                                   {"age": adult, "resident_in_county": answer})
    assert answered.decision is not None and answered.decision.entitlement == entitlement


def test_a_desk_answer_to_a_question_not_asked_is_refused() -> None:
    status = _card_for("halland", 40)
    with pytest.raises(BadAnswer):
        decide_with_answers(status, "halland", {"resident_in_county": "yes"})
