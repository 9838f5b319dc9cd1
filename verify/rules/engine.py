"""Evaluate the rule data: facts about a patient → Decision. Pure; no I/O beyond reading rules.

Where a fact is unknown (age, the card's validity, why a card is no longer valid, the category),
the engine does not guess: it evaluates every possible answer. If all answers lead to the same
entitlement, that is the decision; otherwise the decision is `manual_check` and each missing
fact says what each answer would mean.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from verify.clock import today as _today
from verify.errors import ParseError
from verify.locale import N_, gettext
from verify.model import Citation, Decision, MissingFact, Status, Step
from verify.rules.data import (
    CATEGORIES,
    MAX_AGE,
    Derive,
    RegionRules,
    Rule,
    RuleBook,
    load_book,
)

# The decision carries Swedish and English side by side (`summary`, `summary_en`, …: the JSON
# contract), so the engine asks the catalogue for both languages explicitly.
LANGS = ("sv", "en")


def both(message: str, **params: object) -> tuple[str, str]:
    """(Swedish, English) of one catalogue message."""
    return gettext(message, "sv", **params), gettext(message, "en", **params)


ENTITLEMENT_LABELS = {
    "same_as_resident": N_("Same care as residents"),
    "care_that_cannot_wait": N_("Care that cannot wait"),
    "self_pay": N_("The patient pays"),
    "resident_rules": N_("Ordinary resident rules"),
    "manual_check": N_("Cannot be decided – check by hand"),
}
VALIDITY_LABELS = {
    "valid": N_("the card is valid"),
    "not_valid": N_("the card is not valid"),
}
FACT_LABELS = {
    "resident_in_county": N_("whether the patient stays permanently in the county"),
    "age": N_("age"),
    "validity": N_("the card's validity"),
    "why_card_not_valid": N_("why the card is not valid"),
    "category": N_("the patient's group"),
}
# National sources of the steps the engine itself adds (never a region's document).
MANUAL_CHECK_SOURCE = (
    "migrationsverket-lma-card-2022: Den som inte har möjlighet att använda QR-koden, kan göra "
    "samma sökning via en webbadress som står på baksidan av det nya kortet."
)
NO_RULE_SOURCE = (
    "lag-2008-344: En regions skyldigheter enligt denna lag gäller endast utlänningar som "
    "vistas inom regionen."
)
UT_EXPIRY_SOURCE = (
    "eurlex-uppehallstillstand-format: I förordningen anges formen och innehållet för all den "
    "synliga information som ges på dokumentet. Det gäller till exempel en persons efternamn och "
    "förnamn (i nämnd ordning) och start- och slutdatum för ett tillstånds giltighet."
)
# A routine older than this many years is flagged in the decision: check it with the region.
OLD_DOCUMENT_YEARS = 5


@dataclass(frozen=True)
class Facts:
    """One fully known situation."""

    category: str
    age: int
    document: str  # lma | ut | none
    validity: str  # valid | not_valid | none
    registered: bool
    conditions: tuple[tuple[str, bool], ...] = ()  # answered yes/no facts


@dataclass(frozen=True)
class Outcome:
    entitlement: str
    responsible: str | None
    responsible_text: str
    responsible_text_en: str
    summary: str
    summary_en: str
    steps: tuple[Step, ...]
    rules: tuple[str, ...]
    sources: tuple[str, ...] = ()  # the entitlement's passage, then the responsible party's
    cites: tuple[Citation, ...] = ()  # their documents

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.entitlement, self.responsible)


@dataclass(frozen=True)
class Scenario:
    """One possible answer to every unknown fact, with the facts it leads to."""

    answers: tuple[tuple[str, str], ...]  # (fact, value) for each unknown fact
    facts: Facts


# ---------------------------------------------------------------------------------------------
# Input checking


def resolve_region(book: RuleBook, region: str) -> RegionRules:
    """Region by name or alias, case-insensitive; the error lists the valid names."""
    key = " ".join(str(region).strip().lower().split())
    for r in book.regions.values():
        if key == r.name or key in r.aliases:
            return r
    raise ParseError(
        "unknown_region",
        "unknown region {region}; valid regions: {names}", region=repr(region),
        names=", ".join(book.regions),
    )


def normalise_category(category: str | None) -> str | None:
    if category is None:
        return None
    key = str(category).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in CATEGORIES:
        raise ParseError(
            "unknown_category",
            "unknown category {category}; valid categories: {names}",
            category=repr(category), names=", ".join(CATEGORIES),
        )
    return key


def parse_birth_date(text: str) -> date:
    """Strict YYYY-MM-DD; anything else is a ParseError (never a traceback)."""
    s = str(text).strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        raise ParseError("bad_birth_date", "birth date must be YYYY-MM-DD, not {text}",
                         text=repr(text))
    try:
        return date.fromisoformat(s)
    except ValueError as exc:
        raise ParseError("bad_birth_date", "no such date: {text}", text=repr(text)) from exc


def age_on(birth: date, day: date) -> int:
    """Whole years completed on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def resolve_age(age: int | None, birth_date: str | date | None, today: date) -> int | None:
    if age is not None:
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= MAX_AGE:
            raise ParseError("bad_age", "age must be a whole number 0–{max}, not {age}",
                             max=MAX_AGE, age=repr(age))
        return age
    if birth_date is None:
        return None
    birth = birth_date if isinstance(birth_date, date) else parse_birth_date(birth_date)
    if birth > today:
        raise ParseError("bad_birth_date", "birth date {date} is in the future",
                         date=birth.isoformat())
    years = age_on(birth, today)
    if years > MAX_AGE:
        raise ParseError("bad_birth_date", "birth date {date} gives an age over {max}",
                         date=birth.isoformat(), max=MAX_AGE)
    return years


