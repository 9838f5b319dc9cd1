"""A real PC/SC stack for the chip tests: pcscd with the vpcd reader driver, and an emulated
eMRTD chip of our own that plugs into vpcd's socket (test-only code, never shipped).

vpcd (vsmartcard, GPL, a Debian package used only in tests) is a PC/SC reader driver that
listens on a TCP port for a virtual card. Each message either way is a 2-byte big-endian length
and a payload; a 1-byte payload from vpcd is a control code (0 power off, 1 power on, 2 reset,
4 send the ATR), anything longer is a command APDU, answered with the response APDU. Closing
the socket takes the card off the reader.

pcscd runs as a child with its own reader configuration (a free port) and, in its own mount
namespace, its own socket directory, so it never meets a pcscd of the machine; clients find it
through PCSCLITE_CSOCK_NAME.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from verify.cards.emrtd.access import (
    BacKeys,
    decrypt,
    derive_key,
    encrypt,
    mrz_information,
    pad,
    retail_mac,
    unpad,
)
from verify.cards.emrtd.lds import AID
from verify.cards.emrtd.tlv import children

ATR = bytes.fromhex("3B8880010000000000718100F9")  # an ISO 14443-4 card as a PC/SC reader shows it
OK = b"\x90\x00"
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"


@dataclass
class Behaviour:
    """How the emulated chip misbehaves (all off: a good chip)."""

    remove_after: int | None = None  # take the card away after this many APDUs
    stall_after: int | None = None  # stop answering (hang) after this many APDUs
    garbage_after: int | None = None  # answer garbage after this many APDUs
    delay: float = 0.0  # seconds before each answer (a slow chip)


@dataclass
class EmulatedPassport:
    """The eMRTD application side: SELECT, GET CHALLENGE, MUTUAL AUTHENTICATE, then secure
    messaging SELECT EF and READ BINARY over the files it was given."""

    number: str
    birth: str
    expiry: str
    files: dict[bytes, bytes]
    selected_app: bool = False
    rnd_icc: bytes = b""
    ks_enc: bytes = b""
    ks_mac: bytes = b""
    ssc: int = 0
    current: bytes = b""
    reads: list[bytes] = field(default_factory=list)  # file ids read (tests check DG2 never is)
    aa_key: rsa.RSAPrivateKey | None = None  # answers INTERNAL AUTHENTICATE (ISO 9796-2)

    def reset(self) -> None:
        self.selected_app, self.ks_enc, self.ks_mac, self.current = False, b"", b"", b""

    def answer(self, apdu: bytes) -> bytes:
        cla, ins = apdu[0], apdu[1]
        if cla & 0x0C == 0x0C:
            return self._secure(apdu)
        if ins == 0xA4 and apdu[2] == 0x04:
            self.selected_app = apdu[5:5 + apdu[4]] == AID
            return OK if self.selected_app else b"\x6a\x82"
        if not self.selected_app:
            return b"\x69\x82"
        if ins == 0x84:
            self.rnd_icc = secrets.token_bytes(8)
            return self.rnd_icc + OK
        if ins == 0x82:
            return self._mutual(apdu[5:5 + apdu[4]])
        return b"\x69\x82"

    def _mutual(self, data: bytes) -> bytes:
        keys = BacKeys.from_mrz_information(mrz_information(self.number, self.birth, self.expiry))
        if len(data) != 40 or retail_mac(keys.mac, data[:32]) != data[32:]:
            return b"\x63\x00"
        plain = decrypt(keys.enc, data[:32])
        rnd_ifd, rnd_icc, k_ifd = plain[:8], plain[8:16], plain[16:32]
        if rnd_icc != self.rnd_icc:
            return b"\x63\x00"
        k_icc = secrets.token_bytes(16)
        e_icc = encrypt(keys.enc, self.rnd_icc + rnd_ifd + k_icc)
        seed = bytes(a ^ b for a, b in zip(k_ifd, k_icc, strict=True))
        self.ks_enc, self.ks_mac = derive_key(seed, 1), derive_key(seed, 2)
        self.ssc = int.from_bytes(self.rnd_icc[4:] + rnd_ifd[4:], "big")
        return e_icc + retail_mac(keys.mac, e_icc) + OK

    def _secure(self, apdu: bytes) -> bytes:
        if not self.ks_mac:
            return b"\x69\x82"
        header, body = apdu[:4], apdu[5:5 + apdu[4]]
        covered, data, le, mac = b"", b"", 0, b""
        pos = 0
        for item in children(body):
            raw = body[pos:item.end]
            pos = item.end
            if item.tag == 0x87:
                covered += raw
                data = unpad(decrypt(self.ks_enc, item.value[1:]))
            elif item.tag == 0x97:
                covered += raw
                le = item.value[0] or 256
            elif item.tag == 0x8E:
                mac = item.value
        self.ssc += 1
        if retail_mac(self.ks_mac, self.ssc.to_bytes(8, "big") + pad(header) + covered) != mac:
            self.ks_mac = b""  # a wrong MAC ends the session, as on a real chip
            return b"\x69\x88"
        ins = header[1]
        out, sw = b"", OK
        if ins == 0xA4:
            if data in self.files:
                self.current = data
            else:
                sw = b"\x6a\x82"
        elif ins == 0xB0:
            if not self.current:
                sw = b"\x69\x86"
            else:
                self.reads.append(self.current)
                offset = int.from_bytes(header[2:4], "big")
                out = self.files[self.current][offset:offset + le]
        elif ins == 0x88 and self.aa_key is not None:
            out = _sign_9796_2(self.aa_key, data)
        else:
            sw = b"\x6d\x00"
        self.ssc += 1
        do87 = b""
        if out:
            crypt = b"\x01" + encrypt(self.ks_enc, pad(out))
            do87 = b"\x87" + _len(len(crypt)) + crypt
        do99 = b"\x99\x02" + sw
        cc = retail_mac(self.ks_mac, self.ssc.to_bytes(8, "big") + do87 + do99)
        return do87 + do99 + b"\x8e\x08" + cc + sw


def _sign_9796_2(key: rsa.RSAPrivateKey, challenge: bytes) -> bytes:
    """ISO/IEC 9796-2 scheme 1, partial recovery, SHA-1: 6A ‖ M1 ‖ H(M1 ‖ challenge) ‖ BC."""
    numbers = key.private_numbers()
    n = numbers.public_numbers.n
    size = (n.bit_length() + 7) // 8
    m1 = secrets.token_bytes(size - 22)
    m = b"\x6a" + m1 + hashlib.sha1(m1 + challenge).digest() + b"\xbc"
    return pow(int.from_bytes(m, "big"), numbers.d, n).to_bytes(size, "big")


def _len(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else (b"\x81" + bytes([n]) if n < 0x100
                                        else b"\x82" + n.to_bytes(2, "big"))


class VirtualCard:
    """Puts an `EmulatedPassport` on vpcd's reader (connects) until `remove()`."""

    def __init__(self, port: int, chip: EmulatedPassport, behaviour: Behaviour | None = None):
        self.port = port
        self.chip = chip
        self.behaviour = behaviour or Behaviour()
        self.apdus = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pulled_mid_read = False

    def insert(self) -> VirtualCard:
        deadline = time.monotonic() + 5
        while True:
            try:
                self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._sock.settimeout(None)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _recv(self, n: int) -> bytes:
        assert self._sock is not None
        buf = b""
        while len(buf) < n:
            # vpcd writes the length and the APDU separately; acknowledging at once keeps its
            # Nagle wait off every APDU (40 ms each otherwise: the emulator's cost, not ours).
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            part = self._sock.recv(n - len(buf))
            if not part:
                raise OSError("vpcd closed")
            buf += part
        return buf

    def _send(self, payload: bytes) -> None:
        assert self._sock is not None
        self._sock.sendall(struct.pack("!H", len(payload)) + payload)

    def _run(self) -> None:
        b = self.behaviour
        try:
            while not self._stop.is_set():
                (size,) = struct.unpack("!H", self._recv(2))
                msg = self._recv(size) if size else b""
                if size == 1:
                    if msg[0] == 4:
                        self._send(ATR)
                    elif msg[0] in (0, 2):
                        self.chip.reset()
                    continue
                self.apdus += 1
                if b.remove_after is not None and self.apdus > b.remove_after:
                    self._pulled_mid_read = True
                    self.remove()
                    return
                if b.stall_after is not None and self.apdus > b.stall_after:
                    self._stop.wait(60)
                    return
                if b.delay:
                    time.sleep(b.delay)
                if b.garbage_after is not None and self.apdus > b.garbage_after:
                    self._send(b"\x87\xff\xff\x01\x02" + OK)
                    continue
                self._send(self.chip.answer(msg))
        except OSError:
            return

    def remove(self) -> None:
        self._stop.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def __enter__(self) -> VirtualCard:
        return self.insert()

    def __exit__(self, *exc: object) -> None:
        self.remove()
        # Let pcscd see the card go before the next test inserts one. A card pulled in the
        # middle of a read takes vpcd longer: one put back at once was never seen (not within
        # 20 s), one put back after a second was read at once.
        time.sleep(1.5 if self._pulled_mid_read else 0.2)


