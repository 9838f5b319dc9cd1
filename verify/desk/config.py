"""Daemon settings: command-line options over a TOML file over defaults; reloadable on SIGHUP.

Pure: `load_config` reads one file and `merge` layers plain mappings, so the reload path is the
start-up path and both are easy to test.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from verify.errors import ConfigError, ParseError
from verify.locale import N_
from verify.lookup.settings import check_keys
from verify.rules import load_book
from verify.rules.engine import resolve_region
from verify.tomlfile import read_toml

DEFAULT_HTTP = "127.0.0.1:8765"
# Settings a SIGHUP can change; the others need a restart (sources, sockets, pool sizes).
# Files named in the settings are reopened on SIGHUP (log rotation) but not renamed.
RELOADABLE = frozenset({"region", "lang", "clear_after", "dedupe_seconds"})


@dataclass(frozen=True)
class DaemonConfig:
    sources: tuple[str, ...] = ()
    events: str | None = None  # "-" is standard output, else a file appended to
    http: str | None = DEFAULT_HTTP  # HOST:PORT, or None for no desk screen
    http_token: str | None = None
    region: str | None = None
    lang: str = "sv"
    clear_after: float = 30.0  # seconds a status stays on the desk screen
    dedupe_seconds: float = 3.0  # the same card again within this window is the same event
    max_lookups: int = 4  # concurrent lookups (and worker threads)
    queue_size: int = 64  # scans waiting for a worker; sources block when it is full
    audit_log: str | None = None
    audit_key: str | None = None
    # The card's chip (docs/chip.md): a reader URL turns it on; after a zone is scanned the
    # card is awaited on the reader for `chip_wait` seconds.
    chip_reader: str | None = None
    trust_store: str | None = None
    chip_wait: float = 10.0

    def http_address(self) -> tuple[str, int] | None:
        if self.http is None:
            return None
        return parse_host_port(self.http)

    def needs_token(self) -> bool:
        address = self.http_address()
        return address is not None and not is_loopback(address[0])

    def changed_fixed(self, other: DaemonConfig) -> list[str]:
        """Names of settings that differ but a reload cannot apply."""
        return [
            f.name for f in fields(self)
            if f.name not in RELOADABLE and getattr(self, f.name) != getattr(other, f.name)
        ]


def parse_host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(N_("--http wants HOST:PORT, e.g. {example}, not {text}"),
                          example=DEFAULT_HTTP, text=repr(text))
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_config(path: Path | None) -> dict[str, Any]:
    """The settings in a TOML file (top level or a `[daemon]` table), read as every settings
    file is (`verify.tomlfile`: a regular file, never waited on, small, shallow)."""
    if path is None:
        return {}
    if Path(path).is_dir():
        raise ConfigError(f"config {path} is a folder, not a file: give the file itself, e.g. "
                          f"{Path(path) / 'daemon.toml'}")
    data = read_toml(path)
    table = data.get("daemon", data)
    if not isinstance(table, Mapping):
        raise ConfigError(f"config {path}: [daemon] must be a table")
    # A misspelt key is an error naming it and the closest known one, never ignored.
    check_keys(data, str(path))
    return dict(table)


# Keys of the same file that the lookup reads (verify.lookup.settings.Settings), not the daemon.
LOOKUP_KEYS = frozenset({
    "lookup_base", "allowed_hosts", "allow_loopback_http", "lookup_timeout", "profile",
    "lookup_origin", "card",
})


def build_config(*layers: Mapping[str, Any]) -> DaemonConfig:
    """Later layers win; `None` in a layer means "not given there"."""
    known = {f.name for f in fields(DaemonConfig)}
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if key in LOOKUP_KEYS:
                continue
            if key not in known:
                raise ConfigError(f"unknown setting {key!r}; known: {', '.join(sorted(known))}")
            if value is not None:
                merged[key] = value
    config = DaemonConfig()
    try:
        config = replace(config, **_coerce(merged))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad setting: {exc}") from None
    return validate(config)


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "sources" in out:
        sources = out["sources"]
        if isinstance(sources, str):
            sources = [sources]
        out["sources"] = tuple(str(s) for s in sources)
    for key in ("clear_after", "dedupe_seconds", "chip_wait"):
        if key in out:
            out[key] = float(out[key])
    for key in ("max_lookups", "queue_size"):
        if key in out:
            out[key] = int(out[key])
    if "http" in out and out["http"] in ("", "off", "none", False):
        out["http"] = None
    if out.get("events") in ("", "off", "none"):
        out["events"] = None
    return out


def canonical_region(region: str) -> str:
    """The region's name from the rule files (the one list every command uses); an alias such
    as `Gävleborg` or `vgr` is accepted and stored by its name."""
    try:
        return resolve_region(load_book(), str(region)).name
    except ParseError as exc:
        raise ConfigError(exc.template, **exc.params) from None


def validate(config: DaemonConfig) -> DaemonConfig:
    if not config.sources:
        raise ConfigError(N_("give at least one --source URL (e.g. serial:/dev/ttyACM0)"))
    if config.region is not None:
        config = replace(config, region=canonical_region(config.region))
    if config.lang not in ("sv", "en"):
        raise ConfigError(N_("lang must be sv or en, not {lang}"), lang=repr(config.lang))
    if not 1 <= config.clear_after <= 24 * 3600:
        raise ConfigError(N_("--clear-after (clear_after) must be between 1 and 86400 seconds"))
    if not 0 <= config.dedupe_seconds <= 600:
        raise ConfigError(N_("--dedupe-seconds (dedupe_seconds) must be between 0 and 600"))
    if not 0.5 <= config.chip_wait <= 120:
        raise ConfigError(N_("chip_wait must be between 0.5 and 120 seconds"))
    if not 1 <= config.max_lookups <= 64:
        raise ConfigError(N_("--max-lookups (max_lookups) must be between 1 and 64"))
    if not 1 <= config.queue_size <= 100_000:
        raise ConfigError(N_("queue_size must be between 1 and 100000"))
    config.http_address()
    if config.needs_token() and not config.http_token:
        raise ConfigError(
            N_("the desk screen binds to {address}, not loopback: give --token "
               "(or http_token in the config file) so only the desk can read it"),
            address=config.http)
    if config.http_token is not None and len(config.http_token) < 16:
        raise ConfigError(N_("the desk-screen token must be at least 16 characters"))
    return config
