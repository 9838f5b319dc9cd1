"""The condition a routine states ("stadigvarande uppehåller sig i länet") asked on the real desk
page like the age: a scanner on a pseudo-terminal, the agency emulator, `verify daemon` as a
process with a region that asks it, the page in headless Chromium."""

from __future__ import annotations

from pathlib import Path

from tests.desk.test_desk_page_e2e import click, when
from tests.support_daemon import DaemonProcess, PtyScanner, chromium, daemon_env
from verify.lookup.emulator import Emulator

YES, NO = "Ja, stadigvarande i länet", "Nej, tillfälligt i länet"


def test_the_desk_page_asks_whether_the_patient_stays_in_the_county(tmp_path: Path) -> None:
    scanner = PtyScanner(tmp_path / "scanner")
    with Emulator() as emu, chromium() as browser:
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0",
             "--region", "Sörmland", "--clear-after", "60"],
            daemon_env(emu.env()), tmp_path,
        )
        try:
            browser.get(daemon.desk_url())
            daemon.wait_device_open(scanner.link)
            when(browser, lambda s: s["connection"] == "Skärmen har kontakt med tjänsten")
            scanner.scan(emu.url("VALID0001"))
            # Age and the condition are both unknown: both are asked, neither assumed.
            screen, _ = when(browser, lambda s: YES in s["buttons"] and "Vuxen" in s["buttons"])
            assert screen["summary"].startswith("Kan inte avgöras ännu")
            click(browser, "Vuxen")
            screen, _ = when(browser, lambda s: s["buttons"][:2] == [YES, NO])
            assert screen["meanings"][0].startswith("Samma vård som folkbokförda")
            click(browser, YES)
            screen, _ = when(browser, lambda s: YES not in s["buttons"] and s["summary"]
                             and not s["summary"].startswith("Kan inte"))
            assert "Sörmland" in screen["summary"] and "hjälpmedel" in screen["summary"]
            assert "Vuxen" in screen["answered"] and YES in screen["answered"]
        finally:
            assert daemon.stop() == 0
            scanner.close()
