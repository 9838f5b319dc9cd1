"""The message catalogue: Swedish complete, placeholders intact, English as the source."""

from __future__ import annotations

import io
import re
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import typer
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from verify.cli import assemble
from verify.errors import ConfigError, ParseError
from verify.locale import _, catalogue, check_language, localise, read_mo, set_language

PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _po(lang: str):
    path = resources.files("verify.locale").joinpath(lang, "LC_MESSAGES", "verify.po")
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def test_every_swedish_message_is_translated() -> None:
    """Babel's own statistics: 100 % of the Swedish catalogue is translated, nothing fuzzy."""
    po = _po("sv")
    messages = [m for m in po if m.id]
    assert len(messages) > 250
    untranslated = [m.id for m in messages if not m.string or m.fuzzy]
    assert not untranslated, untranslated[:20]
    translated = sum(1 for m in messages if m.string and not m.fuzzy)
    assert translated * 100 // len(messages) == 100
    # Babel's own checks (placeholders, format flags) pass: the catalogue compiles cleanly.
    assert not [(m.id, errors) for m, errors in po.check()]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_compiled_catalogue_says_what_the_po_file_says(lang: str) -> None:
    """What a command reads (`verify.mo`) is the `.po` as it stands, fuzzy entries left out."""
    po = _po(lang)
    written = {str(m.id): str(m.string) for m in po
               if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}
    assert catalogue(lang) == written, (
        "verify.mo is older than verify.po: run `pybabel compile -d verify/locale -D verify`")


@given(st.dictionaries(st.text(min_size=1).filter(lambda t: "\x00" not in t and "\x04" not in t),
                       st.text(min_size=1).filter(lambda t: "\x00" not in t), max_size=30))
def test_a_compiled_catalogue_reads_back_what_babel_wrote(messages: dict[str, str]) -> None:
    written = Catalog(locale="sv")
    for msgid, msgstr in messages.items():
        written.add(msgid, msgstr)
    out = io.BytesIO()
    write_mo(out, written)
    assert {k: v for k, v in read_mo(out.getvalue()).items() if k} == messages


def test_a_file_that_is_not_a_compiled_catalogue_is_refused() -> None:
    with pytest.raises(ValueError, match="not a gettext"):
        read_mo(b"\x00" * 20)


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


# Every message the code can show, as Babel extracts it: `_()`, `N_()` (tables), and the
# English templates of errors (`ParseError`, `refuse`), CLI lines (`fail`, `say`), capture
# errors (`NoScan`) and the engine's two-language texts (`both`, `gettext`). Rule-file shape
# errors (verify/rules/data.py) are for rule authors and stay English.
KEYWORDS = {**DEFAULT_KEYWORDS, "ParseError": (2,), "refuse": (2,), "fail": (1,), "say": (1,),
            "NoScan": (1,), "both": (1,), "gettext": (1,)}
PACKAGE = Path(__file__).resolve().parent.parent / "verify"


def _extracted() -> set[str]:
    out: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = extract_from_dir(str(PACKAGE), keywords=KEYWORDS,
                                 method_map=[("rules/data.py", "ignore"), ("**.py", "python")])
        for _fn, _line, msg, _comments, _ctx in found:
            out.add(msg[0] if isinstance(msg, tuple) else msg)
    return {m for m in out if m} | _help_texts()


def _help_texts() -> set[str]:
    """Every command's and option's help (Typer builds them from docstrings and help=)."""
    out: set[str] = set()

    def walk(command: Any) -> None:
        out.update(t for t in [command.help, *(getattr(p, "help", None)
                                               for p in command.params)] if t)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(assemble()))
    return out


def test_every_help_text_is_translated() -> None:
    helps = _help_texts()
    assert len(helps) > 50
    missing = sorted(h for h in helps if h not in catalogue("sv"))
    assert not missing, missing[:10]


def test_every_message_in_the_code_has_a_swedish_translation() -> None:
    extracted = _extracted()
    assert len(extracted) > 250  # the extractor really ran over the package
    swedish = catalogue("sv")
    missing = sorted(m for m in extracted if m not in swedish)
    assert not missing, missing[:20]


def test_the_swedish_catalogue_has_no_stale_entries() -> None:
    stale = sorted(set(catalogue("sv")) - _extracted())
    assert not stale, stale[:20]


def test_a_driver_error_is_translated_by_its_template() -> None:
    assert localise(OSError("no such file: /tmp/kort.png"), "sv",
                    templates=("no such file: {path}",)) == "filen finns inte: /tmp/kort.png"
    assert localise(OSError("something else"), "sv", templates=("no such file: {path}",)) \
        == "something else"
    err = ParseError("x", "unknown region {region}; valid regions: {names}", region="'a'",
                     names="b")
    assert str(err) == "unknown region 'a'; valid regions: b"  # English for logs and JSON
    assert localise(err, "sv") == "okänd region 'a'; giltiga regioner: b"
