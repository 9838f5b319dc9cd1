"""Serial scanners on a real pseudo-terminal pair with real pyserial: framing, bursts, replug."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import open_source
from drivers.scan import SourceError
from tests.conftest import REPO
from tests.support_scanner import Collector, PtyScanner, pty_session, wait_open

URL = b"https://www.migrationsverket.se/lmakort/VALID0001"


def payloads(scans):
    return [s.payload for s in scans]


@pytest.mark.parametrize(
    "wire",
    [URL + b"\r", URL + b"\n", URL + b"\r\n", URL + b"\t", b"\x02" + URL + b"\x03"],
    ids=["cr", "lf", "crlf", "tab", "stx-etx"],
)
def test_each_terminator_gives_exactly_one_scan(tmp_path, wire):
    with pty_session(tmp_path) as (scanner, scans):
        wait_open(scans.source)
        scanner.send(wire + wire)
        got = scans.take(2)
        assert payloads(got) == [URL.decode()] * 2
        assert scans.nothing_more()


def test_aim_identifier_is_stripped_and_kept_as_symbology(tmp_path):
    with pty_session(tmp_path) as (scanner, scans):
        wait_open(scans.source)
        scanner.send(b"]Q1" + URL + b"\r]d2DM-CONTENT\r]C012345\r")
        got = scans.take(3)
        assert [(s.payload, s.symbology) for s in got] == [
            (URL.decode(), "QR"),
            ("DM-CONTENT", "DataMatrix"),
            ("12345", "Code128"),
        ]
        assert got[0].source.startswith("serial:")


def test_scan_split_across_many_reads(tmp_path):
    with pty_session(tmp_path) as (scanner, scans):
        wait_open(scans.source)
        for i in range(len(URL)):
            scanner.send(URL[i : i + 1])
            time.sleep(0.002)
        scanner.send(b"\r")
        assert payloads(scans.take(1)) == [URL.decode()]


def test_burst_of_many_scans_in_one_write(tmp_path):
    wire = b"".join(b"]Q1https://x.se/lmakort/TOKEN%04d\r\n" % i for i in range(200))
    with pty_session(tmp_path) as (scanner, scans):
        wait_open(scans.source)
        scanner.send(wire)
        got = scans.take(200)
        assert payloads(got) == [f"https://x.se/lmakort/TOKEN{i:04d}" for i in range(200)]


def test_idle_timeout_ends_scan_without_terminator(tmp_path):
    with pty_session(tmp_path, "suffix=none&idle=0.1") as (scanner, scans):
        wait_open(scans.source)
        scanner.send(b"first-scan")
        first = scans.take(1)
        scanner.send(b"second-scan")
        assert payloads(first + scans.take(1)) == ["first-scan", "second-scan"]


def test_noise_and_nul_bytes_are_dropped(tmp_path):
    with pty_session(tmp_path) as (scanner, scans):
        wait_open(scans.source)
        scanner.send(b"\x00\x00\xff\xfe\r\x00VALID\x000001\x07\r\n\r\n   \r")
        got = scans.take(1)
        assert payloads(got) == ["VALID0001"]
        assert scans.nothing_more()
        # the frame of NULs and garbage, then the NULs and BEL dropped from around the scan
        assert [n.kind for n in scans.source.notices] == ["noise", "controls_dropped"]
        assert scans.source.notices[1].size == 3


def test_overlong_input_is_capped_and_reported_then_next_scan_works(tmp_path):
    with pty_session(tmp_path, "max=256") as (scanner, scans):
        wait_open(scans.source)
        scanner.send(b"A" * 100_000 + b"\rafter\r")
        assert payloads(scans.take(1)) == ["after"]
        assert [n.kind for n in scans.source.notices] == ["overflow"]


def test_invalid_utf8_is_replaced_by_default(tmp_path):
    with pty_session(tmp_path) as (scanner, scans):
        wait_open(scans.source)
        scanner.send(b"caf\xe9 ok\r" + "café\r".encode())
        assert payloads(scans.take(2)) == ["caf\ufffd ok", "café"]


def test_invalid_utf8_rejected_when_asked(tmp_path):
    with pty_session(tmp_path, "invalid=reject") as (scanner, scans):
        wait_open(scans.source)
        scanner.send(b"caf\xe9\rgood\r")
        assert payloads(scans.take(1)) == ["good"]
        assert [n.kind for n in scans.source.notices] == ["invalid_utf8"]


def test_mrz_mode_groups_reader_lines_into_one_scan(tmp_path):
    td1 = [
        b"IDSWE1234567897<<<<<<<<<<<<<<<",
        b"8001014M2703045UKR<<<<<<<<<<<6",
        b"SHEVCHENKO<<TARAS<<<<<<<<<<<<",
    ]
    td3 = [
        b"P<UKRSHEVCHENKO<<TARAS<<<<<<<<<<<<<<<<<<<<<<",
        b"AB12345674UKR8001014M3001013<<<<<<<<<<<<<<04",
    ]
    with pty_session(tmp_path, "mode=mrz") as (scanner, scans):
        wait_open(scans.source)
        scanner.send(b"\r".join(td1) + b"\r")
        scanner.send(b"\r\n".join(td3) + b"\r\n")
        got = scans.take(2)
        assert [(s.payload, s.symbology) for s in got] == [
            (b"\n".join(td1).decode(), "MRZ"),
            (b"\n".join(td3).decode(), "MRZ"),
        ]


def test_unplug_and_replug_mid_session_loses_nothing_and_doubles_nothing(tmp_path):
    with pty_session(tmp_path) as (scanner, scans):
        source = scans.source
        states: list[str] = []
        source.on_state = states.append
        wait_open(source)
        scanner.send(b"scan-1\r")
        scanner.send(b"scan-2\r")
        assert payloads(scans.take(2)) == ["scan-1", "scan-2"]
        scanner.send(b"scan-3\r")
        time.sleep(0.05)  # it reached the driver before the cable was pulled
        scanner.send(b"half-a-sc")  # torn by the unplug: must not come out as a scan
        time.sleep(0.05)
        scanner.unplug()
        time.sleep(0.3)  # reconnect attempts fail while the device is gone
        scanner.plug()
        wait_open(source, reconnections=1)
        scanner.send(b"scan-4\r")
        scanner.send(b"scan-5\r")
        assert payloads(scans.take(3)) == ["scan-3", "scan-4", "scan-5"]
        assert scans.nothing_more()
        assert [n.kind for n in source.notices] == ["partial_dropped"]
        assert states[-2:] == ["waiting", "open"] and source.state == "open"


def test_close_from_another_thread_ends_iteration_promptly(tmp_path):
    scanner = PtyScanner(tmp_path / "scanner")
    try:
        source = open_source(f"serial:{scanner.link}")
        ended = threading.Event()

        def run():
            for _ in source:
                pass
            ended.set()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        wait_open(source)
        start = time.monotonic()
        source.close()
        assert ended.wait(2)
        assert time.monotonic() - start < 0.5
    finally:
        scanner.close()


def test_close_while_waiting_for_a_gone_device_ends_iteration(tmp_path):
    scanner = PtyScanner(tmp_path / "scanner")
    source = open_source(f"serial:{scanner.link}")
    ended = threading.Event()

    def run():
        for _ in source:
            pass
        ended.set()

    threading.Thread(target=run, daemon=True).start()
    wait_open(source)
    scanner.unplug()
    time.sleep(0.2)
    source.close()
    assert ended.wait(2)


def test_missing_port_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="no-such-port"):
        with open_source(f"serial:{tmp_path}/no-such-port") as source:
            next(iter(source))


@pytest.mark.parametrize(
    "opts", ["baud=fast", "parity=X", "suffix=semicolon", "idle=-1", "colour=red"]
)
def test_bad_options_are_clear_errors(opts):
    with pytest.raises(SourceError):
        open_source(f"serial:/dev/ttyACM0?{opts}")


def test_pyserial_url_forms_loop(tmp_path):

    source = open_source("loop://?suffix=cr")
    scans = Collector(source)
    try:
        wait_open(source)
        source.port.write(b"]Q1looped\r")  # loop:// hands back what is written to it
        got = scans.take(1)
        assert [(s.payload, s.symbology) for s in got] == [("looped", "QR")]
    finally:
        scans.stop()


def test_pyserial_url_forms_socket_rebuilds_pyserial_url():
    source = open_source("socket://127.0.0.1:4001?suffix=lf&logging=debug")
    assert source.port_url == "socket://127.0.0.1:4001?logging=debug"
    assert source.framing.suffix == "lf"


def test_pyserial_socket_url_over_loopback_survives_the_server_restarting():
    """A serial-over-network scanner (socket://): real TCP on 127.0.0.1, connection dropped."""


    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    source = open_source(f"socket://127.0.0.1:{port}?suffix=cr")
    scans = Collector(source)
    try:
        conn, _ = server.accept()
        wait_open(source)  # pyserial discards what is waiting when it opens
        conn.sendall(b"]Q1first\rsecond-half-")
        assert payloads(scans.take(1)) == ["first"]
        conn.close()  # the network scanner goes away mid-scan
        conn, _ = server.accept()  # the driver reconnects by itself
        wait_open(source, reconnections=1)
        conn.sendall(b"third\r")
        assert payloads(scans.take(1)) == ["third"]
        assert [n.kind for n in source.notices] == ["partial_dropped"]
        conn.close()
    finally:
        scans.stop()
        server.close()


def test_a_second_reader_of_the_same_port_is_refused(tmp_path):
    """Two programs reading one scanner would each get half the bytes: the port is locked."""
    with pty_session(tmp_path) as (scanner, scans):
        wait_open(scans.source)
        with pytest.raises(SourceError, match="another program"):
            with open_source(f"serial:{scanner.link}") as second:
                next(iter(second))
        scanner.send(b"still-mine\r")
        assert payloads(scans.take(1)) == ["still-mine"]


def test_repeated_replugs_keep_every_scan_exactly_once(tmp_path):
    with pty_session(tmp_path) as (scanner, scans):
        source = scans.source
        sent: list[str] = []
        for cycle in range(4):
            wait_open(source, reconnections=cycle)
            batch = [f"cycle{cycle}-scan{i}" for i in range(5)]
            scanner.send(b"".join(p.encode() + b"\r\n" for p in batch))
            sent += batch
            assert payloads(scans.take(5)) == batch
            scanner.unplug()
            time.sleep(0.1)
            scanner.plug()
        wait_open(source, reconnections=4)
        assert scans.nothing_more()
        assert source.reconnections == 4 and len(sent) == 20


OPTION_KEYS = ["baud", "bytesize", "parity", "stopbits", "rtscts", "xonxoff", "suffix", "idle",
               "max", "mode", "aim", "invalid", "wait", "backoff", "repair", "layout",
               "fast"]  # fmt: skip
OPTION_VALUES = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "nan", "inf", "1e400", "9600", "N", "cr", "mrz", "0.2"]),
    st.text(max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(
        [
            "serial:/dev/ttyACM0",
            "stdin:",
            "evdev:/dev/input/event0",
            "socket://127.0.0.1:9",
            "loop://",
            f"replay:{REPO}/fixtures/scans/burst.jsonl",
        ]
    ),  # fmt: skip
    options=st.dictionaries(st.sampled_from(OPTION_KEYS), OPTION_VALUES, max_size=5),
)
def test_any_option_values_give_a_source_or_a_clear_error(scheme, options):

    url = scheme + ("?" + urlencode(options) if options else "")
    try:
        source = open_source(url)
    except SourceError:
        return
    source.close()


