"""The framer on its own: exact behaviour per case, and hostile input (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.framing import (
    MRZ_MAX_LINE,
    SUFFIXES,
    Frame,
    Framer,
    FramingConfig,
    Notice,
    frame_all,
)
from drivers.scan import SourceError


def frames(events):
    return [(e.payload, e.symbology, e.ended_by) for e in events if isinstance(e, Frame)]


def notices(events):
    return [e.kind for e in events if isinstance(e, Notice)]


def test_crlf_is_one_terminator_even_when_split_between_reads():
    f = Framer()
    out = f.feed(b"ABC\r", 0.0)
    assert frames(out) == [("ABC", "unknown", "cr")]  # emitted at the CR: no waiting for LF
    assert f.feed(b"\nDEF\r", 0.01) and frames(f.feed(b"\n", 0.02)) == []
    assert f.flush() == []


def test_fixed_suffix_makes_other_terminators_payload():
    out = frame_all([(0, b"line1\nline2\r\n")], FramingConfig(suffix="crlf"))
    assert frames(out) == [("line1\nline2", "unknown", "crlf")]
    out = frame_all([(0, b"a\tb\rc\td\r")], FramingConfig(suffix="cr"))
    assert [p for p, _, _ in frames(out)] == ["a\tb", "c\td"]


def test_stx_etx_keeps_inner_newlines_and_drops_garbage_before_stx():
    out = frame_all([(0, b"junk\x02two\r\nlines\x03\r\n")])
    assert frames(out) == [("two\r\nlines", "unknown", "etx")]
    assert notices(out) == ["noise"]


def test_idle_ends_frame_only_after_the_idle_time():
    f = Framer(FramingConfig(suffix="none", idle=0.2))
    assert f.feed(b"abc", 10.0) == []
    assert f.poll(10.19) == []
    assert f.deadline() == pytest.approx(10.2)
    assert frames(f.poll(10.2)) == [("abc", "unknown", "idle")]
    assert f.deadline() is None


def test_bytes_after_an_idle_gap_start_a_new_scan():
    f = Framer(FramingConfig(suffix="cr", idle=0.1))
    out = f.feed(b"first", 0.0) + f.feed(b"second\r", 1.0)
    assert [p for p, _, _ in frames(out)] == ["first", "second"]


def test_aim_identifier_only_at_the_start_and_can_be_switched_off():
    assert frames(frame_all([(0, b"]Q1abc\rx]Q1y\r")])) == [
        ("abc", "QR", "cr"),
        ("x]Q1y", "unknown", "cr"),
    ]
    assert frames(frame_all([(0, b"]Q1abc\r")], FramingConfig(aim=False))) == [
        ("]Q1abc", "unknown", "cr")
    ]


def test_gs1_group_separator_is_kept_other_controls_dropped():
    out = frame_all([(0, b"]d2010123\x1d10ABC\x1b[2J\r")])
    assert frames(out) == [("010123\x1d10ABC[2J", "DataMatrix", "cr")]


def test_overflow_is_reported_once_and_memory_stays_capped():
    f = Framer(FramingConfig(max_bytes=64))
    out = []
    for _ in range(1000):
        out += f.feed(b"x" * 100, 0.0)
        assert f.buffered_bytes() <= 64
    out += f.feed(b"\rok\r", 0.0)
    assert notices(out) == ["overflow"]
    assert [p for p, _, _ in frames(out)] == ["ok"]


def test_mrz_single_line_reader_output_is_split_into_lines():
    line = (
        b"P<UKRSHEVCHENKO<<TARAS<<<<<<<<<<<<<<<<<<<<<<AB12345674UKR8001014M3001013<<<<<<<<<<<<<<04"
    )
    out = frame_all([(0, line + b"\r")], FramingConfig(mode="mrz"))
    assert frames(out) == [(line[:44].decode() + "\n" + line[44:].decode(), "MRZ", "cr")]


def test_mrz_incomplete_group_at_idle_is_flagged():
    f = Framer(FramingConfig(mode="mrz", idle=0.2))
    f.feed(b"IDSWE1234567897<<<<<<<<<<<<<<<\r", 0.0)
    (frame,) = f.poll(0.5)
    assert isinstance(frame, Frame) and frame.flags == ("incomplete_mrz",)


def test_discard_reports_a_torn_scan_and_emits_nothing():
    f = Framer()
    f.feed(b"half", 0.0)
    assert notices(f.discard("unplugged")) == ["partial_dropped"]
    assert f.flush() == []


@pytest.mark.parametrize(
    "params",
    [{"suffix": "x"}, {"idle": "soon"}, {"max": "1"}, {"mode": "qr"}, {"invalid": "ignore"}],
)
def test_bad_config_is_a_source_error(params):
    with pytest.raises(SourceError):
        FramingConfig.from_params(params)


# -- hostile input ---------------------------------------------------------------------------

configs = st.builds(
    FramingConfig,
    suffix=st.sampled_from(SUFFIXES),
    idle=st.sampled_from([0.0, 0.05, 0.3]),
    max_bytes=st.integers(16, 200),
    mode=st.sampled_from(["scan", "mrz"]),
    aim=st.booleans(),
    invalid=st.sampled_from(["replace", "reject"]),
)
interesting = st.sampled_from(
    [b"\r", b"\n", b"\r\n", b"\t", b"\x02", b"\x03", b"\x00", b"]Q1", b"\xff", b"\xc3", b"<"]
)
streams = st.lists(st.one_of(st.binary(max_size=40), interesting), max_size=60).map(b"".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, chunks=st.lists(st.tuples(st.floats(0, 0.5), st.binary(max_size=300))))
def test_arbitrary_bytes_never_crash_and_memory_stays_bounded(config, chunks):
    f = Framer(config)
    now = 0.0
    bound = config.max_bytes + 3 * MRZ_MAX_LINE
    for gap, data in chunks:
        now += gap
        for event in f.feed(data, now) + f.poll(now):
            assert isinstance(event, Frame | Notice)
            if isinstance(event, Frame):
                assert event.payload.strip()
                assert len(event.payload.encode("utf-8", "surrogatepass")) <= 4 * bound
        assert f.buffered_bytes() <= bound
    f.flush()
    assert f.buffered_bytes() == 0


@settings(max_examples=300, deadline=None)
@given(config=configs, stream=streams, cuts=st.lists(st.integers(0, 3000), max_size=20))
def test_cutting_a_stream_at_any_read_boundaries_gives_the_same_scans(config, stream, cuts):
    whole = frame_all([(0.0, stream)], config)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert frame_all([(0.0, p) for p in pieces], config) == whole


payload_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="]"),
    min_size=1,
    max_size=80,
).filter(lambda s: s.strip() and "\ufffd" not in s)


@settings(max_examples=200, deadline=None)
@given(
    payloads=st.lists(payload_text, min_size=1, max_size=10),
    terminator=st.sampled_from([b"\r", b"\n", b"\r\n", b"\t"]),
    aim=st.sampled_from([b"", b"]Q1", b"]d2"]),
)
def test_every_framed_scan_comes_out_once_in_order_and_reframing_is_stable(
    payloads, terminator, aim
):
    wire = b"".join(aim + p.encode() + terminator for p in payloads)
    out = frame_all([(0.0, wire)])
    got = [e.payload for e in out if isinstance(e, Frame)]
    assert got == [p.strip(" \t\r\n\x0b\x0c") for p in payloads]
    again = frame_all([(0.0, b"".join(g.encode() + b"\r" for g in got))], FramingConfig(aim=False))
    assert [e.payload for e in again if isinstance(e, Frame)] == got
