"""Every command speaks one language: Swedish by default, English with --lang en.

Runs each command's human output and its error paths in-process (`verify.cli.main`, as the
console script does) and looks for the other language's function words. A sentence left
untranslated, in either direction, is caught by its small words ("the", "och").
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from verify.cards.mrz import compose_td1, compose_td3
from verify.cli import main
from verify.cli.usage import said
from verify.locale import set_language
from verify.lookup.emulator import Emulator

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "status-schema.json").read_text(encoding="utf-8"))
ENGLISH = {"the", "and", "is", "are", "was", "not", "of", "to", "with", "for", "this", "that",
           "from", "could", "cannot", "has", "no", "only", "or"}
SWEDISH = {"och", "att", "är", "inte", "för", "som", "det", "med", "av", "till", "från",
           "eller", "har", "kan", "ska", "den", "ett", "på", "gick", "finns"}

UT_VALID = compose_td1(document_number="UA1234567", birth="900101", expiry="391231",
                       surname="TESTSSON", given_names="ANNA")
UT_EXPIRED = compose_td1(document_number="UA1234567", birth="900101", expiry="230304",
                         surname="TESTSSON", given_names="ANNA")
UT_BAD_CHECK = UT_VALID.splitlines()[0] + "\n" + UT_VALID.splitlines()[1][:14] + (
    "0" if UT_VALID.splitlines()[1][14] != "0" else "1") + UT_VALID.splitlines()[1][15:] + \
    "\n" + UT_VALID.splitlines()[2]
PASSPORT = compose_td3(document_number="L898902C3", birth="740812", expiry="391231",
                       surname="ERIKSSON", given_names="ANNA", issuing_state="UTO",
                       nationality="UTO")

# (arguments, exit code): the human output of every command, then its usual error paths.
PATHS: list[tuple[tuple[str, ...], int]] = [
    (("card", "--token", "VALID0001"), 0),
    (("card", "--token", "NOWORK0001", "--region", "skane", "--age", "40"), 0),
    (("card", "--token", "NOINFO001", "--region", "norrbotten"), 1),
    (("card", "--lma", "12-345678/1", "--region", "vgr", "--age", "30"), 3),
    (("card", "--mrz", UT_VALID, "--region", "ostergotland"), 0),
    (("card", "--mrz", UT_VALID, "--region", "stockholm", "--show-name"), 0),
    (("card", "--mrz", UT_EXPIRED, "--region", "ostergotland"), 1),
    (("card", "--mrz", UT_BAD_CHECK), 3),
    (("card", "--mrz", PASSPORT), 3),
    (("card",), 2),
    (("card", "--url", "https://evil.example/lmakort/VALID0001"), 2),
    (("card", "--lma", "12-34567"), 2),
    (("card", "--image", "/nonexistent/card.png"), 2),
    (("lookup", "VALID0001"), 0),
    (("lookup", ""), 2),
    (("parse", "12-345678/1"), 0),
    (("parse", UT_VALID), 0),
    (("parse", "hello world"), 2),
    (("decide", "--region", "halland", "--category", "asylum_seeker", "--age", "40"), 0),
    (("decide", "--region", "ostergotland", "--category", "temporary_protection", "--age",
      "40"), 0),
    (("decide", "--region", "skane", "--age", "40"), 3),
    (("decide", "--region", "norrbotten", "--category", "undocumented"), 3),
    (("decide", "--region", "atlantis", "--category", "visitor"), 2),
    (("decide", "--region", "skane", "--category", "visitor", "--birth-date", "31/12/1990"), 2),
    (("regions",), 0),
    (("replay", str(REPO / "fixtures/scans/invalid_utf8_reject.jsonl"), "--fast"), 0),
    (("scan", "--source", "stdin:", "--count", "0"), 2),
    (("scan", "--source", "bogus:x"), 2),
    (("record", "--source", "replay:fixtures/scans/burst.jsonl", "--out", "/tmp/never.jsonl"),
     2),
    (("demo",), 0),
    # Usage errors (Typer's own messages), contradictions and the profiles' words.
    (("card", "--age", "abc", "--token", "VALID0001"), 2),
    (("card", "--mrz", UT_VALID, "--region", "skane", "--age", "10"), 2),
    (("card", "--token", "VALID0001", "--card", "application", "--region", "skane", "--age",
      "40"), 0),
    (("decide", "--regoin", "skane"), 2),
    (("decide", "--region", "skane", "--age", "200"), 2),
    (("regions", "extra"), 2),
    (("replay",), 2),
    (("card", "--token"), 2),
    (("nosuchcommand",), 2),
    (("profile", "show"), 0),
    # The daemon's refusals, a serial scanner that is not there.
    (("daemon",), 2),
    (("daemon", "--source", "serial:/dev/null", "--region", "atlantis"), 2),
    (("daemon", "--source", "serial:/dev/null", "--clear-after", "0"), 2),
    (("card", "--serial", "/dev/nonexistent-tty"), 2),
    (("replay", "/nonexistent/recording.jsonl"), 2),
]

QUOTED = re.compile(r"”[^”]*”|'[^']*'|\S+://\S+|--[\w-]+")


def words(text: str, lang: str) -> set[str]:
    """The words of `text` a person reads as sentences: without addresses, options, quoted
    titles and input, and (in English) without the cited documents' Swedish names."""
    keep: list[str] = []
    in_sources = False
    for line in text.splitlines():
        if line.strip() in ("Sources:", "Källor:"):
            in_sources = True
            continue
        if in_sources and (line.startswith("    ") or line.startswith("  • ")):
            continue
        in_sources = False
        if lang == "en" and line.strip().startswith("routine: "):
            continue
        keep.append(QUOTED.sub(" ", line))
    return {w.lower() for w in re.findall(r"[A-Za-zÅÄÖåäö]+", " ".join(keep))}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def run(args: tuple[str, ...], env: dict[str, str], monkeypatch, capsys) -> tuple[int, str]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("VERIFY_LANG", raising=False)
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        set_language("sv")
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize("args, code", PATHS, ids=[" ".join(a)[:60] for a, _ in PATHS])
def test_swedish_by_default_has_no_english_sentence(args, code, emu, monkeypatch,
                                                    capsys) -> None:
    got, text = run(args, emu.env(), monkeypatch, capsys)
    assert got == code, text
    assert text.strip()
    english = words(text, "sv") & ENGLISH
    assert not english, (english, text)


