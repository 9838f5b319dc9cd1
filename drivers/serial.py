"""Serial scanners (USB CDC-ACM, RS-232, serial-over-network) through pyserial.

    serial:/dev/ttyACM0?baud=9600&suffix=cr&idle=0.2
    serial:/dev/serial/by-id/usb-Vendor_Scanner-if00?mode=mrz      (desk passport reader)
    socket://127.0.0.1:4001   rfc2217://host:port   loop://          (pyserial's own URLs)

Options: baud (9600), bytesize (8), parity (N|E|O|M|S), stopbits (1|1.5|2), rtscts, xonxoff,
framing (suffix, idle, max, mode, aim, invalid: see drivers/framing.py), wait=1 (wait for the
device at start instead of failing), backoff (longest pause between reconnect attempts, s).
Options this driver does not know are passed on to pyserial for its own URL forms.

When the device goes away (unplugged: EIO/ENODEV, path gone) the source keeps trying, with
backoff, and resumes when a device appears under the same name: use a stable name
(/dev/serial/by-id/… or a udev symlink, docs/reception-desk.md).
"""

from __future__ import annotations

import errno
import math
from urllib.parse import urlencode

import serial as pyserial

from drivers.scan import SourceError
from drivers.source import SourceURL
from drivers.stream import FRAMING_OPTIONS, LOOP_OPTIONS, ByteStreamSource, Disconnected

SERIAL_OPTIONS = frozenset({"baud", "bytesize", "parity", "stopbits", "rtscts", "xonxoff"})
PYSERIAL_SCHEMES = ("socket", "rfc2217", "loop", "spy", "hwgrep", "alt", "cp2110")


class SerialSource(ByteStreamSource):
    """Scans from a serial port; survives unplug/replug under the same name."""

    kind = "serial"

    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        params = dict(url.params)
        own = FRAMING_OPTIONS | LOOP_OPTIONS | SERIAL_OPTIONS
        extra = {k: v for k, v in params.items() if k not in own}
        target = url.target
        if url.scheme == "serial" and "://" not in target:
            if not target:
                raise SourceError("serial: needs a port, e.g. serial:/dev/ttyACM0")
            if extra:
                raise SourceError(f"unknown serial option(s): {', '.join(sorted(extra))}")
            self.port_url = target
        else:
            base = target if url.scheme == "serial" else f"{url.scheme}:{target}"
            self.port_url = base + ("?" + urlencode(extra) if extra else "")
        self.settings = _port_settings(params)
        self.port: pyserial.SerialBase | None = None

    def open_device(self) -> None:
        try:
            port = pyserial.serial_for_url(
                self.port_url, timeout=self.poll_interval, do_not_open=True, **self.settings
            )
            if hasattr(port, "exclusive") and "://" not in self.port_url:
                port.exclusive = True  # a second reader would steal half the bytes
            port.open()
        except ValueError as exc:  # pyserial's verdict on a setting, or an unknown URL form
            raise SourceError(f"{self.url.url}: {exc}") from None
        except (pyserial.SerialException, OSError) as exc:
            if getattr(exc, "errno", None) == errno.EACCES and not self.reconnections:
                raise SourceError(
                    f"{self.url.url}: permission denied; add the user to the dialout group "
                    "(docs/reception-desk.md)"
                ) from None
            if "exclusively lock" in str(exc) and not self.reconnections:
                raise SourceError(
                    f"{self.url.url}: another program is reading this scanner "
                    "(a running verify daemon or verify scan?)"
                ) from None
            if "Inappropriate ioctl" in str(exc) or getattr(exc, "errno", None) == errno.ENOTTY:
                raise SourceError(f"{self.url.url}: not a serial device") from None
            if getattr(exc, "errno", None) == errno.ENOENT:
                # Not there (yet): the loop retries; the words are what a person checks.
                raise Disconnected("no device at this path (is the scanner plugged in?)") from None
            raise Disconnected(str(exc)) from None  # not there (yet): the loop retries
        self.port = port

    def read_chunk(self, timeout: float) -> bytes:
        port = self.port
        if port is None:
            raise Disconnected("port is not open")
        try:
            if abs((port.timeout or 0) - timeout) > 0.005:
                port.timeout = timeout  # a partial scan is waiting for its idle deadline
            data = bytes(port.read(1))
            if data:
                waiting = port.in_waiting
                if waiting:
                    data += port.read(waiting)
            return data
        except (pyserial.SerialException, OSError, TypeError, AttributeError) as exc:
            # TypeError/AttributeError: pyserial internals after the fd vanished underneath.
            raise Disconnected(str(exc)) from None

    def close_device(self) -> None:
        port, self.port = self.port, None
        if port is not None:
            port.close()

    def interrupt(self) -> None:
        port = self.port
        if port is not None and hasattr(port, "cancel_read"):
            try:
                port.cancel_read()
            except Exception:  # ports without cancel support: the poll interval bounds the wait
                pass


def _port_settings(params: dict[str, str]) -> dict[str, object]:
    """pyserial keyword arguments from URL options, with clear errors for bad values."""
    numbers: dict[str, float] = {}
    for key, default in (("baud", "9600"), ("bytesize", "8"), ("stopbits", "1")):
        try:
            numbers[key] = float(params.get(key, default))
        except ValueError:
            numbers[key] = math.nan
        if not math.isfinite(numbers[key]):
            raise SourceError(f"{key} must be a number, not {params[key]!r}")
    baud, bytesize, stopbits = int(numbers["baud"]), int(numbers["bytesize"]), numbers["stopbits"]
    parity = params.get("parity", "N").upper()
    if not 50 <= baud <= 4_000_000:
        raise SourceError(f"baud must be a serial speed such as 9600 or 115200, not {baud}")
    if bytesize not in (5, 6, 7, 8):
        raise SourceError(f"bytesize must be 5, 6, 7 or 8, not {bytesize}")
    if stopbits not in (1, 1.5, 2):
        raise SourceError(f"stopbits must be 1, 1.5 or 2, not {stopbits:g}")
    if parity not in pyserial.PARITY_NAMES:
        raise SourceError(f"parity must be one of N, E, O, M, S, not {parity!r}")
    return {
        "baudrate": baud,
        "bytesize": bytesize,
        "parity": parity,
        "stopbits": stopbits if stopbits == 1.5 else int(stopbits),
        "rtscts": _yes(params.get("rtscts")),
        "xonxoff": _yes(params.get("xonxoff")),
    }


def _yes(value: str | None) -> bool:
    return (value or "").lower() in ("1", "yes", "true", "on")
