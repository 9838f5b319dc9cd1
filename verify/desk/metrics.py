"""Fleet metrics for `/metrics` (Prometheus text format, prometheus-client).

A daemon sink: every event counts once, by source, card kind and outcome; unknowns by card kind
and reason; lookups of either card kind (LMA, application) go into one latency histogram labelled
by card kind, so a ratio of failed to all lookups stays within 0..1 whatever mix of cards a desk
sees. Labels come from small fixed sets (outcomes, reasons, card kinds, the configured sources),
never from a card: no token, LMA number, name or per-card value can become a label,
so a region's Prometheus holds no personal data and no label explodes. Its own registry, so
two daemons in one process (tests) do not mix.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from verify.desk.events import Event
from verify.desk.health import CONNECTED, RECENT_LOOKUPS, assess, source_label
from verify.model import Status

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # what generate_latest writes
OUTCOMES = ("valid", "not_valid", "unknown", "not_a_card")
# Validity bases an unknown may have; anything else is counted as "other" (bounded labels).
REASONS = frozenset({"lookup", "error", "not_a_card", "lma_number_only", "mrz_check_failed",
                     "not_a_ut_card"})
# Card kinds as a label: the two looked up at the agency, the UT card read offline, and "none"
# for a code that is no card.
LOOKUP_CARDS = frozenset({"lma", "application"})
CARDS = LOOKUP_CARDS | {"ut"}
LOOKUP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0)


def outcome_of(status: Status) -> str:
    return "not_a_card" if status.validity.basis == "not_a_card" else status.validity.state


def lookup_failed(status: Status) -> bool:
    return status.validity.state == "unknown"


def was_lookup(status: Status) -> bool:
    """Did this check ask the agency (an LMA or application card's QR), rather than read a
    card offline? Every lookup counts, whatever the card kind: health and alerts judge them all."""
    return (status.validity.basis in ("lookup", "error")
            and status.document.kind in LOOKUP_CARDS)


def card_of(status: Status) -> str:
    """The card-kind label: lma, application, ut, or none (a code that is no card)."""
    kind = status.document.kind
    return kind if kind in CARDS else "none"


class _Sources(Collector):
    def __init__(self, states: Callable[[], Mapping[str, str]]) -> None:
        self._states = states

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "verify_source_connected", "1 when the scan source is connected, else 0",
            labels=["source"])
        for url, state in sorted(self._states().items()):
            family.add_metric([source_label(url)], 1.0 if state in CONNECTED else 0.0)
        yield family


class DeskMetrics:
    """Counters for one daemon, and the recent lookups `/healthz` judges."""

    def __init__(self, *, sources: Callable[[], Mapping[str, str]],
                 profile_confirmed: bool | None = None) -> None:
        self.registry = CollectorRegistry()
        self._sources = sources
        self._lock = threading.Lock()
        self._recent: deque[bool] = deque(maxlen=RECENT_LOOKUPS)
        self.scans = Counter("verify_scans", "Distinct scans that gave an event",
                             ["source", "card", "outcome"], registry=self.registry)
        self.unknowns = Counter("verify_unknowns", "Scans whose validity stayed unknown",
                                ["card", "reason"], registry=self.registry)
        self.lookups = Histogram("verify_lookup_duration_seconds",
                                 "Time to check a card (LMA or application) with the agency",
                                 ["card", "outcome"],
                                 buckets=LOOKUP_BUCKETS, registry=self.registry)
        self.profile = Gauge("verify_lookup_profile_confirmed",
                             "1 when the lookup profile is confirmed against a real card",
                             registry=self.registry)
        self.profile.set(1.0 if profile_confirmed else 0.0)
        self.registry.register(_Sources(sources))

    # -- the checker reports each lookup --------------------------------------------------------

    def observe_check(self, seconds: float, status: Status) -> None:
        if not was_lookup(status):
            return
        self.lookups.labels(card=card_of(status), outcome=status.validity.state).observe(seconds)
        with self._lock:
            self._recent.append(not lookup_failed(status))

    # -- sink ------------------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        status = event.status
        outcome = outcome_of(status)
        card = card_of(status)
        self.scans.labels(source=source_label(event.source), card=card, outcome=outcome).inc()
        if status.validity.state == "unknown":
            basis = status.validity.basis
            self.unknowns.labels(card=card, reason=basis if basis in REASONS else "other").inc()

    def reopen(self) -> None:
        """Nothing to reopen."""

    def close(self) -> None:
        """Counters live as long as the process."""

    # -- readers -----------------------------------------------------------------------------------

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def health(self) -> dict[str, object]:
        with self._lock:
            recent = list(self._recent)
        states = dict(self._sources())
        return {**assess(states, recent),
                "sources": {source_label(u): s for u, s in states.items()}}
