"""Is this desk working? The answer `/healthz` gives, from what the daemon knows. Pure.

Unhealthy (503) when a configured source is not connected (a scanner unplugged, a camera gone,
still starting), has ended, or when the last `RECENT_LOOKUPS` lookups all failed (the agency or
the network is down, or the lookup profile no longer fits). Reasons are words for operators and
never hold an identifier: source names are the configured URLs without options.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

RECENT_LOOKUPS = 3
CONNECTED = frozenset({"open"})


def source_label(url: str) -> str:
    """A source's configured name without its options (a stable, low-cardinality label)."""
    return url.partition("?")[0]


def assess(sources: Mapping[str, str], recent_lookups: Sequence[bool]) -> dict[str, Any]:
    """{"ok": bool, "reasons": [...]} from each source's state and the last lookups' success."""
    reasons: list[str] = []
    for url, state in sources.items():
        name = source_label(url)
        if state == "ended":
            reasons.append(f"source {name} has ended")
        elif state not in CONNECTED:
            reasons.append(f"source {name} is not connected ({state})")
    recent = list(recent_lookups)[-RECENT_LOOKUPS:]
    if len(recent) == RECENT_LOOKUPS and not any(recent):
        reasons.append(f"the last {RECENT_LOOKUPS} lookups all failed")
    return {"ok": not reasons, "reasons": reasons}
