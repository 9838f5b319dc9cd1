"""Read one card from a capture source (camera, image, video, serial, keyboard, replay)."""

from __future__ import annotations

import threading

from drivers import open_source
from drivers.scan import Scan, SourceError
from verify.model import Status


def first_scan(url: str, *, timeout: float | None = None) -> Scan:
    """The first scan a source gives, or SourceError when it ends or times out without one.

    The timeout is enforced by closing the source from a timer thread: every driver ends its
    iteration promptly when closed, so a silent scanner cannot block past the deadline.
    """
    if timeout is not None and timeout <= 0:
        raise SourceError(f"--timeout must be more than 0 seconds, not {timeout}")
    timed_out = threading.Event()
    with open_source(url) as source:

        def expire() -> None:
            timed_out.set()
            source.close()

        timer = None if timeout is None else threading.Timer(timeout, expire)
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            for scan in source:
                if not timed_out.is_set():
                    return scan
                break
        finally:
            if timer is not None:
                timer.cancel()
    if timed_out.is_set():
        raise SourceError(f"no code was read from {url} within {timeout:g} s")
    raise SourceError(f"no code was read from {url}")


def read_card(
    url: str, *, timeout: float | None = None, preview: bool = True, show_name: bool = False
) -> Status:
    """Default flow; the camera driver may show a preview (issue 3)."""
    from verify.check import check_text

    scan = first_scan(url, timeout=timeout)
    # A desk MRZ reader's scan (serial mode=mrz) is known to be an MRZ: say so to the parser.
    as_kind = "mrz" if scan.symbology == "MRZ" else None
    return check_text(scan.payload, as_kind=as_kind, show_name=show_name)
