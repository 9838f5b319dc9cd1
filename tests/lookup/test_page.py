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
    # The ways of hiding text the red team found still counting:
    '<p style="font-size:0">{}</p>',
    '<p style="font-size: 0px">{}</p>',
    '<p style="font-size:0.0em">{}</p>',
    '<p style="opacity:0">{}</p>',
    '<p style="opacity: 0.0 !important">{}</p>',
    '<p style="opacity:0%">{}</p>',
    "<details>{}</details>",
    "<details><summary>Mer</summary><p>{}</p></details>",
    "<iframe>{}</iframe>",
    '<iframe src="x"><p>{}</p></iframe>',
    "<noembed>{}</noembed>",
    "<noframes>{}</noframes>",
    "<style>.x{{display:none}}</style><p class=x>{}</p>",
    "<p class='a x b'>{}</p><style>.x {{ visibility: hidden }}</style>",
    "<style>#r{{display:none}}</style><div id=r><span>{}</span></div>",
    "<style>aside{{display:none}}</style><aside>{}</aside>",
    "<style>p.x#y, .z{{display:none !important}}</style><p class=x id=y>{}</p>",
    "<style>/* a comment */ .x{{font-size:0}}</style><b class=x>{}</b>",
    "<style>.x{{disp\\lay:none}}</style><b class=x>{}</b>",  # a CSS escape is read
    "<style>.X{{opacity:0}}</style><b class=x>{}</b>",
    "<style media='screen and (min-width: 1px)'>p.r{{display:none}}</style><p class=r>{}</p>",
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


SHOWN = [
    "<details open><p>{}</p></details>",
    "<details><summary>{}</summary><p>more</p></details>",
    '<p style="font-size:1px">{}</p>',
    '<p style="opacity:0.5">{}</p>',
    "<style>.x{{display:block}}</style><p class=x>{}</p>",
    "<style>.x{{display:none}}</style><p class=y>{}</p>",
    "<style>@media print {{ .x{{display:none}} }}</style><p class=x>{}</p>",
    "<style>div .x{{display:none}}</style><p class=x>{}</p>",
    "<template><style>.x{{display:none}}</style></template><p class=x>{}</p>",
    "<p>{}</p><iframe></iframe>",
    "<style media=print>.x{{display:none}}</style><p class=x>{}</p>",
]


@pytest.mark.parametrize("wrapper", SHOWN)
def test_text_a_browser_shows_still_counts(wrapper: str) -> None:
    markup = page(f"<h1>{PAGE_MARKER}</h1>" + wrapper.format(VALID))
    assert read_page(markup, SETTINGS, REF).state == "valid"


def test_a_closed_details_shows_its_summary_only() -> None:
    text = page_text("<details><p>a</p><summary>b</summary><summary>c</summary>d</details>e")
    assert text == "b e"


def test_the_stylesheet_applies_to_elements_before_it() -> None:
    markup = f"<p class=late>{VALID}</p><p>shown</p><style>.late{{display:none}}</style>"
    assert page_text(markup) == "shown"


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
                        "style", "template", "x-y", "svg", "details", "summary", "iframe",
                        "noembed"])
ATTRS = st.sampled_from(["", " hidden", ' style="display:none"', ' aria-hidden="true"',
                         ' class="a"', ' style="visibility:visible"', " hidden=hidden",
                         ' style="display:block"', ' x="<p>"', " x='>'", " open",
                         ' class="x"', ' id="r"'])
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


# Hidden by the element itself; a stylesheet's rules depend on what surrounds the `<style>`.
ELEMENT_HIDING = [w for w in HIDING if "<style" not in w]
STYLED = [w.replace("{{", "{").replace("}}", "}").split("</style>") for w in HIDING
          if w.startswith("<style")]
# Elements whose content is raw text would swallow the rule or the element after them.
PLAIN_TAGS = st.sampled_from(["div", "p", "span", "b", "section", "li", "td", "br", "img",
                              "x-y", "svg", "details", "summary"])


@settings(max_examples=300, derandomize=True, deadline=None)
@given(soup(TEXT), soup(TEXT), st.sampled_from(ELEMENT_HIDING))
def test_hidden_text_never_shows_whatever_markup_surrounds_it(
    before: str, after: str, wrapper: str
) -> None:
    """Any tags, attributes and text before and after (unclosed, stray, nested, void, raw-text
    elements): a hidden secret stays hidden."""
    assert SECRET not in page_text(before + wrapper.format(SECRET) + after)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(st.one_of(st.builds(lambda t, a: f"<{t}{a}>", PLAIN_TAGS, ATTRS),
                          st.builds(lambda t: f"</{t}>", PLAIN_TAGS), TEXT), max_size=30)
       .map("".join), soup(TEXT), st.sampled_from(STYLED))
def test_a_stylesheet_rule_hides_its_elements_wherever_they_stand(
    between: str, after: str, styled: list[str]
) -> None:
    """A hiding rule of the page's own `<style>`: its element's text stays hidden whatever tags
    stand between the rule and the element, and whatever follows."""
    sheet, element = styled
    assert SECRET not in page_text(sheet + "</style>" + between + element.replace("{}", SECRET)
                                   + after)


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
