"""Read one card from a capture source (camera, image, video, serial, keyboard, replay).

Camera, video and image sources run through `read_from_frames`: every frame is looked at (and
shown in the preview window when there is one), the first code that is an LMA card is checked,
the verdict is shown as a coloured banner, and the status is returned. QR codes that are not a
card are shown as such and skipped. Frames with no QR code go to `NO_CODE_HOOKS` (the place for
other readers, e.g. MRZ OCR of a UT card). A photo's first frame is the quick QR look only, so
its zone is read before the slow QR steps run (drivers/camera.py, `Frame.repeat`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import typer

from drivers import handler_for, open_source
from drivers.scan import Scan, SourceError
from drivers.source import SourceURL
from verify.cards.ocr import frame_hook
from verify.check import check_text
from verify.errors import ParseError, VerifyError
from verify.locale import _
from verify.model import Status
from verify.present import preview as preview_window
from verify.present.preview import Banner, banner_for, text

# Frames in which no QR code was found are offered to these, in order. A hook returns the text
# it read (e.g. an MRZ) or None; the text is checked like a scanned payload. Hooks must be cheap
# or rate-limit themselves (they see every such frame of a stream; `frame.index` counts frames).
NoCodeHook = Callable[[Any], str | None]
NO_CODE_HOOKS: list[NoCodeHook] = []

# How long the verdict stays on screen before the window closes (any key or Esc closes it sooner).
HOLD_S = float(os.environ.get("VERIFY_PREVIEW_HOLD", "4"))

class NoScan(VerifyError, SourceError):
    """No card came from the source (ended, timed out, cancelled): exit 2, saying why."""


def first_scan(url: str, *, timeout: float | None = None) -> Scan:
    """The first scan a source gives, or SourceError when it ends or times out without one.

    The timeout is enforced by closing the source from a timer thread: every driver ends its
    iteration promptly when closed, so a silent scanner cannot block past the deadline.
    """
    if timeout is not None and timeout <= 0:
        raise ParseError("bad_timeout", "--timeout must be more than 0 seconds, not {timeout}",
                         timeout=timeout)
    timed_out = threading.Event()
    with open_source(url) as source:
        # A scanner gives no sign of life until a card is scanned: say what is awaited, once
        # the device is open (a byte-stream driver opens it when first read).
        waiting = "verify: " + (
            _("waiting for one card from {url} (Ctrl-C to stop)", url=url) if timeout is None
            else _("waiting up to {s} s for one card from {url}", url=url, s=f"{timeout:g}"))
        state = getattr(source, "state", None)
        if isinstance(state, str) and state != "open":

            def on_state(new: str) -> None:
                if new == "open":
                    typer.echo(waiting, err=True)

            source.on_state = on_state  # type: ignore[attr-defined]
        else:
            typer.echo(waiting, err=True)

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
        raise NoScan("no code was read from {url} within {s} s", url=url, s=f"{timeout:g}")
    raise NoScan("no code was read from {url}", url=url)


def read_card(
    url: str, *, timeout: float | None = None, preview: bool = True, show_name: bool = False,
    lang: str = "sv", check: Callable[..., Status] | None = None,
) -> Status:
    """Read and check one card. Camera/video/image go through the frame loop (with a preview
    window when asked for and a display exists); other sources take their first scan.
    `check` replaces `check_text` (text → Status), e.g. to read the card's chip as well."""

    # Frame sources (drivers.camera) have a frame loop; asking the class, not an opened source,
    # keeps OpenCV unloaded for serial and keyboard sources and opens every source once.
    if hasattr(handler_for(SourceURL.parse(url).scheme), "frames_with_results"):
        with open_source(url) as source:
            return read_from_frames(source, timeout=timeout, preview=preview,
                                    show_name=show_name, lang=lang, check=check)
    scan = first_scan(url, timeout=timeout)
    # A desk MRZ reader's scan (serial mode=mrz) is known to be an MRZ: say so to the parser.
    as_kind = "mrz" if scan.symbology == "MRZ" else "scan"
    return (check or check_text)(scan.payload, as_kind=as_kind, show_name=show_name)


def read_from_frames(
    source: Any, *, timeout: float | None, preview: bool, show_name: bool, lang: str = "sv",
    check: Callable[..., Status] | None = None,
) -> Status:
    """The camera path: frames → first card code → status, with an optional preview window."""

    check = check or check_text
    window = preview_window.open_preview(lang) if preview else None
    deadline = None if timeout is None else time.monotonic() + timeout
    not_card: ParseError | None = None
    banner_state = "idle"
    # A recorded video shown in the window plays at its own speed, not as fast as it decodes.
    frame_s = 1.0 / source.fps if window and getattr(source, "fps", None) else 0.0
    shown_at = time.monotonic()
    try:
        for frame in source.frames_with_results():
            if frame_s:
                time.sleep(max(0.0, shown_at + frame_s - time.monotonic()))
                shown_at = time.monotonic()
            outlines = [d.corners for d in frame.found]
            candidates = [s.payload for s in frame.scans]
            if not frame.found and not getattr(frame, "repeat", False):
                # A still's second look (the whole QR cascade, `repeat`) is the same image
                # the hooks already read in its first look.
                candidates += [t for t in (hook(frame) for hook in NO_CODE_HOOKS) if t]
            for payload in candidates:
                if window:
                    window.set_banner(Banner("checking", text(lang, "checking")))
                    window.show(frame.image, outlines, "checking")
                try:
                    status = check(payload, show_name=show_name)
                except ParseError as exc:
                    not_card = exc  # a QR code, but not a card's: say so, keep looking
                    if window:
                        window.set_banner(Banner("unknown", text(lang, "not_card")))
                        banner_state = "not_card"
                    continue
                if window:
                    banner = banner_for(status, lang)
                    window.set_banner(banner)
                    window.show(frame.image, outlines, banner.state)
                    _hold(window, HOLD_S)
                return status
            if window:
                if not frame.found and banner_state != "idle":
                    window.set_banner(Banner("idle", text(lang, "idle")))  # that code has gone
                    banner_state = "idle"
                window.show(frame.image, outlines, "idle")
                if window.cancelled:
                    raise NoScan("cancelled with Esc – no card was read")
            if deadline is not None and time.monotonic() > deadline:
                if not_card is not None:
                    raise not_card
                raise NoScan("no card was read within {s} s from {url}", s=f"{timeout:g}",
                             url=source.url.url)
    finally:
        if window:
            window.close()
    if not_card is not None:
        raise not_card
    raise NoScan("no LMA card QR code was found in {url}", url=source.url.url)


def _hold(window: Any, seconds: float) -> None:
    """Keep the verdict on screen a moment so the desk can read it; Esc closes it at once."""
    window.root.bind("<Key>", lambda _e: setattr(window, "cancelled", True))
    end = time.monotonic() + seconds
    while time.monotonic() < end and window.pump():
        time.sleep(0.03)


def _mrz_ocr(frame: Any) -> str | None:
    """UT cards (issue 5): no QR code in the frame, so look for a machine-readable zone."""

    return frame_hook(frame)


NO_CODE_HOOKS.append(_mrz_ocr)