def test_a_consumer_that_falls_behind_does_not_split_a_scan(tmp_path):
    """The daemon holds its reader back when the queue is full; bytes that wait in the OS
    buffer meanwhile are not an idle gap, so the idle timeout must not cut the scan."""

    scanner = PtyScanner(tmp_path / "scanner")
    try:
        with open_source(f"serial:{scanner.link}?idle=0.1") as source:
            it = iter(source)
            _send_once_open(source, scanner, b"FIRST\rSEC")
            assert next(it).payload == "FIRST"
            scanner.send(b"OND\r")
            time.sleep(0.4)  # busy consumer: much longer than idle
            assert next(it).payload == "SECOND"
    finally:
        scanner.close()


def test_an_idle_line_still_ends_a_scan_without_terminator(tmp_path):

    scanner = PtyScanner(tmp_path / "scanner")
    try:
        with open_source(f"serial:{scanner.link}?idle=0.1") as source:
            it = iter(source)
            started = time.monotonic()
            _send_once_open(source, scanner, b"NOTERMINATOR")
            assert next(it).payload == "NOTERMINATOR"
            assert time.monotonic() - started < 2.0
    finally:
        scanner.close()


def _send_once_open(source, scanner, data: bytes) -> None:
    """The source opens its port on first iteration (and pyserial drops older input)."""

    def send() -> None:
        wait_open(source)
        scanner.send(data)

    threading.Thread(target=send, daemon=True).start()
