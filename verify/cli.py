"""The `verify` command. Thin: parse options, call the core, render, pick the exit code.

Other command groups register themselves on `app` from their own modules (imported at the end).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from drivers.scan import SourceError
from verify.errors import VerifyError
from verify.model import EXIT_UNKNOWN, EXIT_USAGE, Status

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Check LMA and UT cards and tell the desk what the patient is entitled to.",
)

Lang = Annotated[str, typer.Option("--lang", help="sv (default) or en", envvar="VERIFY_LANG")]
Json = Annotated[
    bool, typer.Option("--json", help="print the JSON status (docs/status-schema.json)")
]


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    typer.echo(f"verify: {message}", err=True)
    return typer.Exit(code)


def check_lang(lang: str) -> str:
    if lang not in ("sv", "en"):
        raise fail(f"--lang must be sv or en, not {lang!r}")
    return lang


def emit(status: Status, *, as_json: bool, lang: str, verbose: bool = False) -> None:
    """Print a status and leave with its exit code (0 valid, 1 not valid, 3 unknown)."""
    from verify.render import render_status

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


@app.command()
def card(
    url: Annotated[
        str | None, typer.Option("--url", help="a pasted lookup address or QR text")
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="the code typed from the card's back")
    ] = None,
    lma: Annotated[str | None, typer.Option("--lma", help="the LMA number under the photo")] = None,
    mrz: Annotated[
        str | None, typer.Option("--mrz", help="a UT card's MRZ, typed or pasted; - reads stdin")
    ] = None,
    camera: Annotated[int | None, typer.Option("--camera", help="webcam index (default 0)")] = None,
    image: Annotated[Path | None, typer.Option("--image", help="a photo of the card")] = None,
    video: Annotated[Path | None, typer.Option("--video", help="a video of the card")] = None,
    serial: Annotated[
        str | None, typer.Option("--serial", help="a serial scanner port, e.g. /dev/ttyACM0")
    ] = None,
    keyboard: Annotated[
        bool, typer.Option("--keyboard", help="a scanner typing into this terminal")
    ] = False,
    source: Annotated[
        str | None, typer.Option("--source", help="any source URL, e.g. replay:FILE")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", envvar="VERIFY_REGION", help="region for the decision")
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="patient category when the card does not tell")
    ] = None,
    birth_date: Annotated[str | None, typer.Option("--birth-date", help="YYYY-MM-DD")] = None,
    age: Annotated[int | None, typer.Option("--age", min=0, max=130)] = None,
    registered: Annotated[
        bool, typer.Option("--registered", help="the patient has a personnummer")
    ] = False,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="seconds to wait for a scan")
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview/--no-preview", help="camera preview window")
    ] = True,
    show_name: Annotated[
        bool, typer.Option("--show-name", help="include the MRZ name in the output")
    ] = False,
    as_json: Json = False,
    lang: Lang = "sv",
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="every source for every step")
    ] = False,
) -> None:
    """Read one card, check it, decide, print."""
    from verify.check import check_text, with_decision

    lang = check_lang(lang)
    texts = {"--url": url, "--token": token, "--lma": lma, "--mrz": mrz}
    captures = {
        "--camera": None if camera is None else f"camera:{camera}",
        "--image": None if image is None else f"image:{image}",
        "--video": None if video is None else f"video:{video}",
        "--serial": None if serial is None else f"serial:{serial}",
        "--keyboard": "stdin:" if keyboard else None,
        "--source": source,
    }
    given = [k for k, v in {**texts, **captures}.items() if v is not None]
    if len(given) != 1:
        raise fail("give exactly one card source: " + ", ".join([*texts, *captures]))
    option = given[0]
    if option in texts:
        text = read_text_arg(texts[option] or "")
        status = check_text(text, as_kind=option.lstrip("-"), show_name=show_name)
    else:
        from verify.capture import read_card

        status = read_card(
            captures[option] or "",
            timeout=timeout,
            preview=preview,
            show_name=show_name,
            lang=lang,
        )
    status = with_decision(
        status,
        region=region,
        category=category,
        age=age,
        birth_date=birth_date,
        registered=registered,
    )
    emit(status, as_json=as_json, lang=lang, verbose=verbose)


@app.command()
def parse(
    text: Annotated[str, typer.Argument(help="the text to classify; - reads stdin")],
    as_json: Json = False,
) -> None:
    """Say what a text is: LMA number, lookup address or token, MRZ."""
    from verify.parse import classify

    parsed = classify(read_text_arg(text))
    if as_json:
        typer.echo(json.dumps(parsed.to_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(parsed.describe())


@app.command()
def lookup(
    text: Annotated[str, typer.Argument(help="a lookup address, QR text or token")],
    as_json: Json = False,
    lang: Lang = "sv",
) -> None:
    """Validity only: ask the agency's lookup service."""
    from verify.check import check_text

    lang = check_lang(lang)
    status = check_text(read_text_arg(text), as_kind="lookup")
    emit(status, as_json=as_json, lang=lang)


@app.command("agency-emulator")
def agency_emulator(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="0 picks a free port")
    ] = 8088,
    host: Annotated[str, typer.Option("--host", help="loopback only")] = "127.0.0.1",
) -> None:
    """Serve a local stand-in for the agency's lookup service (tests, demo, training)."""
    from verify.emulator import serve_forever

    serve_forever(host=host, port=port)


@app.command()
def demo(lang: Lang = "sv") -> None:
    """The whole path on built-in data: no camera, no scanner, no network."""
    from verify.demo import run_demo

    raise typer.Exit(run_demo(lang=check_lang(lang)))


def _optional_camera_index(argv: list[str]) -> list[str]:
    """`--camera` may stand alone (webcam 0); Typer options need a value, so supply it."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        out.append(arg)
        if arg == "--camera":
            nxt = argv[i + 1] if i + 1 < len(argv) else None
            if nxt is None or not nxt.lstrip("-").isdigit():
                out.append("0")
    return out


def main(argv: list[str] | None = None) -> Any:
    args = _optional_camera_index(list(sys.argv[1:] if argv is None else argv))
    try:
        return app(args=args, prog_name="verify")
    except (VerifyError, SourceError) as exc:
        typer.echo(f"verify: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        typer.echo("verify: interrupted", err=True)
        sys.exit(EXIT_UNKNOWN)


# Command groups that live in their own modules register themselves here.
# (verify daemon; verify decide, regions; verify scan, record, replay)
from verify import cli_daemon, cli_rules, cli_scanner  # noqa: E402, F401
