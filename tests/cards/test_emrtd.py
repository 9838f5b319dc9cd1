"""The chip's core, over bytes: BAC against ICAO's worked example, secure messaging, passive
authentication verdicts, trust stores, and hostile ASN.1 refused within bounds."""

from __future__ import annotations

import resource
import secrets
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support_chip import EmulatedPassport, chip_for
from tests.support_chip_pki import (
    Authority,
    make_card,
    make_crl,
    make_csca,
    make_master_list,
    make_signer,
    make_sod,
    ut_zone,
)
from verify.cards.emrtd.access import (
    BacKeys,
    SecureMessagingError,
    Session,
    authenticate_command,
    key_seed,
    mrz_information,
)
from verify.cards.emrtd.active import check_active_authentication
from verify.cards.emrtd.lds import encode_com, encode_dg1
from verify.cards.emrtd.passive import passive_authentication
from verify.cards.emrtd.session import ChipError, ChipFiles, read_chip
from verify.cards.emrtd.tlv import TlvError, check_der, read_tlv
from verify.cards.emrtd.trust import TrustStore, load_trust_store
from verify.cards.mrz import compose_td3

NOW = datetime.now(UTC)

# ICAO Doc 9303 part 11, appendix D: the worked example of BAC and secure messaging.
ICAO_INFO = "L898902C<369080619406236"


def test_bac_keys_match_icao_worked_example() -> None:
    info = mrz_information("L898902C", "690806", "940623")
    assert info.decode() == ICAO_INFO
    assert key_seed(info).hex().upper() == "239AB9CB282DAF66231DC5A4DF6BFBAE"
    keys = BacKeys.from_mrz_information(info)
    assert keys.enc.hex().upper() == "AB94FDECF2674FDFB9B391F85D7F76F2"
    assert keys.mac.hex().upper() == "7962D9ECE03D1ACD4C76089DCE131543"


def test_mutual_authentication_and_secure_messaging_match_icao_worked_example() -> None:
    keys = BacKeys.from_mrz_information(ICAO_INFO.encode())
    rnd_icc = bytes.fromhex("4608F91988702212")
    rnd_ifd = bytes.fromhex("781723860C06C226")
    k_ifd = bytes.fromhex("0B795240CB7049B01C19B33E32804F0B")
    cmd = authenticate_command(keys, rnd_icc, rnd_ifd, k_ifd)
    assert cmd.hex().upper() == (
        "0082000028" "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
        "5F1448EEA8AD90A7" "28")
    answer = bytes.fromhex("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F"
                           "2F2D235D074D7449")
    session = Session.from_authentication(keys, answer, rnd_icc, rnd_ifd, k_ifd)
    assert session.enc.hex().upper() == "979EC13B1CBFE9DCD01AB0FED307EAE5"
    assert session.mac.hex().upper() == "F1CB1F1FB5ADF208806B89DC579DC1F8"
    assert session.ssc == int("887022120C06C226", 16)
    session, wrapped = session.protect(bytes.fromhex("00A4020C02011E"))
    assert wrapped.hex().upper() == "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"
    session, data, sw = session.unprotect(bytes.fromhex("990290008E08FA855A5D4C50A8ED9000"))
    assert (data, sw) == (b"", b"\x90\x00")
    # A response whose MAC is wrong is refused, never read.
    with pytest.raises(SecureMessagingError):
        session.unprotect(bytes.fromhex("990290008E08FA855A5D4C50A8ED0000" "9000"))


@pytest.fixture(scope="module")
def pki():
    csca = make_csca()
    signer = make_signer(csca)
    return csca, signer, load_trust_store([("se.pem", csca.pem)], NOW)


def _files(card):
    return ChipFiles(card.com, card.sod, card.dg1)


def _chip(card) -> EmulatedPassport:
    return EmulatedPassport(card.number, card.birth, card.expiry, {
        bytes.fromhex("011E"): card.com, bytes.fromhex("011D"): card.sod,
        bytes.fromhex("0101"): card.dg1, bytes.fromhex("0102"): b"\x75\x03not-a-face"})


def test_the_session_reads_com_sod_and_dg1_and_never_dg2(pki) -> None:
    _, signer, _ = pki
    card = make_card(signer)
    chip = _chip(card)
    files = read_chip(chip.answer, mrz_information(card.number, card.birth, card.expiry),
                      secrets.token_bytes)
    assert (files.com, files.sod, files.dg1) == (card.com, card.sod, card.dg1)
    assert set(chip.reads) == {bytes.fromhex(f) for f in ("011E", "011D", "0101")}
    assert "TESTSSON" not in repr(files)


