"""The rule files: valid against schema.json, every source a real passage of a real seed,
broken files refused with a clear ConfigError, and a new region needs only a data file."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from tests.support_rules import (
    RULES_DIR,
    all_sources,
    as_json_doc,
    norm,
    passage_found,
    split_source,
)
from verify.errors import ConfigError, ParseError
from verify.rules import decide, engine, load_book, regions
from verify.rules.data import compiled_snapshot, parse_region, read_compiled, read_toml

RULE_FILES = sorted(RULES_DIR.glob("*.toml"))
SCHEMA = json.loads((RULES_DIR / "schema.json").read_text(encoding="utf-8"))


def test_the_seed_regions_and_the_national_file_exist() -> None:
    names = {p.stem for p in RULE_FILES}
    assert {"national", "ostergotland", "norrbotten", "vastra-gotaland", "skane",
            "stockholm"} <= names
    assert [r.name for r in regions() if r.routine] == sorted(names - {"national"})
    # Every Swedish region answers; one without a file answers from the national rules.
    assert len(regions()) == 21


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.name for p in RULE_FILES])
def test_rule_file_validates_against_schema(path: Path) -> None:
    doc = as_json_doc(tomllib.loads(path.read_text(encoding="utf-8")))
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


SEEDISH = re.compile(r"^[0-9]{3}_[0-9a-f]+\.txt$")


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.name for p in RULE_FILES])
def test_every_passage_of_a_kept_document_is_in_its_quotes(path: Path) -> None:
    """Laws and regions' pages: the quotes kept in the rule files (no ../shared needed)."""
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    kept = [s for s in all_sources(doc) if not SEEDISH.match(split_source(s)[0])]
    for src in kept:
        assert passage_found(src, {}), f"{path.name}: passage not in its document's quotes: {src}"


def all_keys(obj: object) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in all_keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in all_keys(v)}
    return set()


def engine_sources() -> list[str]:
    """The passages the engine itself cites (steps it adds, not written in a rule file)."""
    return [engine.MANUAL_CHECK_SOURCE, engine.NO_RULE_SOURCE, engine.UT_EXPIRY_SOURCE]


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.name for p in RULE_FILES])
def test_every_source_is_a_document_a_person_can_open(path: Path) -> None:
    """Every rule, step and derive (every *source field of every rule file) names a seed
    document or a [documents] table with kept quotes — never our own notes (domain.md) — and
    its passage is found in that document (a seed's text is audited against ../shared below)."""
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    assert "cite" not in all_keys(doc), f"{path.name}: `cite` is not used; the source names it"
    book = load_book()
    for src in all_sources(doc):
        name, passage = split_source(src)
        assert "domain.md" not in src and not name.endswith(".md"), f"{path.name}: {src}"
        found = book.document(src)
        assert found is not None and found.key == name, f"{path.name}: no document {name!r}"
        if not SEEDISH.match(name):
            assert found.quotes, f"{path.name}: {name} keeps no quotes"
            assert passage_found(src, {}), f"{path.name}: passage not in its quotes: {src}"


@pytest.mark.parametrize("src", engine_sources())
def test_the_engines_own_sources_are_kept_national_passages(src: str) -> None:
    name, _ = split_source(src)
    assert "domain.md" not in src
    found = load_book().document(src)
    assert found is not None and found.key == name and found.owner == "national"
    assert passage_found(src, {}), src


def test_every_kept_document_says_where_and_when_it_was_read() -> None:
    book = load_book()
    docs = [*book.national.documents.values(),
            *(d for r in book.regions.values() for d in r.documents.values())]
    for d in docs:
        if d.quotes:
            assert d.citation.url and d.citation.url.startswith("http"), d.key
            assert d.read is not None, d.key
            assert all(len(q) <= 600 for q in d.quotes), f"{d.key}: quotes, not whole pages"


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.name for p in RULE_FILES])
def test_every_seed_passage_is_real(path: Path, seed_texts: dict[str, str]) -> None:
    """Audit: needs ../shared/seeds (skipped, saying so, without it)."""
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    sources = all_sources(doc)
    assert sources
    for src in sources:
        name, passage = split_source(src)
        if not SEEDISH.match(name):
            continue
        assert name in seed_texts, f"{path.name}: {name!r} is not a seed file"
        assert len(norm(passage)) >= 8
        assert norm(passage) in seed_texts[name], \
            f"{path.name}: passage not in {name}: {passage!r}"


@pytest.mark.parametrize("path", [p for p in RULE_FILES
                                                     if p.stem != "national"],
                         ids=lambda p: p.name)
def test_region_cites_its_own_document(path: Path) -> None:
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    own = doc["region"].get("main") or doc["region"]["seed"]
    cited = {split_source(s)[0] for s in all_sources(doc)}
    assert own in cited


def test_a_schema_violation_is_caught() -> None:
    doc = as_json_doc(tomllib.loads((RULES_DIR / "skane.toml").read_text(encoding="utf-8")))
    doc["rules"][0]["entitlement"] = "free_for_all"
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc))


