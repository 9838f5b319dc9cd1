"""The pure steps of `verify profile learn`: proposal, sentences, refusing personal data."""

from __future__ import annotations

import dataclasses
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.cli.profile import _number
from verify.errors import ParseError
from verify.lookup.emulator import HOLDER, _design_page
from verify.lookup.learn import (
    MAX_SENTENCES,
    personal_reason,
    propose,
    sentences,
    token_grammar,
    written_problems,
)
from verify.lookup.profile import shipped_profile


def test_a_query_token_is_found_and_its_grammar_proposed() -> None:
    p = propose(["https://kort.example.se/kontroll?kod=AB12CD34",
                 "https://kort.example.se/kontroll?kod=ZZ99YY00"])
    assert (p.base, p.host, p.token_location) == (
        "https://kort.example.se/kontroll", "kort.example.se", "query:kod")
    assert p.token_pattern == "[A-Za-z0-9]{8}"


def test_a_path_token_is_found_after_the_common_base() -> None:
    p = propose(["https://kort.example.se/a/b/Xy12-z", "https://kort.example.se/a/b/Qw_99"])
    assert (p.base, p.token_location) == ("https://kort.example.se/a/b/", "path")
    assert p.tokens == ("Xy12-z", "Qw_99")
    assert token_grammar(p.tokens) == p.token_pattern == "[A-Za-z0-9\\-_]{5,6}"


@pytest.mark.parametrize(
    "codes, reason",
    [
        (["https://a.se/x/AB12"], "too_few"),
        (["https://a.se/x/AB12", "https://b.se/x/CD34"], "hosts_differ"),
        (["https://a.se/x/AB12", "https://a.se/x/AB12"], "no_token"),
        (["https://a.se/x/AB12", "mailto:x@a.se"], "not_an_address"),
        (["https://u@a.se/x/AB12", "https://a.se/x/CD34"], "odd_address"),
        (["https://a.se/x?k=AB12", "https://a.se/y/CD34"], "no_common_shape"),
        (["https://a.se/x/AB 12", "https://a.se/x/CD34"], "whitespace"),
    ],
)
def test_addresses_that_do_not_make_a_profile_say_why(codes: list[str], reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        propose(codes)
    assert caught.value.reason == reason


def test_the_application_page_is_numbered_by_sentence_and_its_holder_refused() -> None:
    found = sentences(_design_page("valid.html", "application").decode())
    assert "ansökningskortet är giltigt." in found
    assert "innehavaren är undantagen från kravet på arbetstillstånd (at-und)." in found
    holder_lines = [s for s in found if HOLDER["name"].casefold() in s
                    or HOLDER["birth_date"] in s or HOLDER["case_number"] in s]
    assert holder_lines, "the emulator's page does show the holder"
    for sentence in holder_lines + ["namn", "födelsedatum", "ärendenummer"]:
        assert personal_reason(sentence) is not None, sentence
    assert personal_reason("ansökningskortet är giltigt.") is None


@pytest.mark.parametrize(
    "sentence",
    ["kortet gäller till 2027-03-04.", "giltigt t.o.m. 4 mars", "ärende 12-345678",
     "kortet ab12cd34 gäller.", "född 14/3", "x" * 200],
)
def test_a_sentence_that_could_identify_someone_is_refused(sentence: str) -> None:
    assert personal_reason(sentence, tokens=["AB12CD34"]) is not None


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=0, max_size=4))
def test_hostile_addresses_give_a_parse_error_or_a_proposal(codes: list[str]) -> None:
    try:
        p = propose(codes)
    except ParseError:
        return
    assert p.base.startswith(("https://", "http://")) and len(p.tokens) == len(codes)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_hostile_markup_gives_sentences_without_crashing(markup: str) -> None:
    for sentence in sentences(markup):
        assert sentence == sentence.strip() and sentence
        personal_reason(sentence)


def test_a_result_sentence_hidden_by_the_pages_stylesheet_is_not_offered() -> None:
    """A page that hides a template of its result sentence with a stylesheet rule: `learn` must
    not see the template, so it cannot confirm a profile on a sentence no one sees."""
    markup = ("<style>.tpl{display:none}</style><h1>Kontroll</h1>"
              "<p class=tpl>LMA-kortet är giltigt.</p><p>Det finns ingen information.</p>")
    found = sentences(markup)
    assert "lma-kortet är giltigt." not in found
    assert "det finns ingen information." in found