def test_a_wrong_zone_is_refused_access(pki) -> None:
    _, signer, _ = pki
    card = make_card(signer)
    with pytest.raises(ChipError) as err:
        read_chip(_chip(card).answer, mrz_information(card.number, "900116", card.expiry),
                  secrets.token_bytes)
    assert err.value.reason == "access_denied"


def test_genuine_card_verifies(pki) -> None:
    _, signer, store = pki
    card = make_card(signer)
    verdict = passive_authentication(_files(card), card.lines, store, NOW)
    assert (verdict.state, verdict.reason) == ("verified", "chip_verified")


def test_dg1_altered_after_signing_is_altered(pki) -> None:
    _, signer, store = pki
    card = make_card(signer, alter_dg1_after_signing=ut_zone(expiry="351231"))
    verdict = passive_authentication(_files(card), card.lines, store, NOW)
    assert (verdict.state, verdict.reason) == ("altered", "dg_hash_mismatch")


def test_a_sod_signed_by_another_key_is_altered(pki) -> None:
    csca, signer, store = pki
    card = make_card(signer)
    forged = make_card(make_signer(csca))  # same chain, but we swap in the other SOD's bytes
    sod = bytearray(card.sod)
    sod[-10] ^= 0x01  # flip a bit inside the signature
    verdict = passive_authentication(ChipFiles(card.com, bytes(sod), card.dg1), card.lines,
                                     store, NOW)
    assert verdict.state in ("altered", "failed") and verdict.state != "verified"
    assert forged.sod != card.sod


def test_printed_zone_differing_from_chip_is_altered_and_names_the_field(pki) -> None:
    _, signer, store = pki
    card = make_card(signer)
    printed = tuple(ut_zone(surname="FORGED").split("\n"))
    verdict = passive_authentication(_files(card), printed, store, NOW)
    assert (verdict.state, verdict.reason) == ("altered", "zone_differs")
    assert dict(verdict.facts)["fields"] == "names"


def test_signer_from_another_csca_is_untrusted(pki) -> None:
    _, _, store = pki
    other = make_signer(make_csca(cn="Somebody else's CSCA"))
    card = make_card(other)
    verdict = passive_authentication(_files(card), card.lines, store, NOW)
    assert (verdict.state, verdict.reason) == ("untrusted", "csca_unknown")


def test_expired_signer_is_untrusted_and_says_so(pki) -> None:
    csca, _, store = pki
    old = make_signer(csca, start=NOW - timedelta(days=400), days=300)
    card = make_card(old)
    verdict = passive_authentication(_files(card), card.lines, store, NOW)
    assert (verdict.state, verdict.reason) == ("untrusted", "signer_expired")
    assert "expired" in verdict.detail


def test_revoked_signer_is_untrusted(pki) -> None:
    csca, signer, _ = pki
    store = load_trust_store([("se.pem", csca.pem), ("se.crl", make_crl(csca, [signer.cert]))],
                             NOW)
    card = make_card(signer)
    assert passive_authentication(_files(card), card.lines, store, NOW).reason == "signer_revoked"


def test_no_trust_store_is_untrusted_saying_what_to_install(pki) -> None:
    _, signer, _ = pki
    card = make_card(signer)
    verdict = passive_authentication(_files(card), card.lines, TrustStore(), NOW)
    assert (verdict.state, verdict.reason) == ("untrusted", "no_trust_store")


