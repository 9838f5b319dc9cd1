"""Redaction: the daemon's statuses as they may be written to files, logs and the JSON API.

Migration status is sensitive personal data (docs/daemon.md, Privacy). Everything the daemon
writes goes through `redact_status_json`, which keeps what a desk or an integration needs to act
(validity, basis, right to work, decision, the card's expiry) and removes what identifies a
person: the lookup token (kept as its first two characters, to tell two scans apart on the
screen), the LMA number, MRZ fields other than an allow-list of non-identifying facts, and any
of those that appear inside other strings (manual address, detail text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

ELLIPSIS = "…"

# MRZ facts that say something about the card, not about the person. Anything else is dropped.
MRZ_ALLOWED_KEYS = frozenset({
    "format", "kind", "document_code", "document_type", "type", "issuing_state", "issuer",
    "country", "expiry", "expiry_date", "expires", "date_of_expiry", "expired", "valid",
    "valid_format", "check_digits", "check_digits_ok", "checks", "checks_ok", "all_checks_ok",
    "composite_ok", "ocr_corrected", "state",
})
# Nested values of an allowed key are kept only when they are booleans: checks:
# {"document_number": true} is fine, a nested raw value is not.

# Digit runs that look like an LMA number (XX-XXXXXX, optional /serial) or any 8+ digit run
# (personal numbers, LMA numbers without dash) are masked wherever they appear in free text.
_LMA_LIKE = re.compile(r"\b\d{2}\s*-\s*\d{6}(?:\s*/\s*\d{1,3})?\b|\d{8,}")
# Long letter+digit runs that could be a lookup token in free text (never in fixed sentences).
_TOKEN_LIKE = re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{10,}\b")
# An MRZ line or fragment: runs of capitals/digits with filler '<'.
_MRZ_LIKE = re.compile(r"[A-Z0-9<]*<[A-Z0-9<]{4,}")


def mask_token(token: str | None) -> str | None:
    """`VALID0001` → `VA…`: enough to see two scans differ, not enough to look the card up."""
    if not token:
        return None
    return token[:2] + ELLIPSIS


def mask_lma_number(number: str | None) -> str | None:
    """`12-345678` → `**-******`: says the card carried a number, gives none of it."""
    if not number:
        return None
    return re.sub(r"\d", "*", number)


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace known identifiers and anything shaped like one inside free text."""
    out = text
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        out = out.replace(secret, mask_token(secret) or "")
    out = _MRZ_LIKE.sub("<MRZ…>", out)
    out = _LMA_LIKE.sub(lambda m: mask_lma_number(m.group(0)) or "", out)
    out = _TOKEN_LIKE.sub(lambda m: mask_token(m.group(0)) or "", out)
    return out


def _safe_mrz(mrz: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if mrz is None:
        return None
    out: dict[str, Any] = {}
    for key, value in mrz.items():
        if key not in MRZ_ALLOWED_KEYS:
            continue
        if isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if isinstance(v, bool)}
        elif isinstance(value, str):
            value = scrub_text(value)
        elif not isinstance(value, bool | int | float | type(None)):
            continue
        out[key] = value
    return out


def identifiers(status_json: Mapping[str, Any]) -> list[str]:
    """The identifying strings of one status: token, LMA number, MRZ numbers.

    Not the lookup URL as a whole: masking the token inside it keeps the bookmarkable base.
    """
    doc = status_json.get("document") or {}
    found: list[str] = []
    for key in ("lookup_token", "lma_number"):
        value = doc.get(key)
        if isinstance(value, str) and value:
            found.append(value)
    number = doc.get("lma_number")
    if isinstance(number, str):
        found.append(number.replace("-", ""))
    mrz = doc.get("mrz")
    if isinstance(mrz, Mapping):
        for key, value in mrz.items():
            if key not in MRZ_ALLOWED_KEYS and isinstance(value, str) and len(value) >= 4:
                found.append(value)
    return found


def redacted_manual_url(url: str | None, token: str | None) -> str | None:
    """The manual address without the card's code: the bookmarkable part plus `VA…`."""
    if not url:
        return None
    if token and token in url:
        return url.replace(token, mask_token(token) or "")
    return scrub_text(url)


def redact_status_json(status_json: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `Status.to_json()` safe for files, logs and the JSON API."""
    secrets = identifiers(status_json)
    doc = dict(status_json.get("document") or {})
    token = doc.get("lookup_token") if isinstance(doc.get("lookup_token"), str) else None
    doc["lookup_token"] = mask_token(token)
    doc["lma_number"] = mask_lma_number(doc.get("lma_number"))
    if "lookup_url" in doc:
        doc["lookup_url"] = redacted_manual_url(doc.get("lookup_url"), token)
    doc["mrz"] = _safe_mrz(doc.get("mrz"))
    validity = dict(status_json.get("validity") or {})
    validity["manual_check_url"] = redacted_manual_url(validity.get("manual_check_url"), token)
    if isinstance(validity.get("detail"), str):
        if validity.get("basis") == "not_a_card":
            # The parser's message may quote the payload; say only that it was not a card.
            validity["detail"] = "not a card"
        else:
            validity["detail"] = scrub_text(validity["detail"], secrets)
    out = dict(status_json)
    out["document"] = doc
    out["validity"] = validity
    decision = status_json.get("decision")
    if isinstance(decision, Mapping):
        out["decision"] = _scrub_tree(decision, secrets)
    out["redacted"] = True
    return out


def _scrub_tree(value: Any, secrets: list[str]) -> Any:
    """Decision texts come from rule data, not the card; scrub them anyway, cheaply."""
    if isinstance(value, str):
        if any(s in value for s in secrets):
            return scrub_text(value, secrets)
        return value
    if isinstance(value, Mapping):
        return {k: _scrub_tree(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_tree(v, secrets) for v in value]
    return value
