"""Width and height from an image file's header, before decoding any pixels.

Why: a small compressed file can expand to gigabytes of pixels (a "decompression bomb"). Reading
the size from the header first lets the image source refuse or downscale before OpenCV allocates.
Covers the formats people send from phones and scanners: JPEG, PNG, WebP, GIF, BMP, TIFF. These
are the only formats decoded (`ALLOWED`): OpenCV reads any format it knows by content, whatever
the file is called, and a format whose header is not checked here has no bound (a 2.2 KB
JPEG 2000 file decodes to 800 MB). `sniff` names the others, so the refusal can say what it saw.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

# What decoding one image may cost in decoder memory (pixel buffers), judged from the header
# before any pixel is decoded. The desk daemon's unit has MemoryMax=256M and the process itself
# takes about 105 MB before it reads a photo; docs/hostile-conditions.md has the arithmetic.
DECODE_BUDGET_BYTES = 64 * 1024 * 1024
# The formats decoded: each has its header read here first. Everything else is refused.
ALLOWED = ("jpeg", "png", "webp", "gif", "bmp", "tiff")
ALLOWED_NAMES = "JPEG, PNG, WebP, GIF, BMP, TIFF"

# Formats OpenCV or Pillow would read that are refused, by their opening bytes: (offset, magic).
_OTHER_FORMATS: tuple[tuple[str, int, tuple[bytes, ...]], ...] = (
    ("JPEG 2000", 0, (b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")),
    ("Radiance HDR", 0, (b"#?RADIANCE", b"#?RGBE")),
    ("PFM", 0, (b"PF\n", b"Pf\n", b"PF\r", b"Pf\r", b"PF ", b"Pf ")),
    ("Sun raster", 0, (b"\x59\xa6\x6a\x95",)),
    ("OpenEXR", 0, (b"v/1\x01",)),
    ("AVIF", 4, (b"ftypavif", b"ftypavis")),
    ("HEIF", 4, (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftypheis")),
    ("Photoshop", 0, (b"8BPS",)),
    ("PCX", 0, (b"\x0a\x05\x01", b"\x0a\x03\x01", b"\x0a\x02\x01", b"\x0a\x00\x01")),
    ("QOI", 0, (b"qoif",)),
    ("SGI", 0, (b"\x01\xda",)),
    ("DDS", 0, (b"DDS ",)),
    ("ICNS", 0, (b"icns",)),
    ("PDF", 0, (b"%PDF",)),
    ("PostScript", 0, (b"%!PS", b"\xc5\xd0\xd3\xc6")),
    ("FITS", 0, (b"SIMPLE  =",)),
    ("XBM", 0, (b"#define ",)),
    ("XPM", 0, (b"/* XPM */",)),
    ("BLP", 0, (b"BLP1", b"BLP2")),
    ("GIMP brush", 20, (b"GIMP",)),
    ("IM", 0, (b"Image type:",)),
    ("MSP", 0, (b"DanM", b"LinS")),
    ("SVG", 0, (b"<svg", b"<?xml")),
)


def sniff(data: bytes) -> str | None:
    """The name of an image format that is not decoded here, told by its content; else None.

    Netpbm files (PBM, PGM, PPM, PAM: `P1`…`P7`) are named too: OpenCV reads them, and a 16-bit
    PGM or a PBM declares any size in a few bytes.
    """
    if len(data) >= 3 and data[0:1] == b"P" and data[1:2] in b"1234567" and data[1:2] \
            and data[2:3] in b" \t\r\n#":
        return {b"1": "PBM", b"4": "PBM", b"2": "PGM", b"5": "PGM", b"3": "PPM", b"6": "PPM",
                b"7": "PAM"}[data[1:2]]
    # ICO: reserved 0, type 1, at least one image whose entry's reserved byte is 0 (a TGA can
    # begin with the same four bytes).
    if data[:4] == b"\x00\x00\x01\x00" and data[4:6] not in (b"", b"\x00\x00") \
            and data[9:10] == b"\x00":
        return "ICO"
    for name, offset, magics in _OTHER_FORMATS:
        if any(data[offset:offset + len(m)] == m for m in magics):
            return name
    return None


@dataclass(frozen=True)
class ImageHeader:
    """What the header promises: size, samples per pixel and bits per sample."""

    fmt: str
    width: int
    height: int
    channels: int = 3
    bits: int = 8
    progressive: bool = False  # a progressive JPEG keeps every coefficient of the full image

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def decode_bytes(self, reduction: int = 1, *, gray: bool = True) -> int:
        """Peak decoder memory, estimated: the image at its own depth, plus the 8-bit result.

        JPEG can decode scaled down (1/2, 1/4, 1/8) inside libjpeg; other formats decode at full
        size first, and OpenCV converts afterwards, so both buffers are alive at once.
        """
        out = math.ceil(self.width / reduction) * math.ceil(self.height / reduction)
        out_channels = 1 if gray else 3
        if self.fmt == "jpeg":
            estimate = out * out_channels
            if self.progressive:
                estimate += self.pixels * self.channels * 2  # 16-bit coefficients, full size
            return estimate
        native = self.pixels * max(self.channels, 1) * max(1, math.ceil(self.bits / 8))
        return native + out * out_channels

    def fits(self, reduction: int = 1, *, gray: bool = True,
             budget: int = DECODE_BUDGET_BYTES) -> bool:
        return self.decode_bytes(reduction, gray=gray) <= budget


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) from the header, or None when the format is not recognised.

    Raises ValueError when the format is recognised but the header is cut short or malformed.
    """
    header = image_header(data)
    return None if header is None else (header.fmt, header.width, header.height)


