"""One conversation with an eMRTD chip: select, BAC, then read EF.COM, EF.SOD and DG1.

The caller gives a `transmit` (plain APDU bytes in, response with status word out) and the
random bytes BAC needs; this module decides what to send and checks every answer. Each file
is read in parts by READ BINARY with offsets; its size comes from its first bytes and is held
to a bound per file before anything more is read, so a chip cannot make us read or keep more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from verify.cards.emrtd.access import (
    AccessError,
    BacKeys,
    SecureMessagingError,
    Session,
    authenticate_command,
)
from verify.cards.emrtd.lds import AID, EF_COM, EF_DG1, EF_DG15, EF_SOD, LdsError, parse_com
from verify.cards.emrtd.tlv import TlvError, read_header

Transmit = Callable[[bytes], bytes]
CHUNK = 0xDF  # bytes per READ BINARY: fits one short APDU once padded and MACed
SW_OK = b"\x90\x00"


class ChipError(Exception):
    """The chip could not be read; `reason` is a stable code (see docs/status-schema.json)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ChipFiles:
    """What was read, held only until passive authentication has looked at it."""

    com: bytes
    sod: bytes
    dg1: bytes
    # Active Authentication, when the chip offers it (DG15): the key, our challenge, its answer.
    dg15: bytes = b""
    challenge: bytes = b""
    answer: bytes = b""

    def __repr__(self) -> str:  # never print what the chip holds
        return (f"ChipFiles(com={len(self.com)} B, sod={len(self.sod)} B, dg1={len(self.dg1)} B, "
                f"dg15={len(self.dg15)} B)")


def _split(response: bytes) -> tuple[bytes, bytes]:
    if len(response) < 2:
        raise ChipError("chip_error", "the chip's answer is shorter than a status word")
    return response[:-2], response[-2:]


def select_application(transmit: Transmit) -> None:
    data, sw = _split(transmit(b"\x00\xa4\x04\x0c\x07" + AID))
    if sw != SW_OK:
        raise ChipError("not_emrtd", "the card has no travel-document application")


def open_bac(transmit: Transmit, mrz_info: bytes, random: Callable[[int], bytes]) -> Session:
    """GET CHALLENGE and MUTUAL AUTHENTICATE; refusal means the key (the zone) is wrong."""
    rnd_icc, sw = _split(transmit(b"\x00\x84\x00\x00\x08"))
    if sw != SW_OK or len(rnd_icc) != 8:
        raise ChipError("not_emrtd", "the chip does not offer Basic Access Control")
    keys = BacKeys.from_mrz_information(mrz_info)
    rnd_ifd, k_ifd = random(8), random(16)
    answer, sw = _split(transmit(authenticate_command(keys, rnd_icc, rnd_ifd, k_ifd)))
    if sw != SW_OK:
        raise ChipError("access_denied", "the chip refused the key from the zone")
    try:
        return Session.from_authentication(keys, answer, rnd_icc, rnd_ifd, k_ifd)
    except AccessError:
        raise ChipError("access_denied", "the chip's answer does not match the zone") from None


class Reader:
    """Secure-messaging commands over one BAC session (the counter moves with every APDU)."""

    def __init__(self, transmit: Transmit, session: Session) -> None:
        self._transmit = transmit
        self._session = session

    def command(self, apdu: bytes) -> tuple[bytes, bytes]:
        self._session, wrapped = self._session.protect(apdu)
        response = self._transmit(wrapped)
        try:
            self._session, data, sw = self._session.unprotect(response)
        except SecureMessagingError as exc:
            raise ChipError("chip_error", f"secure messaging failed: {exc}") from None
        return data, sw

    def read_file(self, file: tuple[str, bytes, int, int]) -> bytes:
        name, fid, tag, limit = file
        _, sw = self.command(b"\x00\xa4\x02\x0c\x02" + fid)
        if sw != SW_OK:
            raise ChipError("file_missing", f"{name} cannot be selected")
        head = self._read(0, 6)  # tag and length: up to 2 + 4 bytes here
        try:
            found, _c, length, start = read_header(head)
        except TlvError:
            raise ChipError("chip_error", f"{name} does not start as a file of its kind") from None
        total = start + length
        if found != tag:
            raise ChipError("chip_error", f"{name} does not start with its tag")
        if total > limit:
            raise ChipError("chip_error", f"{name} says it is {total} bytes, over {limit}")
        data = bytearray(head[:total])
        while len(data) < total:
            part = self._read(len(data), min(CHUNK, total - len(data)))
            if not part:
                raise ChipError("chip_error", f"{name} ended early")
            data += part[:total - len(data)]
        return bytes(data)

    def _read(self, offset: int, length: int) -> bytes:
        if offset > 0x7FFF:
            raise ChipError("chip_error", "file offset beyond what READ BINARY can address")
        data, sw = self.command(b"\x00\xb0" + offset.to_bytes(2, "big") + bytes([length]))
        if sw not in (SW_OK, b"\x62\x82"):  # 6282: end of file reached before Le bytes
            raise ChipError("chip_error", f"READ BINARY answered {sw.hex()}")
        if len(data) > length:
            raise ChipError("chip_error", "READ BINARY answered more than asked")
        return data


def read_chip(transmit: Transmit, mrz_info: bytes, random: Callable[[int], bytes],
              on_step: Callable[[str], None] | None = None) -> ChipFiles:
    """Select, open with BAC, read EF.COM, EF.SOD and DG1. `on_step` hears each step's name
    (the benchmark times them)."""
    step = on_step or (lambda _name: None)
    select_application(transmit)
    step("select")
    session = open_bac(transmit, mrz_info, random)
    step("bac")
    reader = Reader(transmit, session)
    com = reader.read_file(EF_COM)
    step("ef_com")
    dg1 = reader.read_file(EF_DG1)
    step("dg1")
    sod = reader.read_file(EF_SOD)
    step("ef_sod")
    try:
        offers_aa = 15 in parse_com(com).data_groups
    except LdsError:
        raise ChipError("chip_error", "EF.COM cannot be read") from None
    if not offers_aa:
        return ChipFiles(com=com, sod=sod, dg1=dg1)
    dg15 = reader.read_file(EF_DG15)
    challenge = random(8)
    answer, sw = reader.command(b"\x00\x88\x00\x00\x08" + challenge + b"\x00")
    step("active_authentication")
    if sw != SW_OK:
        answer = b""  # refused: passive authentication judges that
    return ChipFiles(com=com, sod=sod, dg1=dg1, dg15=dg15, challenge=challenge, answer=answer)