@pytest.mark.parametrize("args, code", PATHS, ids=[" ".join(a)[:60] for a, _ in PATHS])
def test_english_on_request_has_no_swedish_sentence(args, code, emu, monkeypatch,
                                                    capsys) -> None:
    got, text = run((*args, "--lang", "en"), emu.env(), monkeypatch, capsys)
    assert got == code, text
    swedish = words(text, "en") & SWEDISH
    assert not swedish, (swedish, text)


def test_the_checker_would_catch_a_sentence_in_the_wrong_language() -> None:
    assert words("KAN INTE AVGÖRAS — the lookup did not answer", "sv") & ENGLISH
    assert words("CANNOT BE DETERMINED — kortet är inte giltigt", "en") & SWEDISH


def test_halland_answers_from_its_own_pages(monkeypatch, capsys) -> None:
    code, text = run(("decide", "--region", "halland", "--category", "asylum_seeker", "--age",
                      "40"), {}, monkeypatch, capsys)
    assert code == 0
    assert "VÅRD SOM INTE KAN ANSTÅ" in text
    assert "Ingen regional rutin" not in text
    assert "”Asylsökande, nyanlända och kvotflyktingar”, Region Halland" in text


def test_show_name_shows_the_name_and_only_when_asked(monkeypatch, capsys) -> None:
    _, without = run(("card", "--mrz", UT_VALID), {}, monkeypatch, capsys)
    assert "TESTSSON" not in without
    _, shown = run(("card", "--mrz", UT_VALID, "--show-name"), {}, monkeypatch, capsys)
    assert "Namn (från den maskinläsbara zonen): ANNA TESTSSON" in shown


