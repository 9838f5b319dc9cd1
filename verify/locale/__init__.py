"""One message catalogue for every human word: Swedish by default, English on request.

    set_language("en")                      # --lang, VERIFY_LANG or config, once per process
    _("The card is valid.")                 # the msgid is the English text
    _("Valid until {date}.", date="2027-03-04")   # placeholders are filled after translating

Catalogues are gettext `.po` files kept with Babel (`verify/locale/<lang>/LC_MESSAGES/verify.po`)
and compiled beside them to `.mo` (`pybabel compile -d verify/locale -D verify`), which is what
is read, once, on first use: parsing the `.po` text cost every command about 60 ms at start.
`tests/test_locale.py` checks each `.mo` says what its `.po` says. English is the source
language, so the English catalogue may leave a msgstr empty; a Swedish msgid without a
translation is a bug that `tests/test_locale.py` catches.
JSON output never goes through here: its keys and `detail` stay English.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from verify.errors import ConfigError, VerifyError

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
DOMAIN = "verify"

_current = DEFAULT_LANGUAGE


def check_language(lang: str | None) -> str:
    """A supported language code, or a clear error (exit 2 at the CLI)."""
    code = (lang or DEFAULT_LANGUAGE).strip().lower()
    if code not in LANGUAGES:
        raise ConfigError(N_("language must be sv or en, not {lang}"), lang=repr(lang))
    return code


def set_language(lang: str | None) -> str:
    """Set the process's language (a desk or a command speaks one language at a time)."""
    global _current
    _current = check_language(lang)
    return _current


def language() -> str:
    return _current


def language_from_env() -> str:
    return check_language(os.environ.get("VERIFY_LANG") or DEFAULT_LANGUAGE)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid → msgstr for one language; empty translations (and fuzzy entries, which the
    compiler leaves out) are not in it."""
    # Beside this module, as the rule files are (`importlib.resources` would load zipfile
    # support at every start for a package that is never imported from a zip).
    path = Path(__file__).resolve().parent / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    return {k: v for k, v in read_mo(path.read_bytes()).items() if k and v}


MO_MAGIC = 0x950412DE


def read_mo(data: bytes) -> dict[str, str]:
    """A compiled gettext catalogue's msgid → msgstr (GNU gettext's `.mo` layout: a header
    of five 32-bit words, then two tables of (length, offset) pairs). The stdlib's
    `gettext.GNUTranslations` reads the same but keeps its table private."""
    order = "<" if struct.unpack_from("<I", data)[0] == MO_MAGIC else ">"
    magic, _version, count, ids_at, strs_at = struct.unpack_from(f"{order}5I", data)
    if magic != MO_MAGIC:
        raise ValueError("not a gettext .mo catalogue")
    out: dict[str, str] = {}
    for i in range(count):
        id_len, id_at = struct.unpack_from(f"{order}2I", data, ids_at + 8 * i)
        str_len, str_at = struct.unpack_from(f"{order}2I", data, strs_at + 8 * i)
        out[data[id_at:id_at + id_len].decode()] = data[str_at:str_at + str_len].decode()
    return out


def gettext(message: str, lang: str | None = None, /, **params: object) -> str:
    """`message` in `lang` (default: the process's language), placeholders filled."""
    text = catalogue(lang or _current).get(message, message)
    return text.format(**params) if params else text


_ = gettext


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Marks a message for the catalogue where it is defined (a table); translated where used."""
    return message


def localise(exc: BaseException, lang: str | None = None,
             templates: Sequence[str] = ()) -> str:
    """An error's message in `lang`: our errors by their template; others (a driver's
    SourceError: `drivers` cannot import this package) by their exact English text, or by the
    first of `templates` (English msgids with {placeholders}) the whole text matches."""
    if isinstance(exc, VerifyError):
        return gettext(exc.template, lang, **exc.params)
    text = str(exc)
    found = catalogue(lang or _current).get(text)
    if found is not None:
        return found
    for template in templates:
        match = _template_re(template).fullmatch(text)
        if match:
            return gettext(template, lang, **match.groupdict())
    return text


@cache
def _template_re(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)"
                      for i, p in enumerate(parts))
    return re.compile(pattern, re.DOTALL)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "catalogue",
    "check_language",
    "gettext",
    "language",
    "language_from_env",
    "localise",
    "read_mo",
    "set_language",
    "_",
    "N_",
]
