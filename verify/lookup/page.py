"""What a lookup page says: its visible text, read against the profile's markers. Pure."""

from __future__ import annotations

import html.parser
import time

from verify.clock import now
from verify.lookup.css import SelectorIndex, declarations_hide, hiding_selectors
from verify.lookup.profile import MARKER_KINDS, LookupProfile
from verify.lookup.settings import Settings
from verify.model import LookupReference, ProfileUse, Validity


class PageTimeout(Exception):
    """Reading the page would take longer than the lookup's deadline allows."""


def page_text(markup: str, deadline: float | None = None) -> str:
    """The visible text of a page, case-folded, white space collapsed.

    Not visible, so not read: scripts, styles, templates, noscript, iframe/noembed/noframes
    fallback content, a closed `<details>` (but its summary); any element with the `hidden`
    attribute, or hidden by its inline style or a simple rule of the page's own stylesheet
    (`verify.lookup.css`), with everything inside it. `aria-hidden` text is shown on the screen,
    so it counts. Character references are decoded exactly once (`&amp;auml;` stays `&auml;`).

    Linear in the page: every open element keeps its own state, and an end tag finds its element
    through a count per name, never by walking the open elements. With a `deadline`
    (`time.monotonic()`), raises `PageTimeout` rather than read past it.
    """
    first = _TextParser(deadline)
    first.run(markup)
    rules = SelectorIndex(hiding_selectors("\n".join(first.sheets)))
    if not rules:
        return first.text()
    # The stylesheet applies to the whole page, also before the `<style>` that holds it.
    second = _TextParser(deadline, rules)
    second.run(markup)
    return second.text()


_NOT_RENDERED = frozenset({"script", "style", "template", "noscript", "iframe", "noembed",
                           "noframes"})
# Elements without an end tag: never pushed, or the stack would never unwind.
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
    "param", "source", "track", "wbr",
})
# Pieces the page is fed in: the deadline is looked at between them and every _EVERY events.
_FEED = 64 * 1024
_EVERY = 512


def _hides(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name == "hidden":
            return True
        if name == "style" and value:
            if "\\" in value or "/*" in value:
                return True  # an escaped or commented style is not read: count it as hiding
            if declarations_hide(value):
                return True
    return False


def _for_screen(attrs: list[tuple[str, str | None]]) -> bool:
    """Whether a `<style>`'s `media` lets it apply on a screen (`print` alone does not)."""
    for name, value in attrs:
        if name == "media" and value is not None and value.strip():
            media = value.casefold()
            return "screen" in media or "all" in media
    return True


class _TextParser(html.parser.HTMLParser):
    # Raw text in a browser with scripting on: their content is never markup, never shown.
    CDATA_CONTENT_ELEMENTS = (  # type: ignore[misc]
        "script", "style", "iframe", "noembed", "noframes", "noscript")

    def __init__(self, deadline: float | None = None, rules: SelectorIndex | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.sheets: list[str] = []  # the text of each `<style>` that applies
        self._deadline = deadline
        self._rules = rules
        self._events = 0
        # Open elements: name and what each adds to the hidden count (+1 hides its content;
        # -1 for a closed details' summary, which shows again what its details hides).
        self._stack: list[tuple[str, int]] = []
        self._open: dict[str, int] = {}  # how many elements of each name are open
        self._hidden = 0
        self._summary_wanted: set[int] = set()  # depths of closed details without a summary yet
        self._styles: list[bool] = []  # each open `<style>`: whether its rules apply
        self._inert = 0  # inside a template: its styles do not apply

    def run(self, markup: str) -> None:
        # A bounded number of pieces: html.parser rescans an unfinished construct at each feed.
        step = max(_FEED, len(markup) // 16)
        try:
            for i in range(0, len(markup), step):
                self._tick()
                self.feed(markup[i:i + step])
            self.close()
        except (AssertionError, ValueError):  # pragma: no cover - html.parser is lenient
            pass

    def _tick(self) -> None:
        if self._deadline is not None and time.monotonic() >= self._deadline:
            raise PageTimeout("reading the page would pass the lookup's deadline")

    def _count(self) -> None:
        self._events += 1
        if self._events % _EVERY == 0:
            self._tick()

    def text(self) -> str:
        return " ".join(" ".join(self.parts).split()).casefold()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._count()
        if tag in _VOID:
            return
        depth = len(self._stack)
        delta = 1 if tag in _NOT_RENDERED or _hides(attrs) or self._styled_hidden(tag, attrs) \
            else 0
        if tag == "details" and not any(name == "open" for name, _ in attrs) and not delta:
            delta = 1
            self._summary_wanted.add(depth + 1)
        elif tag == "summary" and depth in self._summary_wanted:
            self._summary_wanted.discard(depth)
            delta -= 1  # the summary of a closed details is shown
        self._stack.append((tag, delta))
        self._open[tag] = self._open.get(tag, 0) + 1
        self._hidden += delta
        if tag == "style":
            self._styles.append(not self._inert and _for_screen(attrs))
        elif tag == "template":
            self._inert += 1

    def _styled_hidden(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if not self._rules:
            return False
        classes: frozenset[str] = frozenset()
        ident = None
        for name, value in attrs:
            if name == "class" and value:
                classes = frozenset(value.casefold().split())
            elif name == "id" and value:
                ident = value.casefold()
        for group in self._rules.candidates(tag, classes, ident):
            for selector in group:
                self._count()  # many rules sharing a class cost time too: inside the deadline
                if selector.matches(tag, classes, ident):
                    return True
        return False

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._count()  # `<div hidden/>` has no content to hide

    def handle_endtag(self, tag: str) -> None:
        self._count()
        # Close up to the nearest open element of this name; a stray end tag closes nothing.
        # The count per name says at once whether there is one: no walk over the open elements.
        if not self._open.get(tag):
            return
        while True:
            name, delta = self._stack.pop()
            self._summary_wanted.discard(len(self._stack) + 1)
            self._open[name] -= 1
            self._hidden -= delta
            if name == "style" and self._styles:
                self._styles.pop()
            elif name == "template":
                self._inert -= 1
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        self._count()
        if self._styles and self._styles[-1] and self._stack and self._stack[-1][0] == "style":
            self.sheets.append(data)
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


def read_page(
    markup: str, settings: Settings, ref: LookupReference, deadline: float | None = None
) -> Validity:
    """Pure: what a lookup page says, per the markers of the profile the address fits.

    Only the state and the right to work are read from the page; nothing else on it (names,
    dates, numbers, photos) is kept, so nothing else can reach output, logs or disk. Raises
    `PageTimeout` when reading it would pass `deadline`.
    """
    return read_text(page_text(markup, deadline), settings.profile_named(ref.profile), ref)


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