def age_from_mrz(mrz: Mapping[str, Any] | None, today: date) -> int | None:
    """The card's own age or birth date when readable; an unreadable one is simply unknown."""
    if not mrz:
        return None
    age = mrz.get("age")
    if isinstance(age, int) and not isinstance(age, bool) and 0 <= age <= MAX_AGE:
        return age
    birth = mrz.get("birth_date")
    if isinstance(birth, str):
        try:
            return resolve_age(None, birth, today)
        except ParseError:
            return None
    return None


# ---------------------------------------------------------------------------------------------
# Evaluation of one fully known situation


def matches(rule: Rule, f: Facts) -> bool:
    w = rule.when
    return (
        (w.category is None or f.category in w.category)
        and (w.age_min is None or f.age >= w.age_min)
        and (w.age_max is None or f.age <= w.age_max)
        and (w.document is None or f.document in w.document)
        and (w.validity is None or f.validity in w.validity)
        and (w.registered is None or f.registered == w.registered)
        and all((name, want) in f.conditions for name, want in w.conditions)
    )


def rules_in_force(book: RuleBook, region: RegionRules, day: date) -> list[Rule]:
    own = list(region.rules) if region.in_force(day) else []
    return [r for r in [*own, *book.national.rules] if r.in_force(day)]


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it has fewer days)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: every month has a 28th


def _step(book: RuleBook, s: Any, day: date) -> Step:
    text, text_en = s.text, s.text_en
    if s.date_months:
        when = add_months(day, s.date_months).isoformat()
        text, text_en = text.replace("{date}", when), text_en.replace("{date}", when)
    return Step(text=text, text_en=text_en, source=s.source, kind=s.kind, show=s.show,
                cite=book.cite(s.source))


