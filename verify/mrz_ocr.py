"""Find a machine-readable zone in a photo and read it with Tesseract; check digits decide.

Pipeline (OpenCV): grey → blackhat (dark print on a light card) → horizontal gradient →
closing with a wide kernel (characters → lines) and a square one (lines → block) → the
widest block low on the card. The block's minimum-area rectangle gives the skew; the image
is turned upright and the band cut out, enlarged and read by Tesseract restricted to
A-Z 0-9 `<`. The text is then parsed OCR-tolerantly (verify.mrz): only a read whose every
check digit passes is returned, and only when a second, independently prepared read of the
same band agrees, so a misread that happens to pass the check digits is not accepted alone.

Nothing read here is logged: callers get the zone text or None.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from verify.errors import ParseError
from verify.mrz import Mrz, parse_mrz

WHITELIST = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
WORK_WIDTH = 1200


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


@dataclass(frozen=True)
class Band:
    """A candidate zone, cut out upright, and how sure we are it is one."""

    image: np.ndarray  # grey, upright
    score: float


def _to_grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image


def _text_mask(grey: np.ndarray) -> np.ndarray:
    """Blobs where lines of small dark print sit: blackhat, gradient, closing."""
    h, w = grey.shape
    unit = max(1, w // 100)
    rect = cv2.getStructuringElement(cv2.MORPH_RECT, (unit * 3, unit))
    sq = cv2.getStructuringElement(cv2.MORPH_RECT, (unit * 2, unit * 2))
    g = cv2.GaussianBlur(grey, (3, 3), 0)
    black = cv2.morphologyEx(g, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(
        cv2.MORPH_RECT, (unit * 3, unit * 3)))
    grad = cv2.Sobel(black, cv2.CV_32F, 1, 0, ksize=-1)
    grad = np.absolute(grad)
    lo, hi = float(grad.min()), float(grad.max())
    grad = ((grad - lo) / (hi - lo + 1e-6) * 255).astype(np.uint8)
    grad = cv2.morphologyEx(grad, cv2.MORPH_CLOSE, rect)
    _, th = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    th = cv2.morphologyEx(th, cv2.MORPH_CLOSE, sq)
    th = cv2.erode(th, None, iterations=2)
    return th


def _candidates(grey: np.ndarray) -> list[tuple[float, tuple[tuple[float, float],
                                                             tuple[float, float], float]]]:
    mask = _text_mask(grey)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    h, w = grey.shape
    out = []
    for c in contours:
        rect = cv2.minAreaRect(c)
        (cx, cy), (rw, rh), angle = rect
        if rw < rh:
            rw, rh = rh, rw
            angle += 90
        if rw < 0.25 * w or rh < 4:
            continue
        aspect = rw / rh
        if aspect < 2.5:
            continue
        # Prefer wide blocks, low in the frame, with an MRZ-like aspect (2-3 lines).
        score = rw / w + 0.3 * (cy / h) - 0.05 * abs(np.log(aspect / 7))
        out.append((score, ((cx, cy), (rw, rh), angle)))
    out.sort(key=lambda t: -t[0])
    return out


def _normalise_angle(angle: float) -> float:
    while angle > 45:
        angle -= 90
    while angle < -45:
        angle += 90
    return angle


def _upright(grey: np.ndarray, angle: float) -> np.ndarray:
    h, w = grey.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(grey, m, (nw, nh), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)


def find_bands(image: np.ndarray, limit: int = 3) -> Iterator[Band]:
    """Candidate zones, best first: deskew on the best block, then cut the block out."""
    grey = _to_grey(image)
    f = WORK_WIDTH / grey.shape[1]
    grey = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1
                      else cv2.INTER_CUBIC)
    first = _candidates(grey)
    angles = [0.0]
    if first:
        a = _normalise_angle(first[0][1][2])
        if abs(a) > 0.3:
            angles.insert(0, a)
    seen = 0
    for angle in angles:
        upright = _upright(grey, angle) if angle else grey
        for score, ((cx, cy), (rw, rh), _a) in _candidates(upright)[:limit]:
            pad_x, pad_y = rw * 0.04 + 6, rh * 0.25 + 6
            x0, x1 = int(max(0, cx - rw / 2 - pad_x)), int(min(upright.shape[1], cx + rw / 2 + pad_x))
            y0, y1 = int(max(0, cy - rh / 2 - pad_y)), int(min(upright.shape[0], cy + rh / 2 + pad_y))
            crop = upright[y0:y1, x0:x1]
            if crop.size == 0:
                continue
            yield Band(crop, score)
            seen += 1
            if seen >= limit:
                return


def _prepare(band: np.ndarray, how: str) -> np.ndarray:
    """Two independent preparations: Otsu binarisation, and a sharpened grey image."""
    h = band.shape[0]
    # About 40 px per text line for 2-3 lines suits Tesseract's LSTM best.
    scale = max(1.0, min(4.0, 170 / max(h, 1)))
    img = cv2.resize(band, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX)
    if how == "otsu":
        img = cv2.GaussianBlur(img, (3, 3), 0)
        _, img = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    elif how == "sharp":
        blur = cv2.GaussianBlur(img, (0, 0), 2)
        img = cv2.addWeighted(img, 1.6, blur, -0.6, 0)
    elif how == "adaptive":
        img = cv2.adaptiveThreshold(img, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                    cv2.THRESH_BINARY, 31, 12)
    return cv2.copyMakeBorder(img, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)


def _tesseract(img: np.ndarray) -> str:
    import pytesseract

    config = f"--oem 1 --psm 6 -c tessedit_char_whitelist={WHITELIST} -c load_system_dawg=0 -c load_freq_dawg=0"
    return str(pytesseract.image_to_string(img, lang="eng", config=config))


def zone_lines(text: str) -> str | None:
    """The zone's lines from OCR text: the last 3 (TD1) or 2 (TD3/TD2) long lines."""
    lines = [re.sub(r"\s+", "", ln).upper() for ln in text.splitlines()]
    lines = [ln for ln in lines if len(ln) >= 20]
    for rows, width in ((3, 30), (2, 44), (2, 36)):
        if len(lines) >= rows:
            tail = lines[-rows:]
            if all(abs(len(ln) - width) <= 4 for ln in tail):
                return "\n".join(tail)
    return None


def _read(band: Band, how: str) -> Mrz | None:
    text = zone_lines(_tesseract(_prepare(band.image, how)))
    if text is None:
        return None
    try:
        m = parse_mrz(text, ocr_tolerant=True)
    except ParseError:
        return None
    return m if m.ok else None


PREPARATIONS = ("otsu", "sharp", "adaptive")


def read_mrz_image(image: np.ndarray) -> str | None:
    """The zone in a photo as three (or two) lines, or None when no read passes every check
    digit and is confirmed by a second read of the same band."""
    if not tesseract_available():
        return None
    for band in find_bands(image):
        reads: list[Mrz] = []
        for how in PREPARATIONS:
            m = _read(band, how)
            if m is None:
                continue
            for earlier in reads:
                if earlier.lines == m.lines:
                    return "\n".join(m.lines)
            reads.append(m)
    return None


def read_mrz_file(path: str | Path) -> str | None:
    """`read_mrz_image` on a file; None when it is not an image."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        return None
    return read_mrz_image(image)
