"""The one thing every driver produces."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Scan:
    """One code read from one source.

    `received` is `time.monotonic()` when the driver had the complete payload (terminator byte
    seen, frame decoded): latency figures are measured from it.
    """

    payload: str
    symbology: str = "unknown"
    source: str = ""
    at: datetime = field(default_factory=_now)
    received: float = field(default_factory=time.monotonic)
    # Corners of the code in the frame (camera sources only), for drawing an outline.
    corners: tuple[tuple[int, int], ...] | None = None


class SourceError(Exception):
    """A source cannot be opened or read (no such device, unreadable file, bad URL): exit 2."""
