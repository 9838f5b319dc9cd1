"""Find and decode QR codes in camera frames and photos: a cascade of decoders and image variants.

Why a cascade: no single open decoder reads every card a hand holds in front of a webcam.
zxing-cpp is fast and reads most frames; zbar reads some that zxing misses; preprocessing
(contrast for dim rooms, flat-fielding for laminate glare, sharpening for blur, a scale pyramid
for far or huge codes, binarisation variants, inversion) rescues more. Steps run cheapest first
and the cascade stops at the first good decode.

Every decoder used here only reports a code whose Reed-Solomon error correction succeeded, so a
variant can make a code readable but cannot invent one; the variants are still checked against
the `falsepositives-*` corpus (see bench/decode_bench.py and tests/test_decode.py).

Still images get the whole cascade (`Cascade.decode`); a caller with other readers for the
same photo (a UT card's zone) can first take the cheap steps alone (`Cascade.decode_quick`),
as `drivers.camera.ImageSource` does. A stream gets a per-frame time budget
(`Cascade.decode_frame`): the cheap first step on every frame, the expensive steps spread over
consecutive frames with the budget a frame leaves unused, so a 1080p stream is processed live.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp

Corners = tuple[tuple[int, int], ...]

QRCODE = "QRCODE"

# zbar is slow on big frames (about 50 ms at 1080p on one core); it gets a smaller copy.
ZBAR_MAX_SIDE = 1280
# Upscaling is for small codes in small images; a 1080p frame is already big enough.
UPSCALE_MAX_SIDE = 1300
# OpenCV's detectors are the slowest; they see at most this size.
OPENCV_MAX_SIDE = 1280
# Deconvolution (FFT) works on at most this size; beyond it the cost is not worth it.
DEBLUR_MAX_SIDE = 1280
# Stills bigger than this a side are searched in pieces of at most this side (`_decode_big`):
# the search then needs about the same memory for a 16 MP photo as for a 2 MP one. Every
# committed fixture and corpus image is smaller, so their search is unchanged.
SEARCH_MAX_SIDE = 1920
TILE_OVERLAP = 480
# The reduced copy and the full-resolution window get the whole cascade at this side (below
# the 1280 its slow steps are fitted to: deconvolution spectra grow with the square).
PIECE_SIDE = 1024
# Until a step has run once in a stream, assume it costs this much per megapixel of frame
# (pessimistic: the slow steps measure 10-40 ms/MP on a laptop core), so it runs only when
# the credit can pay for it and a first run cannot stall a frame.
UNKNOWN_COST_MS_PER_MP = 30.0
# A still's quick look (`Cascade.decode_quick`) runs this many of the first steps: zxing-cpp
# with its two binarisers, a few milliseconds each even on a 2 MP photo, reading most cards
# photographed in focus. Everything after them costs tens to hundreds of milliseconds.
QUICK_STEPS = 2


@dataclass(frozen=True)
class Decoded:
    """One decoded code, shaped like zxing-cpp's `Barcode`: text, raw bytes, format, position.

    `corners` are in the coordinates of the image given to the cascade (top-left first,
    clockwise); `decoder` and `variant` say which step read it (diagnostics, benchmarks).
    """

    text: str
    bytes: bytes
    symbology: str
    corners: Corners
    decoder: str
    variant: str

    @property
    def format(self) -> str:
        return self.symbology


# --------------------------------------------------------------------------------------------
# Decoders: gray uint8 image in, results out (corners in that image's coordinates).


def _zxing(gray: np.ndarray, binarizer: zxingcpp.Binarizer | None = None) -> list[Decoded]:
    kwargs: dict[str, object] = {"formats": zxingcpp.BarcodeFormat.QRCode,
                                 "text_mode": zxingcpp.TextMode.Plain}
    if binarizer is not None:
        kwargs["binarizer"] = binarizer
    out = []
    for b in zxingcpp.read_barcodes(gray, **kwargs):  # type: ignore[arg-type]
        if not b.valid:
            continue
        p = b.position
        corners = tuple((int(q.x), int(q.y)) for q in
                        (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
        out.append(Decoded(b.text, bytes(b.bytes), QRCODE, corners, "zxing-cpp", ""))
    return out


def _zbar(gray: np.ndarray) -> list[Decoded]:
    # zbar (ctypes bindings loading libzbar, about 12 ms) is the cascade's second decoder: a
    # photo whose quick look or zone answers, and a stream zxing-cpp reads, never load it.
    from pyzbar import pyzbar

    out = []
    for s in pyzbar.decode(gray, symbols=[pyzbar.ZBarSymbol.QRCODE]):
        data = bytes(s.data)
        corners = tuple((int(p.x), int(p.y)) for p in s.polygon)
        out.append(Decoded(data.decode("utf-8", errors="replace"), data, QRCODE, corners,
                           "zbar", ""))
    return out


class _OpenCV:
    """OpenCV's detectors, created once (their constructors are not free)."""

    def __init__(self) -> None:
        self.aruco = cv2.QRCodeDetectorAruco()
        self.classic = cv2.QRCodeDetector()

    def decode(self, gray: np.ndarray, which: str = "aruco") -> list[Decoded]:
        det = self.aruco if which == "aruco" else self.classic
        try:
            ok, texts, points, _ = det.detectAndDecodeMulti(gray)
        except (cv2.error, UnicodeDecodeError):
            # Kanji/ECI modes are not implemented and binary payloads are not UTF-8: no result.
            return []
        if not ok or points is None:
            return []
        out = []
        for text, pts in zip(texts, points, strict=False):
            if not text:
                continue
            corners = tuple((int(x), int(y)) for x, y in pts)
            out.append(Decoded(text, text.encode("utf-8"), QRCODE, corners,
                               f"opencv-{which}", ""))
        return out


