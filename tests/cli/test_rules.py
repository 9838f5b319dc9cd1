"""`verify decide` and `verify regions` as a user runs them (real subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import REPO, run_verify
from verify.cli.app import conditions_given
from verify.desk.config import build_config
from verify.errors import ConfigError, ParseError
from verify.lookup.emulator import Emulator
from verify.rules import load_book, regions

NAMES = ["norrbotten", "ostergotland", "skane", "stockholm", "vastra-gotaland"]
ROUTINES = sorted(p.stem for p in (REPO / "verify" / "rules").glob("*.toml")
                  if p.stem != "national")


def test_decide_prints_the_verdict_in_swedish_and_exits_0() -> None:
    r = run_verify("decide", "--region", "skane", "--category", "asylum_seeker", "--age", "30",
                   "--date", "2026-11-22")
    assert r.returncode == 0, r.stderr
    assert "VÅRD SOM INTE KAN ANSTÅ" in r.stdout.splitlines()[1]
    assert "VO Hjälpmedel" in r.stdout and "25 kronor" in r.stdout
    assert "Traceback" not in r.stderr


def test_decide_manual_check_exits_3_and_says_what_is_missing() -> None:
    r = run_verify("decide", "--region", "stockholm", "--category", "temporary_protection")
    assert r.returncode == 3, r.stderr
    assert "Saknas" in r.stdout and "--age" in r.stdout


def test_decide_json_keys_english() -> None:
    r = run_verify("decide", "--region", "ostergotland", "--category", "temporary_protection",
                   "--age", "40", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    d = doc["decision"]
    assert (d["region"], d["category"], d["entitlement"], d["responsible"]) == (
        "ostergotland", "temporary_protection", "self_pay", "patient")
    assert doc["validity"]["basis"] == "no_card" and doc["document"]["kind"] == "unknown"
    schema = json.loads((REPO / "docs" / "status-schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema)
    book = load_book()
    assert all(book.document(s["source"]) is not None for s in d["steps"])


def test_decide_region_from_environment_and_english() -> None:
    r = run_verify("decide", "--category", "undocumented", "--age", "9", "--lang", "en",
                   env={"VERIFY_REGION": "vastra-gotaland"})
    assert r.returncode == 0, r.stderr
    assert "SAME CARE AS RESIDENTS" in r.stdout and "reserve number" in r.stdout


def test_decide_verbose_shows_every_source() -> None:
    r = run_verify("decide", "--region", "norrbotten", "--category", "asylum_seeker",
                   "--age", "50", "--verbose")
    assert r.returncode == 0, r.stderr
    # The document as a person finds it, then the seed file and passage for audit.
    assert "Källa: ”Hjälpmedel till asylsökande och flyktingar”, Region Norrbotten" in r.stdout
    assert "001_36f15bc48b9dd1b8.txt: " in r.stdout
    assert "Grund: " in r.stdout


def test_decide_registered_is_resident_rules() -> None:
    r = run_verify("decide", "--region", "skane", "--category", "asylum_seeker", "--age", "30",
                   "--registered", "--json")
    assert r.returncode == 0
    assert json.loads(r.stdout)["decision"]["entitlement"] == "resident_rules"


def test_decide_birth_date() -> None:
    r = run_verify("decide", "--region", "skane", "--category", "undocumented",
                   "--birth-date", "2010-01-01", "--date", "2026-11-22", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)["decision"]
    assert (d["age"], d["entitlement"]) == (16, "same_as_resident")
    assert "2010-01-01" not in r.stdout  # the birth date itself is not echoed


def test_decide_vgr_before_its_document_applies() -> None:
    r = run_verify("decide", "--region", "vgr", "--category", "asylum_seeker", "--age", "40",
                   "--date", "2025-11-04", "-v")
    assert r.returncode == 0, r.stderr
    assert "2025-11-05" in r.stdout and "webSesam" not in r.stdout


def test_unknown_region_exit_2_lists_names() -> None:
    r = run_verify("decide", "--region", "atlantis", "--category", "asylum_seeker")
    assert r.returncode == 2
    for name in NAMES:
        assert name in r.stderr
    assert "Traceback" not in r.stderr


def test_bad_category_and_birth_date_exit_2() -> None:
    r = run_verify("decide", "--region", "skane", "--category", "refugee")
    assert r.returncode == 2 and "asylum_seeker" in r.stderr
    r = run_verify("decide", "--region", "skane", "--category", "visitor",
                   "--birth-date", "31/12/1990")
    assert r.returncode == 2 and "ÅÅÅÅ-MM-DD" in r.stderr
    r = run_verify("decide", "--region", "skane", "--category", "visitor", "--age", "-4")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_regions_lists_sources_and_dates() -> None:
    r = run_verify("regions")
    assert r.returncode == 0, r.stderr
    for name in NAMES:
        assert name in r.stdout
    # Human output names the document, its publisher and date; the seed file stays in JSON.
    assert "”Delregional tillämpning" in r.stdout and "gäller från 2025-11-05" in r.stdout
    assert "002_1df358f656f016b3.txt" not in r.stdout
    assert "2027-03-04" in r.stdout
    with_files = [x for x in ROUTINES]
    assert f"{len(with_files)} av 21 regioner" in r.stdout
    # A region's own pages: title, publisher, address, the day they were read, the groups.
    flat = " ".join(r.stdout.split())
    assert "”Asylsökande, nyanlända och kvotflyktingar”, Region Halland" in flat
    assert "läst 2026-12-03" in flat and "gäller: asylsökande, vuxen" in flat


def test_regions_json() -> None:
    r = run_verify("regions", "--json")
    assert r.returncode == 0
    found = {x["name"]: x for x in json.loads(r.stdout)}
    assert sorted(n for n, x in found.items() if x["routine"]) == ROUTINES
    assert len(found) == 21
    halland = found["halland"]
    assert {d["key"] for d in halland["documents"]} >= {"halland-avgiftshandboken-asylsokande"}
    assert all(d["region"] == "Region Halland" and d["read"] for d in halland["documents"])
    assert found["vastra-gotaland"]["valid_from"] == "2025-11-05"
    assert found["stockholm"]["reviewed"] == "2023-11-20"
    assert found["ostergotland"]["seed"] == "000_4e25e304beee8ee1.txt"


def test_a_region_added_by_data_file_only(tmp_path: Path) -> None:
    (tmp_path / "testland.toml").write_text(
        '[region]\nname = "testland"\ntitle = "Region Testland"\ntitle_en = "Testland"\n'
        'seed = "003_0fd7b30433d790e5.txt"\ndocument = "Test"\npublisher = "Region Testland"\n'
        'responsible = "region"\n',
        encoding="utf-8")
    env = {"VERIFY_RULES_DIR": str(tmp_path)}
    r = run_verify("regions", "--json", env=env)
    assert "testland" in {x["name"] for x in json.loads(r.stdout)}
    r = run_verify("decide", "--region", "testland", "--category", "asylum_seeker", "--age",
                   "5", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["decision"]["entitlement"] == "same_as_resident"


def test_a_broken_rule_file_exit_2_with_clear_message(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("[region\nname=", encoding="utf-8")
    r = run_verify("regions", env={"VERIFY_RULES_DIR": str(tmp_path)})
    assert r.returncode == 2
    assert "broken.toml" in r.stderr and "giltig TOML" in r.stderr and "Traceback" not in r.stderr
    assert "Traceback" not in r.stderr


# --- `verify card … --region`: the card's status with the decision (real loopback lookup) ---


@pytest.fixture
def emu():

    with Emulator() as emulator:
        yield emulator


def test_card_with_region_adds_the_decision(emu) -> None:
    r = run_verify("card", "--token", "VALID0001", "--region", "norrbotten", "--age", "40",
                   "--json", env=emu.env())
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    d = doc["decision"]
    assert (d["category"], d["entitlement"]) == ("asylum_seeker", "care_that_cannot_wait")
    assert any("6624" in s["text"] for s in d["steps"])
    schema = json.loads((REPO / "docs" / "status-schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema)


def test_card_no_longer_valid_asks_why_in_swedish(emu) -> None:
    r = run_verify("card", "--token", "NOINFO001", "--region", "vastra-gotaland", "--age", "30",
                   env={**emu.env(), "VERIFY_REGION": "skane"})
    assert r.returncode == 1, r.stderr  # the card's own exit code: not valid
    assert "KAN INTE AVGÖRAS" in r.stdout and "asyl@vgregion.se" in r.stdout
    assert "papperslös" in r.stdout


def test_card_lookup_outage_gives_the_manual_check(emu) -> None:
    emu.outage = True
    r = run_verify("card", "--token", "VALID0001", "--region", "skane", "--age", "30",
                   "--json", env=emu.env())
    assert r.returncode == 3, r.stderr
    d = json.loads(r.stdout)["decision"]
    assert d["entitlement"] == "manual_check"
    assert [m["fact"] for m in d["missing"]] == ["validity"]
    assert "VALID0001" in d["steps"][0]["text"] or "för hand" in d["steps"][0]["text"]


def test_card_with_unknown_region_exit_2(emu) -> None:
    r = run_verify("card", "--token", "VALID0001", "--region", "lappland", env=emu.env())
    assert r.returncode == 2
    assert "vastra-gotaland" in r.stderr and "Traceback" not in r.stderr


def test_decide_region_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('region = "norrbotten"\n', encoding="utf-8")
    r = run_verify("decide", "--category", "asylum_seeker", "--age", "30", "--json",
                   env={"VERIFY_CONFIG": str(config)})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["decision"]["region"] == "norrbotten"


def test_decide_without_any_region_exit_2_lists_names(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("lookup_timeout = 3\n", encoding="utf-8")  # a config without a region
    r = run_verify("decide", "--category", "visitor", env={"VERIFY_CONFIG": str(config)})
    assert r.returncode == 2
    assert "--region" in r.stderr and "skane" in r.stderr


@given(st.text(max_size=40))
def test_any_resident_in_county_answer_is_yes_no_or_one_clear_error(text: str) -> None:
    try:
        got = conditions_given(text)
    except ParseError as exc:
        assert "--resident-in-county" in str(exc)
        return
    assert got == {"resident_in_county": text.strip().lower() in ("yes", "ja")}


@given(st.text(max_size=40))
def test_any_region_setting_is_a_region_or_one_clear_error(text: str) -> None:
    try:
        config = build_config({"sources": ["feed:x"], "http": None, "region": text})
    except ConfigError as exc:
        assert "region" in str(exc)
        return
    assert config.region in {r.name for r in regions()}
