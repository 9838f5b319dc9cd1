"""The words on the desk screen for one status, Swedish first. Pure; the page only displays them.

Keeping the wording here (not in the page's JavaScript) means it is tested in Python, matches
the CLI's vocabulary and the page can set `textContent` without building any markup.
"""

from __future__ import annotations

from typing import Any

from verify.locale import gettext
from verify.model import MissingFact, Status
from verify.present.status import render_authenticity, render_detail

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
    if kind == "application":
        document = gettext("Application card", lang)
    else:
        document = words["unknown_kind"] if kind not in words else words[kind]
    if not_a_card:
        detail = words["not_a_card_detail"]
    else:
        # The outcome's own sentence from the catalogue (why it is unknown, until when a UT
        # card is valid), the same words as the command line's.
        detail = render_detail(status.validity, lang)
    lines: list[str] = []
    auth = status.authenticity
    if auth is not None:
        # The chip's word stands first, beside validity; an altered card turns the screen red.
        lines.extend(render_authenticity(auth, lang).split("\n"))
        if auth.state == "altered":
            tone = "not_valid"
        elif tone == "valid" and auth.state != "verified":
            tone = "unknown"  # valid by its expiry, but the chip did not vouch: check by hand
    if status.validity.right_to_work is not None and state == "valid":
        lines.append(words["work_yes"] if status.validity.right_to_work else words["work_no"])
    steps: list[str] = []
    summary = ""
    decision = None if not_a_card else status.decision  # a code that is no card: no decision
    if decision is not None:
        summary = decision.summary_en if lang == "en" and decision.summary_en else decision.summary
        for step in decision.steps[:MAX_STEPS]:
            text = step.text_en if lang == "en" and step.text_en else step.text
            steps.append(text)
    manual = status.validity.manual_check_url if state != "valid" else None
    return {
        "lang": lang,
        "tone": tone,
        "chip": auth.state if auth is not None else None,
        "headline": headline,
        "document": document,
        "detail": detail,
        "lines": lines,
        "summary": summary,
        "steps": steps,
        "manual_label": words["manual"] if manual else "",
        "manual_check_url": manual,
        "questions": [desk_question(m, lang) for m in decision.missing if m.values]
        if decision is not None else [],
        "profile_notice": profile_notice(
            [status.validity.profile.name]
            if status.validity.profile is not None and not status.validity.profile.confirmed
            else [],
            lang=lang,
        ),
    }


def desk_question(fact: MissingFact, lang: str) -> dict[str, Any]:
    """One missing fact as a question with one large button per answer, and what each means.

    `value` is what the page sends back; the words come from the rule data (the meaning) and the
    catalogue (the buttons), in the desk's language.
    """
    en = lang == "en"
    labels_en = list(fact.answers_en)
    options = []
    for i, (label_sv, meaning_sv) in enumerate(fact.answers.items()):
        label = labels_en[i] if en and i < len(labels_en) else label_sv
        meaning = fact.answers_en.get(label, meaning_sv) if en else meaning_sv
        value = fact.values[label_sv]
        options.append({"value": value, "label": _button(fact.fact, value, label, lang),
                        "meaning": compact(meaning)})
    if fact.fact == "age":
        question = gettext("How old is the patient?", lang)
    else:
        question = (fact.question_en or fact.question) if en else fact.question
        question = question.split(" Ange --")[0].split(" Give --")[0]  # CLI hints, not desk words
    # The card's validity is checked by hand (the manual step), never tapped in: doubt stays.
    return {"fact": fact.fact, "question": question, "options": options,
            "answerable": fact.fact != "validity"}


def compact(meaning: str) -> str:
    """One outcome: its words in full. Several ("Label: summary / Label: summary"): the labels
    only, so a question fits on the screen beside the manual address."""
    parts = meaning.split(" / ")
    if len(parts) == 1:
        return meaning
    return " / ".join(dict.fromkeys(p.split(": ", 1)[0] for p in parts))


def _button(fact: str, value: str, label: str, lang: str) -> str:
    """"Barn under 18" / "Vuxen" for the usual split at 18; the rule data's own words otherwise."""
    if fact == "age":
        lo, _, hi = value.partition("-")
        if lo == "0":
            return gettext("Child under {age}", lang, age=int(hi) + 1)
        if lo == "18" and int(hi) >= 100:
            return gettext("Adult", lang)
    return label[:1].upper() + label[1:]


def profile_notice(unconfirmed: list[str], *, lang: str = "sv") -> str:
    """The desk's standing banner while a lookup profile in use is unconfirmed (else empty)."""
    if not unconfirmed:
        return ""
    return gettext(
        "Unconfirmed lookup profile ({names}): the wording of the agency's page has not been "
        "checked against real cards. Answers may be wrong — check doubtful cards by hand.",
        lang,
        names=", ".join(unconfirmed),
    )
