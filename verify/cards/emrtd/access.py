"""Basic Access Control (ICAO Doc 9303 part 11, 4.3 and 9.8): keys from the printed zone,
mutual authentication, and secure messaging with 3DES and the ISO/IEC 9797-1 retail MAC.

BAC is what every eMRTD chip answers to, UT cards included; its keys are derived from the
document number, birth date and expiry date with their check digits, which is why the chip is
read after the zone. Pure: the caller supplies the random bytes and moves the APDUs.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from verify.cards.emrtd.tlv import TlvError, children, encode_length

ZERO_IV = bytes(8)


class AccessError(ValueError):
    """The chip's answer does not prove it knows the key (wrong zone, or not this chip)."""


class SecureMessagingError(ValueError):
    """A protected response is malformed or its MAC is wrong: the channel is not trustworthy."""


def mrz_information(document_number: str, birth: str, expiry: str) -> bytes:
    """The key seed's input: number (at least 9 characters, `<`-padded) + check digit, birth
    date YYMMDD + check digit, expiry YYMMDD + check digit (9303 part 11, 9.7.2 and part 5
    for numbers longer than nine characters)."""
    number = document_number.upper().ljust(9, "<")
    fields = (number, birth, expiry)
    return "".join(f + check_digit(f) for f in fields).encode("ascii")


def check_digit(data: str) -> str:
    """9303 check digit (weights 7-3-1); duplicated from the zone parser to keep this pure
    module free of the zone's parsing."""
    total = 0
    for i, c in enumerate(data):
        v = ord(c) - 48 if c.isdigit() else (ord(c) - 55 if "A" <= c <= "Z" else 0)
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


def _parity(key: bytes) -> bytes:
    """DES keys carry odd parity in each byte's lowest bit."""
    out = bytearray()
    for b in key:
        b &= 0xFE
        out.append(b | (bin(b).count("1") + 1) % 2)
    return bytes(out)


def derive_key(seed: bytes, counter: int) -> bytes:
    """16-byte 3DES key: SHA-1(seed ‖ counter)[:16], parity adjusted (1 = encryption, 2 = MAC)."""
    return _parity(hashlib.sha1(seed + counter.to_bytes(4, "big")).digest()[:16])


def key_seed(mrz_info: bytes) -> bytes:
    return hashlib.sha1(mrz_info).digest()[:16]


def _tdes(key: bytes) -> TripleDES:
    return TripleDES(key + key[:8] if len(key) == 16 else key)


def encrypt(key: bytes, data: bytes) -> bytes:
    enc = Cipher(_tdes(key), modes.CBC(ZERO_IV)).encryptor()
    return enc.update(data) + enc.finalize()


def decrypt(key: bytes, data: bytes) -> bytes:
    if len(data) % 8:
        raise SecureMessagingError("cipher text is not whole blocks")
    dec = Cipher(_tdes(key), modes.CBC(ZERO_IV)).decryptor()
    return dec.update(data) + dec.finalize()


def pad(data: bytes) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 0x80, then zeros to a whole block."""
    data += b"\x80"
    return data + bytes(-len(data) % 8)


def unpad(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise SecureMessagingError("bad padding")
    return stripped[:-1]


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (DES CBC with K1, last block through K2⁻¹ then K1),
    padding method 2."""
    k1, k2 = key[:8], key[8:16]
    single = Cipher(TripleDES(k1 * 3), modes.CBC(ZERO_IV)).encryptor()
    h = (single.update(pad(data)) + single.finalize())[-8:]
    d = Cipher(TripleDES(k2 * 3), modes.ECB()).decryptor()
    h = d.update(h) + d.finalize()
    e = Cipher(TripleDES(k1 * 3), modes.ECB()).encryptor()
    return e.update(h) + e.finalize()


@dataclass(frozen=True)
class BacKeys:
    enc: bytes
    mac: bytes

    @classmethod
    def from_mrz_information(cls, mrz_info: bytes) -> BacKeys:
        seed = key_seed(mrz_info)
        return cls(enc=derive_key(seed, 1), mac=derive_key(seed, 2))


