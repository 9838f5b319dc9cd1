"""The decision as the desk reads it: one screen, the verdict first, then the few steps to take.

Swedish by default (`lang="sv"`), English with `lang="en"`. `verbose=True` adds every step and
the source passage each one rests on.
"""

from __future__ import annotations

import textwrap

from verify.model import Decision, Step

ENTITLEMENT = {
    "same_as_resident": ("SAMMA VÅRD SOM FOLKBOKFÖRDA", "SAME CARE AS RESIDENTS"),
    "care_that_cannot_wait": ("VÅRD SOM INTE KAN ANSTÅ", "CARE THAT CANNOT WAIT"),
    "self_pay": ("PATIENTEN BETALAR SJÄLV", "THE PATIENT PAYS"),
    "resident_rules": ("VANLIGA REGLER (FOLKBOKFÖRD)", "ORDINARY RESIDENT RULES"),
    "manual_check": ("KAN INTE AVGÖRAS – KONTROLLERA MANUELLT",
                     "CANNOT BE DECIDED – CHECK BY HAND"),
}
RESPONSIBLE = {
    "region": ("regionen", "the region"),
    "municipality": ("kommunen", "the municipality"),
    "region_or_municipality": ("regionen eller kommunen", "the region or the municipality"),
    "patient": ("patienten själv", "the patient"),
}
KIND = {
    "step": ("", ""),
    "fee": ("Avgift: ", "Fee: "),
    "contact": ("Kontakt: ", "Contact: "),
    "record": ("Journal: ", "Record: "),
    "judgement": ("Bedömning: ", "Judgement: "),
    "note": ("Obs: ", "Note: "),
}
CATEGORY = {
    "asylum_seeker": ("asylsökande", "asylum seeker"),
    "temporary_protection": ("massflyktsdirektivet (Ukraina)", "temporary protection (Ukraine)"),
    "undocumented": ("papperslös", "undocumented"),
    "visitor": ("besökare", "visitor"),
    "resident": ("folkbokförd", "registered resident"),
    "unknown": ("grupp okänd", "group unknown"),
}
WORDS = {
    "decision": ("Beslut", "Decision"),
    "rules_as_of": ("regler per", "rules as of"),
    "age": ("ålder", "age"),
    "age_unknown": ("ålder okänd", "age unknown"),
    "responsible": ("Ansvarig", "Responsible"),
    "missing": ("Saknas", "Missing"),
    "todo": ("Gör så här", "What to do"),
    "source": ("Källa", "Source"),
    "more": ("fler steg och alla källor: --verbose", "more steps and every source: --verbose"),
    "rules": ("Regler", "Rules"),
    "basis": ("Grund", "Basis"),
}
WIDTH = 78


def _w(key: str, lang: int) -> str:
    return WORDS[key][lang]


def _wrap(text: str, indent: str, first: str = "") -> list[str]:
    return textwrap.wrap(text, width=WIDTH, initial_indent=first or indent,
                         subsequent_indent=indent) or [first or indent]


def _step_text(step: Step, lang: int) -> str:
    text = step.text if lang == 0 or not step.text_en else step.text_en
    return KIND.get(step.kind, ("", ""))[lang] + text


def render_decision(decision: Decision, *, lang: str = "sv", verbose: bool = False) -> str:
    """Verdict, who is responsible, what is missing, then the steps (all of them, with
    sources, when verbose)."""
    li = 1 if lang == "en" else 0
    d = decision
    title = d.region_title or d.region
    age = f"{_w('age', li)} {d.age}" if d.age is not None else _w("age_unknown", li)
    cat = CATEGORY.get(d.category, (d.category, d.category))[li]
    as_of = f", {_w('rules_as_of', li)} {d.as_of}" if d.as_of else ""
    lines = [
        f"{_w('decision', li)} – {title}{as_of}",
        f"  {ENTITLEMENT.get(d.entitlement, (d.entitlement, d.entitlement))[li]}"
        f"  ({cat}, {age})",
    ]
    summary = d.summary_en if li and d.summary_en else d.summary
    if summary:
        lines += _wrap(summary, "  ")
    if verbose:
        for src in d.sources:
            lines += _wrap(f"{_w('basis', li)}: {src}", "    ", "  ")
    if d.responsible:
        who = RESPONSIBLE.get(d.responsible, (d.responsible, d.responsible))[li]
        detail = d.responsible_text_en if li else d.responsible_text
        lines += _wrap(f"{_w('responsible', li)}: {who}" + (f". {detail}" if detail else ""),
                       "    ", "  ")
    if d.missing:
        lines.append("")
        lines.append(f"{_w('missing', li)}:")
        for m in d.missing:
            question = m.question_en if li and m.question_en else m.question
            answers = m.answers_en if li and m.answers_en else m.answers
            lines += _wrap(question, "    ", "  • ")
            for answer, meaning in answers.items():
                lines += _wrap(f"{answer} → {meaning}", "        ", "      ")
    shown = [s for s in d.steps if verbose or s.show == "desk"]
    if shown:
        lines.append("")
        lines.append(f"{_w('todo', li)}:")
        for i, step in enumerate(shown, 1):
            lead = f"  {i}. "
            lines += _wrap(_step_text(step, li), " " * len(lead), lead)
            if verbose:
                lines += _wrap(f"{_w('source', li)}: {step.source}", " " * (len(lead) + 2),
                               " " * len(lead) + "  ")
    hidden = len(d.steps) - len(shown)
    if hidden:
        lines.append(f"  (+{hidden} {_w('more', li)})")
    elif not verbose and d.steps:
        lines.append(f"  ({_w('source', li).lower()}: --verbose)")
    if verbose and d.rules:
        lines.append("")
        lines += _wrap(f"{_w('rules', li)}: {', '.join(d.rules)}", "    ", "  ")
    return "\n".join(lines)
