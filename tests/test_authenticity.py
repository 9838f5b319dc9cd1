"""verify.authenticity without a reader: a machine lacking the PC/SC library answers at once,
and the command line loads pyscard only for a chip (the reader path: tests/cli/test_chip.py)."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.conftest import REPO, verify_env
from tests.support_chip_pki import ut_zone
from verify.authenticity import check_chip
from verify.cards.emrtd.trust import TrustStore
from verify.cards.mrz import parse_mrz


def _no_pcsc_library(url: str, wait: float, on_reader) -> None:  # type: ignore[no-untyped-def]
    """What loading pyscard's PC/SC library gives on a machine without it."""
    raise OSError("libpcsclite.so.1: cannot open shared object file: No such file or directory")


def test_no_pcsc_library_is_no_reader_at_once() -> None:
    started = time.monotonic()
    auth = check_chip(parse_mrz(ut_zone()), trust=TrustStore(), deadline=5,
                      opener=_no_pcsc_library)
    assert (auth.state, auth.reason) == ("failed", "no_reader")
    assert time.monotonic() - started < 2


def test_the_command_line_does_not_load_pyscard_until_a_chip_is_read() -> None:
    probe = "import sys, verify.cli; print('smartcard' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=verify_env(), cwd=REPO, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
