"""`verify scan`, `verify record`, `verify replay`: is my scanner working, and what did it send?

Payloads go only to the terminal of the person who asked, with control characters escaped (a
scanned code must not be able to drive the terminal); nothing is written to disk except by
`verify record --out`, which the operator asks for explicitly (and can `--redact`).
"""

import json
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from drivers import open_source
from drivers.framing import Notice
from drivers.recording import Recorder, open_private
from drivers.scan import Scan, SourceError
from drivers.source import Source
from drivers.stream import ByteStreamSource
from verify.cli.app import Lang, app, check_lang, fail, say
from verify.locale import N_, _
from verify.model import EXIT_INTERRUPTED

# Driver notices (drivers never import verify): the stable `kind` and the driver's constant
# English text are the catalogue's keys; a text not in the catalogue is shown as it is.
# Driver notices whose English text is itself the catalogue's msgid.
NOTICE = frozenset({
    N_("frame without readable characters dropped"),
    N_("line without readable characters dropped"),
    N_("scan is not valid UTF-8: rejected"),
    N_("bytes before STX without a terminator"),
    N_("STX frame restarted before ETX"),
    N_("control characters (NUL, ESC, …) dropped from the scan"),
})
NOTICE_KIND = {
    "overflow": N_("scan too long: discarded up to the next terminator"),
    "partial_dropped": N_("incomplete scan dropped"),
    "noise": N_("unreadable bytes dropped"),
    "controls_dropped": N_("control characters (NUL, ESC, …) dropped from the scan"),
    "invalid_utf8": N_("scan is not valid UTF-8: rejected"),
}


def notice_text(notice: Notice) -> str:
    """A driver's notice in the chosen language, by its text or else by its kind."""
    if notice.detail in NOTICE:
        return _(notice.detail)
    if notice.kind in NOTICE_KIND:
        return _(NOTICE_KIND[notice.kind])
    return notice.detail


