"""Record what a scanner sent, and replay it through the same framing code (docs/recording.md).

A recording is JSON Lines: a header, then one line per raw chunk (bytes as read from the device)
or per batch of key events, each with its time in seconds since the recording started:

    {"format": "verify-scan-recording", "version": 1, "kind": "bytes", "source": "serial",
     "settings": {"suffix": "auto", "idle": "0.3", ...}, "redacted": false}
    {"t": 0.0, "data": "]Q1https://www.example.se/x/ABCD\\r"}
    {"t": 1.25, "event": "disconnect"}
    {"t": 0.5, "keys": [[1, 42, 1], [1, 35, 1], [1, 35, 0], [1, 42, 0]]}      (kind "keys")

`data` holds one character per byte (code point 0-255, i.e. Latin-1), so JSON stays readable and
any byte sequence, invalid UTF-8 included, round-trips exactly. `b64` (base64) is accepted too.

`replay:FILE` (`?fast=1` skips the waiting) feeds the chunks to the framer with the recorded clock
values, so idle timeouts come out the same at any replay speed.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from drivers.files import FileRefused, open_regular
from drivers.framing import Frame, FramingConfig
from drivers.layout import _ROWS, KeyDecoder, get_layout, repair_auto
from drivers.scan import SourceError
from drivers.source import SourceURL
from drivers.stream import ByteStreamSource, Disconnected, EndOfStream, _flag

FORMAT = "verify-scan-recording"
VERSION = 1
MAX_LINE = 1 << 20  # a recording line longer than this is not ours


@dataclass(frozen=True)
class Record:
    """One recorded happening: bytes, key events, or a disconnect."""

    t: float
    data: bytes = b""
    keys: tuple[tuple[int, int, int], ...] = ()
    event: str | None = None


@dataclass(frozen=True)
class Header:
    kind: str  # "bytes" or "keys"
    source: str
    settings: dict[str, str]
    redacted: bool


def parse_header(line: str) -> Header:
    try:
        obj = json.loads(line)
    except ValueError:
        raise SourceError("not a scan recording (first line is not JSON)") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise SourceError(f"not a scan recording (format is not {FORMAT!r})")
    if obj.get("version") != VERSION:
        raise SourceError(f"unsupported recording version {obj.get('version')!r} (want {VERSION})")
    kind = obj.get("kind", "bytes")
    settings = obj.get("settings") or {}
    if kind not in ("bytes", "keys") or not isinstance(settings, dict):
        raise SourceError("scan recording header: kind must be bytes or keys, settings an object")
    return Header(
        kind=kind,
        source=str(obj.get("source", "unknown")),
        settings={str(k): str(v) for k, v in settings.items()},
        redacted=bool(obj.get("redacted", False)),
    )


def parse_record(line: str, lineno: int) -> Record:
    where = f"scan recording line {lineno}"
    try:
        obj = json.loads(line)
        t = float(obj["t"])
    except (ValueError, KeyError, TypeError):
        raise SourceError(f'{where}: want an object with a time "t"') from None
    if not (t >= 0 and t < 1e9):
        raise SourceError(f"{where}: time must be seconds since the start")
    if "data" in obj:
        try:
            return Record(t, data=str(obj["data"]).encode("latin-1"))
        except UnicodeEncodeError:
            raise SourceError(f"{where}: data must hold one character per byte (0-255)") from None
    if "b64" in obj:
        try:
            return Record(t, data=base64.b64decode(str(obj["b64"]), validate=True))
        except ValueError:
            raise SourceError(f"{where}: b64 is not base64") from None
    if "keys" in obj:
        try:
            keys = tuple((int(a), int(b), int(c)) for a, b, c in obj["keys"])
        except (ValueError, TypeError):
            raise SourceError(f"{where}: keys must be [type, code, value] triples") from None
        return Record(t, keys=keys)
    if obj.get("event") == "disconnect":
        return Record(t, event="disconnect")
    raise SourceError(f"{where}: want data, b64, keys or event")


class Records:
    """The records of an open recording, read lazily; `close()` releases the file."""

    def __init__(self, handle: IO[str], path: Path) -> None:
        self._handle = handle
        self._path = path
        self._iter = self._read()

    def _read(self) -> Iterator[Record]:
        try:
            yield from self._records()
        except UnicodeDecodeError:
            raise SourceError(f"{self._path}: not a scan recording (not UTF-8 text)") from None

    def _records(self) -> Iterator[Record]:
        last = 0.0
        for lineno, line in enumerate(self._handle, start=2):
            if len(line) >= MAX_LINE:
                raise SourceError(f"{self._path}: line {lineno} is too long for a recording")
            if not line.strip():
                continue
            record = parse_record(line, lineno)
            if record.t < last:
                raise SourceError(f"{self._path}: line {lineno}: time goes backwards")
            last = record.t
            yield record
        self.close()

    def __iter__(self) -> Iterator[Record]:
        return self._iter

    def __next__(self) -> Record:
        return next(self._iter)

    def close(self) -> None:
        self._handle.close()


def read_recording(path: Path) -> tuple[Header, Records]:
    """Header now (bad files fail at open), records lazily (recordings can be long)."""
    # A regular file only, opened without blocking: a FIFO is not waited on, a device (or a
    # symlink to one) is not read. Its length is not bounded (recordings can be long); every
    # line is (MAX_LINE).
    try:
        handle = os.fdopen(open_regular(path), "r", encoding="utf-8", errors="strict")
    except FileRefused as exc:
        if exc.reason == "missing":
            raise SourceError(f"no such file: {path}") from None
        if exc.reason in ("folder", "not_regular"):
            raise SourceError(f"not a file: {path}") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise SourceError(f"cannot read {path}: permission denied") from None
        raise SourceError(f"cannot read recording {path}: {exc.why}") from None
    try:
        header = parse_header(handle.readline(MAX_LINE))
    except SourceError as exc:
        handle.close()
        raise SourceError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        handle.close()
        raise SourceError(f"{path}: not a scan recording (not UTF-8 text)") from None
    return header, Records(handle, path)


class ReplaySource(ByteStreamSource):
    """`replay:FILE[?fast=1]`: a recording through the very loop and framer live scans take."""

    kind = "replay"

    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        if not url.target:
            raise SourceError("replay: needs a recording file, e.g. replay:session.jsonl")
        self.path = Path(url.target)
        self.header, self._records = read_recording(self.path)
        settings = {**self.header.settings, **{k: v for k, v in url.params.items()}}
        self.framing = FramingConfig.from_params(settings)
        self.fast = _flag(url.param("fast", "0"))
        if self.fast:
            self.poll_interval = 3600.0  # no real waiting: jump straight to the next deadline
        self.decoder: KeyDecoder | None = None
        if self.header.kind == "keys":
            try:
                self.decoder = KeyDecoder(get_layout(settings.get("layout", "us")))
            except ValueError as exc:
                raise SourceError(f"{self.path}: {exc}") from None
        self.repair = settings.get("repair", "auto").lower()
        self._vt = 0.0  # the recorded clock: the framer sees the times the bytes really came
        self._next: Record | None = None

    def clock(self) -> float:
        return self._vt

    def post_process(self, frame: Frame) -> Frame:
        """Keyboard recordings get the layout repair their live source would have applied."""
        if self.header.source not in ("stdin", "evdev") or self.repair == "off":
            return frame
        fixed, pair = repair_auto(frame.payload)
        if pair is None:
            return frame
        return replace(
            frame, payload=fixed, flags=(*frame.flags, f"layout_repaired:{pair[0]}>{pair[1]}")
        )

    def open_device(self) -> None:
        pass

    def read_chunk(self, timeout: float) -> bytes:
        if self._next is None:
            self._next = next(self._records, None)
            if self._next is None:
                raise EndOfStream()
        record = self._next
        wait = record.t - self._vt
        if wait > timeout:
            self._sleep(timeout)
            self._vt += timeout
            return b""
        self._sleep(wait)
        self._vt = max(self._vt, record.t)
        self._next = None
        if record.event == "disconnect":
            raise Disconnected("recorded disconnect")
        if record.keys and self.decoder is not None:
            return "".join(self.decoder.feed(*k) for k in record.keys).encode("utf-8")
        return record.data

    def _sleep(self, seconds: float) -> None:
        if not self.fast and seconds > 0:
            self._wake.wait(seconds)

    def close_device(self) -> None:
        pass

    def close(self) -> None:
        super().close()
        self._records.close()


# -- recording -------------------------------------------------------------------------------


class Redactor:
    """Replace payload characters, keep framing: letters -> x/X, digits -> 0, non-ASCII -> '?'.

    Control bytes (terminators, STX/ETX, NUL), punctuation (URL and MRZ structure) and an AIM
    identifier at the start of a frame (`]` + letter + letter/digit) stay, so a redacted recording
    frames exactly like the original and is safe to attach to a bug report. (Redaction works
    byte by byte without look-ahead, so a frame that starts with "]" and a letter but turns out
    to have no AIM id keeps that one letter.)
    """

    FRAMING = frozenset({0x02, 0x03, 0x09, 0x0A, 0x0D})

    def __init__(self) -> None:
        self._start = True  # next byte begins a frame
        self._aim = 0  # AIM bytes still to keep: 2 after "]", 1 after its letter

    def new_frame(self) -> None:
        """The recorder saw an idle gap: what follows starts a frame (may carry an AIM id)."""
        self._start, self._aim = True, 0

    def bytes(self, data: bytes) -> bytes:
        out = bytearray()
        for b in data:
            if b in self.FRAMING:
                self._start, self._aim = True, 0
                out.append(b)
                continue
            if b == 0x00:
                out.append(b)
                continue
            if self._aim == 2 and (0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A):
                self._aim = 1
                out.append(b)
                continue
            if self._aim == 1 and chr(b).isascii() and chr(b).isalnum():
                self._aim = 0
                out.append(b)
                continue
            self._aim = 0
            if b == 0x5D and self._start:  # "]" opening a frame: an AIM identifier may follow
                self._aim = 2
            self._start = False
            out.append(_redact_byte(b))
        return bytes(out)

    @staticmethod
    def keys(events: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:

        key_x, key_0 = 45, 11
        out = []
        for t, code, value in events:
            ch = _ROWS.get(code)
            if ch is not None:
                code = key_0 if ch.isdigit() else key_x
            out.append((t, code, value))
        return out


def _redact_byte(b: int) -> int:
    if 0x41 <= b <= 0x5A:
        return 0x58  # X
    if 0x61 <= b <= 0x7A:
        return 0x78  # x
    if 0x30 <= b <= 0x39:
        return 0x30  # 0
    if b >= 0x80:
        return 0x3F  # ?
    return b


class Recorder:
    """Writes a recording while the source runs: attach, iterate the source, close."""

    def __init__(self, source: ByteStreamSource, out: IO[str], *, redact: bool = False) -> None:
        self.source = source
        self.out = out
        self.redactor = Redactor() if redact else None
        self.t0: float | None = None
        self._last: float | None = None
        self.records = 0
        kind = "keys" if hasattr(source, "key_tap") else "bytes"
        settings: dict[str, Any] = dict(source.framing.to_params())
        if hasattr(source, "layout"):
            settings["layout"] = source.layout.name
        if hasattr(source, "settings"):
            settings.update({k: str(v) for k, v in source.settings.items()})
        header: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "kind": kind,
            "source": source.kind,
            "settings": settings,
            "redacted": redact,
        }
        if not redact:  # when a card was scanned could tie a shared recording to a visit
            header["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._write(header)
        if kind == "keys":
            source.key_tap = self._on_keys  # type: ignore[attr-defined]
        else:
            source.tap = self._on_bytes
        source.on_disconnect = self._on_disconnect

    def _t(self, now: float) -> float:
        if self.t0 is None:
            self.t0 = now
        return round(now - self.t0, 6)

    def _on_bytes(self, now: float, data: bytes) -> None:
        if self.redactor is not None:
            idle = self.source.framing.idle
            if self._last is not None and idle > 0 and now - self._last >= idle:
                self.redactor.new_frame()
            self._last = now
            data = self.redactor.bytes(data)
        self._write({"t": self._t(now), "data": data.decode("latin-1")})

    def _on_keys(self, now: float, events: list[tuple[int, int, int]]) -> None:
        if self.redactor is not None:
            events = self.redactor.keys(events)
        self._write({"t": self._t(now), "keys": [list(e) for e in events]})

    def _on_disconnect(self, now: float) -> None:
        self._write({"t": self._t(now), "event": "disconnect"})

    def _write(self, obj: dict[str, Any]) -> None:
        try:
            self.out.write(json.dumps(obj) + "\n")
            self.out.flush()  # Ctrl-C leaves a complete, replayable file
        except OSError as exc:
            raise SourceError(f"cannot write the recording: {exc.strerror or exc}") from None
        if "t" in obj:
            self.records += 1


def open_private(path: Path, *, force: bool = False) -> IO[str]:
    """A new file only the user can read: recordings of real cards are personal data."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise SourceError(f"{path} exists; choose another name or use --force") from None
    except OSError as exc:
        raise SourceError(f"cannot write {path}: {exc.strerror or exc}") from None
    return os.fdopen(fd, "w", encoding="utf-8")
