"""Keyboard layouts for keyboard-wedge scanners: key codes to text, and repair of mangled text.

A keyboard-wedge scanner does not send characters; it sends KEY PRESSES chosen for the layout the
scanner is set to. The computer turns them into characters with ITS layout. When the two differ,
`https://` from a scanner set to US arrives on a Swedish desktop as `httpsÖ--` (`:` is Shift+the
key that is `Ö` in Swedish, `/` is the key that is `-`). Two remedies live here:

- `KeyDecoder`: for evdev, map raw key codes with the SCANNER's layout, so the desktop's layout
  never matters.
- `repair`: for text that already went through the wrong layout (a scanner typing into a
  terminal), re-key it: character -> the key press that produced it on the desktop -> the character
  the scanner meant. `repair_auto` only accepts a repair that turns a broken payload into a
  well-formed URL or MRZ, so an intact payload is never touched.

Key codes are Linux input event codes (linux/input-event-codes.h, the values python-evdev's
`ecodes` has); they are spelled out here so this module works without evdev installed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

EV_KEY = 1
KEY_ESC, KEY_BACKSPACE, KEY_TAB, KEY_ENTER, KEY_SPACE, KEY_KPENTER = 1, 14, 15, 28, 57, 96
KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK, KEY_NUMLOCK = 42, 54, 58, 69
KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTALT, KEY_RIGHTALT = 29, 97, 56, 100

_ROWS = {  # key code -> the unshifted character on a US keyboard (letters, digits)
    **{16 + i: c for i, c in enumerate("qwertyuiop")},
    **{30 + i: c for i, c in enumerate("asdfghjkl")},
    **{44 + i: c for i, c in enumerate("zxcvbnm")},
    **{2 + i: c for i, c in enumerate("1234567890")},
}
KEY_MINUS, KEY_EQUAL, KEY_LEFTBRACE, KEY_RIGHTBRACE = 12, 13, 26, 27
KEY_SEMICOLON, KEY_APOSTROPHE, KEY_GRAVE, KEY_BACKSLASH = 39, 40, 41, 43
KEY_COMMA, KEY_DOT, KEY_SLASH, KEY_102ND = 51, 52, 53, 86
KEYPAD = {
    71: "7",
    72: "8",
    73: "9",
    74: "-",
    75: "4",
    76: "5",
    77: "6",
    78: "+",
    79: "1",
    80: "2",
    81: "3",
    82: "0",
    83: ".",
    55: "*",
    98: "/",
}

# Dead keys: a character that waits for the next key; composed results for the letters.
DEAD_ACUTE, DEAD_GRAVE, DEAD_DIAERESIS, DEAD_CIRCUMFLEX, DEAD_TILDE = "´", "`", "¨", "^", "~"


def _compose_table() -> dict[tuple[str, str], str]:

    marks = {
        DEAD_ACUTE: "\u0301",
        DEAD_GRAVE: "\u0300",
        DEAD_DIAERESIS: "\u0308",
        DEAD_CIRCUMFLEX: "\u0302",
        DEAD_TILDE: "\u0303",
    }
    table: dict[tuple[str, str], str] = {}
    for dead, mark in marks.items():
        for letter in "aeiouyAEIOUYnN":
            composed = unicodedata.normalize("NFC", letter + mark)
            if len(composed) == 1:
                table[(dead, letter)] = composed
    return table


COMPOSE = _compose_table()


@dataclass(frozen=True)
class Layout:
    """Key code -> (plain, shifted, AltGr) characters; `dead` are the dead-key characters."""

    name: str
    keys: dict[int, tuple[str, str, str]]
    dead: frozenset[str] = field(default_factory=frozenset)

    def char(self, code: int, *, shift: bool, altgr: bool, caps: bool = False) -> str:
        plain, shifted, third = self.keys.get(code, ("", "", ""))
        if altgr:
            return third
        if caps and plain.isalpha() and len(plain) == 1:
            shift = not shift
        return shifted if shift else plain

    def keystroke(self, ch: str) -> tuple[int, int] | None:
        """(key code, level 0/1/2) that types `ch` in this layout, if any key does."""
        return self._reverse().get(ch)

    def _reverse(self) -> dict[str, tuple[int, int]]:
        cached = _REVERSE.get(self.name)
        if cached is None:
            cached = {}
            for code in sorted(self.keys):
                for level, ch in enumerate(self.keys[code]):
                    if ch and ch not in cached:
                        cached[ch] = (code, level)
            _REVERSE[self.name] = cached
        return cached


_REVERSE: dict[str, dict[str, tuple[int, int]]] = {}


def _base() -> dict[int, tuple[str, str, str]]:
    keys = {code: (c, c.upper(), "") for code, c in _ROWS.items() if c.isalpha()}
    keys[KEY_SPACE] = (" ", " ", " ")
    return keys


def _us() -> Layout:
    keys = _base()
    for code, plain, shifted in zip(range(2, 12), "1234567890", "!@#$%^&*()", strict=True):
        keys[code] = (plain, shifted, "")
    keys.update(
        {
            KEY_MINUS: ("-", "_", ""),
            KEY_EQUAL: ("=", "+", ""),
            KEY_LEFTBRACE: ("[", "{", ""),
            KEY_RIGHTBRACE: ("]", "}", ""),
            KEY_SEMICOLON: (";", ":", ""),
            KEY_APOSTROPHE: ("'", '"', ""),
            KEY_GRAVE: ("`", "~", ""),
            KEY_BACKSLASH: ("\\", "|", ""),
            KEY_COMMA: (",", "<", ""),
            KEY_DOT: (".", ">", ""),
            KEY_SLASH: ("/", "?", ""),
            KEY_102ND: ("<", ">", ""),  # the extra key of ISO keyboards, as X11/Wayland map it
        }
    )
    return Layout("us", keys)


def _se() -> Layout:
    keys = _base()
    altgr = {2: "", 3: "@", 4: "£", 5: "$", 6: "€", 7: "", 8: "{", 9: "[", 10: "]", 11: "}"}
    for code, plain, shifted in zip(range(2, 12), "1234567890", '!"#¤%&/()=', strict=True):
        keys[code] = (plain, shifted, altgr.get(code, ""))
    keys.update(
        {
            KEY_MINUS: ("+", "?", "\\"),
            KEY_EQUAL: (DEAD_ACUTE, DEAD_GRAVE, ""),
            KEY_LEFTBRACE: ("å", "Å", ""),
            KEY_RIGHTBRACE: (DEAD_DIAERESIS, DEAD_CIRCUMFLEX, DEAD_TILDE),
            KEY_SEMICOLON: ("ö", "Ö", ""),
            KEY_APOSTROPHE: ("ä", "Ä", ""),
            KEY_GRAVE: ("§", "½", ""),
            KEY_BACKSLASH: ("'", "*", ""),
            KEY_COMMA: (",", ";", ""),
            KEY_DOT: (".", ":", ""),
            KEY_SLASH: ("-", "_", ""),
            KEY_102ND: ("<", ">", "|"),
        }
    )
    return Layout(
        "se", keys, frozenset({DEAD_ACUTE, DEAD_GRAVE, DEAD_DIAERESIS, DEAD_CIRCUMFLEX, DEAD_TILDE})
    )


LAYOUTS: dict[str, Layout] = {"us": _us(), "se": _se()}
LAYOUTS["sv"] = LAYOUTS["se"]


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown keyboard layout {name!r}; known: us, se") from None


class KeyDecoder:
    """Key events -> text in the SCANNER's layout; tracks Shift, AltGr, Caps Lock, Ctrl, dead keys.

    Enter gives CR and Tab gives TAB, so the framer sees the same terminators as on a serial line;
    Ctrl+letter gives the control character (scanners send GS as Ctrl+]); key repeats are ignored.
    Alt+keypad digits (the layout-independent "Alt mode" many scanners offer) give the character
    with that code when Alt is released: a leading 0 means Windows-1252, otherwise up to 255
    code page 437, above that Unicode — as Windows reads them.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.shift = 0
        self.ctrl = 0
        self.altgr = False
        self.caps = False
        self.dead = ""
        self.alt = False
        self.alt_digits = ""

    def feed(self, ev_type: int, code: int, value: int) -> str:
        if ev_type != EV_KEY:
            return ""
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            self.shift = max(0, self.shift + (1 if value == 1 else -1 if value == 0 else 0))
            return ""
        if code in (KEY_LEFTCTRL, KEY_RIGHTCTRL):
            self.ctrl = max(0, self.ctrl + (1 if value == 1 else -1 if value == 0 else 0))
            return ""
        if code == KEY_RIGHTALT:
            if value in (0, 1):
                self.altgr = value == 1
            return ""
        if code == KEY_LEFTALT:
            if value == 1:
                self.alt, self.alt_digits = True, ""
            elif value == 0:
                self.alt = False
                digits, self.alt_digits = self.alt_digits, ""
                return _alt_code(digits)
            return ""
        if value != 1:  # key up or autorepeat
            return ""
        if self.alt:
            if KEYPAD.get(code, "").isdigit() and len(self.alt_digits) < 7:
                self.alt_digits += KEYPAD[code]
            return ""  # other Alt+key combinations are shortcuts, not text
        if code == KEY_CAPSLOCK:
            self.caps = not self.caps
            return ""
        if code in (KEY_ENTER, KEY_KPENTER):
            return self._after_dead("\r")
        if code == KEY_TAB:
            return self._after_dead("\t")
        if code in KEYPAD:
            return self._after_dead(KEYPAD[code])
        ch = self.layout.char(code, shift=self.shift > 0, altgr=self.altgr, caps=self.caps)
        if not ch:
            return ""
        if self.ctrl:
            base = self.layout.char(code, shift=False, altgr=False)
            if len(base) == 1 and ("a" <= base <= "z" or base in "[]\\"):
                return chr(ord(base.upper()) & 0x1F) if base.isalpha() else chr(ord(base) & 0x1F)
            if self.layout.name == "us" and ch in "[]\\^_":
                return chr(ord(ch) & 0x1F)
            return ""
        if ch in self.layout.dead:
            if self.dead:
                out, self.dead = self.dead + ch, ""  # two dead keys: both print
                return out
            self.dead = ch
            return ""
        return self._after_dead(ch)

    def _after_dead(self, ch: str) -> str:
        if not self.dead:
            return ch
        dead, self.dead = self.dead, ""
        if ch == " ":
            return dead
        return COMPOSE.get((dead, ch), dead + ch)


