"""Keyboard-wedge scanners: typing into this terminal (`stdin:`) or read raw (`evdev:`).

    stdin:                                   verify card --keyboard: the scanner types a line
    stdin:?repair=off                        do not repair layout-mangled URLs/MRZs
    evdev:/dev/input/by-id/usb-…-event-kbd?layout=us   the daemon: exclusive grab, scanner's layout

`stdin:` gets characters the desktop's layout already made, so a scanner set to another layout
arrives mangled (`httpsÖ--…`); `repair=auto` (default) fixes those (drivers/layout.py).
`evdev:` gets key codes and maps them with the layout the SCANNER is set to (`layout=us|se`), so
the computer's layout does not matter; the exclusive grab keeps scans out of other windows.
Both go through the same framer as serial scanners (Enter = CR, Tab = TAB).
"""

from __future__ import annotations

import errno
import logging
import os
import select
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from drivers.framing import Frame
from drivers.layout import KeyDecoder, get_layout, repair_auto
from drivers.scan import SourceError
from drivers.source import SourceURL
from drivers.stream import ByteStreamSource, Disconnected, EndOfStream, _flag

log = logging.getLogger("drivers")

KeyEvent = tuple[int, int, int]  # (type, code, value), as evdev reports them
KeyTap = Callable[[float, list[KeyEvent]], None]


class KeyboardSource(ByteStreamSource):
    """What both keyboard sources share: optional repair of layout-mangled payloads."""

    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        mode = (url.param("repair", "auto") or "auto").lower()
        if mode not in ("auto", "off"):
            raise SourceError(f"repair must be auto or off, not {mode!r}")
        self.repair = mode == "auto"

    def post_process(self, frame: Frame) -> Frame:
        if not self.repair:
            return frame
        fixed, pair = repair_auto(frame.payload)
        if pair is None:
            return frame
        log.info("%s: repaired a scan typed with layout %s on a %s keyboard", self.url.url, *pair)
        return replace(
            frame, payload=fixed, flags=(*frame.flags, f"layout_repaired:{pair[0]}>{pair[1]}")
        )


class StdinSource(KeyboardSource):
    """A scanner typing into this terminal (or a pipe): one line is one scan; EOF ends."""

    kind = "stdin"
    reconnects = False
    default_idle = 0.0  # the terminal hands over whole lines; a pipe's end flushes the rest

    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        self.fd: int | None = None

    def open_device(self) -> None:
        try:
            self.fd = sys.stdin.fileno()
        except (AttributeError, ValueError, OSError) as exc:
            raise SourceError(f"stdin: standard input cannot be read: {exc}") from None

    def read_chunk(self, timeout: float) -> bytes:
        fd = self.fd
        if fd is None:
            raise EndOfStream()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return b""
        data = os.read(fd, 4096)
        if not data:
            raise EndOfStream()
        return data

    def close_device(self) -> None:
        self.fd = None  # never close the process's own stdin


class EvdevSource(KeyboardSource):
    """A USB keyboard-wedge scanner read from /dev/input, grabbed exclusively."""

    kind = "evdev"

    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        if not url.target:
            raise SourceError("evdev: needs a device, e.g. evdev:/dev/input/by-id/usb-…-event-kbd")
        try:
            self.layout = get_layout(url.param("layout", "us") or "us")
        except ValueError as exc:
            raise SourceError(str(exc)) from None
        self.grab = _flag(url.param("grab", "1"))
        self.decoder = KeyDecoder(self.layout)
        self.key_tap: KeyTap | None = None
        self.device: Any = None

    def open_device(self) -> None:
        try:
            import evdev
        except ImportError:
            raise SourceError("evdev: sources need python-evdev, on Linux only: pip install "
                              "'verify-lma[keyboard]' (docs/platforms.md)") from None
        try:
            device = evdev.InputDevice(self.url.target)
        except PermissionError:
            if not self.reconnections:
                raise SourceError(
                    f"{self.url.url}: permission denied; add the user to the input group "
                    "(docs/reception-desk.md)"
                ) from None
            raise Disconnected("permission denied") from None
        except OSError as exc:
            raise Disconnected(str(exc)) from None
        if self.grab:
            try:
                device.grab()
            except OSError as exc:
                device.close()
                if exc.errno == errno.EBUSY:
                    raise SourceError(
                        f"{self.url.url}: another program holds this device"
                    ) from None
                raise Disconnected(str(exc)) from None
        self.decoder = KeyDecoder(self.layout)  # no Shift left held over from before a replug
        self.device = device

    def read_chunk(self, timeout: float) -> bytes:
        device = self.device
        if device is None:
            raise Disconnected("device is not open")
        try:
            ready, _, _ = select.select([device.fd], [], [], timeout)
            if not ready:
                return b""
            events = [(e.type, e.code, e.value) for e in device.read()]
        except BlockingIOError:
            return b""
        except OSError as exc:
            raise Disconnected(str(exc)) from None
        if events and self.key_tap is not None:
            self.key_tap(self.clock(), events)
        return self.decode_events(events)

    def decode_events(self, events: Iterable[KeyEvent]) -> bytes:
        """Key events -> the bytes the framer sees (text in the scanner's layout, UTF-8).

        Replay of key recordings uses the same decoder, so recorded sessions frame as live ones.
        """
        return "".join(self.decoder.feed(t, c, v) for t, c, v in events).encode("utf-8")

    def close_device(self) -> None:
        device, self.device = self.device, None
        if device is None:
            return
        try:
            if self.grab:
                device.ungrab()
        except OSError:
            pass
        device.close()
