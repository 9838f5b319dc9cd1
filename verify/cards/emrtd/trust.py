"""The region's trust store: country signing CA certificates (CSCAs) and revocation lists.

A region installs what it trusts (docs/chip.md): loose CSCA certificates (PEM or DER), CSCA
master lists (CMS-signed lists such as the German BSI's), and CRLs. A master list is taken
only when its own signature verifies and its signer chains to a CSCA installed as a loose
certificate: the list cannot vouch for itself. Pure: the caller reads the files and passes
(name, bytes) pairs; every item that cannot be used is named in `problems`, never fatal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, core
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from verify.cards.emrtd.keys import issued_by, public_key
from verify.cards.emrtd.signature import SignatureError, verify_signed_data
from verify.cards.emrtd.tlv import TlvError, check_der

MAX_ITEM = 8 * 1024 * 1024  # the BSI master list is a few MB
# A master list holds hundreds of certificates of ~100 elements each: far more elements than a
# chip's EF.SOD may have, still walked without recursion and with the same depth bound.
MAX_LIST_ELEMENTS = 5_000_000
ML_OID = "2.23.136.1.1.2"


class CscaMasterList(core.Sequence):
    _fields = [("version", core.Integer), ("cert_list", core.SetOf, {"spec": core.Any})]


@dataclass(frozen=True)
class TrustStore:
    """CSCAs by subject, CRLs, and what could not be used (file name and why)."""

    cscas: tuple[x509.Certificate, ...] = ()
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    problems: tuple[tuple[str, str], ...] = ()
    configured: bool = False

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        """CSCAs whose subject is `cert`'s issuer (several when a CSCA was renewed)."""
        return [c for c in self.cscas if c.subject == cert.issuer]

    def crls_of(self, csca: x509.Certificate) -> list[x509.CertificateRevocationList]:
        out = []
        for crl in self.crls:
            if crl.issuer != csca.subject:
                continue
            try:
                if crl.is_signature_valid(public_key(csca)):  # type: ignore[arg-type]
                    out.append(crl)
            except (UnsupportedAlgorithm, ValueError, TypeError):
                continue
        return out


def _certificate(data: bytes) -> x509.Certificate:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def _crl(data: bytes) -> x509.CertificateRevocationList:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def _pem_blocks(data: bytes) -> list[bytes]:
    """A PEM file may bundle several certificates."""
    out, rest = [], data
    end = b"-----END CERTIFICATE-----"
    while b"-----BEGIN CERTIFICATE-----" in rest and end in rest:
        start = rest.index(b"-----BEGIN CERTIFICATE-----")
        stop = rest.index(end, start) + len(end)
        out.append(rest[start:stop])
        rest = rest[stop:]
    return out


def _master_list(data: bytes, anchors: list[x509.Certificate],
                 when: datetime) -> list[x509.Certificate]:
    """The CSCAs of a master list whose signature and signer check out against `anchors`."""
    check_der(data, max_elements=MAX_LIST_ELEMENTS)
    info = cms.ContentInfo.load(data, strict=True)
    if info["content_type"].native != "signed_data":
        raise ValueError("not a CMS signed-data file")
    signed = info["content"]
    if signed["encap_content_info"]["content_type"].dotted != ML_OID:
        raise ValueError("not a CSCA master list")
    signer = verify_signed_data(signed)
    if not any(issued_by(signer, a) for a in anchors):
        raise ValueError("its signer does not chain to an installed CSCA certificate")
    if not signer.not_valid_before_utc <= when <= signer.not_valid_after_utc:
        raise ValueError("its signer's certificate is outside its validity dates")
    content = signed["encap_content_info"]["content"].contents
    check_der(content, max_elements=MAX_LIST_ELEMENTS)
    ml = CscaMasterList.load(content, strict=True)
    out = []
    for item in ml["cert_list"]:
        try:
            out.append(x509.load_der_x509_certificate(item.dump()))
        except ValueError:
            continue  # one unreadable entry does not spoil the list
    return out




def load_trust_store(items: Iterable[tuple[str, bytes]], when: datetime) -> TrustStore:
    """Build a store from files' names and bytes: `.crl` files are revocation lists, `.ml`
    files (or CMS content) master lists, anything else one or more certificates."""
    loose: list[x509.Certificate] = []
    crls: list[x509.CertificateRevocationList] = []
    lists: list[tuple[str, bytes]] = []
    problems: list[tuple[str, str]] = []
    for name, data in items:
        if len(data) > MAX_ITEM:
            problems.append((name, "larger than a trust-store file can be"))
            continue
        lower = name.lower()
        try:
            if lower.endswith(".crl"):
                crls.append(_crl(data))
            elif lower.endswith((".ml", ".p7s", ".p7b", ".cms")):
                lists.append((name, data))
            elif b"-----BEGIN CERTIFICATE-----" in data:
                loose.extend(_certificate(b) for b in _pem_blocks(data))
            else:
                check_der(data)
                loose.append(_certificate(data))
        except (ValueError, TypeError, TlvError) as exc:
            problems.append((name, f"not a certificate, master list or CRL ({exc})"))
    cscas = list(loose)
    for name, data in lists:
        try:
            cscas.extend(_master_list(data, loose, when))
        except (ValueError, TypeError, TlvError, SignatureError) as exc:
            problems.append((name, f"master list not used: {exc}"))
    return TrustStore(cscas=tuple(cscas), crls=tuple(crls), problems=tuple(problems),
                      configured=True)
