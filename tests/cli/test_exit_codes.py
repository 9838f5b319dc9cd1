"""One meaning per exit code, for every command: bad input is exit 2 with one sentence on
stderr in the chosen language and never a traceback; Ctrl-C is 130; a closed output pipe ends
quietly; the desk's port already in use is exit 2 in one line. Run as the user runs them: the
real console entry point in a child process, stdin closed."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.cli import assemble, main
from verify.locale import set_language

REPO = Path(__file__).resolve().parents[2]
RECORDING = str(REPO / "fixtures/scans/burst.jsonl")


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A loopback port something else already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


# (command words, the rest of the arguments). {busy} is a port already in use.
BAD: list[tuple[str, tuple[str, ...]]] = [
    ("card", ("--age", "abc", "--token", "X")),
    ("card", ("--bogus",)),
    ("card", ("--serial",)),
    ("card", ("--image", "/nonexistent/card.png")),
    ("card", ("--lang", "de", "--token", "X")),
    ("card", ("--serial", "/dev/nonexistent-tty")),
    ("parse", ()),
    ("parse", ("x", "--json=1")),
    ("lookup", ("",)),
    ("lookup", ("--card", "bus", "X")),
    ("decide", ("--region", "atlantis")),
    ("decide", ("--age", "-1")),
    ("regions", ("extra",)),
    ("daemon", ("--source", "bogus:x")),
    ("daemon", ("--clear-after", "abc")),
    ("daemon", ("--config", "/nonexistent.toml", "--source", "stdin:")),
    ("daemon", ("--http", "notahost", "--source", "stdin:")),
    ("daemon", ("--source", "stdin:", "--http", "127.0.0.1:{busy}")),
    ("scan", ("--source", "bogus:x")),
    ("scan", ("--count", "x", "--source", "stdin:")),
    ("record", ("--source", "stdin:", "--out", "/nonexistent/dir/f.jsonl")),
    ("replay", ("/nonexistent.jsonl",)),
    ("replay", ()),
    ("agency-emulator", ("--port", "99999")),
    ("agency-emulator", ("--port", "{busy}")),
    ("demo", ("--bogus",)),
    ("profile show", ("--bogus",)),
    ("profile check", ()),
    ("profile learn", ("--code", "bogus")),
    ("desk install-service", ("--bogus",)),
    ("desk install-service", ("--root", "/proc/forbidden")),
    ("desk serve", ("--http", "notahost")),
    ("desk serve", ("--region", "atlantis")),
    ("desk add", ("kassa", "--site", "VC", "--region", "atlantis")),
    ("desk add", ("kassa",)),
    ("desk list", ("--desks", "/etc/passwd")),
    ("desk list", ("--bogus",)),
    ("desk site", ("VC", "--screen-lang", "de")),
    ("desk revoke", ("--bogus",)),
    ("desk link", ("kassa", "--valid-for", "abc")),
    ("nosuchcommand", ()),
]


def commands() -> set[str]:
    """Every command's words, from the app itself (a new command must join BAD)."""
    out: set[str] = set()

    def walk(command: Any, prefix: str) -> None:
        subs = getattr(command, "commands", {})
        if not subs and prefix:
            out.add(prefix)
        for name, sub in subs.items():
            walk(sub, f"{prefix} {name}".strip())

    walk(typer.main.get_command(assemble()), "")
    return out


def verify(*args: str, env: dict[str, str] | None = None,
           timeout: float = 30) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
    base.update({"PYTHONPATH": str(REPO), "HOME": "/nonexistent-home", **(env or {})})
    return subprocess.run([sys.executable, "-m", "verify", *args], capture_output=True,
                          text=True, env=base, timeout=timeout, cwd=REPO,
                          stdin=subprocess.DEVNULL)


def test_every_command_has_a_bad_input_case() -> None:
    assert commands() <= {words for words, _ in BAD}, commands() - {w for w, _ in BAD}


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("words, rest", BAD, ids=[f"{w} {' '.join(r)}"[:50] for w, r in BAD])
def test_bad_input_is_exit_2_with_one_sentence_and_no_traceback(words, rest, lang,
                                                               busy_port) -> None:
    args = [*words.split(), *(a.replace("{busy}", str(busy_port)) for a in rest)]
    got = verify(*args, env={"VERIFY_LANG": lang})
    assert got.returncode == 2, (got.returncode, got.stderr)
    assert "Traceback" not in got.stderr + got.stdout
    lines = [line for line in got.stderr.splitlines() if line.strip()]
    # A prompt may precede the sentence on its line; the sentence itself is one line.
    assert len(lines) == 1 and "verify: " in lines[0], got.stderr
    assert "Error:" not in got.stderr and "Usage:" not in got.stderr
    if lang == "en":
        assert not set(lines[0].split()) & {"och", "är", "inte", "finns", "saknas"}, lines[0]


@pytest.mark.parametrize("command", ["daemon", "desk serve"])
def test_the_desk_port_in_use_says_so_in_one_line_in_both_languages(
    busy_port, desks_folder, command
) -> None:
    where = ("--source", "stdin:") if command == "daemon" else ("--desks", str(desks_folder))
    for lang, words in (("sv", "porten används redan"), ("en", "the port is already in use")):
        got = verify(*command.split(), *where, "--http", f"127.0.0.1:{busy_port}",
                     env={"VERIFY_LANG": lang})
        assert got.returncode == 2
        assert got.stderr.count("\n") == 1 and words in got.stderr, got.stderr
        assert f"127.0.0.1:{busy_port}" in got.stderr