def evaluate(book: RuleBook, region: RegionRules, facts: Facts, day: date) -> Outcome:
    """Region rules first, then national; the first rule with an entitlement decides, every
    other matching rule without one adds its steps."""
    matched = [r for r in rules_in_force(book, region, day) if matches(r, facts)]
    decisive = next((r for r in matched if r.entitlement is not None), None)
    contributing = [r for r in matched if r.entitlement is None or r is decisive]
    steps: list[Step] = []
    if not region.in_force(day):
        steps.append(region_not_in_force_step(book, region, day))
    for r in sorted(contributing, key=lambda r: not r.first):
        steps.extend(_step(book, s, day) for s in r.steps)
    with_party = next((r for r in ([decisive] if decisive else []) + contributing
                       if r.responsible), None)
    if decisive is None:
        steps.insert(0, no_rule_step(book, region, facts, day))
        steps.extend(expired_rule_steps(book, region, facts, day))
        sv, en = (gettext("No rule applies to {group} on {date}; check by hand.", lang,
                          group=book.national.categories[facts.category][i],
                          date=day.isoformat()) for i, lang in enumerate(LANGS))
        return Outcome(
            entitlement="manual_check", responsible=None, responsible_text="",
            responsible_text_en="", summary=sv, summary_en=en,
            steps=tuple(steps), rules=tuple(r.id for r in contributing),
        )
    if region.routine and decisive.origin == "national":
        steps.append(national_floor_step(book, region, decisive))
    party = with_party.responsible if with_party else region.responsible
    text = with_party.responsible_text if with_party and with_party.responsible_text else ""
    text_en = with_party.responsible_text_en if with_party and with_party.responsible_text else ""
    if not text and party == region.responsible:
        text, text_en = region.responsible_text, region.responsible_text_en
    if decisive.entitlement == "self_pay" and decisive.responsible:
        party, text, text_en = decisive.responsible, "", ""
    return Outcome(
        entitlement=cast(str, decisive.entitlement), responsible=party,
        responsible_text=text, responsible_text_en=text_en,
        summary=decisive.summary, summary_en=decisive.summary_en,
        steps=tuple(steps), rules=tuple(r.id for r in contributing),
        sources=tuple(dict.fromkeys(
            x for x in (decisive.source, with_party.source if with_party else "") if x)),
        cites=tuple(dict.fromkeys(
            c for c in (book.cite(decisive.source),
                        book.cite(with_party.source) if with_party else None)
            if c)),
    )


def national_floor_step(book: RuleBook, region: RegionRules, decisive: Rule) -> Step:
    """A region's routine is on file but does not decide for this group: say the answer is the
    law's floor, so nobody reads the region's document into it."""
    msg = N_("{region}'s documents on file do not decide this for the group: the answer is from "
             "the national rules (the law's floor).")
    sv, en = (gettext(msg, lang, region=(region.title, region.title_en)[i])
              for i, lang in enumerate(LANGS))
    return Step(kind="note", text=sv, text_en=en, source=decisive.source,
                cite=book.cite(decisive.source), show="desk")


def expired_rule_steps(book: RuleBook, region: RegionRules, facts: Facts,
                       day: date) -> list[Step]:
    """When nothing decides, say which rule would have, and the dates it applied."""
    out: list[Step] = []
    for r in [*region.rules, *book.national.rules]:
        if r.entitlement is None or r.in_force(day) or not matches(r, facts):
            continue
        span = f"{r.valid_from.isoformat() if r.valid_from else '…'} – " \
               f"{r.valid_to.isoformat() if r.valid_to else '…'}"
        msg = N_("The rule applied {span}, not on {date}: {summary}")
        step = Step(
            kind="note",
            text=gettext(msg, "sv", span=span, date=day.isoformat(), summary=r.summary),
            text_en=gettext(msg, "en", span=span, date=day.isoformat(), summary=r.summary_en),
            source=r.source, cite=book.cite(r.source),
        )
        if step not in out:
            out.append(step)
    return out


def no_rule_step(book: RuleBook, region: RegionRules, facts: Facts, day: date) -> Step:
    """What staff do when the rule data has no answer: ask the region, whose routine decides.
    Every manual check must say what to do next, even when no rule was ever in force."""
    group = book.national.categories[facts.category]
    msg = N_("No rule in the toolkit applies to {group} on {date}. Ask {region} which routine "
             "applies and note the answer.")
    sv, en = (gettext(msg, lang, group=group[i], date=day.isoformat(),
                      region=(region.title, region.title_en)[i])
              for i, lang in enumerate(LANGS))
    return Step(kind="step", text=sv, text_en=en, source=NO_RULE_SOURCE,
                cite=book.cite(NO_RULE_SOURCE))