def test_master_list_is_used_only_when_its_signer_chains_to_an_installed_csca(pki) -> None:
    csca, signer, _ = pki
    de = make_csca("DE", "Test DE CSCA")
    ml = make_master_list([csca, de], make_signer(de, "Test master list signer"))
    card = make_card(signer)
    trusted = load_trust_store([("de.pem", de.pem), ("list.ml", ml)], NOW)
    assert passive_authentication(_files(card), card.lines, trusted, NOW).state == "verified"
    alone = load_trust_store([("list.ml", ml)], NOW)
    assert alone.cscas == ()
    assert "master list not used" in alone.problems[0][1]
    tampered = bytearray(ml)
    tampered[len(tampered) // 2] ^= 0x01
    broken = load_trust_store([("de.pem", de.pem), ("list.ml", bytes(tampered))], NOW)
    assert len(broken.cscas) == 1 and broken.problems


def test_garbage_files_in_the_trust_store_are_named_not_fatal() -> None:
    store = load_trust_store([("readme.txt", b"hello"), ("x.crl", b"\x30\x03\x02\x01")], NOW)
    assert store.cscas == () and [n for n, _ in store.problems] == ["readme.txt", "x.crl"]


# --- hostile ASN.1 ---------------------------------------------------------------------------

def _nested(depth: int) -> bytes:
    data = b"\x05\x00"
    for _ in range(depth):
        data = b"\x30" + _der_len(len(data)) + data
    return data


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def test_deep_nesting_is_refused_without_recursion() -> None:
    check_der(_nested(20))
    with pytest.raises(TlvError, match="deep"):
        check_der(_nested(100_000))


def test_huge_lengths_are_refused_without_allocating() -> None:
    with pytest.raises(TlvError):
        check_der(b"\x30\x83\xff\xff\xff" + b"\x00" * 10)
    with pytest.raises(TlvError):
        read_tlv(b"\x04\x84\x7f\xff\xff\xff\x00")  # four length bytes: refused outright


@settings(max_examples=300)
@given(st.binary(max_size=600))
def test_any_bytes_as_sod_give_a_verdict_never_an_exception(data: bytes) -> None:
    card_files = ChipFiles(b"", b"\x77" + _der_len(len(data)) + data, b"")
    verdict = passive_authentication(card_files, ("",), TrustStore(), NOW)
    assert verdict.state == "failed"


@settings(max_examples=150)
@given(depth=st.integers(min_value=25, max_value=50_000),
       claimed=st.integers(min_value=0, max_value=(1 << 24) - 1))
def test_hostile_sod_shapes_fail_within_the_memory_budget(depth: int, claimed: int) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    body = _nested(depth) + b"\x04" + _der_len(claimed)
    sod = b"\x77" + _der_len(len(body)) + body
    verdict = passive_authentication(ChipFiles(b"", sod, b""), ("",), TrustStore(), NOW)
    assert verdict.state == "failed"
    grew_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grew_kib < 64 * 1024  # far below one claimed length's worth of memory


@settings(max_examples=200)
@given(st.binary(min_size=0, max_size=300))
def test_garbage_from_the_chip_is_a_chip_error(answer: bytes) -> None:
    calls = {"n": 0}

    def transmit(apdu: bytes) -> bytes:
        calls["n"] += 1
        return answer

    with pytest.raises(ChipError):
        read_chip(transmit, ICAO_INFO.encode(), secrets.token_bytes)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_hostile_protected_responses_are_refused_cleanly(response: bytes) -> None:
    """Any bytes as a secure-messaging answer: read (MAC verified) or refused, nothing else."""
    session = Session(enc=bytes(range(16)), mac=bytes(range(16, 32)), ssc=1)
    try:
        session.unprotect(response)
    except SecureMessagingError:
        pass


def test_an_rsa_signed_sod_verifies_too() -> None:
    csca = make_csca("SE", "Test RSA CSCA")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(csca.cert.subject)
            .issuer_name(csca.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=30))
            .sign(csca.key, hashes.SHA256()))
    signer = Authority(key, cert)  # type: ignore[arg-type]
    zone = ut_zone()
    dg1 = encode_dg1(zone)
    files = ChipFiles(encode_com(), make_sod({1: dg1}, signer), dg1)
    store = load_trust_store([("se.pem", csca.pem)], NOW)
    verdict = passive_authentication(files, tuple(zone.split("\n")), store, NOW)
    assert verdict.state == "verified", verdict


def test_a_file_claiming_a_huge_size_is_refused_before_it_is_read(pki) -> None:
    _, signer, _ = pki
    card = make_card(signer)
    chip = _chip(card)
    chip.files[bytes.fromhex("011D")] = b"\x77\x83\xff\xff\xff" + card.sod[4:]
    with pytest.raises(ChipError) as err:
        read_chip(chip.answer, mrz_information(card.number, card.birth, card.expiry),
                  secrets.token_bytes)
    assert err.value.reason == "chip_error" and "over" in str(err.value)
    assert chip.reads.count(bytes.fromhex("011D")) == 1  # only its first bytes were asked for


def test_a_passport_zone_td3_verifies_and_opens_its_chip(pki) -> None:
    _, signer, store = pki
    zone = compose_td3(document_number="PT1234567", birth="850412", expiry="300101",
                       surname="PROV", given_names="PER", nationality="SWE",
                       issuing_state="SWE")
    card = make_card(signer, zone=zone)
    assert len(card.lines) == 2
    chip = EmulatedPassport("PT1234567", "850412", "300101", {
        bytes.fromhex("011E"): card.com, bytes.fromhex("011D"): card.sod,
        bytes.fromhex("0101"): card.dg1})
    files = read_chip(chip.answer, mrz_information("PT1234567", "850412", "300101"),
                      secrets.token_bytes)
    assert passive_authentication(files, card.lines, store, NOW).state == "verified"