def _alt_code(digits: str) -> str:
    if not digits:
        return ""
    number = int(digits)
    try:
        if digits.startswith("0") and number < 256:
            return bytes([number]).decode("cp1252")
        if number < 256:
            return bytes([number]).decode("cp437")
        return chr(number) if number <= 0x10FFFF else ""
    except (UnicodeDecodeError, ValueError):
        return ""


def type_text(text: str, layout: Layout) -> list[tuple[int, int, int]]:
    """The key events a scanner set to `layout` sends to type `text` (recordings, tests)."""
    events: list[tuple[int, int, int]] = []

    def tap(code: int, level: int) -> None:
        mod = KEY_LEFTSHIFT if level == 1 else KEY_RIGHTALT if level == 2 else None
        if mod is not None:
            events.append((EV_KEY, mod, 1))
        events.extend([(EV_KEY, code, 1), (EV_KEY, code, 0)])
        if mod is not None:
            events.append((EV_KEY, mod, 0))

    reverse_keypad = {"\r": KEY_ENTER, "\n": KEY_ENTER, "\t": KEY_TAB}
    for ch in text:
        if ch in reverse_keypad:
            tap(reverse_keypad[ch], 0)
            continue
        stroke = layout.keystroke(ch)
        if stroke is None:
            decomposed = _decompose(ch, layout)
            if decomposed is None:
                raise ValueError(f"layout {layout.name} cannot type {ch!r}")
            for code, level in decomposed:
                tap(code, level)
            continue
        tap(*stroke)
        if ch in layout.dead:
            tap(KEY_SPACE, 0)  # a lone accent is dead key + space
    return events


