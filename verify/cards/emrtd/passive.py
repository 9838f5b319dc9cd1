"""Passive authentication (9303 part 11, 5.1) and the chip against the print.

1. EF.SOD is CMS SignedData over an LDSSecurityObject: a hash per data group.
2. Each data group read hashes to the value EF.SOD holds for it (else: altered).
3. EF.SOD's signature verifies with the document signer certificate inside it (else: altered).
4. That certificate was issued by a CSCA in the region's trust store, is within its dates and
   is not on the CSCA's revocation list (else: untrusted, saying which).
5. DG1 (the zone in the chip) equals the printed zone (else: altered, naming the fields).

The verdict keeps nothing read from the chip: a state, a stable reason code, an English
detail, and facts for the sentence (field names, the issuer's country code, dates).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from asn1crypto import algos, cms, core
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509.oid import NameOID

from verify.cards.emrtd.active import check_active_authentication
from verify.cards.emrtd.keys import issued_by
from verify.cards.emrtd.lds import LdsError, parse_dg1, zone_lines
from verify.cards.emrtd.session import ChipFiles
from verify.cards.emrtd.signature import SignatureError, digest, verify_signed_data
from verify.cards.emrtd.tlv import TlvError, check_der, unwrap
from verify.cards.emrtd.trust import TrustStore
from verify.cards.mrz import parse_fields

LDS_OID = "2.23.136.1.1.1"
State = Literal["verified", "altered", "untrusted", "failed"]
# Fields of the zone compared chip against print, in the order a person reads them.
ZONE_FIELDS = ("document_code", "issuing_state", "document_number", "birth_date", "sex",
               "expiry_date", "nationality", "optional_data", "names")


class DataGroupHash(core.Sequence):
    _fields = [("data_group_number", core.Integer), ("data_group_hash_value", core.OctetString)]


class DataGroupHashes(core.SequenceOf):
    _child_spec = DataGroupHash


class LdsVersionInfo(core.Sequence):
    _fields = [("lds_version", core.PrintableString), ("unicode_version", core.PrintableString)]


class LdsSecurityObject(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashes),
        ("lds_version_info", LdsVersionInfo, {"optional": True}),
    ]


@dataclass(frozen=True)
class Verdict:
    state: State
    reason: str
    detail: str
    facts: tuple[tuple[str, str], ...] = ()


def _country(cert: x509.Certificate) -> str:
    names = cert.issuer.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    return str(names[0].value) if names else "?"


def _parse_sod(sod: bytes) -> tuple[cms.SignedData, dict[int, bytes], str]:
    """(signed data, data group → hash, hash name); raises on anything malformed."""
    content_info = unwrap(sod, 0x77)
    check_der(content_info)
    info = cms.ContentInfo.load(content_info, strict=True)
    if info["content_type"].native != "signed_data":
        raise ValueError("EF.SOD is not CMS signed data")
    signed = info["content"]
    encap = signed["encap_content_info"]
    if encap["content_type"].dotted != LDS_OID:
        raise ValueError("EF.SOD does not hold an LDS security object")
    inner = encap["content"].contents
    check_der(inner)
    lds = LdsSecurityObject.load(inner, strict=True)
    hashes = {int(h["data_group_number"].native): bytes(h["data_group_hash_value"].native)
              for h in lds["data_group_hash_values"]}
    # Force every lazily parsed part now, so a malformed one fails here, not later.
    signed.native  # noqa: B018
    return signed, hashes, str(lds["hash_algorithm"]["algorithm"].native)


def zone_differences(chip_zone: str, printed: tuple[str, ...]) -> list[str]:
    """The zone's fields that differ between the chip's DG1 and the printed zone."""
    chip_lines = zone_lines(chip_zone)
    if len(chip_lines) != len(printed) or len(chip_lines[0]) != len(printed[0]):
        return ["format"]
    fmt = {30: "TD1", 36: "TD2", 44: "TD3"}[len(chip_lines[0])]
    chip, _ = parse_fields(fmt, chip_lines)  # type: ignore[arg-type]
    print_, _ = parse_fields(fmt, printed)  # type: ignore[arg-type]
    differ = [f for f in ZONE_FIELDS if chip[f] != print_[f]]
    if not differ and "".join(chip_lines) != "".join(printed):
        differ = ["check_digits"]
    return differ


def passive_authentication(files: ChipFiles, printed: tuple[str, ...], trust: TrustStore,
                           when: datetime) -> Verdict:
    """The verdict for what was read from a chip, against the printed zone and the store."""
    try:
        signed, hashes, hash_name = _parse_sod(files.sod)
        chip_zone = parse_dg1(files.dg1)
    except (ValueError, TypeError, KeyError, TlvError, LdsError) as exc:
        return Verdict("failed", "chip_data_malformed",
                       f"the chip's security data cannot be read ({type(exc).__name__})")
    try:
        if 1 not in hashes:
            return Verdict("altered", "dg_hash_mismatch",
                           "the chip's signed data holds no hash for the zone (DG1)")
        if not hmac.compare_digest(digest(hash_name, files.dg1), hashes[1]):
            return Verdict("altered", "dg_hash_mismatch",
                           "the zone in the chip (DG1) does not match its signed hash",
                           (("groups", "DG1"),))
        if files.dg15 and (15 not in hashes or not hmac.compare_digest(
                digest(hash_name, files.dg15), hashes[15])):
            return Verdict("altered", "dg_hash_mismatch",
                           "the chip's own key (DG15) does not match its signed hash",
                           (("groups", "DG15"),))
        signer = verify_signed_data(signed)
    except SignatureError as exc:
        if exc.reason == "unsupported_algorithm":
            return Verdict("failed", "unsupported_algorithm",
                           f"the chip's signature uses an algorithm not supported here ({exc})")
        return Verdict("altered", "sod_signature_invalid",
                       "the signature over the chip's data does not verify")
    except (UnsupportedAlgorithm, ValueError, TypeError) as exc:  # a certificate it cannot use
        return Verdict("failed", "unsupported_algorithm",
                       f"the chip's signer certificate cannot be used here ({type(exc).__name__})")
    differ = zone_differences(chip_zone, printed)
    if differ:
        return Verdict("altered", "zone_differs",
                       "the printed zone differs from the zone in the chip (" + ", ".join(differ)
                       + ")", (("fields", ",".join(differ)),))
    clone_check = "not_offered"
    if files.dg15 and not files.answer:  # refused the challenge: cannot tell, so no verdict
        return Verdict("failed", "chip_error",
                       "the chip refused the Active Authentication challenge its data offers",
                       (("issuer", _country(signer)), ("clone_check", "failed")))
    if files.dg15:
        clone_check = check_active_authentication(files.dg15, files.challenge, files.answer)
        if clone_check == "failed":
            return Verdict("altered", "chip_not_original",
                           "the chip did not prove it holds the key its signed data names "
                           "(Active Authentication failed): it may be a copy",
                           (("issuer", _country(signer)), ("clone_check", "failed")))
    return _trust(signer, trust, when, clone_check)


def _trust(signer: x509.Certificate, trust: TrustStore, when: datetime,
           clone_check: str = "not_offered") -> Verdict:
    issuer = _country(signer)
    facts: list[tuple[str, str]] = [("issuer", issuer), ("clone_check", clone_check)]
    if not trust.configured:
        return Verdict("untrusted", "no_trust_store",
                       "the chip's signature is intact, but no trust store is installed to say "
                       "who signed it", tuple(facts))
    candidates = trust.issuers_of(signer)
    issuers = [c for c in candidates if issued_by(signer, c)]
    if not issuers:
        return Verdict("untrusted", "csca_unknown",
                       f"the chip's signature is intact, but its signer does not chain to a "
                       f"country signing CA ({issuer}) in the trust store", tuple(facts))
    if when > signer.not_valid_after_utc:
        facts.append(("date", signer.not_valid_after_utc.date().isoformat()))
        return Verdict("untrusted", "signer_expired",
                       "the document signer's certificate expired on "
                       f"{signer.not_valid_after_utc.date().isoformat()}", tuple(facts))
    if when < signer.not_valid_before_utc:
        facts.append(("date", signer.not_valid_before_utc.date().isoformat()))
        return Verdict("untrusted", "signer_not_yet_valid",
                       "the document signer's certificate is not valid until "
                       f"{signer.not_valid_before_utc.date().isoformat()}", tuple(facts))
    live = [c for c in issuers if c.not_valid_before_utc <= when <= c.not_valid_after_utc]
    if not live:
        return Verdict("untrusted", "csca_expired",
                       f"the country signing CA ({issuer}) that issued the signer is outside "
                       "its validity dates", tuple(facts))
    for csca in live:
        for crl in trust.crls_of(csca):
            if crl.get_revoked_certificate_by_serial_number(signer.serial_number) is not None:
                return Verdict("untrusted", "signer_revoked",
                               "the document signer's certificate is revoked by its country "
                               "signing CA", tuple(facts))
    return Verdict("verified", "chip_verified",
                   f"the chip's data is signed by {issuer}'s document signer, chained to a "
                   "trusted country signing CA; the printed zone matches the chip", tuple(facts))