def free_port_pair() -> int:
    """A port p with p and p+1 free (vpcd's configuration opens two slots)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


class Pcscd:
    """pcscd in the foreground, its own reader.conf.d and socket directory; stopped by close."""

    def __init__(self, *, with_reader: bool = True) -> None:
        if shutil.which("pcscd") is None or not Path(VPCD_DRIVER).exists():
            raise RuntimeError("pcscd and vsmartcard-vpcd are needed (setup.sh test installs them)")
        self.dir = Path(tempfile.mkdtemp(prefix="verify-pcscd-"))
        (self.dir / "conf").mkdir()
        (self.dir / "run").mkdir()
        self.port = free_port_pair()
        if with_reader:
            (self.dir / "conf" / "vpcd").write_text(
                'FRIENDLYNAME "Virtual PCD"\n'
                f"DEVICENAME   /dev/null:0x{self.port:04X}\n"
                f"LIBPATH      {VPCD_DRIVER}\n"
                f"CHANNELID    0x{self.port:04X}\n")
        self.socket = str(self.dir / "run" / "pcscd.comm")
        script = (f"mount --bind {self.dir / 'run'} /run/pcscd && "
                  f"exec pcscd -f -e -c {self.dir / 'conf'}")
        os.makedirs("/run/pcscd", exist_ok=True)
        command = ["unshare", "-m", "sh", "-c", script]
        if not self._can_unshare() and not os.path.exists("/run/pcscd/pcscd.comm"):
            # No private mount namespace here: the machine's own socket path, which is free.
            self.socket = "/run/pcscd/pcscd.comm"
            command = ["pcscd", "-f", "-e", "-c", str(self.dir / "conf")]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket) or (with_reader and not self._listening()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("pcscd did not start")
            time.sleep(0.05)

    @staticmethod
    def _can_unshare() -> bool:
        return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0

    def _listening(self) -> bool:
        """vpcd is listening (read from /proc: a test connection would look like a card)."""
        want = f":{self.port:04X} "
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                rows = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            if any(want in row.split(None, 3)[1] + " " and row.split()[3] == "0A"
                   for row in rows):
                return True
        return False

    @property
    def env(self) -> dict[str, str]:
        return {"PCSCLITE_CSOCK_NAME": self.socket}

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pcscd_service() -> Iterator[Pcscd]:
    """One pcscd with the vpcd reader for the whole run (starting one takes about a second)."""
    service = Pcscd()
    try:
        yield service
    finally:
        service.close()


def chip_for(card: Any, extra: dict[bytes, bytes] | None = None,
             aa_key: rsa.RSAPrivateKey | None = None) -> EmulatedPassport:
    """The emulated chip of a `support_chip_pki.TestCard` (DG2 present, never to be read).
    `aa_key` defaults to the card's own Active Authentication key, when it has DG15."""
    files = {bytes.fromhex("011E"): card.com, bytes.fromhex("011D"): card.sod,
             bytes.fromhex("0101"): card.dg1, bytes.fromhex("0102"): b"\x75\x0bnot-a-face!"}
    if card.dg15:
        files[bytes.fromhex("010F")] = card.dg15
    files.update(extra or {})
    return EmulatedPassport(card.number, card.birth, card.expiry, files,
                            aa_key=aa_key or card.aa_key)
