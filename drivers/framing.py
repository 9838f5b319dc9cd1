"""Bytes in, complete scans out: the one framer every scanner driver and replay goes through.

Pure and incremental: no I/O, no sleeping, no clock of its own. The caller feeds whatever a read
returned together with a clock value (`time.monotonic()` live, the recorded time on replay), and
asks `poll(now)` when nothing arrived, so idle timeouts behave identically live, on replay at
recorded speed and on fast replay.

What it handles, and why:
- terminators CR, LF, CRLF (one terminator, not two), Tab, STX…ETX: scanners ship with any of them;
  `suffix=auto` accepts all, a fixed suffix makes the others payload (multi-line codes).
- AIM symbology identifiers (`]Q1`, `]d2`, …) at the start of a frame: stripped, kept as symbology.
- idle timeout: a scanner configured without suffix still produces scans.
- over-long input: memory is capped at `max_bytes`; the rest of that frame is discarded and
  reported (a `Notice`), never buffered.
- NUL and other stray control bytes: dropped (line noise, power-up garbage); GS/RS/FS/US/EOT are
  kept because structured codes (GS1, ISO/IEC 15434) carry data in them.
- invalid UTF-8: replaced by U+FFFD by default (the scan stays visible in `verify scan`, and the
  card parsers refuse it, so doubt never becomes `valid`); `invalid=reject` drops such frames.
- frames that hold nothing but noise (whitespace, U+FFFD) are reported, not emitted.
- `mode=mrz`: desk passport/ID readers send the 2 or 3 lines of a machine-readable zone separated
  by CR; they are grouped into ONE frame, lines joined by "\n", symbology "MRZ".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from drivers.scan import SourceError

STX, ETX, NUL, TAB, LF, CR, DEL = 0x02, 0x03, 0x00, 0x09, 0x0A, 0x0D, 0x7F
# C0 controls that carry data in structured codes (EOT, FS, GS, RS, US) are payload, not noise.
DATA_CONTROLS = frozenset({0x04, 0x1C, 0x1D, 0x1E, 0x1F})

SUFFIXES = ("auto", "cr", "lf", "crlf", "tab", "etx", "none")
MODES = ("scan", "mrz")
INVALID = ("replace", "reject")

# ISO/IEC 15424 symbology identifier code characters -> the names this project uses.
AIM_NAMES: dict[str, str] = {
    "Q": "QR",
    "d": "DataMatrix",
    "z": "Aztec",
    "L": "PDF417",
    "C": "Code128",
    "A": "Code39",
    "G": "Code93",
    "E": "EAN/UPC",
    "e": "GS1DataBar",
    "F": "Codabar",
    "I": "ITF",
    "H": "Code11",
    "M": "MSI",
    "U": "MaxiCode",
    "X": "other",
}
AIM_RE = re.compile(r"\]([A-Za-z])([0-9A-Za-z])")
# MRZ line lengths (ICAO Doc 9303): TD1 3x30, TD2 2x36, TD3 2x44.
MRZ_SINGLE_LINE = {90: 30, 72: 36, 88: 44}
MRZ_MAX_LINE = 60
_SPECIAL = re.compile(rb"[\x00-\x1f\x7f]")  # every byte the byte-by-byte path must see
_WS = " \t\r\n\x0b\x0c"


@dataclass(frozen=True)
class FramingConfig:
    """How a scanner frames its output; every field comes from the source URL's options."""

    suffix: str = "auto"
    idle: float = 0.3  # seconds without a byte that end a frame; 0 disables
    max_bytes: int = 8192
    mode: str = "scan"
    aim: bool = True
    invalid: str = "replace"

    def __post_init__(self) -> None:
        if self.suffix not in SUFFIXES:
            raise SourceError(f"suffix must be one of {', '.join(SUFFIXES)}, not {self.suffix!r}")
        if self.mode not in MODES:
            raise SourceError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.invalid not in INVALID:
            raise SourceError(f"invalid must be replace or reject, not {self.invalid!r}")
        if not (0 <= self.idle <= 3600):
            raise SourceError(f"idle must be between 0 and 3600 seconds, not {self.idle!r}")
        if not (16 <= self.max_bytes <= 1_048_576):
            raise SourceError(f"max must be between 16 and 1048576 bytes, not {self.max_bytes!r}")

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> FramingConfig:
        """Read `suffix`, `idle`, `max`, `mode`, `aim`, `invalid` from URL options."""
        kwargs: dict[str, object] = {}
        try:
            if "suffix" in params:
                kwargs["suffix"] = params["suffix"].lower()
            if "idle" in params:
                kwargs["idle"] = float(params["idle"])
            if "max" in params:
                kwargs["max_bytes"] = int(params["max"])
            if "mode" in params:
                kwargs["mode"] = params["mode"].lower()
            if "aim" in params:
                kwargs["aim"] = params["aim"].lower() not in ("0", "no", "false", "off")
            if "invalid" in params:
                kwargs["invalid"] = params["invalid"].lower()
        except ValueError as exc:
            raise SourceError(f"bad framing option: {exc}") from None
        return cls(**kwargs)  # type: ignore[arg-type]

    def to_params(self) -> dict[str, str]:
        return {
            "suffix": self.suffix,
            "idle": repr(self.idle),
            "max": str(self.max_bytes),
            "mode": self.mode,
            "aim": "1" if self.aim else "0",
            "invalid": self.invalid,
        }


