"""The reception-desk daemon: every source, every scan, one event each, all day.

    sources (a thread each) ─► dedupe ─► bounded queue ─► N lookup workers ─► in-order emit
        ─► sinks (JSON Lines, audit log, desk screen)

Why this shape:
- A thread per source, because drivers are blocking iterators (pyserial, OpenCV).
- Dedupe before the queue, so a card held in front of a camera costs one lookup, not thirty.
- A bounded queue: when lookups fall behind, the sources block (back-pressure, bytes wait in the
  serial driver) instead of memory growing without end.
- N workers = the cap on concurrent lookups; they share ONE checker (one LookupClient, one
  connection pool), so the agency's TLS connection is reused.
- Emission is in scan order per source, whatever order lookups finish in, but a finished event
  waits for an earlier, still-running lookup at most ORDER_GRACE: one stuck lookup never holds
  the next card back. The earlier one, when it ends, goes out marked `superseded` (logged and
  audited; the desk screen keeps the newer card): the desk still sees the last card scanned last.
- Faults never stop it: a source that fails is reopened with backoff; a checker that raises gives
  an `unknown` status; a sink that fails is logged and the others still get the event.
- Stopping (SIGTERM) never drops a scan it has read: lookups under way get until `drain_seconds`
  to finish; a scan still without an answer then (its lookup running on, or not begun) goes out
  as `unknown` ("the service stopped before the lookup answered", with the address to check by
  hand), so the desk and the event log see every card.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from drivers import open_source
from drivers.scan import Scan, SourceError
from drivers.source import Source, SourceURL
from verify.check import with_decision
from verify.clock import now
from verify.desk.config import RELOADABLE, DaemonConfig
from verify.desk.events import Event
from verify.desk.signals import ServiceSignals
from verify.model import Document, Status, Validity
from verify.redact import scrub_text

log = logging.getLogger("verify.desk.daemon")

Checker = Callable[[Scan], Status]
Decider = Callable[[Status, DaemonConfig], Status]

# Sources that end by themselves (a file, a recording, a pipe): when they end, they are done.
FINITE_SCHEMES = frozenset({"image", "video", "replay", "stdin"})
BACKOFF_FIRST = 0.5
# How long a finished event waits for an earlier scan's lookup before it goes out anyway. Short
# against any lookup deadline (5 s by default), long against a normal lookup (tens of ms).
ORDER_GRACE = 0.5
BACKOFF_MAX = 30.0
# How long stopping waits for lookups under way: a lookup's own deadline is 5 s by default, and
# systemd's TimeoutStopSec (15 s in the unit) must not end the process first.
DRAIN_SECONDS = 10.0


class Sink(Protocol):
    def emit(self, event: Event) -> None: ...
    def reopen(self) -> None: ...
    def close(self) -> None: ...


class Deduper:
    """Has this payload been seen within the window? Keeps keyed digests, never the payloads.

    The window slides: a card held in view keeps being "the same scan" until it is taken away
    for longer than the window.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self._key = os.urandom(16)
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, payload: str, at: float) -> bool:
        digest = hashlib.blake2b(payload.strip().encode(), key=self._key, digest_size=16).digest()
        with self._lock:
            while self._seen:
                oldest_key, oldest_at = next(iter(self._seen.items()))
                if at - oldest_at <= self.window:
                    break
                del self._seen[oldest_key]
            last = self._seen.pop(digest, None)
            self._seen[digest] = at
            return last is None or at - last > self.window

    def forget(self, payload: str) -> None:
        """Let the next scan of this payload through at once (its lookup could not answer)."""
        digest = hashlib.blake2b(payload.strip().encode(), key=self._key, digest_size=16).digest()
        with self._lock:
            self._seen.pop(digest, None)


FRAME_SCHEMES = ("camera:", "video:", "image:")


def _worth_retrying(job: Job, status: Status) -> bool:
    """A desk clerk who scans again after "cannot be determined" wants a new lookup, not a
    repeat; a camera holding the card in view would ask every frame, so it keeps the window."""
    return (
        status.validity.state == "unknown"
        and status.validity.basis == "lookup"
        and not job.source.startswith(FRAME_SCHEMES)
    )


@dataclass
class Job:
    scan: Scan
    source: str
    seq: int  # per source, for in-order emission


@dataclass
class Stats:
    scans: int = 0
    duplicates: int = 0
    events: int = 0
    errors: int = 0
    source_state: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "scans": self.scans, "duplicates": self.duplicates, "events": self.events,
            "errors": self.errors, "sources": dict(self.source_state),
        }


def internal_error_status(exc: BaseException) -> Status:
    """Doubt gives unknown: a fault inside the check is never a verdict."""
    return Status(
        document=Document(kind="unknown"),
        validity=Validity(
            state="unknown", basis="error", checked_at=now(),
            detail=f"the check failed ({type(exc).__name__}); check the card by hand",
            reason="internal_error",
        ),
    )