# The red team's dressed-up sentences (14 of 17 were once written into a confirmed profile).
DRESSED = [
    "Anna Andersson.",
    "anna andersson!",
    "Anna Maria Lovisa Andersson Berg",
    "María José de la Cruz",
    "Anna och Andersson",
    "Ali bin Omar",
    "\u0391nna \u0391ndersson",  # Greek capital Alpha
    "Аnna Аndersson",  # Cyrillic A
    "An\u200bna An\u200dders\u2060son",  # zero-width characters inside the words
    "1\u200b2\u200b3\u200b4\u200b5",
    "Ärende 12 34 56 78",
    "nummer 12.34.56",
    "född ¹⁹⁹⁰",
    "giltigt till ２０２７",  # full-width digits
    "den tjugotredje mars",
    "fjortonde december",
    "tolv trettiofyra femtiosex",
    "ett två tre fyra",
    "kortet AB-CD-12-34 gäller.",
    "kod a b c d 1 2 3 4",
    "A. Andersson",
    "Siobhan O’Brien",
    "e-post: anna.andersson@example.se",
    "tel 070-123 45 67",
]


@pytest.mark.parametrize("sentence", DRESSED)
def test_a_dressed_up_personal_sentence_is_still_refused(sentence: str) -> None:
    assert personal_reason(sentence, tokens=["ABCD1234"]) is not None


# What real answer pages say: none of it may be refused.
PLAIN = [
    "lma-kortet är giltigt.", "det finns ingen information om kortet.", "kortet gäller.",
    "personen får arbeta i sverige.", "personen får inte arbeta i sverige.",
    "inga uppgifter hittades för den angivna koden.", "sökresultat för kortkontroll",
    "kortet är aktivt.", "arbete: tillåtet.", "arbete: ej tillåtet.", "koden gav ingen träff.",
    "innehavaren har rätt att arbeta (at-und).", "kontroll av lma-kort",
    "innehavaren är undantagen från kravet på arbetstillstånd (at-und).",
    "the card is valid.", "no information was found for this card.",
]


@pytest.mark.parametrize("sentence", PLAIN)
def test_the_sentences_of_real_answer_pages_are_not_refused(sentence: str) -> None:
    assert personal_reason(sentence, tokens=["ABCD1234"]) is None


INVISIBLE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", ""])
EDGE = st.sampled_from(["", ".", "!", "…", " .", ":", "\u200b"])


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.sampled_from(["Anna Andersson", "12345678", "Ärende 4471", "3 mars", "ABCD1234"]),
       st.lists(INVISIBLE, min_size=12, max_size=12), EDGE, st.booleans())
def test_invisible_characters_and_punctuation_never_get_personal_data_past(
    base: str, marks: list[str], edge: str, greek: bool
) -> None:
    dressed = "".join(c + m for c, m in zip(base, marks + [""] * len(base), strict=False))
    if greek:
        dressed = dressed.replace("A", "\u0391")
    assert personal_reason(dressed + edge, tokens=["ABCD1234"]) is not None


def test_the_file_about_to_be_written_is_checked_again() -> None:
    """However a marker got into the profile, its text is checked once more before writing."""
    profile = dataclasses.replace(
        shipped_profile("lma"),
        markers={**shipped_profile("lma").markers, "valid": ("anna andersson.",)})
    problems = written_problems(profile.to_toml(), tokens=["ABCD1234"])
    assert problems and "anna andersson" in problems[0]
    assert written_problems(shipped_profile("lma").to_toml(), tokens=["ABCD1234"]) == []


def test_a_page_of_52000_sentences_is_read_in_bounded_time() -> None:
    """Once 87 s in `learn`: every sentence was compared with every other."""
    words = [f"{a}{b}{c}" for a in "abcdefghij" for b in "klmnopqrst" for c in "uvwxyzåäöé"]
    markup = "<p>" + " ".join(f"{w} {v}." for w in words for v in words[:52]) + "</p>"
    started = time.monotonic()
    found = sentences(markup)
    numbered = _number([found, found[::-1]])
    assert time.monotonic() - started < 10
    assert len(found) == MAX_SENTENCES and len(numbered) == MAX_SENTENCES
