"""The daemon's pipeline against agency pages built to be slow to read: each card's lookup,
page reading included, ends within its deadline and never holds a later card."""

from __future__ import annotations

import time

from tests.support_daemon import Recorder, feed
from tests.support_faults import parse_bomb_page, script_server, valid_page
from verify.cli.daemon import default_checker
from verify.desk.config import build_config
from verify.desk.daemon import Daemon


def make(name: str, checker):
    config = build_config({"sources": [f"feed:{name}"], "http": None})
    rec = Recorder()
    return Daemon(config, checker=checker, sinks=[rec]), rec


def test_four_parse_bombs_do_not_hold_the_next_card(monkeypatch):
    """Four scans whose agency pages are the red team's parse bomb, then a normal card: each
    lookup ends within its deadline (the parse counts inside it), and the normal card's event
    comes out within the deadline + 1 s of its scan (it once waited over a minute)."""
    bomb = parse_bomb_page()

    def agency(request: bytes):
        # One answer per connection (the script server answers one request on each).
        body = bomb if b"BOMB" in request else valid_page()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
        return [(head + b"Content-Length: %d\r\n\r\n" % len(body) + body, 0)]

    deadline = 2.0
    with script_server(agency) as server:
        env = {"VERIFY_LOOKUP_ORIGIN": f"http://127.0.0.1:{server.port}",
               "VERIFY_ALLOWED_HOSTS": "127.0.0.1",
               "VERIFY_ALLOW_LOOPBACK_HTTP": "1", "VERIFY_LOOKUP_TIMEOUT": str(deadline)}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        base = f"http://127.0.0.1:{server.port}/lmakort/"
        d, rec = make("bombs", checker=default_checker())
        d.start()
        try:
            for i in range(4):
                feed("bombs").put(base + f"BOMB000{i}")
            time.sleep(0.05)
            feed("bombs").put(base + "VALID0005")
            events = rec.wait_for(5, timeout=4 * deadline + 3)
        finally:
            d.stop()
    normal = next(e for e in events if e.status.document.lookup_token == "VALID0005")
    assert normal.status.validity.state == "valid"
    assert normal.latency_ms < (deadline + 1.0) * 1000
    assert all(e.latency_ms < (deadline + 1.0) * 1000 for e in events)
