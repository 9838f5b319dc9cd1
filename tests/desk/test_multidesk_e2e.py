"""End to end with the real parts: `verify desk add` and `verify desk serve` as processes, the
agency emulator, two headless Chromium sessions enrolled as two desks by their links, a
keyboard scanner's keys typed into each page through Chromium's input pipeline."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from drivers.layout import LAYOUTS, render, type_text
from tests.support_daemon import CHROMIUM_FLAGS, chromium, page_seen
from tests.support_desks import ServeProcess, StreamTap, add_desk, call
from verify.lookup.emulator import Emulator

SCANS = 200
# Everything the card on screen ever showed, kept by the page (a test hook outside the page).
WATCH = """
window.__seen = [];
const card = document.getElementById('card');
new MutationObserver(() => window.__seen.push(card.innerText)).observe(
    card, {subtree: true, childList: true, characterData: true, attributes: true});
"""
SCREEN = """
const t = (id) => document.getElementById(id).textContent;
return {link: t('manual-link'), headline: t('headline'), connection: t('connection'),
        summary: t('summary'), scan: document.getElementById('card').dataset.scan,
        buttons: [...document.querySelectorAll('#questions button')].map((b) => b.textContent)};
"""


def when(browser, predicate, timeout: float = 10.0) -> dict:  # type: ignore[no-untyped-def]
    return page_seen(browser, SCREEN, predicate, timeout)[0]


def keys(browser, text: str) -> None:
    """A scanner typing `text` then Enter: key events into the focused page."""
    for ch in text:
        browser.execute_cdp_cmd("Input.dispatchKeyEvent",
                                {"type": "keyDown", "key": ch, "text": ch})
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {
        "type": "keyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13,
        "text": "\r"})


def scanned(browser, text: str, shown) -> int:
    """Wait until the scan typed is on screen; scan again (as a clerk would) when a loaded
    machine's keys came slower than the gap and the page took a person typing. The rescans."""
    for attempt in range(4):
        try:
            when(browser, shown, 4.0)
            return attempt
        except AssertionError:
            keys(browser, text)
    raise AssertionError("four scans of one card never showed")


def enrol_in(browser, link: str) -> str:
    """Open the link, press the button; the desk page opens. Its path."""
    browser.get(link)
    browser.find_element("id", "enrol").click()
    deadline = time.monotonic() + 10
    while "/s/" not in browser.current_url:
        assert time.monotonic() < deadline, browser.page_source[-400:]
        time.sleep(0.05)
    return "/" + browser.current_url.split("/", 3)[3]


@pytest.mark.timeout(900)
def test_two_browser_desks_each_see_only_their_own_cards(tmp_path: Path) -> None:
    folder = tmp_path / "desks"
    with Emulator() as emu, chromium() as one, chromium() as two:
        # The operator adds two desks; each browser opens its own link once.
        links = [add_desk(folder, "reception 1", "VC Tensta", "http://localhost"),
                 add_desk(folder, "reception 2", "VC Rinkeby", "http://localhost")]
        serve = ServeProcess(folder, emu.env(), "--region", "skane", "--clear-after", "120",
                             "--key-gap", "500")
        try:
            base = f"http://localhost:{serve.port}"
            links = [link.replace("http://localhost", base) for link in links]
            pages = {"A": (one, enrol_in(one, links[0])), "B": (two, enrol_in(two, links[1]))}
            for browser, _ in pages.values():
                when(browser, lambda s: s["connection"] == "Skärmen har kontakt med tjänsten")
                browser.execute_script(WATCH)
            cookies = {name: "verify_desk=" + browser.get_cookie("verify_desk")["value"]
                       for name, (browser, _) in pages.items()}
            # The same browser, the other desk's link already spent: refused, nothing shown.
            one.get(links[1])
            assert "redan använts" in one.find_element("id", "refused").text
            one.back()
            when(one, lambda s: s["connection"] == "Skärmen har kontakt med tjänsten")
            one.execute_script(WATCH)

            taps = {name: StreamTap(serve.port, path, cookies[name])
                    for name, (_, path) in pages.items()}
            api: dict[str, bytes] = {"A": b"", "B": b""}
            rescans = 0
            for i in range(SCANS):
                tokens = {name: f"{name * 4}{i:05d}" for name in pages}
                if i % 50 == 49:
                    tokens["A"] = f"VALID{i:05d}"  # a valid card: the page asks the age
                for name, (browser, _) in pages.items():
                    keys(browser, emu.url(tokens[name]))
                for name, (browser, path) in pages.items():
                    token = tokens[name]
                    if token.startswith("VALID"):
                        rescans += scanned(browser, emu.url(token),
                                           lambda s: s["buttons"] == ["Barn under 18", "Vuxen"])
                        browser.find_element(
                            "xpath", "//div[@id='questions']//button[text()='Vuxen']").click()
                        when(browser, lambda s: s["summary"].startswith("Asylsökande över"))
                    else:
                        rescans += scanned(browser, emu.url(token), lambda s, t=token: s[
                            "link"].endswith("/" + t) and s["headline"] == "EJ GILTIGT")
                    if i % 20 == 0:
                        api[name] += call(serve.port, "GET", path + "api/status/latest",
                                          headers={"Cookie": cookies[name]}, host="localhost")[2]
            for name in pages:
                taps[name].wait_for(f"{name * 4}{SCANS - 2:05d}".encode())
            streams = {name: tap.close() for name, tap in taps.items()}
            seen = {name: "\n".join(browser.execute_script("return window.__seen;"))
                    for name, (browser, _) in pages.items()}
            page_bytes = {name: browser.page_source for name, (browser, _) in pages.items()}
        finally:
            serve.stop()

    assert rescans <= SCANS // 20, f"{rescans} scans had to be scanned again"
    for me, other in (("A", "B"), ("B", "A")):
        mine, theirs = me * 4, other * 4
        # Each page showed each of its own cards, and never one of the other desk's.
        assert all(f"{mine}{i:05d}" in seen[me] for i in range(SCANS) if i % 50 != 49
                   or me == "B")
        assert theirs not in seen[me] and theirs not in page_bytes[me]
        # The other desk's event stream and status API never carried them (raw bytes).
        assert streams[me].count(b"event: status") >= SCANS
        assert theirs.encode() not in streams[me] and theirs.encode() not in api[me]
        # The status API masks the token ("AA…"): its two first letters tell the desks apart.
        assert f'"lookup_token": "{mine[:2]}'.encode() in api[me]
        assert f'"lookup_token": "{theirs[:2]}'.encode() not in api[me]
        # Not one scan id of this desk's reached the other desk's stream or API.
        ids = set(re.findall(rb'"scan_id":"([^"]+)"', streams[me]))
        assert len(ids) >= SCANS
        assert not any(i in streams[other] or i in api[other] for i in ids)
    assert b"VALID" not in streams["B"] and "VALID" not in seen["B"]


