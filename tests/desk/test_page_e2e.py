"""End to end: a scanner on a pseudo-terminal, the agency emulator, `verify daemon` as a real
process, and the desk screen in headless Chromium. Then: nothing identifying left behind."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.support_daemon import DaemonProcess, PtyScanner, chromium, daemon_env, page_seen
from verify.desk.audit import pseudonym
from verify.lookup.emulator import Emulator

GREEN, RED, AMBER = "rgb(27, 122, 47)", "rgb(179, 22, 27)", "rgb(240, 165, 0)"
READ_SCREEN = """
const t = (id) => document.getElementById(id).textContent;
const card = document.getElementById('card');
return {headline: t('headline'), lines: t('lines'), steps: t('steps'), detail: t('detail'),
        manual: document.getElementById('manual').hidden ? null : t('manual-link'),
        connection: t('connection'), tone: card.dataset.tone,
        colour: getComputedStyle(card).backgroundColor};
"""


def screen_when(browser, predicate, timeout: float = 5.0) -> tuple[dict, float]:  # type: ignore[no-untyped-def]
    return page_seen(browser, READ_SCREEN, predicate, timeout)


def test_a_scan_appears_on_the_desk_screen_within_a_second_in_the_right_colour_and_words(
    tmp_path: Path,
) -> None:
    scanner = PtyScanner(tmp_path / "scanner")
    with Emulator() as emu, chromium() as browser:
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0", "--region", "skane",
             "--clear-after", "3", "--events", str(tmp_path / "events.jsonl")],
            daemon_env(emu.env()), tmp_path,
        )
        try:
            browser.get(daemon.desk_url())
            daemon.wait_device_open(scanner.link)  # the scanner is read from now on
            screen_when(browser, lambda s: s["connection"] == "Skärmen har kontakt med tjänsten")
            assert browser.execute_script(READ_SCREEN)["headline"] == "Väntar på kort …"

            cases = [
                ("VALID0001", "GILTIGT", GREEN, "Rätt att arbeta: ja"),
                ("NOWORK0001", "GILTIGT", GREEN, "Rätt att arbeta: nej"),
                ("NOINFO0001", "EJ GILTIGT", RED, ""),
            ]
            for token, headline, colour, line in cases:
                sent = scanner.scan(emu.url(token))
                screen, seen = screen_when(browser, lambda s, h=headline, c=colour, ln=line: (
                    s["headline"] == h and s["colour"] == c and s["lines"] == ln))
                assert seen - sent < 1.0, f"{token} took {seen - sent:.3f} s to show"
                assert screen["steps"], "the decision's first steps are on the screen"

            emu.outage = True
            sent = scanner.scan(emu.url("VALID0002"))
            screen, seen = screen_when(browser, lambda s: s["headline"] == "KONTROLLERA MANUELLT")
            assert seen - sent < 1.0
            assert screen["colour"] == AMBER
            assert screen["manual"] == emu.url("VALID0002")  # the desk can check by hand
            emu.outage = False

            sent = scanner.scan("https://shop.example/offer?id=42")
            screen, seen = screen_when(browser, lambda s: s["headline"] == "INTE ETT KORT")
            assert seen - sent < 1.0 and screen["colour"] == AMBER

            # It clears itself so the next patient does not see it.
            screen, cleared = screen_when(browser, lambda s: s["tone"] == "idle", timeout=6)
            assert 2.5 < cleared - seen < 4.5
            assert screen["headline"] == "Väntar på kort …"

            # The desk can see when the service is gone.
            code = daemon.stop()
            screen_when(browser, lambda s: s["connection"].startswith("Skärmen har ingen kontakt"))
        finally:
            code = daemon.stop()
            scanner.unplug()
    assert code == 0
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["validity"]["state"] for e in events] == [
        "valid", "valid", "not_valid", "unknown", "unknown"]
    assert events[-1]["validity"]["basis"] == "not_a_card"


SECRETS_TOKENS = ["VALID0001abc", "NOWORK77aa", "NOINFO0001zz", "ERROR0001q", "MAINT0001x",
                  "REDIRECT0001", "LAYOUT00001"]
LMA = "12-345678"


def test_no_file_the_daemon_writes_and_no_log_line_holds_a_token_or_lma_number(
    tmp_path: Path,
) -> None:
    """Every kind of scan, debug logging, an audit log, a reload, an outage: then grep it all."""
    key = "audit-key-0123456789abcdef"
    config = tmp_path / "daemon.toml"
    config.write_text('region = "skane"\nclear_after = 5\n')
    scanner = PtyScanner(tmp_path / "scanner")
    home = tmp_path / "home"
    home.mkdir()
    with Emulator() as emu:
        env = daemon_env({**emu.env(), "VERIFY_AUDIT_KEY": key, "HOME": str(home),
                          "TMPDIR": str(tmp_path)})
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0", "--verbose",
             "--config", str(config), "--events", str(tmp_path / "events.jsonl"),
             "--audit-log", str(tmp_path / "audit.jsonl")],
            env, tmp_path,
        )
        try:
            daemon.desk_url()
            daemon.wait_device_open(scanner.link)
            payloads = [emu.url(t) for t in SECRETS_TOKENS]
            payloads += [LMA + "/1", f"LMA {LMA}", "12345678", f"garbage {SECRETS_TOKENS[0]}"]
            for payload in payloads:
                scanner.scan(payload)
            daemon.wait_log("event 11:")
            emu.outage = True
            scanner.scan(emu.url("VALID0009outage"))
            daemon.wait_log("event 12:")
            emu.outage = False
            daemon.signal(signal.SIGHUP)
            daemon.wait_log("reloaded")
        finally:
            code = daemon.stop()
            scanner.unplug()
    assert code == 0
    secrets = [*SECRETS_TOKENS, "VALID0009outage", LMA, LMA.replace("-", "")]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"events.jsonl", "audit.jsonl"}
    for name in ("events.jsonl", "audit.jsonl"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600  # readable by the service only
    texts = {str(p): p.read_text("utf-8", "replace") for p in written if p.name != "daemon.toml"}
    texts["stderr"] = "\n".join(daemon.log)
    texts["stdout"] = "\n".join(daemon.out)
    for name, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"{secret} found in {name}"
    events = (tmp_path / "events.jsonl").read_text().splitlines()
    assert len(events) == 12
    audit = [json.loads(x) for x in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert audit[0]["subjects"]["lookup_token"] == pseudonym(key.encode(), "token",
                                                             SECRETS_TOKENS[0])
    assert any("event 1:" in line for line in daemon.log)  # debug logging was on