def stopped_status(scan: Scan) -> Status:
    """A scan the daemon read but could not finish before it stopped: unknown, never dropped."""
    return Status(
        document=Document(kind="unknown"),
        validity=Validity(
            state="unknown", basis="error", checked_at=now(),
            detail="the service stopped before the check finished; check the card by hand",
            reason="interrupted",
        ),
    )


def default_decider(status: Status, config: DaemonConfig) -> Status:
    """The region's decision; a code that is no card gets none (there is no patient to decide)."""
    if status.validity.basis == "not_a_card":
        return status
    return with_decision(status, region=config.region)


class Daemon:
    """Runs sources, workers and sinks until `stop()`; `run()` adds signals (main thread)."""

    def __init__(
        self,
        config: DaemonConfig,
        *,
        checker: Checker,
        sinks: Iterable[Sink] = (),
        decider: Decider = default_decider,
        reload: Callable[[], DaemonConfig] | None = None,
        interrupted: Checker = stopped_status,
        drain_seconds: float = DRAIN_SECONDS,
        on_scan: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        # Hears each scan that will be checked (not repeats) as it is queued: the desk page
        # says "checking the card" from then until the answer.
        self.on_scan = on_scan
        self.checker = checker
        self.interrupted = interrupted  # the status of a scan still unanswered at stop
        self.drain_seconds = drain_seconds
        self.decider = decider
        self.sinks: list[Sink] = list(sinks)
        self._reload_fn = reload
        self.stats = Stats()
        self._dedupe = Deduper(config.dedupe_seconds)
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=config.queue_size)
        self._stopping = threading.Event()  # sources stop reading
        self._stopped = threading.Event()  # everything drained and closed
        # The signal that asked for the stop (SIGTERM, SIGINT), None when stopped otherwise:
        # the command line tells a Ctrl-C (exit 130) from a service manager's stop (exit 0).
        self.stopped_by: int | None = None
        self._emit_lock = threading.Lock()
        self._emit_cond = threading.Condition(self._emit_lock)
        self._intake_lock = threading.Lock()
        self._next_seq: dict[str, int] = {}
        # Scans taken from the queue and not yet completed, by id(job); stop() claims what is
        # left here, so a lookup that ends after that is not emitted twice.
        self._in_flight: dict[int, Job] = {}
        self._gave_up = False
        self._next_emit: dict[str, int] = {}
        self._pending: dict[str, dict[int, tuple[Job, Status, float]]] = {}
        self._open: dict[str, Source] = {}
        self._open_lock = threading.Lock()
        self._source_threads: list[threading.Thread] = []
        self._workers: list[threading.Thread] = []
        self._releaser: threading.Thread | None = None
        self._stopped_emitting = False
        self._event_seq = 0

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        for i in range(self.config.max_lookups):
            t = threading.Thread(target=self._work, name=f"lookup-{i}", daemon=True)
            t.start()
            self._workers.append(t)
        self._releaser = threading.Thread(target=self._release_held, name="order", daemon=True)
        self._releaser.start()
        for url in self.config.sources:
            self.stats.source_state[url] = "starting"
            t = threading.Thread(target=self._run_source, args=(url,), name=f"source {url}",
                                 daemon=True)
            t.start()
            self._source_threads.append(t)
        log.info("started: %d source(s), %d lookup worker(s)", len(self.config.sources),
                 self.config.max_lookups)

    def stop(self, timeout: float | None = None) -> None:
        """Stop reading, finish every scan already read (within `drain_seconds`; what is left
        then goes out as unknown), close the sinks. Idempotent."""
        if self._stopped.is_set():
            return
        timeout = self.drain_seconds if timeout is None else timeout
        self._stopping.set()
        with self._open_lock:
            sources = list(self._open.values())
        for source in sources:
            try:
                source.close()
            except Exception as exc:  # a driver failing to close must not block shutdown
                log.warning("closing a source failed: %s", type(exc).__name__)
        deadline = time.monotonic() + timeout
        for t in self._source_threads:
            t.join(max(0.0, deadline - time.monotonic()))
        for _ in self._workers:
            try:  # a full queue behind a stuck lookup must not hold the stop past its deadline
                self._queue.put(None, timeout=max(0.001, deadline - time.monotonic()))
            except queue.Full:
                break
        for t in self._workers:
            t.join(max(0.0, deadline - time.monotonic()))
        self._give_up_unfinished()
        with self._emit_cond:
            for held in list(self._pending):
                self._drain(held, float("inf"))
            self._stopped_emitting = True
            self._emit_cond.notify_all()
        if self._releaser is not None:
            self._releaser.join(max(0.0, deadline - time.monotonic()))
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as exc:
                log.warning("closing %s failed: %s", type(sink).__name__, type(exc).__name__)
        self._stopped.set()
        log.info("stopped: %d scan(s), %d event(s), %d duplicate(s)", self.stats.scans,
                 self.stats.events, self.stats.duplicates)

    def run(self, on_tick: Callable[[], None] | None = None) -> None:
        """Start, then wait for SIGTERM/SIGINT (stop) or SIGHUP (reload). Main thread only."""
        with ServiceSignals() as signals:
            try:
                self.start()
                while not signals.stop_asked:
                    signals.wait(0.2)
                    if signals.take_reload() and not signals.stop_asked:
                        self.reload()
                    if on_tick is not None:
                        on_tick()
            finally:
                self.stopped_by = signals.stopped_by
                self.stop()

    def reload(self) -> None:
        """Re-read the configuration; apply what can change live, reopen files (log rotation)."""
        if self._reload_fn is None:
            return
        try:
            new = self._reload_fn()
        except Exception as exc:
            log.warning("reload failed, keeping the old settings: %s", scrub_text(str(exc)))
            return
        fixed = self.config.changed_fixed(new)
        if fixed:
            log.warning("reload: %s need a restart to change; ignored", ", ".join(fixed))
        live = {name: getattr(new, name) for name in RELOADABLE}
        self.config = replace(self.config, **live)
        self._dedupe.window = self.config.dedupe_seconds
        for sink in self.sinks:
            try:
                sink.reopen()
            except Exception as exc:
                log.warning("reopening %s failed: %s", type(sink).__name__, scrub_text(str(exc)))
        log.info("reloaded: region=%s clear_after=%ss", self.config.region, self.config.clear_after)

    # -- sources ------------------------------------------------------------------------------

    def _run_source(self, url: str) -> None:
        scheme = SourceURL.parse(url).scheme
        backoff = BACKOFF_FIRST
        while not self._stopping.is_set():
            try:
                source = open_source(url)
                with self._open_lock:
                    self._open[url] = source
                self.stats.source_state[url] = "open"
                self._log_open(url, source, retry=backoff != BACKOFF_FIRST)
                with source:
                    for scan in source:
                        backoff = BACKOFF_FIRST
                        self.submit(scan, url)
                        if self._stopping.is_set():
                            break
                if self._stopping.is_set():
                    break
                if scheme in FINITE_SCHEMES:
                    self.stats.source_state[url] = "ended"
                    log.info("source %s: ended", url)
                    return
                log.warning("source %s: ended unexpectedly; reopening in %.1f s", url, backoff)
            except SourceError as exc:
                log.warning("source %s: %s; retrying in %.1f s", url, scrub_text(str(exc)), backoff)
            except Exception as exc:
                log.warning("source %s failed (%s); retrying in %.1f s", url,
                            type(exc).__name__, backoff)
            finally:
                with self._open_lock:
                    self._open.pop(url, None)
            if self._stopping.is_set():
                break
            self.stats.source_state[url] = "retrying"
            self._stopping.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)
        self.stats.source_state[url] = "stopped"

    @staticmethod
    def _log_open(url: str, source: Source, *, retry: bool = False) -> None:
        """Say "open" when the device really is: a byte-stream driver opens it while it is
        read, so until then the journal says what the source waits for (an absent scanner
        gave "open" before every failed retry)."""
        state = getattr(source, "state", None)
        if not isinstance(state, str) or state == "open":
            log.info("source %s: open", url)
            return
        if not retry:  # a retry's own warning already says it waits
            log.info("source %s: waiting for the device", url)

        def on_state(new: str) -> None:
            if new == "open":
                log.info("source %s: open", url)

        source.on_state = on_state  # type: ignore[attr-defined]

    def source_states(self) -> dict[str, str]:
        """Each source's state as a desk sees it: a byte-stream driver's own when it has one
        (a serial scanner unplugged is "waiting" while the daemon still holds its source)."""
        # A configured source that has not reported yet is starting, not absent: a desk that
        # has not opened its scanner is not healthy (the web server answers before it does).
        states = {url: "starting" for url in self.config.sources}
        states.update(self.stats.source_state)
        with self._open_lock:
            live = {url: getattr(source, "state", None) for url, source in self._open.items()}
        for url, state in live.items():
            if states.get(url) == "open" and isinstance(state, str):
                states[url] = state
        return states

    def submit(self, scan: Scan, source: str) -> bool:
        """Take one scan from a source: drop repeats, queue the rest (blocks when full)."""
        with self._intake_lock:
            self.stats.scans += 1
            if not self._dedupe.admit(scan.payload, scan.received):
                self.stats.duplicates += 1
                return False
            seq = self._next_seq.get(source, 0)
            self._next_seq[source] = seq + 1
        if self.on_scan is not None:
            try:
                self.on_scan(source)
            except Exception as exc:  # the page's notice must never lose a scan
                log.warning("scan notice failed: %s", type(exc).__name__)
        self._queue.put(Job(scan=scan, source=source, seq=seq))
        return True

    # -- workers and emission -----------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._intake_lock:
                if self._gave_up:
                    continue  # stop() has already answered it
                self._in_flight[id(job)] = job
            status = self._check(job.scan)
            with self._intake_lock:
                mine = self._in_flight.pop(id(job), None) is not None
            if mine:
                self._complete(job, status)

    def _give_up_unfinished(self) -> None:
        """At the end of the drain: every scan read and not answered goes out as unknown."""
        left: list[Job] = []
        for _ in range(2):
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    left.append(job)
            # A source blocked on a full queue puts its scan in once there is room: take it too.
            for t in self._source_threads:
                t.join(0.2)
        with self._intake_lock:
            left += list(self._in_flight.values())
            self._in_flight.clear()
            self._gave_up = True  # a worker still looking up emits nothing after this
        for t in self._workers:
            if t.is_alive():
                with contextlib.suppress(queue.Full):
                    self._queue.put_nowait(None)  # it ends when its lookup does
        for job in sorted(left, key=lambda j: (j.source, j.seq)):
            try:
                status = self.decider(self.interrupted(job.scan), self.config)
            except Exception as exc:
                status = internal_error_status(exc)
            log.warning("stopping: a scan from %s had no answer yet; shown as unknown",
                        job.source)
            self._complete(job, status)

    def _check(self, scan: Scan) -> Status:
        try:
            status = self.checker(scan)
        except Exception as exc:
            self.stats.errors += 1
            log.warning("check failed: %s", type(exc).__name__)
            return internal_error_status(exc)
        try:
            return self.decider(status, self.config)
        except Exception as exc:
            self.stats.errors += 1
            log.warning("decision failed (%s); showing validity only", type(exc).__name__)
            return status

    def _complete(self, job: Job, status: Status) -> None:
        """Emit in scan order per source, but never hold a finished event past ORDER_GRACE."""
        if _worth_retrying(job, status):
            self._dedupe.forget(job.scan.payload)
        with self._emit_cond:
            if job.seq < self._next_emit.get(job.source, 0):
                # A later scan from this source is already out: this one is history.
                self._emit(job, status, superseded=True)
                return
            self._pending.setdefault(job.source, {})[job.seq] = (job, status, time.monotonic())
            self._drain(job.source, time.monotonic())
            self._emit_cond.notify_all()

    def _drain(self, source: str, at: float) -> None:
        """Emit what is ready in order; past the grace, skip over scans still being looked up.

        Caller holds the emit lock.
        """
        pending = self._pending.get(source, {})
        nxt = self._next_emit.get(source, 0)
        while pending:
            if nxt in pending:
                job, status, _ = pending.pop(nxt)
                self._emit(job, status)
                nxt += 1
                continue
            first = min(pending)
            if at - pending[first][2] < ORDER_GRACE:
                break
            job, status, _ = pending.pop(first)
            self._emit(job, status)
            nxt = first + 1
        self._next_emit[source] = nxt

    def _held_until(self) -> float | None:
        """When the first held event's grace ends (caller holds the emit lock)."""
        held = [ready for pending in self._pending.values() for _, _, ready in pending.values()]
        return min(held) + ORDER_GRACE if held else None

    def _release_held(self) -> None:
        """Let held events go when their grace ends, though the earlier lookup still runs."""
        with self._emit_cond:
            while not self._stopped_emitting:
                until = self._held_until()
                wait = None if until is None else until - time.monotonic()
                if wait is None or wait > 0:
                    self._emit_cond.wait(wait)
                    continue
                at = time.monotonic()
                for source in list(self._pending):
                    self._drain(source, at)

    def _emit(self, job: Job, status: Status, *, superseded: bool = False) -> None:
        self._event_seq += 1
        event = Event(
            seq=self._event_seq,
            status=status,
            source=job.source,
            symbology=job.scan.symbology,
            scanned_at=job.scan.at,
            emitted_at=now(),
            latency_ms=(time.monotonic() - job.scan.received) * 1000.0,
            superseded=superseded,
        )
        self.stats.events += 1
        for sink in self.sinks:
            try:
                sink.emit(event)
            except Exception as exc:
                log.warning("%s failed: %s", type(sink).__name__, type(exc).__name__)
        log.debug("event %d: %s %s in %.1f ms", event.seq, job.source, status.validity.state,
                  event.latency_ms)
