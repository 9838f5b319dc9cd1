"""Questions on the desk page: the view offers them, the server takes answers safely.

Real loopback HTTP; the page's token is read from the page as a browser would.
"""

from __future__ import annotations

import html
import http.client
import json
import re
import threading
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers import open_source
from drivers.page import KeyboardPolicy
from tests.support_daemon import status_for, url
from verify.cards.mrz import compose_td1, mrz_status, parse_mrz
from verify.check import with_decision
from verify.desk.config import build_config
from verify.desk.events import Event
from verify.desk.server import DeskServer
from verify.desk.state import BadAnswer, DeskState, decide_with_answers
from verify.desk.view import desk_view

TODAY = date(2026, 11, 22)


def decided(payload: str, region: str = "skane"):
    return with_decision(status_for(payload), region=region, today=TODAY)


def an_event(payload: str, seq: int = 1) -> Event:
    at = datetime.now().astimezone()
    return Event(seq=seq, status=decided(payload), source="feed:x", symbology="qr",
                 scanned_at=at, emitted_at=at, latency_ms=1.0)


# -- the view -------------------------------------------------------------------------------


def test_a_valid_lma_card_in_skane_asks_child_or_adult_and_says_what_each_means():
    view = desk_view(decided(url("VALID0001")))
    assert "saknas uppgifter (ålder)" in view["summary"]
    [question] = view["questions"]
    assert question["answerable"] and question["question"] == "Hur gammal är patienten?"
    labels = [o["label"] for o in question["options"]]
    assert labels == ["Barn under 18", "Vuxen"]
    meanings = [o["meaning"] for o in question["options"]]
    assert meanings[0].startswith("Samma vård som folkbokförda")
    assert meanings[1].startswith("Vård som inte kan anstå")


def test_the_questions_are_in_english_with_lang_en():
    [question] = desk_view(decided(url("VALID0001")), lang="en")["questions"]
    assert question["question"] == "How old is the patient?"
    assert [o["label"] for o in question["options"]] == ["Child under 18", "Adult"]
    assert question["options"][1]["meaning"].startswith("Care that cannot wait")


def test_a_ut_card_whose_zone_gives_the_birth_date_asks_nothing():
    zone = compose_td1(expiry="300304", document_number="UA1234567", birth="850315",
                       surname="Shevchenko", given_names="Olena", sex="F")
    status = mrz_status(parse_mrz(zone), today=TODAY)
    assert status.document.kind == "ut" and status.validity.state == "valid"
    view = desk_view(with_decision(status, region="skane", today=TODAY))
    assert view["questions"] == []
    assert "saknas" not in view["summary"]


def test_a_scan_that_is_not_a_card_shows_no_decision():
    status = with_decision(status_for("https://shop.example/x"), region="skane", today=TODAY)
    view = desk_view(status)
    assert view["headline"] == "INTE ETT KORT"
    assert view["summary"] == "" and view["steps"] == [] and view["questions"] == []


def test_an_answer_decides_and_a_wrong_one_is_refused():
    status = decided(url("VALID0001"))
    adult = decide_with_answers(status, "skane", {"age": "18-130"})
    assert adult.decision is not None and adult.decision.entitlement == "care_that_cannot_wait"
    assert adult.decision.missing == ()
    child = decide_with_answers(status, "skane", {"age": "0-17"})
    assert child.decision is not None and child.decision.entitlement == "same_as_resident"
    for bad in ({"age": "18-131"}, {"age": "40"}, {"category": "resident"},
                {"validity": "valid"}, {"__proto__": "x"}):
        with pytest.raises(BadAnswer):
            decide_with_answers(status, "skane", bad)


def test_two_questions_are_answered_one_after_the_other():
    status = decided(url("NOINFO0001"))
    facts = [m.fact for m in status.decision.missing]  # type: ignore[union-attr]
    assert facts == ["why_card_not_valid", "age"]
    after = decide_with_answers(status, "skane", {"why_card_not_valid": "undocumented",
                                                  "age": "18-130"})
    assert after.decision is not None and after.decision.missing == ()
    assert after.decision.category == "undocumented"


