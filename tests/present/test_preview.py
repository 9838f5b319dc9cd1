"""The preview window's behaviour: verdict banners in Swedish and English, Esc ends the camera
loop with a clear message. The window tests run on a real X server (Xvfb)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

import verify.present.preview as preview
from drivers import open_source
from drivers.scan import SourceError
from verify.cli.capture import read_from_frames
from verify.locale import localise
from verify.model import Document, Status, Validity


def status(state: str, work: bool | None = None) -> Status:
    return Status(document=Document(kind="lma"),
                  validity=Validity(state=state, basis="lookup", checked_at=datetime.now(UTC),
                                    detail="", right_to_work=work))  # type: ignore[arg-type]


@pytest.mark.parametrize("state, work, lang, colour, words", [
    ("valid", True, "sv", "valid", "GILTIGT – rätt att arbeta"),
    ("valid", False, "en", "valid", "VALID – no right to work"),
    ("not_valid", None, "sv", "not_valid", "INTE GILTIGT"),
    ("unknown", None, "sv", "unknown", "KAN INTE AVGÖRAS – kontrollera manuellt"),
])
def test_banner_colour_and_words(state, work, lang, colour, words):
    banner = preview.banner_for(status(state, work), lang)
    assert banner.state == colour and banner.text == words
    assert preview.COLOURS[colour][0] == {"valid": "#1e8e3e", "not_valid": "#c5221f",
                                          "unknown": "#f29900"}[colour]


def test_outline_is_drawn_where_the_code_is():
    frame = np.zeros((200, 300, 3), np.uint8)
    shown = preview.annotate(frame, [((50, 50), (150, 50), (150, 150), (50, 150))], "valid")
    assert tuple(shown[50, 100]) == preview.OUTLINE_BGR["valid"]
    assert shown[100, 100].sum() == 0  # inside the outline, the picture is untouched


def test_no_display_no_window(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    assert preview.open_preview() is None


@pytest.fixture
def xvfb(monkeypatch):
    assert shutil.which("Xvfb"), "Xvfb is installed by ./setup.sh test"
    display = f":{os.getpid() % 400 + 100}"
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.7)
    monkeypatch.setenv("DISPLAY", display)
    yield display
    proc.terminate()
    proc.wait(5)


def test_escape_ends_the_camera_loop_with_a_message(xvfb, tmp_path, monkeypatch):
    video = tmp_path / "desk.mp4"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    for i in range(300):
        out.write(np.full((240, 320, 3), 60 + i % 100, np.uint8))
    out.release()
    opened = []

    def open_and_press_escape_soon(lang: str = "sv"):
        window = preview.Preview(lang)
        def press_escape():  # a key press, like the desk's; repeated until the window has focus
            window.root.focus_force()
            window.root.event_generate("<Escape>", when="tail")
            window.root.after(100, press_escape)

        window.root.after(100, press_escape)
        opened.append(window)
        return window

    monkeypatch.setattr(preview, "open_preview", open_and_press_escape_soon)
    with open_source(f"video:{video}") as source:
        with pytest.raises(SourceError) as exc:
            read_from_frames(source, timeout=20, preview=True, show_name=False)
    assert localise(exc.value, "sv").startswith("avbrutet med Esc")
    assert opened and opened[0].cancelled
