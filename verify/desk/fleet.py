"""What this instance knows of each desk right now: last contact, last scan, open pages.

For the operator page and `/metrics` (labels `desk` and `site`: the names the operator gave,
never anything of a patient). Each instance knows only the requests and pages it served; a
region's Prometheus combines the instances (max of the last-scan times, sum of open pages).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from verify.desk.desks import Book

OUTCOMES = ("valid", "not_valid", "unknown", "not_a_card")


@dataclass(frozen=True)
class DeskRow:
    """One line of the operator page: no patient data, only the desk's own state."""

    id: str
    name: str
    site: str
    region: str | None
    lang: str
    revoked: bool
    last_contact: float | None  # wall clock, seconds
    last_scan: float | None
    pages: int


class Fleet(Collector):
    """Per-desk live state of this instance, and its Prometheus collector."""

    def __init__(self, book: Callable[[], Book], *, region: str | None = None,
                 lang: str = "sv") -> None:
        self._book = book
        self._region, self._lang = region, lang
        self._lock = threading.Lock()
        self._contact: dict[str, float] = {}
        self._scan: dict[str, float] = {}
        self._pages: dict[str, int] = {}
        self._scans: dict[tuple[str, str], int] = {}

    def contact(self, desk_id: str) -> None:
        with self._lock:
            self._contact[desk_id] = time.time()

    def scanned(self, desk_id: str, outcome: str) -> None:
        at = time.time()
        with self._lock:
            self._contact[desk_id] = self._scan[desk_id] = at
            key = (desk_id, outcome if outcome in OUTCOMES else "unknown")
            self._scans[key] = self._scans.get(key, 0) + 1

    def page_opened(self, desk_id: str) -> None:
        with self._lock:
            self._pages[desk_id] = self._pages.get(desk_id, 0) + 1
            self._contact[desk_id] = time.time()

    def page_closed(self, desk_id: str) -> None:
        with self._lock:
            left = self._pages.get(desk_id, 0) - 1
            if left > 0:
                self._pages[desk_id] = left
            else:
                self._pages.pop(desk_id, None)
            self._contact[desk_id] = time.time()

    def rows(self) -> list[DeskRow]:
        book = self._book()
        with self._lock:
            out = []
            for desk in sorted(book.desks.values(), key=lambda d: (d.site, d.name)):
                region, lang = book.region_and_lang(desk, self._region, self._lang)
                out.append(DeskRow(desk.id, desk.name, desk.site, region, lang, desk.revoked,
                                   self._contact.get(desk.id), self._scan.get(desk.id),
                                   self._pages.get(desk.id, 0)))
        return out

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        book = self._book()
        labels = ["desk", "site"]
        last = GaugeMetricFamily("verify_desk_last_scan_timestamp_seconds",
                                 "When this instance last answered a scan from the desk (Unix "
                                 "time; 0: not since it started)", labels=labels)
        pages = GaugeMetricFamily("verify_desk_page_connected",
                                  "1 when the desk's page holds an event stream on this "
                                  "instance, else 0", labels=labels)
        scans = CounterMetricFamily("verify_desk_scans", "Scans answered for the desk, by "
                                    "outcome", labels=[*labels, "outcome"])
        with self._lock:
            for desk in sorted(book.desks.values(), key=lambda d: (d.site, d.name)):
                if desk.revoked:
                    continue
                names = [desk.name, desk.site]
                last.add_metric(names, self._scan.get(desk.id, 0.0))
                pages.add_metric(names, 1.0 if self._pages.get(desk.id) else 0.0)
                for outcome in OUTCOMES:
                    scans.add_metric([*names, outcome], self._scans.get((desk.id, outcome), 0))
        yield last
        yield pages
        yield scans
