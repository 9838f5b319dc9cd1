#!/usr/bin/env python3
"""Peak resident memory of `verify card --image` for every image format OpenCV or Pillow opens.

    PYTHONPATH=. .venv/bin/python bench/image_formats.py [--out DIR] [--only NAME …]

For each format this writes a small real photo (640 × 480, no code on it) and, where a header
can promise more than the file holds, a "bomb": a few KB declaring hundreds of megapixels. Each
file runs through `/usr/bin/time -v .venv/bin/python -m verify card --image F --no-preview` in a
fresh process; the table gives the exit code, what was said, and the peak resident set size.
A first run on the small JPEG is the baseline (the process before any decoding); every row must
stay under baseline + the 64 MiB decode budget, or be refused from its header.

Exit 2 for every row: a photo without a code says "no LMA card QR code was found" (the whole
decode and QR search ran), the others are refused or damaged.
"""

from __future__ import annotations

import argparse
import io
import re
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import PIL.Image

from drivers.imageheader import DECODE_BUDGET_BYTES

REPO = Path(__file__).resolve().parents[1]
SIDE_W, SIDE_H = 640, 480


def photo() -> np.ndarray:
    """A photo-like image: gradient plus noise (compresses like a photo, not like a flat one)."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:SIDE_H, 0:SIDE_W]
    base = np.stack([x * 255 // SIDE_W, y * 255 // SIDE_H, (x + y) * 255 // (SIDE_W + SIDE_H)], -1)
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


def cv_writer(ext: str, convert: Callable[[np.ndarray], np.ndarray] = lambda a: a,
              params: tuple[int, ...] = ()) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        ok, buf = cv2.imencode(ext, convert(photo()), list(params))
        if not ok:
            raise RuntimeError(f"OpenCV cannot write {ext}")
        path.write_bytes(buf.tobytes())
    return write


def pil_writer(fmt: str, mode: str = "RGB", **kw: object) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        image = PIL.Image.fromarray(photo()[:, :, ::-1].copy()).convert(mode)
        out = io.BytesIO()
        image.save(out, fmt, **kw)
        path.write_bytes(out.getvalue())
    return write


def raw(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def png_bomb(side: int = 20000) -> bytes:
    """8-bit RGB PNG of side² pixels, all zero: a few hundred KB of deflate."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    comp = zlib.compressobj(9)
    row = bytes(1 + side * 3)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def jpeg_bomb(side: int = 50000) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
    data = bytearray(buf.tobytes())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", side, side)
    return bytes(data)


