"""The decision as the desk reads it: one screen, the verdict first, then the few steps to take.

Swedish by default (`lang="sv"`), English with `lang="en"`; every word of the frame comes from
the catalogue (`verify.locale`), the rule texts from the rule data (which carries both
languages). Sources are cited as documents a person can find (title, publisher, date, address);
`verbose=True` adds every step and the seed file and quoted passage each one rests on.
"""

from __future__ import annotations

import textwrap

from verify.locale import N_, _
from verify.model import Citation, Decision, Step
from verify.rules.engine import MATRIX_GROUPS, Cell

ENTITLEMENT = {
    "same_as_resident": N_("SAME CARE AS RESIDENTS"),
    "care_that_cannot_wait": N_("CARE THAT CANNOT WAIT"),
    "self_pay": N_("THE PATIENT PAYS"),
    "resident_rules": N_("ORDINARY RESIDENT RULES"),
    "manual_check": N_("CANNOT BE DECIDED – CHECK BY HAND"),
}
RESPONSIBLE = {
    "region": N_("the region"),
    "municipality": N_("the municipality"),
    "region_or_municipality": N_("the region or the municipality"),
    "patient": N_("the patient"),
}
KIND = {
    "fee": N_("Fee: {text}"),
    "contact": N_("Contact: {text}"),
    "record": N_("Record: {text}"),
    "judgement": N_("Judgement: {text}"),
    "note": N_("Note: {text}"),
}
CATEGORY = {
    "asylum_seeker": N_("asylum seeker"),
    "temporary_protection": N_("temporary protection (Ukraine)"),
    "undocumented": N_("undocumented"),
    "visitor": N_("visitor"),
    "resident": N_("registered resident"),
    "unknown": N_("group unknown"),
}
DATE_KIND = {
    "applies_from": N_("applies from {date}"),
    "reviewed": N_("last reviewed {date}"),
    "decided": N_("decided {date}"),
    "published": N_("published {date}"),
}
WIDTH = 78


def _wrap(text: str, indent: str, first: str = "") -> list[str]:
    return textwrap.wrap(text, width=WIDTH, initial_indent=first or indent,
                         subsequent_indent=indent, break_on_hyphens=False,
                         break_long_words=False) or [first or indent]


def render_cite(cite: Citation, lang: str = "sv") -> str:
    """”Title”, publisher, the date and what it is, the public address when one is known."""
    when = (_(DATE_KIND[cite.date_kind], lang, date=cite.date)
            if cite.date and cite.date_kind in DATE_KIND else _("undated", lang))
    text = f"”{cite.title}”, {cite.publisher}, {when}"
    return f"{text}: {cite.url}" if cite.url else text


def _step_text(step: Step, lang: str) -> str:
    text = step.text if lang != "en" or not step.text_en else step.text_en
    return _(KIND[step.kind], lang, text=text) if step.kind in KIND else text


