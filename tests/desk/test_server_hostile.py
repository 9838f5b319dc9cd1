"""The desk's web server against a hostile client or a foreign page in the desk's own browser,
on real loopback sockets: bodies announced and never sent, deeply nested JSON, foreign event
streams, streams whose client went away, login attempts sent at once or from a foreign page."""

from __future__ import annotations

import html
import http.client
import json
import resource
import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support_daemon import DaemonProcess, PtyScanner, daemon_env
from verify.desk import connections
from verify.desk import server as desk_server
from verify.desk.config import build_config
from verify.desk.server import DeskServer, LoginLimit, client_key
from verify.desk.state import DeskState
from verify.lookup.emulator import Emulator

TOKEN = "desk-token-0123456789"


@pytest.fixture
def desk() -> Iterator[DeskState]:
    config = build_config({"sources": ["feed:x"], "clear_after": 2})
    state = DeskState(lambda: config)
    yield state
    state.close()


@pytest.fixture
def server(desk: DeskState) -> Iterator[DeskServer]:
    srv = DeskServer(("127.0.0.1", 0), desk)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def guarded(desk: DeskState) -> Iterator[DeskServer]:
    srv = DeskServer(("127.0.0.1", 0), desk, token=TOKEN)
    srv.start()
    yield srv
    srv.stop()


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None, source: str = "127.0.0.1",
            ) -> tuple[int, dict[str, str], bytes, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                      source_address=(source, 0))
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data, time.monotonic() - started


def own(port: int) -> dict[str, str]:
    """What Chromium sends with a request from the desk's own page."""
    return {"Host": f"127.0.0.1:{port}", "Origin": f"http://127.0.0.1:{port}",
            "Sec-Fetch-Site": "same-origin"}


FOREIGN = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}


def slow_bodies(port: int, n: int, path: str = "/login") -> list[socket.socket]:
    """Connections that announce a body and never send it."""
    held = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: 4000\r\n\r\n".encode())
        held.append(sock)
    return held


# -- slow bodies ---------------------------------------------------------------------------------


def test_bodies_announced_and_never_sent_do_not_take_the_workers(server: DeskServer) -> None:
    held = slow_bodies(server.port, 100) + slow_bodies(server.port, 100, "/api/answer")
    try:
        time.sleep(0.3)  # what a worker would have taken by now, it has
        for _ in range(5):
            status, _, _, took = request(server.port, "GET", "/", headers=own(server.port))
            assert status == 200 and took < 1.0, took
            status, _, _, took = request(server.port, "GET", "/healthz")
            assert status == 200 and took < 1.0, took
    finally:
        for sock in held:
            sock.close()


def test_a_body_that_comes_slowly_but_whole_is_still_taken(guarded: DeskServer) -> None:
    body = f"token={TOKEN}".encode()
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=10) as sock:
        sock.sendall(f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{guarded.port}\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode())
        for i in range(0, len(body), 5):
            time.sleep(0.05)
            sock.sendall(body[i:i + 5])
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.0 303 ") and b"Set-Cookie: verify_desk=" in answer


def test_a_body_cut_short_is_closed_and_no_worker_waits(guarded: DeskServer, monkeypatch) -> None:
    monkeypatch.setattr(connections, "HEAD_TIMEOUT", 1.0)
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=10) as sock:
        sock.sendall(f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{guarded.port}\r\n"
                     "Content-Length: 40\r\n\r\ntoken=abc".encode())
        started = time.monotonic()
        assert sock.recv(65536) == b""  # closed when its time ran out; no worker waited
        assert time.monotonic() - started < 3.0


# -- deeply nested JSON --------------------------------------------------------------------------


def page_post(srv: DeskServer, path: str, body: bytes) -> tuple[int, bytes]:
    headers = {**own(srv.port), "Content-Type": "application/json",
               "X-Verify-Page": srv.page_tokens.issue()}
    status, _, data, _ = request(srv.port, "POST", path, body, headers)
    return status, data


@pytest.mark.parametrize("opener, closer", [("[", "]"), ('{"a":', "}")])
def test_deeply_nested_json_gets_a_400(server: DeskServer, opener: str, closer: str,
                                       capfd) -> None:
    depth = connections.MAX_BODY_BYTES // (len(opener) + len(closer)) - 1
    body = (opener * depth + "1" + closer * depth).encode()
    assert len(body) <= desk_server.MAX_JSON_BYTES
    status, data = page_post(server, "/api/answer", body)
    assert status == 400 and json.loads(data) == {"error": "not a JSON object"}
    assert "Traceback" not in capfd.readouterr().err


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(0, 8000), kind=st.sampled_from(["[", "{\"k\":", "[{\"k\":"]))
def test_any_nesting_gets_an_answer(server: DeskServer, depth: int, kind: str) -> None:
    body = (kind * depth)[: desk_server.MAX_JSON_BYTES].encode() or b"["
    status, _ = page_post(server, "/api/answer", body)
    assert status == 400