def test_an_expiry_whose_check_digit_failed_is_not_called_valid_until(monkeypatch,
                                                                      capsys) -> None:
    code, text = run(("card", "--mrz", UT_BAD_CHECK), {}, monkeypatch, capsys)
    assert code == 3
    assert "Giltigt till" not in text and "giltigt till" not in text
    assert "Utgångsdatum som det lästes (kontrollsiffran stämmer inte): 2039-12-31" in text
    _, good = run(("card", "--mrz", UT_VALID), {}, monkeypatch, capsys)
    assert "Giltigt till: 2039-12-31" in good


def test_help_shows_flags_as_flags_and_h_is_help(monkeypatch, capsys) -> None:
    code, text = run(("card", "-h"), {}, monkeypatch, capsys)
    assert code == 0
    assert "<bool>" not in text and "<str>" not in text and "<int" not in text
    assert re.search(r"^\s+--json\s+skriv ut JSON-status", text, re.M)  # help in Swedish
    assert re.search(r"^\s+--age AGE\s+patientens ålder", text, re.M)  # `--age AGE`, as Unix
    assert "-h, --help" in text
    assert "\nAlternativ:\n" in text and "[miljövariabel: VERIFY_LANG]" in " ".join(text.split())
    _, english = run(("card", "-h", "--lang", "en"), {}, monkeypatch, capsys)
    assert re.search(r"^\s+--json\s+print the JSON status", english, re.M)
    assert "\nOptions:\n" in english


@pytest.mark.parametrize("args, reason", [
    (("card", "--token", "VALID0001"), "lookup_valid"),
    (("card", "--token", "NOINFO001"), "lookup_no_information"),
    (("card", "--lma", "12-345678/1"), "lma_number_only"),
    (("card", "--mrz", UT_VALID), "ut_valid"),
    (("card", "--mrz", UT_EXPIRED), "ut_expired"),
    (("card", "--mrz", UT_BAD_CHECK), "mrz_check_failed"),
    (("card", "--mrz", PASSPORT), "not_a_ut_card"),
    (("decide", "--region", "halland", "--category", "visitor"), "no_card"),
])
def test_json_carries_a_stable_reason_and_english_detail(args, reason, emu, monkeypatch,
                                                         capsys) -> None:
    _, text = run((*args, "--json", "--region", "halland") if args[0] == "card" else
                  (*args, "--json"), emu.env(), monkeypatch, capsys)
    status = json.loads(text)
    jsonschema.validate(status, SCHEMA)  # reason, cites and routine are in the contract
    validity = status["validity"]
    assert validity["reason"] == reason
    assert validity["detail"] and not words(validity["detail"], "en") & SWEDISH


def test_a_region_with_its_own_pages_says_so_in_json(monkeypatch, capsys) -> None:
    _, text = run(("decide", "--region", "halland", "--category", "asylum_seeker", "--age",
                   "40", "--json"), {}, monkeypatch, capsys)
    decision = json.loads(text)["decision"]
    assert decision["routine"] is True and decision["entitlement"] == "care_that_cannot_wait"
    assert all(c["region"] in ("", "Region Halland") for c in decision["cites"])


def test_a_typed_age_that_disagrees_with_the_card_s_zone_is_refused_naming_both(
        monkeypatch, capsys) -> None:
    code, text = run(("card", "--mrz", UT_VALID, "--region", "skane", "--age", "10"), {},
                     monkeypatch, capsys)
    assert code == 2
    assert "åldern som angavs (10)" in text and "som säger 36" in " ".join(text.split())
    code, _ = run(("card", "--mrz", UT_VALID, "--region", "skane", "--birth-date",
                   "1990-01-01"), {}, monkeypatch, capsys)
    assert code == 0  # the same birth date as the zone's: no contradiction


def test_a_valid_application_card_s_steps_speak_of_application_cards(emu, monkeypatch,
                                                                     capsys) -> None:
    args = ("card", "--token", "VALID0001", "--card", "application", "--region", "skane",
            "--age", "40")
    code, text = run(args, emu.env(), monkeypatch, capsys)
    text = " ".join(text.split())
    assert code == 0
    assert "Försäkra dig om att patienten har ett giltigt ansökningskort" in text
    assert "Försäkra dig om att patienten har ett giltigt LMA-kort" not in text
    _, english = run((*args, "--lang", "en"), emu.env(), monkeypatch, capsys)
    assert "Make sure the patient has a valid application card" in " ".join(english.split())


