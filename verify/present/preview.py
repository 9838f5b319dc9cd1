"""The camera preview window: live image, outline of the found code, a coloured result banner.

Why Tk and not `cv2.imshow`: the project depends on opencv-python-headless (no GUI, no Qt/GTK,
small, safe on servers); Tk ships with Python (Debian: python3-tk) and draws Swedish text
(å, ä, ö) that OpenCV's Hershey fonts cannot. Frames go to Tk as PPM bytes, no Pillow needed.
No display (no DISPLAY), no Tk, or `--no-preview`: no window, nothing else changes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from verify.locale import N_, _
from verify.model import Status

MAX_WIDTH = 960

# banner colours: background, text
COLOURS = {
    "valid": ("#1e8e3e", "#ffffff"),
    "not_valid": ("#c5221f", "#ffffff"),
    "unknown": ("#f29900", "#000000"),
    "idle": ("#3c4043", "#ffffff"),
    "checking": ("#1a73e8", "#ffffff"),
}
OUTLINE_BGR = {
    "valid": (62, 142, 30),
    "not_valid": (31, 34, 197),
    "unknown": (0, 153, 242),
    "idle": (0, 220, 255),
    "checking": (232, 115, 26),
}

TEXTS = {
    "title": N_("verify – read an LMA card"),
    "idle": N_("Hold the card's QR code up to the camera   (Esc cancels)"),
    "checking": N_("QR code read – checking …"),
    "valid": N_("VALID"),
    "valid_work": N_("VALID – right to work"),
    "valid_nowork": N_("VALID – no right to work"),
    "not_valid": N_("NOT VALID"),
    "unknown": N_("CANNOT BE DETERMINED – check by hand"),
    "not_card": N_("Not an LMA card – show the card's QR code"),
    "altered": N_("Chip: ALTERED — the card's data does not match the chip"),
}


@dataclass(frozen=True)
class Banner:
    state: str  # valid | not_valid | unknown | idle | checking
    text: str


def text(lang: str, key: str) -> str:
    return _(TEXTS[key], lang)


def banner_for(status: Status, lang: str = "sv") -> Banner:
    """The one-line verdict for the desk: colour from the validity state, words in `lang`;
    a card whose chip says altered is red whatever its expiry, and a valid one whose chip
    did not vouch for it is amber (check by hand, as its exit code 3 says)."""
    state = status.validity.state
    auth = status.authenticity
    if auth is not None and auth.state == "altered":
        return Banner("not_valid", text(lang, "altered"))
    if state == "valid" and auth is not None and auth.state != "verified":
        return Banner("unknown", text(lang, "unknown"))
    if state == "valid":
        rtw = status.validity.right_to_work
        key = "valid" if rtw is None else ("valid_work" if rtw else "valid_nowork")
        return Banner("valid", text(lang, key))
    if state == "not_valid":
        return Banner("not_valid", text(lang, "not_valid"))
    return Banner("unknown", text(lang, "unknown"))


def display_available() -> bool:
    """A window can be shown: Tk draws natively on Windows and macOS; elsewhere an X display
    is set (Wayland sessions have one via XWayland)."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY"))


def annotate(image: np.ndarray, outlines: Sequence[Sequence[tuple[int, int]]],
             state: str) -> np.ndarray:
    """A display copy of the frame, shrunk to fit, with the found codes outlined."""
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    f = min(1.0, MAX_WIDTH / image.shape[1])
    shown = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 \
        else image.copy()
    colour = OUTLINE_BGR.get(state, OUTLINE_BGR["idle"])
    for corners in outlines:
        if len(corners) < 3:
            continue
        pts = np.array([[round(x * f), round(y * f)] for x, y in corners], dtype=np.int32)
        cv2.polylines(shown, [pts], True, colour, max(2, shown.shape[1] // 240),
                      lineType=cv2.LINE_AA)
    return shown


class Preview:
    """A Tk window; `show()` draws a frame, `pump()` handles events and says if Esc was pressed."""

    def __init__(self, lang: str = "sv") -> None:
        import tkinter as tk  # imported here: headless runs never need Tk

        self.lang = lang
        self.root = tk.Tk()
        self.root.title(text(lang, "title"))
        self.root.configure(bg="#000000")
        self.banner = tk.Label(self.root, font=("DejaVu Sans", 20, "bold"), padx=16, pady=10,
                               anchor="w", justify="left")
        self.banner.pack(side="top", fill="x")
        self.picture = tk.Label(self.root, bd=0, bg="#000000")
        self.picture.pack(side="top")
        self.cancelled = False
        self.root.bind("<Escape>", self._cancel)
        self.root.protocol("WM_DELETE_WINDOW", self._cancel)
        self._photo: Any = None
        self._tk = tk
        self.set_banner(Banner("idle", text(lang, "idle")))

    def _cancel(self, *_: object) -> None:
        self.cancelled = True

    def set_banner(self, banner: Banner) -> None:
        bg, fg = COLOURS.get(banner.state, COLOURS["idle"])
        self.banner.configure(text=banner.text, bg=bg, fg=fg)

    def show(self, image: np.ndarray, outlines: Sequence[Sequence[tuple[int, int]]] = (),
             state: str = "idle") -> None:
        shown = annotate(image, outlines, state)
        ok, ppm = cv2.imencode(".ppm", shown)  # OpenCV writes PPM as RGB from BGR
        if ok:
            self._photo = self._tk.PhotoImage(data=ppm.tobytes(), format="PPM")
            self.picture.configure(image=self._photo)
        self.pump()

    def pump(self) -> bool:
        """Process window events; False once the user pressed Esc or closed the window."""
        try:
            self.root.update()
        except self._tk.TclError:
            self.cancelled = True
        return not self.cancelled

    def close(self) -> None:
        try:
            self.root.destroy()
        except self._tk.TclError:
            pass


def open_preview(lang: str = "sv") -> Preview | None:
    """A window when a display exists and Tk works; None otherwise (headless, no python3-tk)."""
    if not display_available():
        return None
    try:
        return Preview(lang)
    except Exception:  # no Tk, display refused: carry on without a window
        return None
