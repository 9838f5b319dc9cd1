"""The Typer app and what every command group shares: options, failure, printing a status.

Command groups register on `app` from their own modules; this module imports none of them
(`verify.cli` assembles them), so the CLI is built in one direction.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from verify.model import EXIT_USAGE, Status
from verify.present.status import render_status
from verify.version import __version__

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Check LMA and UT cards and tell the desk what the patient is entitled to.",
)



def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"verify {__version__} (verify-lma)")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option(
        "--version", "-V", is_eager=True, callback=_print_version,
        help="print the version and exit")] = False,
) -> None:
    """Check LMA and UT cards and tell the desk what the patient is entitled to."""


Lang = Annotated[str, typer.Option("--lang", help="sv (default) or en", envvar="VERIFY_LANG")]
Card = Annotated[
    str | None,
    typer.Option(
        "--card",
        help="card kind of a typed token: lma or application (default: config `card`, else lma)",
    ),
]
Json = Annotated[
    bool, typer.Option("--json", help="print the JSON status (docs/status-schema.json)")
]


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    typer.echo(f"verify: {message}", err=True)
    return typer.Exit(code)


def check_card(card: str | None) -> str | None:
    if card is not None and card not in ("lma", "application"):
        raise fail(f"--card must be lma or application, not {card!r}")
    return card


def check_lang(lang: str) -> str:
    if lang not in ("sv", "en"):
        raise fail(f"--lang must be sv or en, not {lang!r}")
    return lang


def emit(status: Status, *, as_json: bool, lang: str, verbose: bool = False) -> None:
    """Print a status and leave with its exit code (0 valid, 1 not valid, 3 unknown)."""
    if as_json:
        typer.echo(json.dumps(status.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_status(status, lang=lang, verbose=verbose))
    raise typer.Exit(status.exit_code)


def read_text_arg(text: str) -> str:
    """`-` reads standard input (bounded), anything else is the text itself."""
    if text == "-":
        return sys.stdin.read(64 * 1024)
    return text
