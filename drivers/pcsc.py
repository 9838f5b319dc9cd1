"""Smart-card readers through PC/SC (pcscd on Linux, the system's service elsewhere): APDUs
in, answers out. Knows nothing of passports; `verify.cards.emrtd` decides what to send.

    with open_reader("pcsc:", wait=5.0) as reader:      # the first reader
        answer = reader.transmit(bytes.fromhex("00A4040C07A0000002471001"))

`pcsc:?reader=NAME` picks a reader whose name contains NAME. Uses pyscard (LGPL-2.1, a
dependency, not copied). Every failure is a `ReaderError` with a stable `reason`:
`no_reader` (no PC/SC service, or no such reader), `no_card` (nothing on the reader in time),
`card_removed` (the card went away or stopped answering), `reader_error` (anything else).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from smartcard.Exceptions import CardConnectionException, NoCardException, SmartcardException
from smartcard.pcsc.PCSCExceptions import BaseSCardException
from smartcard.System import readers as list_readers

from drivers.scan import SourceError
from drivers.source import SourceURL

POLL = 0.05  # seconds between looks for a card on the reader


class ReaderError(SourceError):
    """A reader or card problem; `reason` is a stable code for the caller's wording."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def reader_names() -> list[str]:
    """The readers the PC/SC service lists now; no service means no readers."""
    try:
        return [str(r) for r in list_readers()]
    except (SmartcardException, BaseSCardException):
        return []


class PcscReader:
    """One card on one reader, connected; `transmit` moves one APDU."""

    def __init__(self, url: SourceURL, wait: float,
                 on_reader: Callable[[], None] | None = None) -> None:
        if url.scheme != "pcsc":
            raise ReaderError("reader_error", f"not a PC/SC reader address: {url.url}")
        self.url = url
        self._lock = threading.Lock()
        self._connection: Any = None
        self._closed = False
        wanted = url.param("reader") or url.target or ""
        deadline = time.monotonic() + max(wait, 0.0)
        reader = self._find_reader(wanted, deadline)
        self.name = str(reader)
        if on_reader is not None:
            on_reader()
        self._connection = self._wait_for_card(reader, deadline)

    @staticmethod
    def _find_reader(wanted: str, deadline: float) -> Any:
        while True:
            try:
                found = list_readers()
            except (SmartcardException, BaseSCardException):
                found = []
            matching = [r for r in found if wanted.lower() in str(r).lower()]
            if matching:
                return matching[0]
            if time.monotonic() >= deadline:
                if wanted:
                    raise ReaderError("no_reader", f"no card reader named {wanted!r}")
                raise ReaderError("no_reader", "no card reader found (is pcscd running?)")
            time.sleep(POLL * 4)

    def _wait_for_card(self, reader: Any, deadline: float) -> Any:
        while True:
            if self._closed:
                raise ReaderError("no_card", "stopped waiting for a card")
            connection = reader.createConnection()
            try:
                connection.connect()
                return connection
            except (NoCardException, CardConnectionException, SmartcardException,
                    BaseSCardException):
                # No card yet, or one arriving or leaving (reset, unpowered, unresponsive,
                # shared): look again until the deadline.
                _release(connection)
            if time.monotonic() >= deadline:
                raise ReaderError("no_card", "no card on the reader")
            time.sleep(POLL)

    def transmit(self, apdu: bytes) -> bytes:
        """Send one APDU, return the answer with its status word (GET RESPONSE followed)."""
        with self._lock:
            if self._closed or self._connection is None:
                raise ReaderError("card_removed", "the reader was closed")
            try:
                data, sw1, sw2 = self._connection.transmit(list(apdu))
                if sw1 == 0x6C:  # wrong Le: the card says how many bytes it has
                    data, sw1, sw2 = self._connection.transmit(list(apdu[:-1]) + [sw2])
                while sw1 == 0x61:  # more bytes waiting
                    more, sw1, sw2 = self._connection.transmit([0x00, 0xC0, 0x00, 0x00, sw2])
                    data = list(data) + list(more)
            except (CardConnectionException, SmartcardException, BaseSCardException):
                if self.name not in reader_names():
                    raise ReaderError("no_reader", "the card reader went away") from None
                raise ReaderError("card_removed",
                                  "the card was taken away or stopped answering") from None
            return bytes(data) + bytes([sw1, sw2])

    def close(self) -> None:
        """Disconnect; safe from another thread (a deadline) and more than once."""
        self._closed = True
        connection, self._connection = self._connection, None
        if connection is not None:
            _release(connection)

    def __enter__(self) -> PcscReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _release(connection: Any) -> None:
    """Disconnect and free the PC/SC context now, quietly: pyscard would otherwise do it when
    the object is collected and, with the service gone, print an exception from `__del__`."""
    inner = getattr(connection, "component", connection)  # under pyscard's decorator
    try:
        inner.release()
    except (SmartcardException, BaseSCardException, AttributeError):
        inner.hcontext = None  # nothing left to free: keep `__del__` quiet


def open_reader(url: str, wait: float = 5.0,
                on_reader: Callable[[], None] | None = None) -> PcscReader:
    """The card on the reader `url` names (`pcsc:`, `pcsc:?reader=NAME`), waiting up to
    `wait` seconds for the reader and the card; `on_reader` hears when the reader is found."""
    return PcscReader(SourceURL.parse(url), wait, on_reader)