def authenticate_command(keys: BacKeys, rnd_icc: bytes, rnd_ifd: bytes, k_ifd: bytes) -> bytes:
    """The MUTUAL AUTHENTICATE APDU: E(RND.IFD ‖ RND.ICC ‖ K.IFD) ‖ MAC, Le 40."""
    e_ifd = encrypt(keys.enc, rnd_ifd + rnd_icc + k_ifd)
    return b"\x00\x82\x00\x00\x28" + e_ifd + retail_mac(keys.mac, e_ifd) + b"\x28"


@dataclass(frozen=True)
class Session:
    """Session keys and the send sequence counter after BAC. Immutable: each protected APDU
    returns the session with its counter moved on."""

    enc: bytes
    mac: bytes
    ssc: int

    @classmethod
    def from_authentication(cls, keys: BacKeys, response: bytes, rnd_icc: bytes,
                            rnd_ifd: bytes, k_ifd: bytes) -> Session:
        """Check the chip's answer (MAC, then our challenge echoed) and derive the session."""
        if len(response) != 40:
            raise AccessError("mutual authentication answer is not 40 bytes")
        e_icc, m_icc = response[:32], response[32:]
        if not hmac.compare_digest(retail_mac(keys.mac, e_icc), m_icc):
            raise AccessError("the chip's MAC does not verify")
        plain = decrypt(keys.enc, e_icc)
        if plain[:8] != rnd_icc or plain[8:16] != rnd_ifd:
            raise AccessError("the chip did not echo the challenge")
        k_icc = plain[16:32]
        seed = bytes(a ^ b for a, b in zip(k_ifd, k_icc, strict=True))
        ssc = int.from_bytes(rnd_icc[4:8] + rnd_ifd[4:8], "big")
        return cls(enc=derive_key(seed, 1), mac=derive_key(seed, 2), ssc=ssc)

    def _next(self) -> Session:
        return Session(self.enc, self.mac, (self.ssc + 1) % (1 << 64))

    def _ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(8, "big")

    def protect(self, apdu: bytes) -> tuple[Session, bytes]:
        """Wrap a short plain APDU (CLA INS P1 P2 [Lc data] [Le]) for secure messaging."""
        if len(apdu) < 4:
            raise ValueError("an APDU has at least four bytes")
        header = bytes([apdu[0] | 0x0C]) + apdu[1:4]
        body = apdu[4:]
        data, le = b"", b""
        if len(body) == 1:
            le = body
        elif body:
            lc = body[0]
            data = body[1:1 + lc]
            le = body[1 + lc:]
        do87 = b""
        if data:
            crypt = b"\x01" + encrypt(self.enc, pad(data))
            do87 = b"\x87" + encode_length(len(crypt)) + crypt
        do97 = b"\x97\x01" + le if le else b""
        state = self._next()
        mac = retail_mac(state.mac, state._ssc_bytes() + pad(header) + do87 + do97)
        do8e = b"\x8e\x08" + mac
        payload = do87 + do97 + do8e
        return state, header + bytes([len(payload)]) + payload + b"\x00"

    def unprotect(self, response: bytes) -> tuple[Session, bytes, bytes]:
        """(session, plain data, status word) of a protected response, its MAC checked."""
        if len(response) < 2:
            raise SecureMessagingError("response shorter than a status word")
        body, sw = response[:-2], response[-2:]
        state = self._next()
        if not body:  # an error status word comes unprotected
            return state, b"", sw
        try:
            items = children(body)
        except TlvError as exc:
            raise SecureMessagingError(f"protected response is not TLV ({exc})") from None
        covered = b""
        data = b""
        mac = None
        status = None
        pos = 0
        for item in items:
            raw = body[pos:item.end]
            pos = item.end
            if item.tag == 0x87:
                if not item.value.startswith(b"\x01"):
                    raise SecureMessagingError("unknown padding indicator")
                data = item.value[1:]
                covered += raw
            elif item.tag == 0x99:
                status = item.value
                covered += raw
            elif item.tag == 0x8E:
                mac = item.value
            else:
                raise SecureMessagingError("unexpected element in a protected response")
        if mac is None or status is None or len(status) != 2:
            raise SecureMessagingError("protected response lacks its MAC or status")
        if not hmac.compare_digest(retail_mac(state.mac, state._ssc_bytes() + covered), mac):
            raise SecureMessagingError("the response's MAC does not verify")
        plain = unpad(decrypt(state.enc, data)) if data else b""
        return state, plain, status  # the status word the MAC covers, not the bare one


