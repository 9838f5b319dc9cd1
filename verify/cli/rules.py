"""`verify decide` and `verify regions`: the regional decision without a card, and the rule files.

Registered on `verify.cli.app.app` (imported at the bottom of verify/cli.py). Exit codes of
`decide`: 0 an entitlement was decided (including self_pay and resident_rules), 3 manual_check
(facts are missing or the rules cannot decide), 2 bad input (unknown region, category, date).
`decide --json` prints a status of the usual shape with document kind "unknown" and validity
basis "no_card" (no card was checked).
"""

import json
import textwrap
from typing import Annotated

import typer

from verify.cli.app import Age, Json, Lang, ResidentInCounty, app, check_lang, conditions_given
from verify.clock import now, today
from verify.errors import ParseError
from verify.locale import _
from verify.lookup.settings import Settings
from verify.model import EXIT_UNKNOWN, EXIT_VALID, Document, Status, Validity
from verify.present.decision import GROUP, render_cite, render_decision, render_matrix
from verify.rules import decide as decide_rules
from verify.rules import regions
from verify.rules.engine import MATRIX_GROUPS, coverage, parse_birth_date


def configured_region() -> str:
    """The config file's `region` (VERIFY_REGION is read by the option itself)."""

    region = Settings.from_env().region
    if not region:
        names = ", ".join(r.name for r in regions())
        raise ParseError("no_region", "give --region (or VERIFY_REGION, or region in the "
                                      "config file); valid regions: {names}", names=names)
    return region


@app.command()
def decide(
    region: Annotated[str | None, typer.Option(
        "--region", envvar="VERIFY_REGION",
        help="region whose routine applies (see verify regions); else the config file's region"
    )] = None,
    category: Annotated[str | None, typer.Option(
        "--category", help="asylum_seeker, temporary_protection, undocumented, visitor, resident"
    )] = None,
    age: Age = None,
    birth_date: Annotated[str | None, typer.Option("--birth-date", help="YYYY-MM-DD")] = None,
    registered: Annotated[bool, typer.Option("--registered",
                                             help="the patient has a personnummer")] = False,
    resident_in_county: ResidentInCounty = None,
    on: Annotated[str | None, typer.Option("--date", help="evaluate the rules as of YYYY-MM-DD "
                                                          "(default today)")] = None,
    as_json: Json = False,
    lang: Lang = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="every step with its source")] = False,
) -> None:
    """The decision for a patient with no card to scan (exit 0 decided, 3 manual check)."""

    lang = check_lang(lang)
    region = region or configured_region()
    day = parse_birth_date(on) if on is not None else None
    decision = decide_rules(region=region, category=category, age=age, birth_date=birth_date,
                            registered=registered, today=day,
                            conditions=conditions_given(resident_in_county))
    if as_json:
        # Same shape as every status (docs/status-schema.json): no card was checked.
        status = Status(
            document=Document(kind="unknown"),
            validity=Validity(state="unknown", basis="no_card", checked_at=now(),
                              detail="no card was scanned: decision from the facts given",
                              reason="no_card"),
            decision=decision,
        )
        typer.echo(json.dumps(status.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_decision(decision, lang=lang, verbose=verbose))
    raise typer.Exit(EXIT_UNKNOWN if decision.entitlement == "manual_check" else EXIT_VALID)


@app.command("regions")
def regions_cmd(
    as_json: Json = False,
    lang: Lang = None,
    matrix: Annotated[bool, typer.Option(
        "--matrix", help="regions × groups → entitlement, computed from the rule files")] = False,
    on: Annotated[str | None, typer.Option("--date", help="as of YYYY-MM-DD (default today)")
                  ] = None,
) -> None:
    """Every Swedish region: its documents, their dates and the groups they cover; else the
    national rules."""

    lang = check_lang(lang)
    day = parse_birth_date(on) if on is not None else today()
    if matrix:
        rows = coverage(day)
        if as_json:
            typer.echo(json.dumps(
                [{"region": r.name, "routine": r.routine,
                  **{g: {"entitlement": c.entitlement, "routine": c.routine,
                         "depends": [{"answer": sv, "answer_en": en, "entitlement": e,
                                      "routine": by} for sv, en, e, by in c.depends]}
                     for (g, _c, _a), c in zip(MATRIX_GROUPS, cells, strict=True)}}
                 for r, cells in rows], ensure_ascii=False, indent=2))
            return
        typer.echo(render_matrix([(r.title_en if lang == "en" else r.title, cells)
                                  for r, cells in rows], as_of=day.isoformat(), lang=lang))
        return
    found = regions()
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in found], ensure_ascii=False, indent=2))
        return
    with_routine = [r for r in found if r.routine]
    intro = _("Regional documents are on file for {n} of {total} regions (their routines for "
              "asylum seekers, undocumented people and refugees from Ukraine, or the parts of "
              "them that were found). Where a region's documents are silent, and for the other "
              "regions, the answer is the national rules (children as resident children, "
              "adults care that cannot wait). `verify regions --matrix` shows the outcome per "
              "group.", n=len(with_routine), total=len(found))
    typer.echo(textwrap.fill(intro, width=78))
    typer.echo("")
    pad = " " * 21
    for r in found:
        title = r.title_en if lang == "en" else r.title
        typer.echo(f"{r.name:<20} {title}")
        if not r.routine:
            typer.echo(pad + _("no regional routine on file: national rules"))
            continue
        docs = list(r.documents.values())
        cites = [d.citation for d in docs] or [c for c in [r.citation()] if c is not None]
        typer.echo(pad + _("Sources:"))
        for i, cite in enumerate(cites):
            read = docs[i].read if i < len(docs) else None
            line = render_cite(cite, lang)
            if read is not None and cite.date_kind == "undated":
                line += " (" + _("read {date}", date=read.isoformat()) + ")"
            for j, part in enumerate(textwrap.wrap(line, width=78 - len(pad) - 4,
                                                   break_on_hyphens=False,
                                                   break_long_words=False)):
                typer.echo(pad + ("  • " if j == 0 else "    ") + part)
        if r.covers:
            groups = "; ".join(_(GROUP[g]) for g in r.covers)
            typer.echo(pad + _("covers: {groups}", groups=groups))
        note = r.note_en if lang == "en" else r.note
        if note:
            for line in textwrap.wrap(note, width=78 - len(pad)):
                typer.echo(pad + line)
        dates_note = r.dates_note_en if lang == "en" else r.dates_note
        if dates_note:
            typer.echo(pad + dates_note)
        for line in r.to_json()["rule_dates"]:
            typer.echo(pad + line)