def escape_for_terminal(text: str) -> str:
    """Make every control/format character visible: no escape sequences reach the terminal."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def scan_json(scan: Scan) -> str:
    """One JSON line; DEL and C1 controls (which json leaves raw) escaped as well."""
    text = json.dumps(
        {
            "payload": scan.payload,
            "symbology": scan.symbology,
            "source": scan.source,
            "time": scan.at.isoformat(),
        },
        ensure_ascii=False,
    )
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
        for ch in text
    )


def scan_line(scan: Scan) -> str:
    local = scan.at.astimezone().strftime("%H:%M:%S")
    return f"{local}  {scan.symbology:<10}  {escape_for_terminal(scan.source)}  " + (
        escape_for_terminal(scan.payload)
    )


class ScanTimeout(SourceError):
    """No scan came within --timeout/--duration."""


def _limited(source: Source, count: int | None, timeout: float | None) -> Iterator[Scan]:
    """Scans until `count` or the source ends; `timeout` closes a silent source (thread-safe)."""
    timer = None
    timed_out = threading.Event()
    if timeout is not None:

        def expire() -> None:
            timed_out.set()
            source.close()

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.start()
    n = 0
    try:
        for scan in source:
            if timed_out.is_set():
                break
            n += 1
            yield scan
            if count is not None and n >= count:
                return
    finally:
        if timer is not None:
            timer.cancel()
    if timed_out.is_set() and n == 0:
        raise ScanTimeout("timeout")


def _notices_to_stderr(source: Source, lang: str) -> None:
    if hasattr(source, "on_notice"):

        def show(notice: Notice) -> None:
            say("note: {detail} ({size} bytes)", detail=notice_text(notice), size=notice.size)

        source.on_notice = show


def _print_scans(
    url: str,
    count: int | None,
    as_json: bool,
    timeout: float | None,
    lang: str,
    quiet_start: bool = False,
) -> None:
    if count is not None and count < 1:
        raise fail("--count must be 1 or more")
    if timeout is not None and timeout <= 0:
        raise fail("--timeout must be more than 0 seconds")
    try:
        with open_source(url) as source:
            _notices_to_stderr(source, lang)
            if not quiet_start:
                say("listening on {url} (Ctrl-C to stop)", url=escape_for_terminal(url))
            try:
                for scan in _limited(source, count, timeout):
                    typer.echo(scan_json(scan) if as_json else scan_line(scan))
            except ScanTimeout:
                say("no code was read from {url} within {s} s", url=escape_for_terminal(url),
                    s=f"{timeout:g}")
                raise typer.Exit(2) from None
    except KeyboardInterrupt:
        # Ctrl-C is how a listening scan ends: quietly (the source is closed), but 130.
        raise typer.Exit(EXIT_INTERRUPTED) from None


Count = Annotated[int | None, typer.Option("--count", help="stop after N scans")]
Timeout = Annotated[
    float | None, typer.Option("--timeout", help="give up after S seconds without a scan")
]
JsonLines = Annotated[bool, typer.Option("--json", help="one JSON object per scan")]


@app.command("scan")
def scan_command(
    source: Annotated[
        str, typer.Option("--source", help="e.g. serial:/dev/ttyACM0, stdin:, replay:FILE")
    ],
    count: Count = None,
    as_json: JsonLines = False,
    timeout: Timeout = None,
    lang: Lang = None,
) -> None:
    """Print raw scans as they arrive (payload, symbology, source, time): no lookup."""
    _print_scans(source, count, as_json, timeout, check_lang(lang))


@app.command("replay")
def replay_command(
    path: Annotated[Path, typer.Argument(help="a recording made with verify record")],
    fast: Annotated[
        bool, typer.Option("--fast", help="do not wait: replay as fast as possible")
    ] = False,
    count: Count = None,
    as_json: JsonLines = False,
    lang: Lang = None,
) -> None:
    """Replay a recording through the scanner framing, printing the scans it gives."""
    url = f"replay:{path}" + ("?fast=1" if fast else "")
    _print_scans(url, count, as_json, None, check_lang(lang), quiet_start=True)


@app.command("record")
def record_command(
    source: Annotated[str, typer.Option("--source", help="serial:…, stdin: or evdev:…")],
    out: Annotated[Path, typer.Option("--out", help="the recording file to create (JSON Lines)")],
    redact: Annotated[
        bool, typer.Option("--redact", help="replace payload characters, keep framing and timing")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="overwrite --out if it exists")] = False,
    count: Count = None,
    timeout: Annotated[
        float | None, typer.Option("--duration", help="stop after S seconds")
    ] = None,
    lang: Lang = None,
) -> None:
    """Record what a scanner sends (raw bytes or key events, timed): docs/recording.md."""

    lang = check_lang(lang)
    if count is not None and count < 1:
        raise fail("--count must be 1 or more")
    with open_source(source) as src:
        if not isinstance(src, ByteStreamSource) or src.kind == "replay":
            raise fail("source {url} cannot be recorded (only serial:, stdin:, evdev:)",
                       url=escape_for_terminal(source))
        _notices_to_stderr(src, lang)
        with open_private(out, force=force) as handle:
            recorder = Recorder(src, handle, redact=redact)
            if redact:
                say("recording {url} to {out}; the recording holds card data (redacted)",
                    url=escape_for_terminal(source), out=out)
            else:
                say("recording {url} to {out}; the recording holds card data",
                    url=escape_for_terminal(source), out=out)
            n = 0
            interrupted = False
            try:
                for scan in _limited_duration(src, count, timeout):
                    n += 1
                    say("scan {n} recorded ({symbology}, {length} characters)", n=n,
                        symbology=scan.symbology, length=len(scan.payload))
            except KeyboardInterrupt:
                interrupted = True  # the recording is kept and closed as on any other end
            except SourceError:
                if recorder.records == 0:
                    out.unlink(missing_ok=True)  # nothing recorded: leave no empty file behind
                raise
    raise typer.Exit(EXIT_INTERRUPTED if interrupted else 0)


def _limited_duration(source: Source, count: int | None, duration: float | None) -> Iterator[Scan]:
    """Like _limited, but running out of time is the normal end of a recording."""
    try:
        yield from _limited(source, count, duration)
    except ScanTimeout:
        return