def render_decision(decision: Decision, *, lang: str = "sv", verbose: bool = False) -> str:
    """Verdict, who is responsible, what is missing, then the steps and the documents they
    rest on (every step, with seed file and passage, when verbose)."""
    en = lang == "en"
    d = decision
    title = d.region_title or d.region
    age = _("age {age}", lang, age=d.age) if d.age is not None else _("age unknown", lang)
    cat = _(CATEGORY[d.category], lang) if d.category in CATEGORY else d.category
    head = (_("Decision – {region}, rules as of {date}", lang, region=title, date=d.as_of)
            if d.as_of else _("Decision – {region}", lang, region=title))
    verdict = _(ENTITLEMENT[d.entitlement], lang) if d.entitlement in ENTITLEMENT \
        else d.entitlement
    lines = [head, f"  {verdict}  ({cat}, {age})"]
    if not d.routine:
        lines += _wrap(_("No regional routine for {region} is on file: this answer comes from "
                         "the national rules (the laws named below). Ask the region for its "
                         "routine for aids.", lang, region=title), "  ")
    summary = d.summary_en if en and d.summary_en else d.summary
    if summary:
        lines += _wrap(summary, "  ")
    if verbose:
        for src in d.sources:
            lines += _wrap(_("Basis: {source}", lang, source=src), "    ", "  ")
    if d.responsible:
        who = _(RESPONSIBLE[d.responsible], lang) if d.responsible in RESPONSIBLE \
            else d.responsible
        detail = d.responsible_text_en if en else d.responsible_text
        lines += _wrap(_("Responsible: {who}", lang, who=who) + (f". {detail}" if detail else ""),
                       "    ", "  ")
    if d.missing:
        lines.append("")
        lines.append(_("Missing:", lang))
        for m in d.missing:
            question = m.question_en if en and m.question_en else m.question
            answers = m.answers_en if en and m.answers_en else m.answers
            lines += _wrap(question, "    ", "  • ")
            for answer, meaning in answers.items():
                lines += _wrap(f"{answer} → {meaning}", "        ", "      ")
    shown = [s for s in d.steps if verbose or s.show == "desk"]
    if shown:
        lines.append("")
        lines.append(_("What to do:", lang))
        for i, step in enumerate(shown, 1):
            lead = f"  {i}. "
            lines += _wrap(_step_text(step, lang), " " * len(lead), lead)
            if verbose:
                where = render_cite(step.cite, lang) + " — " if step.cite else ""
                lines += _wrap(_("Source: {source}", lang, source=where + step.source),
                               " " * (len(lead) + 2), " " * len(lead) + "  ")
    hidden = len(d.steps) - len(shown)
    if hidden:
        lines.append("  " + _("(+{n} more steps and every passage: --verbose)", lang, n=hidden))
    cites = list(dict.fromkeys([*d.cites, *(s.cite for s in shown if s.cite)]))
    if cites and not verbose:
        lines.append("")
        lines.append(_("Sources:", lang))
        for c in cites:
            lines += _wrap(render_cite(c, lang), "    ", "  • ")
    if verbose and d.rules:
        lines.append("")
        lines += _wrap(_("Rules: {ids}", lang, ids=", ".join(d.rules)), "    ", "  ")
    return "\n".join(lines)


SHORT = {
    "same_as_resident": N_("same as residents"),
    "care_that_cannot_wait": N_("care that cannot wait"),
    "self_pay": N_("the patient pays"),
    "resident_rules": N_("resident rules"),
    "manual_check": N_("check by hand"),
}
GROUP = {
    "asylum_adult": N_("asylum seeker, adult"),
    "asylum_child": N_("asylum seeker, child"),
    "temporary_protection_adult": N_("temporary protection, adult"),
    "temporary_protection_child": N_("temporary protection, child"),
    "undocumented_adult": N_("undocumented, adult"),
    "undocumented_child": N_("undocumented, child"),
}


def _cell_text(cell: Cell, lang: str) -> str:
    def one(entitlement: str, routine: bool) -> str:
        by = _("routine", lang) if routine else _("law", lang)
        return f"{_(SHORT[entitlement], lang)} ({by})"

    if cell.depends:
        return "; ".join(f"{sv if lang != 'en' else en}: {one(ent, routine)}"
                         for sv, en, ent, routine in cell.depends)
    return one(cell.entitlement, cell.routine)


def render_matrix(rows: list[tuple[str, tuple[Cell, ...]]], *, as_of: str,
                  lang: str = "sv") -> str:
    """Regions × groups as a Markdown table (the terminal shows it as is; docs/rules.md keeps
    the same text): the entitlement, and whether the region's routine or the law decides."""
    head = [_("region", lang), *(_(GROUP[g], lang) for g, _c, _a in MATRIX_GROUPS)]
    lines = [_("Entitlement per region and group, from the rule files, as of {date}. "
               "(routine): the region's own documents decide; (law): the national floor.",
               lang, date=as_of), "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for title, cells in rows:
        lines.append("| " + " | ".join([title, *(_cell_text(c, lang) for c in cells)]) + " |")
    return "\n".join(lines)
