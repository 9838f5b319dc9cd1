"""Find a machine-readable zone in a photo and read it; the check digits decide.

Finding (OpenCV): grey → blackhat (dark print on a light card) → horizontal gradient →
closing with a wide kernel, so each printed line becomes one long blob. Zone lines are the
long, thin blobs; their minimum-area rectangles give the skew, the image is turned upright,
and the lowest run of 3 (TD1) or 2 (TD3/TD2) such blobs of equal width and left edge is the
zone. (A zone is printed at a fixed pitch across the whole width, fillers included.)

Reading, two independent readers:
- *OCR-B cells*: the zone's typeface is fixed (OCR-B, 9303 part 3) and so is the pitch, so
  each line is cut into its 30/44/36 character cells and each cell is matched against the
  OCR-B glyphs (Debian `fonts-ocr-b`) by normalised cross-correlation.
- *Tesseract* (Debian `tesseract-ocr`, `eng` data; no OCR-B data is packaged in Debian or on
  PyPI) restricted to A-Z 0-9 `<`.
A read is accepted only when every check digit passes with a real document code and real
states, and every character was seen by one of the readers: the check digits may choose
between the readers where they disagree, never invent a character (`_resolve`; 9303 check
digits cannot see every misread: `<`/`K`, `6`/`G`, two errors that cancel). docs/mrz.md.

Nothing read here is logged: callers get the zone text or None.
"""

from __future__ import annotations

import itertools
import re
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from verify.cards.glyphs import (
    ALPHABET,
    CELL_H,
    CELL_W,
    cap_per_pitch,
    glyphs,
)
from verify.cards.mrz import (
    AMBIGUOUS,
    LAYOUTS,
    LINE_SHAPES,
    STATES,
    TEMPLATES,
    TO_DIGIT,
    TO_LETTER,
    Format,
    Mrz,
    parse_mrz,
)
from verify.errors import ParseError

WORK_WIDTH = 1200
# A zone line (its blob) lower than this many pixels is cut from the full photo or upsampled:
# cells then have enough pixels for the glyph templates (22 × 30).
BAND_LINE_PX = 26
SURE = 0.55  # lowest glyph correlation, and…
MARGIN = 0.08  # …lowest lead over the runner-up, for a character to count as sure
# A glyph matched this well (a sharp photo) is sure with a smaller lead: O against Q, whose
# only difference is a short tail, never leads by more than about 0.08 even when crisp.
CLEAR, CLEAR_MARGIN = 0.9, 0.05
CAP_PER_DIGIT = 69 / 76  # OCR-B capital height over digit height
FLOOR = 0.35  # below this no glyph is there at all (smudge, glare hole): nothing is accepted


Box = tuple[int, int, int, int]  # x, y, width, height


@dataclass(frozen=True)
class Band:
    """A candidate zone, cut out upright (grey), with its line boxes inside the cut."""

    image: np.ndarray
    lines: tuple[tuple[int, int, int, int], ...]  # x, y, w, h per printed line


def _stretch(img: np.ndarray) -> np.ndarray:
    """Full 0-255 contrast (dim photos)."""
    lo, hi = float(img.min()), float(img.max())
    return ((img.astype(np.float32) - lo) * (255.0 / max(hi - lo, 1.0))).astype(np.uint8)


def _to_grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image