def test_usage_errors_are_one_line_in_the_chosen_language_with_the_closest_option(
        monkeypatch, capsys) -> None:
    code, text = run(("decide", "--regoin", "skane"), {}, monkeypatch, capsys)
    assert code == 2
    assert text.strip() == ("verify: --regoin är inget alternativ till verify decide; menade du "
                            "--region? (hjälp: verify decide -h)")
    code, text = run(("card", "--age", "abc", "--token", "X", "--lang", "en"), {}, monkeypatch,
                     capsys)
    assert text.strip() == ("verify: invalid value for --age: 'abc' is not a valid int range. "
                            "(help: verify card -h)")


# -- Click's own words (help screen frame, Typer's path checks) -----------------------------

HELPS = [("-h",), ("card", "-h"), ("desk", "-h"), ("desk", "serve", "-h"), ("profile", "-h"),
         ("profile", "learn", "-h"), ("scan", "--help")]


@pytest.mark.parametrize("args", HELPS, ids=[" ".join(a) for a in HELPS])
def test_swedish_help_has_no_words_of_click_s_own(args, monkeypatch, capsys) -> None:
    code, text = run(args, {}, monkeypatch, capsys)
    assert code == 0
    assert "Usage:" not in text and "Show this message and exit." not in text, text
    assert text.startswith("Användning: verify"), text
    assert re.search(r"^\s+-h, --help\s+visa den här hjälpen och avsluta$", text, re.M), text
    # The usage line's words ([OPTIONS], COMMAND) are Click's notation and stay as they are;
    # so do the values an option takes ("yes eller no").
    english = words(re.sub(r"\[?[A-Z_]{2,}\]?|yes eller no", " ", text), "sv") & ENGLISH
    assert not english, (english, text)


@pytest.mark.parametrize("args", HELPS[:3], ids=[" ".join(a) for a in HELPS[:3]])
def test_english_help_keeps_click_s_own_words(args, monkeypatch) -> None:
    monkeypatch.setenv("VERIFY_LANG", "en")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main(list(args))
        except SystemExit as exc:
            assert not exc.code
        finally:
            set_language("sv")
    assert out.getvalue().startswith("Usage: verify"), out.getvalue()
    assert re.search(r"-h, --help\s+Show this message and exit\.", out.getvalue())


def test_a_path_that_is_of_the_wrong_kind_is_said_in_swedish(monkeypatch, capsys) -> None:
    code, text = run(("desk", "list", "--desks", "/etc/passwd"), {}, monkeypatch, capsys)
    assert code == 2
    assert text.strip() == ("verify: ogiltigt värde för --desks: '/etc/passwd' är en fil, inte "
                            "en mapp. (hjälp: verify desk list -h)")
    assert not words(text.replace("'/etc/passwd'", ""), "sv") & (ENGLISH | {"dir", "file"})
    code, text = run(("desk", "list", "--desks", "/etc/passwd", "--lang", "en"), {},
                     monkeypatch, capsys)
    assert code == 2
    assert text.strip() == ("verify: invalid value for --desks: Directory '/etc/passwd' is a file. "
                            "(help: verify desk list -h)")


@pytest.mark.parametrize("english, swedish", [
    ("Directory '/srv/d' does not exist.", "mappen '/srv/d' finns inte."),
    ("File '/srv/f' does not exist.", "filen '/srv/f' finns inte."),
    ("File '/srv' is a directory.", "'/srv' är en mapp, inte en fil."),
    ("Directory '/srv/d' is not writable.", "mappen '/srv/d' går inte att skriva till."),
    ("Path '/srv/p' is not readable.", "'/srv/p' går inte att läsa."),
    ("'x' is not a valid uuid.", "'x' är inte giltigt som uuid."),
    ("'abc' is not a valid int range.", "'abc' är inte ett heltal."),
    ("200 is not in the range 0<=x<=130.", "200 ligger utanför 0<=x<=130."),
])
def test_typer_s_path_and_value_sentences_are_said_in_swedish(english, swedish) -> None:
    set_language("sv")
    assert said(english) == swedish
    try:
        set_language("en")
        assert said(english) == english
    finally:
        set_language("sv")
