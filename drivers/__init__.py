"""Capture layer: hardware and files in, `Scan` events out. Knows nothing about LMA cards.

    with open_source("image:card.png") as scans:
        for scan in scans:
            print(scan.payload)

Like pyserial's `serial_for_url`, the scheme picks a handler; handlers are imported lazily so
that reading a serial scanner does not need OpenCV loaded.
"""

from __future__ import annotations

import importlib

from drivers.scan import Scan, SourceError
from drivers.source import Source, SourceURL

# scheme -> "module:Class". pyserial's own URL forms go to the serial driver.
HANDLERS: dict[str, str] = {
    "camera": "drivers.camera:CameraSource",
    "video": "drivers.camera:VideoSource",
    "image": "drivers.camera:ImageSource",
    "serial": "drivers.serial:SerialSource",
    "socket": "drivers.serial:SerialSource",
    "rfc2217": "drivers.serial:SerialSource",
    "loop": "drivers.serial:SerialSource",
    "stdin": "drivers.keyboard:StdinSource",
    "evdev": "drivers.keyboard:EvdevSource",
    "replay": "drivers.recording:ReplaySource",
    "page": "drivers.page:PageSource",
}


def register_scheme(scheme: str, handler: str | type[Source]) -> None:
    """Add or replace a handler: a Source subclass, or "module:Class" imported on first use."""
    HANDLERS[scheme.lower()] = handler  # type: ignore[assignment]


def handler_for(scheme: str) -> type[Source]:
    spec: str | type[Source] | None = HANDLERS.get(scheme)
    if spec is None:
        known = ", ".join(sorted(HANDLERS))
        raise SourceError(f"unknown source scheme {scheme!r}; known: {known}")
    if not isinstance(spec, str):
        return spec
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls: type[Source] = getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        raise SourceError(f"source scheme {scheme!r} is not available: {exc}") from None
    return cls


def open_source(url: str) -> Source:
    """Open any source by URL; use it as a context manager that yields `Scan` objects."""
    parsed = SourceURL.parse(url)
    return handler_for(parsed.scheme)(parsed)


__all__ = ["Scan", "Source", "SourceError", "SourceURL", "open_source", "register_scheme"]
