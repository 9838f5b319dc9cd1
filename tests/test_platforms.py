"""No Linux-only module in the core (docs/platforms.md): with evdev, Tk, pyudev and systemd made
unimportable, `verify card`, `verify lookup`, `verify decide` and the daemon with a serial source
still start; only an `evdev:` source asks for its extra."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time

from tests.conftest import REPO, verify_env
from verify.lookup.emulator import Emulator

# Make the Linux-only modules unimportable, then run the real command line.
BLOCK = """
import sys
for name in ("evdev", "tkinter", "_tkinter", "pyudev", "systemd"):
    sys.modules[name] = None  # import raises ImportError, as on a machine without them
from verify.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_blocked(*args: str, env: dict[str, str] | None = None,
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK, *args], env=verify_env(env),
                          capture_output=True, text=True, timeout=60, cwd=REPO)


def test_core_commands_start_without_linux_only_modules() -> None:
    r = run_blocked("decide", "--region", "skane", "--category", "asylum_seeker", "--age", "40",
                    "--lang", "en")
    assert r.returncode == 0, r.stderr
    assert "CARE THAT CANNOT WAIT" in r.stdout
    with Emulator() as emulator:  # the agency's stand-in on loopback
        r = run_blocked("card", "--token", "VALID0001", "--json", env=emulator.env())
        assert r.returncode == 0 and '"state": "valid"' in r.stdout, r.stderr
        r = run_blocked("lookup", "VALID0002", "--json", env=emulator.env())
        assert r.returncode == 0 and '"state": "valid"' in r.stdout, r.stderr


def test_daemon_with_a_serial_source_starts_without_linux_only_modules() -> None:
    """The daemon on a real serial port (a pty) starts, then stops cleanly on SIGTERM."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", BLOCK, "daemon", "--source", f"serial:{os.ttyname(slave)}",
         "--http", "off", "--events", "-"],
        env=verify_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert proc.stderr is not None
        seen = ""
        deadline = time.monotonic() + 30
        while "started" not in seen and time.monotonic() < deadline and proc.poll() is None:
            seen += proc.stderr.readline()
        assert "started" in seen, seen
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, seen + err
        assert "Traceback" not in seen + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
        os.close(slave)


def test_an_evdev_source_without_evdev_names_the_extra() -> None:
    r = run_blocked("scan", "--source", "evdev:/dev/input/event0", "--count", "1")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "verify-lma[keyboard]" in r.stderr
