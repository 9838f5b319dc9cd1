"""The `verify` command: one Typer app, one module per command group.

`app` knows no group; each group module registers its commands on it, and this module imports
them all, so the CLI is built in one direction and nothing outside `verify.cli` imports it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from drivers.scan import SourceError
from verify.cli import (  # noqa: F401  (they register commands)
    card,
    daemon,
    demo,
    desk,
    desks,
    profile,
    rules,
    scanner,
)
from verify.cli.app import DRIVER_MESSAGES, app
from verify.errors import ConfigError, VerifyError
from verify.locale import _, localise, set_language
from verify.model import EXIT_UNKNOWN, EXIT_USAGE


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
    each command's and option's help is looked up in the catalogue before Click shows it."""
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


def main(argv: list[str] | None = None) -> Any:
    args = _optional_camera_index(list(sys.argv[1:] if argv is None else argv))
    _early_language(args)
    try:
        return speak_help(typer.main.get_command(app))(args=args, prog_name="verify")
    except (VerifyError, SourceError) as exc:
        typer.echo(f"verify: {localise(exc, templates=DRIVER_MESSAGES)}", err=True)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        typer.echo("verify: " + _("interrupted"), err=True)
        sys.exit(EXIT_UNKNOWN)
