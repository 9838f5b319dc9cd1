"""Helpers for daemon tests: an in-process scan source and a recording sink.

`feed:NAME` is a real `drivers.Source` (registered with `drivers.register_scheme`) whose scans
come from a queue the test fills, so pipeline tests need no hardware; end-to-end tests use the
real serial source on a pseudo-terminal instead.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from datetime import datetime

import drivers
from drivers.scan import Scan, SourceError
from drivers.source import Source, SourceURL
from verify.events import Event
from verify.model import Document, Status, Validity

FEEDS: dict[str, queue.Queue[str | None]] = {}
# Number of times opening `feed:NAME` fails before it works (a camera that is lost for a while).
OPEN_FAILURES: dict[str, int] = {}
OPENS: dict[str, int] = {}
_END = None


class FeedSource(Source):
    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        name = url.target
        OPENS[name] = OPENS.get(name, 0) + 1
        if OPEN_FAILURES.get(name, 0) > 0:
            OPEN_FAILURES[name] -= 1
            raise SourceError(f"feed {name}: device not found")
        self.feed = FEEDS.setdefault(name, queue.Queue())

    def scans(self) -> Iterator[Scan]:
        while not self.closed:
            try:
                payload = self.feed.get(timeout=0.05)
            except queue.Empty:
                continue
            if payload is _END:
                return
            if payload.startswith("!raise"):
                raise OSError("device vanished")
            yield Scan(payload=payload, symbology="qr", source=self.url.url)


drivers.register_scheme("feed", FeedSource)


def feed(name: str) -> queue.Queue[str | None]:
    return FEEDS.setdefault(name, queue.Queue())


class Recorder:
    """A daemon sink that keeps events in memory for assertions."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.reopened = 0
        self.closed = False
        self._cond = threading.Condition()

    def emit(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def reopen(self) -> None:
        self.reopened += 1

    def close(self) -> None:
        self.closed = True

    def wait_for(self, n: int, timeout: float = 5.0) -> list[Event]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.events) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"wanted {n} events, got {len(self.events)}")
                self._cond.wait(left)
            return list(self.events)


def status_for(payload: str) -> Status:
    """A stand-in checker with the contract's shape.

    VALID… valid, DOWN… unknown, other tokens not valid, anything else not a card.
    """
    at = datetime.now().astimezone()
    if payload.startswith("https://agency.test/lmakort/"):
        token = payload.rsplit("/", 1)[1]
        if token.startswith("VALID"):
            state, work = "valid", True
        elif token.startswith("DOWN"):
            state, work = "unknown", None
        else:
            state, work = "not_valid", None
        return Status(
            document=Document(kind="lma", lookup_token=token, lookup_url=payload),
            validity=Validity(state=state, basis="lookup", checked_at=at, right_to_work=work,
                              detail=f"lookup of {token}", manual_check_url=payload),
        )
    return Status(
        document=Document(kind="unknown"),
        validity=Validity(state="unknown", basis="not_a_card", checked_at=at,
                          detail=f"not a card: {payload!r}"),
    )


def url(token: str) -> str:
    return f"https://agency.test/lmakort/{token}"
