"""`verify regions --matrix`: 21 regions × 4 groups → entitlement, from the rule files, in Swedish
and English; the table in docs/rules.md is the generated one."""

from __future__ import annotations

import json
from datetime import date

from tests.conftest import REPO, run_verify
from verify.present.decision import render_matrix
from verify.rules.engine import coverage

AS_OF = date(2026, 12, 3)
START, END = "<!-- matrix:start -->", "<!-- matrix:end -->"


def generated(lang: str = "en") -> str:
    rows = [(r.title_en if lang == "en" else r.title, cells) for r, cells in coverage(AS_OF)]
    return render_matrix(rows, as_of=AS_OF.isoformat(), lang=lang)


def test_the_docs_table_is_the_generated_one() -> None:
    text = (REPO / "docs" / "rules.md").read_text("utf-8")
    inside = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert inside == generated("en"), (
        "docs/rules.md's table is stale: regenerate it with "
        "`verify regions --matrix --lang en --date 2026-12-03`")


def test_the_matrix_in_swedish_and_english() -> None:
    sv = run_verify("regions", "--matrix", "--date", AS_OF.isoformat())
    en = run_verify("regions", "--matrix", "--date", AS_OF.isoformat(), "--lang", "en")
    assert sv.returncode == en.returncode == 0
    assert sv.stdout.strip() == generated("sv") and en.stdout.strip() == generated("en")
    assert sv.stdout.count("\n| ") == 22 and en.stdout.count("\n| ") == 22  # header + 21
    assert "asylsökande, vuxen" in sv.stdout and "asylum seeker, adult" in en.stdout
    rows = {line.split(" | ")[0].lstrip("| "): line for line in en.stdout.splitlines()
            if line.startswith("| Region")}
    assert "same as residents (routine)" in rows["Region Västerbotten"]
    assert "yes, permanently in the county: same as residents" in rows["Region Sörmland"]
    assert rows["Region Örebro County"].count("(law)") == 4


def test_the_matrix_follows_the_date() -> None:
    then = {r.name: cells for r, cells in coverage(date(2020, 5, 1))}
    now = {r.name: cells for r, cells in coverage(AS_OF)}
    assert then["vasternorrland"][0].entitlement == "same_as_resident"
    assert now["vasternorrland"][0].entitlement == "care_that_cannot_wait"


def test_the_matrix_as_json() -> None:
    r = run_verify("regions", "--matrix", "--json", "--date", AS_OF.isoformat())
    rows = {x["region"]: x for x in json.loads(r.stdout)}
    assert len(rows) == 21
    assert rows["vasterbotten"]["asylum_adult"]["entitlement"] == "same_as_resident"
    dep = rows["gavleborg"]["asylum_adult"]["depends"]
    assert [d["entitlement"] for d in dep] == ["same_as_resident", "care_that_cannot_wait"]
