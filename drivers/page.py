"""A keyboard-mode scanner typing into the desk page in a browser (`page:`): no driver, no root.

    page:                       the desk page passes scanner-speed bursts to this source
    page:?gap=60&mean=30&min=8  at most 60 ms between two keys, 30 ms between keys on average,
                                at least 8 characters (the defaults)
    page:?repair=off            do not repair layout-mangled URLs/MRZs

The browser gives characters its (the desktop's) layout made, exactly what `stdin:` gets, so the
same layout repair applies (`httpsÖ--…` from a US-set scanner on a Swedish desk). The desk web
server checks a burst's timing (`is_scanner_burst`) and hands its text with the key that ended it
to `deliver()`; this source feeds those bytes through the one framer every scanner uses (Enter =
CR, Tab = TAB), so framing and dedupe are the same as for a serial scanner.

The source is open while the daemon runs it; `deliver()` returns False when no page source is
open (not configured, or restarting), so the server can refuse instead of dropping a scan.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from drivers.keyboard import KeyboardSource
from drivers.scan import SourceError
from drivers.source import SourceURL
from drivers.stream import EndOfStream

MAX_GAP_MS = 60  # HID scanners type a character every 1-20 ms; people need 80 ms or more
# A fast typist can hit a few keys 40-60 ms apart, and a practised one can keep 45 ms up for a
# word; no one keeps a 30 ms average over a card's code. Scanners stay far below it.
MEAN_GAP_MS = 30
MIN_CHARS = 8  # shorter bursts are key repeats or shortcuts, not a card's code
# A key held down types one character over and over; no card's code has 8 alike in a row, but
# a machine-readable zone pads with `<`, so that filler may run on.
HELD_RUN = 8
MRZ_FILLER = "<"
MAX_CHARS = 4096
BACKLOG = 16

_lock = threading.Lock()
_open: dict[str, queue.Queue[bytes]] = {}


@dataclass(frozen=True)
class KeyboardPolicy:
    """What the page counts as a scanner: the longest gap between two keys, the longest mean
    gap, and the shortest burst."""

    max_gap_ms: int = MAX_GAP_MS
    min_chars: int = MIN_CHARS
    mean_gap_ms: int = MEAN_GAP_MS

    @classmethod
    def from_url(cls, url: str) -> KeyboardPolicy:
        parsed = SourceURL.parse(url)
        try:
            gap = int(parsed.param("gap", str(MAX_GAP_MS)) or MAX_GAP_MS)
            least = int(parsed.param("min", str(MIN_CHARS)) or MIN_CHARS)
            mean = int(parsed.param("mean", str(min(MEAN_GAP_MS, gap))) or min(MEAN_GAP_MS, gap))
        except ValueError:
            raise SourceError(f"page: gap, mean and min must be whole numbers: {url}") from None
        if not 5 <= gap <= 500 or not 2 <= least <= 256 or not 1 <= mean <= gap:
            raise SourceError(f"page: gap must be 5-500 ms, mean 1 ms up to gap, and min 2-256 "
                              f"characters: {url}")
        return cls(max_gap_ms=gap, min_chars=least, mean_gap_ms=mean)


def is_scanner_burst(text: str, gaps_ms: Sequence[float], policy: KeyboardPolicy) -> bool:
    """Did a scanner type this? Enough characters, each within `max_gap_ms` of the last and
    `mean_gap_ms` apart on average (a shape no person keeps up), not one key held down (the
    same character over and over, as auto-repeat types it).

    Pure; the page applies the same test before sending, the server again on what it gets.
    """
    if not policy.min_chars <= len(text) <= MAX_CHARS or len(gaps_ms) != len(text) - 1:
        return False
    if any(not ch.isprintable() for ch in text) or len(set(text)) == 1 or _held(text):
        return False
    if not all(0 <= g <= policy.max_gap_ms for g in gaps_ms):
        return False
    return not gaps_ms or sum(gaps_ms) / len(gaps_ms) <= policy.mean_gap_ms


def _held(text: str) -> bool:
    """A run of HELD_RUN identical characters (other than the zone's filler): a key held down."""
    run = 1
    for before, ch in zip(text, text[1:], strict=False):
        run = run + 1 if ch == before else 1
        if run >= HELD_RUN and ch != MRZ_FILLER:
            return True
    return False


def deliver(text: str, ended_by: str = "\r", name: str = "") -> bool:
    """Hand one burst to the open `page:` source; False when none is open or it is full."""
    if ended_by not in ("\r", "\t"):
        raise ValueError("a burst ends with Enter (CR) or Tab")
    with _lock:
        inbox = _open.get(name)
    if inbox is None:
        return False
    try:
        inbox.put_nowait(text.encode("utf-8") + ended_by.encode())
    except queue.Full:
        return False
    return True


class PageSource(KeyboardSource):
    """Bursts typed into the desk page, as a byte stream through the common framer."""

    kind = "page"
    reconnects = False
    default_idle = 0.0  # every burst arrives whole with its terminator

    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        self.policy = KeyboardPolicy.from_url(url.url)
        self.name = url.target
        self.inbox: queue.Queue[bytes] = queue.Queue(maxsize=BACKLOG)

    def open_device(self) -> None:
        with _lock:
            if self.name in _open:
                raise SourceError(f"{self.url.url}: only one page source per process")
            _open[self.name] = self.inbox

    def read_chunk(self, timeout: float) -> bytes:
        if self.closed:
            raise EndOfStream()
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            return b""

    def close_device(self) -> None:
        with _lock:
            if _open.get(self.name) is self.inbox:
                del _open[self.name]

    def close(self) -> None:
        """Stop taking bursts at once, then end the loop (any thread)."""
        self.close_device()
        super().close()
