"""`verify card --mrz Z --chip` end to end: the real command, the real pcscd with the vpcd
reader driver, and an emulated UT card's chip on it (tests/support_chip.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.cli.test_scanner import run_with_scanner
from tests.conftest import REPO, run_verify, verify_env
from tests.support_chip import Behaviour, Pcscd, VirtualCard, chip_for, pcscd_service
from tests.support_chip_pki import make_card, make_csca, make_signer, ut_zone

SCHEMA = json.loads((REPO / "docs" / "status-schema.json").read_text("utf-8"))

__all__ = ["pcscd_service"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    csca = make_csca()
    store = tmp_path_factory.mktemp("trust")
    (store / "se-csca.pem").write_bytes(csca.pem)
    return csca, make_signer(csca), store


@pytest.fixture(scope="module")
def startup(pki) -> float:
    """Slack for starting `verify` on this shared, loaded machine: twice what the same command
    takes without the chip, plus two seconds. A hang would overrun it by the 60 s a stalled
    card waits."""
    _, signer, _ = pki
    started = time.monotonic()
    run_verify("card", "--mrz", make_card(signer).zone, "--json")
    return 2 * (time.monotonic() - started) + 2.0


def chip_run(service: Pcscd, zone: str, *args: str, trust: Path | None = None,
             timeout: float = 5.0) -> tuple[object, float]:
    extra = ["--trust-store", str(trust)] if trust is not None else []
    started = time.monotonic()
    proc = run_verify("card", "--mrz", zone, "--chip", "--chip-timeout", f"{timeout:g}",
                      *extra, *args, env=service.env)
    return proc, time.monotonic() - started


def as_json(service: Pcscd, card, zone: str | None = None, *, trust: Path | None,
            behaviour: Behaviour | None = None, timeout: float = 5.0):
    with VirtualCard(service.port, chip_for(card), behaviour) as vc:
        proc, took = chip_run(service, zone or card.zone, "--json", trust=trust, timeout=timeout)
    assert proc.stderr == "" or "Traceback" not in proc.stderr
    status = json.loads(proc.stdout)
    jsonschema.validate(status, SCHEMA)
    return proc.returncode, status, took, vc


def test_genuine_card_is_verified_and_valid(pcscd_service, pki) -> None:
    _, signer, store = pki
    card = make_card(signer)
    code, status, _, vc = as_json(pcscd_service, card, trust=store)
    assert status["authenticity"]["state"] == "verified"
    assert status["authenticity"]["reason"] == "chip_verified"
    assert status["authenticity"]["issuer"] == "SE"
    assert status["validity"]["state"] == "valid" and code == 0
    # Only EF.COM, DG1 and EF.SOD were read: never the face (DG2).
    assert bytes.fromhex("0102") not in vc.chip.reads
    assert set(vc.chip.reads) == {bytes.fromhex(f) for f in ("011E", "0101", "011D")}


def test_genuine_card_in_swedish_and_english(pcscd_service, pki) -> None:
    _, signer, store = pki
    card = make_card(signer)
    with VirtualCard(pcscd_service.port, chip_for(card)):
        sv, _ = chip_run(pcscd_service, card.zone, trust=store)
    with VirtualCard(pcscd_service.port, chip_for(card)):
        en, _ = chip_run(pcscd_service, card.zone, "--lang", "en", trust=store)
    assert "Chip: ÄKTA" in sv.stdout and "GILTIGT" in sv.stdout
    assert "Chip: GENUINE" in en.stdout and "(CSCA, SE)" in sv.stdout


def test_dg1_altered_after_signing_is_altered_in_red_words(pcscd_service, pki) -> None:
    _, signer, store = pki
    card = make_card(signer, alter_dg1_after_signing=ut_zone(expiry="351231"))
    code, status, _, _ = as_json(pcscd_service, card, trust=store)
    assert (status["authenticity"]["state"], status["authenticity"]["reason"]) == \
        ("altered", "dg_hash_mismatch")
    assert status["validity"]["state"] == "valid"  # validity still comes from the expiry
    assert code == 3  # but a person must look: never 0
    with VirtualCard(pcscd_service.port, chip_for(card)):
        proc, _ = chip_run(pcscd_service, card.zone, trust=store)
    assert "kortets uppgifter stämmer inte med chipet" in proc.stdout


def test_signer_from_another_csca_is_untrusted_and_says_what_to_install(pcscd_service,
                                                                         pki) -> None:
    _, _, store = pki
    card = make_card(make_signer(make_csca(cn="Another CSCA")))
    code, status, _, _ = as_json(pcscd_service, card, trust=store)
    assert (status["authenticity"]["state"], status["authenticity"]["reason"]) == \
        ("untrusted", "csca_unknown")
    assert code == 3
    with VirtualCard(pcscd_service.port, chip_for(card)):
        proc, _ = chip_run(pcscd_service, card.zone, "--lang", "en", trust=store)
    assert "install that country's CSCA certificate" in proc.stdout


def test_no_trust_store_is_untrusted_saying_what_to_install(pcscd_service, pki) -> None:
    _, signer, _ = pki
    card = make_card(signer)
    code, status, _, _ = as_json(pcscd_service, card, trust=None)
    assert status["authenticity"]["reason"] == "no_trust_store" and code == 3


def test_expired_signer_says_so(pcscd_service, pki) -> None:
    csca, _, store = pki
    old = make_signer(csca, start=datetime.now(UTC) - timedelta(days=500), days=400)
    card = make_card(old)
    code, status, _, _ = as_json(pcscd_service, card, trust=store)
    assert status["authenticity"]["reason"] == "signer_expired" and code == 3
    with VirtualCard(pcscd_service.port, chip_for(card)):
        proc, _ = chip_run(pcscd_service, card.zone, trust=store)
    assert "Dokumentsignerarens certifikat gick ut den" in proc.stdout


def test_printed_name_differing_from_the_chip_is_altered(pcscd_service, pki) -> None:
    _, signer, store = pki
    card = make_card(signer)
    printed = ut_zone(expiry=card.expiry, surname="SOMEONE", given="ELSE")
    code, status, _, _ = as_json(pcscd_service, card, printed, trust=store)
    assert status["authenticity"]["state"] == "altered"
    assert status["authenticity"]["fields"] == ["names"] and code == 3


def test_printed_expiry_changed_is_never_verified(pcscd_service, pki) -> None:
    """The expiry is part of BAC's key: a reprinted expiry (check digits recomputed) cannot
    open the chip, so the chip refuses and the desk is told to look (docs/chip.md)."""
    _, signer, store = pki
    card = make_card(signer)
    printed = ut_zone(expiry="351231")
    code, status, _, _ = as_json(pcscd_service, card, printed, trust=store)
    assert status["authenticity"]["state"] in ("altered", "failed")
    assert status["validity"]["state"] == "valid" and code == 3


def test_misread_zone_is_access_refused_with_the_hint_to_read_it_again(pcscd_service,
                                                                        pki) -> None:
    _, signer, store = pki
    card = make_card(signer)
    misread = ut_zone(birth="900118", expiry=card.expiry)  # one digit off, check digit redone
    code, status, _, _ = as_json(pcscd_service, card, misread, trust=store)
    assert (status["authenticity"]["state"], status["authenticity"]["reason"]) == \
        ("failed", "access_denied")
    assert code == 3
    with VirtualCard(pcscd_service.port, chip_for(card)):
        proc, _ = chip_run(pcscd_service, misread, trust=store)
    assert "läs in den igen" in proc.stdout


def test_card_removed_mid_read_is_a_clear_failure(pcscd_service, pki, startup) -> None:
    _, signer, store = pki
    card = make_card(signer)
    code, status, took, _ = as_json(pcscd_service, card, trust=store,
                                    behaviour=Behaviour(remove_after=6))
    assert (status["authenticity"]["state"], status["authenticity"]["reason"]) == \
        ("failed", "card_removed")
    assert code == 3 and took < 5 + startup


def test_a_chip_that_stops_answering_fails_within_the_deadline(pcscd_service, pki,
                                                               startup) -> None:
    _, signer, store = pki
    card = make_card(signer)
    code, status, took, _ = as_json(pcscd_service, card, trust=store, timeout=2,
                                    behaviour=Behaviour(stall_after=5))
    assert status["authenticity"]["reason"] == "chip_timeout"
    assert code == 3 and took < 2 + startup


def test_garbage_from_the_chip_is_a_clear_failure(pcscd_service, pki) -> None:
    _, signer, store = pki
    code, status, _, _ = as_json(pcscd_service, make_card(signer), trust=store,
                                 behaviour=Behaviour(garbage_after=4))
    assert status["authenticity"]["state"] == "failed" and code == 3


def test_no_card_on_the_reader_fails_within_the_deadline(pcscd_service, pki, startup) -> None:
    _, signer, store = pki
    card = make_card(signer)
    proc, took = chip_run(pcscd_service, card.zone, trust=store, timeout=1.5)
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert "Inget kort lades på läsaren i tid" in proc.stdout
    assert 1.5 <= took < 1.5 + startup


def test_no_reader_is_a_clear_failure_within_the_deadline(tmp_path, pki, startup) -> None:
    _, signer, store = pki
    card = make_card(signer)
    started = time.monotonic()
    proc = run_verify("card", "--mrz", card.zone, "--chip", "--chip-timeout", "1",
                      "--trust-store", str(store), "--lang", "en",
                      env={"PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")})
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert "No card reader was found" in proc.stdout
    assert time.monotonic() - started < 1 + startup


def test_a_trust_store_that_is_not_a_folder_is_a_usage_error(tmp_path, pki) -> None:
    _, signer, _ = pki
    proc = run_verify("card", "--mrz", make_card(signer).zone, "--chip", "--trust-store",
                      str(tmp_path / "missing"), "--lang", "en")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "is not a folder" in proc.stderr


CARD_PHOTO = REPO / "fixtures" / "mrz" / "cards" / "p00-clean.jpg"  # a generated mock card


def test_a_photo_of_the_card_then_its_chip(pcscd_service, pki) -> None:
    """`--image photo --chip`: the zone read by OCR opens the chip and is compared with it."""
    _, signer, store = pki
    zone = "\n".join(json.loads(CARD_PHOTO.with_suffix(".json").read_text())["lines"])
    card = make_card(signer, zone=zone)
    with VirtualCard(pcscd_service.port, chip_for(card)):
        proc = run_verify("card", "--image", str(CARD_PHOTO), "--no-preview", "--chip",
                          "--trust-store", str(store), "--json", env=pcscd_service.env)
    status = json.loads(proc.stdout)
    assert status["authenticity"]["state"] == "verified", proc.stderr
    assert status["document"]["kind"] == "ut"


def test_a_desk_mrz_reader_on_serial_then_the_chip(tmp_path, pcscd_service, pki) -> None:
    _, signer, store = pki
    card = make_card(signer)
    wire = [line.encode() + b"\r" for line in card.zone.split("\n")]
    with VirtualCard(pcscd_service.port, chip_for(card)):
        code, out, err = run_with_scanner(
            tmp_path, ["card", "--serial", "PORT?mode=mrz", "--chip", "--trust-store",
                       str(store), "--json", "--timeout", "10"], wire, env=pcscd_service.env)
    assert json.loads(out)["authenticity"]["state"] == "verified", err
    assert code == 0


def test_no_chip_is_awaited_for_what_has_no_zone(pki) -> None:
    _, _, store = pki
    started = time.monotonic()
    proc = run_verify("card", "--lma", "12-345678", "--chip", "--trust-store", str(store),
                      "--json", "--chip-timeout", "30")
    status = json.loads(proc.stdout)
    assert status["authenticity"]["state"] == "not_read"
    assert status["authenticity"]["reason"] == "no_zone"
    assert time.monotonic() - started < 25  # the 30 s chip deadline was never waited on


def test_a_zone_whose_check_digits_fail_does_not_wait_for_the_chip(pki) -> None:
    _, signer, store = pki
    zone = make_card(signer).zone
    broken = zone[:14] + ("0" if zone[14] != "0" else "1") + zone[15:]  # number check digit
    proc = run_verify("card", "--mrz", broken, "--chip", "--trust-store", str(store),
                      "--json", "--chip-timeout", "30")
    status = json.loads(proc.stdout)
    assert (status["authenticity"]["state"], status["authenticity"]["reason"]) == \
        ("not_read", "zone_unreadable")
    assert proc.returncode == 3


def test_the_reader_going_away_mid_read_is_a_clear_failure(pki) -> None:
    """pcscd (the reader, as far as the program can tell) stops while the chip is answering."""
    _, signer, store = pki
    card = make_card(signer)
    service = Pcscd()
    try:
        with VirtualCard(service.port, chip_for(card), Behaviour(stall_after=6)) as vc:
            proc = subprocess.Popen(
                [sys.executable, "-m", "verify", "card", "--mrz", card.zone, "--chip",
                 "--chip-timeout", "30", "--trust-store", str(store), "--json"],
                env=verify_env(service.env), cwd=REPO, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 30
            while vc.apdus < 7 and time.monotonic() < deadline:
                time.sleep(0.05)
            pulled = time.monotonic()
            service.close()
            out, err = proc.communicate(timeout=40)
            took = time.monotonic() - pulled
    finally:
        service.close()
    assert proc.returncode == 3 and "Traceback" not in err
    status = json.loads(out)
    assert status["authenticity"]["state"] == "failed"
    assert status["authenticity"]["reason"] in ("no_reader", "card_removed")
    assert took < 15  # told at once, not at the 30 s deadline


def test_a_chip_with_active_authentication_proves_it_is_no_copy(pcscd_service, pki) -> None:
    _, signer, store = pki
    card = make_card(signer, active_authentication=True)
    code, status, _, vc = as_json(pcscd_service, card, trust=store)
    assert status["authenticity"]["state"] == "verified" and code == 0
    assert status["authenticity"]["clone_check"] == "passed"
    copy = chip_for(card, aa_key=rsa.generate_private_key(public_exponent=65537, key_size=1024))
    with VirtualCard(pcscd_service.port, copy):
        proc, _ = chip_run(pcscd_service, card.zone, "--json", trust=store)
    status = json.loads(proc.stdout)
    assert (status["authenticity"]["state"], status["authenticity"]["reason"]) == \
        ("altered", "chip_not_original")
    assert proc.returncode == 3


def test_a_chip_opened_by_a_reprinted_expiry_still_shows_the_change(pcscd_service, pki) -> None:
    """Should a chip open with the key of a reprinted zone (as with PACE, or a chip that takes
    any key), its signed zone still holds the true expiry: altered, naming the field."""
    _, signer, store = pki
    card = make_card(signer)
    printed = ut_zone(expiry="351231")
    lines = printed.split("\n")
    chip = chip_for(card)
    chip.expiry = lines[1][8:14]  # the chip answers to the reprinted zone's key
    with VirtualCard(pcscd_service.port, chip):
        proc, _ = chip_run(pcscd_service, printed, "--json", trust=store)
    status = json.loads(proc.stdout)
    assert (status["authenticity"]["state"], status["authenticity"]["reason"]) == \
        ("altered", "zone_differs")
    assert status["authenticity"]["fields"] == ["expiry_date"]
    assert status["validity"]["state"] == "valid" and proc.returncode == 3
