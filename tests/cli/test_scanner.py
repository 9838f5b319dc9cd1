"""`verify scan` and `verify card --serial` as a user runs them, against a scanner on a real pty."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from tests.conftest import REPO, run_verify, verify_env
from tests.support_scanner import PtyScanner, wait_for_fd
from verify.cli.scanner import escape_for_terminal
from verify.lookup.emulator import Emulator


def run_with_scanner(tmp_path, args, wire, env=None, timeout=20):
    """Start `verify ARGS` (it opens the pty), then send `wire` as the scanner would."""
    scanner = PtyScanner(tmp_path / "scanner")
    args = [a.replace("PORT", str(scanner.link)) for a in args]
    proc = subprocess.Popen(
        [sys.executable, "-m", "verify", *args], env=verify_env(env), cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for_fd(proc.pid, os.ttyname(scanner.slave))
        for chunk in wire:
            scanner.send(chunk)
            time.sleep(0.02)
        out, err = proc.communicate(timeout=timeout)
    finally:
        proc.kill()
        scanner.close()
    return proc.returncode, out, err


def test_scan_prints_scans_as_they_arrive_and_stops_after_count(tmp_path):
    code, out, err = run_with_scanner(
        tmp_path,
        ["scan", "--source", "serial:PORT", "--count", "2", "--json"],
        [b"]Q1https://x.se/lmakort/VALID0001\r", b"\x00\x00", b"]d2SECOND\r\n", b"third\r"],
    )
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(x["payload"], x["symbology"]) for x in lines] == [
        ("https://x.se/lmakort/VALID0001", "QR"), ("SECOND", "DataMatrix")]  # fmt: skip
    assert all(x["source"].startswith("serial:") and "T" in x["time"] for x in lines)


def test_scan_escapes_terminal_control_sequences_in_payloads(tmp_path):
    # ESC is dropped by the framer; C1 CSI (U+009B) and a bidi override survive UTF-8 decoding.
    hostile = "A\u009b2J\u202eB".encode()
    code, out, _ = run_with_scanner(
        tmp_path, ["scan", "--source", "serial:PORT", "--count", "1"], [hostile + b"\r"]
    )
    assert code == 0
    assert "\u009b" not in out and "\u202e" not in out and "\x1b" not in out
    assert "A\\x9b2J\\u202eB" in out
    code, out, _ = run_with_scanner(
        tmp_path, ["scan", "--source", "serial:PORT", "--count", "1", "--json"], [hostile + b"\r"]
    )
    assert "\u009b" not in out and json.loads(out)["payload"] == "A\u009b2J\u202eB"


def test_escape_for_terminal_leaves_ordinary_text_alone():
    assert escape_for_terminal("https://x.se/Malmö?a=b") == "https://x.se/Malmö?a=b"
    assert escape_for_terminal("a\x1b[31m\\b\n") == "a\\x1b[31m\\\\b\\n"


def test_scan_timeout_on_a_silent_scanner(tmp_path):
    start = time.monotonic()
    code, out, err = run_with_scanner(
        tmp_path, ["scan", "--source", "serial:PORT", "--timeout", "0.5", "--lang", "en"], []
    )
    assert code == 2 and out == ""
    assert "no code was read" in err and "Traceback" not in err
    assert time.monotonic() - start < 10


def test_scan_unknown_source_is_a_clear_error():
    result = run_verify("scan", "--source", "telepathy:now")
    assert result.returncode == 2
    assert "okänt källschema" in result.stderr and "Traceback" not in result.stderr


def test_card_serial_waits_for_one_scan_and_checks_it(tmp_path):
    with Emulator() as emu:
        wire = [b"]Q1" + emu.base_url.encode(), b"VALID0001\r\n"]
        code, out, err = run_with_scanner(
            tmp_path, ["card", "--serial", "PORT", "--json"], wire, env=emu.env()
        )
    assert code == 0, err
    status = json.loads(out)
    assert status["validity"]["state"] == "valid"
    assert status["document"]["lookup_token"] == "VALID0001"


def test_card_serial_timeout_on_a_silent_scanner(tmp_path):
    start = time.monotonic()
    code, _, err = run_with_scanner(tmp_path, ["card", "--serial", "PORT", "--timeout", "0.5"], [])
    assert code == 2
    assert "0.5 s" in err and "Traceback" not in err
    assert time.monotonic() - start < 10


def test_card_serial_missing_port_is_a_clear_error(tmp_path):
    result = run_verify("card", "--serial", str(tmp_path / "ttyACM9"), "--timeout", "2")
    assert result.returncode == 2
    assert "ttyACM9" in result.stderr and "Traceback" not in result.stderr
