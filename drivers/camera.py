"""Camera, video and image sources: frames in, QR `Scan` events out, through one frame loop.

    camera:0  camera:/dev/video2?width=1280&height=720   a webcam (OpenCV VideoCapture)
    video:PATH                                          a recorded video, every frame processed
    image:PATH                                          one photo

Options (query string): `dedupe=SECONDS` (same payload again within this many seconds of its last
sighting is the same scan; default 2), `budget=MS` (decode time per frame; default 8),
`max_pixels=N` (largest image accepted; default 50 million).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Let OpenCV's own decoders refuse bombs in formats our header check does not know; must be set
# before the first imread.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(64_000_000))
os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
# FFmpeg quiet: our own messages say what failed
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from drivers.decode import Cascade, Decoded  # noqa: E402
from drivers.files import FileRefused, open_regular, read_bounded  # noqa: E402
from drivers.imageheader import (  # noqa: E402
    ALLOWED_NAMES,
    DECODE_BUDGET_BYTES,
    ImageHeader,
    image_header,
    sniff,
)
from drivers.scan import Scan, SourceError  # noqa: E402
from drivers.source import Source, SourceURL  # noqa: E402

DEFAULT_DEDUPE_S = 2.0
DEFAULT_BUDGET_MS = 8.0
MAX_PIXELS = 50_000_000
# Photos bigger than this are decoded straight to gray (libjpeg converts while decoding): a
# third of the memory, and every reader (QR cascade, MRZ) works on gray anyway.
GRAY_ABOVE_PIXELS = 2048 * 2048
MAX_FILE_BYTES = 100 * 1024 * 1024
# Frames larger than this are shrunk before decoding: codes held up to a webcam are never that
# small, and it bounds the time and memory a frame can cost.
MAX_FRAME_SIDE = 4096
# A camera that gives no frame for this long has gone away.
CAMERA_STALL_S = 2.0

try:
    # Our own messages say what failed; OpenCV's lines would only confuse the person reading.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
except AttributeError:  # pragma: no cover - older OpenCV builds
    pass

_STDERR_LOCK = threading.Lock()


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Hide what the image libraries print straight to the stderr descriptor while a still is
    decoded (libjpeg's "Corrupt JPEG data", libpng's and libtiff's warnings), which OpenCV's log
    level does not reach. The damage is reported by our own sentence instead."""
    with _STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:  # pragma: no cover - no stderr at all
            yield
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 2)
            finally:
                os.close(devnull)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@dataclass(frozen=True)
class Frame:
    """One frame through the loop: the image, what was found in it, and the new scans."""

    image: np.ndarray
    found: tuple[Decoded, ...]
    scans: tuple[Scan, ...]
    index: int
    # The same image as the frame before, looked at harder: a photo is first given only the
    # cheap QR steps, then (when the caller reads on) the whole cascade. Other readers that
    # already saw the first look (a UT card's zone) need not read it again.
    repeat: bool = False


