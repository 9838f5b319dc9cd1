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


def callbacks(command: Any) -> list[Any]:
    own = [command.callback] if getattr(command, "callback", None) else []
    return own + [cb for sub in getattr(command, "commands", {}).values() for cb in callbacks(sub)]


def test_typer_reads_every_command_s_options_without_compiling_them() -> None:
    """Typer reads each command's annotations at every start: written as strings (postponed
    annotations) each is compiled again, 15 ms of a card read's start for `verify card`."""
    for callback in callbacks(typer.main.get_command(assemble())):
        written = {k: v for k, v in callback.__annotations__.items() if isinstance(v, str)}
        assert not written, f"{callback.__module__}.{callback.__name__}: {written}"


def test_a_photo_read_answers_without_loading_zbar() -> None:
    """zbar is the QR cascade's second decoder: a UT card's zone answers before it is needed."""
    loaded = in_fresh_process(
        "import contextlib, io, json, sys\n"
        "from verify.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = run(['card', '--json', '--no-preview', '--image',"
        " 'fixtures/mrz/cards/p00-clean.jpg'])\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n")
    code, modules = loaded
    assert code == 0
    assert "pyzbar" not in modules


def test_the_program_freezes_what_it_loaded_and_a_caller_s_collector_is_left_alone() -> None:
    """Run as the program, a command freezes what its start loaded (the interpreter's last
    collection at exit would walk it all after the answer is out); called with its arguments
    (a test, an embedding program) it leaves the collector as it was."""
    code = (
        "import atexit, gc, json, sys\n"
        "from verify.cli import main\n"
        "atexit.register(lambda: print(json.dumps(gc.get_freeze_count() > 0)))\n"
        "how = sys.argv.pop(1)\n"
        "sys.argv = ['verify', '--version']\n"
        "main() if how == 'program' else main(['--version'])\n")
    for how, frozen in (("program", True), ("caller", False)):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run([sys.executable, "-c", code, how], capture_output=True,
                              text=True, env=env, cwd=REPO, timeout=60)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.splitlines()[-1]) is frozen
