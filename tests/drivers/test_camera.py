"""Camera, video and image sources through `drivers.open_source`: real OpenCV on real files;
only the physical webcam is replaced by a stand-in."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers import open_source
from drivers.camera import CameraSource
from drivers.decode import QUICK_STEPS, STEPS
from drivers.imageheader import image_size
from drivers.scan import SourceError
from tests.support_camera import CARDS, FakeCapture, card_photo, png_header

GEN = CARDS / "generated"
MRZ_CARDS = CARDS.parent / "mrz" / "cards"


def expected(path: Path) -> str:
    return path.with_suffix(".txt").read_text().strip()


@pytest.mark.parametrize("name", ["clean-01.jpg", "glare-03.jpg", "dim-02.jpg", "tilt-01.jpg",
                                  "far-04.jpg", "motion-03.jpg", "combo-05.jpg"])
def test_image_source_reads_card_captures(name):
    with open_source(f"image:{GEN / name}") as source:
        scans = list(source)
    assert [s.payload for s in scans] == [expected(GEN / name)]
    assert scans[0].symbology == "QRCODE"
    assert scans[0].source == f"image:{GEN / name}"
    assert scans[0].corners is not None and len(scans[0].corners) == 4


def test_handmade_captures_decode():
    images = sorted(p for p in (CARDS / "handmade").iterdir() if p.suffix in (".jpg", ".png"))
    assert len(images) >= 3
    for p in images:
        with open_source(f"image:{p}") as source:
            assert [s.payload for s in source] == [expected(p)], p.name


@pytest.mark.parametrize("name", ["video-01.mp4", "video-03.mp4"])
def test_video_of_a_card_moving_into_view_gives_one_scan(name):
    """The card stays in view for many frames: the same payload is one scan, not one per frame."""
    with open_source(f"video:{GEN / name}") as source:
        scans = list(source)
    assert [s.payload for s in scans] == [expected(GEN / name)]


def write_video(path: Path, frames: list[np.ndarray], fps: int = 10) -> Path:
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert out.isOpened()
    for f in frames:
        out.write(f)
    out.release()
    return path


def test_video_dedupe_window(tmp_path):
    """Shown, taken away for 3 s, shown again: two scans with a 2 s window, one with 10 s."""
    card = cv2.imread(str(card_photo(tmp_path / "c.jpg", "https://example.org/lmakort/VALIDX1")))
    blank = np.full_like(card, 128)
    video = write_video(tmp_path / "v.mp4", [card] * 5 + [blank] * 30 + [card] * 5, fps=10)
    with open_source(f"video:{video}") as source:
        assert len(list(source)) == 2
    with open_source(f"video:{video}?dedupe=10") as source:
        assert len(list(source)) == 1


def test_two_different_cards_in_a_video_are_two_scans(tmp_path):
    a = cv2.imread(str(card_photo(tmp_path / "a.jpg", "https://example.org/lmakort/VALIDA1")))
    b = cv2.imread(str(card_photo(tmp_path / "b.jpg", "https://example.org/lmakort/NOWORKB2")))
    video = write_video(tmp_path / "v.mp4", [a] * 4 + [b] * 4)
    with open_source(f"video:{video}") as source:
        assert [s.payload[-7:] for s in source] == ["VALIDA1", "NOWORKB2"[-7:]]


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("content, message", [
    (b"", r"empty \(0 bytes\)"),
    (b"this is a text file, not a photo\n" * 20, "not an image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40, "damaged"),
    (png_header(100_000, 100_000), "megapixels"),
])
def test_bad_image_files_give_a_clear_source_error(tmp_path, content, message):
    p = tmp_path / "card.jpg"
    p.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        with open_source(f"image:{p}") as source:
            list(source)


def test_truncated_jpeg_is_refused_or_read_never_crashes(tmp_path):
    full = (GEN / "clean-02.jpg").read_bytes()
    p = tmp_path / "cut.jpg"
    p.write_bytes(full[: len(full) // 3])
    try:
        with open_source(f"image:{p}") as source:
            list(source)
    except SourceError as exc:
        assert str(p) in str(exc)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        open_source(f"image:{tmp_path / 'nope.jpg'}")
    with pytest.raises(SourceError, match="not a file"):
        open_source(f"video:{tmp_path}")


def test_big_jpeg_is_decoded_reduced_within_the_pixel_limit(tmp_path):
    """Over the limit, a JPEG is decoded at 1/2..1/8 scale (libjpeg never holds it full-size)."""
    photo = cv2.imread(str(card_photo(tmp_path / "c.jpg", "https://example.org/lmakort/VALIDBIG",
                                      frame=(1600, 1200), glare=0.0)))
    with open_source(f"image:{tmp_path / 'c.jpg'}?max_pixels=600000") as source:
        assert source.image.shape[0] * source.image.shape[1] <= 600_000
        assert [s.payload for s in source] == ["https://example.org/lmakort/VALIDBIG"]
    assert photo.shape[:2] == (1200, 1600)


def test_a_file_that_is_not_a_video(tmp_path):
    p = tmp_path / "v.mp4"
    p.write_bytes(b"not a video at all" * 100)
    with pytest.raises(SourceError, match="not a video|no frames"):
        with open_source(f"video:{p}") as source:
            list(source)


def test_no_camera_at_that_index():
    with pytest.raises(SourceError, match="no camera at index 57"):
        open_source("camera:57")
    with pytest.raises(SourceError, match="no camera at /dev/video-none"):
        open_source("camera:/dev/video-none")


def test_camera_frames_become_scans(monkeypatch, tmp_path):
    frame = cv2.imread(str(card_photo(tmp_path / "c.jpg", "https://example.org/lmakort/VALIDCAM")))
    fake = FakeCapture([frame] * 3)
    monkeypatch.setattr(CameraSource, "capture_factory", lambda device: fake)
    monkeypatch.setattr("drivers.camera.CAMERA_STALL_S", 0.1)
    with open_source("camera:0?width=640&height=480") as source:
        it = iter(source)
        scan = next(it)
        assert scan.payload == "https://example.org/lmakort/VALIDCAM"
        assert scan.source == "camera:0?width=640&height=480"
    assert fake.released


def test_camera_unplugged_mid_stream(monkeypatch):
    fake = FakeCapture([np.full((480, 640, 3), 90, np.uint8)] * 5)
    monkeypatch.setattr(CameraSource, "capture_factory", lambda device: fake)
    monkeypatch.setattr("drivers.camera.CAMERA_STALL_S", 0.1)
    with pytest.raises(SourceError, match="camera index 0 stopped delivering images"):
        with open_source("camera:0") as source:
            list(source)


def test_camera_that_opens_but_gives_nothing(monkeypatch):
    monkeypatch.setattr(CameraSource, "capture_factory", lambda device: FakeCapture([]))
    monkeypatch.setattr("drivers.camera.CAMERA_STALL_S", 0.1)
    with pytest.raises(SourceError, match="delivers no images"):
        with open_source("camera:1") as source:
            list(source)


@pytest.mark.parametrize("url", ["image:x.jpg?dedupe=abc", "image:x.jpg?budget=-1"])
def test_bad_options(url, tmp_path):
    with pytest.raises(SourceError, match="option"):
        open_source(url)


# --- hostile bytes ---------------------------------------------------------------------------

MAGIC = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"GIF89a",
         b"BM", b"II*\x00"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(magic=st.sampled_from(MAGIC), body=st.binary(max_size=600))
def test_arbitrary_bytes_as_an_image_never_crash(tmp_path, magic, body):
    p = tmp_path / "hostile.img"
    p.write_bytes(magic + body)
    try:
        with open_source(f"image:{p}") as source:
            scans = list(source)
        assert all(isinstance(s.payload, str) for s in scans)
    except SourceError as exc:
        assert str(exc)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_header_reader_returns_a_size_or_raises_value_error(data):
    try:
        result = image_size(data)
    except ValueError:
        return
    assert result is None or (result[1] >= 0 and result[2] >= 0)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".bmp", ".tiff"])
def test_header_sizes_match_what_opencv_decodes(ext):
    img = np.zeros((37, 91, 3), np.uint8)
    ok, data = cv2.imencode(ext, img)
    assert ok
    fmt, w, h = image_size(data.tobytes())
    assert (w, h) == (91, 37)


VIDEO_MAGIC = [b"", b"\x00\x00\x00\x18ftypmp42", b"\x1aE\xdf\xa3", b"RIFF\x00\x00\x00\x00AVI "]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(magic=st.sampled_from(VIDEO_MAGIC), body=st.binary(min_size=1, max_size=2000))
def test_arbitrary_bytes_as_a_video_never_crash(tmp_path, magic, body):
    p = tmp_path / "hostile.mp4"
    p.write_bytes(magic + body)
    try:
        with open_source(f"video:{p}") as source:
            list(source)
    except SourceError as exc:
        assert str(exc)


def test_camera_closed_from_another_thread_ends_iteration(monkeypatch):
    """The daemon stops sources from its own thread: iteration ends quietly, the device is
    released, and never while a read() is in progress."""

    class Endless(FakeCapture):
        def read(self):
            assert not self.released, "read() after release()"
            time.sleep(0.005)
            return True, np.full((120, 160, 3), 128, np.uint8)

    fake = Endless([])
    monkeypatch.setattr(CameraSource, "capture_factory", lambda device: fake)
    source = open_source("camera:0")
    frames = []
    worker = threading.Thread(target=lambda: frames.extend(source.frames_with_results()))
    worker.start()
    time.sleep(0.2)
    source.close()
    worker.join(5)
    assert not worker.is_alive() and fake.released and len(frames) > 3


QUICK = frozenset(step.name for step in STEPS[:QUICK_STEPS])


def test_a_sharp_photo_is_read_by_the_quick_look_alone():
    with open_source(f"image:{GEN / 'clean-01.jpg'}") as source:
        frames = list(source.frames_with_results())
        ran = source.cascade.steps_run
    assert [f.repeat for f in frames] == [False]
    assert [d.text for d in frames[0].found] == [expected(GEN / "clean-01.jpg")]
    assert ran <= QUICK


@pytest.mark.parametrize("name", ["far-05.jpg", "combo-02.jpg"])
def test_a_photo_the_quick_look_misses_gets_the_whole_cascade_as_a_second_frame(name):
    """A far or degraded code is not lost to the quick first look: reading on gives the same
    image again, marked `repeat`, with what the slow steps found."""
    with open_source(f"image:{GEN / name}") as source:
        frames = list(source.frames_with_results())
    assert [(f.index, f.repeat, bool(f.found)) for f in frames] == [(0, False, False),
                                                                     (1, True, True)]
    assert frames[1].image is frames[0].image
    assert [s.payload for s in frames[1].scans] == [expected(GEN / name)]


def test_a_photo_without_a_code_stops_after_the_quick_look_when_the_caller_does():
    """The caller (the zone reader of `verify card`) that has its answer from the first look
    stops there: the slow QR steps never run."""
    with open_source(f"image:{MRZ_CARDS / 'p00-clean.jpg'}") as source:
        first = next(iter(source.frames_with_results()))
        ran = source.cascade.steps_run
    assert not first.found and not first.repeat
    assert ran <= QUICK