def old_document_steps(book: RuleBook, region: RegionRules, cites: Sequence[Citation],
                       day: date) -> list[Step]:
    """A cited routine of the region older than five years: say so, and to check it."""
    out: list[Step] = []
    for doc in region.documents.values() if region.documents else ():
        if doc.citation not in cites:
            continue
        year = int(doc.citation.date[:4]) if doc.citation.date else doc.written_about
        if year is None or day.year - year <= OLD_DOCUMENT_YEARS:
            continue
        msg = N_("The routine is from {year} – check with the region that it still applies.")
        source = f"{doc.key}: {doc.quotes[0]}" if doc.quotes else ""
        out.append(Step(kind="note", text=gettext(msg, "sv", year=year),
                        text_en=gettext(msg, "en", year=year), source=source,
                        cite=doc.citation))
    return out


def region_not_in_force_step(book: RuleBook, region: RegionRules, day: date) -> Step:
    start = region.valid_from.isoformat() if region.valid_from else "?"
    end = region.valid_to.isoformat() if region.valid_to else ""
    msg = (N_("The document of {region} applies from {start} to {end}; on {date} only the "
              "national rules are used.") if end else
           N_("The document of {region} applies from {start}; on {date} only the national "
              "rules are used."))
    source = region.valid_from_source or f"{region.seed}: {region.document}"
    return Step(
        kind="note",
        text=gettext(msg, "sv", region=region.title, start=start, end=end, date=day.isoformat()),
        text_en=gettext(msg, "en", region=region.title_en, start=start, end=end,
                        date=day.isoformat()),
        source=source, cite=book.cite(source),
    )


# ---------------------------------------------------------------------------------------------
# Unknown facts: enumerate every answer


def age_intervals(rules: Iterable[Rule], child_under: int) -> list[tuple[int, int]]:
    """The age ranges within which no rule changes its mind, from the rules' own limits."""
    cuts = {0, child_under}
    for r in rules:
        if r.when.age_min is not None:
            cuts.add(r.when.age_min)
        if r.when.age_max is not None and r.when.age_max < MAX_AGE:
            cuts.add(r.when.age_max + 1)
    bounds = sorted(c for c in cuts if 0 <= c <= MAX_AGE)
    return [(lo, (bounds[i + 1] - 1) if i + 1 < len(bounds) else MAX_AGE)
            for i, lo in enumerate(bounds)]


def find_derive(book: RuleBook, region: RegionRules, document: str,
                validity: str) -> Derive | None:
    """The region's own reading of a card first (e.g. "no information shown = refused"), then
    the national one."""
    for d in (*region.derive, *book.national.derive):
        if d.document == document and (d.validity is None or d.validity == validity):
            return d
    return None


def condition_answers(
    rules: Sequence[Rule], given: Mapping[str, bool],
) -> list[tuple[tuple[tuple[str, str], ...], tuple[tuple[str, bool], ...]]]:
    """Every combination of answers to the yes/no conditions the rules in force ask and the
    staff did not answer: (answers for MissingFact, the facts decided on)."""
    asked = sorted({name for r in rules for name, _ in r.when.conditions})
    combos: list[tuple[tuple[tuple[str, str], ...], tuple[tuple[str, bool], ...]]] = [((), ())]
    for name in asked:
        values = [given[name]] if name in given else [True, False]
        combos = [
            (answers + (() if name in given else ((name, "yes" if v else "no"),)),
             known + ((name, v),))
            for answers, known in combos for v in values
        ]
    return combos