def _decompose(ch: str, layout: Layout) -> list[tuple[int, int]] | None:
    for (dead, letter), composed in COMPOSE.items():
        if composed == ch and dead in layout.dead:
            a, b = layout.keystroke(dead), layout.keystroke(letter)
            if a is not None and b is not None:
                return [a, b]
    return None


def render(events: list[tuple[int, int, int]], layout: Layout) -> str:
    """What a computer set to `layout` makes of these key events."""
    decoder = KeyDecoder(layout)
    return "".join(decoder.feed(*event) for event in events)


def repair(text: str, *, scanner: str, desktop: str) -> str:
    """Re-key text typed by a scanner set to `scanner` into a computer set to `desktop`."""
    src, dst = get_layout(desktop), get_layout(scanner)
    out: list[str] = []
    for ch in text:
        strokes: list[tuple[int, int]] | None
        stroke = src.keystroke(ch)
        strokes = [stroke] if stroke is not None else _decompose(ch, src)
        if strokes is None:
            out.append(ch)
            continue
        for code, level in strokes:
            meant = dst.keys.get(code, ("", "", ""))[level]
            out.append(meant or ch)
    return "".join(out)


_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~!$&'()*+,;=:@%/?#-]*)?")
_MRZ = re.compile(r"[A-Z0-9<]+(\n[A-Z0-9<]+){0,2}")
PAIRS = (("us", "se"), ("se", "us"))


def looks_intact(text: str) -> bool:
    return bool(_URL.fullmatch(text) or (_MRZ.fullmatch(text) and "<" in text))


def repair_auto(text: str) -> tuple[str, tuple[str, str] | None]:
    """(text, None) when intact or not repairable; (repaired, (scanner, desktop)) otherwise."""
    if looks_intact(text) or not text:
        return text, None
    for scanner, desktop in PAIRS:
        candidate = repair(text, scanner=scanner, desktop=desktop)
        if candidate != text and looks_intact(candidate):
            return candidate, (scanner, desktop)
    return text, None
