"""`verify decide` and `verify regions`: the regional decision without a card, and the rule files.

Registered on `verify.cli.app.app` (imported at the bottom of verify/cli.py). Exit codes of
`decide`: 0 an entitlement was decided (including self_pay and resident_rules), 3 manual_check
(facts are missing or the rules cannot decide), 2 bad input (unknown region, category, date).
`decide --json` prints a status of the usual shape with document kind "unknown" and validity
basis "no_card" (no card was checked).
"""

from __future__ import annotations

import json
import textwrap
from typing import Annotated

import typer

from verify.cli.app import Age, Json, Lang, app, check_lang
from verify.clock import now
from verify.errors import ParseError
from verify.locale import _
from verify.lookup.settings import Settings
from verify.model import EXIT_UNKNOWN, EXIT_VALID, Document, Status, Validity
from verify.present.decision import render_cite, render_decision
from verify.rules import decide as decide_rules
from verify.rules import regions
from verify.rules.engine import parse_birth_date


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
                            registered=registered, today=day)
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
def regions_cmd(as_json: Json = False, lang: Lang = None) -> None:
    """Every Swedish region: its routine on file (the document), else the national rules."""

    lang = check_lang(lang)
    found = regions()
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in found], ensure_ascii=False, indent=2))
        return
    with_routine = [r for r in found if r.routine]
    intro = _("Regional routines are on file for {n} of {total} regions. They are about aids "
                 "(hjälpmedel: prescribing, ordering, paying) and the right to care of asylum "
                 "seekers, undocumented people and refugees from Ukraine. The other regions "
                 "answer from the national rules (children as resident children, adults care "
                 "that cannot wait).", n=len(with_routine), total=len(found))
    typer.echo(textwrap.fill(intro, width=78))
    typer.echo("")
    for r in found:
        title = r.title_en if lang == "en" else r.title
        typer.echo(f"{r.name:<20} {title}")
        cite = r.citation()
        if cite is None:
            typer.echo(f"{'':<20} " + _("no regional routine on file: national rules"))
            continue
        typer.echo(f"{'':<20} " + _("routine: {document}", document=render_cite(cite, lang)))
        note = r.dates_note_en if lang == "en" else r.dates_note
        if note:
            typer.echo(f"{'':<20} {note}")
        for line in r.to_json()["rule_dates"]:
            typer.echo(f"{'':<20} {line}")