@dataclass(frozen=True)
class Frame:
    """One complete scan as text. `ended_by`: cr, lf, crlf, tab, etx, idle, eof, mrz."""

    payload: str
    symbology: str = "unknown"
    ended_by: str = "cr"
    aim: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notice:
    """Something dropped or odd. `detail` never contains payload characters (privacy)."""

    kind: str  # overflow | noise | invalid_utf8 | partial_dropped
    detail: str
    size: int = 0


Event = Frame | Notice


@dataclass
class _State:
    buf: bytearray = field(default_factory=bytearray)
    in_stx: bool = False
    overflowing: bool = False
    dropped: int = 0
    swallow_lf: bool = False  # previous byte was a CR that ended a frame (CRLF = one terminator)
    pending_cr: bool = False  # suffix=crlf: a CR waiting to see whether an LF follows
    last_byte: float | None = None
    mrz_lines: list[str] = field(default_factory=list)
    stray: int = 0  # control bytes (NUL, ESC, …) dropped since the last frame ended


class Framer:
    """Incremental framer. Feed bytes with a clock value; collect `Frame`s and `Notice`s."""

    def __init__(self, config: FramingConfig | None = None) -> None:
        self.config = config or FramingConfig()
        self._s = _State()
        self.noise_bytes = 0

    # -- public ----------------------------------------------------------------------------
    def feed(self, data: bytes, now: float, *, idle_check: bool = True) -> list[Event]:
        """Consume one read's bytes; return the events completed by them (in order).

        `idle_check=False` when the caller cannot know how long the bytes waited (a live reader
        that its consumer held back): the gap since the last read is then not taken as a gap on
        the wire. A live reader sees real idle lines as empty reads and calls `poll` for them.
        """
        out: list[Event] = []
        if not data:
            return out
        if idle_check:
            out.extend(self.poll(now))  # a frame that idled out before these bytes came
        s = self._s
        i, n = 0, len(data)
        while i < n:
            # Fast path: a run of ordinary bytes goes into the buffer in one step.
            m = _SPECIAL.search(data, i)
            j = n if m is None else m.start()
            if j > i:
                s.swallow_lf = False
                if s.pending_cr:
                    s.pending_cr = False
                    self._append(CR, out)
                self._extend(data[i:j], out)
                if j == n:
                    break
            self._control(data[j], out)
            i = j + 1
        s.last_byte = now
        return out

    def poll(self, now: float) -> list[Event]:
        """End a frame whose bytes stopped coming `idle` seconds ago."""
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return []
        out: list[Event] = []
        self._finish("idle", out)
        return out

    def deadline(self) -> float | None:
        """Clock value at which `poll` will end the frame in progress (None: nothing pending)."""
        s = self._s
        if self.config.idle <= 0 or s.last_byte is None or not self.pending():
            return None
        return s.last_byte + self.config.idle

    def flush(self) -> list[Event]:
        """End of stream: whatever is buffered becomes a frame (ended_by "eof")."""
        out: list[Event] = []
        self._finish("eof", out)
        return out

    def discard(self, why: str) -> list[Event]:
        """Drop a frame in progress (device unplugged mid-scan): report it, emit nothing."""
        out: list[Event] = []
        s = self._s
        if s.buf or s.overflowing or s.mrz_lines or s.pending_cr:
            size = len(s.buf) + s.dropped + sum(len(line) for line in s.mrz_lines)
            out.append(Notice("partial_dropped", f"incomplete scan dropped: {why}", size))
        self._s = _State()
        return out

    def pending(self) -> bool:
        s = self._s
        return bool(s.buf or s.overflowing or s.in_stx or s.pending_cr or s.mrz_lines)

    def buffered_bytes(self) -> int:
        """Bytes held right now (bounded by max_bytes plus three MRZ lines)."""
        s = self._s
        return len(s.buf) + sum(len(line) for line in s.mrz_lines)

    # -- internals -------------------------------------------------------------------------
    def _control(self, b: int, out: list[Event]) -> None:
        """One control byte (C0 or DEL): a terminator, framing, data (GS…) or noise."""
        s = self._s
        suffix = self.config.suffix
        if s.swallow_lf and b != LF:
            s.swallow_lf = False
        if s.pending_cr and b != LF:
            s.pending_cr = False
            self._append(CR, out)
        if b == NUL:
            self.noise_bytes += 1
            s.stray += 1
        elif b == STX and suffix in ("auto", "etx"):
            if (s.buf or s.overflowing) and not s.in_stx:
                self._drop_partial(out, "bytes before STX without a terminator")
            elif s.in_stx:
                self._drop_partial(out, "STX frame restarted before ETX")
            s.in_stx = True
        elif b == ETX and suffix in ("auto", "etx"):
            s.in_stx = False
            self._end("etx", out)
        elif s.in_stx and b in (CR, LF, TAB):
            self._append(b, out)
        elif b == CR and suffix in ("auto", "cr"):
            self._end("cr", out)
            s.swallow_lf = True
        elif b == LF and suffix in ("auto", "lf"):
            if s.swallow_lf:
                s.swallow_lf = False
            else:
                self._end("lf", out)
        elif b == LF and suffix == "cr" and s.swallow_lf:
            s.swallow_lf = False  # the scanner really sends CRLF
        elif b == CR and suffix == "crlf":
            s.pending_cr = True
        elif b == LF and suffix == "crlf" and s.pending_cr:
            s.pending_cr = False
            self._end("crlf", out)
        elif b == TAB and suffix in ("auto", "tab"):
            self._end("tab", out)
        elif b in DATA_CONTROLS or b in (CR, LF, TAB):
            self._append(b, out)
        else:
            self.noise_bytes += 1
            s.stray += 1

    def _extend(self, run: bytes, out: list[Event]) -> None:
        s = self._s
        if s.overflowing:
            s.dropped += len(run)
        elif len(s.buf) + len(run) <= self.config.max_bytes:
            s.buf += run
        else:
            for b in run:
                self._append(b, out)

    def _finish(self, reason: str, out: list[Event]) -> None:
        s = self._s
        if s.pending_cr:
            s.pending_cr = False
            self._append(CR, out)
        s.in_stx = False
        self._end(reason, out)

    def _append(self, b: int, out: list[Event]) -> None:
        s = self._s
        if s.overflowing:
            s.dropped += 1
            return
        if len(s.buf) >= self.config.max_bytes:
            s.overflowing = True
            s.dropped = len(s.buf) + 1
            s.buf.clear()
            out.append(
                Notice(
                    "overflow",
                    f"scan longer than {self.config.max_bytes} bytes: discarded up to the next "
                    "terminator",
                    self.config.max_bytes,
                )
            )
            return
        s.buf.append(b)

    def _drop_partial(self, out: list[Event], why: str) -> None:
        s = self._s
        if s.buf:
            out.append(Notice("noise", why, len(s.buf)))
        s.buf.clear()
        s.overflowing = False
        s.dropped = 0

    def _end(self, reason: str, out: list[Event]) -> None:
        self._end_frame(reason, out)
        if self._s.mrz_lines and reason in ("etx", "idle", "eof"):
            self._emit_mrz(reason, out)  # an MRZ group also ends where a frame would

    def _end_frame(self, reason: str, out: list[Event]) -> None:
        s = self._s
        raw = b"" if s.overflowing else bytes(s.buf)
        s.overflowing = False
        s.dropped = 0
        s.buf.clear()
        stray, s.stray = s.stray, 0
        if not raw.strip(_WS.encode()):  # empty line, blank or discarded frame
            return
        flags: tuple[str, ...] = ()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            if self.config.invalid == "reject":
                out.append(Notice("invalid_utf8", "scan is not valid UTF-8: rejected", len(raw)))
                return
            text = raw.decode("utf-8", errors="replace")
            flags = ("invalid_utf8",)
        if self.config.mode == "mrz":
            if _is_noise(text):
                out.append(Notice("noise", "line without readable characters dropped", len(raw)))
                text = ""
            self._mrz_line(text, reason, out)
            return
        text = text.strip(_WS)
        symbology, aim = "unknown", None
        if self.config.aim:
            m = AIM_RE.match(text)
            if m:
                aim = m.group(0)
                symbology = AIM_NAMES.get(m.group(1), f"AIM-{m.group(1)}")
                text = text[3:].strip(_WS)
        if _is_noise(text):
            out.append(Notice("noise", "frame without readable characters dropped", len(raw)))
            return
        if stray:
            # The scan goes on without them; whoever reads it should know it was not sent as is.
            out.append(Notice("controls_dropped",
                              "control characters (NUL, ESC, …) dropped from the scan", stray))
        out.append(Frame(text, symbology, reason, aim, flags))

    # -- MRZ mode --------------------------------------------------------------------------
    def _mrz_line(self, text: str, reason: str, out: list[Event]) -> None:
        s = self._s
        line = "".join(text.split())
        if line:
            if not s.mrz_lines and len(line) in MRZ_SINGLE_LINE:
                width = MRZ_SINGLE_LINE[len(line)]
                s.mrz_lines = [line[i : i + width] for i in range(0, len(line), width)]
                self._emit_mrz(reason, out)
                return
            s.mrz_lines.append(line[:MRZ_MAX_LINE])
            expected = 3 if len(s.mrz_lines[0]) <= 32 else 2
            if len(s.mrz_lines) >= expected:
                self._emit_mrz(reason, out)

    def _emit_mrz(self, reason: str, out: list[Event]) -> None:
        s = self._s
        lines, s.mrz_lines = s.mrz_lines, []
        first = len(lines[0])
        complete = (first, len(lines)) in ((30, 3), (36, 2), (44, 2)) and all(
            len(line) == first for line in lines
        )
        flags = () if complete else ("incomplete_mrz",)
        out.append(Frame("\n".join(lines), "MRZ", reason, None, flags))


def _is_noise(text: str) -> bool:
    return all(ch == "\ufffd" or ch in _WS or ord(ch) < 0x20 for ch in text)


def frame_all(
    chunks: list[tuple[float, bytes]], config: FramingConfig | None = None
) -> list[Event]:
    """Frame a whole recorded stream (tests, replay in one go): chunks of (clock, bytes)."""
    framer = Framer(config)
    out: list[Event] = []
    for now, data in chunks:
        out.extend(framer.feed(data, now))
    out.extend(framer.flush())
    return out
