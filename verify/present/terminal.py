"""Text from outside (a web page, a profile file) made safe to print on a terminal. Pure.

A page can hold escape sequences (`ESC [ 2 J` clears the screen, OSC 8 makes links, OSC 52
writes the clipboard) and direction overrides that reorder what the eye reads. None of it may
reach the terminal: each control or format character is shown as a visible `\\xNN` / `\\uNNNN`.
"""

from __future__ import annotations

import unicodedata


def printable(text: str) -> str:
    """`text` with every control and format character (C0, C1, DEL, bidi and zero-width
    marks) replaced by its visible escape."""
    out = []
    for c in text:
        if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            out.append(f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return "".join(out)
