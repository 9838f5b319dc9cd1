"""`verify desk install-service`: the unit, the udev rule and the settings written under a
scratch root, as a technician runs it; edited files are never overwritten."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO, run_verify
from verify.desk.config import build_config, load_config
from verify.desk.install import with_header

UNIT = Path("etc/systemd/system/verify-daemon.service")
RULE = Path("etc/udev/rules.d/70-verify-scanner.rules")
SETTINGS = Path("etc/verify/daemon.toml")


def exec_start(unit: Path) -> list[str]:
    line = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    return line.removeprefix("ExecStart=").split()


def test_install_writes_the_three_files_and_says_so(tmp_path: Path) -> None:
    r = run_verify("desk", "install-service", "--root", str(tmp_path),
                   "--scanner-usb-id", "0C2E:0b61")
    assert r.returncode == 0, r.stderr
    for rel in (UNIT, RULE, SETTINGS):
        assert str(tmp_path / rel) in r.stdout
        assert (tmp_path / rel).is_file()
    # The unit runs the `verify` of the environment the command came from, which exists.
    script, *args = exec_start(tmp_path / UNIT)
    assert os.access(script, os.X_OK) and Path(script).name == "verify"
    assert args == ["daemon", "--config", "/etc/verify/daemon.toml"]
    assert script in r.stdout
    rule = (tmp_path / RULE).read_text()
    assert 'ATTRS{idVendor}=="0c2e", ATTRS{idProduct}=="0b61"' in rule
    assert 'idVendor}=="1234"' not in rule
    # The example settings are a valid daemon configuration.
    config = build_config(load_config(tmp_path / SETTINGS))
    assert config.sources == ("serial:/dev/scanner-desk1",) and config.lang == "sv"


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    run_verify("desk", "install-service", "--root", str(tmp_path))
    unit = tmp_path / UNIT
    assert unit.read_text().count("[Service]") == 1
    analyze = shutil.which("systemd-analyze")
    if analyze:  # installed by ./setup.sh test on Debian/Ubuntu; checked where it exists
        r = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        assert "verify-daemon.service" not in r.stderr, r.stderr


def test_rerun_is_idempotent_and_keeps_the_scanner_ids(tmp_path: Path) -> None:
    run_verify("desk", "install-service", "--root", str(tmp_path), "--scanner-usb-id", "0c2e:0b61")
    before = {rel: (tmp_path / rel).read_text() for rel in (UNIT, RULE, SETTINGS)}
    r = run_verify("desk", "install-service", "--root", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert {rel: (tmp_path / rel).read_text() for rel in (UNIT, RULE, SETTINGS)} == before


def test_an_upgrade_replaces_an_unedited_unit(tmp_path: Path) -> None:
    """A unit written by an older install (another script path) is replaced, not refused."""
    run_verify("desk", "install-service", "--root", str(tmp_path))
    unit = tmp_path / UNIT
    old = unit.read_text()
    script = exec_start(unit)[0]
    body = old.split("\n", 1)[1].replace(script, "/opt/verify/old-venv/bin/verify")
    unit.write_text(with_header(body))
    r = run_verify("desk", "install-service", "--root", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert exec_start(unit)[0] == script
    assert str(unit) in r.stdout


def test_an_edited_file_is_never_overwritten(tmp_path: Path) -> None:
    run_verify("desk", "install-service", "--root", str(tmp_path))
    unit = tmp_path / UNIT
    edited = unit.read_text().replace("MemoryMax=256M", "MemoryMax=512M")
    unit.write_text(edited)
    settings = tmp_path / SETTINGS
    settings.write_text('[daemon]\nsources = ["serial:/dev/ttyACM0"]\nregion = "skane"\n')
    r = run_verify("desk", "install-service", "--root", str(tmp_path))
    assert r.returncode == 2
    assert str(unit) in r.stderr and "Traceback" not in r.stderr
    assert unit.read_text() == edited
    assert 'region = "skane"' in settings.read_text()
    # Moved aside, the unit is written again; the site's settings stay as they are.
    unit.rename(unit.with_suffix(".mine"))
    r = run_verify("desk", "install-service", "--root", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert unit.is_file() and 'region = "skane"' in settings.read_text()


def test_bad_usb_id_is_a_usage_error(tmp_path: Path) -> None:
    r = run_verify("desk", "install-service", "--root", str(tmp_path), "--scanner-usb-id", "zz")
    assert r.returncode == 2 and "--scanner-usb-id" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "etc").exists()


def test_packaging_dir_in_the_checkout_is_what_the_wheel_ships() -> None:
    """`packaging/` (what the docs show) is the package data the installer reads."""
    assert (REPO / "packaging").resolve() == (REPO / "verify" / "desk" / "packaging").resolve()
    names = sorted(p.name for p in (REPO / "packaging").iterdir())
    assert names == ["70-verify-scanner.rules", "daemon.toml", "verify-daemon.service"]
