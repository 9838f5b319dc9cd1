"""The signals a service stops and reloads on, heard without taking a lock.

A Python signal handler runs in the main thread between two bytecodes, wherever that thread is:
also inside `threading.Event.wait`, after the event has taken its own lock and before it lets
go of it. A handler that then calls `Event.set()` waits for that lock for ever, and the service
no longer stops on SIGTERM (seen under load: a reload, then a stop that never came). So the
handler here only sets plain attributes, and the main thread waits with `select` on a socket
that the interpreter's own C-level handler writes a byte to (`signal.set_wakeup_fd`) the moment
a signal arrives. That byte is there even when the signal lands just before `select` is
called and the Python handler only runs after it: the wait still ends at once. A socket pair
rather than a pipe, so the same code waits on Windows.
"""

from __future__ import annotations

import select
import signal
import socket
from collections.abc import Iterable
from types import FrameType, TracebackType
from typing import Any

HAS_SIGHUP = hasattr(signal, "SIGHUP")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# SIGHUP does not exist on Windows: there a service reloads only by restarting.
RELOAD_SIGNALS = (signal.SIGHUP,) if HAS_SIGHUP else ()


class ServiceSignals:
    """Installs the handlers on entry and puts the previous ones back on exit (main thread)."""

    def __init__(self, *, stop: Iterable[int] = STOP_SIGNALS,
                 reload: Iterable[int] = RELOAD_SIGNALS) -> None:
        self._stop = frozenset(stop)
        self._reload = frozenset(reload)
        # The first stop signal heard: a caller tells a Ctrl-C (exit 130) from a service
        # manager's stop (exit 0).
        self.stopped_by: int | None = None
        self._stop_asked = False
        self._reload_asked = False
        self._previous: dict[int, Any] = {}
        self._previous_wakeup = -1
        self._wakeup_set = False
        self._bell: socket.socket | None = None
        self._ear: socket.socket | None = None

    def __enter__(self) -> ServiceSignals:
        self._ear, self._bell = socket.socketpair()
        self._ear.setblocking(False)
        self._bell.setblocking(False)
        try:
            # Full means a wake-up is already waiting: nothing to warn about.
            self._previous_wakeup = signal.set_wakeup_fd(self._bell.fileno(),
                                                         warn_on_full_buffer=False)
            self._wakeup_set = True
            for signum in (*self._stop, *self._reload):
                self._previous[signum] = signal.signal(signum, self._heard)
        except BaseException:  # not the main thread (ValueError): leave nothing behind
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        if self._wakeup_set:
            signal.set_wakeup_fd(self._previous_wakeup)
            self._wakeup_set = False
        for end in (self._ear, self._bell):
            if end is not None:
                end.close()

    @property
    def stop_asked(self) -> bool:
        return self._stop_asked

    def take_reload(self) -> bool:
        """Whether a reload was asked since the last call (several SIGHUPs are one reload)."""
        asked, self._reload_asked = self._reload_asked, False
        return asked

    def wait(self, timeout: float) -> None:
        """Until a signal is heard or `timeout` seconds have passed."""
        if self._ear is None or self._stop_asked:
            return
        ready, _, _ = select.select([self._ear], [], [], timeout)
        if ready:
            # One read, not a loop until empty: signals that keep coming would keep it going.
            # A byte left over only makes the next wait return at once.
            try:
                self._ear.recv(4096)
            except OSError:  # nothing left (BlockingIOError) or closed: either way, awake
                pass

    def _heard(self, signum: int, frame: FrameType | None) -> None:
        # Plain attribute writes only: nothing here takes a lock. The wake-up byte was
        # written by the interpreter before this ran.
        if signum in self._reload:
            self._reload_asked = True
        else:
            if self.stopped_by is None:
                self.stopped_by = signum
            self._stop_asked = True
