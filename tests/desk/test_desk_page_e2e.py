"""End to end with the real parts: a scanner on a pseudo-terminal, the agency emulator, `verify
daemon` as a process, the desk page in headless Chromium. Questions answered on the page, a
keyboard scanner typing into the page, honest /healthz, /metrics parsed by Prometheus' parser."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from drivers.layout import LAYOUTS, render, type_text
from tests.support_daemon import DaemonProcess, PtyScanner, chromium, daemon_env, page_seen
from verify.lookup.emulator import Emulator

LINKED = "Skärmen har kontakt med tjänsten"  # the page-link indicator, worded as what it is
READ = """
const t = (id) => document.getElementById(id).textContent;
return {headline: t('headline'), summary: t('summary'), meta: t('meta'),
        connection: t('connection'), keyboard: t('keyboard'),
        scan: document.getElementById('card').dataset.scan,
        answered: (document.getElementById('answered') || {}).textContent || '',
        buttons: [...document.querySelectorAll('#questions button')].map((b) => b.textContent),
        meanings: [...document.querySelectorAll('#questions .meaning')].map((m) => m.textContent)};
"""
PAGE_TOKEN = ("return JSON.parse(document.querySelector('meta[name=\"verify-page\"]').content)"
              ".page_token;")


def when(browser, predicate, timeout: float = 5.0) -> tuple[dict, float]:  # type: ignore[no-untyped-def]
    return page_seen(browser, READ, predicate, timeout)


def click(browser, label: str) -> float:
    for button in browser.find_elements("css selector", "#questions button"):
        if button.text == label:
            at = time.monotonic()
            button.click()
            return at
    raise AssertionError(f"no button {label!r}")


def http_call(base: str, method: str, path: str, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def swedish_desk(text: str) -> str:
    """The characters a Swedish desktop makes of a US-set scanner typing `text`."""
    return render(type_text(text, LAYOUTS["us"]), LAYOUTS["se"])


def type_keys(browser, text: str, per_key: float) -> None:
    """Key presses into the focused page through Chromium's input pipeline, then Enter."""
    if not per_key:
        # One WebDriver command for the whole burst: keys 1-2 ms apart, as a scanner types,
        # however busy the machine (a command per key costs 5-15 ms here).
        ActionChains(browser).send_keys(text + Keys.ENTER).perform()
        return
    for ch in text:
        browser.execute_cdp_cmd("Input.dispatchKeyEvent",
                                {"type": "keyDown", "key": ch, "text": ch})
        browser.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyUp", "key": ch})
        if per_key:
            time.sleep(per_key)
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {
        "type": "keyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13,
        "text": "\r"})
    browser.execute_cdp_cmd("Input.dispatchKeyEvent", {
        "type": "keyUp", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13})


