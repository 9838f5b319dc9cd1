"""The message catalogue: Swedish complete, placeholders intact, English as the source."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from babel.messages.pofile import read_po

from verify.errors import ConfigError
from verify.locale import _, catalogue, check_language, set_language

PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _po(lang: str):
    path = resources.files("verify.locale").joinpath(lang, "LC_MESSAGES", "verify.po")
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def test_every_swedish_message_is_translated() -> None:
    """Babel's own statistics: 100 % of the Swedish catalogue is translated, nothing fuzzy."""
    po = _po("sv")
    messages = [m for m in po if m.id]
    untranslated = [m.id for m in messages if not m.string or m.fuzzy]
    assert not untranslated, untranslated[:20]


def test_translations_keep_their_placeholders() -> None:
    for lang in ("sv", "en"):
        for msgid, msgstr in catalogue(lang).items():
            assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(msgstr)), msgid


def test_the_language_is_chosen_once_and_checked() -> None:
    try:
        assert set_language("EN") == "en"
        assert _("not in any catalogue {n}", n=3) == "not in any catalogue 3"
    finally:
        set_language("sv")
    with pytest.raises(ConfigError, match="sv or en"):
        check_language("de")
