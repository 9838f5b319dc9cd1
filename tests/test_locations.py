"""Where settings are found (docs/platforms.md): $VERIFY_CONFIG, then the platform's user and
machine settings directories, then /etc/verify on Unix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_verify
from verify.locations import config_candidates


def test_linux_keeps_the_documented_paths(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("XDG_CONFIG_DIRS", raising=False)
    assert config_candidates() == [tmp_path / "xdg" / "verify" / "config.toml",
                                   Path("/etc/xdg/verify/config.toml"),
                                   Path("/etc/verify/config.toml")]


def test_the_user_settings_file_is_read_by_the_command(tmp_path: Path) -> None:
    """A user's settings file in the platform's place points the lookup elsewhere; a wrong host
    in it is refused before anything is contacted (exit 2)."""
    conf = tmp_path / "xdg" / "verify" / "config.toml"
    conf.parent.mkdir(parents=True)
    conf.write_text('lookup_base = "https://lookup.invalid/lmakort/"\n'
                    'allowed_hosts = ["www.migrationsverket.se"]\n')
    r = run_verify("card", "--token", "VALID0001", "--json",
                   env={"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)})
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "lookup.invalid" in r.stderr and "Traceback" not in r.stderr