def test_the_page_asks_child_or_adult_takes_the_answer_safely_and_reads_a_keyboard_scanner(
    tmp_path: Path,
) -> None:
    scanner = PtyScanner(tmp_path / "scanner")
    events = tmp_path / "events.jsonl"
    with Emulator() as emu, chromium() as browser:
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--source", "page:?gap=100",
             "--http", "127.0.0.1:0", "--region", "skane", "--clear-after", "60",
             "--events", str(events), "--verbose"],
            daemon_env(emu.env()), tmp_path,
        )
        try:
            base = daemon.desk_url()
            browser.get(base)
            daemon.wait_device_open(scanner.link)
            when(browser, lambda s: s["connection"] == LINKED)

            # A valid LMA card in Skåne: the rules need the age; the page asks it.
            scanner.scan(emu.url("VALID0001"))
            screen, _ = when(browser, lambda s: s["buttons"] == ["Barn under 18", "Vuxen"])
            assert screen["headline"] == "GILTIGT"
            assert screen["summary"].startswith("Kan inte avgöras ännu")
            assert screen["meanings"][1].startswith("Vård som inte kan anstå")
            first_scan = screen["scan"]
            clicked = click(browser, "Vuxen")
            screen, seen = when(browser, lambda s: s["summary"].startswith(
                "Asylsökande över 18 år"))
            assert seen - clicked < 1.0, f"the answer took {seen - clicked:.3f} s"
            assert screen["buttons"] == ["Ändra svaret"] and screen["headline"] == "GILTIGT"
            assert screen["answered"] == "Svar: Vuxen"

            # A wrong tap is undone on the page; the other answer gives the child's decision.
            click(browser, "Ändra svaret")
            when(browser, lambda s: s["buttons"] == ["Barn under 18", "Vuxen"]
                 and s["summary"].startswith("Kan inte avgöras"))
            click(browser, "Barn under 18")
            when(browser, lambda s: s["summary"].startswith("Asylsökande under 18 år"))

            # A reload forgets the answer: the page asks again for the same scan.
            browser.refresh()
            screen, _ = when(browser, lambda s: s["buttons"] == ["Barn under 18", "Vuxen"])
            assert screen["scan"] == first_scan
            click(browser, "Vuxen")
            when(browser, lambda s: s["summary"].startswith("Asylsökande över 18 år"))

            # The next scan forgets it too.
            scanner.scan(emu.url("VALID0002"))
            screen, _ = when(browser, lambda s: s["scan"] not in ("", first_scan))
            assert screen["buttons"] == ["Barn under 18", "Vuxen"]
            second_scan = screen["scan"]

            # A cross-origin or token-less POST is refused and changes nothing.
            token = browser.execute_script(PAGE_TOKEN)
            body = json.dumps({"scan": second_scan, "answers": {"age": "18-130"}}).encode()
            own = {"Content-Type": "application/json", "Host": urlsplit(base).netloc}
            for headers, expected in [
                ({**own, "X-Verify-Page": token, "Origin": "http://evil.example",
                  "Sec-Fetch-Site": "cross-site"}, 403),
                ({**own, "Origin": f"http://{urlsplit(base).netloc}"}, 403),
                ({**own, "X-Verify-Page": token, "Sec-Fetch-Site": "cross-site"}, 403),
            ]:
                status, _ = http_call(base, "POST", "/api/answer", body, headers)
                assert status == expected
            refused = browser.execute_async_script("""
                const done = arguments[arguments.length - 1];
                fetch('/api/answer', {method: 'POST', headers: {'Content-Type':
                  'application/json'}, body: arguments[0]}).then((r) => done(r.status));
            """, body.decode())
            assert refused == 403
            time.sleep(0.3)
            screen = browser.execute_script(READ)
            assert screen["buttons"] == ["Barn under 18", "Vuxen"]
            assert screen["summary"].startswith("Kan inte avgöras ännu")
            status, latest = http_call(base, "GET", "/api/status/latest")
            assert json.loads(latest)["event"]["decision"]["entitlement"] == "manual_check"

            # A page of another origin (the emulator's) tries a form-like POST a browser sends
            # without asking first; the desk refuses it (Sec-Fetch-Site), nothing changes.
            browser.get(emu.url("NOINFO0099"))
            browser.execute_async_script("""
                const done = arguments[arguments.length - 1];
                fetch(arguments[0] + 'api/answer', {method: 'POST', mode: 'no-cors',
                  headers: {'Content-Type': 'text/plain'}, body: arguments[1]})
                  .then(() => done(), () => done());
            """, base, body.decode())
            status, latest = http_call(base, "GET", "/api/status/latest")
            assert json.loads(latest)["event"]["decision"]["entitlement"] == "manual_check"
            browser.get(base)
            screen, _ = when(browser, lambda s: s["connection"] == LINKED and s["buttons"])
            assert screen["scan"] == second_scan

            # A keyboard scanner set to US, on a Swedish desk, typing into the page.
            assert screen["keyboard"] == "Tangentbordsskanner: redo"
            card = emu.url("NOINFO0001")
            typed = swedish_desk(card)
            assert typed != card and "Ö" in typed
            type_keys(browser, typed, per_key=0.0)
            screen, _ = when(browser, lambda s: s["headline"] == "EJ GILTIGT")
            lines = [json.loads(x) for x in events.read_text().splitlines()]
            assert lines[-1]["event"]["source"] == "page:?gap=100"
            assert lines[-1]["validity"]["state"] == "not_valid"
            before = len(lines)

            # The same keys at a person's speed are not a scan.
            type_keys(browser, swedish_desk(emu.url("VALID0003")), per_key=0.2)
            time.sleep(1.0)
            assert browser.execute_script(READ)["headline"] == "EJ GILTIGT"
            assert len(events.read_text().splitlines()) == before

            # Fleet metrics: Prometheus' own parser, no token or card number in them.
            status, metrics = http_call(base, "GET", "/metrics")
            assert status == 200
            text = metrics.decode()
            for secret in ("VALID0001", "VALID0002", "VALID0003", "NOINFO0001", token):
                assert secret not in text
            families = {f.name: f for f in text_string_to_metric_families(text)}
            scans = {(s.labels["source"], s.labels["outcome"]): s.value
                     for s in families["verify_scans"].samples if s.name.endswith("_total")}
            assert scans[(f"serial:{scanner.link}", "valid")] == 2
            assert scans[("page:", "not_valid")] == 1
            connected = {s.labels["source"]: s.value
                         for s in families["verify_source_connected"].samples}
            assert connected == {f"serial:{scanner.link}": 1.0, "page:": 1.0}
        finally:
            code = daemon.stop()
            scanner.unplug()
    assert code == 0
    # Debug logging was on: the answers, the bursts and the tokens still never reach a log.
    journal = "\n".join(daemon.log + daemon.out) + events.read_text()
    assert "POST /api/answer 200" in journal and "POST /api/scan 202" in journal
    for secret in ("VALID0001", "VALID0002", "NOINFO0001", "18-130", "lmakort-", "Ö"):
        assert secret not in journal, secret


def test_healthz_is_503_while_the_scanner_is_unplugged_or_lookups_fail(tmp_path: Path) -> None:
    scanner = PtyScanner(tmp_path / "scanner")
    with Emulator() as emu:
        daemon = DaemonProcess(
            ["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0",
             "--dedupe-seconds", "0"],
            daemon_env(emu.env()), tmp_path,
        )

        def health(expect: int, timeout: float = 10.0) -> dict:
            deadline = time.monotonic() + timeout
            while True:
                status, body = http_call(base, "GET", "/healthz")
                if status == expect:
                    return json.loads(body)
                assert time.monotonic() < deadline, f"/healthz stays {status}: {body!r}"
                time.sleep(0.05)

        try:
            base = daemon.desk_url()
            daemon.wait_device_open(scanner.link)
            assert health(200)["ok"] is True
            scanner.unplug()
            report = health(503)
            assert report["ok"] is False
            assert report["reasons"] == [f"source serial:{scanner.link} is not connected "
                                         "(waiting)"]
            scanner.plug()
            daemon.wait_device_open(scanner.link)
            health(200)

            emu.outage = True
            for token in ("VALID0011", "VALID0012", "VALID0013"):
                scanner.scan(emu.url(token))
            report = health(503)
            assert report["reasons"] == ["the last 3 lookups all failed"]
            emu.outage = False
            scanner.scan(emu.url("VALID0014"))
            health(200)
        finally:
            code = daemon.stop()
            scanner.unplug()
    assert code == 0
