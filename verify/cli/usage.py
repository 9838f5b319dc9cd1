"""Typer's own usage errors (bad option, missing value, unknown command) in our words.

Typer carries its own copy of Click whose messages (option values checked included) are fixed
English f-strings. Each error is re-said here from what it
carries (the option, the value, Click's sentence matched against the templates
below), in the chosen language, as one line ending with where to find help. A sentence that
matches no template is shown as Typer wrote it (English), never dropped.
"""

from __future__ import annotations

import difflib
from typing import Any

import typer
import typer.core

from verify.locale import N_, _, localise

# Inner sentences (Click's, Typer's) as English templates; the whole text must match.
INNER = (
    # Click's number checks: the type's name ("int range") comes from Click.
    N_("{value} is not a valid int."),
    N_("{value} is not a valid int range."),
    N_("{value} is not a valid float."),
    N_("{value} is not a valid float range."),
    N_("{value} is not in the range {range}."),
    N_("{value} is not a valid boolean. Recognized values: {states}"),
    N_("{n} values are required, but {given} given."),
    N_("{value} is not one of {choices}."),
    N_("Got unexpected extra argument(s) ({args})"),
    N_("Option {option} requires an argument."),
    N_("Option {option} does not take a value."),
    N_("No such command {name}. Did you mean {close}?"),
    N_("No such command {name}."),
    N_("Missing command."),
    N_("Option {option} requires {n} arguments."),
    N_("Argument {name} takes {n} values."),
    N_("{value} is not a valid {label}."),
    # Typer's path checks, one per kind of path it names ("File", "Directory", "Path").
    N_("File {path} does not exist."),
    N_("Directory {path} does not exist."),
    N_("Path {path} does not exist."),
    N_("Directory {path} is a file."),
    N_("File {path} is a directory."),
    N_("File {path} is not readable."),
    N_("Directory {path} is not readable."),
    N_("Path {path} is not readable."),
    N_("File {path} is not writable."),
    N_("Directory {path} is not writable."),
    N_("Path {path} is not writable."),
)


# The help screen's frame as Typer asks gettext for it (its own module's `_`).
HELP_FRAME = (
    N_("Options"),
    N_("Arguments"),
    N_("Commands"),
    N_("required"),
    N_("default: {default}"),
    N_("env var: {var}"),
    N_("(dynamic)"),
    N_("Aborted!"),
)

# Click's own words on the help screen that Typer's copy of Click writes as fixed strings (no
# gettext): the usage line's prefix and the help option's help.
USAGE = N_("Usage:")
HELP_OPTION = N_("Show this message and exit.")


def speak_help_frame() -> None:
    """Let Typer's help headings ("Options", "[default: …]") come from our catalogue: Typer
    looks them up through the `_` of its `core` module, which is stdlib gettext (no catalogue).
    Typer formats the placeholders itself, so the text goes back unfilled."""
    typer.core._ = lambda message: _(message)  # type: ignore[attr-defined]


class SpeakingFormatter(typer.Context.formatter_class):  # type: ignore[misc,valid-type]
    """Click's help formatter with the usage line's prefix ("Usage:") from our catalogue."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, f"{_(USAGE)} " if prefix is None else prefix)


class SpeakingContext(typer.Context):
    """The context every command runs in (`Command.context_class`, set by `speak_help`): its
    help screen speaks the chosen language where Click's words are fixed English, through
    Click's own extension points (`Context.formatter_class`, `Command.get_help_option`)."""

    formatter_class = SpeakingFormatter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        option = self.command.get_help_option(self)
        if option is not None and option.help == HELP_OPTION:
            option.help = _(HELP_OPTION)


def said(text: str) -> str:
    """One of Typer's sentences in the chosen language, by whole-text template match."""
    return localise(ValueError(text), templates=INNER)


def _param_name(exc: Any) -> str:
    hint = getattr(exc, "param_hint", None)
    if isinstance(hint, list | tuple):
        return " / ".join(str(h) for h in hint)
    if hint:
        return str(hint)
    param = getattr(exc, "param", None)
    if param is not None:
        opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
        if opts:
            return opts[0]
        return str(getattr(param, "name", "") or "").upper()
    return ""


def _options_of(ctx: Any) -> list[str]:
    command = getattr(ctx, "command", None)
    out: list[str] = []
    for param in getattr(command, "params", []):
        out.extend(o for o in getattr(param, "opts", []) if o.startswith("-"))
    return out


def usage_sentence(exc: typer.TyperException) -> str:
    """The one line to print for a usage error (without the `verify: ` prefix)."""
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None) or "verify"
    if isinstance(exc, typer.BadParameter) and type(exc).__name__ == "MissingParameter":
        name = _param_name(exc)
        kind = getattr(getattr(exc, "param", None), "param_type_name", "")
        sentence = (_("the argument {name} is missing", name=name) if kind == "argument"
                    else _("the option {name} is missing", name=name))
    elif isinstance(exc, typer.BadParameter):
        sentence = _("invalid value for {name}: {why}", name=_param_name(exc).strip("'"),
                     why=said(str(exc.message)))
    elif type(exc).__name__ == "NoSuchOption":
        option = str(getattr(exc, "option_name", "") or "")
        close = difflib.get_close_matches(option, _options_of(ctx), n=1, cutoff=0.7)
        sentence = (_("{option} is not an option of {command}; did you mean {known}?",
                      option=option, command=command, known=close[0]) if close
                    else _("{option} is not an option of {command}", option=option,
                           command=command))
    else:
        sentence = said(str(getattr(exc, "message", "") or exc))
    return _("{sentence} (help: {command} -h)", sentence=sentence, command=command)
