"""The service for many desks over real HTTP on loopback (the agency emulator behind it): every
refusal the issue names is a clear 4xx that shows nothing, scans and answers stay on their
desk, the operator sees desks and never patients."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from tests.support_desks import StreamTap, burst, call, page_token
from verify.cli.daemon import default_checker
from verify.desk.config import DaemonConfig
from verify.desk.deskbook import load_book, load_key, save_book
from verify.desk.desks import (
    Book,
    Desk,
    SiteSettings,
    credential,
    enrolment_token,
    new_desk_id,
)
from verify.desk.forwarding import networks
from verify.desk.metrics import DeskMetrics
from verify.desk.multidesk import MultiDeskServer, Service
from verify.lookup.emulator import Emulator


@dataclass
class Rig:
    server: MultiDeskServer
    emu: Emulator
    folder: Path
    key: bytes
    a: Desk
    b: Desk

    @property
    def port(self) -> int:
        return self.server.port

    def link(self, desk: Desk, *, now: float | None = None, valid_for: float = 900) -> str:
        token = enrolment_token(self.key, desk, now=time.time() if now is None else now,
                                valid_for=valid_for)
        return f"/enrol/{token}"

    def enrol(self, desk: Desk) -> str:
        status, headers, _ = call(self.port, "POST", self.link(desk))
        assert status == 303
        return headers["set-cookie"].split(";")[0]

    def scan(self, desk: Desk, cookie: str, token: str) -> tuple[int, bytes]:
        _, _, page = call(self.port, "GET", desk.path, headers={"Cookie": cookie})
        status, _, body = call(self.port, "POST", desk.path + "api/scan",
                               burst(self.emu.url(token)),
                               {"Cookie": cookie, "X-Verify-Page": page_token(page),
                                "Content-Type": "application/json"})
        return status, body


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    folder = tmp_path / "desks"
    key = load_key(folder, create=True)
    a = Desk(new_desk_id(), "reception 1", "VC Tensta")
    b = Desk(new_desk_id(), "reception 2", "VC Rinkeby", lang="en")
    save_book(folder, Book(desks={a.id: a, b.id: b}))
    with Emulator() as emu:
        service = Service(key=key, desks=folder,
                          base=DaemonConfig(sources=("page:",), region="skane"),
                          proxies=networks(["10.9.9.9"]), operators=networks(["127.0.0.1"]),
                          reload_seconds=0.5, max_pages=8)
        server = MultiDeskServer(("127.0.0.1", 0), service,
                                 checker=default_checker(emu.settings()),
                                 metrics=DeskMetrics(sources=lambda: {}))
        server.start()
        try:
            yield Rig(server, emu, folder, key, a, b)
        finally:
            server.stop()


def test_an_enrolment_link_works_once_and_gives_a_path_scoped_secure_cookie(rig: Rig) -> None:
    link = rig.link(rig.a)
    status, _, page = call(rig.port, "GET", link)  # a link preview does not spend it
    assert status == 200 and b"reception 1" in page and b'method="post"' in page
    status, headers, _ = call(rig.port, "POST", link)
    assert status == 303 and headers["location"] == rig.a.path
    attrs = [a.strip() for a in headers["set-cookie"].split(";")]
    assert {"HttpOnly", "Secure", "SameSite=Strict", f"Path={rig.a.path}"} <= set(attrs)

    status, headers, page = call(rig.port, "POST", link)
    assert status == 410 and "set-cookie" not in headers
    assert "har redan använts".encode() in page


def test_expired_and_tampered_links_are_refused_and_give_nothing(rig: Rig) -> None:
    expired = rig.link(rig.a, now=time.time() - 3600, valid_for=60)
    for method in ("GET", "POST"):
        status, headers, page = call(rig.port, method, expired)
        assert status == 410 and "set-cookie" not in headers
        assert "har gått ut".encode() in page

    good = rig.link(rig.a).split("/")[-1]
    kind, desk, nonce, expires, mac = good.split(".")
    tampered = [
        f"{kind}.{desk}.{nonce}.{int(expires) + 86400}.{mac}",  # a longer life
        f"{kind}.{rig.b.id}.{nonce}.{expires}.{mac}",  # another desk
        f"{kind}.{desk}.{nonce}.{expires}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        f"c1.{desk}.{nonce}.{expires}.{mac}",  # the wrong kind of token
        "e1.not-a-desk", "", "%00", "e1." + "x" * 300,
    ]
    for token in tampered:
        status, headers, page = call(rig.port, "POST", f"/enrol/{token}")
        assert status in (403, 404) and "set-cookie" not in headers, token
    status, _, page = call(rig.port, "POST", f"/enrol/{tampered[0]}")
    assert status == 403 and b"inte giltig" in page


def test_a_revoked_desk_is_refused_everywhere_within_the_reload_interval(rig: Rig) -> None:
    cookie = rig.enrol(rig.a)
    tap = StreamTap(rig.port, rig.a.path, cookie)
    tap.wait_for(b"retry:")
    book = load_book(rig.folder)
    save_book(rig.folder, replace(book, desks={**book.desks,
                                               rig.a.id: replace(rig.a, revoked=True)}))
    deadline = time.monotonic() + 3.0
    while call(rig.port, "GET", rig.a.path, headers={"Cookie": cookie})[0] != 403:
        assert time.monotonic() < deadline, "the revocation never took"
        time.sleep(0.1)
    status, _, page = call(rig.port, "GET", rig.a.path, headers={"Cookie": cookie})
    assert "spärrad".encode() in page and b"verify-page" not in page
    for path in ("api/status/latest", "api/events"):
        assert call(rig.port, "GET", rig.a.path + path, headers={"Cookie": cookie})[0] == 403
    status, _, _ = call(rig.port, "POST", rig.a.path + "api/scan", burst("x" * 20),
                        {"Cookie": cookie, "Content-Type": "application/json"})
    assert status == 403
    assert call(rig.port, "POST", rig.link(rig.a))[0] == 403  # no new browser either
    tap.close()  # its open feed was ended by the server (else this would block the join)


def test_a_cookie_from_another_desk_or_site_path_is_refused(rig: Rig) -> None:
    a_cookie = rig.enrol(rig.a)
    status, body = rig.scan(rig.a, a_cookie, "AAAA0001")
    assert status == 200 and b"AAAA0001" in body
    # Desk A's cookie sent by hand to desk B's path (the browser would not: Path): refused.
    for path in ("", "api/status/latest", "api/events"):
        status, headers, page = call(rig.port, "GET", rig.b.path + path,
                                     headers={"Cookie": a_cookie})
        assert status == 403 and b"AAAA0001" not in page
    # Desk B's id under A's site segment, and a cookie copied onto A's desk under B's site.
    forged_path = rig.a.path.replace(rig.a.id, rig.b.id)
    assert call(rig.port, "GET", forged_path, headers={"Cookie": a_cookie})[0] == 404
    forged_site = rig.b.path.replace(rig.b.id, rig.a.id)
    assert call(rig.port, "GET", forged_site, headers={"Cookie": a_cookie})[0] == 404
    # A credential rightly signed for this desk but older than its life: refused.
    old = credential(rig.key, rig.a, now=time.time() - 401 * 86400)
    assert call(rig.port, "GET", rig.a.path, headers={"Cookie": f"verify_desk={old}"})[0] == 403
    # The desk's address without its last slash leads to the page (its paths are relative).
    status, headers, _ = call(rig.port, "GET", rig.a.path.rstrip("/"))
    assert status == 308 and headers["location"] == rig.a.path
    # No cookie at all: 401, a sentence, nothing else.
    status, _, page = call(rig.port, "GET", rig.a.path)
    assert status == 401 and b"AAAA0001" not in page and b"verify-page" not in page


def test_forwarding_headers_from_an_address_that_is_not_the_proxy_are_refused(rig: Rig) -> None:
    cookie = rig.enrol(rig.a)
    rig.scan(rig.a, cookie, "AAAA0002")
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "Forwarded", "X-Real-IP",
                   "x-forwarded-host", "X-Forwarded-Port"):
        value = "https" if header == "X-Forwarded-Proto" else "10.9.9.9"
        for path in (rig.a.path, rig.a.path + "api/status/latest", "/operator", "/metrics"):
            status, _, body = call(rig.port, "GET", path,
                                   headers={"Cookie": cookie, header: value})
            assert status == 400, (header, path)
            assert b"AAAA0002" not in body and b"reception 1" not in body


def test_answers_go_with_their_ticket_to_their_desk_only(rig: Rig) -> None:
    a_cookie, b_cookie = rig.enrol(rig.a), rig.enrol(rig.b)
    _, body = rig.scan(rig.a, a_cookie, "VALID0001")
    shown = json.loads(body)
    assert shown["desk"]["headline"] == "GILTIGT" and shown["ticket"]
    age = shown["desk"]["questions"][0]["options"][1]["value"]
    _, _, page = call(rig.port, "GET", rig.a.path, headers={"Cookie": a_cookie})
    headers = {"Cookie": a_cookie, "X-Verify-Page": page_token(page),
               "Content-Type": "application/json"}
    answer = {"scan": shown["desk"]["scan_id"], "answers": {"age": age},
              "ticket": shown["ticket"]}
    status, _, body = call(rig.port, "POST", rig.a.path + "api/answer", json.dumps(answer),
                           headers)
    assert status == 200 and json.loads(body)["desk"]["summary"].startswith("Asylsökande över")
    # The same ticket at desk B (its own cookie and page): no such scan there.
    _, _, b_page = call(rig.port, "GET", rig.b.path, headers={"Cookie": b_cookie})
    status, _, body = call(rig.port, "POST", rig.b.path + "api/answer", json.dumps(answer),
                           {"Cookie": b_cookie, "X-Verify-Page": page_token(b_page),
                            "Content-Type": "application/json"})
    assert status == 409 and b"Asyls" not in body
    # A ticket changed by one character is no ticket.
    bad = dict(answer, ticket=answer["ticket"][:-2] + "xx")
    assert call(rig.port, "POST", rig.a.path + "api/answer", json.dumps(bad), headers)[0] == 409


def test_the_operator_page_and_metrics_name_desks_never_patients(rig: Rig) -> None:
    cookie = rig.enrol(rig.a)
    rig.scan(rig.a, cookie, "AAAA0003")
    tap = StreamTap(rig.port, rig.a.path, cookie)
    tap.wait_for(b"event:")
    status, _, page = call(rig.port, "GET", "/operator")
    assert status == 200 and b"reception 1" in page and b"reception 2" in page
    assert b"AAAA" not in page and b"lmakort" not in page
    row = page.split(f'data-desk="{rig.a.id}"'.encode())[1].split(b"</tr>")[0]
    assert b"<td>ja</td>" in row  # its page is open
    status, _, text = call(rig.port, "GET", "/metrics")
    assert status == 200 and b"AAAA" not in text
    samples = {(s.name, s.labels.get("desk"), s.labels.get("outcome")): s.value
               for f in text_string_to_metric_families(text.decode()) for s in f.samples}
    assert samples[("verify_desk_page_connected", "reception 1", None)] == 1.0
    assert samples[("verify_desk_page_connected", "reception 2", None)] == 0.0
    assert samples[("verify_desk_scans_total", "reception 1", "not_valid")] == 1.0
    assert samples[("verify_desk_last_scan_timestamp_seconds", "reception 1", None)] > 0
    tap.close()
    # Through the proxy (a trusted address saying who the client is): not for operators.
    rig.server.service = replace(rig.server.service, proxies=networks(["127.0.0.1"]))
    status, _, _ = call(rig.port, "GET", "/operator",
                        headers={"X-Forwarded-For": "127.0.0.1"})
    assert status == 403


def test_two_desks_interleaved_over_http_never_see_each_other(rig: Rig) -> None:
    a_cookie, b_cookie = rig.enrol(rig.a), rig.enrol(rig.b)
    taps = {"a": StreamTap(rig.port, rig.a.path, a_cookie),
            "b": StreamTap(rig.port, rig.b.path, b_cookie)}
    statuses = {"a": b"", "b": b""}
    for i in range(20):
        for name, desk, cookie in (("a", rig.a, a_cookie), ("b", rig.b, b_cookie)):
            status, body = rig.scan(desk, cookie, f"{name.upper() * 4}{i:04d}")
            assert status == 200
            statuses[name] += call(rig.port, "GET", desk.path + "api/status/latest",
                                   headers={"Cookie": cookie})[2]
    taps["a"].wait_for(b"AAAA0019")
    taps["b"].wait_for(b"BBBB0019")
    seen = {name: tap.close() + statuses[name] for name, tap in taps.items()}
    assert b"AAAA" not in seen["b"] and b"BBBB" not in seen["a"]
    assert seen["a"].count(b"event: status") == 20 and seen["b"].count(b"event: status") == 20
    assert b"Check by hand" in seen["b"]  # desk B speaks English (its own setting)


def test_a_sites_language_and_region_apply_to_its_desks_when_the_file_changes(rig: Rig) -> None:
    cookie = rig.enrol(rig.a)
    _, body = rig.scan(rig.a, cookie, "AAAA0100")
    assert json.loads(body)["desk"]["headline"] == "EJ GILTIGT"
    book = load_book(rig.folder)
    save_book(rig.folder, replace(book, sites={"VC Tensta": SiteSettings(lang="en")}))
    deadline = time.monotonic() + 3.0
    while json.loads(rig.scan(rig.a, cookie, "AAAA0101")[1])["desk"]["headline"] != "NOT VALID":
        assert time.monotonic() < deadline, "the site's language never applied"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def lone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Desk, str]]:
    """One desk on one server with one scan on its screen, for hostile requests."""
    folder = tmp_path_factory.mktemp("lone") / "desks"
    key = load_key(folder, create=True)
    desk = Desk(new_desk_id(), "reception 9", "VC Tensta")
    save_book(folder, Book(desks={desk.id: desk}))
    with Emulator() as emu:
        service = Service(key=key, desks=folder,
                          base=DaemonConfig(sources=("page:",), region="skane"))
        server = MultiDeskServer(("127.0.0.1", 0), service,
                                 checker=default_checker(emu.settings()),
                                 metrics=DeskMetrics(sources=lambda: {}))
        server.start()
        try:
            rig = Rig(server, emu, folder, key, desk, desk)
            cookie = rig.enrol(desk)
            assert rig.scan(desk, cookie, "SECRET0001")[0] == 200
            yield server.port, desk, cookie
        finally:
            server.stop()


@given(st.text(alphabet=st.sampled_from("abcdefghij/.%-_s?#;=:"), max_size=40),
       st.sampled_from(["GET", "POST", "HEAD"]),
       st.sampled_from(["", "verify_desk=", "verify_desk=c1.x.y.1.z", "a=b"]))
@settings(max_examples=150)
def test_any_path_without_the_desks_credential_shows_nothing_and_never_fails(
    lone: tuple[int, Desk, str], tail: str, method: str, cookie: str,
) -> None:
    port, desk, _ = lone
    for path in (f"/s/{tail}", f"{desk.path}{tail}", f"/enrol/{tail}", f"/{tail}"):
        status, _, body = call(port, method, quote(path, safe="/%?#;=:"),
                               headers={"Cookie": cookie} if cookie else {})
        assert status < 500, (path, status)
        assert b"SECRET0001" not in body and b"verify-page" not in body
