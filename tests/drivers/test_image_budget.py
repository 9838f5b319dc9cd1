"""Images that would decode past the memory budget are refused (or decoded reduced) from their
header alone: the peak memory of `verify card --image` stays within the documented budget."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import PIL.Image
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.decode import decode_image
from drivers.imageheader import ALLOWED, DECODE_BUDGET_BYTES, image_header, sniff
from tests.conftest import REPO, verify_env

UNIT_MEMORY_MAX = 256 * 1024 * 1024  # packaging's systemd unit: MemoryMax=256M


def tiff_16bit_rgb(path: Path, side: int = 7000) -> None:
    """A 49-megapixel 16-bit RGB TIFF (deflate, one strip) of a few hundred KB, written
    without ever holding its pixels."""
    row = bytes(side * 3 * 2)
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    entries = [(256, 4, 1, side), (257, 4, 1, side), (258, 3, 3, -1), (259, 3, 1, 8),
               (262, 3, 1, 2), (273, 4, 1, -2), (277, 3, 1, 3), (278, 4, 1, side),
               (279, 4, 1, len(data)), (284, 3, 1, 1)]
    bits_at = 8 + 2 + 12 * len(entries) + 4
    data_at = bits_at + 6
    out = bytearray(b"II*\x00" + struct.pack("<IH", 8, len(entries)))
    for tag, typ, count, value in entries:
        value = {-1: bits_at, -2: data_at}.get(value, value)
        if typ == 3 and count == 1:
            out += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, typ, count, value)
    out += struct.pack("<I", 0) + struct.pack("<HHH", 16, 16, 16) + data
    path.write_bytes(bytes(out))


def jpeg_declaring(path: Path, side: int = 50000, pad: int = 0) -> None:
    """A small real JPEG whose frame header claims side × side pixels."""
    ok, buf = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
    assert ok
    data = bytearray(buf.tobytes())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", side, side)
    path.write_bytes(bytes(data) + bytes(pad))


def peak_of(*args: str) -> tuple[int, int, str]:
    """Exit code, peak resident memory (bytes) and stderr of `verify ARGS` in a fresh process.

    A wrapper process runs it, so RUSAGE_CHILDREN holds this one child only."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run([sys.executable, '-m', 'verify', *sys.argv[1:]],"
        " capture_output=True, text=True)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
        "print(p.stderr, end='')\n"
    )
    done = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True,
                          env=verify_env({"VERIFY_LANG": "en"}), cwd=REPO, timeout=120)
    first, _, rest = done.stdout.partition("\n")
    code, peak = (int(x) for x in first.split())
    return code, peak, rest


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> int:
    small = tmp_path_factory.mktemp("img") / "small.jpg"
    cv2.imwrite(str(small), np.full((480, 640, 3), 200, np.uint8))
    return peak_of("card", "--image", str(small))[1]


@pytest.mark.parametrize("make, name, words", [
    (tiff_16bit_rgb, "49mp-16bit.tiff", "MB an image may take"),
    (jpeg_declaring, "50000x50000.jpg", "decompression bomb"),
])
def test_the_reported_images_stay_within_the_budget(tmp_path, baseline, make, name, words):
    path = tmp_path / name
    make(path)
    assert path.stat().st_size < 400_000  # small files, huge promises
    code, peak, stderr = peak_of("card", "--image", str(path), "--lang", "en")
    assert code == 2, stderr
    assert words in stderr and "Traceback" not in stderr
    assert peak <= baseline + DECODE_BUDGET_BYTES, (peak >> 20, baseline >> 20)
    assert peak <= UNIT_MEMORY_MAX


def jpeg2000_named_jpg(path: Path) -> Path:
    """A small JPEG 2000 file called photo.jpg declaring 7900 × 7900: OpenCV reads content,
    not names."""
    ok, buf = cv2.imencode(".jp2", np.full((64, 64, 3), 90, np.uint8))
    assert ok
    data = bytearray(buf.tobytes())
    siz = data.find(b"\xff\x51")
    data[siz + 6:siz + 14] = struct.pack(">II", 7900, 7900)
    path.write_bytes(bytes(data))
    return path