def test_a_route_that_fails_still_answers(server: DeskServer, monkeypatch, capfd) -> None:
    def broken() -> None:
        raise RuntimeError("a bug in a route")

    monkeypatch.setattr(server.desk, "latest_record", broken)
    status, headers, _, _ = request(server.port, "GET", "/api/status/latest",
                                    headers=own(server.port))
    assert status == 500 and headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "Traceback" not in capfd.readouterr().err


# -- the event stream ----------------------------------------------------------------------------


def open_stream(port: int, headers: dict[str, str]) -> tuple[socket.socket, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    lines = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"127.0.0.1:{port}", **headers}.items())
    sock.sendall(f"GET /api/events HTTP/1.1\r\n{lines}\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return sock, head


@pytest.mark.parametrize("headers", [
    FOREIGN,
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # another port of this machine
    {"Origin": "http://127.0.0.1:1"},
    {"Origin": "null"},
])
def test_a_foreign_page_cannot_open_the_event_stream(server: DeskServer, headers) -> None:
    sock, head = open_stream(server.port, headers)
    sock.close()
    assert head.startswith(b"HTTP/1.0 403 "), head[:80]


def test_a_hundred_foreign_streams_leave_every_slot_to_the_desk(server: DeskServer) -> None:
    foreign = [open_stream(server.port, FOREIGN) for _ in range(100)]
    for sock, head in foreign:
        sock.close()
        assert head.startswith(b"HTTP/1.0 403 ")
    mine = [open_stream(server.port, own(server.port)) for _ in range(desk_server.MAX_STREAMS)]
    try:
        assert all(head.startswith(b"HTTP/1.0 200 ") for _, head in mine)
        sock, head = open_stream(server.port, own(server.port))
        sock.close()
        assert head.startswith(b"HTTP/1.0 503 ") and b"Retry-After: " in head
    finally:
        for sock, _ in mine:
            sock.close()


def test_a_slot_is_free_again_soon_after_its_client_left(server: DeskServer) -> None:
    mine = [open_stream(server.port, own(server.port)) for _ in range(desk_server.MAX_STREAMS)]
    try:
        gone, _ = mine.pop()
        gone.close()
        deadline = time.monotonic() + 2.0
        while True:
            sock, head = open_stream(server.port, own(server.port))
            if head.startswith(b"HTTP/1.0 200 "):
                mine.append((sock, head))
                break
            sock.close()
            assert time.monotonic() < deadline, "the slot is still held"
            time.sleep(0.1)
    finally:
        for sock, _ in mine:
            sock.close()


# -- login -------------------------------------------------------------------------------------


def login(srv: DeskServer, token: str, headers: dict[str, str] | None = None,
          source: str = "127.0.0.1") -> tuple[int, dict[str, str]]:
    status, resp_headers, _, _ = request(
        srv.port, "POST", "/login", f"token={token}".encode(),
        {"Content-Type": "application/x-www-form-urlencoded",
         **(own(srv.port) if headers is None else headers)}, source)
    return status, resp_headers


def test_wrong_tokens_sent_at_once_are_counted_one_by_one(guarded: DeskServer) -> None:
    """32 logins whose heads all arrive before any body: each is checked and counted in turn."""
    port = guarded.port
    socks = []
    for i in range(32):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        body = f"token=guess-{i:02d}".encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in {
            **own(port), "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(len(body))}.items())
        sock.sendall(f"POST /login HTTP/1.1\r\n{head}\r\n".encode())
        socks.append((sock, body))
    time.sleep(0.3)
    for sock, body in socks:
        sock.sendall(body)
    statuses = []
    for sock, _ in socks:
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        sock.close()
        statuses.append(int(answer.split(b" ", 2)[1]))
    assert sorted(statuses) == [303] * desk_server.LOGIN_FAILURES_PER_CLIENT + [429] * 27


@pytest.mark.parametrize("framing", [
    "", "Content-Length: x\r\n", "Transfer-Encoding: chunked\r\n",
    "Content-Length: 99999\r\n",
])
def test_a_login_without_a_plain_length_is_refused_and_not_counted(
    guarded: DeskServer, framing: str
) -> None:
    port = guarded.port
    head = "".join(f"{k}: {v}\r\n" for k, v in own(port).items())
    for _ in range(desk_server.LOGIN_FAILURES_PER_CLIENT + 1):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(f"POST /login HTTP/1.1\r\n{head}{framing}\r\n".encode())
            assert sock.recv(65536).startswith(b"HTTP/1.0 400 ")
    assert login(guarded, TOKEN)[0] == 303


def test_failures_from_elsewhere_never_lock_out_the_right_token(guarded: DeskServer) -> None:
    # Twenty wrong tokens from four other addresses: the limit in all is reached.
    for n in range(2, 6):
        for i in range(desk_server.LOGIN_FAILURES_PER_CLIENT):
            assert login(guarded, f"guess-{i}", source=f"127.0.0.{n}")[0] == 303
    assert login(guarded, "guess-x", source="127.0.0.2")[0] == 429
    # The desk, which has not failed, still gets in with the right token.
    status, headers = login(guarded, TOKEN)
    assert status == 303 and headers["Location"] == "/" and "Set-Cookie" in headers


def test_a_foreign_page_can_neither_log_in_nor_drive_the_limit(guarded: DeskServer) -> None:
    for i in range(40):
        status, _ = login(guarded, f"guess-{i}", {**FOREIGN, "Host": f"127.0.0.1:{guarded.port}"})
        assert status == 403
    assert login(guarded, TOKEN, {**FOREIGN, "Host": f"127.0.0.1:{guarded.port}"})[0] == 403
    assert login(guarded, "one-typo")[0] == 303  # counted as the first wrong try, not the 41st
    status, headers = login(guarded, TOKEN)
    assert status == 303 and headers["Location"] == "/"


def test_the_limit_is_per_address_and_per_ipv6_network() -> None:
    assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff::1")
    assert client_key("2001:db8:1:3::5") != client_key("2001:db8:1:2::5")
    assert client_key("::ffff:10.0.0.1") == "10.0.0.1"
    limit = LoginLimit()
    for _ in range(desk_server.LOGIN_FAILURES_PER_CLIENT):
        assert limit.attempt("2001:db8:1:2::1", "wrong", TOKEN, now=100.0) == 0
    assert limit.attempt("2001:db8:1:2::99", TOKEN, TOKEN, now=101.0) > 0  # same /64
    assert limit.attempt("2001:db8:1:2::99", TOKEN, TOKEN, now=161.0) == -1  # window passed


# -- the whole desk under both at once, as a process ---------------------------------------------


def foreign_streams(port: int, n: int) -> list[socket.socket]:
    """Event-stream requests as a foreign page in the desk's browser sends them, left open."""
    held = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Origin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        held.append(sock)
    return held


def test_a_desk_under_slow_bodies_and_foreign_streams_still_serves_the_page_and_a_scan(
    tmp_path,
) -> None:
    """`verify daemon` as a process: 300 bodies announced and never sent, 100 foreign event
    streams held open; the page and /healthz load under 1 s, a tap is answered, a scan from the
    pty scanner reaches the event log, and the desk's own page still gets a stream."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    scanner = PtyScanner(tmp_path / "scanner")
    events = tmp_path / "events.jsonl"
    emu = Emulator().start()
    daemon = DaemonProcess(["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0",
                            "--events", str(events)], daemon_env(emu.env()), tmp_path)
    held: list[socket.socket] = []
    try:
        port = int(daemon.desk_url().rstrip("/").rsplit(":", 1)[1])
        daemon.wait_device_open(scanner.link)
        held += slow_bodies(port, 150) + slow_bodies(port, 150, "/api/answer")
        held += foreign_streams(port, 100)
        time.sleep(0.5)
        for _ in range(3):
            for path in ("/", "/healthz"):
                status, _, _, took = request(port, "GET", path, headers=own(port))
                assert status == 200 and took < 1.0, (path, took)
        page = request(port, "GET", "/", headers=own(port))[2].decode()
        token = json.loads(html.unescape(page.split('name="verify-page" content="')[1]
                                         .split('"')[0]))["page_token"]
        status, _, _, took = request(port, "POST", "/api/answer",
                                     b'{"scan": "gone", "answers": {}}',
                                     {**own(port), "Content-Type": "application/json",
                                      "X-Verify-Page": token})
        assert status == 409 and took < 1.0, (status, took)  # a tap is answered at once
        mine, head = open_stream(port, own(port))
        mine.close()
        assert head.startswith(b"HTTP/1.0 200 ")
        scanner.scan(emu.url("VALID0001"))
        deadline = time.monotonic() + 10
        while not (events.exists() and events.read_text().strip()):
            assert time.monotonic() < deadline, "the scan never reached the event log"
            time.sleep(0.05)
        assert json.loads(events.read_text().splitlines()[0])["validity"]["state"] == "valid"
    finally:
        for sock in held:
            sock.close()
        code = daemon.stop()
        scanner.unplug()
        emu.stop()
    assert code == 0
    assert "Traceback" not in "\n".join(daemon.log)
