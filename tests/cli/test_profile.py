"""`verify profile`: learn a profile for a page design no shipped profile knows, then see it fail
closed when the agency rewords the page. Real CLI processes, real HTTP on loopback."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import REPO
from tests.support_faults import AGENCY, script_server
from verify.lookup.emulator import HOLDER, Emulator

SCHEMA = json.loads((REPO / "docs" / "status-schema.json").read_text("utf-8"))


@pytest.fixture
def emu():
    with Emulator() as emulator:
        yield emulator


def learn_env(tmp_path: Path) -> dict[str, str]:
    """A config folder of its own (the learnt profile lands in it) and loopback allowed."""
    config = tmp_path / "config.toml"
    config.write_text("")
    return {"VERIFY_CONFIG": str(config), "VERIFY_ALLOW_LOOPBACK_HTTP": "1"}


def learn_args(emu: Emulator, *extra: str) -> list[str]:
    codes = [emu.design2_url(t) for t in ("VALID0001", "NOWORK0001", "NOINFO0001")]
    args = ["profile", "learn", "--card", "application", "--yes", "--lang", "en"]
    for code in codes:
        args += ["--code", code]
    return [*args, *extra]


# The second design's sentences as `learn` numbers them (title, nav, heading, …).
PICKS = ["--page", "sökresultat för kortkontroll", "--valid", "4", "--no-information", "14",
         "--right-to-work", "5", "--no-right-to-work", "13"]


def lookup(verify_cli, env: dict[str, str], url: str) -> tuple[int, dict]:
    r = verify_cli("lookup", url, "--json", env=env)
    status = json.loads(r.stdout)
    jsonschema.validate(status, SCHEMA)
    return r.returncode, status


def test_learn_a_new_design_by_flags_then_a_reworded_page_is_unknown_never_valid(
    verify_cli, emu: Emulator, tmp_path: Path
) -> None:
    env = {**learn_env(tmp_path), **emu.env()}  # the shipped profiles point at the emulator
    # No shipped profile knows this page design: refused before any lookup.
    before = verify_cli("lookup", emu.design2_url("VALID0002"), env=env)
    assert before.returncode == 2 and "ingen kortkontroll" in before.stderr

    r = verify_cli(*learn_args(emu, *PICKS, "--confirm", "--note", "desk test, 3 cards"),
                   env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "card 1: valid (right to work: yes)" in r.stdout
    assert "card 2: valid (right to work: no)" in r.stdout
    assert "card 3: not valid" in r.stdout
    # The LMA card's (shipped) profile still answers beside the learnt one.
    code, lma = lookup(verify_cli, env, emu.url("VALID0001"))
    assert (code, lma["document"]["kind"], lma["validity"]["profile"]["confirmed"]) == (
        0, "lma", False)
    written = tmp_path / "profiles" / "application.toml"
    profile = tomllib.loads(written.read_text("utf-8"))
    assert profile["confirmed"] is True and profile["note"] == "desk test, 3 cards"
    assert profile["token_location"] == "query:kod" and profile["kind"] == "application"
    assert profile["markers"]["valid"] == ["kortet gäller."]
    text = written.read_text("utf-8")
    for secret in (*HOLDER.values(), "VALID0001", "NOWORK0001", "NOINFO0001"):
        assert secret.casefold() not in text.casefold()  # only the chosen marker sentences

    code, valid = lookup(verify_cli, env, emu.design2_url("VALID0042"))
    assert (code, valid["validity"]["state"], valid["validity"]["right_to_work"]) == (
        0, "valid", True)
    assert valid["document"]["kind"] == "application"
    assert valid["validity"]["profile"] == {"name": "127.0.0.1-application-learnt",
                                            "confirmed": True}
    code, nowork = lookup(verify_cli, env, emu.design2_url("NOWORK0042"))
    assert (nowork["validity"]["state"], nowork["validity"]["right_to_work"]) == ("valid", False)
    code, gone = lookup(verify_cli, env, emu.design2_url("NOINFO0042"))
    assert (code, gone["validity"]["state"]) == (1, "not_valid")
    human = verify_cli("lookup", emu.design2_url("VALID0042"), "--lang", "en", env=env)
    assert "unconfirmed" not in human.stdout  # a confirmed profile carries no warning

    emu.wording = 2  # the agency rewords its page
    for token in ("VALID0043", "NOWORK0043", "NOINFO0043"):
        code, status = lookup(verify_cli, env, emu.design2_url(token))
        assert (code, status["validity"]["state"]) == (3, "unknown"), token
        assert status["validity"]["detail"].startswith(
            "page not recognised — the profile may be out of date")
        assert status["validity"]["manual_check_url"] == emu.design2_url(token)
    human = verify_cli("lookup", emu.design2_url("VALID0043"), "--lang", "en", env=env)
    assert "Page not recognised — the lookup profile may be out of date." in human.stdout
    assert emu.design2_url("VALID0043") in human.stdout


def test_learn_prompts_for_every_step_when_no_flag_is_given(
    verify_cli, emu: Emulator, tmp_path: Path
) -> None:
    env = learn_env(tmp_path)
    answers = "\n".join([
        "application", emu.design2_url("VALID0001"), emu.design2_url("NOWORK0001"),
        emu.design2_url("NOINFO0001"), "",  # the cards, an empty line ends
        "", "", "",  # base, token location, grammar: the proposals
        "3", "4", "14", "5", "13",  # the sentences
        "n",  # not confirmed
    ]) + "\n"
    r = verify_cli("profile", "learn", "--lang", "en", env=env, input=answers)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Wrote unconfirmed profile" in r.stdout
    assert "may hold personal data" in r.stderr
    assert tomllib.loads((tmp_path / "profiles" / "application.toml").read_text())[
        "confirmed"] is False


@pytest.mark.parametrize("pick", ["7", "zainab qorvani-lindqvist", "9", "11", "född"])
def test_learn_refuses_a_sentence_that_could_identify_someone(
    verify_cli, emu: Emulator, tmp_path: Path, pick: str
) -> None:
    env = learn_env(tmp_path)
    picks = [*PICKS]
    picks[picks.index("--right-to-work") + 1] = pick
    r = verify_cli(*learn_args(emu, *picks, "--confirm", "--note", "x"), env=env)
    assert r.returncode == 2 and "refused" in r.stderr
    assert not (tmp_path / "profiles").exists()


def test_learn_writes_nothing_when_the_choice_does_not_read_every_card(
    verify_cli, emu: Emulator, tmp_path: Path
) -> None:
    env = learn_env(tmp_path)
    picks = [*PICKS]
    picks[picks.index("--valid") + 1] = "3"  # the heading is on the no-information page too
    r = verify_cli(*learn_args(emu, *picks, "--confirm", "--note", "x"), env=env)
    assert r.returncode == 3 and "nothing was written" in r.stderr
    assert not (tmp_path / "profiles").exists()


def test_show_lists_both_kinds_where_they_came_from_and_that_they_are_unconfirmed(
    verify_cli, tmp_path: Path
) -> None:
    r = verify_cli("profile", "show", "--json", env=learn_env(tmp_path))
    rows = {row["kind"]: row for row in json.loads(r.stdout)}
    assert set(rows) == {"lma", "application"}
    assert all(row["source"] == "shipped" and not row["confirmed"] for row in rows.values())
    human = verify_cli("profile", "show", env=learn_env(tmp_path))
    assert human.stdout.count("OBEKRÄFTAD") == 2


def test_check_reports_the_markers_and_shows_the_page_only_when_asked(
    verify_cli, emu: Emulator, tmp_path: Path
) -> None:
    env = {**learn_env(tmp_path), **emu.env()}
    r = verify_cli("profile", "check", emu.application_url("NOWORK0001"), "--lang", "en", env=env)
    assert r.returncode == 0, r.stderr
    assert '[matched] valid: "ansökningskortet är giltigt"' in r.stdout
    assert '[not matched] no_information: "det finns ingen information om kortet"' in r.stdout
    assert "Reads as: valid (right to work: no)" in r.stdout
    for secret in HOLDER.values():
        assert secret.casefold() not in (r.stdout + r.stderr).casefold()
    shown = verify_cli("profile", "check", emu.application_url("NOWORK0001"), "--show-page",
                       "--lang", "en", env=env)
    assert HOLDER["name"].casefold() in shown.stdout  # the person asked to see the page
    assert "may hold personal data" in shown.stderr
    typed = verify_cli("profile", "check", "VALID0001", "--card", "application", "--lang", "en",
                       env=env)
    assert "migrationsverket-application-unconfirmed (application card)" in typed.stdout


def test_learn_reads_the_cards_from_a_scanner_source(
    verify_cli, emu: Emulator, tmp_path: Path
) -> None:
    """`stdin:` is a scanner typing into the terminal: three scans, then every step by flags."""
    env = learn_env(tmp_path)
    scans = "".join(emu.design2_url(t) + "\n" for t in ("VALID0001", "NOWORK0001", "NOINFO0001"))
    r = verify_cli("profile", "learn", "--card", "application", "--source", "stdin:",
                   "--count", "3", "--yes", *PICKS, "--no-confirm", "--lang", "en",
                   env=env, input=scans)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Card 3 read." in r.stdout and "card 3: not valid" in r.stdout


ESCAPES = "Se \x1b[2J\x1b]52;c;ZXZpbA==\x07\u202e här."


def _agency_page(name: str) -> bytes:
    layout = (AGENCY / "_layout.html").read_text("utf-8")
    inner = (AGENCY / name).read_text("utf-8")
    return layout.replace("{content}", inner + f"<p>{ESCAPES}</p><p>Anna Andersson.</p>").encode()


@pytest.fixture
def hostile_agency():
    """The agency's pages with terminal escape sequences and a name on them; one answer per
    connection, so each lookup gets its own."""
    pages = {b"VALID": _agency_page("valid.html"), b"NOINFO": _agency_page("noinfo.html")}

    def answer(request: bytes):
        body = pages[b"VALID" if b"VALID" in request else b"NOINFO"]
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
        return [(head + b"Content-Length: %d\r\n\r\n" % len(body) + body, 0)]

    with script_server(answer) as server:
        yield f"http://127.0.0.1:{server.port}"


def _hostile_env(tmp_path: Path, origin: str) -> dict[str, str]:
    return {**learn_env(tmp_path), "VERIFY_LOOKUP_ORIGIN": origin,
            "VERIFY_ALLOWED_HOSTS": "127.0.0.1", "VERIFY_LANG": "en"}


def test_check_show_page_never_sends_the_pages_escape_sequences_to_the_terminal(
    verify_cli, hostile_agency: str, tmp_path: Path
) -> None:
    r = verify_cli("profile", "check", "VALID0001", "--show-page",
                   env=_hostile_env(tmp_path, hostile_agency))
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout + r.stderr and "\u202e" not in r.stdout
    assert "\\x1b[2j" in r.stdout  # shown, harmless


def _learn(verify_cli, origin: str, tmp_path: Path, valid: str):
    return verify_cli(
        "profile", "learn", "--card", "lma", "--yes", "--lang", "en",
        "--code", f"{origin}/lmakort/VALID0001", "--code", f"{origin}/lmakort/NOINFO0001",
        "--page", "kontroll av lma-kort", "--valid", valid,
        "--no-information", "det finns ingen information om kortet.",
        "--right-to-work", "", "--no-right-to-work", "", "--no-confirm",
        "--output", str(tmp_path / "out.toml"), env=_hostile_env(tmp_path, origin))


def test_learn_never_sends_the_pages_escape_sequences_to_the_terminal(
    verify_cli, hostile_agency: str, tmp_path: Path
) -> None:
    r = _learn(verify_cli, hostile_agency, tmp_path, "lma-kortet är giltigt.")
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout + r.stderr and "\u202e" not in r.stdout + r.stderr
    assert (tmp_path / "out.toml").exists()


def test_learn_refuses_a_name_with_a_trailing_full_stop_and_writes_nothing(
    verify_cli, hostile_agency: str, tmp_path: Path
) -> None:
    r = _learn(verify_cli, hostile_agency, tmp_path, "anna andersson.")
    assert r.returncode == 2 and "refused" in r.stderr
    assert not (tmp_path / "out.toml").exists()


def test_an_empty_answer_to_a_required_sentence_is_asked_again(
    verify_cli, emu: Emulator, tmp_path: Path
) -> None:
    env = learn_env(tmp_path)
    answers = "\n".join([
        "application", emu.design2_url("VALID0001"), emu.design2_url("NOWORK0001"),
        emu.design2_url("NOINFO0001"), "",
        "", "", "",
        "3", "", "4", "14", "5", "13",  # "valid" first left empty: asked again
        "n",
    ]) + "\n"
    r = verify_cli("profile", "learn", "--lang", "en", env=env, input=answers)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("An answer is needed") == 1


def test_yes_with_one_code_says_what_is_missing_before_asking_anything(
    verify_cli, emu: Emulator, tmp_path: Path
) -> None:
    r = verify_cli("profile", "learn", "--yes", "--code", emu.design2_url("VALID0001"),
                   "--lang", "en", env=learn_env(tmp_path), input="")
    assert r.returncode == 2
    assert r.stdout == ""  # no question was asked
    assert r.stderr.strip() == ("verify: --yes needs two or more --code (a profile is learnt "
                                "from at least two real cards); add another --code or leave "
                                "--yes out to be asked")
