"""The desk page tells the truth when something is wrong, in headless Chromium against a real
daemon, a pty scanner and the emulator: the scanner unplugged is said within 2 s and cleared on
replug; a slow lookup shows "Kontrollerar kortet …" until its answer; the standing banner is the
same idle and after an LMA, UT, application and non-card scan."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support_daemon import DaemonProcess, PtyScanner, chromium, daemon_env, page_seen
from verify.cards.mrz import compose_td1
from verify.lookup.emulator import Emulator

READ = """
const t = (id) => document.getElementById(id).textContent;
const shown = (id) => !document.getElementById(id).hidden;
return {headline: t('headline'), detail: t('detail'), sources: t('sources'),
        alert: shown('source-alert') ? t('source-alert') : null,
        alertShown: document.getElementById('source-alert').offsetHeight > 0,
        tone: document.getElementById('card').dataset.tone, link: t('connection'),
        banner: shown('profile-banner') ? t('profile-banner') : null};
"""
NOT_CONNECTED = "Skannern är inte ansluten — sätt i kabeln"


def screen_when(browser, predicate, timeout: float = 6.0) -> dict:  # type: ignore[no-untyped-def]
    return page_seen(browser, READ, predicate, timeout)[0]


def test_the_page_says_the_scanner_state_checking_and_a_standing_banner(tmp_path: Path) -> None:
    scanner = PtyScanner(tmp_path / "scanner")
    home = tmp_path / "home"
    home.mkdir()
    with Emulator() as emu, chromium() as browser:
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0", "--region", "skane",
             "--clear-after", "1"],
            daemon_env({**emu.env(), "HOME": str(home), "VERIFY_LOOKUP_TIMEOUT": "2"}), tmp_path)
        try:
            browser.get(daemon.desk_url())
            daemon.wait_device_open(scanner.link)
            idle = screen_when(browser, lambda s: "Skannern är ansluten" in s["sources"]
                               and s["banner"] is not None)
            assert idle["link"] == "Skärmen har kontakt med tjänsten"  # what it is: the link
            assert idle["alert"] is None and idle["headline"] == "Väntar på kort …"
            banner = idle["banner"]
            assert "migrationsverket-lma-unconfirmed" in banner
            assert "migrationsverket-application-unconfirmed" in banner

            # Unplugged: said within 2 s, prominently, and the idle screen stops "waiting".
            scanner.unplug()
            unplugged_at = time.monotonic()
            down = screen_when(browser, lambda s: s["alert"] is not None, timeout=2.0)
            assert time.monotonic() - unplugged_at < 2.0
            assert down["alert"] == NOT_CONNECTED and down["alertShown"]
            assert NOT_CONNECTED in down["sources"]
            assert down["headline"] == "Kort kan inte läsas just nu"
            assert down["detail"] == NOT_CONNECTED and down["tone"] == "fault"

            # Replugged: cleared.
            scanner.plug()
            daemon.wait_device_open(scanner.link)
            up = screen_when(browser, lambda s: s["alert"] is None, timeout=5.0)
            assert "Skannern är ansluten" in up["sources"] and up["tone"] == "idle"
            assert up["headline"] == "Väntar på kort …"

            # A trickled lookup: "checking" from the scan until the answer, nothing else between.
            sent = scanner.scan(emu.url("TRICKLE0001"))
            first = screen_when(browser, lambda s: s["tone"] != "idle", timeout=1.0)
            assert first["headline"] == "Kontrollerar kortet …", first
            assert time.monotonic() - sent < 1.0
            seen = []
            while True:
                screen = browser.execute_script(READ)
                if screen["headline"] != "Kontrollerar kortet …":
                    break
                seen.append(screen)
                assert time.monotonic() - sent < 6.0, "no answer after the lookup's deadline"
                time.sleep(0.05)
            assert time.monotonic() - sent > 1.5  # it really was checking all that time
            assert screen["headline"] == "KONTROLLERA MANUELLT", screen
            assert all(s["tone"] == "checking" and s["banner"] == banner for s in seen)

            # The banner stands: identical idle and after every kind of scan.
            zone = compose_td1(expiry="300304", document_number="UA1234567", birth="850315",
                               surname="Shevchenko", given_names="Olena", sex="F")
            scans = {"GILTIGT": emu.url("VALID0001"),
                     "ut": zone.replace("\n", ""),
                     "application": emu.application_url("VALID0002"),
                     "INTE ETT KORT": "https://shop.example/<b>hej</b>"}
            for expected, payload in scans.items():
                screen_when(browser, lambda s: s["tone"] == "idle", timeout=5.0)
                scanner.scan(payload)
                shown = screen_when(browser, lambda s: s["tone"] not in ("idle", "checking"))
                if expected in ("GILTIGT", "INTE ETT KORT"):
                    assert shown["headline"] == expected, shown
                assert shown["banner"] == banner, (expected, shown)
            after = screen_when(browser, lambda s: s["tone"] == "idle", timeout=5.0)
            assert after["banner"] == banner
        finally:
            daemon.stop()
            scanner.close()
