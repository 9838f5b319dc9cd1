"""CMS SignedData signatures as eMRTDs use them (EF.SOD, CSCA master lists): one signer, its
certificate inside, signed attributes carrying the content's digest (RFC 5652, 9303 part 10).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from verify.cards.emrtd.keys import public_key

HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class SignatureError(ValueError):
    """The signed data does not verify; `reason` says how (see passive authentication)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def digest(name: str, data: bytes) -> bytes:
    if name not in HASHES:
        raise SignatureError("unsupported_algorithm", f"hash {name} is not supported")
    return hashlib.new(name, data).digest()


def signer_certificate(signed: cms.SignedData, info: cms.SignerInfo) -> x509.Certificate:
    """The certificate `info` names (issuer and serial, or subject key identifier)."""
    sid = info["sid"]
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if cert.issuer == ias["issuer"] and cert.serial_number == ias["serial_number"].native:
                return x509.load_der_x509_certificate(cert.dump())
        elif cert.key_identifier == sid.chosen.native:
            return x509.load_der_x509_certificate(cert.dump())
    raise SignatureError("signer_missing", "the signer's certificate is not in the signed data")


def verify_signed_data(signed: cms.SignedData) -> x509.Certificate:
    """Check the one signer's signature and the digest of the content; return the signer's
    certificate (its trust is the caller's question)."""
    infos = signed["signer_infos"]
    if len(infos) != 1:
        raise SignatureError("signature_malformed", "expected exactly one signer")
    info = infos[0]
    cert = signer_certificate(signed, info)
    hash_name = info["digest_algorithm"]["algorithm"].native
    content = signed["encap_content_info"]["content"].contents
    attrs = info["signed_attrs"]
    if not attrs:  # CMS allows signing the content itself (9303 asks for attributes)
        _verify(cert, info, hash_name, content)
        return cert
    digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
    if len(digests) != 1 or not hmac.compare_digest(digests[0], digest(hash_name, content)):
        raise SignatureError("signature_invalid", "the content's digest does not match")
    signed_bytes = b"\x31" + attrs.dump()[1:]  # signed over as a SET, not as [0]
    _verify(cert, info, hash_name, signed_bytes)
    return cert


def _verify(cert: x509.Certificate, info: cms.SignerInfo, hash_name: str, data: bytes) -> None:
    algo = info["signature_algorithm"]
    name = algo.signature_algo
    signature = info["signature"].native
    key = public_key(cert)
    if hash_name not in HASHES:
        raise SignatureError("unsupported_algorithm", f"hash {hash_name} is not supported")
    chosen = HASHES[hash_name]()
    try:
        if name == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), chosen)
        elif name == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey):
            params = algo["parameters"]
            pss_hash = HASHES.get(params["hash_algorithm"]["algorithm"].native)
            if pss_hash is None:
                raise SignatureError("unsupported_algorithm", "PSS hash is not supported")
            key.verify(signature, data,
                       padding.PSS(mgf=padding.MGF1(pss_hash()),
                                   salt_length=params["salt_length"].native), pss_hash())
        elif name == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(chosen))
        else:
            raise SignatureError("unsupported_algorithm",
                                 f"signature algorithm {name} with this key is not supported")
    except InvalidSignature:
        raise SignatureError("signature_invalid", "the signature does not verify") from None
    except (UnsupportedAlgorithm, ValueError) as exc:
        if isinstance(exc, SignatureError):
            raise
        raise SignatureError("unsupported_algorithm", str(exc)) from None