def _openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def test_a_csca_spelling_out_brainpool_parameters_is_understood(tmp_path: Path) -> None:
    """Germany's CSCA (and so the BSI master list) gives its Brainpool curve as explicit
    parameters, which `cryptography` alone cannot load: the chain must still verify."""
    _openssl(tmp_path, "ecparam", "-name", "brainpoolP256r1", "-param_enc", "explicit",
             "-genkey", "-noout", "-out", "csca.key")
    _openssl(tmp_path, "req", "-new", "-x509", "-key", "csca.key", "-subj", "/C=DE/CN=Test DE",
             "-days", "3650", "-out", "csca.pem", "-addext", "basicConstraints=critical,CA:true")
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ds.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    _openssl(tmp_path, "req", "-new", "-key", "ds.key", "-subj", "/C=DE/CN=Test DE DS",
             "-out", "ds.csr")
    _openssl(tmp_path, "x509", "-req", "-in", "ds.csr", "-CA", "csca.pem", "-CAkey", "csca.key",
             "-CAcreateserial", "-days", "365", "-out", "ds.pem")
    csca_pem = (tmp_path / "csca.pem").read_bytes()
    with pytest.raises(UnsupportedAlgorithm):  # what the library alone says
        x509.load_pem_x509_certificate(csca_pem).public_key()
    signer = Authority(key, x509.load_pem_x509_certificate((tmp_path / "ds.pem").read_bytes()))
    card = make_card(signer)
    now = datetime.now(UTC)  # openssl's certificates start at the second they were made
    store = load_trust_store([("de.pem", csca_pem)], now)
    verdict = passive_authentication(_files(card), card.lines, store, now)
    assert (verdict.state, verdict.reason, dict(verdict.facts)["issuer"]) == \
        ("verified", "chip_verified", "DE")
    other = load_trust_store([("other.pem", make_csca("DE", "Test DE").pem)], now)
    assert passive_authentication(_files(card), card.lines, other, now).reason == "csca_unknown"


def test_active_authentication_tells_the_original_chip_from_a_copy(pki) -> None:
    _, signer, store = pki
    card = make_card(signer, active_authentication=True)
    info = mrz_information(card.number, card.birth, card.expiry)
    original = read_chip(chip_for(card).answer, info, secrets.token_bytes)
    verdict = passive_authentication(original, card.lines, store, NOW)
    assert (verdict.state, dict(verdict.facts)["clone_check"]) == ("verified", "passed")
    # A copy: every file the same, but it cannot hold the original's private key.
    copy_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    copied = read_chip(chip_for(card, aa_key=copy_key).answer, info, secrets.token_bytes)
    verdict = passive_authentication(copied, card.lines, store, NOW)
    assert (verdict.state, verdict.reason) == ("altered", "chip_not_original")


def test_a_chip_without_active_authentication_says_so(pki) -> None:
    _, signer, store = pki
    card = make_card(signer)
    verdict = passive_authentication(_files(card), card.lines, store, NOW)
    assert dict(verdict.facts)["clone_check"] == "not_offered"


@settings(max_examples=100)
@given(st.binary(max_size=200))
def test_any_answer_to_the_challenge_but_the_right_one_fails(answer: bytes) -> None:
    key = AA_KEY.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    dg15 = b"\x6f\x81" + bytes([len(key)]) + key
    assert check_active_authentication(dg15, b"12345678", answer) == "failed"


AA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)


def test_a_chip_refusing_the_challenge_it_offers_is_not_verified(pki) -> None:
    _, signer, store = pki
    card = make_card(signer, active_authentication=True)
    chip = chip_for(card)
    chip.aa_key = None  # DG15 present, INTERNAL AUTHENTICATE unanswered
    files = read_chip(chip.answer, mrz_information(card.number, card.birth, card.expiry),
                      secrets.token_bytes)
    verdict = passive_authentication(files, card.lines, store, NOW)
    assert (verdict.state, verdict.reason) == ("failed", "chip_error")


def _elements(der: bytes) -> int:
    count, stack, pos = 0, [len(der)], 0
    while stack:
        if pos == stack[-1]:
            stack.pop()
            continue
        count += 1
        item = read_tlv(der, pos)
        if item.constructed:
            stack.append(item.end)
            pos = item.end - len(item.value)
        else:
            pos = item.end
    return count


def test_a_master_list_as_large_as_the_real_ones_loads(pki) -> None:
    """The BSI list holds hundreds of CSCAs: far more elements than any EF.SOD may have."""
    csca, signer, _ = pki
    de = make_csca("DE", "Test DE CSCA")
    per_cert = _elements(csca.der)
    copies = 25_000 // per_cert + 1  # beyond the element bound a chip's data is held to
    ml = make_master_list([csca] * copies + [de], make_signer(de, "Test master list signer"))
    store = load_trust_store([("de.pem", de.pem), ("list.ml", ml)], NOW)
    assert store.problems == () and len(store.cscas) == copies + 2
    card = make_card(signer)
    assert passive_authentication(_files(card), card.lines, store, NOW).state == "verified"