def image_header(data: bytes) -> ImageHeader | None:
    """The header's promises, or None when the format is not recognised.

    Raises ValueError when the format is recognised but the header is cut short or malformed.
    """
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            w, h, bits, color = struct.unpack(">IIBB", data[16:26])
            channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(color, 4)
            return ImageHeader("png", w, h, channels, 8 if color == 3 else bits)
        if data.startswith(b"\xff\xd8"):
            return _jpeg(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            fmt, w, h = _webp(data)
            return ImageHeader(fmt, w, h, 4)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return _gif(data)
        if data[:2] == b"BM":
            w, h, _planes, bpp = struct.unpack("<iiHH", data[18:30])
            return ImageHeader("bmp", abs(w), abs(h), 4 if bpp > 24 else 3)
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff(data)
    except struct.error:
        raise ValueError("image header is cut short") from None
    return None


def _jpeg(data: bytes) -> ImageHeader:
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
            bits, h, w, components = struct.unpack(">BHHB", data[i + 4:i + 10])
            # SOF2, SOF6, SOF10, SOF14: progressive
            progressive = marker in (0xC2, 0xC6, 0xCA, 0xCE)
            # Sequential JPEG spends at least 2 bits on every 8×8 block (a DC code and an
            # end-of-block code): a file shorter than that cannot hold the pixels it declares.
            # It is cut short, or a decompression bomb; libjpeg would "decode" it anyway.
            blocks = math.ceil(w / 8) * math.ceil(h / 8)
            if not progressive and len(data) < blocks // 4:
                raise ValueError(
                    f"it declares {w}×{h} pixels but holds only {len(data)} bytes, too few for "
                    "that many: cut short, or a decompression bomb"
                )
            return ImageHeader("jpeg", w, h, components, bits, progressive)
        if marker == 0xDA:  # start of scan before any frame header
            break
        i += 2 + length
    raise ValueError("JPEG without a frame header")


def _gif(data: bytes) -> ImageHeader:
    """The logical screen, grown to hold the first frame wherever its descriptor places it."""
    w, h, packed = struct.unpack("<HHB", data[6:11])
    i = 13 + (3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0)
    n = len(data)
    while i < n:
        block = data[i]
        if block == 0x2C:  # image descriptor: left, top, width, height
            left, top, fw, fh = struct.unpack("<HHHH", data[i + 1:i + 9])
            return ImageHeader("gif", max(w, left + fw), max(h, top + fh), 4)
        if block != 0x21:  # not an extension: the trailer, or damage
            break
        i += 2  # introducer and label, then sub-blocks until an empty one
        while i < n and data[i]:
            i += 1 + data[i]
        i += 1
    return ImageHeader("gif", w, h, 4)


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


def _tiff(data: bytes) -> ImageHeader:
    end = "<" if data[:2] == b"II" else ">"
    (ifd,) = struct.unpack(end + "I", data[4:8])
    (count,) = struct.unpack(end + "H", data[ifd:ifd + 2])
    w = h = None
    bits, channels = 8, 1
    for k in range(min(count, 512)):
        e = ifd + 2 + 12 * k
        tag, typ, n = struct.unpack(end + "HHI", data[e:e + 8])
        if typ == 3:
            (val,) = struct.unpack(end + "H", data[e + 8:e + 10])
            if tag == 258 and n > 2:  # several bits-per-sample values: at an offset
                (offset,) = struct.unpack(end + "I", data[e + 8:e + 12])
                (val,) = struct.unpack(end + "H", data[offset:offset + 2])
        else:
            (val,) = struct.unpack(end + "I", data[e + 8:e + 12])
        if tag == 256:
            w = val
        elif tag == 257:
            h = val
        elif tag == 258:
            bits = val
        elif tag == 277:
            channels = val
    if w is None or h is None:
        raise ValueError("TIFF without width/height")
    return ImageHeader("tiff", w, h, max(1, channels), max(1, bits))