def scenarios(
    book: RuleBook, region: RegionRules, *, category: str | None, age: int | None,
    document: str, validity: str, registered: bool, day: date,
    conditions: Mapping[str, bool] | None = None,
) -> tuple[list[Scenario], dict[str, Derive]]:
    validities = ["valid", "not_valid"] if validity == "unknown" else [validity]
    in_force = rules_in_force(book, region, day)
    intervals = age_intervals(in_force, book.national.child_under)
    ages = [age] if age is not None else [lo for lo, _ in intervals]
    combos = condition_answers(in_force, conditions or {})
    out: list[Scenario] = []
    derives: dict[str, Derive] = {}
    for v in validities:
        v_answer = (("validity", v),) if validity == "unknown" else ()
        if registered:
            cats, c_fact = ["resident"], None
        elif category is not None:
            cats, c_fact = [category], None
        else:
            d = find_derive(book, region, document, v)
            if d is None:
                cats, c_fact = list(CATEGORIES[:-1]), "category"
            elif d.category is not None:
                cats, c_fact = [d.category], None
                if d in region.derive:
                    # The region's own reading of the card decides the group: cite it.
                    derives[f"card:{d.document}:{d.validity}"] = d
            else:
                cats, c_fact = list(d.candidates), d.fact
                derives[d.fact] = d
        for c in cats:
            c_answer = ((c_fact, c),) if c_fact else ()
            for a in ages:
                a_answer = (("age", str(a)),) if age is None else ()
                for k_answers, known in combos:
                    out.append(Scenario(
                        answers=v_answer + c_answer + a_answer + k_answers,
                        facts=Facts(category=c, age=a, document=document, validity=v,
                                    registered=registered, conditions=known),
                    ))
    return out, derives


def common_steps(outcomes: Sequence[Outcome]) -> tuple[Step, ...]:
    """Steps every possible answer shares, in the order of the first."""
    first = outcomes[0].steps
    rest = [set(o.steps) for o in outcomes[1:]]
    return tuple(s for s in first if all(s in r for r in rest))


def _label_age(lo: int, hi: int, lang: int) -> str:
    if hi >= MAX_AGE:
        return gettext("{age} or older", LANGS[lang], age=lo)
    if lo == 0:
        return gettext("under {age}", LANGS[lang], age=hi + 1)
    return gettext("{low}–{high} years", LANGS[lang], low=lo, high=hi)


def describe(outcomes: Iterable[Outcome], lang: int) -> str:
    seen: list[str] = []
    for o in outcomes:
        label = gettext(ENTITLEMENT_LABELS[o.entitlement], LANGS[lang])
        text = f"{label}: {o.summary if lang == 0 else o.summary_en}"
        if text not in seen:
            seen.append(text)
    return " / ".join(seen)


