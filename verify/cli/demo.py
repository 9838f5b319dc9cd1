"""`verify demo`: the whole path on built-in data — no camera, no scanner, no network.

Starts the agency emulator on loopback and feeds it the scans a desk meets in a day. Each case
states what it must give, and the demo fails (exit 1) if any case does not, so it doubles as a
smoke test of an installation.
"""

import socket
from dataclasses import dataclass, replace
from typing import Annotated

import typer

from verify.cards.classify import classify
from verify.cli.app import Lang, app, check_lang
from verify.errors import ParseError
from verify.locale import N_, _, localise
from verify.lookup.emulator import Emulator, serve_forever
from verify.model import EXIT_INTERRUPTED
from verify.present.status import render_refusal, render_status


@dataclass(frozen=True)
class Case:
    title: str  # English msgid; shown in the chosen language
    text: str
    as_kind: str | None
    expect: str  # valid | not_valid | unknown | refused
    unreachable: bool = False  # looked up against a service that does not answer


def cases(base: str) -> list[Case]:
    return [
        Case(
            N_("QR code of a valid LMA card"),
            base + "VALID0001",
            None,
            "valid",
        ),
        Case(
            N_("QR code of a valid application card (since June 2026)"),
            base.replace("/lmakort/", "/ansokningskort/") + "VALID0001",
            None,
            "valid",
        ),
        Case(
            N_("Valid card without right to work"),
            base + "NOWORK0001",
            None,
            "valid",
        ),
        Case(
            N_("Card no longer valid"),
            base + "NOINFO001",
            None,
            "not_valid",
        ),
        Case(
            N_("Code typed from the card's back"),
            "VALID0002",
            "token",
            "valid",
        ),
        Case(N_("Only the LMA number"), "12-345678/1", "lma", "unknown"),
        Case(
            N_("Hostile QR code (another site)"),
            "https://www.migrationsverket.se.evil.example/lmakort/VALID0001",
            None,
            "refused",
        ),
        Case(
            N_("The lookup service does not answer"),
            "VALID0003",
            "token",
            "unknown",
            unreachable=True,
        ),
    ]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_demo(lang: str = "sv") -> int:
    failures = 0
    with Emulator() as emu:
        settings = emu.settings(timeout=2.0)
        unreachable = replace(settings, base=f"http://127.0.0.1:{_closed_port()}/lmakort/")
        typer.echo(_("verify demo — built-in examples, no network") + "\n")
        # The lookup client brings requests: loaded only when a lookup happens.
        from verify.lookup.client import LookupClient

        with LookupClient(settings) as client, LookupClient(unreachable) as dead:
            for i, case in enumerate(cases(emu.base_url), 1):
                use = dead if case.unreachable else client
                typer.secho(f"[{i}] {_(case.title)}", bold=True)
                typer.echo("    " + _("scanned: {text}", text=case.text))
                try:
                    parsed = classify(case.text, as_kind=case.as_kind, settings=use.settings)
                    status = parsed.status(use)
                    got: str = status.validity.state
                    text = render_status(status, lang=lang)
                except ParseError as exc:
                    got = "refused"
                    text = render_refusal(localise(exc), lang)
                ok = got == case.expect
                failures += not ok
                for line in text.splitlines():
                    typer.echo(f"    {line}")
                if not ok:
                    typer.secho("    !! " + _("expected {expect}, got {got}", expect=case.expect,
                                                    got=got), fg="red")
                typer.echo("")
    typer.echo(_("Done.") if not failures
               else _("{n} case(s) did not behave as expected", n=failures))
    return 0 if not failures else 1


@app.command("agency-emulator")
def agency_emulator(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="0 picks a free port")
    ] = 8088,
    host: Annotated[str, typer.Option("--host", help="loopback only")] = "127.0.0.1",
) -> None:
    """Serve a local stand-in for the agency's lookup service (tests, demo, training)."""
    try:
        serve_forever(host=host, port=port)
    except KeyboardInterrupt:
        # Ctrl-C is how it ends: quietly, the port closed, but 130.
        raise typer.Exit(EXIT_INTERRUPTED) from None


@app.command()
def demo(lang: Lang = None) -> None:
    """The whole path on built-in data: no camera, no scanner, no network."""
    raise typer.Exit(run_demo(lang=check_lang(lang)))
