"""The desk page against what a hostile or careless desk browser does, end to end with the real
parts (`verify daemon` as a process, a scanner on a pseudo-terminal, the agency emulator, the page
in headless Chromium): every event-stream slot taken when the page loads; keys a script makes,
a key held down, a person typing fast."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.support_daemon import DaemonProcess, PtyScanner, chromium, daemon_env, page_seen
from verify.desk import server as desk_server
from verify.lookup.emulator import Emulator

LINKED = "Skärmen har kontakt med tjänsten"  # the page-link indicator, linked

READ = """
const t = (id) => document.getElementById(id).textContent;
return {headline: t('headline'), connection: t('connection'), meta: t('meta'),
        scan: document.getElementById('card').dataset.scan};
"""


def when(browser, predicate, timeout: float = 5.0) -> dict:  # type: ignore[no-untyped-def]
    return page_seen(browser, READ, predicate, timeout)[0]


def hold_stream(netloc: str) -> socket.socket:
    """An event stream as the desk's own page opens it, held open."""
    host, port = netloc.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: {netloc}\r\nOrigin: http://{netloc}\r\n"
                 "Sec-Fetch-Site: same-origin\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.0 200 "), head[:60]
    return sock


def key(browser, ch: str, repeat: bool = False) -> None:
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {
        "type": "keyDown", "key": ch, "text": ch, "autoRepeat": repeat})


def enter(browser) -> None:
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {
        "type": "keyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13,
        "text": "\r"})
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {
        "type": "keyUp", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13})


def type_keys(browser, text: str, per_key: float) -> None:
    """Trusted key presses through Chromium's input pipeline, `per_key` apart, then Enter."""
    if not per_key:
        # One WebDriver command for the whole burst: keys 1-2 ms apart, as a scanner types,
        # however busy the machine (a command per key costs 5-15 ms here).
        ActionChains(browser).send_keys(text + Keys.ENTER).perform()
        return
    next_at = time.monotonic()
    for ch in text:
        wait = next_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        key(browser, ch)
        next_at += per_key
    enter(browser)


SCRIPT_TYPES = """
const text = arguments[0];
for (const ch of text) {
  document.dispatchEvent(new KeyboardEvent('keydown', {key: ch, bubbles: true}));
}
document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
"""


@contextmanager
def desk(tmp_path: Path) -> Iterator[tuple[DaemonProcess, PtyScanner, Emulator, object, Path]]:
    """`verify daemon` with a pty scanner and a `page:` source, the emulator, a browser."""
    scanner = PtyScanner(tmp_path / "scanner")
    events = tmp_path / "events.jsonl"
    with Emulator() as emu, chromium() as browser:
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--source", "page:",
             "--http", "127.0.0.1:0", "--region", "skane", "--clear-after", "120",
             "--events", str(events)],
            daemon_env(emu.env()), tmp_path,
        )
        try:
            daemon.wait_device_open(scanner.link)
            yield daemon, scanner, emu, browser, events
        finally:
            code = daemon.stop()
            scanner.unplug()
    assert code == 0
    assert "Traceback" not in "\n".join(daemon.log)


def test_the_page_tries_again_after_a_503_and_says_when(tmp_path: Path) -> None:
    with desk(tmp_path) as (daemon, scanner, emu, browser, _):
        base = daemon.desk_url()
        netloc = urlsplit(base).netloc
        # Every event-stream slot is taken when the page loads: it gets a 503, says it will
        # try again and when, and does, until a slot is free.
        held = [hold_stream(netloc) for _ in range(desk_server.MAX_STREAMS)]
        try:
            browser.get(base)
            first = when(browser, lambda s: s["connection"].startswith(
                "Ingen kontakt med tjänsten – försöker igen om "))
            assert first["connection"].endswith(" s")
            time.sleep(2.5)  # one retry has failed by now: still counting down, still trying
            assert browser.execute_script(READ)["connection"].startswith(
                "Ingen kontakt med tjänsten – försöker igen om ")
        finally:
            for sock in held:
                sock.close()
        when(browser, lambda s: s["connection"] == LINKED, timeout=12)
        scanner.scan(emu.url("VALID0001"))
        when(browser, lambda s: s["headline"] == "GILTIGT")


def test_only_a_scanners_keys_make_a_scan_and_a_held_key_leaves_the_patient(
    tmp_path: Path,
) -> None:
    with desk(tmp_path) as (daemon, _, emu, browser, events):
        browser.get(daemon.desk_url())
        when(browser, lambda s: s["connection"] == LINKED)
        # A keyboard scanner (trusted keys, scanner speed) makes a scan.
        type_keys(browser, emu.url("NOINFO0001"), per_key=0.0)
        screen = when(browser, lambda s: s["headline"] == "EJ GILTIGT")
        patient = screen["scan"]
        before = events.read_text().splitlines()
        assert json.loads(before[-1])["event"]["source"] == "page:"

        # A key held down (auto-repeat), then Enter: not a scan; the patient stays.
        key(browser, "a")
        for _ in range(40):
            key(browser, "a", repeat=True)
        enter(browser)
        # One character over and over without the repeat flag: not a scan either.
        type_keys(browser, "b" * 40, per_key=0.0)
        type_keys(browser, "https://x" + "d" * 30, per_key=0.0)  # typed, then a key held
        # Keys a script makes: not a scan.
        browser.execute_script(SCRIPT_TYPES, emu.url("VALID0002"))
        # A person typing fast and steadily, 45 ms a key: not a scan.
        type_keys(browser, emu.url("VALID0003"), per_key=0.045)
        time.sleep(1.0)
        screen = browser.execute_script(READ)
        assert screen["headline"] == "EJ GILTIGT" and screen["scan"] == patient
        assert events.read_text().splitlines() == before


FOREIGN_FORM = """
const [action, guesses] = arguments;
for (let i = 0; i < guesses; i++) {
  const frame = document.createElement('iframe');
  frame.name = 'f' + i;
  document.body.append(frame);
  const form = document.createElement('form');
  form.method = 'post'; form.action = action; form.target = frame.name;
  const input = document.createElement('input');
  input.name = 'token'; input.value = 'guess-' + i;
  form.append(input);
  document.body.append(form);
  form.submit();
}
"""

TOKEN = "desk-token-0123456789"


def test_the_login_form_works_and_a_foreign_page_cannot_lock_the_desk_out(tmp_path: Path) -> None:
    scanner = PtyScanner(tmp_path / "scanner")
    with Emulator() as emu, chromium() as browser:
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0", "--token", TOKEN,
             "--verbose"],
            daemon_env(emu.env()), tmp_path,
        )
        try:
            base = daemon.desk_url()
            # A page of another origin (the emulator's) in the desk's browser posts twenty
            # wrong tokens to the desk's login form.
            browser.get(emu.url("NOINFO0099"))
            browser.execute_script(FOREIGN_FORM, base + "login", 20)
            time.sleep(2.0)
            # The desk logs in with the right token through its own form, as staff do.
            browser.get(base + "login")
            browser.find_element("name", "token").send_keys(TOKEN + Keys.ENTER)
            screen = when(browser, lambda s: s["connection"] == LINKED, timeout=10)
            assert screen["headline"] == "Väntar på kort …"
        finally:
            daemon.stop()
            scanner.unplug()
    assert "Traceback" not in "\n".join(daemon.log)
    journal = "\n".join(daemon.log)
    assert journal.count("POST /login 403") == 20  # the foreign posts came, and were refused
    assert TOKEN not in journal and "guess-" not in journal
