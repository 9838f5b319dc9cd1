"""The dependency directions of docs/architecture.md hold (import-linter contract in pyproject)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_import_contract_is_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_nothing_imports_the_cli_back() -> None:
    """The Typer app module knows no command group: groups register on it, never the reverse."""
    source = (REPO / "verify" / "cli" / "app.py").read_text()
    for group in ("card", "daemon", "demo", "rules", "scanner", "capture"):
        assert f"verify.cli.{group}" not in source
