"""The Typer app and what every command group shares: options, failure, printing a status.

Command groups register on `app` from their own modules; this module imports none of them
(`verify.cli` assembles them), so the CLI is built in one direction.
"""

import json
import sys
from typing import Annotated

import typer
from typer._click.globals import get_current_context

from verify.errors import ConfigError, ParseError
from verify.locale import N_, _, set_language
from verify.lookup.settings import Settings
from verify.model import EXIT_USAGE, Status
from verify.present.status import render_status
from verify.version import __version__

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Check LMA and UT cards and tell the desk what the patient is entitled to.",
)



def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"verify {__version__} (verify-lma)")
        raise typer.Exit(0)


# Commands that must run with a broken or missing config: the installer writes one, the
# emulator is the lookup's stand-in. Every other command checks the config first, the same way.
NO_CONFIG = frozenset({"desk", "agency-emulator"})


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option(
        "--version", "-V", is_eager=True, callback=_print_version,
        help="print the version and exit")] = False,
) -> None:
    """Check LMA and UT cards and tell the desk what the patient is entitled to."""
    if not ctx.resilient_parsing and ctx.invoked_subcommand not in NO_CONFIG:
        Settings.from_env()  # ConfigError: exit 2 naming the file and key, before anything


Lang = Annotated[str | None, typer.Option(
    "--lang", envvar="VERIFY_LANG",
    help="sv (default) or en; else VERIFY_LANG, else lang in the config file")]
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
Age = Annotated[int | None, typer.Option(
    "--age", min=0, max=130, help="the patient's age in whole years (else --birth-date)")]
ResidentInCounty = Annotated[str | None, typer.Option(
    "--resident-in-county",
    help="yes or no: the patient stays in the county permanently (stadigvarande), where a "
         "region's routine asks; not given, the decision says what each answer would mean")]


def conditions_given(resident_in_county: str | None) -> dict[str, bool]:
    """The yes/no facts given on the command line, for the rules' conditions."""
    if resident_in_county is None:
        return {}
    answer = resident_in_county.strip().lower()
    if answer not in ("yes", "no", "ja", "nej"):
        raise ParseError("bad_answer", "--resident-in-county wants yes or no, not {value}",
                         value=repr(resident_in_county))
    return {"resident_in_county": answer in ("yes", "ja")}


# Messages of `drivers` (which cannot import the catalogue) that a person often meets, as
# English templates: `verify.locale.localise` translates a driver's error that matches one.
DRIVER_MESSAGES = (
    N_("no such file: {path}"),
    N_("not a file: {path}"),
    N_("cannot read {path}: permission denied"),
    N_("cannot read {path}: {why}"),
    N_("{path} is empty (0 bytes): not an image or video"),
    N_("{path} is not a video this reader can open"),
    N_("unknown source scheme {scheme}; known: {known}"),
    N_("no camera at {device} (no such device)"),
    N_("cannot read recording {path}: {why}"),
    N_("{path} exists; choose another name or use --force"),
    N_("stdin: standard input cannot be read: {why}"),
    N_("not a scan recording (first line is not JSON)"),
    N_("{path} is not an image this reader knows (JPEG, PNG, WebP, BMP or TIFF expected)"),
    N_("{path} is a damaged or unsupported image (JPEG, PNG, WebP, BMP or TIFF expected)"),
    N_("{path} is a damaged image ({why})"),
    N_("{path} is in the {fmt} format; only {allowed} images are read"),
    N_("{path} is a damaged {fmt} image (size {size})"),
    N_("{path} is larger than {limit} MB; larger images are not read"),
    N_("{path} is an image, not a video; give a photo with --image"),
    N_("{path} is {size} ({mp} megapixels), more than the {limit} accepted; take a smaller "
       "photo or crop it to the card"),
    N_("{path}: damaged video ({why})"),
    N_("{path}: no frames could be read (damaged or empty video)"),
    N_("{url}: no device at this path (is the scanner plugged in?)"),
    N_("{url}: not a serial device"),
    N_("{url}: permission denied; add the user to the dialout group (docs/reception-desk.md)"),
    N_("{url}: another program is reading this scanner (a running verify daemon or verify "
       "scan?)"),
)


def fail(message: str, code: int = EXIT_USAGE, /, **params: object) -> typer.Exit:
    """Print `message` (an English catalogue msgid, in the chosen language) and exit."""
    say(message, **params)
    return typer.Exit(code)


def check_card(card: str | None) -> str | None:
    if card is not None and card not in ("lma", "application"):
        raise fail("--card must be lma or application, not {card}", card=repr(card))
    return card


def say(message: str, /, **params: object) -> None:
    """One line on stderr, `verify: …`, in the chosen language."""
    typer.echo("verify: " + _(message, **params), err=True)


def check_lang(lang: str | None) -> str:
    """Choose the process's language once: --lang, else VERIFY_LANG (the option's envvar),
    else the config file's `lang`, else Swedish. A bad value is named where it was given."""
    if lang is None:
        lang = Settings.from_env().lang  # a bad file value: ConfigError naming file and key
    try:
        return set_language(lang)
    except ConfigError:
        if _from_environment("lang"):
            raise fail("VERIFY_LANG must be sv or en, not {lang}", lang=repr(lang)) from None
        raise fail("--lang must be sv or en, not {lang}", lang=repr(lang)) from None


def click_context() -> typer.Context | None:
    return get_current_context(silent=True)  # type: ignore[return-value]


def _from_environment(name: str) -> bool:
    """Did the current command's option `name` come from its environment variable?"""
    ctx = click_context()
    source = ctx.get_parameter_source(name) if ctx is not None else None
    return source is not None and source.name == "ENVIRONMENT"


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
