"""The application card at the desk: the daemon names the card kind, the page keeps a standing
banner while the lookup profiles are unconfirmed, and the richer page's holder (name, birth date,
case number) reaches no output, event, log line, audit entry or file, at any verbosity."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import jsonschema

from tests.conftest import REPO, run_verify
from tests.support_daemon import DaemonProcess, PtyScanner, chromium, daemon_env, page_seen
from verify.lookup.emulator import HOLDER, Emulator

SCHEMA = json.loads((REPO / "docs" / "status-schema.json").read_text("utf-8"))
READ = """
const t = (id) => document.getElementById(id).textContent;
const banner = document.getElementById('profile-banner');
return {document: t('document'), headline: t('headline'), lines: t('lines'),
        tone: document.getElementById('card').dataset.tone,
        banner: banner.hidden ? null : banner.textContent,
        bannerShown: banner.offsetHeight > 0};
"""


def screen_when(browser, predicate, timeout: float = 6.0) -> dict:  # type: ignore[no-untyped-def]
    return page_seen(browser, READ, predicate, timeout)[0]


def test_the_desk_names_the_card_kind_and_keeps_the_unconfirmed_banner(tmp_path: Path) -> None:
    scanner = PtyScanner(tmp_path / "scanner")
    home = tmp_path / "home"
    home.mkdir()
    with Emulator() as emu, chromium() as browser:
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0", "--region", "skane",
             "--clear-after", "2", "--events", str(tmp_path / "events.jsonl")],
            daemon_env({**emu.env(), "HOME": str(home)}), tmp_path,
        )
        try:
            browser.get(daemon.desk_url())
            daemon.wait_device_open(scanner.link)
            # The screen says "no scanner" until the daemon's next tick reports the one it
            # has just opened; then it waits for a card, the banner standing.
            idle = screen_when(browser, lambda s: s["banner"] is not None and s["tone"] == "idle")
            assert idle["bannerShown"]  # standing, before any scan
            assert "Obekräftad uppslagsprofil" in idle["banner"]
            assert "migrationsverket-application-unconfirmed" in idle["banner"]

            scanner.scan(emu.application_url("NOWORK0001"))
            shown = screen_when(browser, lambda s: s["headline"] == "GILTIGT")
            assert shown["document"] == "Ansökningskort"
            assert shown["lines"] == "Rätt att arbeta: nej"
            assert shown["banner"] and shown["bannerShown"]
            for secret in HOLDER.values():
                assert secret.casefold() not in json.dumps(shown).casefold()

            scanner.scan(emu.url("VALID0001"))
            shown = screen_when(browser, lambda s: s["document"] == "LMA-kort")
            assert shown["headline"] == "GILTIGT"
            cleared = screen_when(browser, lambda s: s["tone"] == "idle")
            assert cleared["banner"] and cleared["bannerShown"]  # still there after clearing
        finally:
            code = daemon.stop()
            scanner.unplug()
    assert code == 0
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    for event in events:
        jsonschema.validate({k: event[k] for k in SCHEMA["required"]}, SCHEMA)
    assert [e["document"]["kind"] for e in events] == ["application", "lma"]
    assert events[0]["validity"]["profile"] == {
        "name": "migrationsverket-application-unconfirmed", "confirmed": False}


def _secrets() -> list[str]:
    """The holder as the page shows it, and in the other shapes it could be written in."""
    name, birth, case = HOLDER["name"], HOLDER["birth_date"], HOLDER["case_number"]
    out = [name, *re.split(r"[\s-]", name), birth, birth.replace("-", ""), birth[2:].replace(
        "-", ""), case, case.replace("-", ""), case.split("-")[-1]]
    return [s.casefold() for s in out if len(s) >= 4]


def test_the_holder_on_the_application_page_reaches_nothing_at_any_verbosity(
    tmp_path: Path,
) -> None:
    key = "audit-key-0123456789abcdef"
    scanner = PtyScanner(tmp_path / "scanner")
    home = tmp_path / "home"
    home.mkdir()
    tokens = ["VALID0001abc", "NOWORK0001abc", "NOINFO0001abc", "LAYOUT0001abc", "MAINT0001ab"]
    outputs: dict[str, str] = {}
    with Emulator() as emu:
        env = {**emu.env(), "HOME": str(home), "TMPDIR": str(tmp_path), "VERIFY_AUDIT_KEY": key}
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0", "--verbose",
             "--region", "skane", "--events", str(tmp_path / "events.jsonl"),
             "--audit-log", str(tmp_path / "audit.jsonl")],
            daemon_env(env), tmp_path,
        )
        try:
            daemon.desk_url()
            daemon.wait_device_open(scanner.link)
            for token in tokens:
                scanner.scan(emu.application_url(token))
            daemon.wait_log(f"event {len(tokens)}:")
        finally:
            code = daemon.stop()
            scanner.unplug()
        with urllib.request.urlopen(emu.application_url("VALID0001abc"), timeout=5) as page:
            served = page.read().decode("utf-8")
        for value in HOLDER.values():  # the page really carries the holder
            assert value in served
        outputs["daemon stderr"] = "\n".join(daemon.log)
        outputs["daemon stdout"] = "\n".join(daemon.out)
        url = emu.application_url("NOWORK0001abc")
        runs = [
            ("card", "--url", url, "--json", "--verbose", "--region", "skane"),
            ("card", "--url", url, "--verbose", "--region", "skane"),
            ("card", "--url", url, "--lang", "en", "-v"),
            ("card", "--token", "VALID0001abc", "--card", "application", "--json"),
            ("lookup", url, "--json"),
            ("lookup", url),
            ("parse", url, "--json"),
            ("profile", "check", url),
            ("profile", "check", url, "--lang", "en"),
        ]
        for args in runs:
            r = run_verify(*args, env=env)
            assert r.returncode in (0, 1, 3), (args, r.stderr)
            outputs[" ".join(args[:2]) + " stdout"] = r.stdout
            outputs[" ".join(args[:2]) + " stderr"] = r.stderr
    assert code == 0
    assert any("event 1:" in line for line in daemon.log)  # debug logging was on
    for path in tmp_path.rglob("*"):
        if path.is_file():
            outputs[str(path)] = path.read_text("utf-8", "replace")
    assert {"events.jsonl", "audit.jsonl"} <= {Path(p).name for p in outputs}
    for where, text in outputs.items():
        folded = text.casefold()
        for secret in _secrets():
            assert secret not in folded, f"{secret!r} found in {where}"
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["validity"]["state"] for e in events] == [
        "valid", "valid", "not_valid", "unknown", "unknown"]
