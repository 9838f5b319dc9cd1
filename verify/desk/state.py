"""What the desk screen shows now, and the live feed to every open page (Server-Sent Events).

The desk record (with the full manual address) lives in memory only while it is on screen:
after `clear_after` seconds it is dropped and every page is told to clear, so the next patient
does not see it and nothing is left behind.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from verify.desk.config import DaemonConfig
from verify.desk.events import Event

SUBSCRIBER_BACKLOG = 32


class DeskState:
    """A daemon sink: keeps the latest event until it expires and fans it out to subscribers."""

    def __init__(self, config: Callable[[], DaemonConfig]) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._desk: dict[str, Any] | None = None
        self._record: dict[str, Any] | None = None
        self._expires = 0.0
        self._subscribers: list[queue.Queue[str | None]] = []
        self.closed = False
        # The standing banner (unconfirmed lookup profiles in force), sent with every clear.
        self.notice = ""

    # -- sink ---------------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        config = self._config()
        desk = event.to_desk(lang=config.lang, clear_after=config.clear_after)
        record = event.to_record()
        with self._lock:
            self._desk = desk
            self._record = record
            self._expires = time.monotonic() + config.clear_after
            message = sse("status", desk)
            self._broadcast(message)

    def reopen(self) -> None:
        """Nothing to reopen; a reload changes lang/clear_after for the next event."""

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._desk = self._record = None
            for sub in self._subscribers:
                _offer(sub, None)
            self._subscribers.clear()

    # -- time ---------------------------------------------------------------------------------

    def tick(self, at: float | None = None) -> None:
        """Drop the status once its time is up (called a few times a second)."""
        at = time.monotonic() if at is None else at
        with self._lock:
            if self._desk is not None and at >= self._expires:
                self._desk = self._record = None
                self._broadcast(sse("clear", {"profile_notice": self.notice}))

    # -- readers ------------------------------------------------------------------------------

    def latest_record(self) -> dict[str, Any] | None:
        """The redacted record on screen now (JSON API), or None."""
        self.tick()
        with self._lock:
            return self._record

    def subscribe(self) -> queue.Queue[str | None]:
        """A queue of ready-to-send SSE messages, starting with what is on screen now."""
        self.tick()
        sub: queue.Queue[str | None] = queue.Queue(maxsize=SUBSCRIBER_BACKLOG)
        with self._lock:
            if self.closed:
                sub.put(None)
                return sub
            idle = sse("clear", {"profile_notice": self.notice})
            sub.put(sse("status", self._desk) if self._desk is not None else idle)
            self._subscribers.append(sub)
        return sub

    def unsubscribe(self, sub: queue.Queue[str | None]) -> None:
        with self._lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def _broadcast(self, message: str) -> None:
        for sub in list(self._subscribers):
            if not _offer(sub, message):
                # A page that stopped reading: drop it rather than hold memory for it.
                self._subscribers.remove(sub)
                _offer(sub, None)


def _offer(sub: queue.Queue[str | None], message: str | None) -> bool:
    try:
        sub.put_nowait(message)
        return True
    except queue.Full:
        if message is None:
            try:
                sub.get_nowait()
                sub.put_nowait(None)
            except (queue.Empty, queue.Full):
                pass
        return False


def sse(kind: str, data: dict[str, Any]) -> str:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {kind}\ndata: {body}\n\n"
