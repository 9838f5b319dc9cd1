"""Active Authentication (9303 part 11, 6.1): is this the chip the state issued, or a copy?

Passive authentication proves the data was signed; it cannot tell a chip copied bit for bit.
A chip that offers Active Authentication holds a private key that cannot be read out, with its
public key in DG15 (covered by EF.SOD): it signs our random challenge, and a copy cannot.
RSA answers use ISO/IEC 9796-2 digital signature scheme 1 (message recovery); ECDSA answers are
plain r ‖ s, checked against the usual hashes (DG14, which would name it, is not read).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from verify.cards.emrtd.tlv import TlvError, unwrap

Outcome = Literal["passed", "failed", "unsupported"]
# ISO/IEC 9796-2 trailer: 0xBC alone is SHA-1; 0x?? 0xCC names the hash (ISO/IEC 10118-3 ids).
TRAILER_HASHES = {0x33: "sha1", 0x38: "sha224", 0x34: "sha256", 0x36: "sha384", 0x35: "sha512"}
EC_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512, hashes.SHA224, hashes.SHA1)


def check_active_authentication(dg15: bytes, challenge: bytes, answer: bytes) -> Outcome:
    """`passed` when the answer is the DG15 key's signature of our challenge."""
    try:
        key = serialization.load_der_public_key(unwrap(dg15, 0x6F))
    except (TlvError, ValueError, UnsupportedAlgorithm):
        return "unsupported"
    if not answer:
        return "failed"
    if isinstance(key, rsa.RSAPublicKey):
        return "passed" if _rsa_9796_2(key, challenge, answer) else "failed"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "passed" if _ecdsa_plain(key, challenge, answer) else "failed"
    return "unsupported"


def _rsa_9796_2(key: rsa.RSAPublicKey, challenge: bytes, answer: bytes) -> bool:
    numbers = key.public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    s = int.from_bytes(answer, "big")
    if len(answer) > size or not 0 < s < numbers.n:
        return False
    m = pow(s, numbers.e, numbers.n).to_bytes(size, "big")
    if m[-1] == 0xBC:
        trailer, name = 1, "sha1"
    elif m[-1] == 0xCC and m[-2] in TRAILER_HASHES:
        trailer, name = 2, TRAILER_HASHES[m[-2]]
    else:
        return False
    if m[0] & 0xC0 != 0x40:  # header: 01 then the recovery bits
        return False
    length = hashlib.new(name).digest_size
    start = next((i for i, b in enumerate(m) if b & 0x0F == 0x0A), -1)  # the 0x?A that ends padding
    if start < 0 or size - trailer - length <= start + 1:
        return False
    recovered = m[start + 1:size - trailer - length]
    digest = m[size - trailer - length:size - trailer]
    return hmac.compare_digest(digest, hashlib.new(name, recovered + challenge).digest())


def _ecdsa_plain(key: ec.EllipticCurvePublicKey, challenge: bytes, answer: bytes) -> bool:
    if len(answer) % 2 or not answer:
        return False
    half = len(answer) // 2
    der = encode_dss_signature(int.from_bytes(answer[:half], "big"),
                               int.from_bytes(answer[half:], "big"))
    for algorithm in EC_HASHES:
        try:
            key.verify(der, challenge, ec.ECDSA(algorithm()))
            return True
        except InvalidSignature:
            continue
    return False
