"""Screenshot of the `verify card` preview window on a virtual X display (Xvfb).

    python docs/make_preview_screenshot.py        # writes docs/preview-*.png

Runs the real command against the agency emulator, with a webcam-like photo of the mock card,
and grabs the X screen with `xwd` (Debian: x11-apps) while the verdict banner is showing.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support_camera import card_photo  # noqa: E402
from verify.lookup.emulator import Emulator  # noqa: E402


def read_xwd(data: bytes) -> np.ndarray:
    """XWD (ZPixmap, 24/32 bpp TrueColor) to a BGR image."""
    f = struct.unpack(">25I", data[:100])
    header_size, width, height = f[0], f[4], f[5]
    byte_order, bpp, bytes_per_line, ncolors = f[7], f[11], f[12], f[19]
    if bpp != 32:
        raise ValueError(f"only 32 bits per pixel is handled, not {bpp}")
    start = header_size + 12 * ncolors
    raw = np.frombuffer(data[start:start + bytes_per_line * height], np.uint8)
    px = raw.reshape(height, bytes_per_line)[:, :width * 4].reshape(height, width, 4)
    return px[:, :, :3].copy() if byte_order == 0 else px[:, :, 1:][:, :, ::-1].copy()


def shoot(display: str, token: str, out: Path, lang: str, emu: Emulator, tmp: Path) -> None:
    photo = card_photo(tmp / f"{token}.jpg", emu.url(token), frame=(960, 540), glare=0.6,
                       roll=-12, yaw=18, pitch=-10, card_width_frac=0.55, seed=5)
    env = {**os.environ, **emu.env(), "DISPLAY": display, "PYTHONPATH": str(REPO),
           "VERIFY_PREVIEW_HOLD": "5"}
    proc = subprocess.Popen([sys.executable, "-m", "verify", "card", "--image", str(photo),
                             "--lang", lang], env=env, stdout=subprocess.PIPE, text=True)
    time.sleep(3.0)
    xwd = subprocess.run(["xwd", "-root", "-silent", "-display", display], capture_output=True,
                         check=True).stdout
    proc.wait(20)
    print(proc.stdout.read() if proc.stdout else "")
    img = read_xwd(xwd)
    ys, xs = np.nonzero(img.max(axis=2) > 0)
    img = img[: ys.max() + 1, : xs.max() + 1]
    cv2.imwrite(str(out), img)
    print("wrote", out, img.shape)


def main() -> int:
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1100x700x24", "-nolisten", "tcp"])
    try:
        time.sleep(1.0)
        tmp = Path("/tmp") / f"verify-shots-{os.getpid()}"
        tmp.mkdir(exist_ok=True)
        with Emulator() as emu:
            shoot(display, "VALID0001", REPO / "docs/preview-valid.png", "sv", emu, tmp)
            shoot(display, "NOINFO001", REPO / "docs/preview-not-valid.png", "sv", emu, tmp)
            shoot(display, "ERROR0001", REPO / "docs/preview-unknown.png", "en", emu, tmp)
    finally:
        xvfb.terminate()
        xvfb.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
