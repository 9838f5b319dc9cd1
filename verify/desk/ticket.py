"""A scan's outcome, sealed for the page that scanned it, so any instance can take its answers.

A service for many desks runs several instances with no shared store: the answer to a question
("child or adult?") may reach another instance than the scan did. So the scan's answer carries
a ticket: the status (without its decision, which is made again from the region's rules) and the
scan's id, signed with the instances' shared key for this desk only, with an end of life.

The ticket lives in the page's memory and goes back with each answer; it is never stored. It
holds what the page itself typed (the card's code is in the burst the page sent) and the
outcome the page shows; it is signed, not encrypted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from verify.model import Document, ProfileUse, Status, Validity

MAX_TICKET = 8192


@dataclass(frozen=True)
class Sealed:
    """What a ticket gives back: the scan's id, when it was scanned, its status undecided."""

    scan_id: str
    scanned_at: datetime
    status: Status


def _mac(key: bytes, desk_id: str, body: str) -> str:
    digest = hmac.new(key, f"t1|{desk_id}|{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")


def _status_json(status: Status) -> dict[str, Any]:
    v = status.validity
    return {
        "document": status.document.to_json(),
        "validity": {
            "state": v.state, "basis": v.basis, "checked_at": v.checked_at.isoformat(),
            "detail": v.detail, "right_to_work": v.right_to_work,
            "manual_check_url": v.manual_check_url, "reason": v.reason,
            "profile": v.profile.to_json() if v.profile is not None else None,
            "facts": [list(f) for f in v.facts],
        },
    }


def _status(data: dict[str, Any]) -> Status:
    d, v = data["document"], data["validity"]
    profile = v.get("profile")
    document = Document(
        kind=d["kind"], lma_number=d.get("lma_number"), card_serial=d.get("card_serial"),
        lookup_token=d.get("lookup_token"), lookup_url=d.get("lookup_url"), mrz=d.get("mrz"))
    validity = Validity(
        state=v["state"], basis=str(v["basis"]),
        checked_at=datetime.fromisoformat(v["checked_at"]), detail=str(v["detail"]),
        right_to_work=v.get("right_to_work"), manual_check_url=v.get("manual_check_url"),
        profile=ProfileUse(str(profile["name"]), bool(profile["confirmed"]))
        if profile else None,
        reason=str(v.get("reason", "")),
        facts=tuple((str(a), str(b)) for a, b in v.get("facts", [])),
    )
    return Status(document=document, validity=validity)


def seal(key: bytes, desk_id: str, scan_id: str, scanned_at: datetime, status: Status,
         *, expires: float) -> str:
    body = base64.urlsafe_b64encode(json.dumps(
        {"scan": scan_id, "at": scanned_at.isoformat(), "exp": int(expires),
         "status": _status_json(status)}, ensure_ascii=False, separators=(",", ":"),
    ).encode()).decode().rstrip("=")
    return f"{body}.{_mac(key, desk_id, body)}"


def unseal(key: bytes, desk_id: str, ticket: object, *, now: float) -> Sealed | None:
    """The sealed scan when the ticket is this desk's, intact and not past its life; else None."""
    if not isinstance(ticket, str) or len(ticket) > MAX_TICKET or ticket.count(".") != 1:
        return None
    body, mac = ticket.split(".")
    if not hmac.compare_digest(mac, _mac(key, desk_id, body)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if now > float(data["exp"]):
            return None
        return Sealed(str(data["scan"]), datetime.fromisoformat(data["at"]),
                      _status(data["status"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
