"""Helpers for the camera tests: the card-capture generator, and a stand-in webcam."""

from __future__ import annotations

import importlib.util
import struct
import sys
import zlib
from pathlib import Path
from types import ModuleType

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CARDS = REPO / "fixtures" / "cards"


def make_cards() -> ModuleType:
    """fixtures/cards/make_cards.py as a module (it is a script, not a package)."""
    if "make_cards" in sys.modules:
        return sys.modules["make_cards"]
    spec = importlib.util.spec_from_file_location("make_cards", CARDS / "make_cards.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_cards"] = mod
    spec.loader.exec_module(mod)
    return mod


def card_photo(path: Path, payload: str, seed: int = 1, **shot: object) -> Path:
    """A webcam-like JPEG of the mock card whose QR code holds `payload`."""
    mc = make_cards()
    params = {"frame": (640, 480), "card_width_frac": 0.6, "roll": 8.0, "yaw": 10.0,
              "glare": 0.5, "noise": 3.0, "jpeg": 80, **shot}
    s = mc.Shot(name=path.stem, payload=payload, **params)
    path.write_bytes(mc.capture(s, np.random.default_rng(seed)))
    return path


class FakeCapture:
    """Stands in for cv2.VideoCapture where a physical webcam would be needed: plays the given
    frames, then behaves like an unplugged camera (read() fails from then on)."""

    def __init__(self, frames: list[np.ndarray], opened: bool = True) -> None:
        self.frames = list(frames)
        self.opened = opened
        self.released = False
        self.props: dict[int, float] = {}

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.opened

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.released or not self.frames:
            return False, None
        return True, self.frames.pop(0)

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def release(self) -> None:
        self.released = True


def png_header(width: int, height: int) -> bytes:
    """A small PNG file whose header claims width × height pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)) + b"\x00" * 64)
