"""Test PKI and chip contents for generated test identities (no real person's data).

A CSCA → document signer chain made with `cryptography`, EF.SOD built with `asn1crypto`, and
the zone, EF.COM and DG1 of a made-up UT card. Used by the chip tests, the emulated card and
the benchmark; nothing here is shipped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import algos, cms, core
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from verify.cards.emrtd.lds import encode_com, encode_dg1
from verify.cards.emrtd.passive import DataGroupHash, DataGroupHashes, LdsSecurityObject
from verify.cards.emrtd.tlv import encode_length
from verify.cards.emrtd.trust import CscaMasterList
from verify.cards.mrz import compose_td1

NOW = datetime.now(UTC)


def _name(country: str, cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, country),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass(frozen=True)
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def make_csca(country: str = "SE", cn: str = "Test CSCA", *, days: int = 3650,
              start: datetime | None = None) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    start = start or NOW - timedelta(days=30)
    name = _name(country, cn)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(key, hashes.SHA256()))
    return Authority(key, cert)


def make_signer(csca: Authority, cn: str = "Test Document Signer", *,
                start: datetime | None = None, days: int = 365) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    start = start or NOW - timedelta(days=10)
    country = csca.cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value
    cert = (x509.CertificateBuilder().subject_name(_name(str(country), cn))
            .issuer_name(csca.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=days))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                         False), critical=True)
            .sign(csca.key, hashes.SHA256()))
    return Authority(key, cert)


def make_crl(csca: Authority, revoked: list[x509.Certificate]) -> bytes:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(csca.cert.subject)
               .last_update(NOW - timedelta(days=1)).next_update(NOW + timedelta(days=30)))
    for cert in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(cert.serial_number)
            .revocation_date(NOW - timedelta(hours=1)).build())
    return builder.sign(csca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _signed_data(content_type: str, content: bytes, signer: Authority) -> bytes:
    """CMS SignedData (one signer, ECDSA- or RSA-SHA256, signed attributes) as ContentInfo."""
    attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": [cms.ContentType(content_type)]}),
        cms.CMSAttribute({"type": "message_digest",
                          "values": [hashlib.sha256(content).digest()]}),
    ])
    if isinstance(signer.key, rsa.RSAPrivateKey):
        signature = signer.key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
        algorithm = "sha256_rsa"
    else:
        signature = signer.key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))
        algorithm = "sha256_ecdsa"
    cert = ax509.Certificate.load(signer.der)
    info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": cert.issuer, "serial_number": cert.serial_number})}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": attrs,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": algorithm}),
        "signature": signature,
    })
    signed = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": content_type,
                               "content": core.ParsableOctetString(content)},
        "certificates": [cert],
        "signer_infos": [info],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def make_sod(groups: dict[int, bytes], signer: Authority) -> bytes:
    """EF.SOD: the hashes of `groups`, signed by `signer`, inside tag 77."""
    lds = LdsSecurityObject({
        "version": 0,
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "data_group_hash_values": DataGroupHashes([
            DataGroupHash({"data_group_number": n,
                           "data_group_hash_value": hashlib.sha256(data).digest()})
            for n, data in sorted(groups.items())]),
    })
    body = _signed_data("2.23.136.1.1.1", lds.dump(), signer)
    return b"\x77" + encode_length(len(body)) + body


def make_master_list(cscas: list[Authority], signer: Authority) -> bytes:
    ml = CscaMasterList({"version": 0,
                         "cert_list": [ax509.Certificate.load(c.der) for c in cscas]})
    return _signed_data("2.23.136.1.1.2", ml.dump(), signer)



@dataclass(frozen=True)
class TestCard:
    """A made-up UT card: its printed zone and its chip's files."""

    zone: str
    com: bytes
    dg1: bytes
    sod: bytes
    number: str = "TE5T00042"
    birth: str = "900115"
    expiry: str = ""
    dg15: bytes = b""  # Active Authentication public key, when the card has one
    aa_key: rsa.RSAPrivateKey | None = None

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(self.zone.split("\n"))


def expiry_in(days: int) -> str:
    return (NOW + timedelta(days=days)).strftime("%y%m%d")


def ut_zone(*, number: str = "TE5T00042", birth: str = "900115", expiry: str | None = None,
            surname: str = "TESTSSON", given: str = "ANNA") -> str:
    return compose_td1(document_number=number, birth=birth, expiry=expiry or expiry_in(400),
                       surname=surname, given_names=given, sex="F", nationality="UKR")


def make_card(signer: Authority, *, zone: str | None = None, alter_dg1_after_signing: str = "",
              active_authentication: bool = False, **zone_args: str) -> TestCard:
    """A card whose EF.SOD signs its DG1; `alter_dg1_after_signing` swaps the chip's zone
    for another one after signing (a tampered chip); `active_authentication` gives the chip
    an RSA key of its own (DG15, signed in EF.SOD)."""
    zone = zone or ut_zone(**zone_args)
    dg1 = encode_dg1(zone)
    groups = {1: dg1, 2: b"\x75\x03not-a-face"}
    aa_key = None
    dg15 = b""
    if active_authentication:
        aa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        spki = aa_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
        dg15 = b"\x6f" + encode_length(len(spki)) + spki
        groups[15] = dg15
    sod = make_sod(groups, signer)
    if alter_dg1_after_signing:
        dg1 = encode_dg1(alter_dg1_after_signing)
    lines = zone.split("\n")
    number = lines[0][5:14].rstrip("<") if len(lines) == 3 else lines[1][0:9].rstrip("<")
    birth = lines[1][0:6] if len(lines) == 3 else lines[1][13:19]
    expiry = lines[1][8:14] if len(lines) == 3 else lines[1][21:27]
    return TestCard(zone=zone, com=encode_com(tuple(sorted(groups))), dg1=dg1, sod=sod,
                    number=number, birth=birth, expiry=expiry, dg15=dg15, aa_key=aa_key)


__all__ = ["Authority", "TestCard", "make_card", "make_crl", "make_csca", "make_master_list",
           "make_signer", "make_sod", "ut_zone"]
