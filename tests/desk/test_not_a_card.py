"""Barcodes that are not cards, through a real scanner on a pty and `verify daemon` as a process:
each is `not_a_card` and no lookup is made (a counting listener stands in for the agency)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.support_daemon import DaemonProcess, PtyScanner, daemon_env
from tests.support_faults import framed, script_server

REPO = Path(__file__).resolve().parents[2]


def _events(path: Path, n: int, timeout: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text("utf-8").splitlines() if path.exists() else []
        if len(lines) >= n or time.monotonic() > deadline:
            return [json.loads(line) for line in lines]
        time.sleep(0.05)


def test_scanner_barcodes_that_are_not_lookup_addresses_make_no_lookup(tmp_path: Path) -> None:
    # A profile whose token has a minimum length of 8 (a confirmed profile will name the real
    # length): an address cut inside the token is then no address. ABC12345 and CODE39TEST still
    # fit its token grammar, so only "scanned, not typed" keeps them from the agency.
    profile = tmp_path / "profile.toml"
    text = (REPO / "verify" / "lookup" / "profiles" / "lma.toml").read_text("utf-8")
    fixed = text.replace('"[A-Za-z0-9]{4,64}"', '"[A-Za-z0-9]{8,64}"')
    assert fixed != text
    profile.write_text(fixed, "utf-8")
    scanner = PtyScanner(tmp_path / "scanner")
    events = tmp_path / "events.jsonl"
    with script_server(lambda _request: framed("length", "body", 0)) as agency:
        base = f"http://127.0.0.1:{agency.port}/lmakort/"
        # BASE moves the LMA profile given in VERIFY_PROFILE; ORIGIN the shipped application one.
        env = {"VERIFY_LOOKUP_BASE": base,
               "VERIFY_LOOKUP_ORIGIN": f"http://127.0.0.1:{agency.port}",
               "VERIFY_ALLOWED_HOSTS": "127.0.0.1",
               "VERIFY_ALLOW_LOOPBACK_HTTP": "1", "VERIFY_PROFILE": str(profile)}
        daemon = DaemonProcess(["--source", f"serial:{scanner.link}", "--events", str(events)],
                               daemon_env(env), tmp_path)
        try:
            daemon.wait_device_open(scanner.link)
            not_cards = ["ABC12345", "CODE39TEST", base + "VALI", base[:-6], base]
            for payload in not_cards:
                scanner.scan(payload)
            seen = _events(events, len(not_cards))
            lookups_for_not_cards = agency.connections
            scanner.scan(base + "VALID0001")  # a card: the listener does count lookups
            seen = _events(events, len(not_cards) + 1)
        finally:
            daemon.stop()
            scanner.unplug()
        lookups_in_all = agency.connections
    assert [e["validity"]["basis"] for e in seen[:-1]] == ["not_a_card"] * len(not_cards)
    assert all(e["validity"]["state"] == "unknown" for e in seen[:-1])
    assert lookups_for_not_cards == 0
    assert seen[-1]["validity"]["state"] == "valid"
    assert lookups_in_all == 1


def test_a_typed_token_is_still_looked_up(verify_cli) -> None:
    with script_server(lambda _request: framed("length", "body", 0)) as agency:
        env = {"VERIFY_LOOKUP_ORIGIN": f"http://127.0.0.1:{agency.port}",
               "VERIFY_ALLOWED_HOSTS": "127.0.0.1", "VERIFY_ALLOW_LOOPBACK_HTTP": "1"}
        card = verify_cli("card", "--token", "ABC12345", "--json", env=env)
        lookup = verify_cli("lookup", "ABC12345", "--json", env=env)
        assert agency.connections == 2
    assert json.loads(card.stdout)["validity"]["state"] == "valid"
    assert json.loads(lookup.stdout)["validity"]["state"] == "valid"
