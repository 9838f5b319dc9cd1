"""The daemon's pipeline with an in-process source: what a desk would notice."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support_daemon import OPEN_FAILURES, OPENS, Recorder, feed, status_for, url
from tests.support_faults import framed, script_server
from verify.cli.daemon import default_checker
from verify.desk.config import build_config, load_config
from verify.desk.daemon import Daemon
from verify.desk.health import assess
from verify.errors import ConfigError
from verify.lookup.emulator import Emulator
from verify.model import Status


def make(name: str, checker=None, **settings):
    config = build_config({"sources": [f"feed:{name}"], "http": None, **settings})
    rec = Recorder()
    d = Daemon(config, checker=checker or (lambda s: status_for(s.payload)), sinks=[rec])
    return d, rec


def test_every_scan_gives_one_event_in_order_with_source_and_latency():
    d, rec = make("order")
    d.start()
    try:
        for i in range(20):
            feed("order").put(url(f"VALID{i:04d}"))
        events = rec.wait_for(20)
    finally:
        d.stop()
    tokens = [e.status.document.lookup_token for e in events]
    assert tokens == [f"VALID{i:04d}" for i in range(20)]
    assert [e.seq for e in events] == list(range(1, 21))
    assert all(e.source == "feed:order" for e in events)
    assert all(0 <= e.latency_ms < 1000 for e in events)
    assert rec.closed


def test_the_same_card_again_within_the_window_is_one_event_and_later_is_a_new_one():
    d, rec = make("dupes", dedupe_seconds=0.3)
    d.start()
    try:
        for _ in range(5):
            feed("dupes").put(url("VALID0001"))
        feed("dupes").put(url("NOINFO0001"))
        rec.wait_for(2)
        time.sleep(0.5)
        feed("dupes").put(url("VALID0001"))
        events = rec.wait_for(3)
        time.sleep(0.1)
    finally:
        d.stop()
    assert [e.status.document.lookup_token for e in rec.events] == [
        "VALID0001", "NOINFO0001", "VALID0001"]
    assert d.stats.duplicates == 4
    assert len(events) == 3


def test_events_leave_in_scan_order_even_when_lookups_finish_out_of_order():
    def slow_first(scan):
        if scan.payload.endswith("VALID0000"):
            time.sleep(0.3)
        return status_for(scan.payload)

    d, rec = make("reorder", checker=slow_first, max_lookups=4)
    d.start()
    try:
        for i in range(6):
            feed("reorder").put(url(f"VALID{i:04d}"))
        events = rec.wait_for(6)
    finally:
        d.stop()
    assert [e.status.document.lookup_token for e in events] == [f"VALID{i:04d}" for i in range(6)]


def test_lookups_run_concurrently_but_never_more_than_the_cap():
    active = 0
    peak = 0
    lock = threading.Lock()

    def counting(scan):
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return status_for(scan.payload)

    d, rec = make("cap", checker=counting, max_lookups=3)
    d.start()
    started = time.monotonic()
    try:
        for i in range(12):
            feed("cap").put(url(f"VALID{i:04d}"))
        rec.wait_for(12)
    finally:
        d.stop()
    assert peak == 3
    assert time.monotonic() - started < 12 * 0.05  # faster than one at a time


def test_a_full_queue_holds_the_source_back_instead_of_growing():
    gate = threading.Event()

    def blocked(scan):
        gate.wait(5)
        return status_for(scan.payload)

    d, rec = make("bounded", checker=blocked, max_lookups=2, queue_size=3)
    d.start()
    try:
        for i in range(40):
            feed("bounded").put(url(f"VALID{i:04d}"))
        time.sleep(0.4)
        # 2 in the workers, 3 queued, 1 held by the source thread waiting to queue it.
        assert feed("bounded").qsize() == 40 - 6
        gate.set()
        events = rec.wait_for(40)
    finally:
        gate.set()
        d.stop()
    assert len(events) == 40


def test_a_checker_that_fails_gives_unknown_and_the_daemon_goes_on():
    def flaky(scan):
        if "BOOM" in scan.payload:
            raise RuntimeError("parser bug")
        return status_for(scan.payload)

    d, rec = make("flaky", checker=flaky)
    d.start()
    try:
        feed("flaky").put(url("BOOM0001"))
        feed("flaky").put(url("VALID0002"))
        events = rec.wait_for(2)
    finally:
        d.stop()
    assert events[0].status.validity.state == "unknown"
    assert events[0].status.validity.basis == "error"
    assert events[1].status.validity.state == "valid"


def test_garbage_gives_an_event_that_says_not_a_card():
    d, rec = make("garbage")
    d.start()
    try:
        feed("garbage").put("\x00\x01hello 12-345678")
        events = rec.wait_for(1)
    finally:
        d.stop()
    record = events[0].to_record()
    assert record["validity"]["basis"] == "not_a_card"
    assert record["validity"]["state"] == "unknown"
    assert "12-345678" not in str(record)


def test_a_lost_source_is_reopened_with_backoff_and_scans_keep_coming(caplog):
    OPEN_FAILURES["lost"] = 2
    d, rec = make("lost")
    d.start()
    try:
        feed("lost").put(url("VALID0001"))
        rec.wait_for(1, timeout=6)  # after 0.5 s + 1 s of backoff
        feed("lost").put("!raise")  # the device vanishes mid-stream
        feed("lost").put(url("VALID0002"))
        events = rec.wait_for(2, timeout=6)
    finally:
        d.stop()
    assert [e.status.document.lookup_token for e in events] == ["VALID0001", "VALID0002"]
    assert OPENS["lost"] == 4
    assert "device not found; retrying" in caplog.text
    assert "failed (OSError); retrying" in caplog.text


def test_stop_finishes_every_scan_already_read():
    def slow(scan):
        time.sleep(0.05)
        return status_for(scan.payload)

    d, rec = make("drain", checker=slow, max_lookups=2, queue_size=50)
    d.start()
    for i in range(20):
        feed("drain").put(url(f"VALID{i:04d}"))
    deadline = time.monotonic() + 3
    while d.stats.scans < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert d.stats.scans == 20
    assert len(rec.events) < 20  # still busy when asked to stop
    d.stop()
    assert len(rec.events) == 20
    assert rec.closed


def test_reload_applies_region_and_clear_after_and_reopens_files(tmp_path):
    seen: list[str | None] = []

    def decider(status: Status, config) -> Status:
        seen.append(config.region)
        return status

    config_file = tmp_path / "daemon.toml"
    config_file.write_text('region = "skane"\nclear_after = 10\n')

    def load():
        return build_config(load_config(config_file), {"sources": ["feed:reload"], "http": None})

    rec = Recorder()
    d = Daemon(load(), checker=lambda s: status_for(s.payload), sinks=[rec], decider=decider,
               reload=load)
    d.start()
    try:
        feed("reload").put(url("VALID0001"))
        rec.wait_for(1)
        config_file.write_text('region = "stockholm"\nclear_after = 5\nmax_lookups = 9\n')
        d.reload()
        feed("reload").put(url("VALID0002"))
        rec.wait_for(2)
        config_file.write_text("region = \"nowhere\"\n")
        d.reload()  # a bad file keeps the old settings
    finally:
        d.stop()
    assert seen == ["skane", "stockholm"]
    assert d.config.clear_after == 5
    assert d.config.max_lookups == 4  # needs a restart; not applied
    assert d.config.region == "stockholm"
    assert rec.reopened == 1


@pytest.mark.parametrize("settings, message", [
    ({}, "at least one --source"),
    ({"sources": ["feed:x"], "region": "atlantis"}, "unknown region"),
    ({"sources": ["feed:x"], "http": "0.0.0.0:8765"}, "give --token"),
    ({"sources": ["feed:x"], "http": "nowhere"}, "HOST:PORT"),
    ({"sources": ["feed:x"], "clear_after": 0}, "clear_after"),
    ({"sources": ["feed:x"], "colour": "red"}, "unknown setting"),
])
def test_settings_that_cannot_work_are_refused_with_a_reason(settings, message):

    with pytest.raises(ConfigError, match=message):
        build_config(settings)


def test_several_sources_run_at_once_and_one_card_seen_by_two_is_one_event():
    config = build_config({"sources": ["feed:desk-a", "feed:desk-b"], "http": None})
    rec = Recorder()
    d = Daemon(config, checker=lambda s: status_for(s.payload), sinks=[rec])
    d.start()
    try:
        feed("desk-a").put(url("VALID0001"))
        rec.wait_for(1)
        feed("desk-b").put(url("VALID0001"))  # the webcam saw the same card
        feed("desk-b").put(url("NOINFO0002"))
        feed("desk-a").put(url("VALID0003"))
        events = rec.wait_for(3)
        time.sleep(0.1)
    finally:
        d.stop()
    assert len(rec.events) == 3
    by_source = {(e.source, e.status.document.lookup_token) for e in events}
    assert by_source == {("feed:desk-a", "VALID0001"), ("feed:desk-b", "NOINFO0002"),
                         ("feed:desk-a", "VALID0003")}


def test_a_slow_agency_gives_unknown_with_the_manual_address_and_later_scans_follow(monkeypatch):

    with Emulator() as emu:
        for key, value in {**emu.env(), "VERIFY_LOOKUP_TIMEOUT": "0.5"}.items():
            monkeypatch.setenv(key, value)
        d, rec = make("slow-agency", checker=default_checker())
        d.start()
        try:
            feed("slow-agency").put(emu.url("SLOW0001"))
            feed("slow-agency").put(emu.url("VALID0002"))
            events = rec.wait_for(2, timeout=5)
        finally:
            d.stop()
    by_token = {e.status.document.lookup_token: e for e in events}
    slow, after = by_token["SLOW0001"], by_token["VALID0002"]
    assert slow.status.validity.state == "unknown"
    assert slow.status.validity.manual_check_url == emu.url("SLOW0001")
    assert 400 < slow.latency_ms < 2000
    assert after.status.validity.state == "valid"


def test_scanning_again_after_the_agency_could_not_answer_asks_again_at_once(monkeypatch):

    with Emulator() as emu:
        for key, value in emu.env().items():
            monkeypatch.setenv(key, value)
        d, rec = make("retry", checker=default_checker(), dedupe_seconds=30)
        d.start()
        try:
            emu.outage = True
            feed("retry").put(emu.url("VALID0009"))
            first = rec.wait_for(1, timeout=5)[0]
            emu.outage = False
            feed("retry").put(emu.url("VALID0009"))  # the clerk scans again at once
            events = rec.wait_for(2, timeout=5)
            feed("retry").put(emu.url("VALID0009"))  # now a real repeat: dropped
            time.sleep(0.3)
        finally:
            d.stop()
    assert first.status.validity.state == "unknown"
    assert events[1].status.validity.state == "valid"
    assert len(rec.events) == 2 and d.stats.duplicates == 1


def test_a_trickling_lookup_for_card_1_does_not_hold_card_2_beyond_the_deadline(monkeypatch):
    """Card 1's agency answer trickles without a length; card 2's comes at once. Card 2's event
    arrives within the deadline of its own scan; card 1 ends unknown, marked superseded."""

    def agency(request: bytes):
        if b"TRICKLE" in request:
            return framed("close11", "body", 0.1)
        return framed("length", "body", 0)  # all at once

    deadline = 1.0
    with script_server(agency) as server:
        base = f"http://127.0.0.1:{server.port}/lmakort/"
        env = {"VERIFY_LOOKUP_ORIGIN": f"http://127.0.0.1:{server.port}",
               "VERIFY_ALLOWED_HOSTS": "127.0.0.1",
               "VERIFY_ALLOW_LOOPBACK_HTTP": "1", "VERIFY_LOOKUP_TIMEOUT": str(deadline)}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        d, rec = make("trickle-first", checker=default_checker())
        d.start()
        try:
            feed("trickle-first").put(base + "TRICKLE0001")
            time.sleep(0.05)
            feed("trickle-first").put(base + "VALID0002")
            events = rec.wait_for(2, timeout=deadline + 3)
        finally:
            d.stop()
    first_out, second_out = events
    assert second_out.status.document.lookup_token == "TRICKLE0001"
    assert first_out.status.document.lookup_token == "VALID0002"
    assert first_out.status.validity.state == "valid"
    assert first_out.latency_ms < deadline * 1000
    assert second_out.status.validity.state == "unknown"
    assert second_out.superseded and not first_out.superseded
    assert second_out.latency_ms < (deadline + 1.0) * 1000


def test_a_configured_source_that_has_not_started_is_not_healthy():
    """The desk's web server answers before the daemon opens its sources: until a source has
    reported, /healthz must say it is starting, never ok with no sources at all."""
    d, _ = make("not-yet")
    assert d.source_states() == {"feed:not-yet": "starting"}
    report = assess(d.source_states(), [])
    assert not report["ok"] and "not connected (starting)" in report["reasons"][0]