# Every command that waits, made to wait (stdin a pipe kept open, port 0), and what it says
# once it is waiting: (arguments, that text). {tmp} is a fresh folder, {desks} one with a desk.
WAITING: list[tuple[tuple[str, ...], str]] = [
    (("scan", "--source", "stdin:"), "listening on stdin:"),
    (("record", "--source", "stdin:", "--out", "{tmp}/rec.jsonl"), "recording stdin:"),
    (("agency-emulator", "--port", "0"), "Point the lookup at it"),
    (("daemon", "--source", "stdin:", "--http", "127.0.0.1:0"), "started:"),
    (("desk", "serve", "--http", "127.0.0.1:0", "--desks", "{desks}"), "desks served at"),
    (("card", "--source", "stdin:"), "waiting for one card"),
    (("card", "--keyboard"), "waiting for one card"),
    (("profile", "learn", "--card", "lma", "--source", "stdin:"), "Scan 2 real cards now."),
    (("profile", "learn"), "Which card kind"),
]


class Waiting:
    """A command as a child process: stdin a pipe held open, its output collected as it comes."""

    def __init__(self, args: list[str]) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "verify", *args], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
            env={**base, "PYTHONPATH": str(REPO), "HOME": "/nonexistent-home",
                 "VERIFY_LANG": "en"})
        self.text = {"out": b"", "err": b""}
        self._cond = threading.Condition()
        self._readers = [threading.Thread(target=self._pump, args=(name, stream), daemon=True)
                         for name, stream in (("out", self.proc.stdout),
                                              ("err", self.proc.stderr))]
        for reader in self._readers:
            reader.start()

    def _pump(self, name: str, stream: Any) -> None:
        while chunk := os.read(stream.fileno(), 4096):
            with self._cond:
                self.text[name] += chunk
                self._cond.notify_all()

    def said(self) -> str:
        return (self.text["out"] + self.text["err"]).decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while needle not in self.said():
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    self.proc.kill()
                    raise AssertionError(f"never said {needle!r}: {self.said()}")
                self._cond.wait(min(left, 0.2))

    def end(self, signum: int) -> int:
        """Send `signum`; the exit code, once the output is all read (stdin still open)."""
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"still running after the signal: {self.said()}") from None
        for reader in self._readers:
            reader.join(5)
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return code


@pytest.fixture(scope="module")
def desks_folder(tmp_path_factory) -> Path:
    from tests.support_desks import add_desk

    folder = tmp_path_factory.mktemp("desks")
    add_desk(folder, "kassa", "VC", "http://127.0.0.1:9")
    return folder


@pytest.mark.parametrize("args, needle", WAITING, ids=[" ".join(a)[:40] for a, _ in WAITING])
def test_ctrl_c_is_130_for_every_command_that_waits(args, needle, tmp_path,
                                                     desks_folder) -> None:
    child = Waiting([a.replace("{tmp}", str(tmp_path)).replace("{desks}", str(desks_folder))
                     for a in args])
    child.wait_for(needle)
    code = child.end(signal.SIGINT)
    said = child.said()
    assert code == 130, (code, said)
    assert "Traceback" not in said and "Aborted!" not in said, said
    if args[0] == "daemon":
        assert "stopped: 0 scan(s)" in said  # drained and closed, as on SIGTERM
    if args[0] == "record":
        assert (tmp_path / "rec.jsonl").exists()  # the recording is kept


@pytest.mark.parametrize("args, needle", [w for w in WAITING if w[0][0] in ("daemon", "desk")],
                         ids=["daemon", "desk serve"])
def test_sigterm_from_the_service_manager_is_a_normal_stop(args, needle, desks_folder) -> None:
    child = Waiting([a.replace("{desks}", str(desks_folder)) for a in args])
    child.wait_for(needle)
    assert child.end(signal.SIGTERM) == 0, child.said()


def test_ctrl_c_is_130_and_says_so_without_a_traceback() -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "verify", "profile", "learn", "--lang", "en"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**base, "PYTHONPATH": str(REPO), "HOME": "/nonexistent-home"}, cwd=REPO)
    time.sleep(2.0)  # at its first question
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "Aborted!" not in err + out


def test_a_closed_output_pipe_ends_quietly_with_2() -> None:
    read, write = os.pipe()
    os.close(read)
    base = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
    proc = subprocess.run([sys.executable, "-m", "verify", "regions"], stdout=write,
                          stderr=subprocess.PIPE, text=True, timeout=30, cwd=REPO,
                          env={**base, "PYTHONPATH": str(REPO)})
    os.close(write)
    assert proc.returncode == 2
    assert proc.stderr == ""


# -- hostile arguments: whatever is typed, one documented code and never a traceback ---------

ARG = st.one_of(
    st.sampled_from(["--region", "--age", "--category", "--birth-date", "--json", "--date",
                     "--lang", "--bogus", "-h", "--", "-", "--age=", "--registered"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)


@given(args=st.lists(ARG, max_size=6))
@settings(max_examples=60, deadline=None)
def test_any_arguments_to_decide_give_a_documented_code_and_no_traceback(args) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["decide", *args])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            set_language("sv")
    assert code in (0, 2, 3), (code, args, err.getvalue())
    assert "Traceback" not in out.getvalue() + err.getvalue()
    if code == 2:
        assert len(err.getvalue().strip().splitlines()) == 1, (args, err.getvalue())
