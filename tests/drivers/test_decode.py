"""The decoder cascade on real images: public corpus samples, false positives, card captures."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from drivers.decode import (
    STEPS,
    Cascade,
    Decoded,
    FrameStack,
    Step,
    code_window,
    line_kernel,
    motion_direction,
    to_gray,
)
from tests.conftest import shared_path
from tests.support_camera import card_photo, make_cards

REPO = Path(__file__).resolve().parents[2]
CARDS = REPO / "fixtures" / "cards"


def qr_image(text: str, scale: int = 6, border: int = 40) -> np.ndarray:
    b = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode)
    img = np.array(zxingcpp.write_barcode_to_image(b, scale=scale))
    return cv2.copyMakeBorder(img, border, border, border, border, cv2.BORDER_CONSTANT, value=255)


def corpus() -> Path:
    """The public QR corpus beside the repo (skipped, saying so, when absent; CI has it)."""
    return shared_path("corpus", "qr-public", what="scoring the public QR corpus")


def test_no_decode_in_the_false_positive_folders():
    root = corpus()
    images = sorted(p for d in root.glob("falsepositives-*") for p in d.iterdir()
                    if p.suffix in {".png", ".jpg", ".webp"})
    assert len(images) >= 20, f"false-positive corpus missing under {root}"
    hits = {}
    for p in images:
        img = cv2.imread(str(p))
        if img is not None:
            found = Cascade().decode(img)
            if found:
                hits[p.name] = [d.text for d in found]
    assert hits == {}


@pytest.mark.parametrize("name", ["qrcode-1/1.webp", "qrcode-2/qr-inv-1.webp", "qrcode-2/12.webp",
                                  "qrcode-4/08.webp", "qrcode-4/09.webp", "qrcode-5/02.webp"])
def test_public_samples_decode_to_their_text(name):
    root = corpus()
    img = cv2.imread(str(root / name))
    expected = (root / name).with_suffix(".txt").read_bytes().strip()
    found = Cascade().decode(img)
    assert any(d.text.strip().encode() == expected or d.bytes.strip() == expected for d in found)


@pytest.mark.parametrize("name", ["glare-02", "dim-03", "tilt-04", "far-02", "motion-05",
                                  "focus-03", "noise-04", "jpeg-06", "combo-03"])
def test_card_captures_decode(name):
    img = cv2.imread(str(CARDS / "generated" / f"{name}.jpg"))
    expected = (CARDS / "generated" / f"{name}.txt").read_text().strip()
    found = Cascade().decode(img)
    assert [d.text for d in found] == [expected]
    assert found[0].symbology == "QRCODE"


def test_corners_are_in_the_original_frame_even_from_a_scaled_variant():
    img = qr_image("https://www.migrationsverket.se/lmakort/VALID0001", scale=1, border=8)
    big = np.full((300, 300), 255, np.uint8)
    big[100:100 + img.shape[0], 120:120 + img.shape[1]] = img  # 2 px... a tiny code
    upscale = next(s for s in STEPS if s.name == "zxing-x2")
    found = upscale.run(big)
    assert found, "the upscaled variant reads a code of one pixel per module"
    xs = [x for x, _ in found[0].corners]
    ys = [y for _, y in found[0].corners]
    assert 120 <= min(xs) <= 135 and 100 <= min(ys) <= 115
    assert found[0].variant == "zxing-x2"


def test_text_and_raw_bytes_like_zxing():
    """`text` is decoded per the symbol's character set; `bytes` are the raw payload (here
    ISO-8859-1, the QR default, which zxing-cpp's encoder picked)."""
    found = Cascade().decode(qr_image("Grüße åäö"))
    assert found[0].text == "Grüße åäö"
    assert found[0].bytes == "Grüße åäö".encode("latin-1")


