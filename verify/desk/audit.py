"""Opt-in audit log: which card was checked when, with what result, pseudonymised.

Some regions must be able to show that a card was checked. The audit log records a keyed hash
(HMAC-SHA256) of the card's identifiers instead of the identifiers: the same card gives the same
pseudonym under the same key, so an auditor holding the card and the key can find its entries,
but the log alone identifies nobody. Without a key there is no audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from verify.desk.event_log import JsonLinesSink
from verify.desk.events import Event
from verify.errors import ConfigError
from verify.tomlfile import read_text

MIN_KEY_BYTES = 16


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 over `kind:value`, hex; `kind` keeps a token and a number from colliding."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def audit_key(configured: str | None) -> bytes:
    """The key from config, `VERIFY_AUDIT_KEY` or the file `VERIFY_AUDIT_KEY_FILE` (systemd
    credentials); refuse a missing or short one."""
    raw = configured or os.environ.get("VERIFY_AUDIT_KEY") or ""
    key_file = os.environ.get("VERIFY_AUDIT_KEY_FILE")
    if not raw and key_file:
        # A regular file of at most 4 KiB (systemd puts credentials in one); anything else is
        # one sentence naming it.
        raw = read_text(key_file, 4096).strip()
    key = raw.encode()
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"the audit log needs a key of at least {MIN_KEY_BYTES} characters "
            "(audit_key in the config file, VERIFY_AUDIT_KEY or VERIFY_AUDIT_KEY_FILE)"
        )
    return key


def audit_entry(event: Event, key: bytes) -> dict[str, Any]:
    """One audit line: time, source, result and pseudonyms, nothing readable about the person."""
    status = event.status
    doc = status.document
    subjects: dict[str, str] = {}
    if doc.lookup_token:
        subjects["lookup_token"] = pseudonym(key, "token", doc.lookup_token)
    if doc.lma_number:
        subjects["lma_number"] = pseudonym(key, "lma", doc.lma_number)
    mrz = doc.mrz if isinstance(doc.mrz, Mapping) else None
    if mrz is not None:
        number = mrz.get("document_number")
        if isinstance(number, str) and number:
            subjects["document_number"] = pseudonym(key, "doc", number)
    decision = status.decision
    return {
        "at": event.scanned_at.isoformat(timespec="seconds"),
        "source": event.source,
        "kind": doc.kind,
        "subjects": subjects,
        "state": status.validity.state,
        "basis": status.validity.basis,
        "right_to_work": status.validity.right_to_work,
        "region": decision.region if decision else None,
        "entitlement": decision.entitlement if decision else None,
    }


class AuditLog(JsonLinesSink):
    """Append-only pseudonymised JSON Lines, file mode 0600; reopened after rotation (SIGHUP)."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.key = key
        super().__init__(str(path))

    def record(self, event: Event) -> dict[str, Any]:
        return audit_entry(event, self.key)