def bmp_bomb(side: int = 30000) -> bytes:
    head = struct.pack("<2sIHHI", b"BM", 0, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, side, side, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return head + info + bytes(4096)


def gif_bomb() -> bytes:
    return (b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0)
            + b"\x2c" + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\x02\x02\x44\x01\x00;")


def webp_bomb() -> bytes:
    body = b"VP8X" + struct.pack("<I", 10) + bytes(4) + (16383).to_bytes(3, "little") * 2
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def tiff_bomb() -> bytes:
    sys.path.insert(0, str(REPO))
    from tests.drivers.test_image_budget import tiff_16bit_rgb  # the test's generator

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "t.tiff"
        tiff_16bit_rgb(path)
        return path.read_bytes()


def jp2_bomb() -> bytes:
    """A real JPEG 2000 codestream whose SIZ marker declares 7900 × 7900."""
    ok, buf = cv2.imencode(".jp2", np.full((64, 64, 3), 90, np.uint8))
    data = bytearray(buf.tobytes())
    siz = data.find(b"\xff\x51")
    data[siz + 6:siz + 14] = struct.pack(">II", 7900, 7900)
    return bytes(data)


def hdr_rle_bomb(side: int = 7900) -> bytes:
    """Radiance HDR, run-length coded: each scanline a few hundred bytes, 12 bytes a pixel
    decoded (float32 RGB). Written without holding its pixels."""
    runs = b""
    left = side
    while left:
        n = min(127, left)
        runs += bytes([128 + n, 100])
        left -= n
    line = bytes([2, 2, side >> 8, side & 0xFF]) + runs * 3 + runs.replace(b"d", b"\x80")
    head = f"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y {side} +X {side}\n".encode()
    return head + line * side


def pbm_bomb(side: int = 7900) -> bytes:
    """A raw PBM: one bit a pixel in the file, a byte (and then three) a pixel decoded."""
    return f"P4\n{side} {side}\n".encode() + bytes((side + 7) // 8 * side)


def cases() -> list[tuple[str, str, Callable[[Path], None]]]:
    """(format, file name, writer): every format OpenCV or Pillow opens, small and bomb."""
    def gray(a: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)

    return [
        ("JPEG", "photo.jpg", cv_writer(".jpg")),
        ("JPEG bomb 50000²", "bomb.jpg", raw(jpeg_bomb())),
        ("PNG", "photo.png", cv_writer(".png")),
        ("PNG bomb 20000²", "bomb.png", raw(png_bomb())),
        ("WebP", "photo.webp", cv_writer(".webp")),
        ("WebP bomb 16383²", "bomb.webp", raw(webp_bomb())),
        ("GIF (Pillow)", "photo.gif", pil_writer("GIF", "P")),
        ("GIF bomb 65535²", "bomb.gif", raw(gif_bomb())),
        ("BMP", "photo.bmp", cv_writer(".bmp")),
        ("BMP bomb 30000²", "bomb.bmp", raw(bmp_bomb())),
        ("TIFF", "photo.tiff", cv_writer(".tiff")),
        ("TIFF 16-bit bomb 7000²", "bomb.tiff", raw(tiff_bomb())),
        ("JPEG 2000", "photo.jp2", cv_writer(".jp2")),
        ("JPEG 2000 named .jpg, 7900²", "jp2-photo.jpg", raw(jp2_bomb())),
        ("AVIF", "photo.avif", cv_writer(".avif")),
        ("Radiance HDR", "photo.hdr", cv_writer(".hdr", lambda a: a.astype(np.float32) / 255)),
        ("Radiance HDR bomb 7900²", "bomb.hdr", raw(
            b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 7900 +X 7900\n" + bytes(2000))),
        ("Radiance HDR RLE 7900² (real data)", "rle.hdr", raw(hdr_rle_bomb())),
        ("PBM", "photo.pbm", cv_writer(".pbm", gray)),
        ("PBM 7900² (real data)", "full.pbm", raw(pbm_bomb())),
        ("PBM bomb 7900²", "bomb.pbm", raw(b"P4\n7900 7900\n" + bytes(2000))),
        ("PGM 16-bit bomb 7900²", "bomb.pgm", raw(b"P5\n7900 7900\n65535\n" + bytes(2000))),
        ("PPM", "photo.ppm", cv_writer(".ppm")),
        ("PAM", "photo.pam", cv_writer(".pam")),
        ("PFM", "photo.pfm", cv_writer(".pfm", lambda a: a.astype(np.float32) / 255)),
        ("Sun raster", "photo.ras", cv_writer(".ras")),
        ("Sun raster bomb 7900²", "bomb.ras", raw(
            struct.pack(">8I", 0x59A66A95, 7900, 7900, 24, 0, 1, 0, 0) + bytes(2000))),
        ("ICO (Pillow)", "photo.ico", pil_writer("ICO")),
        ("PCX (Pillow)", "photo.pcx", pil_writer("PCX")),
        ("TGA (Pillow)", "photo.tga", pil_writer("TGA")),
        ("SGI (Pillow)", "photo.sgi", pil_writer("SGI")),
        ("QOI (Pillow)", "photo.qoi", pil_writer("QOI")),
        ("DDS (Pillow)", "photo.dds", pil_writer("DDS", "RGBA")),
        ("IM (Pillow)", "photo.im", pil_writer("IM")),
        ("MSP (Pillow)", "photo.msp", pil_writer("MSP", "1")),
        ("XBM (Pillow)", "photo.xbm", pil_writer("XBM", "1")),
        ("BLP (Pillow)", "photo.blp", pil_writer("BLP", "P")),
        ("ICNS (Pillow)", "photo.icns", pil_writer("ICNS")),
        ("SPIDER (Pillow)", "photo.spi", pil_writer("SPIDER", "F")),
        ("PDF (Pillow)", "photo.pdf", pil_writer("PDF")),
    ]


def run(path: Path) -> tuple[int, int, str]:
    """Exit code, peak RSS in bytes and the last stderr line of `verify card --image`."""
    done = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-m", "verify", "card", "--image", str(path),
         "--no-preview", "--lang", "en"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    code = int(re.search(r"Exit status: (\d+)", done.stderr).group(1))
    said = [ln for ln in done.stderr.splitlines() if ln.startswith("verify:")]
    last = said[-1] if said else (done.stdout.strip().splitlines() or [""])[-1]
    return code, peak * 1024, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="keep the files here (default: a temp folder)")
    parser.add_argument("--only", nargs="*", help="only these file names")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        base = folder / "baseline.jpg"
        cv2.imwrite(str(base), photo())
        _, baseline, _ = run(base)
        limit = baseline + DECODE_BUDGET_BYTES
        print(f"baseline (640×480 JPEG): {baseline / 2**20:.0f} MiB; limit baseline + 64 MiB = "
              f"{limit / 2**20:.0f} MiB\n")
        print("| format | file | bytes | exit | peak RSS MiB | within | said |")
        print("|---|---|---|---|---|---|---|")
        over = 0
        for fmt, name, write in cases():
            if args.only and name not in args.only:
                continue
            path = folder / name
            try:
                write(path)
            except Exception as exc:  # a writer this build lacks: say so, go on
                print(f"| {fmt} | {name} | – | – | – | – | not written here: {exc} |")
                continue
            code, peak, said = run(path)
            ok = peak <= limit
            over += not ok
            said = said.replace(str(path), name).replace("verify: ", "")
            print(f"| {fmt} | {name} | {path.stat().st_size:,} | {code} | {peak / 2**20:.0f} | "
                  f"{'yes' if ok else 'NO'} | {said[:110]} |")
        print(f"\n{over} over the limit")


if __name__ == "__main__":
    main()
