"""`/healthz` judges the sources and recent lookups; `/metrics` counts without identifiers."""

from __future__ import annotations

import http.client
import json
from datetime import datetime

from prometheus_client.parser import text_string_to_metric_families

from tests.support_daemon import status_for, url
from verify.desk.config import build_config
from verify.desk.events import Event
from verify.desk.health import assess
from verify.desk.metrics import DeskMetrics
from verify.desk.server import DeskServer
from verify.desk.state import DeskState


def event(payload: str, source: str = "serial:/dev/scanner?baud=9600") -> Event:
    at = datetime.now().astimezone()
    return Event(seq=1, status=status_for(payload), source=source, symbology="qr",
                 scanned_at=at, emitted_at=at, latency_ms=3.0)


def test_health_names_each_source_that_is_not_connected_or_has_ended():
    assert assess({"serial:/dev/a": "open"}, []) == {"ok": True, "reasons": []}
    report = assess({"serial:/dev/a?baud=9600": "waiting", "image:x.png": "ended",
                     "camera:0": "retrying", "page:": "open"}, [])
    assert not report["ok"]
    assert report["reasons"] == ["source serial:/dev/a is not connected (waiting)",
                                 "source image:x.png has ended",
                                 "source camera:0 is not connected (retrying)"]


def test_health_fails_when_the_last_lookups_all_failed_and_recovers_on_one_success():
    sources = {"serial:/dev/a": "open"}
    assert assess(sources, [False, False])["ok"]  # two failures may be two bad cards
    assert assess(sources, [False, False, False])["reasons"] == [
        "the last 3 lookups all failed"]
    assert assess(sources, [False, False, False, True])["ok"]


def test_metrics_count_by_source_and_outcome_with_no_identifier_anywhere():
    states = {"serial:/dev/scanner?baud=9600": "open", "page:": "waiting"}
    metrics = DeskMetrics(sources=lambda: states, profile_confirmed=False)
    tokens = ["VALID0001abc", "NOINFO0001zz", "DOWN0001qq"]
    for token in tokens:
        e = event(url(token))
        metrics.observe_check(0.2, e.status)
        metrics.emit(e)
    metrics.emit(event("12-345678 not a card"))
    text = metrics.render().decode()
    for secret in [*tokens, "12-345678", "agency.test"]:
        assert secret not in text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    scans = {(s.labels["source"], s.labels["outcome"]): s.value
             for s in families["verify_scans"].samples if s.name == "verify_scans_total"}
    assert scans == {("serial:/dev/scanner", "valid"): 1, ("serial:/dev/scanner", "not_valid"): 1,
                     ("serial:/dev/scanner", "unknown"): 1,
                     ("serial:/dev/scanner", "not_a_card"): 1}
    unknowns = {s.labels["reason"]: s.value for s in families["verify_unknowns"].samples
                if s.name == "verify_unknowns_total"}
    assert unknowns == {"lookup": 1, "not_a_card": 1}
    count = [s for s in families["verify_lookup_duration_seconds"].samples
             if s.name.endswith("_count")]
    assert sum(s.value for s in count) == 3
    connected = {s.labels["source"]: s.value for s in families["verify_source_connected"].samples}
    assert connected == {"serial:/dev/scanner": 1.0, "page:": 0.0}
    assert families["verify_lookup_profile_confirmed"].samples[0].value == 0.0


def test_healthz_answers_503_with_reasons_and_metrics_are_served_without_a_token():
    states = {"serial:/dev/a": "open"}
    metrics = DeskMetrics(sources=lambda: states, profile_confirmed=True)
    desk = DeskState(lambda: build_config({"sources": ["serial:/dev/a"]}))
    srv = DeskServer(("127.0.0.1", 0), desk, token="desk-token-0123456789",
                     health=metrics.health, metrics=metrics.render)
    srv.start()
    try:
        def get(path: str) -> tuple[int, bytes]:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            return resp.status, body

        status, body = get("/healthz")
        assert status == 200 and json.loads(body)["ok"] is True
        states["serial:/dev/a"] = "waiting"
        status, body = get("/healthz")
        assert status == 503
        assert json.loads(body)["reasons"] == ["source serial:/dev/a is not connected (waiting)"]
        status, body = get("/metrics")
        assert status == 200 and b"verify_source_connected" in body
        assert get("/api/status/latest")[0] == 401  # the screen stays behind the token
    finally:
        desk.close()
        srv.stop()
