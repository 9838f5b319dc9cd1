"""A command line loads only its own command group, and nothing is lost by it: every command the
whole app has is reached through `GROUPS`, with the same subcommands, and a card read at the desk
does not start the desk service's code (part of a UT photo's 0.5 s budget)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from verify.cli import GROUPS, assemble, modules_for

REPO = Path(__file__).resolve().parents[2]


def tree(command: Any) -> dict[str, Any]:
    return {name: tree(sub) for name, sub in getattr(command, "commands", {}).items()}


def in_fresh_process(code: str) -> Any:
    """What `code` prints as JSON, run in a new interpreter (nothing loaded yet)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=60, check=True)
    return json.loads(done.stdout)


def test_every_command_of_the_whole_app_is_in_the_table() -> None:
    assert set(tree(typer.main.get_command(assemble()))) == set(GROUPS)


@pytest.mark.parametrize("command", sorted(GROUPS))
def test_a_command_s_own_group_gives_it_all_its_subcommands(command: str) -> None:
    whole = tree(typer.main.get_command(assemble()))[command]
    alone = in_fresh_process(
        "import json, typer\n"
        "from verify.cli import assemble\n"
        f"app = typer.main.get_command(assemble([{command!r}, '--help']))\n"
        "def tree(c): return {n: tree(s) for n, s in getattr(c, 'commands', {}).items()}\n"
        f"print(json.dumps(tree(app)[{command!r}]))\n")
    assert alone == whole


def test_reading_a_ut_card_does_not_load_the_desk_service() -> None:
    mrz = "\n".join(json.loads((REPO / "fixtures/mrz/cards/p00-clean.json").read_text())["lines"])
    loaded = in_fresh_process(
        "import contextlib, io, json, sys\n"
        "from verify.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = run(['card', '--json', '--mrz', {mrz!r}])\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n")
    code, modules = loaded
    assert code == 0
    for heavy in ("verify.cli.daemon", "verify.desk.server", "prometheus_client",
                  "verify.cli.desks", "verify.cli.profile", "http.server"):
        assert heavy not in modules


def test_help_and_a_misspelt_command_see_every_group() -> None:
    everything = set(modules_for([]))
    assert everything == {m for group in GROUPS.values() for m in group}
    assert set(modules_for(["carf"])) == everything
    assert set(modules_for(["-h"])) == everything
    assert modules_for(["--version"]) == ()
    assert modules_for(["desk", "serve", "--port", "8080"]) == ("desk", "desks")


def test_a_misspelt_command_is_said_with_the_closest_one() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-m", "verify", "carf"], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert done.stderr.strip() == ("verify: kommandot 'carf' finns inte; menade du 'card'? "
                                   "(hjälp: verify -h)")
