"""The `verify` command: one Typer app, one module per command group.

`app` knows no group; each group module registers its commands on it, and this module loads
them, so the CLI is built in one direction and nothing outside `verify.cli` imports it.
A command line loads only the group its command is in (`GROUPS`), as Click's documentation
suggests for large CLIs ("lazily loading subcommands"): `verify card` does not pay at start for
the desk service, the Prometheus client or the scanner drivers. Help, a misspelt command and
`assemble()` load them all. The app and the group modules write their annotations as objects,
not postponed strings: Typer reads every command's annotations at each start, and compiling
them from strings cost `verify card` 15 ms of its start.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any, NoReturn

import typer

from drivers.scan import SourceError
from verify.cli.app import DRIVER_MESSAGES, app
from verify.cli.usage import SpeakingContext, said, speak_help_frame, usage_sentence
from verify.errors import ConfigError, VerifyError
from verify.locale import _, localise, set_language
from verify.model import EXIT_INTERRUPTED, EXIT_USAGE

# Each top-level command and the modules (in `verify.cli`) that register it and its subcommands.
GROUPS: dict[str, tuple[str, ...]] = {
    "card": ("card",), "parse": ("card",), "lookup": ("card",),
    "daemon": ("daemon",),
    "demo": ("demo",), "agency-emulator": ("demo",),
    "desk": ("desk", "desks"),
    "profile": ("profile",),
    "decide": ("rules",), "regions": ("rules",),
    "scan": ("scanner",), "replay": ("scanner",), "record": ("scanner",),
}
VERSION_OPTIONS = frozenset({"--version", "-V"})


def modules_for(args: Sequence[str]) -> tuple[str, ...]:
    """The group modules a command line needs: its command's, none for the version alone, and
    every one when there is no known command (help lists them, a misspelt one is matched)."""
    word = next((a for a in args if not a.startswith("-")), None)
    if word in GROUPS:
        return GROUPS[word]
    if word is None and VERSION_OPTIONS & set(args):
        return ()
    return tuple(dict.fromkeys(m for group in GROUPS.values() for m in group))


def assemble(args: Sequence[str] = ()) -> typer.Typer:
    """`app` with the groups `args` need registered (all of them when `args` names none)."""
    for module in modules_for(args):
        importlib.import_module(f"verify.cli.{module}")
    return app


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


def _early_language(args: list[str]) -> None:
    """Speak the asked language from the first word, even for errors raised while the
    options are still being read (each command checks --lang itself as well)."""
    asked = [os.environ.get("VERIFY_LANG")]
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            asked.append(args[i + 1])
        elif arg.startswith("--lang="):
            asked.append(arg.split("=", 1)[1])
    for lang in asked:
        try:
            set_language(lang)
        except ConfigError:
            pass  # the command's own --lang check reports it


def speak_help(command: Any) -> Any:
    """Help texts in the chosen language: Typer builds them in English at import (msgids);
    each command's and option's help is looked up in the catalogue before Click shows it;
    Click's own words there ("Usage:", the help option's help) through `SpeakingContext`."""
    command.context_class = SpeakingContext
    if command.help:
        command.help = _(command.help)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = _(param.help)
        if param.param_type_name == "option" and param.metavar is None \
                and not getattr(param, "is_flag", False) and param.name:
            # `--age N`-style help, as Unix tools print it, rather than Typer's `<int>`.
            param.metavar = param.name.upper()
    for sub in getattr(command, "commands", {}).values():
        speak_help(sub)
    return command


def main(argv: list[str] | None = None) -> NoReturn:
    """The console script: run one command and leave with one meaning per exit code.

    0, 1 and 3 are a card's outcome (valid, not valid, check by hand); every usage, settings,
    permission and input/output problem is 2 with one sentence and no traceback; Ctrl-C is 130;
    output to a pipe that was closed (`verify regions | head -1`) ends quietly with 2.
    """
    args = _optional_camera_index(list(sys.argv[1:] if argv is None else argv))
    _early_language(args)
    speak_help_frame()
    _hear_ctrl_c()
    if argv is None:
        # This process is the command. What its start loaded (Typer, the command's modules and
        # theirs) lives until the process ends. Frozen, it is walked neither by the collector
        # during the command nor by the interpreter's last collection at exit, which comes
        # after the answer (half of the 0.08 s from a photo's answer to the process's end).
        # What the command makes stays collectable, so its finalizers (files, sockets, a card
        # reader) still run. A caller passing `argv` (a test) keeps its collector as it was.
        assemble(args)
        gc.freeze()
    code = run(args)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        code = _quiet_closed_output()
    sys.exit(code)


def run(args: list[str]) -> int:
    """One command's exit code; what went wrong said on stderr in one line."""
    try:
        result = speak_help(typer.main.get_command(assemble(args))).main(
            args=args, prog_name="verify", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        # A prompt was given up: by Ctrl-C, by "no" to a confirmation, or because the input
        # ended (a pipe or a script) before an answer came.
        if _CTRL_C.heard:
            _say(_("interrupted"))
            return EXIT_INTERRUPTED
        if not _interactive():
            _say(_("the input ended before an answer was given"))
        else:
            _say(_("stopped; nothing was changed"))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say(_("interrupted"))
        return EXIT_INTERRUPTED
    except typer.TyperException as exc:  # Click's usage errors: bad option, missing value, …
        if type(exc).__name__ == "NoArgsIsHelpError":  # `verify` or a group alone: its help
            typer.echo(exc.format_message(), err=True)
            return EXIT_USAGE
        _say(usage_sentence(exc) if hasattr(exc, "ctx") else said(exc.format_message()))
        return EXIT_USAGE
    except (VerifyError, SourceError) as exc:
        _say(localise(exc, templates=DRIVER_MESSAGES))
        return EXIT_USAGE
    except BrokenPipeError:
        return _quiet_closed_output()
    except SystemExit:
        # Typer's own answer to a closed output pipe is exit 1, which means "not valid" here.
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":
            return _quiet_closed_output()
        raise
    except OSError as exc:  # a file or device the command could not use
        _say(os_sentence(exc))
        return EXIT_USAGE


def os_sentence(exc: OSError) -> str:
    """An operating-system refusal as one sentence naming what was refused."""
    where = exc.filename if exc.filename is not None else ""
    if isinstance(exc, PermissionError):
        return _("permission denied: {path}", path=where)
    if isinstance(exc, FileNotFoundError):
        return _("no such file or folder: {path}", path=where)
    if isinstance(exc, IsADirectoryError):
        return _("{path} is a folder, not a file", path=where)
    return _("cannot use {path}: {why}", path=where, why=exc.strerror or type(exc).__name__)


class _CtrlC:
    """Whether Ctrl-C was heard: a plain attribute, as a signal handler must take no lock (an
    `Event.set()` there can wait for ever on a lock the interrupted main thread holds)."""

    heard = False


_CTRL_C = _CtrlC()


def _hear_ctrl_c() -> None:
    """Remember Ctrl-C, then interrupt as Python does: Typer turns an interrupted prompt into
    the same `Abort` as ended input, and only this tells them apart (130, not 2)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        _CTRL_C.heard = True
        raise KeyboardInterrupt

    _CTRL_C.heard = False
    signal.signal(signal.SIGINT, on_sigint)


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def _say(text: str) -> None:
    try:
        typer.echo(f"verify: {text}", err=True)
    except (BrokenPipeError, ValueError):
        pass


def _quiet_closed_output() -> int:
    """The reader went away: say nothing more (the interpreter's own flush at exit would print
    a traceback-like notice), exit 2."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_USAGE