def test_expensive_steps_are_spread_over_frames_within_budget():
    """A slow variant is not run on the first frame (it would blow the frame budget) but gets
    its turn a few frames later, paid for by the time the cheap step left unused."""
    calls = []

    def slow(gray: np.ndarray) -> list[Decoded]:
        calls.append(time.perf_counter())
        time.sleep(0.03)
        return [Decoded("found late", b"found late", "QRCODE", ((0, 0),) * 4, "slow", "")]

    steps = (Step("nothing", lambda g: (g, 1.0), lambda g: []),
             Step("slow", lambda g: (g, 1.0), slow))
    cascade = Cascade(steps, budget_ms=10)
    frame = np.zeros((720, 1280), np.uint8)  # an untried step is assumed to cost ~28 ms here
    results = [cascade.decode_frame(frame) for _ in range(8)]
    assert results[0] == [], "the slow step must not run before there is credit for it"
    hit = next(i for i, r in enumerate(results) if r)
    assert 1 <= hit <= 7 and len(calls) >= 1
    assert results[hit][0].text == "found late"


def test_stills_only_step_never_stalls_a_stream():
    """A step marked stills_only (the local motion deblurring can take a second) runs for a
    photo but never inside a live frame loop, however much credit the stream has saved."""
    calls = []

    def slow(gray: np.ndarray) -> list[Decoded]:
        calls.append(1)
        return [Decoded("late", b"late", "QRCODE", ((0, 0),) * 4, "slow", "")]

    steps = (Step("nothing", lambda g: (g, 1.0), lambda g: []),
             Step("slow", lambda g: (g, 1.0), slow, stills_only=True))
    cascade = Cascade(steps, budget_ms=50)
    frame = np.zeros((120, 160), np.uint8)
    assert all(cascade.decode_frame(frame) == [] for _ in range(10)) and not calls
    assert cascade.decode(frame)[0].text == "late"


def test_cheap_step_decodes_every_frame_of_a_stream():
    cascade = Cascade()
    frame = cv2.cvtColor(qr_image("VALID0001"), cv2.COLOR_GRAY2BGR)
    assert all(cascade.decode_frame(frame)[0].text == "VALID0001" for _ in range(3))
    assert cascade.last_step == "zxing"


def test_to_gray_accepts_what_cameras_and_files_give():
    assert to_gray(np.zeros((4, 5, 3), np.uint8)).shape == (4, 5)
    assert to_gray(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5)
    assert to_gray(np.zeros((4, 5), np.uint16)).dtype == np.uint8


@pytest.mark.parametrize("blur, step", [
    ({"motion_px": 3.4, "motion_angle": 52}, "zxing-deblur-motion"),
    ({"defocus_px": 1.8}, "zxing-deblur-focus"),
])
def test_blurred_card_is_read_by_deconvolution(tmp_path, blur, step):
    """Small code (about 2.5 px per module), motion or focus blur of more than a module: only
    the Wiener deconvolution steps read it; the payload must still be exact."""
    payload = "https://www.migrationsverket.se/lmakort/VALIDm0t10n"
    photo = card_photo(tmp_path / "blur.jpg", payload, seed=3, card_width_frac=0.43, glare=0.0,
                       roll=10, yaw=0, **blur)
    cascade = Cascade()
    found = cascade.decode(cv2.imread(str(photo)))
    assert [d.text for d in found] == [payload]
    # the whole frame's deconvolution, or the code's patch deconvolved (issue 16), which
    # comes first in the cascade
    assert cascade.last_step in (step, "zxing-patch-deblur")


@pytest.mark.parametrize("defocus", [3.6, 5.5])
def test_strong_defocus_is_read_by_the_wide_defocus_pass(tmp_path, defocus):
    """A 720p card out of focus by a disc of 4-6 px (a code held too close to a fixed-focus
    webcam): beyond the radii the first deconvolution passes try. Only the wide defocus pass
    on the code's window reads it, and without that step the cascade reads nothing."""
    payload = "https://www.migrationsverket.se/lmakort/VALIDy9jg"
    photo = card_photo(tmp_path / "defocus.jpg", payload, seed=1, frame=(1280, 720),
                       card_width_frac=0.45, roll=20.0, yaw=-10.0, pitch=12.0, glare=0.0,
                       noise=1.7, jpeg=78, defocus_px=defocus)
    image = cv2.imread(str(photo))
    cascade = Cascade()
    assert [d.text for d in cascade.decode(image)] == [payload]
    assert cascade.last_step == "zxing-patch-defocus-wide"
    without = tuple(s for s in STEPS if s.name != "zxing-patch-defocus-wide")
    assert Cascade(without).decode(image) == []


