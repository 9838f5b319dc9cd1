"""The pure steps of `verify profile learn`: proposal, sentences, refusing personal data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.errors import ParseError
from verify.lookup.emulator import HOLDER, _design_page
from verify.lookup.learn import personal_reason, propose, sentences, token_grammar


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
