"""What a lookup page says: its visible text, read against the profile's markers. Pure."""

from __future__ import annotations

import html
import html.parser

from verify.clock import now
from verify.lookup.settings import Settings
from verify.model import LookupReference, Validity


def page_text(markup: str) -> str:
    """The visible text of a page, case-folded, white space collapsed (scripts/styles dropped)."""
    parser = _TextParser()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # pragma: no cover - html.parser is lenient
        pass
    return " ".join(html.unescape(" ".join(parser.parts)).split()).casefold()


class _TextParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template", "noscript"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template", "noscript") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def read_page(markup: str, settings: Settings, ref: LookupReference) -> Validity:
    """Pure: what a lookup page says, per the profile's markers. Unrecognised → unknown."""
    markers = settings.profile.markers
    text = page_text(markup)

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
        )

    if not has("page"):
        if has("maintenance"):
            return result("unknown", "lookup_maintenance",
                          "the lookup service shows a maintenance page")
        if has("consent"):
            return result("unknown", "lookup_consent",
                          "the lookup service shows a consent page, not an answer")
        return result("unknown", "lookup_unrecognised_page",
                      "the lookup answered with a page this profile does not recognise")
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
                  "the lookup page says neither valid nor no information clearly")