def missing_facts(
    book: RuleBook, region: RegionRules, pairs: list[tuple[Scenario, Outcome]],
    derives: Mapping[str, Derive], day: date,
) -> tuple[MissingFact, ...]:
    facts = [f for f, _ in pairs[0][0].answers]
    out: list[MissingFact] = []
    for fact in facts:
        by_value: dict[str, list[Outcome]] = {}
        for sc, o in pairs:
            by_value.setdefault(dict(sc.answers)[fact], []).append(o)
        keysets = {v: frozenset(o.key for o in os) for v, os in by_value.items()}
        if len(set(keysets.values())) <= 1:
            continue
        answers: dict[str, str] = {}
        answers_en: dict[str, str] = {}
        values: dict[str, str] = {}
        if fact == "age":
            intervals = age_intervals(rules_in_force(book, region, day),
                                      book.national.child_under)
            merged: list[tuple[int, int, frozenset[Any]]] = []
            for lo, hi in intervals:
                ks = keysets[str(lo)]
                if merged and merged[-1][2] == ks:
                    merged[-1] = (merged[-1][0], hi, ks)
                else:
                    merged.append((lo, hi, ks))
            for lo, hi, _ in merged:
                group = [o for a in range(len(intervals)) if lo <= intervals[a][0] <= hi
                         for o in by_value[str(intervals[a][0])]]
                answers[_label_age(lo, hi, 0)] = describe(group, 0)
                values[_label_age(lo, hi, 0)] = f"{lo}-{hi}"
                answers_en[_label_age(lo, hi, 1)] = describe(group, 1)
            q_sv, q_en = both("How old is the patient? Give --age or --birth-date.")
            out.append(MissingFact(
                fact="age", question=q_sv, question_en=q_en,
                answers=answers, answers_en=answers_en, values=values,
            ))
        elif fact == "validity":
            for v, os in by_value.items():
                answers[gettext(VALIDITY_LABELS[v], "sv")] = describe(os, 0)
                values[gettext(VALIDITY_LABELS[v], "sv")] = v
                answers_en[gettext(VALIDITY_LABELS[v], "en")] = describe(os, 1)
            q_sv, q_en = both("Is the card valid? The check could not be made; check by hand.")
            out.append(MissingFact(
                fact="validity", question=q_sv, question_en=q_en,
                answers=answers, answers_en=answers_en, values=values,
            ))
        elif fact in book.national.conditions:
            cond = book.national.conditions[fact]
            for v, os in by_value.items():
                sv, en = (cond.yes, cond.yes_en) if v == "yes" else (cond.no, cond.no_en)
                answers[sv] = describe(os, 0)
                answers_en[en] = describe(os, 1)
                values[sv] = v
            out.append(MissingFact(
                fact=fact, question=cond.question, question_en=cond.question_en,
                answers=answers, answers_en=answers_en, values=values,
            ))
        else:
            d = derives.get(fact)
            for c, os in by_value.items():
                sv, en = book.national.categories[c]
                answers[sv] = describe(os, 0)
                answers_en[en] = describe(os, 1)
                values[sv] = c
            q_sv, q_en = (d.question, d.question_en) if d else \
                both("Which group does the patient belong to? Give --category.")
            out.append(MissingFact(
                fact=fact, question=q_sv, question_en=q_en,
                answers=answers, answers_en=answers_en, values=values,
            ))
    return tuple(out)


def manual_check_step(book: RuleBook, document: str, url: str | None) -> Step:
    if document == "ut":
        sv, en = both("Check the expiry date printed on the UT card.")
        return Step(kind="step", text=sv, text_en=en, source=UT_EXPIRY_SOURCE,
                    cite=book.cite(UT_EXPIRY_SOURCE))
    sv, en = both("The check could not be made. Check the card by hand: {url}.", url=url) if url \
        else both("The check could not be made. Check the card by hand (the address is on the "
                  "back of the card).")
    return Step(kind="step", text=sv, text_en=en, source=MANUAL_CHECK_SOURCE,
                cite=book.cite(MANUAL_CHECK_SOURCE))


# ---------------------------------------------------------------------------------------------
# Public entry points


