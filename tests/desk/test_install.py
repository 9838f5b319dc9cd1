"""`verify desk install-service`: the unit, the udev rule and the settings written under a
scratch root, as a technician runs it; edited files are never overwritten."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, run_verify, verify_env
from verify.desk.config import build_config, load_config
from verify.desk.install import install, render, with_header
from verify.errors import ConfigError

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


# -- a root that holds traps: links, odd paths, no permission, no scanner id ------------------


def outside_victim(tmp_path: Path) -> Path:
    victim = tmp_path / "outside" / "victim.conf"
    victim.parent.mkdir()
    victim.write_text("precious\n")
    victim.chmod(0o600)
    return victim


def assert_untouched(victim: Path) -> None:
    assert victim.read_text() == "precious\n"
    assert victim.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in victim.parent.iterdir()) == ["victim.conf"]


@pytest.mark.parametrize("trap", ["folder", "unit", "rule", "settings", "tmp"])
def test_a_symbolic_link_under_the_root_is_refused_not_followed(tmp_path: Path, trap: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    victim = outside_victim(tmp_path)
    if trap == "tmp":
        run_verify("desk", "install-service", "--root", str(root))  # a first, clean install
        unit = root / UNIT
        # An unedited unit from an older install: the rerun would replace it through the
        # temporary file, which an attacker has planted as a link to another file.
        unit.write_text(with_header(unit.read_text().split("\n", 1)[1].replace(
            exec_start(unit)[0], "/opt/verify/old/bin/verify")))
        before = unit.read_text()
        unit.with_name(unit.name + ".verify-new").symlink_to(victim)
        planted = unit.with_name(unit.name + ".verify-new")
    elif trap == "folder":
        (root / "etc" / "systemd").mkdir(parents=True)
        (root / "etc" / "systemd" / "system").symlink_to(victim.parent)
        planted = root / "etc" / "systemd" / "system"
    else:
        rel = {"unit": UNIT, "rule": RULE, "settings": SETTINGS}[trap]
        (root / rel).parent.mkdir(parents=True)
        (root / rel).symlink_to(victim)
        planted = root / rel
    r = run_verify("desk", "install-service", "--root", str(root), "--scanner-usb-id", "0c2e:0b61")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert str(planted) in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert_untouched(victim)
    if trap == "tmp":
        assert (root / UNIT).read_text() == before and planted.is_symlink()


def test_a_device_or_folder_in_place_of_a_file_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / RULE).mkdir(parents=True)  # a folder where the rule goes
    r = run_verify("desk", "install-service", "--root", str(root))
    assert r.returncode == 2 and str(root / RULE) in r.stderr and "Traceback" not in r.stderr
    assert not (root / UNIT).exists()  # nothing written when one file cannot be


def fake_verify(folder: Path) -> Path:
    """An executable at an awkward path, as `verify` of an environment installed there."""
    script = folder / "bin" / "verify"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("name", ["my venv", "100% sure", "$HOME", "semi;colon", "åäö ü",
                                  "a  b", "%n%i"])
def test_exec_start_is_quoted_so_systemd_reads_the_path_back(tmp_path: Path, name: str) -> None:
    script = fake_verify(tmp_path / name)
    root = tmp_path / "root"
    install(root, script=script)
    unit = root / UNIT
    lines = unit.read_text().splitlines()
    assert sum(line.startswith("ExecStart=") for line in lines) == 1
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze comes with ./setup.sh test"
    r = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    # A path systemd splits or expands differently names a file that does not exist.
    assert r.returncode == 0, r.stderr
    assert "verify-daemon.service" not in r.stderr, r.stderr


UNIT_TEMPLATE = (REPO / "packaging" / "verify-daemon.service").read_text().splitlines()


@settings(max_examples=200)
@given(name=st.text(st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1,
                    max_size=30))
def test_no_path_can_add_or_change_a_setting_of_the_unit(name: str) -> None:
    script = Path("/opt") / name / "bin" / "verify"
    if any((not ch.isprintable() and ch != " ") or ch in "\"'\\" for ch in name):
        with pytest.raises(ConfigError):
            render("verify-daemon.service", script=script, usb_id=None)
        return
    lines = render("verify-daemon.service", script=script, usb_id=None).splitlines()
    assert len(lines) == len(UNIT_TEMPLATE)
    changed = [(a, b) for a, b in zip(lines, UNIT_TEMPLATE, strict=True) if a != b]
    assert len(changed) == 1 and changed[0][0].startswith("ExecStart=")
    assert changed[0][0].endswith(" daemon --config /etc/verify/daemon.toml")


@pytest.mark.parametrize("name", ["venv\nUser=root", "venv\rUser=root", "tab\there", "bell\x07",
                                  "line\u2028sep", 'say "hi"', "back\\slash", "it's"])
def test_a_path_systemd_cannot_take_is_refused_and_nothing_written(
    tmp_path: Path, name: str
) -> None:
    root = tmp_path / "root"
    with pytest.raises(ConfigError, match="systemd vill ha en absolut sökväg"):
        install(root, script=Path("/opt") / name / "bin" / "verify")
    assert not root.exists() or not any(root.rglob("*"))


def test_no_write_permission_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    root.chmod(0o555)
    command = [sys.executable, "-m", "verify", "desk", "install-service", "--root", str(root)]
    if os.geteuid() == 0:  # root writes anywhere: run it without its capabilities
        command = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", *command]
    r = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=REPO,
                       env=verify_env())
    root.chmod(0o755)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "behörighet" in r.stderr and str(root) in r.stderr
    assert not any(root.iterdir())


def active_rules(rule: Path) -> list[str]:
    return [x for x in rule.read_text().splitlines() if x and not x.startswith("#")]


def test_without_a_scanner_id_the_rule_is_written_off_and_says_so(tmp_path: Path) -> None:
    r = run_verify("desk", "install-service", "--root", str(tmp_path))
    assert r.returncode == 0, r.stderr
    rule = tmp_path / RULE
    assert active_rules(rule) == []  # no placeholder id matches a real device
    assert "1234" not in rule.read_text() and "--scanner-usb-id" in rule.read_text()
    assert "--scanner-usb-id" in r.stdout and "lsusb" in r.stdout
    # Given later, the ids turn the rules on (the switched-off rule was not edited).
    r = run_verify("desk", "install-service", "--root", str(tmp_path),
                   "--scanner-usb-id", "0c2e:0b61")
    assert r.returncode == 0, r.stderr
    assert len(active_rules(rule)) == 2 and all("0c2e" in x for x in active_rules(rule))
    assert "lsusb" not in r.stdout
    analyze = shutil.which("udevadm")
    if analyze:
        check = subprocess.run([analyze, "verify", str(rule)], capture_output=True, text=True,
                               timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr
