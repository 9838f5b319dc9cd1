"""`verify card --image/--video/--camera` as a user runs it: the real command, real image and
video files, the agency emulator on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import cv2
import numpy as np
import pytest

from drivers import open_source
from drivers.decode import QUICK_STEPS, STEPS
from tests.conftest import run_verify
from tests.support_camera import CARDS, card_photo, make_cards, png_header
from verify.cli.capture import read_from_frames
from verify.lookup.emulator import Emulator


@pytest.fixture(scope="module")
def emu():
    with Emulator() as e:
        yield e


def no_display(env: dict[str, str]) -> dict[str, str]:
    return {**env, "DISPLAY": ""}


@pytest.mark.parametrize("token, code, state, work", [
    ("VALID0001", 0, "valid", True),
    ("NOWORK0001", 0, "valid", False),
    ("NOINFO001", 1, "not_valid", None),
])
def test_card_from_a_photo(emu, tmp_path, token, code, state, work):
    photo = card_photo(tmp_path / "card.jpg", emu.url(token), glare=0.6)
    r = run_verify("card", "--image", str(photo), "--no-preview", "--json", env=emu.env())
    assert r.returncode == code, r.stderr
    status = json.loads(r.stdout)
    assert status["validity"]["state"] == state
    assert status["validity"]["right_to_work"] is work
    assert status["document"]["lookup_token"] == token


def test_card_from_a_video_in_swedish(emu, tmp_path):
    mc = make_cards()
    video = tmp_path / "in-view.mp4"
    mc.video(video, np.random.default_rng(3), emu.url("VALID0042"), (480, 270), frames=30,
             enter=12)
    r = run_verify("card", "--video", str(video), "--no-preview", env=no_display(emu.env()))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "giltig" in r.stdout.lower()


def test_a_committed_fixture_with_the_agency_address_goes_through_the_lookup_rules(emu):
    """The fixtures carry the real agency address; with the emulator's allow-list it is refused
    before any network use — a clear message, exit 2, never a lookup elsewhere."""
    r = run_verify("card", "--image", str(CARDS / "generated" / "glare-01.jpg"), "--no-preview",
                   env=emu.env())
    assert r.returncode == 2
    assert "är ingen tillåten värd för kontroll" in r.stderr  # Swedish by default


def test_a_qr_code_that_is_not_a_card(emu, tmp_path):
    photo = card_photo(tmp_path / "other.jpg", "WIFI:S:guest;T:WPA;P:secret;;")
    r = run_verify("card", "--image", str(photo), "--no-preview", env=emu.env())
    assert r.returncode == 2
    assert r.stderr.startswith("verify: ") and "Traceback" not in r.stderr


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "är tom"),  # Swedish by default
    (lambda p: p.write_text("hello"), "ingen bild"),
    (lambda p: p.write_bytes((CARDS / "generated" / "clean-01.jpg").read_bytes()[:300]),
     "skadad"),
    (lambda p: p.write_bytes(png_header(200_000, 150_000)), "megapixel"),
])
def test_bad_files_exit_2_with_a_message(tmp_path, make, message):
    p = tmp_path / "card.jpg"
    make(p)
    r = run_verify("card", "--image", str(p), "--no-preview")
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr


def test_photo_without_a_code(tmp_path):
    p = tmp_path / "desk.jpg"
    cv2.imwrite(str(p), np.full((240, 320, 3), 200, np.uint8))
    r = run_verify("card", "--image", str(p), "--no-preview", "--lang", "en")
    assert r.returncode == 2
    assert "no LMA card QR code was found" in r.stderr


def test_no_camera_exit_2():
    r = run_verify("card", "--camera", "57", "--no-preview")
    assert r.returncode == 2
    assert "no camera at index 57" in r.stderr and "Traceback" not in r.stderr


def test_video_timeout_is_a_clear_message(tmp_path):
    video = tmp_path / "empty-desk.mp4"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    for i in range(600):
        out.write(np.full((240, 320, 3), i % 200, np.uint8))
    out.release()
    t0 = time.monotonic()
    r = run_verify("card", "--video", str(video), "--no-preview", "--timeout", "0.3")
    assert r.returncode == 2
    assert "inget kort lästes inom 0.3 s" in r.stderr
    assert time.monotonic() - t0 < 20


def test_preview_window_under_xvfb(emu, tmp_path):
    """With a display, the preview window opens, shows the verdict, closes, and the status is
    printed as without it (Xvfb is a real X server)."""
    assert shutil.which("Xvfb"), "Xvfb is installed by ./setup.sh test"
    display = f":{os.getpid() % 400 + 500}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.7)
        photo = card_photo(tmp_path / "card.jpg", emu.url("VALID0001"))
        env = {**emu.env(), "DISPLAY": display, "VERIFY_PREVIEW_HOLD": "0.3"}
        r = run_verify("card", "--image", str(photo), "--json", env=env)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["validity"]["state"] == "valid"
    finally:
        xvfb.terminate()
        xvfb.wait(5)


def test_a_wifi_code_first_then_the_card(emu, tmp_path):
    """A QR code that is not a card is skipped; the card that follows is checked."""
    wifi = cv2.imread(str(card_photo(tmp_path / "w.jpg", "WIFI:S:guest;T:WPA;P:x;;", seed=2)))
    card = cv2.imread(str(card_photo(tmp_path / "c.jpg", emu.url("NOWORK0007"), seed=4)))
    video = tmp_path / "desk.mp4"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (640, 480))
    for f in [wifi] * 5 + [card] * 5:
        out.write(f)
    out.release()
    r = run_verify("card", "--video", str(video), "--no-preview", "--json", env=emu.env())
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["document"]["lookup_token"] == "NOWORK0007"


@pytest.mark.parametrize("name", ["p00-clean.jpg", "p01-photo.jpg", "p00-rotated.jpg"])
def test_a_ut_card_photo_is_answered_from_its_zone_without_the_slow_qr_steps(name):
    """A UT card has no QR code: its zone is read after the quick QR look, and the QR
    cascade's slow steps (seconds of deconvolution on a photo) never run."""
    with open_source(f"image:{CARDS.parent / 'mrz' / 'cards' / name}") as source:
        status = read_from_frames(source, timeout=None, preview=False, show_name=False)
        ran = source.cascade.steps_run
    assert status.document.kind == "ut"
    assert ran <= {step.name for step in STEPS[:QUICK_STEPS]}
