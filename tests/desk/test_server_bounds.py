"""The desk's web server under hostile clients, on real loopback sockets: idle and slow
connections by the thousand, malformed request lines, stalled bodies, guessed tokens."""

from __future__ import annotations

import http.client
import os
import resource
import socket
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support_daemon import DaemonProcess, PtyScanner, daemon_env
from verify.desk import connections
from verify.desk.config import build_config
from verify.desk.server import COOKIE, DeskServer, session_value
from verify.desk.state import DeskState

TOKEN = "desk-token-0123456789"


@pytest.fixture
def desk():
    config = build_config({"sources": ["feed:x"], "clear_after": 2})
    state = DeskState(lambda: config)
    yield state
    state.close()


def _serve(desk, **kwargs) -> DeskServer:
    srv = DeskServer(("127.0.0.1", 0), desk, **kwargs)
    srv.start()
    return srv


@pytest.fixture
def server(desk):
    srv = _serve(desk)
    yield srv
    srv.stop()


@pytest.fixture
def guarded(desk):
    srv = _serve(desk, token=TOKEN)
    yield srv
    srv.stop()


def raw(port: int, data: bytes, timeout: float = 3.0) -> bytes:
    """Send bytes as they are; everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return answer
            if not chunk:
                return answer
            answer += chunk


def timed_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status, time.monotonic() - started


@pytest.mark.parametrize(
    "request_line, status",
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GARBAGE\r\n", 400),  # not even a blank line after it
        (b"GET /\r\n", 400),  # HTTP/0.9: would be answered without any headers
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),  # TLS to a plain port
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),
    ],
)
def test_a_malformed_request_gets_a_clean_answer_with_the_security_headers(
    server, capfd, request_line, status
) -> None:
    answer = raw(server.port, request_line)
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith(f"HTTP/1.0 {status} "), answer[:200]
    assert "Content-Security-Policy: default-src 'none'" in head
    assert "X-Content-Type-Options: nosniff" in head
    assert "GARBAGE" not in answer.decode("latin-1")  # nothing of the request echoed
    assert capfd.readouterr().err == ""  # no traceback, nothing past the logger


def test_a_stalled_body_or_head_is_cut_and_the_page_still_answers(server, monkeypatch) -> None:
    monkeypatch.setattr(connections, "REQUEST_TIMEOUT", 1.0)
    monkeypatch.setattr(connections, "HEAD_TIMEOUT", 1.0)
    host = f"Host: 127.0.0.1:{server.port}\r\n"
    stalled_body = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    stalled_body.sendall(f"POST /login HTTP/1.1\r\n{host}Content-Length: 4000\r\n\r\n".encode())
    stalled_head = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    stalled_head.sendall(b"GET / HTTP/1.1\r\n" + host.encode())
    try:
        assert timed_get(server.port, "/")[1] < 1.0
        started = time.monotonic()
        for sock in (stalled_body, stalled_head):
            while sock.recv(4096):
                pass  # until the server closes it
        assert time.monotonic() - started < 3.0
    finally:
        stalled_body.close()
        stalled_head.close()


def test_the_login_cookie_is_derived_from_the_token_not_the_token(guarded) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", guarded.port, timeout=5)
    conn.request("POST", "/login", body=f"token={TOKEN}",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    cookie = resp.getheader("Set-Cookie", "")
    assert TOKEN not in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert value == session_value(TOKEN) and len(value) == 64
    assert timed_get(guarded.port, "/", {"Cookie": f"{COOKIE}={value}"})[0] == 200
    # The raw token in the cookie no longer opens the desk; the cookie value is no token.
    assert timed_get(guarded.port, "/", {"Cookie": f"{COOKIE}={TOKEN}"})[0] == 303
    assert timed_get(guarded.port, "/api/status/latest",
                     {"Authorization": f"Bearer {value}"})[0] == 401


def test_login_attempts_are_limited(guarded) -> None:
    def login(token: str) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", guarded.port, timeout=5)
        conn.request("POST", "/login", body=f"token={token}",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        resp.read()
        return resp

    assert [login(f"guess-{i}").status for i in range(5)] == [303] * 5
    refused = login(TOKEN)  # even the right token waits once the guesses ran out
    assert refused.status == 429
    assert 0 < int(refused.getheader("Retry-After")) <= 61
    assert refused.getheader("Content-Security-Policy")


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_two_thousand_idle_connections_do_not_take_the_desk_down(tmp_path: Path) -> None:
    """Against `verify daemon` as a process: 2,000 idle connections plus 200 that send half a
    head; the page and /healthz still answer within a second; the daemon's open files stay
    bounded by the connection cap."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    scanner = PtyScanner(tmp_path / "scanner")
    daemon = DaemonProcess(["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0"],
                           daemon_env(), tmp_path)
    idle: list[socket.socket] = []
    try:
        port = int(daemon.desk_url().rstrip("/").rsplit(":", 1)[1])
        # /healthz is honest: 503 until the scanner's source is connected.
        deadline = time.monotonic() + 30
        while timed_get(port, "/healthz")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/healthz")
        health = conn.getresponse()
        assert health.status == 200, (health.read(), daemon.log[-20:])
        conn.close()
        baseline = _fds(daemon.proc.pid)
        for i in range(2200):
            sock = socket.socket()
            sock.settimeout(5)
            sock.connect(("127.0.0.1", port))
            if i >= 2000:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            idle.append(sock)
        peak = 0
        for _ in range(5):
            for path in ("/", "/healthz"):
                status, took = timed_get(port, path)
                assert status == 200 and took < 1.0, (path, took)
            peak = max(peak, _fds(daemon.proc.pid))
        assert peak - baseline <= connections.MAX_CONNECTIONS + 16, (baseline, peak)
    finally:
        for sock in idle:
            sock.close()
        daemon.stop()
        scanner.unplug()
    assert "Traceback" not in "\n".join(daemon.log)


@pytest.fixture(scope="module")
def shared_server():
    config = build_config({"sources": ["feed:x"], "clear_after": 2})
    state = DeskState(lambda: config)
    srv = _serve(state)
    yield srv
    state.close()
    srv.stop()


REQUEST_STARTS = st.sampled_from([
    b"", b"GET ", b"GET / ", b"POST /login HTTP/1.1\r\n", b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
    b"\x00", b"G\xc3\xa9T / ", b"GET /\x00 HTTP/1.1\r\n", b"OPTIONS * HTTP/1.1\r\n",
])


@settings(max_examples=80, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=REQUEST_STARTS, rest=st.binary(max_size=200))
def test_any_bytes_get_an_answer_with_the_security_headers(shared_server, capfd, start, rest):
    answer = raw(shared_server.port, start + rest.replace(b"\n", b"") + b"\r\n\r\n", timeout=12)
    assert answer.startswith((b"HTTP/1.0 ", b"HTTP/1.1 ")), answer[:100]
    assert b"Content-Security-Policy: default-src 'none'" in answer.split(b"\r\n\r\n")[0]
    assert capfd.readouterr().err == ""
