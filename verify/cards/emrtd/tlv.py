"""BER-TLV as the chip speaks it, bounded: hostile lengths and nesting are refused early.

A chip (or something pretending to be one) chooses every length and every level of nesting
in what it sends. Nothing here allocates more than the bytes it was given, recursion is never
used, and `check_der` walks a whole DER structure iteratively so an ASN.1 library only ever
sees input whose depth and element count are within the limits below.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DEPTH = 24  # a real EF.SOD nests about 12 deep (CMS → certificate → extensions)
MAX_ELEMENTS = 20_000  # a real EF.SOD has a few hundred


class TlvError(ValueError):
    """The bytes are not well-formed, bounded BER-TLV."""


@dataclass(frozen=True)
class Tlv:
    """One element: its tag (as an int of its 1-3 tag bytes), value, and where it ended."""

    tag: int
    value: bytes
    end: int
    constructed: bool


def encode_length(n: int) -> bytes:
    """A BER length field: short form below 128, else 0x81/0x82 and the bytes."""
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return b"\x81" + bytes([n])
    return b"\x82" + n.to_bytes(2, "big")


def read_header(data: bytes, pos: int = 0) -> tuple[int, bool, int, int]:
    """(tag, constructed, length, value start) of the element at `pos`; the length may point
    past the end of `data` (callers reading a file by parts use it to know the total size)."""
    n = len(data)
    if pos >= n:
        raise TlvError("no tag")
    first = data[pos]
    constructed = bool(first & 0x20)
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:  # multi-byte tag: at most two more bytes
        for i in range(2):
            if pos >= n:
                raise TlvError("tag cut short")
            tag = (tag << 8) | data[pos]
            pos += 1
            if not data[pos - 1] & 0x80:
                break
            if i == 1:
                raise TlvError("tag longer than three bytes")
    if pos >= n:
        raise TlvError("no length")
    lb = data[pos]
    pos += 1
    if lb < 0x80:
        length = lb
    elif lb == 0x80:
        raise TlvError("indefinite length")
    else:
        count = lb & 0x7F
        if count > 3:
            raise TlvError("length field longer than three bytes")
        if pos + count > n:
            raise TlvError("length cut short")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    return tag, constructed, length, pos


def read_tlv(data: bytes, pos: int = 0) -> Tlv:
    """The element at `pos`, its value wholly inside `data`."""
    tag, constructed, length, start = read_header(data, pos)
    end = start + length
    if end > len(data):
        raise TlvError("length runs past the data")
    return Tlv(tag=tag, value=bytes(data[start:end]), end=end, constructed=constructed)


def children(value: bytes) -> list[Tlv]:
    """The elements one level inside a constructed value, which they must fill exactly."""
    out: list[Tlv] = []
    pos = 0
    while pos < len(value):
        if len(out) >= MAX_ELEMENTS:
            raise TlvError("too many elements")
        item = read_tlv(value, pos)
        out.append(item)
        pos = item.end
    return out


def find(value: bytes, tag: int) -> bytes | None:
    """The value of the first child with `tag`, or None."""
    for item in children(value):
        if item.tag == tag:
            return item.value
    return None


def unwrap(data: bytes, tag: int) -> bytes:
    """The value of the one element `data` is, which must carry `tag` and nothing after it."""
    item = read_tlv(data)
    if item.tag != tag:
        raise TlvError(f"expected tag {tag:X}, found {item.tag:X}")
    if data[item.end:].strip(b"\x00"):  # files may be padded with zero bytes, nothing else
        raise TlvError("bytes after the element")
    return item.value


def check_der(data: bytes, *, max_depth: int = MAX_DEPTH,
              max_elements: int = MAX_ELEMENTS) -> None:
    """Walk every element without recursion; refuse deep nesting, too many elements, lengths
    that overrun their parent, and indefinite lengths (DER has none)."""
    stack: list[int] = [len(data)]  # end offset of each open constructed element
    pos = 0
    count = 0
    while stack:
        if pos == stack[-1]:
            stack.pop()
            continue
        if pos > stack[-1]:
            raise TlvError("element overruns its parent")
        count += 1
        if count > max_elements:
            raise TlvError("too many elements")
        _tag, constructed, length, start = read_header(data, pos)
        end = start + length
        if end > stack[-1]:
            raise TlvError("length runs past its parent")
        if constructed:
            if len(stack) > max_depth:
                raise TlvError("nested too deep")
            stack.append(end)
            pos = start
        else:
            pos = end
    if pos != len(data):
        raise TlvError("bytes after the structure")
