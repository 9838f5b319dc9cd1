"""Read one card from a capture source (camera, image, video, serial, keyboard, replay)."""

from __future__ import annotations

import time

from drivers import open_source
from drivers.scan import Scan, SourceError
from verify.model import Status


def first_scan(url: str, *, timeout: float | None = None) -> Scan:
    """The first scan a source gives, or SourceError when it ends or times out without one."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with open_source(url) as source:
        for scan in source:
            return scan
            if deadline is not None and time.monotonic() > deadline:  # pragma: no cover
                break
    raise SourceError(f"no code was read from {url}")


def read_card(
    url: str, *, timeout: float | None = None, preview: bool = True, show_name: bool = False
) -> Status:
    """Default flow; the camera driver may show a preview (issue 3)."""
    from verify.check import check_text

    scan = first_scan(url, timeout=timeout)
    return check_text(scan.payload, show_name=show_name)
