"""The desk with a chip reader, end to end: a desk MRZ reader on a pseudo-terminal, `verify
daemon --chip-reader pcsc:` as a real process, the real pcscd with an emulated UT card on the
vpcd reader, and the desk screen in headless Chromium. Then: nothing from the chip left behind.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.desk.test_page_e2e import GREEN, RED, screen_when
from tests.support_chip import VirtualCard, chip_for, pcscd_service
from tests.support_chip_pki import make_card, make_csca, make_signer, ut_zone
from tests.support_daemon import DaemonProcess, PtyScanner, chromium, daemon_env

__all__ = ["pcscd_service"]


def _mrz_wire(zone: str) -> bytes:
    return b"".join(line.encode() + b"\r" for line in zone.split("\n"))


def test_mrz_scan_then_the_card_on_the_reader_shows_the_chip_on_the_desk(
    tmp_path: Path, pcscd_service
) -> None:
    csca = make_csca()
    signer = make_signer(csca)
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "se.pem").write_bytes(csca.pem)
    genuine = make_card(signer, zone=ut_zone(number="GEN000017", surname="KORTSSON",
                                             given="EVA"))
    forged_zone = ut_zone(number="ALT000042", surname="FALSKSSON", given="OLA")
    altered = make_card(signer, zone=forged_zone,
                        alter_dg1_after_signing=ut_zone(number="ALT000042", surname="FALSKSSON",
                                                        given="OLA", expiry="351231"))
    scanner = PtyScanner(tmp_path / "scanner")
    home = tmp_path / "home"
    home.mkdir()
    events = tmp_path / "events.jsonl"
    env = daemon_env({**pcscd_service.env, "HOME": str(home), "TMPDIR": str(tmp_path)})
    with chromium() as browser:
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}?mode=mrz", "--http", "127.0.0.1:0",
             "--region", "skane", "--chip-reader", "pcsc:", "--trust-store", str(trust),
             "--events", str(events), "--verbose", "--clear-after", "60"],
            env, tmp_path,
        )
        try:
            browser.get(daemon.desk_url())
            daemon.wait_device_open(scanner.link)
            screen_when(browser, lambda s: s["connection"] == "Skärmen har kontakt med tjänsten")

            # The zone is scanned first; the card is put on the reader a moment later.
            scanner.send(_mrz_wire(genuine.zone))
            time.sleep(0.5)
            with VirtualCard(pcscd_service.port, chip_for(genuine)) as card:
                screen, _ = screen_when(browser, lambda s: "Chip: ÄKTA" in s["lines"],
                                        timeout=20)
            assert screen["headline"] == "GILTIGT" and screen["colour"] == GREEN
            assert bytes.fromhex("0102") not in card.chip.reads  # never the face

            scanner.send(_mrz_wire(altered.zone))
            with VirtualCard(pcscd_service.port, chip_for(altered)):
                screen, _ = screen_when(
                    browser, lambda s: "kortets uppgifter stämmer inte med chipet" in s["lines"],
                    timeout=20)
            assert screen["colour"] == RED  # altered is red, whatever the expiry says
            daemon.wait_log("event 2:")
        finally:
            code = daemon.stop()
            scanner.unplug()
    assert code == 0
    recorded = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["authenticity"]["state"] for e in recorded] == ["verified", "altered"]
    # Nothing the chip holds (zone, number, names, birth date) reached a file or a log line.
    secrets = [*genuine.zone.split("\n"), *altered.zone.split("\n"),
               *ut_zone(number="ALT000042", expiry="351231").split("\n"),
               "GEN000017", "ALT000042", "KORTSSON", "FALSKSSON", "900115", "1990-01-15"]
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "trust" not in p.parts]
    texts = {str(p): p.read_text("utf-8", "replace") for p in written}
    texts["stderr"] = "\n".join(daemon.log)
    texts["stdout"] = "\n".join(daemon.out)
    for name, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} found in {name}"
