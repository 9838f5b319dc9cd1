"""One list of regions, from the rule files, for every command: the daemon accepts all 21 (by
name, alias, config file or VERIFY_REGION) and decides for each; the settings file the desk
installer writes names them all."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from tests.support_daemon import (
    DaemonProcess,
    PtyScanner,
    Recorder,
    daemon_env,
    feed,
    status_for,
    url,
)
from verify.desk.config import build_config
from verify.desk.daemon import Daemon
from verify.errors import ConfigError
from verify.lookup.emulator import Emulator
from verify.rules import regions

REPO = Path(__file__).resolve().parents[2]
NAMES = [r.name for r in regions()]


def test_the_rule_files_define_all_21_regions() -> None:
    assert len(NAMES) == 21
    assert {"gotland", "halland", "vasterbotten", "skane", "jamtland-harjedalen"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_the_daemon_accepts_every_region_and_decides_for_it(name: str) -> None:
    config = build_config({"sources": [f"feed:region-{name}"], "http": None, "region": name})
    assert config.region == name
    rec = Recorder()

    d = Daemon(config, checker=lambda s: status_for(s.payload), sinks=[rec])
    d.start()
    try:
        feed(f"region-{name}").put(url("VALID0001"))
        (event,) = rec.wait_for(1)
    finally:
        d.stop()
    decision = event.status.decision
    assert decision is not None and decision.region == name
    # Age unknown: the desk is shown what each age would mean, never a guess.
    assert decision.entitlement in ("manual_check", "same_as_resident")


@pytest.mark.parametrize("alias, name", [("Gävleborg", "gavleborg"), ("VGR", "vastra-gotaland"),
                                         ("Region Jämtland Härjedalen", "jamtland-harjedalen"),
                                         ("örebro", "orebro")])
def test_the_daemon_accepts_aliases_and_stores_the_name(alias: str, name: str) -> None:
    config = build_config({"sources": ["feed:x"], "http": None, "region": alias})
    assert config.region == name


def test_an_unknown_region_names_all_21() -> None:
    with pytest.raises(ConfigError) as exc:
        build_config({"sources": ["feed:x"], "http": None, "region": "atlantis"})
    assert all(n in str(exc.value) for n in NAMES)


def test_the_installed_settings_file_names_every_region() -> None:
    text = (REPO / "verify" / "desk" / "packaging" / "daemon.toml").read_text("utf-8")
    block = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    listed = set(re.findall(r"[a-z]+(?:-[a-z]+)*", block.split("):", 1)[1].split(".")[0]))
    assert set(NAMES) <= listed


def test_verify_region_gotland_from_the_environment_runs_the_daemon(tmp_path: Path) -> None:
    """A machine-wide VERIFY_REGION=gotland: the real daemon starts and decides for Gotland."""
    scanner = PtyScanner(tmp_path / "scanner")
    events = tmp_path / "events.jsonl"
    with Emulator() as emu:
        daemon = DaemonProcess(["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0",
                                "--events", str(events)],
                               daemon_env({**emu.env(), "VERIFY_REGION": "gotland"}), tmp_path)
        try:
            daemon.desk_url()
            daemon.wait_device_open(scanner.link)
            scanner.scan(emu.url("VALID0001"))
            deadline = time.monotonic() + 15
            while not (events.exists() and events.read_text("utf-8").strip()):
                assert time.monotonic() < deadline, "\n".join(daemon.log)
                time.sleep(0.05)
        finally:
            assert daemon.stop() == 0
            scanner.close()
    event = json.loads(events.read_text("utf-8").splitlines()[0])
    assert event["decision"]["region"] == "gotland"
