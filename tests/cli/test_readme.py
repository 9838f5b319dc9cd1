"""The README's command table names real commands and real options (it once said `verify card
SOURCE`, while the source is an option)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from verify.cli import assemble

README = Path(__file__).resolve().parents[2] / "README.md"


def _rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("## Commands", 1)[1].strip().split("\n\n", 1)[0]
    return [line for line in table.splitlines() if line.startswith("| `verify ")]


def test_every_command_and_option_in_the_readme_table_exists() -> None:
    group: Any = typer.main.get_command(assemble())
    rows = _rows()
    assert len(rows) >= 10
    named: set[str] = set()
    for row in rows:
        for usage in re.findall(r"`(verify [^`]+)`", row):
            words = usage.split()
            if words[1].startswith("-"):  # an option of `verify` itself (--version, -h)
                root = {o for p in group.params for o in (*p.opts, *p.secondary_opts)}
                assert words[1] in root | {"-h", "--help"}, f"verify has no option {words[1]}"
                continue
            command = group.commands.get(words[1])
            assert command is not None, f"README names no such command: {usage}"
            named.add(words[1])
            rest = 2
            # A command group (`verify profile show`, `verify desk install-service`): descend.
            while hasattr(command, "commands") and len(words) > rest \
                    and words[rest] in command.commands:
                command = command.commands[words[rest]]
                rest += 1
            options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
            for option in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", " ".join(words[rest:])):
                assert option in options, f"{words[1]} has no option {option}"
            # A bare upper-case word is an argument; the command must take one.
            tokens = [t.strip("()[]…") for t in words[rest:] if t.strip("()[]…|\\")]
            bare = [t for i, t in enumerate(tokens) if re.fullmatch(r"[A-Z_]+", t)
                    and not (i and tokens[i - 1].startswith("-"))]
            arguments = [p for p in command.params if p.param_type_name == "argument"]
            assert len(bare) == len(arguments), f"{usage}: arguments {bare} vs {arguments}"
    assert named == set(group.commands), set(group.commands) - named
