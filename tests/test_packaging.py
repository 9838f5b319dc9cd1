"""What the wheel carries: every file the program reads at run time is package data, and the
version is one number everywhere. (.ci/run builds the wheel, installs it into a fresh venv
outside the checkout and runs the demo and a lookup from there.)"""

from __future__ import annotations

import fnmatch
import tomllib

from tests.conftest import REPO, run_verify
from verify.version import __version__

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))


def test_every_data_file_under_verify_is_package_data() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["verify"]
    data = [p.relative_to(REPO / "verify").as_posix() for p in (REPO / "verify").rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert data, "no data files found"
    missing = [f for f in data if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert missing == [], f"not in [tool.setuptools.package-data]: {missing}"


def test_version_is_one_number() -> None:
    assert PYPROJECT["project"]["name"] == "verify-lma"
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"] == \
        "verify.version.__version__"
    for flag in ("--version", "-V"):
        r = run_verify(flag)
        assert r.returncode == 0 and r.stdout.strip() == f"verify {__version__} (verify-lma)"
    changelog = (REPO / "CHANGELOG.md").read_text("utf-8")
    assert f"## {__version__}" in changelog