# The red team's files: a few bytes each, declaring hundreds of MB of pixels.
RED_TEAM = {
    "jp2-photo.jpg": (jpeg2000_named_jpg, "JPEG 2000"),
    "radiance.hdr": (lambda p: p.write_bytes(
        b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 7900 +X 7900\n" + bytes(2000)),
        "Radiance HDR"),
    "bits.pbm": (lambda p: p.write_bytes(b"P4\n7900 7900\n" + bytes(2000)), "PBM"),
    "deep.pgm": (lambda p: p.write_bytes(b"P5\n7900 7900\n65535\n" + bytes(2000)), "PGM"),
    "sun.ras": (lambda p: p.write_bytes(
        struct.pack(">8I", 0x59A66A95, 7900, 7900, 24, 0, 1, 0, 0) + bytes(2000)),
        "Sun raster"),
    "float.pfm": (lambda p: p.write_bytes(b"PF\n7900 7900\n-1.0\n" + bytes(2000)), "PFM"),
}


@pytest.mark.parametrize("name", sorted(RED_TEAM))
def test_formats_without_a_checked_header_are_refused_by_content(tmp_path, baseline, name):
    """Content sniffed, not the name: each is refused with one sentence naming what it is,
    exit 2, no OpenCV line on stderr, and the peak memory stays a small photo's."""
    make, fmt = RED_TEAM[name]
    path = tmp_path / name
    make(path)
    code, peak, stderr = peak_of("card", "--image", str(path), "--lang", "en")
    assert code == 2, stderr
    assert f"is in the {fmt} format; only JPEG, PNG, WebP, GIF, BMP, TIFF images are read" \
        in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert peak <= baseline + DECODE_BUDGET_BYTES, (peak >> 20, baseline >> 20)


@pytest.mark.parametrize("ext", [".png", ".bmp", ".gif", ".jpg"])
def test_a_damaged_image_says_so_in_one_sentence_without_the_librarys_lines(tmp_path, ext):
    """Cut in half: libpng's and OpenCV's own error lines once reached stderr beside ours."""
    pixels = np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    whole = tmp_path / f"whole{ext}"
    PIL.Image.fromarray(pixels).save(whole)
    path = tmp_path / f"cut{ext}"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    done = subprocess.run([sys.executable, "-m", "verify", "card", "--image", str(path),
                           "--lang", "en", "--no-preview"], capture_output=True, text=True,
                          env=verify_env({"VERIFY_LANG": "en"}), cwd=REPO, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"verify: {path} is a damaged or unsupported image (JPEG, PNG, WebP, BMP or TIFF "
        "expected)"], done.stderr


def test_the_header_gives_depth_and_samples(tmp_path) -> None:
    path = tmp_path / "a.tiff"
    tiff_16bit_rgb(path, side=64)
    header = image_header(path.read_bytes())
    assert header is not None
    assert (header.fmt, header.width, header.channels, header.bits) == ("tiff", 64, 3, 16)
    ok, png = cv2.imencode(".png", np.zeros((10, 20), np.uint16))
    header = image_header(png.tobytes())
    assert header is not None and (header.channels, header.bits) == (1, 16)
    assert header.decode_bytes(gray=True) == 10 * 20 * 2 + 10 * 20


def test_a_large_jpeg_is_decoded_reduced_within_the_budget() -> None:
    # 12,000 × 9,000 (108 MP) with data enough to be real: 1/4 in gray fits the budget.
    ok, buf = cv2.imencode(".jpg", np.full((8, 8, 3), 1, np.uint8))
    data = bytearray(buf.tobytes())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 9000, 12000)
    header = image_header(bytes(data) + bytes(500_000))
    assert header is not None
    assert not header.fits(1, gray=False) and header.fits(4)


MAGIC = [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\xff\xd8", b"II*\x00", b"MM\x00*", b"BM",
         b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8X"]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.sampled_from(MAGIC), st.binary(max_size=300))
def test_hostile_headers_give_a_header_or_value_error(magic: bytes, body: bytes) -> None:
    try:
        header = image_header(magic + body)
    except ValueError:
        return
    if header is not None:
        assert header.width >= 0 and header.height >= 0
        assert header.decode_bytes() >= 0


def test_the_qr_search_on_a_16_megapixel_photo_stays_within_the_budget(tmp_path, baseline):
    # A noisy 4000 × 4000 photo with no code: the search looks everywhere and finds nothing.
    # Before the search went piecewise it peaked about 190 MB over a small photo's peak.
    rng = np.random.default_rng(16)
    noise = rng.integers(0, 256, (500, 500), dtype=np.uint8)
    photo = cv2.resize(noise, (4000, 4000), interpolation=cv2.INTER_LINEAR)
    path = tmp_path / "16mp.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR))
    del noise, photo
    code, peak, stderr = peak_of("card", "--image", str(path), "--lang", "en", "--no-preview")
    assert code == 2 and "no LMA card QR code" in stderr, stderr
    assert peak <= baseline + DECODE_BUDGET_BYTES, (peak >> 20, baseline >> 20)
    assert peak <= UNIT_MEMORY_MAX


def test_a_small_code_in_a_16_megapixel_photo_is_still_found(tmp_path):
    # The piecewise search must not lose what the whole-frame search read: a code of about
    # 6 px a module in a corner of a 4000 × 3000 photo is read at full resolution.
    code_img = cv2.imread(str(REPO / "fixtures" / "cards" / "generated" / "clean-01.jpg"))
    assert code_img is not None
    photo = np.full((3000, 4000, 3), 120, np.uint8)
    big = cv2.resize(code_img, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
    photo[2000:2000 + big.shape[0], 2700:2700 + big.shape[1]] = big[:1000, :1300]
    found = decode_image(photo)
    expected = (REPO / "fixtures" / "cards" / "generated" / "clean-01.txt").read_text().strip()
    assert [d.text for d in found] == [expected]
    x, y = found[0].corners[0]
    assert 2700 <= x < 4000 and 2000 <= y < 3000


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.sampled_from([b"", b"P5", b"P4\n", b"#?RADIANCE", b"\x00\x00\x01\x00", b"GIF89a",
                        b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xffO\xffQ"]), st.binary(max_size=200))
def test_any_bytes_are_an_allowed_header_a_named_refusal_or_unknown(magic: bytes, body: bytes):
    data = magic + body
    try:
        header = image_header(data)
    except ValueError:
        return
    name = sniff(data)
    assert header is None or header.fmt in ALLOWED
    assert name is None or isinstance(name, str)
    if header is not None and header.fmt == "gif":
        assert header.width >= 0 and header.height >= 0
