"""Width and height from an image file's header, before decoding any pixels.

Why: a small compressed file can expand to gigabytes of pixels (a "decompression bomb"). Reading
the size from the header first lets the image source refuse or downscale before OpenCV allocates.
Covers the formats people send from phones and scanners: JPEG, PNG, WebP, GIF, BMP, TIFF.
"""

from __future__ import annotations

import struct


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) from the header, or None when the format is not recognised.

    Raises ValueError when the format is recognised but the header is cut short or malformed.
    """
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            w, h = struct.unpack(">II", data[16:24])
            return "png", w, h
        if data.startswith(b"\xff\xd8"):
            return _jpeg(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            w, h = struct.unpack("<HH", data[6:10])
            return "gif", w, h
        if data[:2] == b"BM":
            w, h = struct.unpack("<ii", data[18:26])
            return "bmp", abs(w), abs(h)
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff(data)
    except struct.error:
        raise ValueError("image header is cut short") from None
    return None


def _jpeg(data: bytes) -> tuple[str, int, int]:
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if length < 2:
            raise ValueError("JPEG segment length")
        # SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return "jpeg", w, h
        if marker == 0xDA:  # start of scan before any frame header
            break
        i += 2 + length
    raise ValueError("JPEG without a frame header")


def _webp(data: bytes) -> tuple[str, int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", data[26:30])
        return "webp", w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L":
        b = data[21:25]
        if len(b) < 4:
            raise ValueError("WebP header is cut short")
        bits = int.from_bytes(b, "little")
        return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        b = data[24:30]
        if len(b) < 6:
            raise ValueError("WebP header is cut short")
        return "webp", int.from_bytes(b[0:3], "little") + 1, int.from_bytes(b[3:6], "little") + 1
    raise ValueError("unknown WebP chunk")


def _tiff(data: bytes) -> tuple[str, int, int]:
    end = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(end + "I", data[4:8])
    (count,) = struct.unpack(end + "H", data[ifd:ifd + 2])
    w = h = None
    for k in range(min(count, 512)):
        e = ifd + 2 + 12 * k
        tag, typ = struct.unpack(end + "HH", data[e:e + 4])
        if typ == 3:
            (val,) = struct.unpack(end + "H", data[e + 8:e + 10])
        else:
            (val,) = struct.unpack(end + "I", data[e + 8:e + 12])
        if tag == 256:
            w = val
        elif tag == 257:
            h = val
    if w is None or h is None:
        raise ValueError("TIFF without width/height")
    return "tiff", w, h
