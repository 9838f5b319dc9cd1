"""Test helpers for scanner drivers: a fake scanner on a REAL pseudo-terminal pair.

The driver under test opens the pty slave through pyserial exactly as it opens /dev/ttyACM0; the
test writes what a scanner would send to the master side. "Unplugging" closes the master (reads on
the slave then fail with EIO, as on a vanished USB device) and removes the stable symlink;
"replugging" makes a new pty and points the symlink at it, as udev does for /dev/serial/by-id/….
"""

from __future__ import annotations

import os
import queue
import threading
import time
import tty
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from drivers import open_source
from drivers.scan import Scan
from drivers.source import Source


class PtyScanner:
    """The scanner side of a pty pair under a stable symlink name (as udev gives a real one).

    `unplug()` closes the master (reads fail with EIO, as with a vanished USB device) and removes
    the name; `plug()` makes a new pty under the same name. Tests, the daemon tests and the soak
    benchmark all use this one.
    """

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master: int | None = None
        self.slave: int | None = None
        self.plug()

    def plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        self.master, self.slave = master, slave
        tmp = self.link.with_suffix(".new")
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.link)

    def unplug(self) -> None:
        if self.link.is_symlink():
            self.link.unlink()
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None

    def send(self, data: bytes) -> float:
        """Write all of `data`; the monotonic time the last byte left (latency figures)."""
        assert self.master is not None
        view = memoryview(data)
        while view:
            n = os.write(self.master, view)
            view = view[n:]
        return time.monotonic()

    def scan(self, payload: str) -> float:
        """Send one code with the CR terminator; the monotonic time the terminator left."""
        return self.send(payload.encode() + b"\r")

    def close(self) -> None:
        self.unplug()


class Collector:
    """Iterates a source in a background thread; the test takes scans from a queue."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.scans: queue.Queue[Scan | BaseException | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for scan in self.source:
                self.scans.put(scan)
        except BaseException as exc:  # handed to the test thread
            self.scans.put(exc)
        self.scans.put(None)

    def take(self, n: int, timeout: float = 5.0) -> list[Scan]:
        out: list[Scan] = []
        end = time.monotonic() + timeout
        while len(out) < n:
            item = self.scans.get(timeout=max(0.01, end - time.monotonic()))
            if isinstance(item, BaseException):
                raise item
            if item is None:
                break
            out.append(item)
        return out

    def nothing_more(self, wait: float = 0.3) -> bool:
        try:
            item = self.scans.get(timeout=wait)
        except queue.Empty:
            return True
        return item is None

    def stop(self) -> None:
        self.source.close()
        self.thread.join(3)


@contextmanager
def pty_session(tmp_path: Path, options: str = "") -> Iterator[tuple[PtyScanner, Collector]]:
    scanner = PtyScanner(tmp_path / "scanner")
    source = open_source(f"serial:{scanner.link}{'?' + options if options else ''}")
    collector = Collector(source)
    try:
        yield scanner, collector
    finally:
        collector.stop()
        scanner.close()


def wait_until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def wait_open(source: Source, reconnections: int = 0) -> None:
    """pyserial flushes the input buffer on open: send only once the port is open."""
    wait_until(
        lambda: (
            getattr(source, "port", None) is not None
            and getattr(source, "reconnections", 0) >= reconnections
        )
    )


def wait_for_fd(pid: int, path: str, timeout: float = 10.0) -> None:
    """Block until process `pid` has `path` open (the CLI opened the port), then settle.

    pyserial flushes the input buffer right after opening; the short pause keeps test bytes
    from being written into that flush.
    """

    def has_it() -> bool:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            return any(os.readlink(fd_dir / name) == path for name in os.listdir(fd_dir))
        except OSError:
            return False

    wait_until(has_it, timeout)
    time.sleep(0.2)
