"""The OCR-B glyphs a zone's cells are matched against, rendered once and then kept.

Rendering the 37 zone characters from the font (Debian `fonts-ocr-b`) at three blurs costs
Pillow's import and about 0.1 s, a fifth of a UT card photo's budget, on every command. The
templates depend only on the font file and on the geometry below, so they are kept in the
user's cache folder (`~/.cache/verify` on Linux; nothing read from a card is ever in it),
under a name that changes with the font file and this geometry. A cache that cannot be read
or written (no home, a read-only disk, a file planted there that is not ours) is ignored: the
glyphs are rendered as before.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from drivers.files import FileRefused, read_bounded
from verify.locations import user_cache_dir

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
OCRB_PATHS = ("/usr/share/fonts/opentype/ocr-b/OCRB.otf",
              "/usr/share/fonts/truetype/ocr-b/OCRB.ttf")
CELL_W, CELL_H = 22, 30  # template geometry (pixels) every cell is scaled to
BLURS = (0.0, 2.5, 5.0)  # template blur (sigma in pixels at 96 px font size) for blurred photos
FONT_PX = 96
SHAPE = (len(BLURS), len(ALPHABET), CELL_H, CELL_W)
# Changes whenever the rendering below changes, so an older cache is never read.
RENDERING = f"v1 {ALPHABET} {CELL_W}x{CELL_H} {BLURS} {FONT_PX} cv2 {cv2.__version__}"
CACHE_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class Glyphs:
    """Zero-mean unit-norm templates, `sets[i]` at `BLURS[i]`, in `ALPHABET` order; and the
    letter height over the character pitch (about 1.0 in OCR-B)."""

    sets: np.ndarray  # SHAPE, float32
    cap_per_pitch: float


def font_path() -> str | None:
    for p in OCRB_PATHS:
        if Path(p).exists():
            return p
    return None


def normalised(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float32) - float(a.mean())
    return a / (float(np.linalg.norm(a)) + 1e-6)


@lru_cache(maxsize=1)
def glyphs() -> Glyphs | None:
    """The templates (None without the OCR-B font): from the cache, else rendered and kept."""
    path = font_path()
    if path is None:
        return None
    cache = cache_file(path)
    kept = load(cache) if cache is not None else None
    if kept is not None:
        return kept
    made = render(path)
    if cache is not None:
        store(cache, made)
    return made


def templates(blur: float = 0.0) -> np.ndarray | None:
    """Each zone character in OCR-B (one per row of the first axis, in `ALPHABET` order), cut
    the way cells are cut: one pitch wide, cap height plus a fifth above and below, zero-mean
    unit-norm; at one of `BLURS`."""
    found = glyphs()
    if found is None:
        return None
    return found.sets[BLURS.index(float(blur))]


def cap_per_pitch() -> float:
    found = glyphs()
    return 1.0 if found is None else found.cap_per_pitch


def cache_file(font: str) -> Path | None:
    try:
        st = os.stat(font)
        folder = user_cache_dir()
    except OSError:
        return None
    key = hashlib.sha256(f"{RENDERING} {font} {st.st_size} {st.st_mtime_ns}".encode())
    return folder / f"ocrb-glyphs-{key.hexdigest()[:16]}.npy"


def load(cache: Path) -> Glyphs | None:
    """The kept set: one flat float32 array, the letter-to-pitch ratio then the templates (a
    plain `.npy`: an `.npz` would load zipfile support at every start)."""
    try:
        data = read_bounded(cache, CACHE_MAX_BYTES)
        flat = np.load(io.BytesIO(data), allow_pickle=False)
    except (FileRefused, OSError, ValueError, EOFError):
        return None
    size = 1 + int(np.prod(SHAPE))
    if not isinstance(flat, np.ndarray) or flat.dtype != np.float32 or flat.shape != (size,) \
            or not np.isfinite(flat).all():
        return None
    return Glyphs(flat[1:].reshape(SHAPE), float(flat[0]))


def store(cache: Path, made: Glyphs) -> None:
    """Written whole or not at all (a temporary file renamed), so a reader never sees half."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".glyphs-", suffix=".npy")
        flat = np.concatenate([[np.float32(made.cap_per_pitch)], made.sets.ravel()])
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, flat, allow_pickle=False)
            os.replace(tmp, cache)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # no cache this time: the next command renders again


def render(path: str) -> Glyphs:
    from PIL import Image, ImageDraw, ImageFont  # only when the cache has no templates

    font = ImageFont.truetype(path, FONT_PX)
    advance = font.getlength("H")
    top, bottom = font.getbbox("H")[1], font.getbbox("H")[3]
    cap = bottom - top
    sharp = []
    for ch in ALPHABET:
        canvas = Image.new("L", (int(advance * 3), int(FONT_PX * 2)), 255)
        ImageDraw.Draw(canvas).text((advance, FONT_PX * 0.5), ch, font=font, fill=0)
        sharp.append(np.array(canvas, np.float32))
    y0 = int(FONT_PX * 0.5 + top - cap * 0.2)
    y1 = int(FONT_PX * 0.5 + bottom + cap * 0.2)
    x0, x1 = int(advance), int(advance * 2)
    sets = np.empty((len(BLURS), len(ALPHABET), CELL_H, CELL_W), np.float32)
    for i, blur in enumerate(BLURS):
        for j, arr in enumerate(sharp):
            if blur:
                arr = np.asarray(cv2.GaussianBlur(arr, (0, 0), blur), np.float32)
            cell = cv2.resize(arr[y0:y1, x0:x1], (CELL_W, CELL_H), interpolation=cv2.INTER_AREA)
            sets[i, j] = normalised(cell)
    return Glyphs(sets, float(cap) / float(advance))
