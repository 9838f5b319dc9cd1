"""What the desk page says about each scan source, in words staff act on. Pure.

The same facts `/healthz` judges (each configured source's state as the daemon sees it) become
one line per source ("Skannern är inte ansluten — sätt i kabeln") and, when no source can deliver
a card, a prominent alert: a desk must never say "waiting for a card" while nothing can read one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from verify.desk.health import CONNECTED, source_label
from verify.locale import N_, gettext

# The device a scheme stands for at a desk, by what staff would plug in or look at.
SCANNERS = frozenset({"serial", "socket", "rfc2217", "loop", "evdev"})
CAMERAS = frozenset({"camera"})
PAGES = frozenset({"page"})
STARTING = frozenset({"starting"})
ENDED = frozenset({"ended", "stopped", "closed"})

# (connected, starting, not connected, ended) per device.
_WORDS: dict[str, tuple[str, str, str, str]] = {
    "scanner": (
        N_("Scanner connected"),
        N_("Connecting to the scanner …"),
        N_("The scanner is not connected — plug in its cable"),
        N_("The scanner has stopped — restart the service"),
    ),
    "camera": (
        N_("Camera connected"),
        N_("Connecting to the camera …"),
        N_("The camera is not connected — plug in its cable"),
        N_("The camera has stopped — restart the service"),
    ),
    "page": (
        N_("Keyboard scanner on this page: on"),
        N_("Keyboard scanner on this page: starting …"),
        N_("Keyboard scanner on this page: not ready"),
        N_("Keyboard scanner on this page: stopped — restart the service"),
    ),
    "other": (
        N_("Source {name}: reading"),
        N_("Source {name}: starting …"),
        N_("Source {name}: not available"),
        N_("Source {name} has ended: no more cards come from it"),
    ),
}


def device_of(url: str) -> str:
    scheme = url.partition(":")[0].lower()
    if scheme in SCANNERS:
        return "scanner"
    if scheme in CAMERAS:
        return "camera"
    if scheme in PAGES:
        return "page"
    return "other"


def source_line(url: str, state: str, *, lang: str, named: bool = False) -> dict[str, Any]:
    """One source's state as {"name", "state", "ok", "text"}; `named` adds which one it is
    (a desk with two scanners must say which cable to check)."""
    device = device_of(url)
    name = source_label(url)
    connected, starting, missing, ended = _WORDS[device]
    if state in CONNECTED:
        template = connected
    elif state in STARTING:
        template = starting
    elif state in ENDED:
        template = ended
    else:
        template = missing
    text = gettext(template, lang, name=name)
    if named and device != "other":
        text = f"{text} ({name})"
    return {"name": name, "state": state, "ok": state in CONNECTED, "text": text}


def sources_view(states: Mapping[str, str], *, lang: str) -> dict[str, Any]:
    """Every configured source's line, whether any can deliver a card, and the alert when none
    can (empty when one can). With no source configured there is nothing to warn about."""
    named = len(states) > 1
    lines = [source_line(url, state, lang=lang, named=named)
             for url, state in sorted(states.items())]
    ready = not lines or any(line["ok"] for line in lines)
    alert = ""
    if not ready:
        alert = (lines[0]["text"] if len(lines) == 1
                 else gettext("No source can read a card: {sources}", lang,
                              sources="; ".join(line["text"] for line in lines)))
    return {"sources": lines, "ready": ready, "alert": alert,
            "headline": "" if ready else gettext("Cards cannot be read now", lang)}
