"""What the desk screen shows now, and the live feed to every open page (Server-Sent Events).

Besides each card's status the feed carries what staff need to trust the screen: every scan
source's state (a scanner unplugged is said on the page, prominently when no source can read a
card), "checking the card" from the scan to its answer, and the standing banner of unconfirmed
lookup profiles, the same words idle and with any card on screen.

The desk record (with the full manual address) lives in memory only while it is on screen:
after `clear_after` seconds it is dropped and every page is told to clear, so the next patient
does not see it and nothing is left behind.
"""

from __future__ import annotations

import dataclasses
import json
import queue
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from verify.check import with_decision
from verify.desk.config import DaemonConfig
from verify.desk.events import Event
from verify.desk.sources import sources_view
from verify.model import Status
from verify.rules import condition_names

SUBSCRIBER_BACKLOG = 32
MAX_ANSWERS = 8


class StaleScan(Exception):
    """The answer is for a scan that is no longer on screen (cleared, or another card came)."""


class BadAnswer(ValueError):
    """The answer is not one the current decision asked for."""


class DeskState:
    """A daemon sink: keeps the latest event until it expires and fans it out to subscribers."""

    def __init__(self, config: Callable[[], DaemonConfig]) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._desk: dict[str, Any] | None = None
        self._record: dict[str, Any] | None = None
        self._event: Event | None = None  # the scan on screen, to decide again with answers
        self._scan_id: str | None = None  # random per scan: what an answer must be bound to
        self._expires = 0.0
        self._subscribers: list[queue.Queue[str | None]] = []
        self.closed = False
        # The standing banner (unconfirmed lookup profiles in force): the same words with every
        # clear, every card and every answer, whatever the card's own profile.
        self.notice = ""
        self._sources: dict[str, Any] | None = None  # the sources' view last sent
        self._checking = 0  # scans taken and not yet answered

    # -- sink ---------------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        with self._lock:
            self._checking = max(0, self._checking - 1)
        if event.superseded:  # a newer card is already on screen
            return
        config = self._config()
        desk = event.to_desk(lang=config.lang, clear_after=config.clear_after)
        record = event.to_record()
        scan_id = secrets.token_urlsafe(16)
        desk["desk"]["scan_id"] = scan_id
        desk["desk"]["profile_notice"] = self.notice
        with self._lock:
            self._desk = desk
            self._record = record
            self._event = event
            self._scan_id = scan_id
            self._expires = time.monotonic() + config.clear_after
            message = sse("status", desk)
            self._broadcast(message)

    def reopen(self) -> None:
        """Nothing to reopen; a reload changes lang/clear_after for the next event."""

    # -- what the daemon tells the page besides cards -----------------------------------------

    def checking(self, source: str = "") -> None:
        """A scan was taken and is being checked: every page says so until its answer comes,
        so staff do not scan again while a slow lookup runs."""
        with self._lock:
            self._checking += 1
            self._broadcast(sse("checking", {"profile_notice": self.notice}))

    def update_sources(self, states: dict[str, str]) -> None:
        """Each source's state (the facts `/healthz` uses); pages hear only changes."""
        view = sources_view(states, lang=self._config().lang)
        with self._lock:
            if view == self._sources:
                return
            self._sources = view
            self._broadcast(sse("sources", view))

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._desk = self._record = self._event = self._scan_id = None
            for sub in self._subscribers:
                _offer(sub, None)
            self._subscribers.clear()

    # -- time ---------------------------------------------------------------------------------

    def tick(self, at: float | None = None) -> None:
        """Drop the status once its time is up (called a few times a second)."""
        at = time.monotonic() if at is None else at
        with self._lock:
            if self._desk is not None and at >= self._expires:
                self._desk = self._record = self._event = self._scan_id = None
                self._broadcast(sse("clear", {"profile_notice": self.notice}))

    # -- answers from the page ----------------------------------------------------------------

    def lang(self) -> str:
        return self._config().lang

    def answer(self, scan_id: str, answers: Mapping[str, str]) -> dict[str, Any]:
        """The desk view of the scan on screen decided again with the page's answers.

        Nothing is kept: the answers live in the page that gave them, which sends all of them
        each time; the shared screen, the other pages, the logs and the JSON API never see them.
        Raises StaleScan or BadAnswer (the caller answers 4xx; nothing changes).
        """
        self.tick()
        with self._lock:
            event, current = self._event, self._scan_id
        if event is None or current is None or not secrets.compare_digest(scan_id, current):
            raise StaleScan()
        if len(answers) > MAX_ANSWERS:
            raise BadAnswer("too many answers")
        config = self._config()
        status = decide_with_answers(event.status, config.region, answers)
        desk = dataclasses.replace(event, status=status).to_desk(
            lang=config.lang, clear_after=config.clear_after)
        desk["desk"]["scan_id"] = current
        desk["desk"]["profile_notice"] = self.notice
        return desk

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
            if self._sources is not None:
                sub.put(sse("sources", self._sources))
            if self._checking:
                sub.put(sse("checking", {"profile_notice": self.notice}))
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


def decide_with_answers(
    status: Status, region: str | None, answers: Mapping[str, str]
) -> Status:
    """Apply answers one by one; each must answer a question the decision so far asks."""
    if region is None or status.decision is None:
        raise BadAnswer("this scan has no questions")
    known: dict[str, Any] = {}
    for fact, value in answers.items():
        missing = {m.fact: m for m in (status.decision.missing if status.decision else ())}
        asked = missing.get(fact)
        if asked is None or value not in asked.values.values():
            raise BadAnswer("not a question of this decision")
        if fact == "age":
            known["age"] = int(value.partition("-")[0])
        elif fact == "validity":
            raise BadAnswer("validity is checked by hand, not answered on the page")
        elif fact in condition_names():
            # A yes/no condition of the region's routine (e.g. stays in the county).
            known["conditions"] = {**known.get("conditions", {}), fact: value == "yes"}
        else:
            known["category"] = value
        status = with_decision(dataclasses.replace(status, decision=None), region=region,
                               **known)
    return status


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
