"""The words on the desk screen for one status, Swedish first. Pure; the page only displays them.

Keeping the wording here (not in the page's JavaScript) means it is tested in Python, matches
the CLI's vocabulary and the page can set `textContent` without building any markup.
"""

from __future__ import annotations

from typing import Any

from verify.model import Status
from verify.present.status import render_detail

MAX_STEPS = 3

_WORDS: dict[str, dict[str, str]] = {
    "sv": {
        "valid": "GILTIGT",
        "not_valid": "EJ GILTIGT",
        "unknown": "KONTROLLERA MANUELLT",
        "not_a_card": "INTE ETT KORT",
        "lma": "LMA-kort",
        "ut": "Uppehållstillståndskort (UT-kort)",
        "unknown_kind": "Okänt dokument",
        "work_yes": "Rätt att arbeta: ja",
        "work_no": "Rätt att arbeta: nej",
        "manual": "Kontrollera för hand:",
        "not_a_card_detail": (
            "Koden som lästes är inte ett LMA-kort eller UT-kort. Skanna kortets QR-kod igen."
        ),
        "valid_detail": "Kortet är giltigt enligt Migrationsverket.",
        "not_valid_detail": "Ingen information hos Migrationsverket: kortet gäller inte längre.",
        "unknown_detail": "Giltigheten kunde inte avgöras. Kontrollera kortet för hand.",
        "ut_valid_detail": "Kortet har inte gått ut (datum i kortets maskinläsbara del).",
        "ut_not_valid_detail": "Kortet har gått ut.",
    },
    "en": {
        "valid": "VALID",
        "not_valid": "NOT VALID",
        "unknown": "CHECK BY HAND",
        "not_a_card": "NOT A CARD",
        "lma": "LMA card",
        "ut": "Residence permit card (UT card)",
        "unknown_kind": "Unknown document",
        "work_yes": "Right to work: yes",
        "work_no": "Right to work: no",
        "manual": "Check by hand:",
        "not_a_card_detail": (
            "The code read is not an LMA card or UT card. Scan the card's QR code again."
        ),
        "valid_detail": "The card is valid according to the Migration Agency.",
        "not_valid_detail": "No information at the Migration Agency: the card is no longer valid.",
        "unknown_detail": "Validity could not be determined. Check the card by hand.",
        "ut_valid_detail": "The card has not expired (date in the card's machine-readable zone).",
        "ut_not_valid_detail": "The card has expired.",
    },
}


def desk_view(status: Status, *, lang: str = "sv") -> dict[str, Any]:
    """Headline, tone (colour), lines and the first steps of the decision, in `lang`."""
    words = _WORDS.get(lang, _WORDS["sv"])
    state = status.validity.state
    not_a_card = status.validity.basis == "not_a_card"
    tone = "unknown" if not_a_card else state
    headline = words["not_a_card"] if not_a_card else words[state]
    kind = status.document.kind
    document = words["unknown_kind"] if kind == "unknown" else words[kind]
    if not_a_card:
        detail = words["not_a_card_detail"]
    else:
        # The outcome's own sentence from the catalogue (why it is unknown, until when a UT
        # card is valid), the same words as the command line's.
        detail = render_detail(status.validity, lang)
    lines: list[str] = []
    if status.validity.right_to_work is not None and state == "valid":
        lines.append(words["work_yes"] if status.validity.right_to_work else words["work_no"])
    steps: list[str] = []
    summary = ""
    decision = status.decision
    if decision is not None:
        summary = decision.summary_en if lang == "en" and decision.summary_en else decision.summary
        for step in decision.steps[:MAX_STEPS]:
            text = step.text_en if lang == "en" and step.text_en else step.text
            steps.append(text)
    manual = status.validity.manual_check_url if state != "valid" else None
    return {
        "lang": lang,
        "tone": tone,
        "headline": headline,
        "document": document,
        "detail": detail,
        "lines": lines,
        "summary": summary,
        "steps": steps,
        "manual_label": words["manual"] if manual else "",
        "manual_check_url": manual,
    }
