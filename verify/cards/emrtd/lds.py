"""The files of the Logical Data Structure this toolkit reads (9303 part 10), and nothing more.

EF.COM lists the data groups present; DG1 holds the zone as the chip stores it; DG15 the chip's
Active Authentication key, when it has one; EF.SOD holds their signed hashes. DG2 (face) and
DG3 (fingerprints) are never named here: this module gives the session no way to ask for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from verify.cards.emrtd.tlv import TlvError, children, encode_length, find, unwrap

AID = bytes.fromhex("A0000002471001")

# file → (short file identifier, file identifier, outer tag, the most bytes accepted)
EF_COM = ("EF.COM", bytes.fromhex("011E"), 0x60, 256)
EF_SOD = ("EF.SOD", bytes.fromhex("011D"), 0x77, 32 * 1024)
EF_DG1 = ("DG1", bytes.fromhex("0101"), 0x61, 256)
# DG15: the Active Authentication public key (a key, nothing about the person).
EF_DG15 = ("DG15", bytes.fromhex("010F"), 0x6F, 2048)

# EF.COM's list of data groups: tag → data group number.
DG_TAGS = {0x61: 1, 0x75: 2, 0x63: 3, 0x76: 4, 0x65: 5, 0x66: 6, 0x67: 7, 0x68: 8, 0x69: 9,
           0x6A: 10, 0x6B: 11, 0x6C: 12, 0x6D: 13, 0x6E: 14, 0x6F: 15, 0x70: 16}


class LdsError(ValueError):
    """A file's content is not what 9303 part 10 says it is."""


@dataclass(frozen=True)
class Com:
    lds_version: str
    data_groups: tuple[int, ...]


def parse_com(data: bytes) -> Com:
    try:
        body = unwrap(data, 0x60)
        version = find(body, 0x5F01) or b""
        tags = find(body, 0x5C) or b""
    except TlvError as exc:
        raise LdsError(f"EF.COM: {exc}") from None
    groups = tuple(sorted({DG_TAGS[t] for t in tags if t in DG_TAGS}))
    return Com(lds_version=version.decode("ascii", "replace"), data_groups=groups)


def parse_dg1(data: bytes) -> str:
    """The zone's characters as one string (TD1 90, TD2 72, TD3 88 characters)."""
    try:
        body = unwrap(data, 0x61)
        items = children(body)
    except TlvError as exc:
        raise LdsError(f"DG1: {exc}") from None
    for item in items:
        if item.tag == 0x5F1F:
            text = item.value.decode("ascii", "replace")
            if len(text) not in (72, 88, 90):
                raise LdsError("DG1: the zone has an unexpected length")
            return text
    raise LdsError("DG1: no zone in it")


def zone_lines(text: str) -> tuple[str, ...]:
    """DG1's run of characters cut into the printed lines."""
    width = {90: 30, 72: 36, 88: 44}[len(text)]
    return tuple(text[i:i + width] for i in range(0, len(text), width))


def encode_dg1(zone: str) -> bytes:
    """DG1 for a zone (test cards and fixtures build their chips with it)."""
    mrz = zone.replace("\n", "").encode("ascii")
    inner = b"\x5f\x1f" + encode_length(len(mrz)) + mrz
    return b"\x61" + encode_length(len(inner)) + inner


def encode_com(groups: tuple[int, ...] = (1, 2)) -> bytes:
    tags = bytes(t for t, n in DG_TAGS.items() if n in groups)
    inner = b"\x5f\x01\x040107" + b"\x5f\x36\x06040000" + b"\x5c" + encode_length(len(tags)) + tags
    return b"\x60" + encode_length(len(inner)) + inner

