"""Shared test helpers: run the real `verify` command in a subprocess; the hypothesis profiles;
the files beside the repo that only the audits may read."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# Hypothesis runs the same examples on every run and every machine unless asked otherwise, so a
# red run is reproducible and a run cannot fail at random (docs/testing.md):
#   ci       (default) examples derived from each test's own code; no example database, so a
#            failure seen once does not haunt the checkout; print_blob prints the
#            @reproduce_failure line for a failure.
#   explore  fresh random examples each run (HYPOTHESIS_PROFILE=explore, with --hypothesis-seed=N
#            to replay one); a failure prints the seed that reproduces it.
# Timing-based checks (deadline, too_slow) are off in both: on a loaded machine they fail at random.
_COMMON = dict(database=None, print_blob=True, deadline=None,
               suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", derandomize=True, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("explore", derandomize=False, **_COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# Only two kinds of test may read ../shared (the files are not the project's; CI has them beside
# the checkout): the audits of rule citations against the seed documents, and the scoring of the
# public QR corpus. Without the files they are skipped with a reason that says so; with
# VERIFY_REQUIRE_SHARED=1 (set by .ci/run) a missing file is a failure instead.
REQUIRE_SHARED = os.environ.get("VERIFY_REQUIRE_SHARED") == "1"


def shared_path(*parts: str, what: str) -> Path:
    """The path under ../shared, or skip (fail in CI) saying plainly what was not run."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = (f"NOT RUN: {what} needs {path}, which is not beside this checkout "
                  "(CI has it; see docs/testing.md)")
        if REQUIRE_SHARED:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def seed_texts() -> dict[str, str]:
    """The seed documents, whitespace-normalised, for the citation audits (nothing cites our
    own notes, so domain.md is not read)."""
    seeds = shared_path("seeds", what="the seed-citation audit")
    return {p.name: " ".join(p.read_text(encoding="utf-8").split())
            for p in seeds.glob("*.txt")}


def verify_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra or {})
    return env


def run_verify(
    *args: str,
    env: Mapping[str, str] | None = None,
    input: str | bytes | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`verify ARGS…` as a user runs it; returns the completed process (text mode)."""
    return subprocess.run(
        [sys.executable, "-m", "verify", *args],
        env=verify_env(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


@pytest.fixture
def verify_cli():
    return run_verify
