"""Every waiting command says what it waits for: `verify card` from a scanner says it waits for
one card (and from where) before the first scan; the daemon says "open" only when the device
is, and "waiting for the device" once, not before every failed retry."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
    return {**base, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "HOME": "/nonexistent"}


def test_card_from_a_scanner_says_it_waits_before_the_scan_comes() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "verify", "card", "--keyboard"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env(), cwd=REPO)
    assert proc.stderr is not None and proc.stdin is not None
    first = proc.stderr.readline()  # said before anything is scanned
    assert first.strip() == "verify: väntar på ett kort från stdin: (avsluta med Ctrl-C)"
    proc.stdin.write("inte ett kort\n")
    proc.stdin.close()
    proc.wait(20)
    got = subprocess.run([sys.executable, "-m", "verify", "card", "--keyboard", "--timeout",
                          "0.5", "--lang", "en"], capture_output=True, text=True, env=env(),
                         cwd=REPO, stdin=subprocess.PIPE, timeout=20)
    assert got.stderr.splitlines()[0] == "verify: waiting up to 0.5 s for one card from stdin:"


def test_the_daemon_logs_open_only_when_the_device_is(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "verify", "daemon", "--source",
                             f"serial:{tmp_path / 'no-scanner'}", "--http", "none"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env(), cwd=REPO)
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while sum("retrying in" in line for line in lines) < 3 and time.monotonic() < deadline:
        lines.append(proc.stderr.readline())  # several retries (0.5 s, 1 s, 2 s)
    proc.terminate()
    err = "".join(lines) + proc.communicate(timeout=20)[1]
    assert err.count("retrying in") >= 2, err
    assert err.count("waiting for the device") == 1, err
    assert ": open" not in err, err
