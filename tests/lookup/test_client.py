"""The lookup against the agency emulator on loopback: real HTTP, real sockets."""

from __future__ import annotations

import json
import logging
import time

import pytest

from verify.cards.reference import from_token
from verify.lookup.client import LookupClient
from verify.lookup.emulator import Emulator

DEADLINE = 1.0


@pytest.fixture(scope="module")
def emu():
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu):
    settings = emu.settings(timeout=DEADLINE)
    with LookupClient(settings) as c:
        yield c


@pytest.mark.parametrize(
    "token, state, right_to_work, code",
    [
        ("VALID0001", "valid", True, 0),
        ("NOWORK0001", "valid", False, 0),
        ("NOINFO001", "not_valid", None, 1),
    ],
)
def test_three_states_with_exit_codes(emu, verify_cli, token, state, right_to_work, code) -> None:
    result = verify_cli("lookup", emu.url(token), "--json", env=emu.env())
    assert result.returncode == code, result.stderr
    status = json.loads(result.stdout)
    assert status["validity"]["state"] == state
    assert status["validity"]["right_to_work"] is right_to_work
    assert status["document"]["lookup_token"] == token


FAULTS = [
    "SLOW01",
    "TRICKLE01",
    "TRICKLEHEAD01",
    "ERROR01",
    "MAINT01",
    "CONSENT01",
    "LAYOUT01",
    "REDIRECT01",
    "HUGE01",
    "HUGESTREAM01",
    "JSON01",
]


@pytest.mark.parametrize("token", FAULTS)
def test_every_fault_is_unknown_within_the_deadline(client, token) -> None:
    started = time.monotonic()
    validity = client.lookup(from_token(token, client.settings))
    elapsed = time.monotonic() - started
    assert validity.state == "unknown", validity.detail
    assert validity.manual_check_url == client.settings.base + token
    assert elapsed < DEADLINE + 1.0


@pytest.mark.parametrize("token", ["SLOW01", "TRICKLE01", "ERROR01", "REDIRECT01", "HUGESTREAM01"])
def test_fault_through_the_cli_exits_3_and_prints_the_manual_address(
    emu, verify_cli, token
) -> None:
    env = {**emu.env(), "VERIFY_LOOKUP_TIMEOUT": str(DEADLINE)}
    started = time.monotonic()
    result = verify_cli("card", "--token", token, "--lang", "en", env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 3, result.stderr
    assert "CANNOT BE DETERMINED" in result.stdout
    assert emu.url(token) in result.stdout  # the manual check address
    assert elapsed < DEADLINE + 1.0 + 3.0  # + interpreter start-up


def test_outage_is_unknown(emu, client) -> None:
    emu.outage = True
    try:
        assert client.lookup(from_token("VALID0001", client.settings)).state == "unknown"
    finally:
        emu.outage = False


def test_unreachable_service_is_unknown(verify_cli) -> None:
    env = {
        "VERIFY_LOOKUP_ORIGIN": "http://127.0.0.1:9",
        "VERIFY_ALLOWED_HOSTS": "127.0.0.1",
        "VERIFY_ALLOW_LOOPBACK_HTTP": "1",
    }
    result = verify_cli("card", "--token", "VALID0001", "--json", env=env)
    assert result.returncode == 3
    assert json.loads(result.stdout)["validity"]["manual_check_url"].endswith("/VALID0001")


def test_allowed_redirect_is_followed(client) -> None:
    assert client.lookup(from_token("REDIRECTOK1", client.settings)).state == "valid"


def test_refused_redirect_opens_no_connection(emu, client) -> None:
    # The redirect points at a loopback host that is not allowed: nothing may connect to it.
    with Emulator() as trap:
        emu.redirect_target = f"http://localhost:{trap.port}/lmakort/VALID0001"
        try:
            validity = client.lookup(from_token("REDIRECT02", client.settings))
        finally:
            emu.redirect_target = None
        assert validity.state == "unknown"
        assert "redirect" in validity.detail
        assert trap.connections == 0


def test_consecutive_lookups_reuse_one_connection(emu, client) -> None:
    client.lookup(from_token("VALID0001", client.settings))
    before = emu.connections
    for _ in range(20):
        assert client.lookup(from_token("VALID0001", client.settings)).state == "valid"
    assert emu.connections == before


def test_no_cookies_are_kept(emu, client) -> None:
    client.lookup(from_token("COOKIE01", client.settings))
    client.lookup(from_token("VALID0001", client.settings))
    assert "Cookie" not in emu.last_headers
    assert len(client.session.cookies) == 0


def test_only_the_lookup_is_sent(emu, client) -> None:
    client.lookup(from_token("VALID0001", client.settings))
    sent = {k.lower() for k in emu.last_headers}
    assert sent <= {"host", "user-agent", "accept", "accept-encoding", "connection"}


def test_the_lookup_logs_no_token(client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    client.lookup(from_token("VALIDSECRET99", client.settings))
    client.lookup(from_token("ERRORSECRET99", client.settings))
    assert "SECRET99" not in caplog.text