def _float_param(url: SourceURL, key: str, default: float) -> float:
    raw = url.param(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SourceError(f"option {key}={raw!r} in {url.url!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise SourceError(f"option {key}={raw!r} in {url.url!r} must be a finite number ≥ 0")
    return value


class FrameSource(Source):
    """The frame loop shared by camera, video and image. Subclasses yield frames.

    `frames_with_results()` is the loop itself (for a preview that needs every frame);
    `scans()` keeps only the new scans.
    """

    still = False  # a single photo gets the whole cascade at once, not a per-frame budget

    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        self.dedupe_s = _float_param(url, "dedupe", DEFAULT_DEDUPE_S)
        self.cascade = Cascade(budget_ms=_float_param(url, "budget", DEFAULT_BUDGET_MS))
        self._last_seen: dict[str, float] = {}

    # -- to implement -------------------------------------------------------------------------
    def frames(self) -> Iterator[tuple[np.ndarray, float]]:  # pragma: no cover - abstract
        """(image, timestamp in seconds) pairs; the timestamp drives de-duplication."""
        raise NotImplementedError

    # -- the loop -----------------------------------------------------------------------------
    def frames_with_results(self) -> Iterator[Frame]:
        """Each frame with what was read in it. A still is looked at twice: the cheap steps
        first (most photos of a QR card are read there), and only when the caller reads on
        (nothing else it looks for was in the first look either) the whole cascade, as a
        second frame with `repeat` set. So a UT card photo, which has no QR code, is answered
        from its zone without the seconds the slow QR steps take."""
        index = 0
        for image, stamp in self.frames():
            if self.closed:
                return
            image = _bounded(image)
            if not self.still:
                yield self._frame(image, self.cascade.decode_frame(image), stamp, index)
                index += 1
                continue
            found = self.cascade.decode_quick(image)
            yield self._frame(image, found, stamp, index)
            index += 1
            if found or self.closed:
                continue
            yield self._frame(image, self.cascade.decode(image), stamp, index, repeat=True)
            index += 1

    def _frame(self, image: np.ndarray, found: list[Decoded], stamp: float, index: int,
               repeat: bool = False) -> Frame:
        received = time.monotonic()
        scans = tuple(
            Scan(payload=d.text, symbology=d.symbology, source=self.url.url,
                 received=received, corners=d.corners)
            for d in found if self._is_new(d.text, stamp)
        )
        return Frame(image=image, found=tuple(found), scans=scans, index=index, repeat=repeat)

    def scans(self) -> Iterator[Scan]:
        for frame in self.frames_with_results():
            yield from frame.scans

    def _is_new(self, payload: str, stamp: float) -> bool:
        """Same payload within `dedupe` s of its last sighting: the same card, still held up."""
        last = self._last_seen.get(payload)
        self._last_seen[payload] = stamp
        return last is None or stamp - last > self.dedupe_s


def _bounded(image: np.ndarray) -> np.ndarray:
    side = max(image.shape[:2])
    if side <= MAX_FRAME_SIDE:
        return image
    f = MAX_FRAME_SIDE / side
    return cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)


# ---------------------------------------------------------------------------------------------


def _existing_file(url: SourceURL, kind: str) -> Path:
    if not url.target:
        raise SourceError(f"{url.scheme}: needs a file path, e.g. {url.scheme}:card.{kind}")
    path = Path(url.target).expanduser()
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SourceError(f"no such file: {path}") from None
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise SourceError(f"not a file: {path}")
    if st.st_size == 0:
        raise SourceError(f"{path} is empty (0 bytes): not an image or video")
    if not os.access(path, os.R_OK):
        raise SourceError(f"cannot read {path}: permission denied")
    return path


class ImageSource(FrameSource):
    """One photo (`load_image`): read bounded, its format sniffed and its size checked from
    the header before OpenCV sees it."""

    still = True

    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        self.path = _existing_file(url, "jpg")
        self.max_pixels = int(_float_param(url, "max_pixels", MAX_PIXELS))
        self.image = load_image(self.path, self.max_pixels)

    def frames(self) -> Iterator[tuple[np.ndarray, float]]:
        yield self.image, 0.0


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The photo at `path`, decoded within the memory budget, or a `SourceError` in one
    sentence naming the file. The one way a still is read (`image:` sources, `verify card
    --image`, the MRZ reader's `read_mrz_file`):

    - the file is read by `drivers.files.read_bounded`: a regular file only (a FIFO is not
      waited on, a device or a symlink to one is not read), at most `MAX_FILE_BYTES`;
    - only formats whose header is read here are decoded (`drivers.imageheader.ALLOWED`),
      judged by content: OpenCV would read any format it knows, whatever the file is called,
      with no bound on what it allocates (JPEG 2000, Radiance HDR, PBM, 16-bit PGM);
    - big JPEGs are decoded reduced, other formats over the limit are refused, so memory stays
      bounded whatever the file claims; the image libraries' own lines never reach stderr."""
    path = Path(path)
    try:
        data = read_bounded(path, MAX_FILE_BYTES)
    except FileRefused as exc:
        raise _refused(exc) from None
    if not data:
        raise SourceError(f"{path} is empty (0 bytes): not an image or video")
    try:
        header = image_header(data)
    except ValueError as exc:
        raise SourceError(f"{path} is a damaged image ({exc})") from None
    if header is None:
        # Only formats whose header was read are decoded: OpenCV would read any format it
        # knows by content, with no bound on what it allocates.
        other = sniff(data)
        if other is not None:
            raise SourceError(f"{path} is in the {other} format; only {ALLOWED_NAMES} "
                              "images are read")
        raise SourceError(f"{path} is not an image this reader knows "
                          "(JPEG, PNG, WebP, BMP or TIFF expected)")
    if header.width <= 0 or header.height <= 0:
        raise SourceError(f"{path} is a damaged {header.fmt.upper()} image "
                          f"(size {header.width}×{header.height})")
    flags = _flags(path, header, max_pixels)
    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        with _quiet_stderr():
            image = cv2.imdecode(buf, flags)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise SourceError(f"{path} is a damaged or unsupported image "
                          "(JPEG, PNG, WebP, BMP or TIFF expected)")
    return image


def _refused(exc: FileRefused) -> SourceError:
    """A file `read_bounded` would not read, in the words the other source errors use."""
    if exc.reason == "missing":
        return SourceError(f"no such file: {exc.path}")
    if exc.reason in ("folder", "not_regular"):
        return SourceError(f"not a file: {exc.path}")
    if exc.reason == "too_large":
        return SourceError(f"{exc.path} is larger than {exc.limit // (1024 * 1024)} MB; "
                           "larger images are not read")
    return SourceError(f"cannot read {exc.path}: {exc.why}")


def _flags(path: Path, header: ImageHeader, max_pixels: int) -> int:
    """How to decode within the pixel limit and the memory budget, judged from the header
    (size, samples, bit depth); refused when no way fits."""
    w, h = header.width, header.height
    big = header.pixels > GRAY_ABOVE_PIXELS
    if header.pixels <= max_pixels and header.fits(gray=big):
        return cv2.IMREAD_GRAYSCALE if big else cv2.IMREAD_COLOR
    if header.fmt == "jpeg":
        # libjpeg can decode at 1/2, 1/4, 1/8 scale without ever holding the full image.
        for factor, flag in ((2, cv2.IMREAD_REDUCED_GRAYSCALE_2),
                             (4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
                             (8, cv2.IMREAD_REDUCED_GRAYSCALE_8)):
            if (w // factor) * (h // factor) <= max_pixels and header.fits(factor):
                return flag
    mp = header.pixels / 1e6
    if header.pixels > max_pixels:
        raise SourceError(
            f"{path} is {w}×{h} ({mp:.0f} megapixels), more than the "
            f"{max_pixels / 1e6:.0f} accepted; take a smaller photo or crop it to the "
            "card")
    need = header.decode_bytes(gray=big) / 2**20
    raise SourceError(
        f"{path} is {w}×{h} at {header.bits} bits × {header.channels} "
        f"({need:.0f} MB to decode), more than the {DECODE_BUDGET_BYTES // 2**20} MB an "
        "image may take; take a smaller photo or crop it to the card")


def _not_a_still(path: Path) -> None:
    """Refuse an image given as a video. FFmpeg opens image files as one-frame videos (a JPEG
    2000, a PBM, whatever the file is called) with its own decoders, outside the allow-list
    and the memory budget `load_image` keeps; a photo is read with --image (`image:`)."""
    try:
        fd = open_regular(path)
    except FileRefused as exc:
        raise _refused(exc) from None
    try:
        head = os.read(fd, 65536)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        image = image_header(head) is not None or sniff(head) is not None
    except ValueError:  # a header of an allowed format, cut short here: an image all the same
        image = True
    if image:
        raise SourceError(f"{path} is an image, not a video; give a photo with --image")


class VideoSource(FrameSource):
    """A recorded video; every frame goes through the loop (timestamps from the video itself)."""

    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        self.path = _existing_file(url, "mp4")
        _not_a_still(self.path)
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"{self.path} is not a video this reader can open")
        w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if w * h > MAX_PIXELS:
            cap.release()
            raise SourceError(f"{self.path}: frames of {w}×{h} are too large")
        self.fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        if not (0 < self.fps < 1000):
            self.fps = 30.0
        self.cap = cap
        self._cap_lock = threading.Lock()  # close() may come from another thread (daemon)

    def frames(self) -> Iterator[tuple[np.ndarray, float]]:
        n = 0
        try:
            while not self.closed:
                try:
                    with self._cap_lock:
                        ok, image = self.cap.read() if not self.closed else (False, None)
                except cv2.error as exc:
                    raise SourceError(f"{self.path}: damaged video ({exc.err})") from None
                if not ok or image is None:
                    break
                yield image, n / self.fps
                n += 1
        finally:
            with self._cap_lock:
                self.cap.release()
        if n == 0 and not self.closed:
            raise SourceError(f"{self.path}: no frames could be read (damaged or empty video)")

    def close(self) -> None:
        super().close()
        with self._cap_lock:  # never release while another thread is inside read()
            self.cap.release()


class CameraSource(FrameSource):
    """A webcam by index (`camera:0`) or device path (`camera:/dev/video2`)."""

    # The one seam for tests: a stand-in for cv2.VideoCapture where no physical webcam exists.
    capture_factory: Callable[..., Any] = cv2.VideoCapture

    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        target = url.target or "0"
        self.device: int | str = int(target) if target.isdigit() else target
        if isinstance(self.device, str) and not Path(self.device).exists():
            raise SourceError(f"no camera at {self.device} (no such device)")
        cap = type(self).capture_factory(self.device)
        if not cap.isOpened():
            cap.release()
            hint = " (is a webcam connected? try --camera 1)" if isinstance(self.device, int) \
                else ""
            raise SourceError(f"no camera at {_where(self.device)}{hint}")
        for key, prop in (("width", cv2.CAP_PROP_FRAME_WIDTH),
                          ("height", cv2.CAP_PROP_FRAME_HEIGHT),
                          ("fps", cv2.CAP_PROP_FPS)):
            value = _float_param(url, key, 0)
            if value:
                cap.set(prop, value)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # newest frame, not a queue of stale ones
        self.cap = cap
        self._cap_lock = threading.Lock()  # close() may come from another thread (daemon)

    def frames(self) -> Iterator[tuple[np.ndarray, float]]:
        stalled_since: float | None = None
        got_any = False
        try:
            while not self.closed:
                try:
                    with self._cap_lock:
                        ok, image = self.cap.read() if not self.closed else (False, None)
                except cv2.error:
                    ok, image = False, None
                now = time.monotonic()
                if ok and image is not None and image.size:
                    stalled_since = None
                    got_any = True
                    yield image, now
                    continue
                if self.closed:
                    return
                stalled_since = stalled_since or now
                if now - stalled_since > CAMERA_STALL_S:
                    what = "stopped delivering images (unplugged?)" if got_any \
                        else "opened but delivers no images (in use by another program?)"
                    raise SourceError(f"camera {_where(self.device)} {what}")
                time.sleep(0.02)
        finally:
            with self._cap_lock:
                self.cap.release()

    def close(self) -> None:
        super().close()
        with self._cap_lock:  # never release while another thread is inside read()
            self.cap.release()


def _where(device: int | str) -> str:
    return f"index {device}" if isinstance(device, int) else str(device)