def _line_mask(grey: np.ndarray) -> np.ndarray:
    """Long blobs where lines of small dark print sit."""
    w = grey.shape[1]
    unit = max(1, w // 100)
    g = cv2.GaussianBlur(grey, (3, 3), 0)
    black = cv2.morphologyEx(g, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(
        cv2.MORPH_RECT, (unit * 3, unit * 3)))
    grad = np.absolute(cv2.Sobel(black, cv2.CV_32F, 1, 0, ksize=-1))
    lo, hi = float(grad.min()), float(grad.max())
    grad8 = ((grad - lo) / (hi - lo + 1e-6) * 255).astype(np.uint8)
    closed = cv2.morphologyEx(grad8, cv2.MORPH_CLOSE, cv2.getStructuringElement(
        cv2.MORPH_RECT, (unit * 3, 1)))
    _, th = cv2.threshold(closed, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    th = cv2.morphologyEx(th, cv2.MORPH_CLOSE, cv2.getStructuringElement(
        cv2.MORPH_RECT, (unit * 2, max(1, unit // 3))))
    return cv2.morphologyEx(th, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (unit, max(1, unit // 3))))


def _long_blobs(mask: np.ndarray) -> list[tuple[cv2.typing.RotatedRect, Box]]:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    w = mask.shape[1]
    out = []
    for c in contours:
        rect = cv2.minAreaRect(c)
        (_, _), (rw, rh), _ = rect
        long_, short = max(rw, rh), min(rw, rh)
        if long_ >= 0.3 * w and short >= 4 and long_ / short >= 7:
            x, y, w_, h_ = cv2.boundingRect(c)
            out.append((rect, (x, y, w_, h_)))
    return out


def _angle(rect: cv2.typing.RotatedRect) -> float:
    (_, _), (rw, rh), a = rect
    if rw < rh:
        a += 90
    while a > 45:
        a -= 90
    while a < -45:
        a += 90
    return float(a)


def _upright(grey: np.ndarray, angle: float) -> np.ndarray:
    h, w = grey.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(grey, m, (nw, nh), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)


def _merge_rows(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Pieces of one printed line (split by glare or a gap) become one box."""
    boxes = sorted(boxes, key=lambda b: b[1] + b[3] / 2)
    merged: list[list[int]] = []
    for x, y, w, h in boxes:
        cy = y + h / 2
        if merged and abs(cy - (merged[-1][1] + merged[-1][3] / 2)) < 0.5 * max(h, merged[-1][3]):
            mx, my, mw, mh = merged[-1]
            x0, y0 = min(mx, x), min(my, y)
            x1, y1 = max(mx + mw, x + w), max(my + mh, y + h)
            merged[-1] = [x0, y0, x1 - x0, y1 - y0]
        else:
            merged.append([x, y, w, h])
    return [(b[0], b[1], b[2], b[3]) for b in merged]


def _zone_runs(boxes: list[tuple[int, int, int, int]]) -> list[list[tuple[int, int, int, int]]]:
    """Runs of 3 (then 2) consecutive lines of equal width and left edge, lowest first."""
    runs = []
    for size in (3, 2):
        for i in range(len(boxes) - size, -1, -1):
            run = boxes[i:i + size]
            widths = [b[2] for b in run]
            lefts = [b[0] for b in run]
            heights = [b[3] for b in run]
            gaps = [run[k + 1][1] - run[k][1] for k in range(size - 1)]
            # Equal width and left edge; glare may wash out the end of a line, so a shorter
            # line is allowed when the left edges agree.
            if max(lefts) - min(lefts) > 0.04 * max(widths) or max(widths) > 2 * min(widths):
                continue
            if (max(gaps) > 1.6 * min(gaps) or min(gaps) < max(heights)
                    or max(gaps) > 4 * max(heights)):
                continue
            runs.append(run)
    return runs


def find_bands(image: np.ndarray, limit: int = 3) -> Iterator[Band]:
    """Candidate zones, best first, each cut out upright with its line boxes."""
    full = _to_grey(image)
    f = WORK_WIDTH / max(full.shape[1], 1)
    grey = cv2.resize(full, None, fx=f, fy=f,
                      interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    blobs = _long_blobs(_line_mask(grey))
    angles = sorted(_angle(r) for r, _ in blobs)
    angle = angles[len(angles) // 2] if angles else 0.0
    turned = abs(angle) > 0.2
    upright = _upright(grey, angle) if turned else grey
    upright_full: np.ndarray | None = None
    # A photo that needs no turning has its line blobs found already.
    boxes = _merge_rows([b for _, b in (_long_blobs(_line_mask(upright)) if turned else blobs)])
    n = 0
    taken: list[tuple[int, int]] = []
    for run in _zone_runs(boxes):
        span = (run[0][1], run[-1][1] + run[-1][3])
        if any(span[0] < t[1] and t[0] < span[1] for t in taken):
            continue  # two lines of a zone already offered whole
        taken.append(span)
        x0 = min(b[0] for b in run)
        x1 = max(b[0] + b[2] for b in run)
        y0 = min(b[1] for b in run)
        y1 = max(b[1] + b[3] for b in run)
        lh = max(b[3] for b in run)
        px, py = int(lh * 0.8), int(lh * 0.6)
        X0, Y0 = max(0, x0 - px), max(0, y0 - py)
        X1, Y1 = min(upright.shape[1], x1 + px), min(upright.shape[0], y1 + py)
        crop = upright[Y0:Y1, X0:X1]
        if crop.size == 0:
            continue
        lines = [(b[0] - X0, b[1] - Y0, b[2], b[3]) for b in run]
        if lh < BAND_LINE_PX and f < 1:
            # A zone small in a big photo (a whole document, a passport page): cut it from
            # the photo itself, not from the working copy that lost its detail.
            if upright_full is None:
                upright_full = _upright(full, angle) if turned else full
            crop = upright_full[int(Y0 / f):int(Y1 / f), int(X0 / f):int(X1 / f)]
            lines = [tuple(int(v / f) for v in b) for b in lines]  # type: ignore[misc]
            lh = int(lh / f)
        if lh < BAND_LINE_PX:
            up = BAND_LINE_PX / max(lh, 1)
            crop = cv2.resize(crop, None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC)
            lines = [tuple(int(v * up) for v in b) for b in lines]  # type: ignore[misc]
        yield Band(np.ascontiguousarray(crop), tuple(lines))  # type: ignore[arg-type]
        n += 1
        if n >= limit:
            return


# ---------------------------------------------------------------------------------------------
# Reader 1: OCR-B cells

def _median(values: Iterable[float]) -> float:
    return _percentile(list(values), 50)


def _percentile(values: Sequence[float], q: float) -> float:
    """`np.percentile(values, q)` (linear interpolation; q = 50 is the median) of a short
    list: numpy's loads `numpy.ma` on first use, 15-30 ms of a photo's start."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def _ink(img: np.ndarray) -> np.ndarray:
    """Ink mask of a band: local thresholding copes with glare and dim light."""
    blur = cv2.GaussianBlur(img, (3, 3), 0)
    k = max(15, (img.shape[0] // 4) | 1)
    return cv2.adaptiveThreshold(blur, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                 k, 10)


def _glyph_boxes(ink: np.ndarray, box: Box) -> list[Box]:
    x, y, w, h = box
    pad = h // 2
    y0 = max(0, y - pad)
    strip = ink[y0:y + h + pad, max(0, x - pad):x + w + pad]
    n, _, stats, _ = cv2.connectedComponentsWithStats(strip, connectivity=8)
    comps = []
    for i in range(1, n):
        cx, cy, cw, ch, area = stats[i]
        if ch < 0.35 * h or area < 0.02 * h * h or ch > 2.5 * h:
            continue
        comps.append((cx + max(0, x - pad), cy + y0, cw, ch))
    if len(comps) >= 5:
        # Glyphs share one size; a blob much taller or wider than the typical glyph is the
        # document's edge, a shadow or a photo's border next to the line, not a character.
        mh = float(_median(c[3] for c in comps))
        mw = float(_median(c[2] for c in comps))
        comps = [c for c in comps if c[3] <= 1.5 * mh and c[2] <= 2.5 * mw]
    return comps


def _fit_line(comps: list[tuple[int, int, int, int]], width: int,
              pitch: float | None = None) -> tuple[float, float] | None:
    """Left cell centre and pitch of a line of `width` cells from its glyph boxes. With a
    `pitch` (from a longer line of the same zone) only a small correction is allowed."""
    if len(comps) < width * 0.4:
        return None
    comps = sorted(comps, key=lambda c: c[0])
    centres = np.array([c[0] + c[2] / 2 for c in comps], np.float64)
    left = float(centres[0])
    if pitch is None:
        pitch = float(centres[-1] - left) / (width - 1)
    if pitch <= 0:
        return None
    for _ in range(3):  # refine by least squares on the assigned cell indices
        idx = np.round((centres - left) / pitch)
        keep = (idx >= 0) & (idx < width)
        if keep.sum() < 3:
            return None
        if idx[keep].max() - idx[keep].min() < width * 0.8:
            # short: offset only
            left = float(_median((centres[keep] - pitch * idx[keep]).tolist()))
            continue
        a = np.vstack([np.ones(int(keep.sum())), idx[keep]]).T
        sol, *_ = np.linalg.lstsq(a, centres[keep], rcond=None)
        left, pitch = float(sol[0]), float(sol[1])
    return left, pitch


# Which characters may stand where (verify.cards.mrz type templates): n digit, a letter or filler,
# s sex, c check digit or filler, x anything.
_ALLOWED = {
    "n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ<", "s": "MFX<",
    "c": "0123456789<", "x": ALPHABET, "d": "ACIP",  # d: first character of the code
}
_ALLOWED_IDX = {k: np.array([ALPHABET.index(c) for c in v]) for k, v in _ALLOWED.items()}
MAX_COMBOS = 20000


@dataclass(frozen=True)
class CellRead:
    """The glyph matcher's verdict on one band: per cell, the characters still in the race."""

    fmt: str
    options: tuple[tuple[tuple[str, ...], ...], ...]  # per line, per cell: best first
    illegible: tuple[tuple[int, int], ...] = ()  # cells no glyph matches at all
    upside_down: bool = False  # the band was read turned half a turn

    @property
    def text(self) -> str:
        return "\n".join("".join(o[0] for o in line) for line in self.options)

    @property
    def doubtful(self) -> list[tuple[int, int]]:
        return [(li, i) for li, line in enumerate(self.options)
                for i, o in enumerate(line) if len(o) > 1]


def _options(scores: list[np.ndarray], fmt: str) -> CellRead:
    """Per cell, the characters its position allows that score close to the best."""
    tpls = TEMPLATES[fmt]  # type: ignore[index]
    lines = []
    illegible: list[tuple[int, int]] = []
    for li, (row, tpl) in enumerate(zip(scores, tpls, strict=True)):
        out = []
        for pos, (cell, kind) in enumerate(zip(row, tpl, strict=True)):
            idx = _ALLOWED_IDX["d" if (li, pos) == (0, 0) else kind]
            sub = cell[idx]
            order = np.argsort(-sub)
            best = float(sub[order[0]])
            if best < FLOOR:
                illegible.append((li, pos))
            margin = CLEAR_MARGIN if best >= CLEAR else MARGIN
            close = [ALPHABET[idx[k]] for k in order[:4]
                     if best - float(sub[k]) < margin
                     or best < SURE and best - float(sub[k]) < 2 * MARGIN]
            if kind == "x":  # the check digits can tell these pairs apart: keep both in play
                for alt in AMBIGUOUS.get(close[0], ""):
                    if alt not in close and best - float(cell[ALPHABET.index(alt)]) < 2 * MARGIN:
                        close.append(alt)
            out.append(tuple(close))
        lines.append(tuple(out))
    return CellRead(fmt, tuple(lines), tuple(illegible))


@dataclass(frozen=True)
class _LineGeometry:
    """Where a line's cells are: left cell centre, pitch (centre to centre), letter top and
    height, and the glyph's own advance (narrower than the pitch in wide-spaced print)."""

    left: float
    pitch: float
    top: float
    cap: float
    advance: float


Grid = tuple[list[_LineGeometry], float]  # each line's geometry, and how well glyphs sit on it


def _geometry(ink: np.ndarray, band: Band, width: int) -> Grid | None:
    """Each line's geometry for `width` cells per line, and how well the glyphs sit on that
    grid (mean distance of glyph centres from their cell centre, in pitches: small is good).

    Pitch and glyph size are measured separately: passports print OCR-B at 10 per inch with
    the glyph well inside its cell (wide-spaced), cards print it tight; a reader that takes
    the letter height from the pitch mis-cuts one of them (issue 16)."""
    all_comps = [_glyph_boxes(ink, box) for box in band.lines]
    if not all_comps:
        return None
    extents = [max((c[0] + c[2] for c in cs), default=0) - min((c[0] for c in cs), default=0)
               for cs in all_comps]
    longest = _fit_line(all_comps[int(np.argmax(extents))], width)
    fits = []
    residuals = []
    for comps, extent in zip(all_comps, extents, strict=True):
        short = longest is not None and extent < 0.9 * max(extents)
        fit = _fit_line(comps, width, longest[1] if short and longest else None)
        if fit is None:
            return None
        left, pitch = fit
        centres = np.array([c[0] + c[2] / 2 for c in comps], np.float64)
        idx = np.clip(np.round((centres - left) / pitch), 0, width - 1)
        residuals.append(float(np.mean(np.abs(centres - left - idx * pitch))) / pitch)
        fits.append((left, pitch))
    # The lines of a zone share their pitch: a line whose own fit strays (a stray blob at
    # its end) is fitted again at the zone's.
    zone_pitch = float(_median(ft[1] for ft in fits))
    for k, comps in enumerate(all_comps):
        if abs(fits[k][1] - zone_pitch) > 0.02 * zone_pitch:
            refit = _fit_line(comps, width, zone_pitch)
            if refit is None:
                return None
            fits[k] = refit
    # Letter height: digits are the tallest glyphs (about 10 % over a capital), and every
    # zone has a line with digits; the zone's glyphs share one size. Where that agrees with
    # the pitch, the pitch (steadier: blur inflates the measured ink) sets it.
    tallest = max(_percentile([c[3] for c in cs], 90) for cs in all_comps if cs)
    measured = tallest * CAP_PER_DIGIT
    out = []
    for comps, (left, pitch) in zip(all_comps, fits, strict=True):
        from_pitch = pitch * cap_per_pitch()
        cap = min(from_pitch, max(measured, 0.4 * from_pitch))
        if cap < 4:
            return None
        # Baseline from the glyphs that stand on it.
        top_h = _percentile([cc[3] for cc in comps], 90)
        tall = [c for c in comps if c[3] >= 0.8 * top_h]
        bottom = float(_median(c[1] + c[3] for c in tall))
        advance = min(pitch, cap / cap_per_pitch())
        out.append(_LineGeometry(left, pitch, bottom - cap, cap, advance))
    return out, float(np.mean(residuals))


GLYPH_SCALES = (0.8, 0.86, 0.93, 1.0, 1.07)


def _scaled_geometry(g: _LineGeometry, scale: float) -> _LineGeometry:
    """The same line with glyphs `scale` times the size (same baseline, same pitch)."""
    cap = g.cap * scale
    return _LineGeometry(g.left, g.pitch, g.top + g.cap - cap, cap,
                         min(g.pitch, g.advance * scale))


def _flipped(band: Band) -> Band:
    """The band turned half a turn (a document photographed upside down)."""
    h, w = band.image.shape[:2]
    lines = tuple((w - x - bw, h - y - bh, bw, bh) for x, y, bw, bh in reversed(band.lines))
    return Band(np.ascontiguousarray(band.image[::-1, ::-1]), lines)


def _row_scores(img: np.ndarray, g: _LineGeometry, width: int, tmpl: np.ndarray,
                cells: range | None = None) -> np.ndarray:
    """Each cell's best correlation with each glyph: (cells, glyphs)."""
    return _correlate(_row_windows(img, g, cells if cells is not None else range(width)), tmpl)


def _row_windows(img: np.ndarray, g: _LineGeometry, cells: range) -> Windows:
    return _windows([_cell_patch(img, g.left + i * g.pitch, g.advance, g.top, g.cap)
                     for i in cells])


Prepared = tuple[np.ndarray, np.ndarray, Grid | None]  # stretched image, ink, grid


def _prepared(band: Band, width: int) -> Prepared:
    """A band ready to read: contrast stretched, its ink, and its grid for `width` cells
    (None when the glyphs sit on no such grid)."""
    img = _stretch(band.image)
    ink = _ink(img)
    return img, ink, _geometry(ink, band, width)


def _fitness(way: Prepared, width: int, tmpl: np.ndarray) -> float:
    """How well the first cells of the first line match OCR-B (orientation test)."""
    img, _, grid = way
    if grid is None:
        return -1.0
    return float(_row_scores(img, grid[0][0], width, tmpl, range(10)).max(axis=1).mean())


def read_cells(band: Band) -> CellRead | None:
    """Cut each line into its character cells and match every cell against OCR-B (at the
    template blur that fits the photo best). Two-line zones are TD2 or TD3: the cell count
    whose grid the glyphs sit on best decides. The band is read the way up its glyphs match."""
    found = glyphs()
    if found is None:
        return None
    sharp = found.sets[0]  # BLURS[0]: no blur
    rows = len(band.lines)
    shapes = [(fmt, width) for fmt, (r, width) in LINE_SHAPES.items() if r == rows]
    if not shapes:
        return None
    # Both ways up are prepared once: the way the glyphs match is then read as it stands.
    first_fmt, first_width = shapes[0]
    flipped = _flipped(band)
    upright_way, flipped_way = _prepared(band, first_width), _prepared(flipped, first_width)
    upside_down = _fitness(flipped_way, first_width, sharp) > \
        _fitness(upright_way, first_width, sharp)
    if upside_down:
        band = flipped
    img, ink, first_grid = flipped_way if upside_down else upright_way
    fits = [(first_fmt, first_width, first_grid)] + [
        (fmt, width, _geometry(ink, band, width)) for fmt, width in shapes[1:]]
    usable = [(got[1], fmt, width, got[0]) for fmt, width, got in fits if got is not None]
    if not usable:
        return None
    _, fmt, width, geometry = min(usable, key=lambda u: u[0])
    if geometry[0].advance < 0.97 * geometry[0].pitch:
        # Wide-spaced print: the glyph size is measured, not implied by the pitch; blur
        # inflates the ink, so the size whose first cells match best is taken.
        fit_by_scale = {}
        for scale in GLYPH_SCALES:
            g = _scaled_geometry(geometry[0], scale)
            fit_by_scale[scale] = float(_row_scores(img, g, width, sharp, range(14))
                                        .max(axis=1).mean())
        coarse = max(fit_by_scale, key=lambda k: fit_by_scale[k])
        for scale in (coarse - 0.03, coarse + 0.03):
            g = _scaled_geometry(geometry[0], scale)
            fit_by_scale[scale] = float(_row_scores(img, g, width, sharp, range(14))
                                        .max(axis=1).mean())
        scale = max(fit_by_scale, key=lambda k: fit_by_scale[k])
        geometry = [_scaled_geometry(g, scale) for g in geometry]
    # The template blur that fits the first line best serves for the whole zone.
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    first_windows = _row_windows(img, geometry[0], range(width))  # the same at every blur
    for tmpl in found.sets:  # one set per template blur (BLURS)
        first = _correlate(first_windows, tmpl)
        fitness = float(first.max(axis=1).mean())
        if best is None or fitness > best[0]:
            best = (fitness, tmpl, first)
    assert best is not None
    _, tmpl, first = best
    scores = [first] + [_row_scores(img, g, width, tmpl) for g in geometry[1:]]
    read = _options(scores, fmt)
    return CellRead(read.fmt, read.options, read.illegible, upside_down)


def _cell_patch(img: np.ndarray, cx: float, pitch: float, top: float,
                cap: float) -> np.ndarray:
    """One cell scaled to the templates' size, with a margin for a small shift. `pitch` here
    is the glyph's advance: the cell cut around the centre is as wide as the template's."""
    sx, sy = CELL_W / pitch, CELL_H / (cap * 1.4)
    shift = 0.18
    x0 = cx - pitch * (0.5 + shift)
    y0 = top - cap * (0.2 + shift)
    w = pitch * (1 + 2 * shift)
    h = cap * (1.4 + 2 * shift)
    m = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], np.float32)
    out_w, out_h = max(CELL_W, int(round(w * sx))), max(CELL_H, int(round(h * sy)))
    return np.asarray(cv2.warpAffine(img, m, (out_w, out_h), flags=cv2.INTER_AREA,
                                     borderMode=cv2.BORDER_REPLICATE), np.float32)


@dataclass(frozen=True)
class Windows:
    """Every placement of a template in some patches, zero-mean, one row each; `starts[k]` is
    patch k's first row, `flat` the rows with no contrast."""

    rows: np.ndarray
    norms: np.ndarray
    starts: np.ndarray
    flat: np.ndarray


def _windows(patches: list[np.ndarray]) -> Windows:
    views = [np.lib.stride_tricks.sliding_window_view(p, (CELL_H, CELL_W)) for p in patches]
    counts = [v.shape[0] * v.shape[1] for v in views]
    starts = np.cumsum([0] + counts[:-1])
    # Each patch's placements are copied once, straight into their rows (a reshape of the
    # strided view, a concatenation and a cast would copy the whole matrix three times).
    rows = np.empty((sum(counts), CELL_H * CELL_W), np.float32)
    for view, start, count in zip(views, starts, counts, strict=True):
        rows[start:start + count].reshape(view.shape)[...] = view
    rows -= rows.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))
    flat = norms < 1e-3
    return Windows(rows, np.where(flat, 1.0, norms).astype(np.float32), starts, flat)


_NO_ADDEND = np.empty((0, 0), np.float32)  # gemm's third operand, unused (beta = 0)


def _correlate(windows: Windows, tmpl: np.ndarray) -> np.ndarray:
    """For each patch and each template (zero-mean, unit-norm, `CELL_H`×`CELL_W`), the highest
    normalised correlation over the patch's placements: what
    `cv2.matchTemplate(TM_CCOEFF_NORMED)` gives per pair, computed for every cell of a line and
    every glyph in one matrix product (one OpenCV call per pair, or one product per cell,
    cost most of a read). A flat window (no ink, no contrast) correlates with nothing: 0, as
    in OpenCV."""
    # OpenCV's product, not numpy's: numpy's BLAS spreads a product this small over every
    # core and spins waiting for them (ten times slower on a busy desk PC).
    corr = np.asarray(cv2.gemm(windows.rows, np.ascontiguousarray(tmpl.reshape(len(tmpl), -1).T),
                               1.0, _NO_ADDEND, 0.0), np.float32)
    corr /= windows.norms[:, None]
    corr[windows.flat] = 0.0
    best = np.maximum.reduceat(corr, windows.starts, axis=0)
    return np.clip(best, -1.0, 1.0).astype(np.float32)


def _checked_cells(fmt: Format) -> frozenset[tuple[int, int]]:
    """Places some check digit covers (the digits themselves included)."""
    lay = LAYOUTS[fmt]
    cells: set[tuple[int, int]] = set()
    spans = [*lay.composite_parts, lay.number, lay.birth, lay.expiry]
    if lay.optional2_check is not None:
        spans.append(lay.optional1)
    for li, a, b in spans:
        cells.update((li, i) for i in range(a, b))
    for pos in (lay.number_check, lay.birth_check, lay.expiry_check, lay.composite,
                lay.optional2_check):
        if pos is not None:
            cells.add(pos)
    # The nationality and sex sit between checked fields in TD1/TD3 line 2: not checked.
    li, a, b = lay.nationality
    for pos in [lay.sex, *((li, i) for i in range(a, b))]:
        cells.discard(pos)
    return frozenset(cells)


CHECKED = {fmt: _checked_cells(fmt) for fmt in LAYOUTS}


def _state_cells(fmt: Format) -> frozenset[tuple[int, int]]:
    """The issuing state's and nationality's places: no check digit looks there, but
    `plausible` does (a real state code), so a doubt between candidates there is settled when
    exactly one combination names a real state, and rejected when two do."""
    lay = LAYOUTS[fmt]
    return frozenset((li, i) for li, a, b in (lay.state, lay.nationality) for i in range(a, b))


SETTLED = {fmt: CHECKED[fmt] | _state_cells(fmt) for fmt in LAYOUTS}


def plausible(m: Mrz) -> bool:
    """Beyond the check digits: the document code 9303 allows, states that exist."""
    return (m.ok and m.document_code[:1] in "ACIP" and m.issuing_state in STATES
            and m.nationality in STATES)


def _resolve(read: CellRead, other: list[str] | None) -> str | None:
    """The one reading the evidence singles out, or None.

    Where the glyph matcher is in doubt, its close candidates stay open — unless Tesseract's
    line lines up there and reads one of them: then only the matcher's first choice and
    Tesseract's character remain. Every combination is parsed; the survivors pass every check
    digit with a real document code and real states. Accepted only when exactly one survives,
    no doubt is left where no check digit looks, and wherever the survivor departs from the
    matcher's first choice Tesseract read it so: every accepted character was seen by a
    reader, and the check digits only chose between readers that disagreed (at most three
    places). A place where both readers are wrong leaves no survivor, or one that met the
    check digits by chance; few disagreements keep that chance small.
    """
    if read.illegible:
        return None
    first = [[o[0] for o in line] for line in read.options]
    options = [list(line) for line in read.options]
    votes: dict[tuple[int, int], str] = {}
    if other is not None:
        disagree = 0
        for li, i in read.doubtful:
            ch = _aligned_char(other, read, li, i)
            if ch is None or ch not in read.options[li][i]:
                continue  # no usable vote: the matcher's candidates stay open
            votes[(li, i)] = ch
            options[li][i] = (first[li][i],) if ch == first[li][i] else (first[li][i], ch)
            disagree += ch != first[li][i]
        if disagree > 3:
            return None
    cells = [(li, i) for li, line in enumerate(options) for i, o in enumerate(line) if len(o) > 1]
    if any(cell not in SETTLED[read.fmt] for cell in cells):  # type: ignore[index]
        return None  # a doubt where no check digit looks, and no second reader settled it
    n = 1
    for li, i in cells:
        n *= len(options[li][i])
    if n > MAX_COMBOS:
        return None
    base = [list(line) for line in first]
    survivors: list[str] = []
    for combo in itertools.product(*(options[li][i] for li, i in cells)):
        for (li, i), ch in zip(cells, combo, strict=True):
            base[li][i] = ch
        text = "\n".join("".join(line) for line in base)
        try:
            m = parse_mrz(text)
        except ParseError:
            continue
        if plausible(m):
            survivors.append(text)
            if len(survivors) > 1:
                return None
    if len(survivors) != 1:
        return None
    # Where the survivor departs from the matcher's first choice, Tesseract must have said so.
    lines = survivors[0].split("\n")
    for li, i in cells:
        if lines[li][i] != first[li][i] and votes.get((li, i)) != lines[li][i]:
            return None
    return survivors[0]


def _typed(ch: str, kind: str) -> str:
    """What a character must have been, given the kind of place it stands in."""
    if kind in "nc" and not ch.isdigit():
        return TO_DIGIT.get(ch, ch)
    if kind == "a" and ch.isdigit():
        return TO_LETTER.get(ch, ch)
    return ch


def _aligned_char(other: list[str], read: CellRead, li: int, i: int) -> str | None:
    """The other reader's character at (li, i), if its line lines up there with ours (it
    may have dropped or added fillers elsewhere): aligned from the left or from the right,
    at the four places on one side of it it must read one of our candidates."""
    if li >= len(other) or len(other) != len(read.options):
        return None
    theirs, ours = other[li], read.options[li]
    for offset in (0, len(theirs) - len(ours)):  # left-aligned, right-aligned
        j = i + offset
        if not 0 <= j < len(theirs):
            continue
        for side in (range(i - 4, i), range(i + 1, i + 5)):
            near = [k for k in side if 0 <= k < len(ours) and 0 <= k + offset < len(theirs)]
            if len(near) >= 3 and all(theirs[k + offset] in ours[k] for k in near):
                return _typed(theirs[j], TEMPLATES[read.fmt][li][i])  # type: ignore[index]
    return None


# ---------------------------------------------------------------------------------------------
# Reader 2: Tesseract

def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def _tesseract(band: Band) -> str | None:
    if not tesseract_available():
        return None
    import pytesseract

    h = band.image.shape[0]
    scale = max(1.0, min(4.0, 60 * len(band.lines) / max(h, 1)))
    img = cv2.resize(band.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    img = _stretch(img)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    _, img = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    config = (f"--oem 1 --psm 6 -c tessedit_char_whitelist={ALPHABET} "
              "-c load_system_dawg=0 -c load_freq_dawg=0")
    try:
        return str(pytesseract.image_to_string(img, lang="eng", config=config, timeout=10))
    except (RuntimeError, OSError):
        return None


def _tesseract_lines(band: Band) -> list[str] | None:
    """Tesseract's last 2-3 long lines, spaces removed (their fillers may be off)."""
    raw = _tesseract(band)
    if raw is None:
        return None
    lines = [re.sub(r"\s+", "", ln).upper() for ln in raw.splitlines()]
    lines = [ln for ln in lines if len(ln) >= 20]
    rows = len(band.lines)
    return lines[-rows:] if len(lines) >= rows else None


def read_mrz_image(image: np.ndarray, *, use_tesseract: bool = True) -> str | None:
    """The zone in a photo as lines joined by newlines, or None when the evidence does not
    single out one reading whose every check digit passes (see the module text)."""
    fallback: list[tuple[Band, CellRead | None]] = []
    for band in find_bands(image):
        cells = read_cells(band)
        if cells is not None:
            alone = _resolve(cells, None)
            if alone is not None:
                return alone
        fallback.append((band, cells))
    if not use_tesseract or not tesseract_available():
        return None
    for band, cells in fallback:
        if cells is not None and cells.upside_down:
            band = _flipped(band)  # Tesseract reads the way up the glyph matcher did
        other = _tesseract_lines(band)
        if cells is not None and other is not None:
            both = _resolve(cells, other)
            if both is not None:
                return both
        if cells is None and other is not None:
            # No OCR-B font: Tesseract alone, accepted only when it checks with no repair.
            m = _checked("\n".join(other))
            if m is not None and not m.repaired and plausible(m):
                return "\n".join(m.lines)
    return None


def _checked(text: str) -> Mrz | None:
    try:
        m = parse_mrz(text, ocr_tolerant=True)
    except ParseError:
        return None
    return m if m.ok else None


def read_mrz_file(path: str | Path) -> str | None:
    """`read_mrz_image` on a photo read as every still is (`drivers.camera.load_image`: a
    regular file of bounded size, its format sniffed against the allow-list before OpenCV
    decodes it, within the memory budget). A file that is not such an image is a
    `SourceError` saying why; None when the photo holds no zone."""
    from drivers.camera import load_image  # OpenCV's image side; the zone reader needs no more

    return read_mrz_image(load_image(path))


class FrameHook:
    """`verify.cli.capture.NO_CODE_HOOKS` entry: frames with no QR code are read for a zone.

    A still image is read once; a stream at most every `every` seconds (a read costs tenths
    of a second, a camera gives a frame every 33 ms)."""

    def __init__(self, every: float = 0.7) -> None:
        self.every = every
        self._last = -1e9

    def __call__(self, frame: object) -> str | None:

        image = getattr(frame, "image", None)
        if not isinstance(image, np.ndarray):
            return None
        now = time.monotonic()
        if getattr(frame, "index", 0) and now - self._last < self.every:
            return None
        self._last = now
        return read_mrz_image(image)


frame_hook = FrameHook()
