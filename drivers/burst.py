"""One keyboard-scanner burst typed into a page, framed and repaired on the spot (no source).

The single-desk daemon's `page:` source feeds bursts through a driver loop; a service for many
desks answers each burst on the request that carried it, so it needs the same steps as a pure
function: the one framer every scanner uses (Enter = CR, Tab = TAB, AIM prefixes, MRZ lines)
and the same layout repair as `stdin:` and `page:` (`httpsÖ--…` from a US-set scanner on a
Swedish desktop).
"""

from __future__ import annotations

from drivers.framing import Frame, Framer, FramingConfig
from drivers.layout import repair_auto
from drivers.scan import Scan

SOURCE = "page:"


def burst_scans(text: str, ended_by: str = "\r", *, repair: bool = True) -> list[Scan]:
    """The scans in one burst (usually one; none when it framed to nothing)."""
    if ended_by not in ("\r", "\t"):
        raise ValueError("a burst ends with Enter (CR) or Tab")
    framer = Framer(FramingConfig.from_params({"idle": "0"}))
    events = framer.feed(text.encode("utf-8") + ended_by.encode(), 0.0, idle_check=False)
    events += framer.flush()
    scans: list[Scan] = []
    for event in events:
        if not isinstance(event, Frame):
            continue  # a notice: something dropped; it never carries payload characters
        payload = event.payload
        if repair:
            payload, _ = repair_auto(payload)
        scans.append(Scan(payload=payload, symbology=event.symbology, source=SOURCE))
    return scans
