"""`/healthz` judges the sources and recent lookups; `/metrics` counts without identifiers."""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO
from tests.support_daemon import DaemonProcess, PtyScanner, daemon_env, status_for, url
from verify.desk.config import build_config
from verify.desk.events import Event
from verify.desk.health import assess
from verify.desk.metrics import DeskMetrics
from verify.desk.server import DeskServer
from verify.desk.state import DeskState
from verify.lookup.emulator import Emulator


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
    scans = {(s.labels["source"], s.labels["card"], s.labels["outcome"]): s.value
             for s in families["verify_scans"].samples if s.name == "verify_scans_total"}
    scanner = "serial:/dev/scanner"
    assert scans == {(scanner, "lma", "valid"): 1, (scanner, "lma", "not_valid"): 1,
                     (scanner, "lma", "unknown"): 1, (scanner, "none", "not_a_card"): 1}
    unknowns = {(s.labels["card"], s.labels["reason"]): s.value
                for s in families["verify_unknowns"].samples
                if s.name == "verify_unknowns_total"}
    assert unknowns == {("lma", "lookup"): 1, ("none", "not_a_card"): 1}
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


# -- both card kinds, end to end: a real daemon, a pty scanner, the emulator ---------------------


def _alert_rules() -> dict[str, str]:
    """The alert rules as docs/reception-desk.md prints them: name → PromQL expression."""
    text = (REPO / "docs" / "reception-desk.md").read_text("utf-8")
    block = text.split("groups:\n", 1)[1].split("```", 1)[0]
    rules: dict[str, str] = {}
    name, expr, indent = "", "", -1
    for line in block.splitlines():
        depth = len(line) - len(line.lstrip())
        if indent >= 0 and depth > indent:  # a `|` block's lines
            rules[name] += " " + line.split("#")[0].strip()
            continue
        indent = -1
        if line.strip().startswith("- alert:"):
            name = line.split(":", 1)[1].split("#")[0].strip()
        elif line.strip().startswith("expr:"):
            expr = line.split(":", 1)[1].split("#")[0].strip()
            rules[name] = "" if expr == "|" else expr
            indent = depth if expr == "|" else -1
    assert len(rules) >= 5, rules
    return {k: " ".join(v.split()) for k, v in rules.items()}


def _selected(samples: list, selector: str) -> float:
    """Sum of the samples a `name{label="value",…}` selector picks."""
    match = re.fullmatch(r"(\w+)(?:\{(.*)\})?", selector)
    assert match, selector
    name, matchers = match.group(1), dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
    return sum(s.value for s in samples if s.name == name
               and all(s.labels.get(k) == v for k, v in matchers.items()))


def _ratio(expr: str, samples: list) -> float:
    """A documented `sum(rate(A[w])) / sum(rate(B[w])) > x` rule's left side over counters that
    started at zero (a rate over the whole life is the counter itself)."""
    parts = re.findall(r"sum(?: by \(\w+\))? ?\(rate\(([^\[]+)\[\w+\]\)\)", expr)
    assert len(parts) == 2, expr
    numerator, denominator = (_selected(samples, p) for p in parts)
    assert denominator > 0, expr
    return numerator / denominator


def test_application_card_lookups_count_for_health_and_metrics_carry_both_card_kinds(
        tmp_path: Path) -> None:
    scanner = PtyScanner(tmp_path / "scanner")
    home = tmp_path / "home"
    home.mkdir()
    with Emulator() as emu:
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0", "--region", "skane"],
            daemon_env({**emu.env(), "HOME": str(home)}), tmp_path)
        try:
            base = daemon.desk_url().rstrip("/")
            daemon.wait_device_open(scanner.link)

            def health() -> tuple[int, dict]:
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
                        return resp.status, json.loads(resp.read())
                except urllib.error.HTTPError as err:
                    return err.code, json.loads(err.read())

            def health_when(code: int, lookups: int) -> dict:
                deadline = time.monotonic() + 10
                while True:
                    status, report = health()
                    if status == code and report.get("events", 0) >= lookups:
                        return report
                    assert time.monotonic() < deadline, (status, report)
                    time.sleep(0.05)

            scanner.scan(emu.url("VALID0001"))
            health_when(200, 1)
            for i in range(3):
                scanner.scan(emu.application_url(f"ERROR000{i}"))
            report = health_when(503, 4)
            assert "the last 3 lookups all failed" in report["reasons"]
            scanner.scan(emu.application_url("VALID0002"))
            assert health_when(200, 5)["ok"] is True

            with urllib.request.urlopen(base + "/metrics", timeout=5) as resp:
                text = resp.read().decode()
        finally:
            daemon.stop()
            scanner.close()
    samples = [s for f in text_string_to_metric_families(text) for s in f.samples]
    lookups = {(s.labels["card"], s.labels["outcome"]): s.value for s in samples
               if s.name == "verify_lookup_duration_seconds_count"}
    assert lookups == {("lma", "valid"): 1, ("application", "unknown"): 3,
                       ("application", "valid"): 1}
    scans = {(s.labels["card"], s.labels["outcome"]): s.value for s in samples
             if s.name == "verify_scans_total"}
    assert scans == {("lma", "valid"): 1, ("application", "unknown"): 3,
                     ("application", "valid"): 1}
    unknowns = {(s.labels["card"], s.labels["reason"]): s.value for s in samples
                if s.name == "verify_unknowns_total"}
    assert unknowns == {("application", "lookup"): 3}
    # The documented alert rules, evaluated on this scrape: every metric and label they name
    # exists, and the failing-lookup ratio is the share of failed lookups (3 of 5), never over 1.
    rules = _alert_rules()
    for name in ("VerifyLookupsFailingRegionWide", "VerifyLookupsFailingAtSite"):
        assert _ratio(rules[name], samples) == pytest.approx(3 / 5)
    for expr in rules.values():
        for metric in re.findall(r"\b(verify_\w+)", expr):
            assert any(s.name == metric for s in samples), (metric, expr)
        for label, value in re.findall(r'(\w+)="([^"]*)"', expr):
            if label != "job":
                assert any(s.labels.get(label) == value for s in samples), (label, value)
