"""Daemon events: one per distinct scan, the contract's status plus where and how fast.

An event is the status JSON (docs/status-schema.json keys stay) with an extra `event` object.
Two views exist and only two:
- `to_record()`: redacted, for JSON Lines files, stdout, the JSON API and logs;
- `to_desk()`: the record plus the full manual address, for the local desk screen only, where
  the receptionist needs it to check by hand. It is never written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from verify.desk.view import desk_view
from verify.model import Status
from verify.redact import redact_status_json


@dataclass(frozen=True)
class Event:
    seq: int
    status: Status
    source: str
    symbology: str
    scanned_at: datetime  # wall clock when the driver had the payload
    emitted_at: datetime
    latency_ms: float  # terminator byte / decoded frame → event emitted (monotonic clock)
    # A later scan from the same source went out first (this lookup was slow): for the record,
    # not for the screen.
    superseded: bool = False

    def meta(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "source": self.source,
            "symbology": self.symbology,
            "scanned_at": self.scanned_at.astimezone().isoformat(timespec="milliseconds"),
            "emitted_at": self.emitted_at.astimezone().isoformat(timespec="milliseconds"),
            "latency_ms": round(self.latency_ms, 2),
            "superseded": self.superseded,
        }

    @cached_property
    def _record(self) -> dict[str, Any]:
        record = redact_status_json(self.status.to_json())
        record["event"] = self.meta()
        return record

    def to_record(self) -> dict[str, Any]:
        """The redacted event: safe for files, logs and the JSON API (redacted once per event)."""
        return dict(self._record)

    def to_desk(self, *, lang: str = "sv", clear_after: float | None = None) -> dict[str, Any]:
        """What the desk screen shows: the redacted record plus words and the manual address."""

        record = self.to_record()
        record["desk"] = desk_view(self.status, lang=lang)
        record["desk"]["clear_after"] = clear_after
        return record
