"""The machine-readable zone parser: ICAO specimens, UT-card validity, OCR repair, privacy,
and property tests against the `mrz` package (an independent implementation of 9303)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mrz.checker.td1 import TD1CodeChecker
from mrz.checker.td3 import TD3CodeChecker

from verify.cards.mrz import (
    CHARSET,
    char_value,
    check_digit,
    compose_td1,
    compose_td3,
    looks_like_mrz,
    mrz_status,
    parse_mrz,
)
from verify.errors import ParseError

SPECIMEN_TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<\n"
                "7408122F1204159UTO<<<<<<<<<<<6\n"
                "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
SPECIMEN_TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
                "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def ut_card(expiry: str = "270304", **kw: str) -> str:
    fields = {"document_number": "UA1234567", "birth": "850315", "surname": "Shevchenko",
              "given_names": "Olena Ivanivna", "sex": "F", **kw}
    return compose_td1(expiry=expiry, **fields)


# ---- ICAO specimens ---------------------------------------------------------------------

def test_icao_td1_specimen_reads_every_field():
    m = parse_mrz(SPECIMEN_TD1, today=date(2010, 1, 1))
    assert (m.format, m.document_code, m.issuing_state) == ("TD1", "I<", "UTO")
    assert m.document_number == "D23145890"
    assert m.birth_date == date(1974, 8, 12)
    assert m.expiry_date == date(2012, 4, 15)
    assert (m.sex, m.nationality) == ("F", "UTO")
    assert (m.surname, m.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert m.checks == {"document_number": True, "birth_date": True, "expiry_date": True,
                        "composite": True}
    assert m.ok


def test_icao_td3_specimen_reads_every_field():
    m = parse_mrz(SPECIMEN_TD3, today=date(2010, 1, 1))
    assert (m.format, m.kind, m.document_number) == ("TD3", "passport", "L898902C3")
    assert m.optional_data == "ZE184226B"
    assert m.birth_date == date(1974, 8, 12) and m.expiry_date == date(2012, 4, 15)
    assert m.checks == {"document_number": True, "birth_date": True, "expiry_date": True,
                        "optional_data": True, "composite": True}


@pytest.mark.parametrize("text", [
    SPECIMEN_TD1.replace("\n", " "),
    SPECIMEN_TD1.replace("\n", "|"),
    SPECIMEN_TD1.replace("\n", " | "),
    SPECIMEN_TD1.replace("\n", "\r\n"),
    SPECIMEN_TD1.lower(),
    "  \t" + SPECIMEN_TD1.replace("\n", "\n   ") + "\n\n",
    SPECIMEN_TD1.replace("\n", ""),
    SPECIMEN_TD1.rstrip("<"),  # name line typed without its trailing fillers
])
def test_the_same_zone_however_it_is_typed(text):
    ref = parse_mrz(SPECIMEN_TD1, today=TODAY)
    got = parse_mrz(text, today=TODAY)
    assert got == ref and got.ok
    assert looks_like_mrz(text)


@pytest.mark.parametrize("text", ["", "   ", "12-345678", "https://example.org/lmakort/ABCD1234",
                                  "I<UTO" * 17, SPECIMEN_TD1 + "X", "P<UTO<<" + "<" * 83,
                                  SPECIMEN_TD1.replace("<", "#"), "x" * 10000])
def test_unusable_text_is_a_parse_error_with_a_message(text):
    with pytest.raises(ParseError) as err:
        parse_mrz(text, today=TODAY)
    assert err.value.message


def test_lines_of_the_wrong_length_are_named_in_the_message():
    lines = SPECIMEN_TD1.split("\n")
    with pytest.raises(ParseError, match=r"31\+29\+30"):
        parse_mrz("\n".join([lines[0] + "<", lines[1][:-1], lines[2]]), today=TODAY)


def test_not_mrz_shapes_are_not_taken_for_zones():
    for text in ("12-345678", "VALID0001", "https://www.migrationsverket.se/lmakort/AB12",
                 "hello world", ""):
        assert not looks_like_mrz(text)


# ---- UT card validity -------------------------------------------------------------------

def test_swedish_ut_card_is_valid_until_its_expiry_day_inclusive():
    m = parse_mrz(ut_card("270304"), today=TODAY)
    assert m.kind == "ut"
    on_the_day = mrz_status(m, today=date(2027, 3, 4), now=NOW)
    assert on_the_day.validity.state == "valid" and on_the_day.exit_code == 0
    assert on_the_day.validity.basis == "mrz_expiry"
    assert on_the_day.document.kind == "ut"
    assert "2027-03-04" in on_the_day.validity.detail
    after = mrz_status(m, today=date(2027, 3, 5), now=NOW)
    assert after.validity.state == "not_valid" and after.exit_code == 1
    assert after.validity.basis == "mrz_expiry"


def test_expired_ut_card_from_an_earlier_extension_is_not_valid():
    m = parse_mrz(ut_card("250304"), today=TODAY)
    assert m.expiry_date == date(2025, 3, 4)
    assert mrz_status(m, today=TODAY, now=NOW).validity.state == "not_valid"


def test_a_failed_check_digit_is_unknown_and_names_the_field():
    lines = ut_card().split("\n")
    lines[1] = lines[1][:14] + str((int(lines[1][14]) + 1) % 10) + lines[1][15:]
    m = parse_mrz("\n".join(lines), today=TODAY)
    assert m.failed == ("expiry_date", "composite")
    st_ = mrz_status(m, today=TODAY, now=NOW)
    assert st_.validity.state == "unknown" and st_.exit_code == 3
    assert "expiry date" in st_.validity.detail and "composite" in st_.validity.detail
    assert st_.document.mrz is not None
    assert st_.document.mrz["checks"]["expiry_date"] is False


def test_impossible_date_with_a_passing_check_digit_is_unknown():
    text = ut_card(expiry="271340")  # month 13: the check digit is computed, still nonsense
    m = parse_mrz(text, today=TODAY)
    assert m.checks["expiry_date"] and "expiry_date_unreadable" in m.problems
    assert mrz_status(m, today=TODAY, now=NOW).validity.state == "unknown"


def test_a_residence_permit_from_another_state_is_reported_as_such():
    m = parse_mrz(ut_card(issuing_state="DEU", document_code="AR"), today=TODAY)
    st_ = mrz_status(m, today=TODAY, now=NOW)
    assert m.kind == "residence_permit" and st_.document.kind == "unknown"
    assert st_.document.mrz is not None
    assert st_.document.mrz["document_kind"] == "residence_permit"
    assert st_.validity.state == "unknown" and "DEU" in st_.validity.detail
    assert "not a Swedish UT card" in st_.validity.detail


def test_a_swedish_national_id_card_is_not_a_ut_card():
    m = parse_mrz(ut_card(nationality="SWE", document_code="ID"), today=TODAY)
    assert m.kind == "id_card"
    assert mrz_status(m, today=TODAY, now=NOW).validity.state == "unknown"


def test_a_valid_passport_is_not_a_ut_card():
    text = compose_td3(document_number="FE123456", birth="900101", expiry="300101",
                       surname="Bondarenko", given_names="Taras", sex="M")
    m = parse_mrz(text, today=TODAY)
    st_ = mrz_status(m, today=TODAY, now=NOW)
    assert m.ok and st_.document.kind == "passport"
    assert st_.validity.state == "unknown" and st_.validity.basis == "not_a_ut_card"


def test_td1_long_document_number_overflows_into_optional_data():
    text = ut_card(document_number="UA123456789012", optional1="X7")
    lines = text.split("\n")
    assert lines[0][14] == "<"
    m = parse_mrz(text, today=TODAY)
    assert m.document_number == "UA123456789012" and m.checks["document_number"]
    assert m.optional_data.startswith("X7")
    # a wrong overflow check digit is caught
    bad = lines[0][:20] + str((int(lines[0][20]) + 3) % 10) + lines[0][21:]
    assert not parse_mrz("\n".join([bad, *lines[1:]]), today=TODAY).checks["document_number"]


def test_td2_zone_is_read():
    line1 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<"
    number, birth, expiry = "D23145890", "740812", "120415"
    line2 = (number + check_digit(number) + "UTO" + birth + check_digit(birth) + "F" + expiry
             + check_digit(expiry) + "<<<<<<<")
    line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:35])
    m = parse_mrz(line1 + "\n" + line2, today=date(2010, 1, 1))
    assert m.format == "TD2" and m.ok and m.document_number == number


def test_two_digit_years():
    m = parse_mrz(ut_card(birth="250101", expiry="350101"), today=TODAY)
    assert m.birth_date == date(2025, 1, 1)  # the latest century that is not in the future
    m = parse_mrz(ut_card(birth="261123", expiry="990101"), today=TODAY)
    assert m.birth_date == date(1926, 11, 23)  # tomorrow in 2026 would be in the future
    assert m.expiry_date == date(1999, 1, 1)  # closer to today than 2099
    m = parse_mrz(ut_card(birth="261122", expiry="700101"), today=TODAY)
    assert m.birth_date == date(2026, 11, 22) and m.expiry_date == date(2070, 1, 1)


def test_age_in_whole_years():
    m = parse_mrz(ut_card(birth="081123"), today=TODAY)
    st_ = mrz_status(m, today=TODAY, now=NOW)
    assert st_.document.mrz is not None and st_.document.mrz["age"] == 17
    assert mrz_status(m, today=date(2026, 11, 23), now=NOW).document.mrz["age"] == 18


# ---- Privacy ----------------------------------------------------------------------------

def test_name_only_with_show_name_and_never_in_repr_or_describe():
    m = parse_mrz(ut_card(), today=TODAY)
    hidden = mrz_status(m, today=TODAY, now=NOW).to_json()
    assert "names" not in hidden["document"]["mrz"]
    assert "SHEVCHENKO" not in repr(hidden) and "OLENA" not in repr(hidden)
    shown = mrz_status(m, today=TODAY, show_name=True, now=NOW).to_json()
    assert shown["document"]["mrz"]["names"] == {"surname": "SHEVCHENKO",
                                                 "given_names": "OLENA IVANIVNA"}
    for text in (repr(m), str(m), m.describe()):
        assert "SHEVCHENKO" not in text and "OLENA" not in text and "850315" not in text
        assert "1985" not in text


def test_nothing_from_the_zone_reaches_a_log(caplog):
    caplog.set_level(logging.DEBUG)
    text = ut_card()
    bad = text.replace("8503150", "8503159")
    for t in (text, bad, text.lower().replace("\n", " ")):
        m = parse_mrz(t, ocr_tolerant=True, today=TODAY)
        mrz_status(m, today=TODAY, now=NOW)
    with pytest.raises(ParseError) as err:
        parse_mrz(text + "<<<", today=TODAY)
    logged = caplog.text + str(err.value)
    for secret in ("SHEVCHENKO", "OLENA", "UA1234567", "850315", "1985"):
        assert secret not in logged


# ---- OCR-tolerant repair ----------------------------------------------------------------

def test_letters_in_dates_are_repaired_only_in_tolerant_mode():
    text = ut_card().replace("8503150", "85O3I5O")  # O/I for 0/1 in the birth date
    strict = parse_mrz(text, today=TODAY)
    assert not strict.checks["birth_date"]
    fixed = parse_mrz(text, ocr_tolerant=True, today=TODAY)
    assert fixed.ok and fixed.birth_date == date(1985, 3, 15)
    assert "characters_by_type" in fixed.repaired


def test_digits_in_alphabetic_fields_are_repaired_by_type():
    text = ut_card().replace("IRSWE", "IR5WE").replace("UKR", "UKR").replace("OLENA", "0LENA")
    m = parse_mrz(text, ocr_tolerant=True, today=TODAY)
    assert m.issuing_state == "SWE" and m.given_names.startswith("OLENA") and m.ok


def test_document_number_o_zero_confusion_is_decided_by_the_check_digit():
    text = ut_card(document_number="UA7734907")
    misread = text.replace("UA7734907", "UA77349O7")  # the zero read as O
    assert not parse_mrz(misread, today=TODAY).ok
    m = parse_mrz(misread, ocr_tolerant=True, today=TODAY)
    assert m.ok and m.document_number == "UA7734907"
    assert "document_number" in m.repaired


def test_several_repairs_passing_the_check_digits_are_refused():
    """UA1O34507 (a zero read as O): UA1034507 passes, and so do UA1O345O7, UA1D345D7 …
    The check digits cannot single one out, so nothing is repaired and the field fails."""
    text = ut_card(document_number="UA1034507")
    m = parse_mrz(text.replace("UA1034507", "UA1O34507"), ocr_tolerant=True, today=TODAY)
    assert not m.ok and m.failed == ("document_number", "composite")
    assert m.repaired == ()
    assert mrz_status(m, today=TODAY, now=NOW).validity.state == "unknown"


def test_two_misreads_that_cancel_out_are_a_9303_blind_spot():
    """O is 24: two Os for 0s at weights 7 and 3 add 240, and the check digit still passes.
    The parser cannot know; docs/mrz.md says so, and the camera path guards with a second read."""
    text = ut_card(document_number="UA1034507")
    m = parse_mrz(text.replace("UA1034507", "UA1O345O7"), ocr_tolerant=True, today=TODAY)
    assert m.ok and m.document_number == "UA1O345O7"


def test_a_repair_the_check_digits_cannot_single_out_is_refused():
    # A wrong check digit on the number: candidate repairs of the number cannot fix it.
    text = ut_card(document_number="UA1034507")
    lines = text.split("\n")
    lines[0] = lines[0][:14] + str((int(lines[0][14]) + 5) % 10) + lines[0][15:]
    m = parse_mrz("\n".join(lines), ocr_tolerant=True, today=TODAY)
    assert not m.ok and "document_number" in m.failed
    assert mrz_status(m, today=TODAY, now=NOW).validity.state == "unknown"


def test_k_in_the_name_fillers_becomes_filler():
    text = ut_card()
    lines = text.split("\n")
    assert lines[2].endswith("<<<<")
    lines[2] = lines[2][:-4] + "<K<K"
    m = parse_mrz("\n".join(lines), ocr_tolerant=True, today=TODAY)
    assert m.given_names == "OLENA IVANIVNA"


def test_ocr_tolerant_refits_a_filler_run_that_lost_characters():
    lines = ut_card().split("\n")
    short = [lines[0][:-3], lines[1], lines[2]]
    with pytest.raises(ParseError):
        parse_mrz("\n".join(short), today=TODAY)
    assert parse_mrz("\n".join(short), ocr_tolerant=True, today=TODAY).ok


# ---- Properties -------------------------------------------------------------------------

zone_char = st.sampled_from(sorted(CHARSET))
digit = st.sampled_from("0123456789")


def _line(n: int):
    return st.text(zone_char, min_size=n, max_size=n)


@st.composite
def td1_zones(draw):
    """Arbitrary TD1 zones; check positions get the right digit about half the time."""
    l1, l2, l3 = draw(_line(30)), draw(_line(30)), draw(_line(30))
    l1 = "I" + l1[1:]
    l1 = l1[:14] + draw(digit) + l1[15:]  # no long-number overflow (the reference lacks it)
    l2 = list(l2)
    for pos in (6, 14):
        l2[pos] = draw(digit)
    l2 = "".join(l2)
    if draw(st.booleans()):
        l1 = l1[:14] + check_digit(l1[5:14]) + l1[15:]
    if draw(st.booleans()):
        l2 = l2[:6] + check_digit(l2[:6]) + l2[7:14] + check_digit(l2[8:14]) + l2[15:]
    if draw(st.booleans()):
        l2 = l2[:29] + check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    return l1, l2, l3


@st.composite
def td3_zones(draw):
    l1, l2 = "P" + draw(_line(43)), list(draw(_line(44)))
    for pos in (9, 19, 27, 42, 43):
        l2[pos] = draw(digit)
    l2s = "".join(l2)
    if draw(st.booleans()):
        l2s = (l2s[:9] + check_digit(l2s[:9]) + l2s[10:19] + check_digit(l2s[13:19]) + l2s[20:27]
               + check_digit(l2s[21:27]) + l2s[28:42] + check_digit(l2s[28:42]) + l2s[43])
    if draw(st.booleans()):
        l2s = l2s[:43] + check_digit(l2s[0:10] + l2s[13:20] + l2s[21:43])
    return l1, l2s


@settings(max_examples=300, deadline=None)
@given(td1_zones())
def test_td1_check_verdicts_match_the_mrz_package(lines):
    ours = parse_mrz("\n".join(lines), today=TODAY).checks
    ref = TD1CodeChecker("\n".join(lines), precheck=False)
    assert ours["document_number"] == ref.document_number_hash
    assert ours["birth_date"] == ref.birth_date_hash
    assert ours["expiry_date"] == ref.expiry_date_hash
    assert ours["composite"] == ref.final_hash


@settings(max_examples=300, deadline=None)
@given(td3_zones())
def test_td3_check_verdicts_match_the_mrz_package(lines):
    ours = parse_mrz("\n".join(lines), today=TODAY).checks
    ref = TD3CodeChecker("\n".join(lines))
    assert ours["document_number"] == ref.document_number_hash
    assert ours["birth_date"] == ref.birth_date_hash
    assert ours["expiry_date"] == ref.expiry_date_hash
    assert ours["optional_data"] == ref.optional_data_hash
    assert ours["composite"] == ref.final_hash


# Positions each check digit covers in a TD1 zone, (line, index), and its own position.
TD1_CHECKED = {
    "document_number": ([(0, i) for i in range(5, 15)]),
    "birth_date": [(1, i) for i in range(0, 7)],
    "expiry_date": [(1, i) for i in range(8, 15)],
    "composite": ([(0, i) for i in range(5, 30)] + [(1, i) for i in range(0, 7)]
                  + [(1, i) for i in range(8, 15)] + [(1, i) for i in range(18, 30)]),
}
ALL_TD1_CHECKED = sorted({p for ps in TD1_CHECKED.values() for p in ps})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pos=st.sampled_from(ALL_TD1_CHECKED), new=zone_char,
       number=st.text(st.sampled_from("ABCDEFGHJKLMNPRSTUVWXYZ0123456789"), min_size=9,
                      max_size=9))
def test_every_single_character_corruption_of_a_checked_field_is_caught(pos, new, number):
    """9303's check digits catch every substitution except between characters whose values
    differ by a multiple of 10 (e.g. 0/A/K/U/<): those give the same digit by construction.
    In numeric positions (dates, check digits) such a pair cannot arise: a letter there is a
    type error and the digits 0-9 all differ by less than 10."""
    lines = ut_card(document_number=number).split("\n")
    li, i = pos
    old = lines[li][i]
    assume(new != old)
    lines[li] = lines[li][:i] + new + lines[li][i + 1:]
    if li == 0 and i == 14 and new == "<":
        return  # that is the long-number marker: a different, still-checked, reading
    m = parse_mrz("\n".join(lines), today=TODAY)
    undetectable = (char_value(new) - char_value(old)) % 10 == 0
    numeric = (li == 1 and (i < 15 or i == 29)) or (li, i) == (0, 14)
    if numeric:
        assert not m.ok, "a corrupted date or check digit must be caught"
        assert mrz_status(m, today=TODAY, now=NOW).validity.state != "valid"
    elif undetectable:
        assert m.ok  # the documented 9303 blind spot
    else:
        assert not m.ok


@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.text(max_size=200),
    st.text(st.sampled_from(sorted(CHARSET) + [" ", "\n", "|", "\r", "«", "x"]), max_size=120),
    td1_zones().map("\n".join),
    td1_zones().map(lambda z: " ".join(z).lower()),
    td3_zones().map("|".join),
), st.booleans())
def test_hostile_input_gives_a_zone_or_a_parse_error(text, tolerant):
    try:
        m = parse_mrz(text, ocr_tolerant=tolerant, today=TODAY)
    except ParseError as exc:
        assert exc.message
        return
    st_ = mrz_status(m, today=TODAY, now=NOW)
    if st_.validity.state == "valid":
        assert m.ok and m.kind == "ut"
    # normalising twice equals once: the normalised lines read back to the same value
    again = parse_mrz("\n".join(m.lines), ocr_tolerant=tolerant, today=TODAY)
    assert again.repaired == ()
    assert replace(again, repaired=m.repaired) == m