_OPENCV: _OpenCV | None = None


def _opencv(gray: np.ndarray, which: str) -> list[Decoded]:
    global _OPENCV  # a cache of stateless detector objects, not decoder state
    if _OPENCV is None:
        _OPENCV = _OpenCV()
    return _OPENCV.decode(gray, which)


ZX_HIST = zxingcpp.Binarizer.GlobalHistogram
ZX_FIXED = zxingcpp.Binarizer.FixedThreshold

# --------------------------------------------------------------------------------------------
# Image variants: gray in, (variant image, scale factor variant/original) out.


def _fit(gray: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    side = max(gray.shape[:2])
    if side <= max_side:
        return gray, 1.0
    f = max_side / side
    return cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), f


def _scaled(gray: np.ndarray, f: float) -> tuple[np.ndarray, float]:
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    return cv2.resize(gray, None, fx=f, fy=f, interpolation=interp), f


def stretch(img: np.ndarray) -> np.ndarray:
    """Linear stretch to the full 0..255 range (uint8 out).

    A uint8 image goes through a 256-entry table (same float32 arithmetic, same result) instead
    of a float copy of the frame: four bytes a pixel less on a 16-megapixel photo."""
    lo, hi = float(img.min()), float(img.max())
    if hi <= lo:
        return np.zeros(img.shape, np.uint8)
    if img.dtype == np.uint8:
        table = ((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)))
        return cv2.LUT(img, np.clip(table, 0, 255).astype(np.uint8))
    return ((img.astype(np.float32) - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def clahe(gray: np.ndarray) -> np.ndarray:
    """Local contrast for dim rooms and low-contrast prints."""
    return cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(gray)


# Rows per strip when a whole-frame float image is computed piecewise (bounded working memory).
STRIP_ROWS = 256


def flatten(gray: np.ndarray) -> np.ndarray:
    """Divide out the illumination (laminate glare, a lamp on one side): flat-field correction.

    The ratio image is computed in strips of rows, twice (its range, then the stretched uint8
    result), so the working memory is the 8-bit background plus a strip of floats, not three
    float copies of the frame (about 190 MB on a 16-megapixel photo)."""
    k = max(15, (min(gray.shape[:2]) // 8) | 1)
    background = cv2.GaussianBlur(gray, (k, k), 0)

    def ratio(r0: int) -> np.ndarray:
        rows = slice(r0, r0 + STRIP_ROWS)
        return gray[rows].astype(np.float32) / (background[rows].astype(np.float32) + 1.0)

    starts = range(0, gray.shape[0], STRIP_ROWS)
    lo = min(float(ratio(r).min()) for r in starts)
    hi = max(float(ratio(r).max()) for r in starts)
    out = np.zeros(gray.shape, np.uint8)
    if hi <= lo:
        return out
    for r in starts:
        out[r:r + STRIP_ROWS] = ((ratio(r) - lo) * (255.0 / (hi - lo))).astype(np.uint8)
    return out


def _percentile_u8(gray: np.ndarray, q: float) -> float:
    """`np.percentile(gray, q)` (linear interpolation) of a uint8 image from its histogram,
    without the sorted float copy numpy makes (128 MB on a 16-megapixel photo)."""
    counts = sum((np.bincount(gray[r:r + STRIP_ROWS].ravel(), minlength=256)
                  for r in range(0, gray.shape[0], STRIP_ROWS)), np.zeros(256, np.int64))
    counts = counts.cumsum()
    pos = (gray.size - 1) * q / 100.0
    below = int(np.floor(pos))
    lo = int(np.searchsorted(counts, below, side="right"))
    hi = int(np.searchsorted(counts, below + 1, side="right")) if below + 1 < gray.size else lo
    return lo + (pos - below) * (hi - lo)


def deglare(gray: np.ndarray) -> np.ndarray:
    """Clip blown-out highlights to the paper level, then stretch: glare stops looking like white
    modules next to dark ones, and the binariser's threshold is no longer dragged up."""
    hi = _percentile_u8(gray, 80)
    table = np.minimum(np.arange(256, dtype=np.float64), hi)
    lo, top = float(table[gray.min()]), float(table[gray.max()])
    if top <= lo:
        return np.zeros(gray.shape, np.uint8)
    table = (table.astype(np.float32) - lo) * (255.0 / (top - lo))
    return cv2.LUT(gray, np.clip(table, 0, 255).astype(np.uint8))


def sharpen(gray: np.ndarray) -> np.ndarray:
    """Unsharp mask: steepens module edges softened by focus or motion blur."""
    blurred = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return cv2.addWeighted(gray, 2.0, blurred, -1.0, 0)


def sharpen_hard(gray: np.ndarray) -> np.ndarray:
    """A stronger, wider unsharp mask for codes a few pixels per module under defocus."""
    blurred = cv2.GaussianBlur(gray, (0, 0), 3.0)
    return cv2.addWeighted(gray, 2.5, blurred, -1.5, 0)


def _wiener(gray: np.ndarray, kernel: np.ndarray, k: float = 0.01) -> np.ndarray:
    """Wiener deconvolution with a known blur kernel (FFT; the image is treated as periodic)."""
    h, w = gray.shape[:2]
    kh, kw = kernel.shape
    if kh > h or kw > w:
        return gray  # a blur wider than the image: nothing to restore (a tiny window)
    psf = np.zeros((h, w), np.float32)
    psf[:kh, :kw] = kernel / kernel.sum()
    psf = np.roll(psf, (-(kh // 2), -(kw // 2)), (0, 1))
    otf = np.fft.rfft2(psf)
    img = np.fft.rfft2(gray.astype(np.float32) / 255.0)
    out = np.fft.irfft2(img * np.conj(otf) / (np.abs(otf) ** 2 + k), s=(h, w))
    return np.clip(out * 255.0, 0, 255).astype(np.uint8)


def disc_kernel(radius: float) -> np.ndarray:
    """Out-of-focus blur: a uniform disc."""
    n = int(np.ceil(radius))
    yy, xx = np.mgrid[-n:n + 1, -n:n + 1]
    return (xx**2 + yy**2 <= radius * radius).astype(np.float32)


def line_kernel(length: float, angle_deg: float) -> np.ndarray:
    """Motion blur: a line of `length` px at `angle_deg` (counter-clockwise, y down)."""
    n = int(np.ceil(length)) | 1
    k = np.zeros((n, n), np.float32)
    k[n // 2, :] = 1.0
    m = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), angle_deg, 1.0)
    return cv2.warpAffine(k, m, (n, n))


def motion_direction(gray: np.ndarray) -> tuple[float, float]:
    """Direction of motion blur (degrees, kernel convention) and anisotropy (min/max gradient
    energy; near 1 means no directional blur). Blur removes gradients along its direction."""
    g = gray.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jyy, jxy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    strongest = 0.5 * np.arctan2(2 * jxy, jxx - jyy)
    half_tr = (jxx + jyy) / 2
    disc = float(np.sqrt(max(half_tr**2 - (jxx * jyy - jxy**2), 0.0)))
    ratio = (half_tr - disc) / (half_tr + disc) if half_tr > 0 else 1.0
    return float(np.degrees(-(strongest + np.pi / 2)) % 180.0), ratio


# Motion blur shows as gradient energy this lopsided (min/max) or more; sharp frames are ~0.8-1.
MOTION_ANISOTROPY = 0.7


def _deblur_motion(gray: np.ndarray) -> list[Decoded]:
    """Estimate the blur direction, then try a few blur lengths (stop at the first decode)."""
    angle, ratio = motion_direction(gray)
    if ratio > MOTION_ANISOTROPY:
        return []
    for length in (3.0, 5.0, 8.0, 12.0):
        sharp = _wiener(gray, line_kernel(length, angle))
        found = _zxing(sharp) or _zxing(sharp, ZX_FIXED)
        if found:
            return found
    return []


def code_window(gray: np.ndarray, frac: float = 0.14) -> tuple[int, int, int, int]:
    """The square (x0, y0, x1, y1) around the densest edges in the frame: a QR code has more
    edges per area than anything else on a card or desk. Blur estimation and deconvolution on
    this crop see the code, not the background, and cost a fraction of the whole frame."""
    h, w = gray.shape[:2]
    f = 256 / max(h, w)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA).astype(np.float32)
    energy = (np.abs(cv2.Sobel(small, cv2.CV_32F, 1, 0))
              + np.abs(cv2.Sobel(small, cv2.CV_32F, 0, 1)))
    energy = cv2.boxFilter(energy, -1, (31, 31))
    y, x = np.unravel_index(int(np.argmax(energy)), energy.shape)
    cx, cy, r = int(x / f), int(y / f), int(frac * max(h, w))
    return max(0, cx - r), max(0, cy - r), min(w, cx + r), min(h, cy + r)


# (Wiener noise-to-signal, blur lengths in px, angle offsets in degrees around the estimated
# direction). The estimate is within about 10 degrees on a code of normal size, 15 on a small
# one; the length is unknown. The second pass (wider angles, less regularisation) is for long
# blur, where a small angle error or over-smoothing leaves modules merged.
LOCAL_MOTION_PASSES: tuple[tuple[float, tuple[float, ...], tuple[float, ...]], ...] = (
    (0.01, (3.0, 4.5, 6.0, 8.0, 10.0, 12.5, 15.0), (0.0, -8.0, 8.0)),
    (0.003, (6.0, 8.0, 10.0, 12.5, 15.0), (0.0, -8.0, 8.0, -16.0, 16.0)),
)


def _deblur_motion_local(gray: np.ndarray) -> list[Decoded]:
    """Motion deblurring on the code's window: the direction estimated there (not from the
    whole frame, where the background's blurred shapes mislead it), a grid of lengths and
    three nearby angles. Results are shifted back into the frame's coordinates."""
    x0, y0, x1, y1 = code_window(gray)
    crop = np.ascontiguousarray(gray[y0:y1, x0:x1])
    if min(crop.shape[:2]) < 32:
        return []
    angle, ratio = motion_direction(crop)
    if ratio > MOTION_ANISOTROPY:
        return []
    for k, lengths, angles in LOCAL_MOTION_PASSES:
        for length in lengths:
            for da in angles:
                sharp = _wiener(crop, line_kernel(length, angle + da), k)
                found = _zxing(sharp) or _zxing(sharp, ZX_FIXED)
                if found:
                    return [Decoded(d.text, d.bytes, d.symbology,
                                    tuple((x + x0, y + y0) for x, y in d.corners), d.decoder, "")
                            for d in found]
    return []


# --------------------------------------------------------------------------------------------
# The code's patch: small and blurred codes. A code of 1.5-2.5 pixels per module in a 640×480
# frame is too small for any decoder's sampling grid and too blurred for its binariser; the
# whole frame is too big to upsample and deconvolve within a frame's budget. The code's window
# (densest edges, `code_window`) is cheap to find; there the budget buys what a whole frame
# cannot: upsampling to about 4 pixels per module (bicubic keeps the module edges steep),
# flat-fielding at the module scale (glare), and deconvolution at a grid of blur sizes scaled
# to the upsampling.

PATCH_SIDE = 720  # upsampled patch side: ~4 px/module for a code filling a third of the window
PATCH_MAX_FACTOR = 4.0
DEBLUR_PATCH_FACTOR = 2.5  # deconvolution's upsampling (then bicubic the rest of the way)


def _patch(gray: np.ndarray) -> tuple[np.ndarray, float, int, int]:
    """(upsampled patch, factor, x0, y0) of the code's window."""
    x0, y0, x1, y1 = code_window(gray)
    crop = gray[y0:y1, x0:x1]
    f = float(np.clip(PATCH_SIDE / max(1, max(crop.shape[:2])), 1.0, PATCH_MAX_FACTOR))
    up = crop if f == 1.0 else cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(up), f, x0, y0


def _flat_patch(up: np.ndarray, f: float) -> np.ndarray:
    """Divide out light that varies over more than a few modules (glare on the laminate)."""
    bg = cv2.GaussianBlur(up.astype(np.float32), (0, 0), 6.0 * f) + 1.0
    return stretch(up.astype(np.float32) / bg)


def _zxing_any(img: np.ndarray) -> list[Decoded]:
    return _zxing(img) or _zxing(img, ZX_HIST) or _zxing(img, ZX_FIXED)


def _from_patch(found: list[Decoded], f: float, x0: int, y0: int) -> list[Decoded]:
    return [Decoded(d.text, d.bytes, d.symbology,
                    tuple((round(x / f) + x0, round(y / f) + y0) for x, y in d.corners),
                    d.decoder, "") for d in found]


def _patch_variants(gray: np.ndarray, deblur: bool) -> list[Decoded]:
    """Upsampled window as is, flat-fielded, sharpened; with `deblur`, Wiener deconvolution
    for defocus (disc) and motion (line along the patch's own blur direction). Deconvolution
    runs at a smaller upsampling (its FFTs cost the square of the side) and its result is
    upsampled the rest of the way for the decoder."""
    if min(gray.shape[:2]) < 32:
        return []
    up, f, x0, y0 = _patch(gray)
    if not deblur:
        flat = _flat_patch(up, f)
        for img in (up, flat, sharpen(flat)):
            found = _zxing_any(img)
            if found:
                return _from_patch(found, f, x0, y0)
        return []
    fd = min(f, DEBLUR_PATCH_FACTOR)
    small = cv2.resize(up, None, fx=fd / f, fy=fd / f, interpolation=cv2.INTER_AREA)
    flat = _flat_patch(small, fd)
    angle, ratio = motion_direction(small)

    def deblurred() -> Iterator[np.ndarray]:
        for r in (1.0, 1.5, 2.0):
            yield _wiener(flat, disc_kernel(r * fd), 0.02)
        if ratio <= MOTION_ANISOTROPY + 0.15:
            for length in (2.0, 3.0, 4.0, 5.5):
                for da in (0.0, -10.0, 10.0):
                    yield _wiener(small, line_kernel(length * fd, angle + da), 0.01)

    for img in deblurred():
        big = cv2.resize(img, None, fx=f / fd, fy=f / fd, interpolation=cv2.INTER_CUBIC)
        found = _zxing(big) or _zxing(big, ZX_FIXED)
        if found:
            return _from_patch(found, f, x0, y0)
    return []


# Defocus radii (source pixels) for the wide pass: a code held too close to a fixed-focus
# webcam, or far from an autofocus that settled on the face. The first pass's radii (1-2 px,
# on the flattened patch) miss both ends: a 4-6 px disc on a 2 px/module code, and a 1 px disc
# that the flattening's stretch leaves too noisy. Measured on the desk sets (bench/sets.py):
# the defocus misses all read with the true radius on the unflattened patch.
WIDE_DEFOCUS_RADII = (1.0, 1.5, 2.5, 3.0, 4.0, 5.0, 6.0)
WIDE_DEFOCUS_FACTOR = 2.0  # deconvolution's upsampling here (radii up to 12 px in the patch)


def _patch_defocus_wide(gray: np.ndarray) -> list[Decoded]:
    """Wiener deconvolution of the code's window with a disc of each `WIDE_DEFOCUS_RADII`, on
    the patch as it is (no flat-fielding), upsampled the rest of the way for the decoder."""
    if min(gray.shape[:2]) < 32:
        return []
    up, f, x0, y0 = _patch(gray)
    fd = min(f, WIDE_DEFOCUS_FACTOR)
    small = up if fd == f else cv2.resize(up, None, fx=fd / f, fy=fd / f,
                                           interpolation=cv2.INTER_AREA)
    for r in WIDE_DEFOCUS_RADII:
        kernel = disc_kernel(r * fd)
        if 4 * kernel.shape[0] > min(small.shape[:2]):
            break  # a blur a quarter of the window wide has no code left to restore
        sharp = _wiener(small, kernel, 0.01)
        big = sharp if fd == f else cv2.resize(sharp, None, fx=f / fd, fy=f / fd,
                                                interpolation=cv2.INTER_CUBIC)
        found = _zxing(big) or _zxing(big, ZX_FIXED)
        if found:
            return _from_patch(found, f, x0, y0)
    return []


def _deblur_focus(gray: np.ndarray) -> list[Decoded]:
    for radius in (2.0, 3.0):
        sharp = _wiener(gray, disc_kernel(radius))
        found = _zxing(sharp) or _zxing(sharp, ZX_FIXED)
        if found:
            return found
    return []


def denoise(gray: np.ndarray) -> np.ndarray:
    """A light blur: sensor noise, JPEG blocks, halftone and moiré stop splitting modules."""
    return cv2.GaussianBlur(gray, (5, 5), 0)


def otsu(gray: np.ndarray) -> np.ndarray:
    _, bw = cv2.threshold(cv2.GaussianBlur(gray, (3, 3), 0), 0, 255,
                          cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return bw


def adaptive(gray: np.ndarray) -> np.ndarray:
    block = max(15, (min(gray.shape[:2]) // 20) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                 cv2.THRESH_BINARY, block, 5)


# --------------------------------------------------------------------------------------------
# Frames that add up. A small code held still in front of a webcam is in every frame, each
# copy under fresh sensor noise and JPEG artefacts, each a fraction of a pixel elsewhere (the
# hand trembles). Registered and averaged, N frames have about √N less noise, and because the
# sub-pixel shifts differ, averaging on an upsampled grid (shift-and-add) recovers some of the
# detail one frame's sampling lost. Used only when no single frame decodes.


# What the combined window is decoded after, one per attempt: (disc radius in source px, 0 for
# flat-field only; Wiener noise-to-signal; side the window is upsampled to). The first is tried
# every other attempt, the others in turn in between. Measured on held clips (bench/sets.py
# `video`, development seeds 16, 1616, 2391, 2392; 96 clips): a radius-1 disc reads every clip
# any radius reads; averaged frames have little noise left, so a lighter regularisation than a
# single frame's (0.005 against 0.02) and a larger upsampling (720 px against 560) read 4 more
# clips from the first 10 frames, and more from 5 frames than the old treatment from 10.
STACK_TREATMENTS: tuple[tuple[float, float, int], ...] = (
    (1.0, 0.005, 720), (1.0, 0.01, 720), (1.0, 0.02, 560), (1.0, 0.0025, 720), (0.0, 0.0, 560),
)
# Frames combined: a held card's 30 frames (one second) read codes 10 do not, and each frame is
# registered once, so depth costs a sum per attempt, not a registration.
STACK_DEPTH = 30
# Until measured: one attempt at 640×480 (frames registered since the last, one treatment).
# A guess above the cost holds the first attempt back for frames while credit builds up.
STACK_COST_GUESS_MS = 12.0


def _wiener_fast(gray: np.ndarray, kernel: np.ndarray, k: float) -> np.ndarray:
    """`_wiener` on the window padded (reflected) to an FFT-friendly size: a 178-px window
    (two primes) costs twice a 180-px one."""
    h, w = gray.shape[:2]
    ph, pw = cv2.getOptimalDFTSize(h), cv2.getOptimalDFTSize(w)
    padded = cv2.copyMakeBorder(gray, 0, ph - h, 0, pw - w, cv2.BORDER_REFLECT)
    return np.ascontiguousarray(_wiener(padded, kernel, k)[:h, :w])


class FrameStack:
    """The code window of the last `depth` frames, registered and averaged on demand.

    The window is the densest-edge square of the first frame pushed (`code_window`); frames
    are cropped at the same place so a still card stays registered to within a few pixels,
    which phase correlation measures to a fraction of a pixel. When the window moves by more
    than a quarter of its side (the card was moved, or something else is in view) the stack
    starts again: averaging different scenes would blur the code away. Each frame is
    registered once, against the first of the stack, when a combination first needs it, so an
    attempt pays only for the frames that arrived since the last one.
    """

    def __init__(self, depth: int = STACK_DEPTH, min_frames: int = 4) -> None:
        self.depth = depth
        self.min_frames = min_frames
        self._crops: list[np.ndarray] = []
        # The same frames registered to `_ref`, uint8 (their rounding is far below the sensor
        # noise; a quarter of float32's memory for a 1080p window); None: not yet; empty: left out.
        self._aligned: list[np.ndarray | None] = []
        self._ref: np.ndarray | None = None
        self._window: tuple[int, int, int, int] | None = None
        self._shape: tuple[int, ...] | None = None

    def __len__(self) -> int:
        return len(self._crops)

    def clear(self) -> None:
        self._crops.clear()
        self._aligned.clear()
        self._ref = None
        self._window = None

    def push(self, gray: np.ndarray) -> None:
        x0, y0, x1, y1 = code_window(gray)
        if self._window is not None and self._shape == gray.shape:
            wx0, wy0, wx1, wy1 = self._window
            if max(abs(x0 - wx0), abs(y0 - wy0)) > (wx1 - wx0) / 4:
                self.clear()
        if self._window is None or self._shape != gray.shape:
            self.clear()
            self._window, self._shape = (x0, y0, x1, y1), gray.shape
        wx0, wy0, wx1, wy1 = self._window
        self._crops.append(np.ascontiguousarray(gray[wy0:wy1, wx0:wx1]))
        self._aligned.append(None)
        del self._crops[:-self.depth]
        del self._aligned[:-self.depth]

    def combined(self) -> np.ndarray | None:
        """The registered average of the stacked windows (float32, source resolution), or None
        (too few frames). Phase correlation gives each frame's shift from the stack's first
        frame to a fraction of a pixel; each is shifted back with a sub-pixel warp (once, then
        kept) and the stack averaged."""
        if len(self._crops) < self.min_frames or min(self._crops[-1].shape[:2]) < 32:
            return None
        if self._ref is None:
            self._ref = self._crops[0].astype(np.float32)
        ref = self._ref
        h, w = ref.shape
        win: np.ndarray | None = None
        acc = np.zeros((h, w), np.float32)
        n = 0
        for i, crop in enumerate(self._crops):
            aligned = self._aligned[i]
            if aligned is None:
                if win is None:
                    win = cv2.createHanningWindow((w, h), cv2.CV_32F)
                img = crop.astype(np.float32)
                (dx, dy), _ = cv2.phaseCorrelate(ref, img, win)
                if abs(dx) > w / 4 or abs(dy) > h / 4:
                    aligned = np.empty((0, 0), np.uint8)  # not the same scene: left out
                else:
                    m = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]], np.float32)
                    aligned = cv2.warpAffine(crop, m, (w, h), flags=cv2.INTER_CUBIC,
                                             borderMode=cv2.BORDER_REPLICATE)
                self._aligned[i] = aligned
            if aligned.size:
                acc += aligned
                n += 1
        return acc / max(n, 1)

    def decode(self, variant: int | None = None) -> list[Decoded]:
        """Decode the combined window (frame coordinates) after each treatment of
        `STACK_TREATMENTS`, upsampled for the decoder. `variant` tries only that attempt's one
        (a stream spreads them over frames)."""
        avg = self.combined()
        if avg is None or self._window is None:
            return []
        h, w = avg.shape
        flat = _flat_patch(stretch(avg), 1.0)
        # What averaging cannot undo is the lens's own blur; the average has little noise
        # left, so deconvolution is safe there where on one noisy frame it is not.
        if variant is None:
            chosen = STACK_TREATMENTS
        else:  # every other attempt the most productive one, in between the others in turn
            rest = STACK_TREATMENTS[1:]
            chosen = (STACK_TREATMENTS[0] if variant % 2 == 0 or not rest
                      else rest[(variant // 2) % len(rest)],)
        for radius, k, side in chosen:
            img = _wiener_fast(flat, disc_kernel(radius), k) if radius else flat
            f = float(np.clip(side / max(h, w), 1.0, PATCH_MAX_FACTOR))
            up = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
            sharp = sharpen(up)
            found = _zxing(up) or _zxing(sharp) or _zxing(sharp, ZX_FIXED)
            if found:
                return [Decoded(d.text, d.bytes, d.symbology, d.corners, d.decoder, "frames")
                        for d in _from_patch(found, f, self._window[0], self._window[1])]
        return []


# --------------------------------------------------------------------------------------------
# The steps, cheapest and most productive first.


@dataclass(frozen=True)
class Step:
    """One decoder on one variant of the frame. `run(gray)` returns results in frame coordinates."""

    name: str
    prepare: Callable[[np.ndarray], tuple[np.ndarray, float]]
    decoder: Callable[[np.ndarray], list[Decoded]]
    applies: Callable[[np.ndarray], bool] = field(default=lambda g: True)
    # Too slow to share a frame's budget (up to a second on a blurred 1080p frame): stills only;
    # a stream gets the next frame instead of a stalled picture.
    stills_only: bool = False

    def run(self, gray: np.ndarray) -> list[Decoded]:
        if not self.applies(gray):
            return []
        img, f = self.prepare(gray)
        found = self.decoder(img)
        return [_rescale(d, f, self.name) for d in found if d.text or d.bytes]


def _rescale(d: Decoded, f: float, variant: str) -> Decoded:
    corners = d.corners if f == 1.0 else tuple((round(x / f), round(y / f)) for x, y in d.corners)
    return Decoded(d.text, d.bytes, d.symbology, corners, d.decoder, variant)


def _same(g: np.ndarray) -> tuple[np.ndarray, float]:
    return g, 1.0


def _via(fn: Callable[[np.ndarray], np.ndarray], max_side: int | None = None
         ) -> Callable[[np.ndarray], tuple[np.ndarray, float]]:
    def prepare(g: np.ndarray) -> tuple[np.ndarray, float]:
        img, f = _fit(g, max_side) if max_side else (g, 1.0)
        return fn(img), f
    return prepare


def _small(g: np.ndarray) -> bool:
    return max(g.shape[:2]) <= UPSCALE_MAX_SIDE


def _big(g: np.ndarray) -> bool:
    return min(g.shape[:2]) >= 400



STEPS: tuple[Step, ...] = (
    Step("zxing", _same, _zxing),
    Step("zxing-histogram", _same, lambda g: _zxing(g, ZX_HIST)),
    Step("zbar", lambda g: _fit(g, ZBAR_MAX_SIDE), _zbar),
    Step("zxing-denoise", _via(denoise), _zxing),
    Step("zxing-x2", lambda g: _scaled(g, 2.0), _zxing, _small),
    Step("zxing-patch", _same, lambda g: _patch_variants(g, deblur=False)),
    Step("zxing-flatten", _via(flatten), _zxing),
    Step("zxing-clahe", _via(clahe), _zxing),
    Step("zxing-sharpen", _via(sharpen), _zxing),
    Step("zxing-deglare", _via(deglare), lambda g: _zxing(g, ZX_HIST)),
    Step("zbar-denoise", _via(denoise, ZBAR_MAX_SIDE), _zbar),
    Step("zbar-half", lambda g: _scaled(g, 0.5), _zbar, _big),
    Step("zxing-half", lambda g: _scaled(g, 0.5), _zxing, _big),
    Step("zxing-otsu", _via(otsu), _zxing),
    Step("zbar-flatten", _via(flatten, ZBAR_MAX_SIDE), _zbar),
    Step("zbar-x2", lambda g: _scaled(g, 2.0), _zbar, lambda g: max(g.shape[:2]) <= 700),
    Step("zxing-x3-denoise", lambda g: (denoise(_scaled(g, 3.0)[0]), 3.0), _zxing,
         lambda g: max(g.shape[:2]) <= 700),
    Step("zbar-adaptive", _via(adaptive, ZBAR_MAX_SIDE), _zbar),
    Step("zxing-sharpen-hard", _via(sharpen_hard), _zxing),
    Step("zxing-patch-deblur", _same, lambda g: _patch_variants(g, deblur=True),
         stills_only=True),
    Step("zxing-patch-defocus-wide", _same, _patch_defocus_wide, stills_only=True),
    Step("zxing-deblur-focus", lambda g: _fit(g, DEBLUR_MAX_SIDE), _deblur_focus),
    Step("zxing-deblur-motion", lambda g: _fit(g, DEBLUR_MAX_SIDE), _deblur_motion),
    Step("zxing-deblur-motion-local", lambda g: _fit(g, DEBLUR_MAX_SIDE), _deblur_motion_local,
         stills_only=True),
    Step("zbar-inverted", _via(lambda g: 255 - g, ZBAR_MAX_SIDE), _zbar),
    Step("opencv-aruco", lambda g: _fit(g, OPENCV_MAX_SIDE), lambda g: _opencv(g, "aruco")),
)

# Single-library baselines for the benchmark: each library alone, default options.
BASELINES: dict[str, tuple[Step, ...]] = {
    "zxing-cpp": (Step("zxing", _same, _zxing),),
    "pyzbar": (Step("zbar", _same, _zbar),),
    "opencv": (Step("opencv-aruco", _same, lambda g: _opencv(g, "aruco")),),
}


def to_gray(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or gray uint8 (any bit depth converted) to a contiguous gray uint8 image."""
    if image.dtype != np.uint8:
        image = stretch(image)
    if image.ndim == 3:
        if image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
        elif image.shape[2] == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        else:
            image = image[:, :, 0]
    return np.ascontiguousarray(image)


class Cascade:
    """The decoder cascade and the little state a stream needs (which step runs next, time credit).

    One object per stream; `decode()` for stills, `decode_frame()` for consecutive frames.
    """

    def __init__(self, steps: Sequence[Step] = STEPS, *, budget_ms: float = 12.0,
                 still_limit_ms: float = 4000.0, stack_frames: int = STACK_DEPTH,
                 stack_every: int = 2,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.steps = tuple(steps)
        # What the budgets are counted in: wall time at a desk (the frames do not wait);
        # a benchmark on a shared machine passes `time.thread_time`, the work's own cost.
        self.clock = clock
        self.budget_ms = budget_ms
        self.still_limit_ms = still_limit_ms
        self._cursor = 1  # next expensive step in a stream (step 0 runs on every frame)
        self._credit = 0.0
        self._credit_cap = 6 * budget_ms
        self._cost: dict[str, float] = {}  # running mean ms per megapixel per step
        self.last_step: str | None = None
        # Multi-frame combining for streams (0 turns it off): every `stack_every` frames
        # without a decode, the registered average of the last `stack_frames` code windows.
        self.stack = FrameStack(stack_frames) if stack_frames > 1 else None
        self.stack_every = max(1, stack_every)
        self._since_stack = 0
        self._stack_variant = 0
        self._stack_turn = False

    @property
    def steps_run(self) -> frozenset[str]:
        """The names of the steps that have run on this cascade (what a look cost)."""
        return frozenset(self._cost)

    def _run(self, step: Step, gray: np.ndarray) -> tuple[list[Decoded], float]:
        t0 = self.clock()
        found = step.run(gray)
        ms = (self.clock() - t0) * 1000.0
        per_mp = ms / max(gray.size / 1e6, 0.01)
        old = self._cost.get(step.name)
        self._cost[step.name] = per_mp if old is None else 0.7 * old + 0.3 * per_mp
        if found:
            self.last_step = step.name
        return found, ms

    def decode(self, image: np.ndarray) -> list[Decoded]:
        """A still image: every step in order until one decodes (or the time limit is spent).

        A still bigger than `SEARCH_MAX_SIDE` is searched piecewise (`_decode_big`), so the
        search's working memory does not grow with the photo."""
        gray = to_gray(image)
        self.last_step = None
        deadline = self.clock() + self.still_limit_ms / 1000.0
        if max(gray.shape[:2]) > SEARCH_MAX_SIDE:
            return self._decode_big(gray, deadline)
        return self._decode_still(gray, deadline)

    def decode_quick(self, image: np.ndarray) -> list[Decoded]:
        """A still's first look: only the cheap steps (`QUICK_STEPS`; on a big photo the first
        step on its full-resolution tiles). Tens of milliseconds where `decode` can take
        seconds, so a caller can try other readers (a UT card's zone) before the slow steps."""
        gray = to_gray(image)
        self.last_step = None
        if max(gray.shape[:2]) > SEARCH_MAX_SIDE:
            for y0, x0 in _tiles(*gray.shape[:2]):
                tile = np.ascontiguousarray(
                    gray[y0:y0 + SEARCH_MAX_SIDE, x0:x0 + SEARCH_MAX_SIDE])
                found, _ = self._run(self.steps[0], tile)
                if found:
                    return [_shifted(d, 1.0, x0, y0) for d in found]
            return []
        for step in self.steps[:QUICK_STEPS]:
            found, _ = self._run(step, gray)
            if found:
                return found
        return []

    def _decode_still(self, gray: np.ndarray, deadline: float) -> list[Decoded]:
        for step in self.steps:
            found, _ = self._run(step, gray)
            if found:
                return found
            if self.clock() > deadline:
                break
        return []

    def _decode_big(self, gray: np.ndarray, deadline: float) -> list[Decoded]:
        """A big photo (a phone's 12-16 MP) in pieces: the first step on overlapping
        full-resolution tiles of `SEARCH_MAX_SIDE` (a small code anywhere, at every pixel it
        has), the whole cascade on a copy reduced to `PIECE_SIDE` (a code filling the photo), then
        the whole cascade on the full-resolution window around the densest edges (a small
        code the first step could not read). Each piece is a copy freed before the next."""
        h, w = gray.shape[:2]
        for y0, x0 in _tiles(h, w):
            tile = np.ascontiguousarray(gray[y0:y0 + SEARCH_MAX_SIDE, x0:x0 + SEARCH_MAX_SIDE])
            found, _ = self._run(self.steps[0], tile)
            if found:
                return [_shifted(d, 1.0, x0, y0) for d in found]
        del tile
        overview, f = _fit(gray, PIECE_SIDE)
        found = self._decode_still(overview, deadline)
        if found:
            return [_shifted(d, f, 0, 0) for d in found]
        wx0, wy0, wx1, wy1 = code_window(overview)
        del overview
        cx, cy = (wx0 + wx1) / 2 / f, (wy0 + wy1) / 2 / f
        half = min(PIECE_SIDE, max(wx1 - wx0, wy1 - wy0) / f) / 2
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
        window = np.ascontiguousarray(gray[y0:int(cy + half), x0:int(cx + half)])
        if self.clock() > deadline or min(window.shape[:2]) < 32:
            return []
        found = self._decode_still(window, deadline)
        return [_shifted(d, 1.0, x0, y0) for d in found]

    def decode_frame(self, image: np.ndarray) -> list[Decoded]:
        """One frame of a stream: the first step always, then expensive steps while credit lasts.

        Unused budget carries over (capped), so a step costing more than one frame's budget runs
        every few frames instead of never; the cursor rotates so every step gets its turn.
        """
        gray = to_gray(image)
        self.last_step = None
        found, spent = self._run(self.steps[0], gray)
        if found:
            if self.stack is not None:
                self.stack.clear()
            return found
        self._credit = min(self._credit + self.budget_ms - spent, self._credit_cap)
        if self.stack is not None:
            t0 = self.clock()
            found = self._stacked(gray)
            self._credit -= (self.clock() - t0) * 1000.0
            if found:
                return found
            if self._stack_turn:
                return []  # the credit is being saved for the combined frames
        if len(self.steps) == 1:
            return []
        tried = 0
        while tried < len(self.steps) - 1:
            step = self.steps[self._cursor]
            if step.stills_only:
                self._cursor = self._cursor % (len(self.steps) - 1) + 1
                tried += 1
                continue
            mp = max(gray.size / 1e6, 0.01)
            guess = self._cost.get(step.name, UNKNOWN_COST_MS_PER_MP) * mp
            if guess > self._credit:
                if guess <= self._credit_cap:
                    break  # wait for credit
                # Too slow for this stream at all (e.g. zbar on a 4K frame): skip it.
                self._cursor = self._cursor % (len(self.steps) - 1) + 1
                tried += 1
                continue
            found, ms = self._run(step, gray)
            self._credit -= ms
            self._cursor = self._cursor % (len(self.steps) - 1) + 1
            tried += 1
            if found:
                return found
        return []


    def _stacked(self, gray: np.ndarray) -> list[Decoded]:
        """Push this frame's code window; when enough frames are in and the credit pays for
        it, decode the combined stack with its next variant (one per attempt)."""
        assert self.stack is not None
        self.stack.push(gray)
        self._since_stack += 1
        if self._since_stack < self.stack_every or len(self.stack) < self.stack.min_frames:
            self._stack_turn = False
            return []
        # The stack and the single-frame steps take turns at the credit: once the stack is
        # due, the steps wait until the credit pays for one combined attempt.
        self._stack_turn = True
        guess = self._cost.get("frames", STACK_COST_GUESS_MS)
        if min(guess, self._credit_cap) > self._credit:
            return []
        self._since_stack = 0
        self._stack_turn = False
        t0 = self.clock()
        found = self.stack.decode(self._stack_variant)
        ms = (self.clock() - t0) * 1000.0
        old = self._cost.get("frames")
        self._cost["frames"] = ms if old is None else 0.7 * old + 0.3 * ms
        self._stack_variant += 1
        if found:
            self.last_step = "frames"
            self.stack.clear()
        return found


def _tiles(h: int, w: int) -> Iterator[tuple[int, int]]:
    """Top-left corners of `SEARCH_MAX_SIDE` tiles covering h × w, overlapping by
    `TILE_OVERLAP` so a code up to that size lies whole in at least one tile."""
    step = SEARCH_MAX_SIDE - TILE_OVERLAP

    def starts(n: int) -> list[int]:
        if n <= SEARCH_MAX_SIDE:
            return [0]
        last = n - SEARCH_MAX_SIDE
        return sorted({*range(0, last, step), last})

    for y0 in starts(h):
        for x0 in starts(w):
            yield y0, x0


def _shifted(d: Decoded, f: float, x0: int, y0: int) -> Decoded:
    """A result from a piece (scaled by `f`, cut at x0, y0) in the whole photo's coordinates."""
    return Decoded(d.text, d.bytes, d.symbology,
                   tuple((round(x / f) + x0, round(y / f) + y0) for x, y in d.corners),
                   d.decoder, d.variant)


def decode_image(image: np.ndarray) -> list[Decoded]:
    """Convenience for a single still: the full cascade."""
    return Cascade().decode(image)