def decide(
    *,
    region: str,
    category: str | None = None,
    age: int | None = None,
    birth_date: str | date | None = None,
    registered: bool = False,
    document: str = "none",
    validity: str = "none",
    today: date | None = None,
    manual_check_url: str | None = None,
    book: RuleBook | None = None,
    conditions: Mapping[str, bool] | None = None,
) -> Decision:
    """The decision for one patient. `document` is lma/ut/none (none: no card scanned);
    `validity` is valid/not_valid/unknown (none when there is no card); `conditions` answers
    yes/no facts a routine asks (national.toml [conditions]); unanswered ones are asked."""

    day = today or _today()
    book = book or load_book()
    reg = resolve_region(book, region)
    for name, value in (conditions or {}).items():
        if name not in book.national.conditions or not isinstance(value, bool):
            raise ParseError("unknown_condition", "unknown fact {name}; known: {names}",
                             name=repr(name), names=", ".join(book.national.conditions))
    cat = normalise_category(category)
    years = resolve_age(age, birth_date, day)
    if cat == "resident":
        registered = True
    if document not in ("lma", "ut", "none"):
        raise ParseError("bad_document", "document must be lma, ut or none, not {document}",
                         document=repr(document))
    if document == "none":
        validity = "none"
    elif validity not in ("valid", "not_valid", "unknown"):
        raise ParseError("bad_validity", "validity must be valid, not_valid or unknown, "
                         "not {validity}", validity=repr(validity))
    scs, derives = scenarios(book, reg, category=cat, age=years, document=document,
                             validity=validity, registered=registered, day=day,
                             conditions=conditions)
    pairs = [(sc, evaluate(book, reg, sc.facts, day)) for sc in scs]
    outcomes = [o for _, o in pairs]
    cats = {sc.facts.category for sc in scs}
    decided_cat = next(iter(cats)) if len(cats) == 1 else "unknown"
    missing = missing_facts(book, reg, pairs, derives, day) if len(scs) > 1 else ()
    steps = list(common_steps(outcomes))
    if not steps and not missing and all(o.entitlement == "manual_check" for o in outcomes):
        # Every answer ends in a manual check for different reasons (e.g. a rule that had not
        # yet come into force for one age group): say all of them rather than nothing.
        steps = list(dict.fromkeys(s for o in outcomes for s in o.steps))
    rules = tuple(dict.fromkeys(r for o in outcomes for r in o.rules))
    sources = tuple(dict.fromkeys(
        [*(x for o in outcomes for x in o.sources), *(d.source for d in derives.values())]))
    cites = tuple(dict.fromkeys([
        *(c for o in outcomes for c in o.cites),
        *(c for d in derives.values() if (c := book.cite(d.source))),
        *(() if reg.routine else book.laws()),
    ]))
    base = dict(region=reg.name, region_title=reg.title, as_of=day.isoformat(), age=years,
                registered=registered, rules=rules, sources=sources, cites=cites,
                routine=reg.routine)
    keys = {o.key for o in outcomes}
    unanimous_manual = len(keys) == 1 and outcomes[0].entitlement == "manual_check"
    if unanimous_manual or (len(keys) > 1 and not missing):
        # No answer to the unknown facts changes the outcome, so no missing fact is listed;
        # staff then need what every answer says to do, not only the steps all answers share.
        steps = list(dict.fromkeys(s for o in outcomes for s in o.steps))
    all_cites = [*cites, *(st.cite for o in outcomes for st in o.steps if st.cite)]
    steps[:0] = old_document_steps(book, reg, all_cites, day)
    if len(keys) == 1:
        first = outcomes[0]
        same_summary = len({o.summary for o in outcomes}) == 1
        return Decision(
            category=cast(Any, decided_cat), entitlement=cast(Any, first.entitlement),
            responsible=first.responsible, responsible_text=first.responsible_text,
            responsible_text_en=first.responsible_text_en,
            summary=first.summary if same_summary else describe(outcomes, 0),
            summary_en=first.summary_en if same_summary else describe(outcomes, 1),
            steps=tuple(steps), missing=missing, **base,  # type: ignore[arg-type]
        )
    if validity == "unknown":
        steps.insert(0, manual_check_step(book, document, manual_check_url))
    parties = {o.responsible for o in outcomes}
    what, what_en = (", ".join(gettext(FACT_LABELS.get(m.fact, m.fact), lang) for m in missing)
                     or "?" for lang in LANGS)
    msg = N_("Cannot be decided yet – facts are missing ({what}). See below what each answer "
             "would mean.")
    return Decision(
        category=cast(Any, decided_cat), entitlement="manual_check",
        responsible=next(iter(parties)) if len(parties) == 1 else None,
        summary=gettext(msg, "sv", what=what),
        summary_en=gettext(msg, "en", what=what_en),
        steps=tuple(steps), missing=missing, **base,  # type: ignore[arg-type]
    )


