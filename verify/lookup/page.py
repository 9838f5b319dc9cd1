"""What a lookup page says: its visible text, read against the profile's markers. Pure."""

from __future__ import annotations

import html.parser

from verify.clock import now
from verify.lookup.profile import MARKER_KINDS, LookupProfile
from verify.lookup.settings import Settings
from verify.model import LookupReference, ProfileUse, Validity


def page_text(markup: str) -> str:
    """The visible text of a page, case-folded, white space collapsed.

    Not visible, so not read: scripts, styles, templates, noscript; any element with the `hidden`
    attribute or an inline style `display:none`, `visibility:hidden|collapse` or
    `content-visibility:hidden`, with everything inside it. `aria-hidden` text is shown on the
    screen, so it counts. Stylesheet rules are not evaluated (docs/hostile-conditions.md). Character
    references are decoded exactly once (`&amp;auml;` stays `&auml;`).
    """
    parser = _TextParser()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # pragma: no cover - html.parser is lenient
        pass
    return " ".join(" ".join(parser.parts).split()).casefold()


_NOT_RENDERED = frozenset({"script", "style", "template", "noscript"})
# Elements without an end tag: never pushed, or the stack would never unwind.
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
    "param", "source", "track", "wbr",
})
_HIDING = {
    "display": {"none"},
    "visibility": {"hidden", "collapse"},
    "content-visibility": {"hidden"},
}


def _hides(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name == "hidden":
            return True
        if name == "style" and value:
            style = value.casefold()
            if "\\" in style or "/*" in style:
                return True  # an escaped or commented style is not read: count it as hiding
            for declaration in style.split(";"):
                prop, _, val = declaration.partition(":")
                val = val.replace("!important", "").strip()
                if val in _HIDING.get(prop.strip(), ()):
                    return True
    return False


class _TextParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # open elements: tag, hides its content
        self._hidden = 0  # how many open elements hide their content

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        hides = tag in _NOT_RENDERED or _hides(attrs)
        self._stack.append((tag, hides))
        self._hidden += hides

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # `<div hidden/>` has no content to hide

    def handle_endtag(self, tag: str) -> None:
        # Close up to the nearest open element of this name; a stray end tag closes nothing.
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                for _, hides in self._stack[i:]:
                    self._hidden -= hides
                del self._stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)

    def close(self) -> None:
        # A tag, comment or declaration left unfinished at the end of the page is dropped by a
        # browser; html.parser would flush it as text. Drop it here too.
        cut = self.rawdata.find("<")
        if cut >= 0:
            self.rawdata = self.rawdata[:cut]
        super().close()


NOT_RECOGNISED = "page not recognised — the profile may be out of date"


def marker_hits(text: str, profile: LookupProfile) -> dict[str, dict[str, bool]]:
    """Which of the profile's markers the visible text holds (`verify profile check`)."""
    return {kind: {m: m in text for m in profile.markers[kind]} for kind in MARKER_KINDS}


def read_page(markup: str, settings: Settings, ref: LookupReference) -> Validity:
    """Pure: what a lookup page says, per the markers of the profile the address fits.

    Only the state and the right to work are read from the page; nothing else on it (names,
    dates, numbers, photos) is kept, so nothing else can reach output, logs or disk.
    """
    return read_text(page_text(markup), settings.profile_named(ref.profile), ref)


def read_text(text: str, profile: LookupProfile, ref: LookupReference) -> Validity:
    """What the visible text of a lookup page says per `profile`. Unrecognised → unknown."""
    markers = profile.markers

    def has(kind: str) -> bool:
        return any(m in text for m in markers[kind])

    def result(state: str, reason: str, detail: str,
               right_to_work: bool | None = None) -> Validity:
        return Validity(
            state=state,  # type: ignore[arg-type]
            basis="lookup",
            checked_at=now(),
            detail=detail,
            reason=reason,
            right_to_work=right_to_work,
            manual_check_url=ref.url,
            profile=ProfileUse(profile.name, profile.confirmed),
        )

    if not has("page"):
        if has("maintenance"):
            return result("unknown", "lookup_maintenance",
                          "the lookup service shows a maintenance page")
        if has("consent"):
            return result("unknown", "lookup_consent",
                          "the lookup service shows a consent page, not an answer")
        return result("unknown", "lookup_unrecognised_page", NOT_RECOGNISED)
    valid, no_info = has("valid"), has("no_information")
    if valid and not no_info:
        if has("no_right_to_work"):
            rtw: bool | None = False
        elif has("right_to_work"):
            rtw = True
        else:
            rtw = None
        return result("valid", "lookup_valid", "the agency's lookup says the card is valid", rtw)
    if no_info and not valid:
        return result(
            "not_valid",
            "lookup_no_information",
            "the agency's lookup shows no information for this card: no longer valid",
            None,
        )
    return result("unknown", "lookup_ambiguous",
                  f"{NOT_RECOGNISED}: it says neither valid nor no information clearly")
