"""The lookup deadline under hostile servers: every framing × trickle phase, a proxy that
trickles its CONNECT reply, TLS handshakes that stall. Real sockets on loopback, no mocks.

Each case must end within the deadline + 1 s as `unknown` (exit 3 through the command line).
The in-process cases run concurrently so the suite costs about one deadline.
"""

from __future__ import annotations

import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
from typer.testing import CliRunner

from tests.support_faults import ScriptServer, Step, framed, parse_bomb_page, script_server
from verify.cards.reference import from_token
from verify.cli import assemble
from verify.lookup.client import LookupClient
from verify.lookup.profile import load_profile
from verify.lookup.settings import Settings
from verify.model import Validity

DEADLINE = 1.0
TRICKLE = 0.1  # seconds between bytes: every answer would take far longer than the deadline
TOKEN = "TOKEN1234"

FRAMINGS = ["length", "chunked", "close11", "close10"]
PHASES = ["head", "body", "stall"]


def _tls_stall(_request: bytes) -> list[Step]:
    return []  # reads the ClientHello, answers nothing, keeps the connection open


def _tls_trickle(_request: bytes) -> list[Step]:
    # A TLS record header announcing 16 KiB of handshake, then one byte at a time.
    return [(b"\x16\x03\x03\x40\x00", 0), (b"\x02" * 16384, TRICKLE)]


def _connect_trickle(_request: bytes) -> list[Step]:
    return [(b"HTTP/1.1 200 Connection established\r\nX-Pad: " + b"." * 200 + b"\r\n\r\n", TRICKLE)]


def _connect_then_silence(_request: bytes) -> list[Step]:
    # The proxy says yes at once, then the tunnel carries nothing: a TLS stall behind a proxy.
    return [(b"HTTP/1.1 200 Connection established\r\n\r\n", 0)]


def _settings(base: str) -> Settings:
    return Settings(
        profile=load_profile(),
        base=base,
        allowed_hosts=frozenset({"127.0.0.1"}),
        allow_loopback_http=True,
        timeout=DEADLINE,
    )


def _env(base: str, proxy: str | None = None) -> dict[str, str | None]:
    return {
        # Moves every shipped profile (LMA and application card) to the test server.
        "VERIFY_LOOKUP_ORIGIN": base.removesuffix("/lmakort/"),
        "VERIFY_ALLOWED_HOSTS": "127.0.0.1",
        "VERIFY_ALLOW_LOOPBACK_HTTP": "1",
        "VERIFY_LOOKUP_TIMEOUT": str(DEADLINE),
        "VERIFY_CONFIG": None,
        "HTTPS_PROXY": proxy,
        "https_proxy": proxy,
        "HTTP_PROXY": None,
        "http_proxy": None,
        "ALL_PROXY": None,
        "all_proxy": None,
        "NO_PROXY": None,
        "no_proxy": None,
    }


def _case(stack: ExitStack, name: str) -> tuple[str, dict[str, str | None]]:
    """Start the servers one case needs; its lookup base and environment."""
    if name.startswith("proxy-"):
        script = _connect_trickle if name == "proxy-connect-trickle" else _connect_then_silence
        proxy = stack.enter_context(script_server(script))
        base = "https://127.0.0.1:9/lmakort/"  # never reached: the proxy is asked to tunnel
        return base, _env(base, proxy=f"http://127.0.0.1:{proxy.port}")
    if name.startswith("tls-"):
        script = _tls_stall if name == "tls-stall" else _tls_trickle
        server: ScriptServer = stack.enter_context(script_server(script))
        base = f"https://127.0.0.1:{server.port}/lmakort/"
        return base, _env(base)
    framing, phase = name.split("-")

    def play(_request: bytes) -> list[Step]:
        return framed(framing, phase, TRICKLE)

    server = stack.enter_context(script_server(play))
    base = f"http://127.0.0.1:{server.port}/lmakort/"
    return base, _env(base)


CASES = [f"{f}-{p}" for f in FRAMINGS for p in PHASES] + [
    "proxy-connect-trickle",
    "proxy-tls-stall",
    "tls-stall",
    "tls-trickle",
]