def decide_for_status(
    status: Status,
    *,
    region: str,
    category: str | None = None,
    age: int | None = None,
    birth_date: str | None = None,
    registered: bool = False,
    today: date | None = None,
    conditions: Mapping[str, bool] | None = None,
) -> Status:
    """The card's status with the region's decision added (used by `verify card --region`)."""

    day = today or _today()
    kind = status.document.kind
    # The application card replaced the LMA card (June 2026): both are an asylum seeker's card.
    document = "lma" if kind == "application" else kind if kind in ("lma", "ut") else "none"
    validity = status.validity.state if document != "none" else "none"
    if age is None and birth_date is None:
        age = age_from_mrz(status.document.mrz, day)
    if validity == "unknown":
        # The manual-check step carries this card's lookup address: not cached (privacy).
        decision = decide(
            region=region, category=category, age=age, birth_date=birth_date,
            registered=registered, document=document, validity=validity, today=day,
            manual_check_url=status.validity.manual_check_url, conditions=conditions,
        )
    else:
        decision = _decide_cached(
            region, category, age, birth_date, registered, document, validity, day,
            os.environ.get("VERIFY_RULES_DIR") or None,
            tuple(sorted((conditions or {}).items())),
        )
    return dataclasses.replace(status, decision=decision)


@functools.lru_cache(maxsize=512)
def _decide_cached(
    region: str, category: str | None, age: int | None, birth_date: str | None,
    registered: bool, document: str, validity: str, day: date, rules_dir: str | None,
    conditions: tuple[tuple[str, bool], ...] = (),
) -> Decision:
    """The daemon decides the same few cases all day; a decision is an immutable value and
    depends on nothing that identifies the card, so it is computed once per case and day."""
    return decide(
        region=region, category=category, age=age, birth_date=birth_date,
        registered=registered, document=document, validity=validity, today=day,
        book=load_book(rules_dir), conditions=dict(conditions),
    )


def regions() -> list[RegionRules]:
    """Every region the rule files define, by name."""
    return list(load_book().regions.values())


def condition_names() -> frozenset[str]:
    """The yes/no facts a routine may ask (national.toml's [conditions])."""
    return frozenset(load_book().national.conditions)


# ---------------------------------------------------------------------------------------------
# Coverage: what each region's rule files give each group (`verify regions --matrix`)

# (group key, category, an age in the group); each group with its own valid card (LMA card,
# UT card; undocumented people have none).
MATRIX_GROUPS = (
    ("asylum_adult", "asylum_seeker", 40),
    ("asylum_child", "asylum_seeker", 10),
    ("temporary_protection_adult", "temporary_protection", 40),
    ("undocumented_adult", "undocumented", 40),
)
GROUP_CARD = {"asylum_seeker": ("lma", "valid"), "temporary_protection": ("ut", "valid"),
              "undocumented": ("none", "none")}


@dataclass(frozen=True)
class Cell:
    """One region × group: the entitlement, whether the region's own documents decide it
    (`routine`) or the national floor, and for a condition the routine asks, the entitlement
    under each answer."""

    entitlement: str
    routine: bool
    depends: tuple[tuple[str, str, str, bool], ...] = ()  # (answer sv, answer en, ent., routine)


def _cell(book: RuleBook, region: RegionRules, category: str, age: int, day: date) -> Cell:
    document, validity = GROUP_CARD[category]
    d = decide(region=region.name, category=category, age=age, today=day, book=book,
               document=document, validity=validity)
    by_routine = bool(d.sources) and book.owner(d.sources[0]) == region.name
    asked = [m for m in d.missing if m.fact in book.national.conditions]
    if not asked:
        return Cell(entitlement=d.entitlement, routine=by_routine)
    cond = book.national.conditions[asked[0].fact]
    depends = []
    for value, sv, en in ((True, cond.yes, cond.yes_en), (False, cond.no, cond.no_en)):
        sub = decide(region=region.name, category=category, age=age, today=day, book=book,
                     document=document, validity=validity, conditions={cond.name: value})
        depends.append((sv, en, sub.entitlement,
                        bool(sub.sources) and book.owner(sub.sources[0]) == region.name))
    return Cell(entitlement=d.entitlement, routine=True, depends=tuple(depends))


def coverage(day: date | None = None,
             book: RuleBook | None = None) -> list[tuple[RegionRules, tuple[Cell, ...]]]:
    """Every region × MATRIX_GROUPS, computed from the rule files as of `day`."""
    day = day or _today()
    book = book or load_book()
    return [(r, tuple(_cell(book, r, cat, age, day) for _, cat, age in MATRIX_GROUPS))
            for r in book.regions.values()]
