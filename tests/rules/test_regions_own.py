"""Decisions for the sixteen regions match their own pages (the issue's must-shows), each citing
that region's own document."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import run_verify
from tests.rules.test_cross_region import card_status
from verify.model import Decision
from verify.rules import decide, decide_for_status

TODAY = date(2026, 12, 3)


def own(d: Decision, key: str) -> bool:
    return any(src.startswith(f"{key}: ") for src in (*d.sources, *(s.source for s in d.steps)))


def test_vasterbotten_adult_asylum_seeker_gets_residents_terms_with_aids() -> None:
    d = decide(region="vasterbotten", category="asylum_seeker", age=40, document="lma",
               validity="valid", today=TODAY)
    assert d.entitlement == "same_as_resident" and "hjälpmedel" in d.summary
    assert own(d, "vasterbotten-hjalpmedelshandboken")
    und = decide(region="vasterbotten", category="undocumented", age=40, today=TODAY)
    assert und.entitlement == "same_as_resident"


def test_vasternorrland_adult_today_and_in_2020() -> None:
    now = decide(region="vasternorrland", category="asylum_seeker", age=40, today=TODAY)
    then = decide(region="vasternorrland", category="asylum_seeker", age=40,
                  today=date(2020, 5, 1))
    assert now.entitlement == "care_that_cannot_wait"
    assert own(now, "vasternorrland-rattigheter-2022")
    assert then.entitlement == "same_as_resident"
    assert own(then, "vasternorrland-rattigheter-2017")
    # The day the extended terms ended and the day the floor began.
    assert decide(region="vasternorrland", category="asylum_seeker", age=40,
                  today=date(2021, 12, 31)).entitlement == "same_as_resident"
    assert decide(region="vasternorrland", category="asylum_seeker", age=40,
                  today=date(2022, 1, 1)).entitlement == "care_that_cannot_wait"


def test_verify_decide_date_shows_the_two_periods() -> None:
    old = run_verify("decide", "--region", "vasternorrland", "--category", "asylum_seeker",
                     "--age", "40", "--date", "2020-05-01", "--lang", "en")
    new = run_verify("decide", "--region", "vasternorrland", "--category", "asylum_seeker",
                     "--age", "40", "--date", "2026-12-03", "--lang", "en")
    assert old.returncode == new.returncode == 0
    assert "SAME CARE AS RESIDENTS" in old.stdout and "CARE THAT CANNOT WAIT" in new.stdout


def test_varmland_adult_care_that_cannot_wait_includes_necessary_aids() -> None:
    d = decide(region="varmland", category="asylum_seeker", age=40, today=TODAY)
    assert d.entitlement == "care_that_cannot_wait"
    assert "nödvändiga hjälpmedel" in d.summary and "necessary aids" in d.summary_en
    assert own(d, "varmland-hjalpmedelshandbok-6-6")


@pytest.mark.parametrize("kind", ["lma", "application"])
def test_halland_no_information_is_undocumented_with_code_66(kind: str) -> None:
    """The lookup shows no information (not valid), for the LMA card and the application card."""
    d = decide_for_status(card_status(kind, "not_valid"), region="halland", age=40,
                          today=TODAY).decision
    assert d is not None
    assert d.category == "undocumented" and d.entitlement == "care_that_cannot_wait"
    assert any("66" in s.text and s.kind == "record" for s in d.steps)
    assert own(d, "halland-avgiftshandboken-asylsokande")


def test_halland_codes_for_the_lma_and_the_ut_card() -> None:
    lma = decide(region="halland", document="lma", validity="valid", age=40, today=TODAY)
    ut = decide(region="halland", document="ut", validity="valid", age=40, today=TODAY)
    assert any("88/88" in s.text for s in lma.steps)
    assert any("44/44" in s.text for s in ut.steps)


@pytest.mark.parametrize("region", ["vastmanland", "sormland", "gavleborg"])
def test_stays_in_the_county_is_asked_and_decides(region: str) -> None:
    d = decide(region=region, category="asylum_seeker", age=40, today=TODAY)
    assert d.entitlement == "manual_check"
    (m,) = d.missing
    assert m.fact == "resident_in_county"
    assert set(m.values.values()) == {"yes", "no"}
    yes = decide(region=region, category="asylum_seeker", age=40, today=TODAY,
                 conditions={"resident_in_county": True})
    no = decide(region=region, category="asylum_seeker", age=40, today=TODAY,
                conditions={"resident_in_county": False})
    assert yes.entitlement == "same_as_resident"
    assert no.entitlement == "care_that_cannot_wait"


def test_the_cli_flag_answers_the_condition() -> None:
    r = run_verify("decide", "--region", "sormland", "--category", "undocumented", "--age", "40",
                   "--resident-in-county", "yes", "--lang", "en")
    assert r.returncode == 0 and "SAME CARE AS RESIDENTS" in r.stdout
    r = run_verify("decide", "--region", "sormland", "--category", "undocumented", "--age", "40")
    assert r.returncode == 3 and "stadigvarande" in r.stdout
    r = run_verify("decide", "--region", "sormland", "--resident-in-county", "maybe")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "yes" in r.stderr


def test_uppsala_validity_date_is_12_months_from_the_visit() -> None:
    d = decide(region="uppsala", category="asylum_seeker", age=40, document="lma",
               validity="valid", today=date(2026, 12, 3))
    assert any("2027-12-03" in s.text for s in d.steps if s.kind == "record")


def test_an_old_routine_is_flagged_in_the_decision() -> None:
    d = decide(region="jamtland-harjedalen", category="asylum_seeker", age=40, today=TODAY)
    assert "Rutinen är från 2015" in d.steps[0].text


def test_a_partial_page_falls_back_to_the_floor_and_says_so() -> None:
    d = decide(region="kronoberg", category="asylum_seeker", age=40, today=TODAY)
    assert d.entitlement == "care_that_cannot_wait"
    assert any("nationella reglerna" in s.text for s in d.steps)
    child = decide(region="kronoberg", category="asylum_seeker", age=6, today=TODAY)
    assert own(child, "kronoberg-personer-fran-andra-lander")


def test_ostergotland_pays_for_aids_but_the_law_is_the_floor_for_care() -> None:
    d = decide(region="ostergotland", category="temporary_protection", age=40, document="ut",
               validity="not_valid", today=TODAY)
    assert d.entitlement == "self_pay"
    assert own(d, "skr-ukraina-lagstiftning-2023") and own(d, "000_4e25e304beee8ee1.txt")


GOTLAND_PERMIT = "Nyanlända personer som har uppehållstillstånd har samma rätt till vård"


def test_gotland_says_what_its_page_says_of_newly_arrived_permit_holders() -> None:
    registered = decide(region="gotland", category="resident", age=40, today=TODAY)
    assert registered.entitlement == "resident_rules"
    assert any(GOTLAND_PERMIT in s.source and s.kind == "note" for s in registered.steps)
    visitor = decide(region="gotland", category="visitor", age=40, today=TODAY)
    assert visitor.entitlement == "self_pay"  # the decision stands; the desk is asked
    assert any(GOTLAND_PERMIT in s.source and s.kind == "judgement" for s in visitor.steps)
    # Not applied to temporary protection: the page does not name it.
    tp = decide(region="gotland", category="temporary_protection", age=40, document="ut",
                validity="valid", today=TODAY)
    assert tp.entitlement == "care_that_cannot_wait"
    assert not any(GOTLAND_PERMIT in s.source for s in tp.steps)


def test_gavleborg_fee_without_an_lma_card_where_no_card_was_checked() -> None:
    sentence = "Finns inte LMA-kort får patienten betala hela kostnaden för vården själv."
    for stays in (None, True, False):
        conditions = {} if stays is None else {"resident_in_county": stays}
        d = decide(region="gavleborg", category="asylum_seeker", age=40, today=TODAY,
                   conditions=conditions)
        fee = [s for s in d.steps if s.kind == "fee" and sentence in s.source]
        assert fee and "hela kostnaden" in fee[0].text, (stays, [s.text for s in d.steps])
        assert d.entitlement != "self_pay"  # the card sets the fee, never the care
    # A card checked, or under 20 (free care): no such step.
    carded = decide(region="gavleborg", category="asylum_seeker", age=40, document="lma",
                    validity="valid", today=TODAY, conditions={"resident_in_county": True})
    young = decide(region="gavleborg", category="asylum_seeker", age=19, today=TODAY)
    for d in (carded, young):
        assert not any(sentence in s.source for s in d.steps)