def test_long_motion_blur_is_read_by_deblurring_the_codes_window(tmp_path):
    """A card swept sideways at 720p: 10 px of motion blur (about two modules). The direction
    estimated over the whole frame is thrown off by the blurred background; estimated on the
    code's own window it is close enough for Wiener deconvolution to read the exact payload."""
    payload = "https://www.migrationsverket.se/lmakort/VALIDm0t10n"
    photo = card_photo(tmp_path / "swept.jpg", payload, seed=1, frame=(1280, 720),
                       card_width_frac=0.5, glare=0.0, roll=-9, yaw=5, noise=2.0, jpeg=85,
                       motion_px=10.0, motion_angle=178)
    cascade = Cascade()
    found = cascade.decode(cv2.imread(str(photo)))
    assert [d.text for d in found] == [payload]
    assert cascade.last_step == "zxing-deblur-motion-local"
    # corners are in the frame's coordinates, not the window's: around the code's real spot
    xs = [x for x, _ in found[0].corners]
    assert max(xs) - min(xs) > 60 and min(xs) > 300


def test_code_window_finds_the_code_not_the_background():
    frame = np.full((720, 1280), 128, np.uint8)
    code = qr_image("VALIDWINDOW", scale=4, border=8)
    frame[400:400 + code.shape[0], 900:900 + code.shape[1]] = code
    x0, y0, x1, y1 = code_window(frame)
    assert x0 <= 900 + code.shape[1] // 2 <= x1 and y0 <= 400 + code.shape[0] // 2 <= y1


def test_motion_direction_is_estimated():
    rng = np.random.default_rng(0)
    img = cv2.resize((rng.random((60, 80)) * 255).astype(np.uint8), (640, 480),
                     interpolation=cv2.INTER_NEAREST)
    k = line_kernel(11, 30)
    blurred = cv2.filter2D(img, -1, k / k.sum())
    angle, ratio = motion_direction(blurred)
    assert abs(angle - 30) < 10 and ratio < 0.7
    assert motion_direction(img)[1] > 0.7


# --- issue 16: small and blurred codes, frames that add up ----------------------------------

def _small_card(tmp_path: Path, ppm: float, defocus: float, seed: int = 3) -> np.ndarray:
    """A 640×480 webcam frame of the mock card with its code at `ppm` pixels per module."""

    mc = make_cards()
    payload = mc.BASE + "VALIDSMALL01"
    n = mc.qr_modules(payload, "M").shape[0]
    frac = ppm * n / (mc.QR_MM / mc.CARD_MM[0] * 640)
    p = card_photo(tmp_path / "small.jpg", payload, seed=seed, card_width_frac=frac,
                   defocus_px=defocus, glare=0.0, roll=5.0, yaw=8.0)
    return cv2.imread(str(p))


@pytest.mark.parametrize(("ppm", "defocus", "step"), [(1.7, 1.0, "zxing-patch"),
                                                      (1.6, 0.8, "zxing-patch-deblur")])
def test_small_blurred_code_is_read_on_its_upsampled_patch(tmp_path, ppm, defocus, step):
    img = _small_card(tmp_path, ppm, defocus)
    assert Cascade(STEPS[:1]).decode(img) == []  # zxing-cpp alone cannot
    cascade = Cascade()
    found = cascade.decode(img)
    assert [d.text for d in found] == [
        "https://www.migrationsverket.se/lmakort/VALIDSMALL01"]
    assert cascade.last_step == step
    # corners are in the frame, around the code (lower right of the card)
    xs = [x for x, _ in found[0].corners]
    assert 0 < min(xs) < max(xs) < 640


