"""Redaction, pseudonymised audit and what the desk view carries."""

from __future__ import annotations

import json
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from verify.desk.audit import audit_entry, pseudonym
from verify.desk.events import Event
from verify.model import Decision, Document, Status, Step, Validity
from verify.redact import scrub_text

AT = datetime(2026, 11, 22, 10, 0).astimezone()
BASE = "https://www.migrationsverket.se/lmakort/"

tokens = st.from_regex(r"[A-Za-z][A-Za-z0-9]{7,63}", fullmatch=True)
lma_numbers = st.from_regex(r"[0-9]{2}-[0-9]{6}", fullmatch=True)


def lma_status(token: str, number: str | None = None, state: str = "unknown") -> Status:
    return Status(
        document=Document(kind="lma", lma_number=number, card_serial=1 if number else None,
                          lookup_token=token, lookup_url=BASE + token),
        validity=Validity(state=state, basis="lookup", checked_at=AT, right_to_work=None,
                          detail=f"the agency did not answer for {BASE}{token} ({number})",
                          manual_check_url=BASE + token),
        decision=Decision(region="skane", category="asylum_seeker", entitlement="manual_check",
                          steps=(Step(text="Kontrollera kortet för hand.", source="003"),)),
    )


def event(status: Status) -> Event:
    return Event(seq=1, status=status, source="serial:/dev/ttyACM0", symbology="qr",
                 scanned_at=AT, emitted_at=AT, latency_ms=3.2)


@given(token=tokens, number=lma_numbers)
def test_no_record_holds_the_token_or_the_lma_number(token, number):
    record = json.dumps(event(lma_status(token, number)).to_record(), ensure_ascii=False)
    assert token not in record
    assert number not in record
    assert number.replace("-", "") not in record


@given(token=tokens)
def test_the_redacted_manual_address_keeps_the_bookmarkable_part_only(token):
    record = event(lma_status(token)).to_record()
    assert record["validity"]["manual_check_url"] == BASE + token[:2] + "…"
    assert record["document"]["lookup_token"] == token[:2] + "…"
    assert record["redacted"] is True


def test_the_desk_view_has_the_full_manual_address_and_nothing_else_does():
    token = "MAINT0001abc"
    ev = event(lma_status(token, "12-345678"))
    desk = ev.to_desk(lang="sv", clear_after=20)
    assert desk["desk"]["manual_check_url"] == BASE + token
    assert desk["desk"]["headline"] == "KONTROLLERA MANUELLT"
    assert desk["desk"]["tone"] == "unknown"
    assert desk["desk"]["steps"] == ["Kontrollera kortet för hand."]
    without_desk = {k: v for k, v in desk.items() if k != "desk"}
    assert token not in json.dumps(without_desk)
    assert "12-345678" not in json.dumps(desk)


def test_a_decision_step_quoting_the_manual_address_keeps_only_its_base_in_records():
    token = "NOWORK3F8HZ"
    status = lma_status(token)
    step = Step(text=f"Kontrollera kortet för hand: {BASE}{token}.", source="national")
    status = Status(document=status.document, validity=status.validity,
                    decision=Decision(region="skane", category="asylum_seeker",
                                      entitlement="manual_check", steps=(step,)))
    ev = event(status)
    assert ev.to_record()["decision"]["steps"][0]["text"] == (
        f"Kontrollera kortet för hand: {BASE}NO….")
    assert ev.to_desk()["desk"]["steps"] == [step.text]  # the desk screen needs it whole


def test_mrz_facts_kept_are_the_card_s_not_the_person_s():
    status = Status(
        document=Document(kind="ut", mrz={
            "document_code": "IR", "issuing_state": "SWE", "document_number": "UA1234567",
            "birth_date": "1990-01-01", "surname": "ERIKSSON", "given_names": "ANNA",
            "nationality": "UKR", "sex": "F", "expiry_date": "2027-03-04", "age": 36,
            "format": "TD1", "problems": ["UA1234567 repaired"], "repaired": ["document_number"],
            "checks": {"document_number": True, "composite": True},
            "lines": ["IRSWEUA12345678<<<<<<<<<<<<<<<"],
        }),
        validity=Validity(state="valid", basis="mrz_expiry", checked_at=AT,
                          detail="UA1234567 expires 2027-03-04"),
    )
    record = event(status).to_record()
    assert record["document"]["mrz"] == {
        "format": "TD1", "document_code": "IR", "issuing_state": "SWE", "expiry_date": "2027-03-04",
        "checks": {"document_number": True, "composite": True},
    }
    text = json.dumps(record)
    for secret in ("UA1234567", "1990-01-01", "ERIKSSON", "ANNA", "UKR"):
        assert secret not in text


def test_a_not_a_card_detail_never_echoes_the_payload():
    status = Status(
        document=Document(kind="unknown"),
        validity=Validity(state="unknown", basis="not_a_card", checked_at=AT,
                          detail="not a card: 'Anna Eriksson 19900101-1234'"),
    )
    record = event(status).to_record()
    assert record["validity"]["detail"] == "not a card"


@given(st.text(max_size=300))
def test_scrubbing_any_text_never_fails_and_twice_is_once(text):
    once = scrub_text(text)
    assert scrub_text(once) == once


@given(text=st.text(max_size=80), number=lma_numbers, token=tokens)
def test_scrubbing_removes_lma_numbers_and_known_tokens_wherever_they_sit(text, number, token):
    out = scrub_text(f"{text} {number} {token} {text}", [token])
    assert number not in out
    assert token not in out


def test_audit_entries_are_keyed_pseudonyms_stable_per_card_and_key():
    key = b"k" * 32
    a = audit_entry(event(lma_status("VALID0001xy", "12-345678", "valid")), key)
    b = audit_entry(event(lma_status("VALID0001xy", "12-345678", "valid")), key)
    c = audit_entry(event(lma_status("VALID0001xy", "12-345678", "valid")), b"z" * 32)
    assert a["subjects"] == b["subjects"]
    assert a["subjects"]["lookup_token"] != c["subjects"]["lookup_token"]
    assert a["subjects"]["lookup_token"] == pseudonym(key, "token", "VALID0001xy")
    assert len(a["subjects"]["lookup_token"]) == 64
    assert "VALID0001xy" not in json.dumps(a)
    assert "345678" not in json.dumps(a)
    assert a["state"] == "valid"
    assert a["region"] == "skane"