def test_vgr_dates_come_from_its_document() -> None:
    vgr = load_book().regions["vastra-gotaland"]
    assert vgr.valid_from == date(2025, 11, 5)
    assert "Gäller från: 2025-11-05" in vgr.valid_from_source
    tp = [r for r in load_book().national.rules if r.id in ("tp-child", "tp-adult")]
    assert {r.valid_to for r in tp} == {date(2027, 3, 4)}


# --- broken files: clear ConfigError naming the file and the field ------------------------

GOOD_REGION = """
[region]
name = "testland"
title = "Region Testland"
title_en = "Region Testland"
seed = "003_0fd7b30433d790e5.txt"
document = "Förskrivning till asylsökande eller papperslösa"
publisher = "Region Testland"
responsible = "region"

[[rules]]
id = "t-adult"
when = { category = ["asylum_seeker"], age = "adult" }
entitlement = "self_pay"
summary = "Testregel."
summary_en = "Test rule."
source = "003_0fd7b30433d790e5.txt: Du ska försäkra dig om att patienten har ett giltigt LMA-kort."
"""


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (GOOD_REGION.replace('entitlement = "self_pay"', 'entitlement = "gratis"'),
         "entitlement"),
        (GOOD_REGION.replace('age = "adult"', 'age = "teen"'), "age"),
        (GOOD_REGION.replace('category = ["asylum_seeker"]', 'category = ["tourist"]'),
         "category"),
        (GOOD_REGION.replace('source = "003_0fd7b30433d790e5.txt: Du', 'source = "Du'),
         "source"),
        (GOOD_REGION.replace('name = "testland"\n', ""), "name"),
        (GOOD_REGION.replace("[[rules]]", "[[rules]\n"), "not valid TOML"),
        (GOOD_REGION + '\n[[rules]]\nid = "t-adult"\nsteps = []\nresponsible = "x"\n'
         'source = "003_0fd7b30433d790e5.txt: giltigt LMA-kort"\n', "duplicate"),
        (GOOD_REGION.replace('when = {', 'when = { colour = "red",'), "colour"),
        # Our own notes are no document a person can open: never a source, and no `cite`.
        (GOOD_REGION.replace('source = "003_0fd7b30433d790e5.txt: Du',
                             'source = "domain.md: Du'), "source"),
        (GOOD_REGION.replace('source = "003_0fd7b30433d790e5.txt: Du',
                             'cite = "lag-2008-344"\nsource = "003_0fd7b30433d790e5.txt: Du'),
         "cite"),
    ],
)
def test_broken_region_file_gives_config_error(tmp_path: Path, broken: str,
                                               message: str) -> None:
    (tmp_path / "testland.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_book(str(tmp_path))
    assert "testland.toml" in str(exc.value)
    assert message in str(exc.value)


def test_extra_rules_dir_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        load_book(str(tmp_path / "missing"))


def test_a_new_region_is_only_a_data_file(tmp_path: Path) -> None:
    (tmp_path / "testland.toml").write_text(GOOD_REGION, encoding="utf-8")
    book = load_book(str(tmp_path))
    assert "testland" in book.regions
    d = decide(region="testland", category="asylum_seeker", age=40, book=book,
               today=date(2026, 11, 22))
    assert d.entitlement == "self_pay"
    # Children fall through to the national rules.
    d = decide(region="testland", category="asylum_seeker", age=4, book=book,
               today=date(2026, 11, 22))
    assert d.entitlement == "same_as_resident"


def test_parse_region_requires_a_source_for_valid_from() -> None:
    doc = tomllib.loads(GOOD_REGION.replace('responsible = "region"',
                                            'responsible = "region"\nvalid_from = 2025-01-01'))
    with pytest.raises(ConfigError, match="valid_from_source"):
        parse_region(doc, "x.toml")


def test_unknown_region_lists_the_valid_names() -> None:
    with pytest.raises(ParseError) as exc:
        decide(region="Atlantis", category="asylum_seeker", age=3)
    for name in ("ostergotland", "norrbotten", "vastra-gotaland", "skane", "stockholm"):
        assert name in str(exc.value)


@pytest.mark.parametrize("alias", ["VGR", "Västra Götaland", "Skåne", "Östergötland",
                                   " stockholm "])
def test_region_aliases(alias: str) -> None:
    assert decide(region=alias, category="visitor", age=30).entitlement == "self_pay"


def test_the_compiled_snapshot_matches_the_rule_files() -> None:
    """compiled.json (read instead of parsing TOML, for a fast cold start) is current; else:
    PYTHONPATH=. python -c 'from verify.rules.data import write_compiled; write_compiled()'"""
    assert read_compiled() == compiled_snapshot()


def test_an_edited_rule_file_is_read_from_its_toml_not_the_snapshot(tmp_path: Path) -> None:
    text = (RULES_DIR / "skane.toml").read_text(encoding="utf-8")
    compiled = read_compiled()
    shipped = read_toml(RULES_DIR / "skane.toml", compiled)
    assert shipped["region"]["title"] == tomllib.loads(text)["region"]["title"]
    edited = tmp_path / "skane.toml"
    edited.write_text(text.replace('title = "Region Skåne"', 'title = "Region Skåne (test)"'),
                      encoding="utf-8")
    assert read_toml(edited, compiled)["region"]["title"] == "Region Skåne (test)"
    book = load_book(str(tmp_path))
    assert book.regions["skane"].title == "Region Skåne (test)"
