"""The desk screen's HTTP server on real loopback sockets."""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from datetime import datetime

import pytest

from tests.support_daemon import status_for, url
from verify.desk.config import build_config
from verify.desk.events import Event
from verify.desk.server import DeskServer, _asset
from verify.desk.state import DeskState

TOKEN = "desk-token-0123456789"


def an_event(token: str = "VALID0001xyz", seq: int = 1) -> Event:
    at = datetime.now().astimezone()
    return Event(seq=seq, status=status_for(url(token)), source="feed:x", symbology="qr",
                 scanned_at=at, emitted_at=at, latency_ms=1.0)


@pytest.fixture
def desk():
    config = build_config({"sources": ["feed:x"], "clear_after": 2})
    return DeskState(lambda: config)


@pytest.fixture
def server(desk):
    srv = DeskServer(("127.0.0.1", 0), desk, health=lambda: {"events": 0})
    srv.start()
    yield srv
    desk.close()
    srv.stop()


@pytest.fixture
def guarded(desk):
    srv = DeskServer(("127.0.0.1", 0), desk, token=TOKEN)
    srv.start()
    yield srv
    desk.close()
    srv.stop()


def get(srv, path, headers=None, method="GET", body=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def test_the_page_and_its_script_come_with_a_strict_policy_and_no_inline_code(server):
    resp, body = get(server, "/")
    assert resp.status == 200
    csp = resp.getheader("Content-Security-Policy")
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert resp.getheader("X-Content-Type-Options") == "nosniff"
    assert resp.getheader("X-Frame-Options") == "DENY"
    assert resp.getheader("Referrer-Policy") == "no-referrer"
    assert resp.getheader("Cache-Control") == "no-store"
    html = body.decode()
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    assert " style=" not in html and "<style" not in html
    assert "http://" not in html and "https://" not in html  # nothing external: works offline
    resp, js = get(server, "/desk.js")
    assert resp.getheader("Content-Type").startswith("text/javascript")
    assert "innerHTML" not in js.decode()


def test_the_feed_delivers_a_status_at_once_then_clears_it(server, desk):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
    buf = b""
    while b"event: clear" not in buf:
        buf += sock.recv(4096)
    assert b"text/event-stream" in buf
    started = time.monotonic()
    desk.emit(an_event("MAINT0001xyz"))
    buf = b""
    while b"\n\n" not in buf.split(b"event: status", 1)[-1] or b"event: status" not in buf:
        buf += sock.recv(65536)
    assert time.monotonic() - started < 0.5
    data = json.loads(buf.split(b"event: status\ndata: ", 1)[1].split(b"\n\n", 1)[0])
    assert data["desk"]["tone"] == "not_valid"
    assert data["desk"]["headline"] == "EJ GILTIGT"
    assert data["document"]["lookup_token"] == "MA…"
    desk.tick(time.monotonic() + 3)  # clear_after is 2 s
    buf = b""
    while b"event: clear" not in buf:
        buf += sock.recv(4096)
    sock.close()


def test_latest_is_redacted_and_forgotten_when_the_screen_clears(server, desk):
    desk.emit(an_event("VALID0001xyz"))
    resp, body = get(server, "/api/status/latest")
    latest = json.loads(body)["event"]
    assert latest["validity"]["state"] == "valid"
    assert "VALID0001xyz" not in body.decode()
    assert "desk" not in latest
    desk.tick(time.monotonic() + 3)
    resp, body = get(server, "/api/status/latest")
    assert json.loads(body) == {"event": None}


def test_a_foreign_host_name_is_refused(server):
    resp, _ = get(server, "/api/status/latest", headers={"Host": "attacker.example:8765"})
    assert resp.status == 421
    resp, _ = get(server, "/healthz", headers={"Host": f"localhost:{server.port}"})
    assert resp.status == 200


def test_with_a_token_nothing_but_health_and_login_is_served_without_it(guarded):
    assert get(guarded, "/api/status/latest")[0].status == 401
    assert get(guarded, "/api/events")[0].status == 401
    resp, _ = get(guarded, "/")
    assert resp.status == 303 and resp.getheader("Location") == "/login"
    assert get(guarded, "/healthz")[0].status == 200
    assert get(guarded, "/login")[0].status == 200
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert get(guarded, "/api/status/latest", headers=bearer)[0].status == 200
    assert get(guarded, "/api/status/latest",
               headers={"Authorization": "Bearer wrong-token-0123456"})[0].status == 401


def test_the_login_form_sets_an_http_only_cookie_and_keeps_the_token_out_of_urls(guarded):
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    resp, _ = get(guarded, "/login", method="POST", body="token=wrong", headers=form)
    assert resp.status == 303 and "Set-Cookie" not in resp.headers
    resp, _ = get(guarded, "/login", method="POST", body=f"token={TOKEN}", headers=form)
    assert resp.status == 303 and resp.getheader("Location") == "/"
    cookie = resp.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    resp, _ = get(guarded, "/", headers={"Cookie": cookie.split(";")[0]})
    assert resp.status == 200
    assert TOKEN not in _asset("login.html").decode()