# -- the server ---------------------------------------------------------------------------------


@pytest.fixture
def desk():
    config = build_config({"sources": ["feed:x"], "clear_after": 30, "region": "skane"})
    return DeskState(lambda: config)


@pytest.fixture
def server(desk):
    srv = DeskServer(("127.0.0.1", 0), desk)
    srv.start()
    yield srv
    desk.close()
    srv.stop()


def request(srv, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def page_token(srv) -> str:
    status, body = request(srv, "GET", "/")
    assert status == 200
    content = re.search(rb'<meta name="verify-page" content="([^"]*)"', body)
    assert content is not None
    return json.loads(html.unescape(content.group(1).decode()))["page_token"]


def post_answer(srv, data, token, extra=None):
    headers = {"Content-Type": "application/json", "X-Verify-Page": token,
               "Origin": f"http://127.0.0.1:{srv.port}", "Sec-Fetch-Site": "same-origin",
               **(extra or {})}
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return request(srv, "POST", "/api/answer", body, headers)


def test_an_answer_from_the_page_gives_the_adult_decision_and_changes_nothing_shared(
    server, desk
):
    desk.emit(an_event(url("VALID0001")))
    shown = desk.latest_record()
    scan = desk._desk["desk"]["scan_id"]
    token = page_token(server)
    status, body = post_answer(server, {"scan": scan, "answers": {"age": "18-130"}}, token)
    assert status == 200
    view = json.loads(body)["desk"]
    assert view["summary"].startswith("Asylsökande över 18 år")
    assert view["questions"] == [] and view["scan_id"] == scan
    # Not stored: the shared record and every other page still see the unanswered scan.
    assert desk.latest_record() == shown
    on_screen = desk._desk["desk"]
    assert on_screen["questions"] and on_screen["summary"].startswith("Kan inte avgöras")


def test_every_page_gets_its_own_token():
    srv_desk = DeskState(lambda: build_config({"sources": ["feed:x"]}))
    srv = DeskServer(("127.0.0.1", 0), srv_desk)
    srv.start()
    try:
        assert page_token(srv) != page_token(srv)
    finally:
        srv_desk.close()
        srv.stop()


@pytest.mark.parametrize("extra, expected", [
    ({"Origin": "http://evil.example"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Sec-Fetch-Site": "same-site"}, 403),
    ({"X-Verify-Page": ""}, 403),
    ({"X-Verify-Page": "forged.token"}, 403),
    ({"Content-Type": "text/plain"}, 415),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
])
def test_cross_origin_tokenless_and_non_json_posts_are_refused_and_change_nothing(
    server, desk, extra, expected
):
    desk.emit(an_event(url("VALID0001")))
    before = (desk.latest_record(), json.dumps(desk._desk))
    token = page_token(server)
    status, _ = post_answer(server, {"scan": desk._desk["desk"]["scan_id"],
                                     "answers": {"age": "18-130"}}, token, extra)
    assert status == expected
    assert (desk.latest_record(), json.dumps(desk._desk)) == before


def test_an_answer_for_a_scan_no_longer_on_screen_is_refused(server, desk):
    desk.emit(an_event(url("VALID0001")))
    old = desk._desk["desk"]["scan_id"]
    desk.emit(an_event(url("VALID0002"), seq=2))
    token = page_token(server)
    status, _ = post_answer(server, {"scan": old, "answers": {"age": "18-130"}}, token)
    assert status == 409
    desk.tick(at=10**12)  # the screen cleared
    status, _ = post_answer(server, {"scan": old, "answers": {"age": "18-130"}}, token)
    assert status == 409


@pytest.mark.parametrize("body, expected", [
    (b"", 400), (b"{", 400), (b"[]", 400), (b"\xff\xfe", 400), (b'"x"', 400),
    (b'{"scan": 1, "answers": {}}', 400), (b'{"answers": {"age": "18-130"}}', 400),
    (b'{"scan": "x", "answers": {"age": 18}}', 400),
    (b'{"scan": "x", "answers": ["age"]}', 400),
    (b"{" + b" " * 20000 + b"}", 400),
])
def test_malformed_bodies_are_refused(server, desk, body, expected):
    desk.emit(an_event(url("VALID0001")))
    status, _ = post_answer(server, body, page_token(server))
    assert status == expected


@settings(max_examples=60, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.binary(max_size=300),
    st.dictionaries(st.text(max_size=12), st.one_of(
        st.text(max_size=20), st.integers(), st.none(),
        st.dictionaries(st.text(max_size=20), st.text(max_size=20), max_size=12)),
        max_size=4).map(lambda d: json.dumps(d).encode()),
))
def test_hostile_answer_bodies_always_get_a_4xx_and_change_nothing(server, desk, body):
    if desk._desk is None:
        desk.emit(an_event(url("VALID0001")))
    before = (desk.latest_record(), json.dumps(desk._desk))
    status, _ = post_answer(server, body, page_token(server))
    assert 400 <= status < 500
    assert (desk.latest_record(), json.dumps(desk._desk)) == before


def test_the_page_comes_in_english_with_lang_en():
    config = build_config({"sources": ["feed:x"], "lang": "en"})
    state = DeskState(lambda: config)
    srv = DeskServer(("127.0.0.1", 0), state)
    srv.start()
    try:
        status, body = request(srv, "GET", "/")
        page = body.decode()
        assert '<html lang="en">' in page and "Waiting for a card …" in page
        assert "Connecting …" in page and "Väntar" not in page and "{{" not in page
        _, login = request(srv, "GET", "/login")
        assert "Log in" in login.decode() and "Logga in" not in login.decode()
    finally:
        state.close()
        srv.stop()


# -- a keyboard scanner's burst from the page ----------------------------------------------------


@pytest.fixture
def keyed(desk):
    srv = DeskServer(("127.0.0.1", 0), desk, keyboard=KeyboardPolicy())
    srv.start()
    yield srv
    desk.close()
    srv.stop()


def post_scan(srv, data, token, extra=None):
    headers = {"Content-Type": "application/json", "X-Verify-Page": token,
               "Sec-Fetch-Site": "same-origin", **(extra or {})}
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return request(srv, "POST", "/api/scan", body, headers)


BURST = {"text": "httpsÖ--agency.test-lmakort-VALID0001",
         "gaps": [6] * 36, "end": "Enter"}


def test_a_burst_is_refused_without_a_page_source_or_when_it_is_not_a_scanners(server, keyed):
    assert post_scan(server, BURST, page_token(server))[0] == 404  # no page: source configured
    token = page_token(keyed)
    assert post_scan(keyed, BURST, token, {"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert post_scan(keyed, BURST, "")[0] == 403
    slow = {**BURST, "gaps": [150] * 36}
    assert post_scan(keyed, slow, token)[0] == 422
    assert post_scan(keyed, {**BURST, "end": "Escape"}, token)[0] == 422
    assert post_scan(keyed, {**BURST, "gaps": [True] * 36}, token)[0] == 422
    assert post_scan(keyed, BURST, token)[0] == 503  # configured, but no page source is open
    with open_source("page:") as source:
        got: list = []
        reader = threading.Thread(target=lambda: got.extend(
            s for _, s in zip(range(1), source, strict=False)))
        reader.start()
        for _ in range(200):
            status, _ = post_scan(keyed, BURST, token)
            if status == 202:
                break
            reader.join(0.01)
        reader.join(5)
    assert status == 202
    assert [s.payload for s in got] == ["https://agency.test/lmakort/VALID0001"]


@settings(max_examples=40, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.binary(max_size=200),
    st.fixed_dictionaries({"text": st.text(max_size=40), "gaps": st.lists(
        st.one_of(st.integers(), st.floats(), st.text(max_size=3)), max_size=40),
        "end": st.sampled_from(["Enter", "Tab", "x", ""])}).map(lambda d: json.dumps(d).encode()),
))
def test_hostile_scan_bodies_never_get_a_server_error(keyed, body):
    status, _ = post_scan(keyed, body, page_token(keyed))
    assert 400 <= status < 500 or status == 503
