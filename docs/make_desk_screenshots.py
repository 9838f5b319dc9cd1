"""Screenshots of the desk page (docs/daemon-desk*.png) with headless Chromium.

    PYTHONPATH=. .venv/bin/python docs/make_desk_screenshots.py

Runs the real `verify daemon` with a scanner on a pseudo-terminal, a `page:` keyboard source and
the agency emulator, as tests/desk/test_desk_page_e2e.py does, and saves the page as a desk sees
it: a valid LMA card in Skåne asking child/adult, the answer "Vuxen", an agency outage, and the
same question with `--lang en`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support_daemon import DaemonProcess, PtyScanner, chromium, daemon_env  # noqa: E402
from verify.lookup.emulator import Emulator  # noqa: E402

DOCS = REPO / "docs"


def wait_for(browser, script: str, timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not browser.execute_script(script):
        if time.monotonic() > deadline:
            raise SystemExit(f"the page never showed: {script}")
        time.sleep(0.05)


def shoot(lang: str, shots: list[tuple[str, str | None, str]]) -> None:
    """shots: (file name, token to scan or None, JS condition before the picture)."""
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emu, chromium() as browser:
        tmp_path = Path(tmp)
        scanner = PtyScanner(tmp_path / "scanner")
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--source", "page:", "--http",
             "127.0.0.1:0", "--region", "skane", "--clear-after", "120", "--lang", lang],
            daemon_env(emu.env()), tmp_path)
        try:
            browser.get(daemon.desk_url())
            daemon.wait_device_open(scanner.link)
            wait_for(browser, "return !document.getElementById('connection')"
                              ".classList.contains('down') && document.readyState == 'complete'")
            time.sleep(0.5)
            for name, token, ready in shots:
                if token == "outage":
                    emu.outage = True
                    scanner.scan(emu.url("VALID0002"))
                elif token == "click":
                    browser.execute_script(
                        "document.querySelectorAll('#questions button')[1].click()")
                elif token is not None:
                    scanner.scan(emu.url(token))
                wait_for(browser, ready)
                time.sleep(0.3)
                browser.save_screenshot(str(DOCS / name))
                print("wrote", DOCS / name)
        finally:
            daemon.stop()
            scanner.unplug()


ASKS = "return document.querySelectorAll('#questions button').length == 2"
if __name__ == "__main__":
    shoot("sv", [
        ("daemon-desk-idle.png", None, "return document.getElementById('card').dataset.tone"
                                       " == 'idle'"),
        ("daemon-desk.png", "VALID0001", ASKS),
        ("daemon-desk-answered.png", "click",
         "return document.getElementById('change-answer') !== null"),
        ("daemon-desk-manual.png", "outage",
         "return document.getElementById('card').dataset.tone == 'unknown'"),
    ])
    shoot("en", [("daemon-desk-en.png", "VALID0001", ASKS)])
