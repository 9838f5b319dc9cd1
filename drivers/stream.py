"""The read loop shared by byte-stream scanners (serial, stdin, evdev, replay).

A subclass says how to open, read and close its device; this loop owns framing, idle timeouts,
unplug/replug with backoff, closing from another thread and the recording tap. Keeping one loop
means a recording replays through exactly the code that framed it live.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

from drivers.framing import Event, Frame, Framer, FramingConfig, Notice
from drivers.scan import Scan, SourceError
from drivers.source import Source, SourceURL

log = logging.getLogger("drivers")

# Options every byte-stream source understands (framing + loop); drivers add their own.
FRAMING_OPTIONS = frozenset({"suffix", "idle", "max", "mode", "aim", "invalid"})
LOOP_OPTIONS = frozenset({"wait", "backoff", "repair"})


class Disconnected(Exception):
    """The device went away (EIO, ENODEV, path gone): the loop reconnects with backoff."""


class EndOfStream(Exception):
    """The stream ended for good (end of file, end of recording): the loop stops."""


Tap = Callable[[float, bytes], None]


class ByteStreamSource(Source):
    """Framed scans from a device that yields bytes. Subclasses implement the four hooks."""

    kind = "stream"
    reconnects = True
    poll_interval = 0.05  # how long one read may block: bounds close() and idle latency
    default_idle: float | None = None  # per-driver default when the URL gives no idle=

    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        params = dict(url.params)
        if self.default_idle is not None and "idle" not in params:
            params["idle"] = str(self.default_idle)
        self.framing = FramingConfig.from_params(params)
        self.wait = _flag(url.param("wait", "0"))
        try:
            self.max_backoff = float(url.param("backoff", "1.0") or "1.0")
        except ValueError:
            self.max_backoff = math.nan
        if not 0.05 <= self.max_backoff <= 60:
            raise SourceError(f"backoff must be between 0.05 and 60 seconds: {url.url}")
        self.tap: Tap | None = None  # sees every chunk read, with its clock value (recording)
        self.on_disconnect: Callable[[float], None] | None = None
        self.on_notice: Callable[[Notice], None] = self._log_notice
        self.notices: deque[Notice] = deque(maxlen=100)
        self.reconnections = 0
        # "opening", "open", "waiting" (device gone, retrying), "closed"; on_state hears changes
        self.state = "opening"
        self.on_state: Callable[[str], None] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._in_read = False
        self._device_open = False

    # -- hooks -----------------------------------------------------------------------------
    def open_device(self) -> None:
        """Open the device; raise Disconnected when it is not there (yet), SourceError if never."""
        raise NotImplementedError

    def read_chunk(self, timeout: float) -> bytes:
        """Bytes that arrived (b"" after `timeout`); raise Disconnected or EndOfStream."""
        raise NotImplementedError

    def close_device(self) -> None:
        raise NotImplementedError

    def interrupt(self) -> None:
        """Wake a read blocked in another thread (optional: reads never block past poll)."""

    def clock(self) -> float:
        return time.monotonic()

    def post_process(self, frame: Frame) -> Frame:
        """Last touch on a frame before it becomes a Scan (keyboard sources repair layouts)."""
        return frame

    # -- the loop --------------------------------------------------------------------------
    def scans(self) -> Iterator[Scan]:
        framer = Framer(self.framing)
        try:
            if not self._connect(first=True):
                return
            while not self.closed:
                deadline = framer.deadline()
                timeout = self.poll_interval
                if deadline is not None:
                    timeout = max(0.0, min(timeout, deadline - self.clock()))
                try:
                    with self._lock:
                        if self.closed:
                            break
                        self._in_read = True
                    try:
                        data = self.read_chunk(timeout)
                    finally:
                        with self._lock:
                            self._in_read = False
                except Disconnected as exc:
                    if self.on_disconnect is not None:
                        self.on_disconnect(self.clock())
                    yield from self._scans(framer.discard(f"device went away ({exc})"))
                    self._close_device_quietly()
                    if not self.reconnects:
                        raise SourceError(f"{self.url.url}: {exc}") from None
                    log.warning(
                        "%s: device went away (%s); waiting for it to return", self.url.url, exc
                    )
                    self._set_state("waiting")
                    if not self._connect(first=False):
                        return
                    self.reconnections += 1
                    log.warning("%s: device is back", self.url.url)
                    continue
                except EndOfStream:
                    yield from self._scans(framer.flush())
                    return
                now = self.clock()
                if data:
                    if self.tap is not None:
                        self.tap(now, data)
                    # Idle gaps are judged only on empty reads: bytes that waited in the OS buffer
                    # while our consumer was busy are not a pause on the wire.
                    events = framer.feed(data, now, idle_check=False)
                else:
                    events = framer.poll(now)
                if events:
                    yield from self._scans(events)
        finally:
            self._close_device_quietly()
            self._set_state("closed")

    def close(self) -> None:
        """Safe from any thread: iteration ends within one poll interval."""
        with self._lock:
            self.closed = True
            reading = self._in_read
        self._wake.set()
        if reading:
            self.interrupt()
        else:
            self._close_device_quietly()

    # -- helpers ---------------------------------------------------------------------------
    def _scans(self, events: list[Event]) -> Iterator[Scan]:
        for event in events:
            if isinstance(event, Notice):
                self.notices.append(event)
                self.on_notice(event)
                continue
            frame = self.post_process(event)
            yield Scan(payload=frame.payload, symbology=frame.symbology, source=self.url.url)

    def _connect(self, *, first: bool) -> bool:
        """Open the device, retrying with backoff when allowed. False: closed while waiting."""
        delay = 0.05
        while not self.closed:
            try:
                with self._lock:
                    if self.closed:
                        return False
                    self.open_device()
                    self._device_open = True
                self._set_state("open")
                return True
            except Disconnected as exc:
                if first and not self.wait:
                    raise SourceError(f"{self.url.url}: {exc}") from None
            self._wake.wait(delay)
            delay = min(delay * 2, self.max_backoff)
        return False

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        if self.on_state is not None:
            self.on_state(state)

    def _close_device_quietly(self) -> None:
        with self._lock:
            if not self._device_open:
                return
            self._device_open = False
        try:
            self.close_device()
        except Exception as exc:  # closing a vanished device may fail; nothing to do about it
            log.debug("closing %s: %s", self.url.url, exc)

    def _log_notice(self, notice: Notice) -> None:
        log.warning("%s: %s (%d bytes)", self.url.url, notice.detail, notice.size)


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "yes", "true", "on")