def _still_card_frames(n: int, seed: int = 5) -> tuple[list[np.ndarray], str]:
    """`n` frames of a small card held nearly still: fresh sensor noise and JPEG in each, a
    tremor of about a pixel (the bench's `still` videos, in memory)."""

    mc = make_cards()
    rng = np.random.default_rng(seed)
    payload = mc.BASE + "VALIDSTILL01"
    n_mod = mc.qr_modules(payload, "M").shape[0]
    frac = 1.45 * n_mod / (mc.QR_MM / mc.CARD_MM[0] * 640)
    bg = mc.background(rng, 640, 480)
    card = mc.render_card(payload, rng)
    frames = []
    for _ in range(n):
        t = rng.normal(0, 0.0015, 2)
        shot = mc.Shot(name="still", payload=payload, frame=(640, 480), card_width_frac=frac,
                       roll=6.0, yaw=5.0, pitch=-4.0, shift=(0.05 + t[0], 0.02 + t[1]),
                       defocus_px=0.8, noise=12.0, jpeg=45)
        scene, _ = mc.place(bg.copy(), card, mc.card_corners_in_frame(shot, 640, 480))
        frames.append(cv2.imdecode(np.frombuffer(mc.camera(scene, shot, rng), np.uint8),
                                   cv2.IMREAD_COLOR))
    return frames, payload


def test_frames_that_add_up_decode_where_no_single_frame_does():

    frames, payload = _still_card_frames(10)
    single = Cascade(stack_frames=0)
    assert all(single.decode_frame(f) == [] for f in frames)  # the live loop, frame by frame
    assert Cascade(still_limit_ms=60000).decode(frames[-1]) == []  # nor the whole still cascade
    stack = FrameStack(depth=10)
    for f in frames:
        stack.push(to_gray(f))
    found = stack.decode()
    assert [d.text for d in found] == [payload]
    assert found[0].variant == "frames"
    # and the live loop with combining on gets there within the clip (a generous budget:
    # what is tested is the combining, not this machine's speed)
    live = Cascade(budget_ms=100.0)
    assert any(d.text == payload for f in frames * 3 for d in live.decode_frame(f))


def test_a_frame_stack_registers_each_frame_once(monkeypatch):
    """A live loop combines every other frame: an attempt pays for the frames that arrived
    since the last one, not for the whole stack again."""

    frames, _ = _still_card_frames(6)
    stack = FrameStack(depth=30, min_frames=4)
    calls = []
    real = cv2.phaseCorrelate
    monkeypatch.setattr(cv2, "phaseCorrelate", lambda *a: calls.append(1) or real(*a))
    for f in frames[:5]:
        stack.push(to_gray(f))
    first = stack.combined()
    assert first is not None and len(calls) == 5
    stack.push(to_gray(frames[5]))
    again = stack.combined()
    assert again is not None and len(calls) == 6
    assert again.shape == first.shape
    assert float(np.abs(again - first).mean()) < 3.0  # the same registered scene


def test_frame_stack_starts_again_when_the_scene_changes():

    frames, _ = _still_card_frames(4)
    stack = FrameStack(depth=10)
    for f in frames:
        stack.push(to_gray(f))
    assert len(stack) == 4
    moved = np.roll(to_gray(frames[0]), (160, 200), axis=(0, 1))  # the card is elsewhere now
    stack.push(moved)
    assert len(stack) == 1


@pytest.mark.parametrize("shape", [(33, 33), (40, 200), (200, 40), (32, 900), (60, 60)])
def test_small_and_thin_images_run_the_whole_cascade_without_error(shape):
    # The code window of a small image can be smaller than a deconvolution kernel.
    noise = np.random.default_rng(16).integers(0, 256, shape, dtype=np.uint8)
    assert Cascade(still_limit_ms=60_000).decode(noise) == []


def test_a_streams_budget_is_counted_on_the_clock_it_is_given():
    """The live loop's budget is counted in the clock the cascade is given (a benchmark gives
    the thread's CPU time): on a clock where work costs nothing, one frame runs every step a
    stream may run; on the desk's wall clock, a frame runs only what its budget pays for."""
    frame = np.full((480, 640), 200, np.uint8)
    free = Cascade(clock=lambda: 0.0, stack_frames=0)
    free.decode_frame(frame)
    streamable = {s.name for s in STEPS if not s.stills_only}
    assert free.steps_run == streamable
    ticking = iter(range(0, 10**9, 5))  # every reading of this clock is 5 s later
    slow = Cascade(clock=lambda: float(next(ticking)), stack_frames=0)
    slow.decode_frame(frame)
    assert slow.steps_run == {STEPS[0].name}