DOC = Path(__file__).resolve().parents[2] / "docs" / "many-desks.md"


def kiosk_flags() -> list[str]:
    """The flags of the Chrome kiosk shortcut docs/many-desks.md tells a Windows desk to use."""
    line = next(line for line in DOC.read_text(encoding="utf-8").splitlines()
                if "chrome.exe" in line)
    flags = [word for word in line.split() if word.startswith("--")]
    assert "--kiosk" in flags
    return flags


def swedish_desk(text: str) -> str:
    """The characters a Swedish desktop makes of a scanner set to the US layout typing `text`."""
    return render(type_text(text, LAYOUTS["us"]), LAYOUTS["se"])


@pytest.mark.timeout(300)
def test_the_documented_kiosk_desk_reads_a_scanner_with_an_enter_or_tab_suffix(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "desks"
    link = add_desk(folder, "reception 3", "VC Kista", "http://localhost")
    opts = webdriver.ChromeOptions()
    for flag in (*CHROMIUM_FLAGS, *kiosk_flags()):
        opts.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="verify-kiosk-")
    opts.add_argument(f"--user-data-dir={profile}")
    opts.binary_location = "/usr/bin/chromium"
    with Emulator() as emu:
        # A loaded test machine may pass keys on slower than a scanner types them.
        serve = ServeProcess(folder, emu.env(), "--region", "skane", "--key-gap", "500")
        browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        try:
            link = link.replace("http://localhost", f"http://localhost:{serve.port}")
            enrol_in(browser, link)
            when(browser, lambda s: s["connection"] == "Skärmen har kontakt med tjänsten")
            badge = browser.find_element("id", "keyboard").text
            assert badge == "Tangentbordsskanner: redo", badge

            # A scanner left on the US layout, Enter suffix: repaired and shown.
            mangled = swedish_desk(emu.url("NOINFO0001"))
            assert mangled != emu.url("NOINFO0001")
            keys(browser, mangled)
            scanned(browser, mangled, lambda s: s["link"].endswith("/NOINFO0001")
                    and s["headline"] == "EJ GILTIGT")

            # No suffix: the page cannot tell the code has ended, and sends nothing.
            for ch in emu.url("NOINFO0002"):
                browser.execute_cdp_cmd("Input.dispatchKeyEvent",
                                        {"type": "keyDown", "key": ch, "text": ch})
            time.sleep(1.0)
            assert when(browser, lambda s: True)["link"].endswith("/NOINFO0001")

            # A Tab suffix works as Enter does.
            for attempt in range(4):
                for ch in emu.url("NOINFO0003"):
                    browser.execute_cdp_cmd("Input.dispatchKeyEvent",
                                            {"type": "keyDown", "key": ch, "text": ch})
                browser.execute_cdp_cmd("Input.dispatchKeyEvent", {
                    "type": "keyDown", "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9})
                try:
                    when(browser, lambda s: s["link"].endswith("/NOINFO0003")
                         and s["headline"] == "EJ GILTIGT", 4.0)
                    break
                except AssertionError:
                    assert attempt < 3, "a Tab-ended scan never showed"
        finally:
            browser.quit()
            shutil.rmtree(profile, ignore_errors=True)
            serve.stop()
