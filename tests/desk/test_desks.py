"""Desks as data: the signed credential and enrolment token, the desks file, forwarding
headers and the answer ticket. Hostile strings never verify and never raise."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.burst import burst_scans
from verify.desk.deskbook import ReloadingBook, load_book, load_key, save_book
from verify.desk.desks import (
    Book,
    Desk,
    SiteSettings,
    credential,
    enrolment_token,
    read_credential,
    read_enrolment,
    site_slug,
)
from verify.desk.forwarding import networks, origin_of
from verify.desk.ticket import seal, unseal
from verify.errors import ConfigError
from verify.model import Document, Status, Validity

KEY = b"k" * 32
DESK = Desk("abcdefghij", "reception 2", "VC Tensta")
SEGMENT = site_slug(DESK.site)


def test_a_credential_is_good_for_its_own_desk_and_site_segment_only() -> None:
    value = credential(KEY, DESK, now=1000)
    assert read_credential(KEY, value, SEGMENT, DESK.id) is not None
    assert read_credential(KEY, value, "vc-rinkeby", DESK.id) is None
    assert read_credential(KEY, value, SEGMENT, "zzzzzzzzzz") is None
    assert read_credential(b"x" * 32, value, SEGMENT, DESK.id) is None  # another service
    token = enrolment_token(KEY, DESK, now=1000)
    assert read_credential(KEY, token, SEGMENT, DESK.id) is None  # a link is no credential
    assert read_enrolment(KEY, value, SEGMENT) is None


@given(st.text(max_size=300))
def test_no_string_is_a_credential_or_an_enrolment_token_by_chance(text: str) -> None:
    assert read_credential(KEY, text, SEGMENT, DESK.id) is None
    assert read_enrolment(KEY, text, SEGMENT) is None


@given(st.integers(min_value=0), st.characters(codec="ascii", categories=["L", "N"]))
def test_changing_any_one_character_of_a_credential_voids_it(at: int, ch: str) -> None:
    value = credential(KEY, DESK, now=1000)
    i = at % len(value)
    if value[i] == ch or value[i] == ".":
        return
    assert read_credential(KEY, value[:i] + ch + value[i + 1:], SEGMENT, DESK.id) is None


def test_site_segments_are_plain_ascii() -> None:
    assert site_slug("VC Tensta") == "vc-tensta"
    assert site_slug("Vårdcentralen Örebro/Öst") == "vardcentralen-orebro-ost"
    assert site_slug("///") == "site"


def test_the_desks_file_round_trips_and_is_reread_when_it_changes(tmp_path: Path) -> None:
    book = Book(desks={DESK.id: DESK}, sites={"VC Tensta": SiteSettings(region="stockholm")})
    save_book(tmp_path, book)
    assert load_book(tmp_path) == book
    assert book.region_and_lang(DESK, "skane", "sv") == ("stockholm", "sv")
    live = ReloadingBook(tmp_path, interval=0.5)
    save_book(tmp_path, Book(desks={DESK.id: Desk(**{**DESK.__dict__, "revoked": True})}))
    assert not live.current().desks[DESK.id].revoked  # not yet: within the interval
    assert live.current(now=time.monotonic() + 1).desks[DESK.id].revoked
    (tmp_path / "desks.json").write_text("{damaged")
    os.utime(tmp_path / "desks.json", (1, 1))
    assert live.current(now=time.monotonic() + 2).desks[DESK.id].revoked  # last good kept
    with pytest.raises(ConfigError, match="damaged"):
        load_book(tmp_path)


def test_the_key_is_made_once_private_and_checked(tmp_path: Path) -> None:
    key = load_key(tmp_path, create=True)
    assert len(key) == 32 and load_key(tmp_path, create=True) == key
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600
    (tmp_path / "key").write_text("abcd")
    with pytest.raises(ConfigError, match="damaged"):
        load_key(tmp_path)
    with pytest.raises(ConfigError, match="no desk key"):
        load_key(tmp_path / "nowhere")


PROXY = networks(["127.0.0.2", "10.0.0.0/24"])


def test_forwarding_headers_count_only_from_the_proxy() -> None:
    assert origin_of("203.0.113.5", {}, PROXY).client == "203.0.113.5"  # type: ignore[union-attr]
    assert origin_of("203.0.113.5", {"X-Forwarded-For": "1.2.3.4"}, PROXY) is None
    assert origin_of("203.0.113.5", {"x-forwarded-proto": "https"}, PROXY) is None
    seen = origin_of("127.0.0.2", {"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.0.0.3",
                                   "X-Forwarded-Proto": "https"}, PROXY)
    assert seen is not None and seen.client == "198.51.100.7" and seen.scheme == "https"
    assert seen.proxied


@given(st.dictionaries(st.sampled_from(["X-Forwarded-For", "X-Forwarded-Proto", "Forwarded",
                                        "X-Real-IP", "x-forwarded-port", "X-FORWARDED-HOST",
                                        "True-Client-IP", "Host"]), st.text(max_size=80)),
       st.sampled_from(["127.0.0.2", "10.0.0.9", "203.0.113.5", "::1", "not an ip"]))
def test_any_forwarding_headers_give_a_believed_origin_or_a_refusal(
    headers: dict[str, str], peer: str,
) -> None:
    seen = origin_of(peer, headers, PROXY)
    forwarding = set(headers) - {"Host"}
    if peer in ("127.0.0.2", "10.0.0.9"):
        assert seen is not None and seen.scheme in ("http", "https")
    elif forwarding:
        assert seen is None
    else:
        assert seen is not None and seen.client == peer and not seen.proxied


STATUS = Status(
    document=Document(kind="lma", lookup_token="VALID0001", lookup_url="https://x/VALID0001"),
    validity=Validity(state="valid", basis="lookup", checked_at=datetime(2026, 12, 3, tzinfo=UTC),
                      detail="ok", right_to_work=True, reason="lookup_valid"),
)


def test_a_ticket_gives_its_scan_back_to_its_desk_only_and_only_while_it_lives() -> None:
    ticket = seal(KEY, DESK.id, "scan1", STATUS.validity.checked_at, STATUS, expires=2000)
    back = unseal(KEY, DESK.id, ticket, now=1000)
    assert back is not None and back.status == STATUS and back.scan_id == "scan1"
    assert unseal(KEY, "zzzzzzzzzz", ticket, now=1000) is None
    assert unseal(KEY, DESK.id, ticket, now=3000) is None


@given(st.one_of(st.text(max_size=300), st.integers(), st.none(), st.lists(st.text())))
def test_no_value_is_a_ticket_by_chance(value: object) -> None:
    assert unseal(KEY, DESK.id, value, now=0) is None


@given(st.text(min_size=1, max_size=200))
def test_a_burst_frames_to_scans_without_raising(text: str) -> None:
    for scan in burst_scans(text):
        assert scan.source == "page:" and "\r" not in scan.payload


def test_a_burst_from_a_us_scanner_on_a_swedish_desk_is_repaired() -> None:
    [scan] = burst_scans("httpsÖ--agency.test-lmakort-VALID0001")
    assert scan.payload == "https://agency.test/lmakort/VALID0001"