def test_every_case_is_unknown_within_the_deadline_concurrently(monkeypatch) -> None:
    """All cases at once, in process: each lookup ends within deadline + 1 s as unknown."""

    def run(name: str, base: str, env: dict[str, str | None]) -> tuple[str, str, float]:
        settings = _settings(base)
        started = time.monotonic()
        with LookupClient(settings) as client:
            if env.get("HTTPS_PROXY"):
                client.proxies = {"https": str(env["HTTPS_PROXY"])}
            validity = client.lookup(from_token(TOKEN, settings))
        return name, validity.state, time.monotonic() - started

    with ExitStack() as stack:
        prepared = [(name, *_case(stack, name)) for name in CASES]
        with ThreadPoolExecutor(len(prepared)) as pool:
            results = list(pool.map(lambda args: run(*args), prepared))
    slow = [(name, round(t, 2)) for name, _, t in results if t >= DEADLINE + 1.0]
    wrong = [(name, state) for name, state, _ in results if state != "unknown"]
    assert not slow, slow
    assert not wrong, wrong


@pytest.mark.parametrize("name", CASES)
def test_lookup_command_exits_3_within_the_deadline(name: str) -> None:
    """`verify lookup TOKEN --json` against each case: unknown, exit 3, the manual address."""
    with ExitStack() as stack:
        base, env = _case(stack, name)
        started = time.monotonic()
        result = CliRunner().invoke(assemble(), ["lookup", TOKEN, "--json"], env=env)
        elapsed = time.monotonic() - started
    assert result.exit_code == 3, result.output
    status = json.loads(result.stdout)
    assert status["validity"]["state"] == "unknown"
    assert status["validity"]["manual_check_url"] == base + TOKEN
    assert elapsed < DEADLINE + 1.0, elapsed


def test_close_delimited_trickle_as_the_issue_reported_it(verify_cli) -> None:
    """The reported case in a real process: no length, one byte every 0.5 s, deadline 2 s."""

    def play(_request: bytes) -> list[Step]:
        return framed("close11", "body", 0.5)

    with script_server(play) as server:
        base = f"http://127.0.0.1:{server.port}/lmakort/"
        env = {k: v for k, v in _env(base).items() if v is not None}
        env["VERIFY_LOOKUP_TIMEOUT"] = "2"
        started = time.monotonic()
        result = verify_cli("lookup", TOKEN, "--json", env=env)
        elapsed = time.monotonic() - started
    assert result.returncode == 3, result.stderr
    assert json.loads(result.stdout)["validity"]["state"] == "unknown"
    assert elapsed < 2 + 1.0 + 3.0  # + interpreter start-up


def _bomb_lookup(body: bytes, deadline: float, max_body: int) -> tuple[Validity, float, str]:
    """One lookup of a page served at once; the profile's cap raised to let the page in."""

    def play(_request: bytes) -> list[Step]:
        return framed("length", "body", 0, body)

    with script_server(play) as server:
        base = f"http://127.0.0.1:{server.port}/lmakort/"
        profile = dataclasses.replace(load_profile(), max_body_bytes=max_body)
        settings = dataclasses.replace(_settings(base), profile=profile, timeout=deadline)
        started = time.monotonic()
        with LookupClient(settings) as client:
            validity = client.lookup(from_token(TOKEN, settings))
        return validity, time.monotonic() - started, base


def test_the_red_teams_parse_bomb_is_read_within_the_deadline() -> None:
    """257 KB of 43,000 `<b>` and 32,000 stray `</i>` after the valid answer: once 30-44 s of
    parsing against a 2 s deadline; now read in a fraction of it."""
    body = parse_bomb_page()
    validity, elapsed, _ = _bomb_lookup(body, 2.0, 256 * 1024)
    assert len(body) > 256_000
    assert elapsed < 2.0 + 1.0, elapsed
    assert validity.state in ("valid", "unknown")


def test_a_page_too_slow_to_read_is_unknown_at_the_deadline_with_the_manual_address() -> None:
    """The parse counts inside the lookup's one deadline: a page that would take seconds to read
    ends `unknown` (lookup_timeout) with the address to check by hand, at deadline + ms."""
    body = parse_bomb_page(opens=700_000, stray_ends=0)  # 2 MB of tags: seconds to read
    validity, elapsed, base = _bomb_lookup(body, 0.5, 4 * 1024 * 1024)
    assert validity.state == "unknown"
    assert validity.reason == "lookup_timeout"
    assert validity.manual_check_url == base + TOKEN
    assert elapsed < 0.5 + 1.0, elapsed
