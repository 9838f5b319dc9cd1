"""What a lookup page says: only its visible text counts, entities decoded once. Hostile markup
never raises and never lets hidden text through."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support_faults import AGENCY
from verify.cards.reference import from_token
from verify.lookup.page import page_text, read_page
from verify.lookup.profile import load_profile
from verify.lookup.settings import Settings

SETTINGS = Settings(
    profile=load_profile(),
    base="https://www.migrationsverket.se/lmakort/",
    allowed_hosts=frozenset({"www.migrationsverket.se"}),
)
REF = from_token("VALID0001", SETTINGS)
PAGE_MARKER = "Kontroll av LMA-kort"
VALID = "LMA-kortet är giltigt"
NO_INFO = "Det finns ingen information om kortet"
SECRET = "zqxsecretzqx"


def page(content: str) -> str:
    return (AGENCY / "_layout.html").read_text("utf-8").replace("{content}", content)


HIDING = [
    "<div hidden>{}</div>",
    '<div hidden="until-found">{}</div>',
    '<p style="display:none">{}</p>',
    '<p style="color: red; DISPLAY : none !important">{}</p>',
    '<span style="visibility:hidden">{}</span>',
    '<span style="visibility: collapse">{}</span>',
    '<section style="content-visibility:hidden">{}</section>',
    '<div style="disp/**/lay:none">{}</div>',  # a style not read plainly counts as hiding
    "<div hidden><p>a</p><br><img src=x><b>{}</b></div>",
    "<template>{}</template>",
    "<noscript>{}</noscript>",
    "<script>var a = '{}';</script>",
]


@pytest.mark.parametrize("wrapper", HIDING)
def test_a_valid_marker_in_a_hidden_element_does_not_make_a_card_valid(wrapper: str) -> None:
    markup = page(f"<h1>{PAGE_MARKER}</h1>" + wrapper.format(VALID))
    assert "giltigt" not in page_text(markup)
    assert read_page(markup, SETTINGS, REF).state == "unknown"


def test_a_hidden_no_information_does_not_hide_a_visible_valid() -> None:
    markup = page(f"<h1>{PAGE_MARKER}</h1><p>{VALID}</p><div hidden>{NO_INFO}</div>")
    assert read_page(markup, SETTINGS, REF).state == "valid"


def test_aria_hidden_text_is_on_the_screen_so_it_counts() -> None:
    markup = page(f'<h1>{PAGE_MARKER}</h1><p aria-hidden="true">{VALID}</p>')
    assert read_page(markup, SETTINGS, REF).state == "valid"


def test_text_after_a_hidden_element_is_read() -> None:
    markup = f"<div hidden><span>gone</div><p>{VALID}</p><br/><div hidden/>after"
    text = page_text(markup)
    assert "gone" not in text and "lma-kortet är giltigt" in text and "after" in text


def test_entities_are_decoded_once() -> None:
    assert page_text("<p>LMA-kortet &amp;auml;r giltigt</p>") == "lma-kortet &auml;r giltigt"
    assert page_text("<p>LMA-kortet &auml;r giltigt</p>") == "lma-kortet är giltigt"
    markup = page(f"<h1>{PAGE_MARKER}</h1><p>LMA-kortet &amp;auml;r giltigt</p>")
    assert read_page(markup, SETTINGS, REF).state == "unknown"


def test_the_agency_pages_still_read() -> None:
    valid = page((AGENCY / "valid.html").read_text("utf-8"))
    noinfo = page((AGENCY / "noinfo.html").read_text("utf-8"))
    assert read_page(valid, SETTINGS, REF).state == "valid"
    assert read_page(noinfo, SETTINGS, REF).state == "not_valid"


TAGS = st.sampled_from(["div", "p", "span", "b", "section", "li", "td", "br", "img", "script",
                        "style", "template", "x-y", "svg", "details", "summary"])
ATTRS = st.sampled_from(["", " hidden", ' style="display:none"', ' aria-hidden="true"',
                         ' class="a"', ' style="visibility:visible"', " hidden=hidden",
                         ' style="display:block"', ' x="<p>"', " x='>'"])
# Text that keeps the parser in its data state (no `<` opening a comment, declaration or tag).
TEXT = st.sampled_from(["a", "&amp;", "&lt;p&gt;", "&#x3c;", "&", ">", "&auml;", "\x00", " ",
                        "\n", "giltigt", "]]>", "-->"])
HOSTILE = st.sampled_from(["<", "<!--", "<!x", "<?", "<div x='", '<p "', "</", "<![CDATA[",
                           "<script>", "</script", "&#", "&#x110000;", "&#0;"])


def soup(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    piece = st.one_of(
        st.builds(lambda t, a: f"<{t}{a}>", TAGS, ATTRS),
        st.builds(lambda t: f"</{t}>", TAGS),
        st.builds(lambda t, a: f"<{t}{a}/>", TAGS, ATTRS),
        text,
    )
    return st.lists(piece, max_size=40).map("".join)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(soup(TEXT), soup(TEXT), st.sampled_from(HIDING))
def test_hidden_text_never_shows_whatever_markup_surrounds_it(
    before: str, after: str, wrapper: str
) -> None:
    """Any tags, attributes and text before and after (unclosed, stray, nested, void, raw-text
    elements): a hidden secret stays hidden."""
    assert SECRET not in page_text(before + wrapper.format(SECRET) + after)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(soup(st.one_of(TEXT, HOSTILE, st.text(max_size=8))), st.sampled_from(HIDING))
def test_hostile_markup_never_raises(
    hostile: str, wrapper: str
) -> None:
    text = page_text(hostile + wrapper.format(SECRET))
    assert isinstance(text, str)


def test_a_tag_left_unfinished_at_the_end_is_not_read_as_text() -> None:
    # A browser drops it; html.parser on its own would flush it as text.
    assert page_text(f"<p>x</p><div title='{VALID}") == "x"
    assert page_text(f"<p>x</p><!-- {VALID}") == "x"


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_read_without_raising(text: str) -> None:
    assert isinstance(page_text(text), str)
    assert read_page(text, SETTINGS, REF).state in ("unknown", "valid", "not_valid")
