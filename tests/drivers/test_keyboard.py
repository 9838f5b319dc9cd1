"""Keyboard-wedge scanners: layouts, evdev key codes, layout repair, `verify card --keyboard`."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
from evdev import InputEvent, ecodes
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import open_source
from drivers.layout import LAYOUTS, KeyDecoder, render, repair, repair_auto, type_text
from drivers.scan import SourceError
from tests.conftest import run_verify
from verify.lookup.emulator import Emulator

URL = "https://www.migrationsverket.se/lmakort/VALID0001"


def ev(code: str, value: int) -> InputEvent:
    return InputEvent(1700000000, 0, ecodes.EV_KEY, ecodes.ecodes[code], value)


def press(code: str, shift: bool = False) -> list[InputEvent]:
    down = [ev("KEY_LEFTSHIFT", 1)] if shift else []
    up = [ev("KEY_LEFTSHIFT", 0)] if shift else []
    return [*down, ev(code, 1), ev(code, 0), *up]


# "https://" + Enter exactly as a US-layout scanner sends it (by hand, from the US key map).
US_HTTPS = [
    *press("KEY_H"), *press("KEY_T"), *press("KEY_T"), *press("KEY_P"), *press("KEY_S"),
    *press("KEY_SEMICOLON", shift=True), *press("KEY_SLASH"), *press("KEY_SLASH"),
    *press("KEY_ENTER"),
]  # fmt: skip
# The same text from a scanner set to Swedish: ":" is Shift+".", "/" is Shift+7.
SE_HTTPS = [
    *press("KEY_H"), *press("KEY_T"), *press("KEY_T"), *press("KEY_P"), *press("KEY_S"),
    *press("KEY_DOT", shift=True), *press("KEY_7", shift=True), *press("KEY_7", shift=True),
    *press("KEY_ENTER"),
]  # fmt: skip


def decode(events, layout):
    decoder = KeyDecoder(LAYOUTS[layout])
    return "".join(decoder.feed(e.type, e.code, e.value) for e in events)


def test_layout_key_codes_are_the_kernel_codes_evdev_uses():
    for code, (plain, _, _) in LAYOUTS["us"].keys.items():
        if plain.isalnum() and plain.isascii():
            assert ecodes.ecodes[f"KEY_{plain.upper()}"] == code
    for name in ("KEY_SEMICOLON", "KEY_SLASH", "KEY_102ND", "KEY_MINUS", "KEY_EQUAL", "KEY_DOT"):
        assert getattr(ecodes, name) in LAYOUTS["se"].keys


def test_evdev_events_are_mapped_with_the_scanners_layout_not_the_computers():
    assert decode(US_HTTPS, "us") == "https://\r"
    assert decode(SE_HTTPS, "se") == "https://\r"
    # what a computer with the other layout would have made of them:
    assert decode(US_HTTPS, "se") == "httpsÖ--\r"
    assert decode(SE_HTTPS, "us") == "https>&&\r"


def test_evdev_source_decodes_real_input_events_through_its_own_path():
    source = open_source("evdev:/dev/input/by-id/usb-scanner-event-kbd?layout=se")
    data = source.decode_events([(e.type, e.code, e.value) for e in SE_HTTPS])
    assert data == b"https://\r"


def test_keys_ignore_repeats_and_releases_and_handle_ctrl_and_altgr():
    events = [
        ev("KEY_A", 1), ev("KEY_A", 2), ev("KEY_A", 0),  # autorepeat ignored
        ev("KEY_LEFTCTRL", 1), *press("KEY_RIGHTBRACE"), ev("KEY_LEFTCTRL", 0),  # Ctrl+] = GS
        ev("KEY_RIGHTALT", 1), *press("KEY_2"), ev("KEY_RIGHTALT", 0),  # AltGr+2 on SE = @
    ]  # fmt: skip
    assert decode(events, "us")[:2] == "a\x1d"
    assert decode(events, "se")[-1] == "@"


def test_evdev_missing_device_and_bad_layout_are_clear_errors(tmp_path):
    with pytest.raises(SourceError, match="layout"):
        open_source("evdev:/dev/input/event0?layout=dvorak")
    with pytest.raises(SourceError, match="no-such"):
        with open_source(f"evdev:{tmp_path}/no-such-kbd") as source:
            next(iter(source))


@pytest.mark.parametrize(
    ("scanner", "desktop", "text"),
    [
        ("us", "se", URL),
        ("se", "us", URL),
        ("us", "se", "https://x.se:8443/a?token=ab_C&x=Y=1"),
        ("se", "us", "https://x.se/lma-kort/a?t=Z9"),
        ("us", "se", "P<UKRSHEVCHENKO<<TARAS<<<<<<<<<<<<<<<<<<<<<<"),
    ],
)
def test_mangled_urls_and_mrz_are_repaired_in_both_directions(scanner, desktop, text):
    mangled = render(type_text(text, LAYOUTS[scanner]), LAYOUTS[desktop])
    assert mangled != text
    assert repair_auto(mangled) == (text, (scanner, desktop))


def test_intact_or_unrepairable_text_is_left_alone():
    assert repair_auto(URL) == (URL, None)
    assert repair_auto("VALID0001") == ("VALID0001", None)
    assert repair_auto("12-345678") == ("12-345678", None)
    assert repair_auto("hello wörld") == ("hello wörld", None)


# "~" is left out: a Swedish scanner types it with AltGr, which a US desktop drops (lossy).
url_chars = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._")
)


@settings(max_examples=200, deadline=None)
@given(
    host=st.text(st.sampled_from("abcxyzKLM0129-"), min_size=1).filter(lambda s: s[0].isalnum()),
    path=st.lists(url_chars, max_size=4),
    pair=st.sampled_from([("us", "se"), ("se", "us")]),
)
def test_repair_inverts_any_mangled_url(host, path, pair):
    url = f"https://{host}.se/" + "/".join(path)
    mangled = render(type_text(url, LAYOUTS[pair[0]]), LAYOUTS[pair[1]])
    assert repair(mangled, scanner=pair[0], desktop=pair[1]) == url
    fixed, _ = repair_auto(mangled)
    assert fixed == url
    assert repair_auto(fixed) == (fixed, None)  # repairing twice equals once


def test_card_keyboard_reads_a_line_from_the_terminal():
    with Emulator() as emu:
        result = run_verify(
            "card", "--keyboard", "--json", input=emu.base_url + "VALID0001\n", env=emu.env()
        )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["validity"]["state"] == "valid"


def test_card_keyboard_repairs_a_us_scanner_on_a_swedish_desktop():
    with Emulator() as emu:
        mangled = render(type_text(emu.base_url + "NOWORK0001\r", LAYOUTS["us"]), LAYOUTS["se"])
        assert "Ö--" in mangled
        result = run_verify(
            "card", "--keyboard", "--json", input=mangled.replace("\r", "\n"), env=emu.env()
        )
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["validity"]["state"] == "valid" and status["validity"]["right_to_work"] is False


def test_card_keyboard_with_nothing_typed_is_a_clear_error():
    result = run_verify("card", "--keyboard", input="")
    assert result.returncode == 2
    assert "ingen kod lästes" in result.stderr and "Traceback" not in result.stderr


def test_stdin_source_on_a_silent_pipe_ends_promptly_when_closed(monkeypatch):

    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as pipe:
        monkeypatch.setattr("sys.stdin", pipe)  # a real pipe standing in for the terminal
        source = open_source("stdin:")
        got: list[str] = []
        ended = threading.Event()

        def run():
            for scan in source:
                got.append(scan.payload)
            ended.set()

        threading.Thread(target=run, daemon=True).start()
        os.write(write_end, b"VALID0001\n")
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        start = time.monotonic()
        source.close()
        assert ended.wait(2) and time.monotonic() - start < 0.5
        assert got == ["VALID0001"]
    os.close(write_end)


@settings(max_examples=300, deadline=None)
@given(
    events=st.lists(
        st.tuples(st.sampled_from([0, 1, 4]), st.integers(0, 300), st.integers(-1, 3)), max_size=80
    ),
    layout=st.sampled_from(["us", "se"]),
)
def test_any_key_event_sequence_decodes_without_error(events, layout):
    decoder = KeyDecoder(LAYOUTS[layout])
    text = "".join(decoder.feed(*e) for e in events)
    assert isinstance(text, str)
    assert decoder.shift >= 0 and decoder.ctrl >= 0


def test_alt_keypad_mode_types_any_character_whatever_the_layout():
    def alt(code: str) -> list[InputEvent]:
        digits = [d for c in code for d in press(f"KEY_KP{c}")]
        return [ev("KEY_LEFTALT", 1), *digits, ev("KEY_LEFTALT", 0)]

    events = [*alt("104"), *alt("058"), *alt("0246"), *alt("8364"), *press("KEY_ENTER")]
    for layout in ("us", "se"):  # h (cp437), ":" (cp1252), "ö" (cp1252), "€" (Unicode)
        assert decode(events, layout) == "h:ö€\r"
