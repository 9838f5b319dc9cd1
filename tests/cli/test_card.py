"""The `verify` command as a user runs it: exit codes, JSON contract, languages, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import REPO, verify_env

SCHEMA = json.loads((REPO / "docs" / "status-schema.json").read_text("utf-8"))


def status_of(result) -> dict:
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA)
    return data


@pytest.mark.parametrize(
    "args, code, state",
    [
        (("card", "--token", "VALID0001"), 0, "valid"),
        (("card", "--token", "NOWORK0001"), 0, "valid"),
        (("card", "--token", "NOINFO0001"), 1, "not_valid"),
        (("card", "--token", "ERROR0001"), 3, "unknown"),
        (("card", "--lma", "12-345678/1"), 3, "unknown"),
        (("lookup", "VALID0001"), 0, "valid"),
        (("lookup", "NOINFO0001"), 1, "not_valid"),
        (("lookup", "MAINT0001"), 3, "unknown"),
    ],
)
def test_every_json_output_validates_and_exit_codes_match(
    emu, verify_cli, args, code, state
) -> None:
    result = verify_cli(*args, "--json", env=emu.env())
    assert result.returncode == code, result.stderr
    assert status_of(result)["validity"]["state"] == state


def test_card_url_takes_the_pasted_address(emu, verify_cli) -> None:
    result = verify_cli("card", "--url", emu.url("VALID0042"), "--json", env=emu.env())
    assert result.returncode == 0
    assert status_of(result)["document"]["lookup_token"] == "VALID0042"


def test_lma_number_alone_says_why_and_exits_3(verify_cli) -> None:
    result = verify_cli("card", "--lma", "12-345678/1", "--lang", "en")
    assert result.returncode == 3
    assert "not enough for a lookup" in result.stdout
    assert "12-345678" in result.stdout


def test_human_output_is_swedish_by_default_and_english_on_request(emu, verify_cli) -> None:
    sv = verify_cli("card", "--token", "NOWORK0001", env=emu.env())
    assert "GILTIGT" in sv.stdout and "Rätt att arbeta (AT-UND): nej" in sv.stdout
    en = verify_cli("card", "--token", "NOWORK0001", "--lang", "en", env=emu.env())
    assert "VALID" in en.stdout and "Right to work (AT-UND): no" in en.stdout
    gone = verify_cli("card", "--token", "NOINFO0001", env=emu.env())
    assert "INTE GILTIGT" in gone.stdout and emu.url("NOINFO0001") in gone.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (("card",), "exactly one card source"),
        (("card", "--token", "VALID0001", "--lma", "12-345678"), "exactly one card source"),
        (("card", "--token", "https://www.migrationsverket.se/lmakort/VALID1"), "use --url"),
        (("card", "--url", "https://evil.example/lmakort/VALID0001"), "not an allowed"),
        (("card", "--lma", "12-34567"), "8 digits"),
        (("card", "--lma", "12-345678/0"), "start at 1"),
        (("lookup", "javascript:alert(1)"), "only https"),
        (("lookup", ""), "empty"),
        (("lookup", "x" * 5000), "longer than 2048"),
        (("parse", "hello world"), "white space"),
        (("parse", "§§§§"), "not an LMA number, lookup address"),
        (("card", "--token", "VALID0001", "--lang", "fi"), "--lang must be sv or en"),
        (("card", "--image", "/nonexistent/card.png"), ""),
        (("frobnicate",), ""),
    ],
)
def test_bad_input_is_exit_2_with_a_message_and_no_traceback(verify_cli, args, needle) -> None:
    # English needles; the Swedish side of every path: tests/cli/test_language.py.
    result = verify_cli(*args, env={"VERIFY_LANG": "en"})
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert needle in result.stderr
    assert result.stderr.strip()


def test_bad_configuration_is_exit_2(verify_cli) -> None:
    result = verify_cli("lookup", "VALID0001", env={"VERIFY_LOOKUP_TIMEOUT": "soon"})
    assert result.returncode == 2 and "seconds" in result.stderr
    result = verify_cli("lookup", "VALID0001", env={"VERIFY_LOOKUP_BASE": "http://example.org/x/"})
    assert result.returncode == 2 and "plain http" in result.stderr


@pytest.mark.parametrize(
    "text, kind",
    [
        ("12-345678/1", "lma_number"),
        ("12 345678", "lma_number"),
        ("https://www.migrationsverket.se/lmakort/AbCd1234", "lookup_reference"),
        ("AbCd1234", "lookup_reference"),
    ],
)
def test_parse_says_what_a_text_is(verify_cli, text, kind) -> None:
    result = verify_cli("parse", text, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kind"] == kind


def test_parse_reads_stdin_with_dash(verify_cli) -> None:
    result = verify_cli("parse", "-", "--json", input="12-345678/2\n")
    assert json.loads(result.stdout) == {
        "kind": "lma_number",
        "lma_number": "12-345678",
        "card_serial": 2,
    }


def test_emulator_prints_its_base_first(verify_cli) -> None:


    proc = subprocess.Popen(
        [sys.executable, "-m", "verify", "agency-emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=verify_env(),
        cwd=REPO,
    )
    try:
        first = proc.stdout.readline().strip()
        assert first.startswith("http://127.0.0.1:") and first.endswith("/lmakort/")
        port = first.split(":")[2].split("/")[0]
        env = {
            "VERIFY_LOOKUP_ORIGIN": first.removesuffix("/lmakort/"),
            "VERIFY_ALLOWED_HOSTS": "127.0.0.1",
            "VERIFY_ALLOW_LOOPBACK_HTTP": "1",
        }
        assert verify_cli("lookup", "VALID0001", env=env).returncode == 0
        assert port.isdigit()
    finally:
        proc.terminate()
        proc.wait(5)


def test_demo_runs_every_case_offline(verify_cli, tmp_path: Path) -> None:
    result = verify_cli("demo", env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    for words in ("GILTIGT", "INTE GILTIGT", "KAN INTE AVGÖRAS", "AVVISAT", "Klart."):
        assert words in result.stdout
    assert list(tmp_path.iterdir()) == []  # nothing written
