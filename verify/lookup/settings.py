"""Settings from the environment and an optional TOML config file (environment wins).

Config file: `$VERIFY_CONFIG`, else `~/.config/verify/config.toml`, else
`/etc/verify/config.toml`. Keys: lookup_base, allowed_hosts (list), allow_loopback_http,
lookup_timeout, region, profile (path).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from verify.cards.reference import LOOPBACK_HOSTS
from verify.errors import ConfigError
from verify.lookup.profile import LookupProfile, load_profile

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Settings:
    profile: LookupProfile
    base: str
    allowed_hosts: frozenset[str]
    allow_loopback_http: bool = False
    timeout: float = DEFAULT_TIMEOUT
    region: str | None = None
    lang: str | None = None  # language of human output (issue 13): sv or en

    @property
    def max_body_bytes(self) -> int:
        return self.profile.max_body_bytes

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, config_path: str | Path | None = None
    ) -> Settings:
        env = os.environ if env is None else env
        file_values = _read_config(config_path or env.get("VERIFY_CONFIG"))
        profile = load_profile(env.get("VERIFY_PROFILE") or file_values.get("profile"))

        def pick(env_key: str, file_key: str) -> Any:
            return env[env_key] if env.get(env_key) else file_values.get(file_key)

        base = str(pick("VERIFY_LOOKUP_BASE", "lookup_base") or profile.base)
        hosts_raw = pick("VERIFY_ALLOWED_HOSTS", "allowed_hosts")
        if hosts_raw is None:
            hosts = set(profile.allowed_hosts)
        elif isinstance(hosts_raw, str):
            hosts = {h.strip().lower() for h in hosts_raw.split(",") if h.strip()}
        else:
            hosts = {str(h).strip().lower() for h in hosts_raw}
        loopback = str(pick("VERIFY_ALLOW_LOOPBACK_HTTP", "allow_loopback_http") or "0").lower()
        allow_loopback = loopback in ("1", "true", "yes")
        timeout_raw = pick("VERIFY_LOOKUP_TIMEOUT", "lookup_timeout")
        try:
            timeout = DEFAULT_TIMEOUT if timeout_raw is None else float(timeout_raw)
        except ValueError:
            raise ConfigError(
                f"VERIFY_LOOKUP_TIMEOUT must be seconds, not {timeout_raw!r}"
            ) from None
        if not 0.1 <= timeout <= 120:
            raise ConfigError("VERIFY_LOOKUP_TIMEOUT must be between 0.1 and 120 seconds")
        region = pick("VERIFY_REGION", "region")
        lang = pick("VERIFY_LANG", "lang")
        settings = cls(
            profile=profile,
            base=base,
            allowed_hosts=frozenset(hosts),
            allow_loopback_http=allow_loopback,
            timeout=timeout,
            region=str(region) if region else None,
            lang=str(lang) if lang else None,
        )
        settings.check_base()
        return settings

    def check_base(self) -> None:
        """The base must itself be an address the lookup may contact."""
        parts = urlsplit(self.base)
        host = (parts.hostname or "").lower()
        if parts.scheme == "http" and not (self.allow_loopback_http and host in LOOPBACK_HOSTS):
            raise ConfigError(
                f"lookup base {self.base!r} is plain http; only https (or loopback with "
                "VERIFY_ALLOW_LOOPBACK_HTTP=1) is allowed"
            )
        if parts.scheme not in ("http", "https") or not host:
            raise ConfigError(f"lookup base {self.base!r} is not an https address")
        if host not in self.allowed_hosts:
            raise ConfigError(
                f"lookup base host {host!r} is not among the allowed hosts "
                f"({', '.join(sorted(self.allowed_hosts)) or 'none'}); set VERIFY_ALLOWED_HOSTS"
            )
        if self.profile.token_location == "path" and not self.base.endswith("/"):
            raise ConfigError(f"lookup base {self.base!r} must end with '/' (the token follows it)")


def _read_config(path: str | Path | None) -> dict[str, Any]:
    candidates = (
        [Path(path)]
        if path
        else [Path.home() / ".config" / "verify" / "config.toml", Path("/etc/verify/config.toml")]
    )
    for candidate in candidates:
        if candidate.is_file():
            try:
                return tomllib.loads(candidate.read_text("utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot read config {candidate}: {exc}") from None
        if path:
            raise ConfigError(f"config file {candidate} does not exist")
    return {}
