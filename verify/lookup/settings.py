"""Settings from the environment and an optional TOML config file (environment wins).

Config file: `$VERIFY_CONFIG`, else the user's, then the machine's settings directory
(verify.locations; on Linux `~/.config/verify/config.toml`, `/etc/xdg/verify/config.toml`,
then `/etc/verify/config.toml`). Keys: lookup_base, lookup_origin, allowed_hosts (list),
allow_loopback_http, lookup_timeout, region, card (lma|application), profile (path or list).

Profiles in force: the shipped one of each card kind, replaced by any profile of that kind in
the profiles folder next to the config (`verify profile learn` writes there), replaced by
`profile` / `$VERIFY_PROFILE`.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from verify.cards.reference import LOOPBACK_HOSTS
from verify.errors import ConfigError
from verify.locale import N_
from verify.locations import CONFIG_NAME, config_candidates, user_config_dir
from verify.lookup.profile import (
    CARD_KINDS,
    SHIPPED,
    LookupProfile,
    check_no_overlap,
    check_no_userinfo,
    load_profile,
    shipped_profile,
)
from verify.tomlfile import read_toml

DEFAULT_TIMEOUT = 5.0
SYSTEM_CONFIG_DIR = Path("/etc/verify")


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The folder the config lives in, and with it the learnt profiles (`profiles/`).

    The one place this path is decided: next to `$VERIFY_CONFIG` when set, else the user's
    config folder (`$XDG_CONFIG_HOME/verify`, else the platform's: `verify.locations`).
    """
    env = os.environ if env is None else env
    if env.get("VERIFY_CONFIG"):
        return Path(env["VERIFY_CONFIG"]).parent
    xdg = env.get("XDG_CONFIG_HOME")
    return Path(xdg) / "verify" if xdg else user_config_dir()


def profiles_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where `verify profile learn` writes and where profiles in force are read from."""
    return config_dir(env) / "profiles"


@dataclass(frozen=True)
class Settings:
    """`profile`/`base` are the typed tokens' card kind; `others` the other kinds' profiles."""

    profile: LookupProfile
    base: str
    allowed_hosts: frozenset[str]
    allow_loopback_http: bool = False
    timeout: float = DEFAULT_TIMEOUT
    region: str | None = None
    others: tuple[LookupProfile, ...] = ()

    @property
    def profiles(self) -> tuple[LookupProfile, ...]:
        """Every profile in force, each at its effective base address."""
        main = self.profile
        if main.base != self.base:
            main = dataclasses.replace(main, base=self.base)
        return (main, *self.others)
    lang: str | None = None  # language of human output (issue 13): sv or en

    @property
    def max_body_bytes(self) -> int:
        return max(p.max_body_bytes for p in self.profiles)

    def profile_named(self, name: str) -> LookupProfile:
        """The profile a reference was matched to (the default one for an unnamed reference)."""
        for profile in self.profiles:
            if profile.name == name:
                return profile
        return self.profiles[0]

    def for_card(self, kind: str) -> Settings:
        """The same settings with `kind`'s profile for typed tokens."""
        if kind not in CARD_KINDS:
            raise ConfigError(f"card kind must be one of {', '.join(CARD_KINDS)}, not {kind!r}")
        profiles = self.profiles
        chosen = [p for p in profiles if p.kind == kind]
        if not chosen:
            raise ConfigError(f"no lookup profile for the {kind} card is in force")
        rest = tuple(p for p in profiles if p is not chosen[0])
        return dataclasses.replace(self, profile=chosen[0], base=chosen[0].base, others=rest)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, config_path: str | Path | None = None
    ) -> Settings:
        env = os.environ if env is None else env
        file_values = _read_config(config_path or env.get("VERIFY_CONFIG"), env)
        file_name = _config_file_named(config_path or env.get("VERIFY_CONFIG"), env)
        check_keys(file_values, file_name)

        def pick(env_key: str, file_key: str) -> Any:
            return env[env_key] if env.get(env_key) else file_values.get(file_key)

        def where(env_key: str, file_key: str) -> str:
            """Where a value came from, so an error sends the reader to the right place."""
            if env.get(env_key):
                return env_key
            return f"{file_key} in {file_name}" if file_name else file_key

        card = str(pick("VERIFY_CARD", "card") or "lma")
        if card not in CARD_KINDS:
            raise ConfigError(f"{where('VERIFY_CARD', 'card')} must be one of "
                              f"{', '.join(CARD_KINDS)}, not {card!r}")
        profiles = _profiles_in_force(env, pick("VERIFY_PROFILE", "profile"))
        origin = pick("VERIFY_LOOKUP_ORIGIN", "lookup_origin")
        if origin:
            origin = str(origin).rstrip("/")
            profiles = {
                kind: p.rebased(origin + p.base_path) if p.source == SHIPPED else p
                for kind, p in profiles.items()
            }
        base_override = pick("VERIFY_LOOKUP_BASE", "lookup_base")
        if base_override:
            # The base alone moves; the hosts allowed stay the profile's (or the configured ones).
            profiles[card] = dataclasses.replace(profiles[card], base=str(base_override))
        ordered = [profiles[card], *(p for k, p in profiles.items() if k != card)]
        hosts_raw = pick("VERIFY_ALLOWED_HOSTS", "allowed_hosts")
        if hosts_raw is None:
            hosts = {h for p in ordered for h in p.allowed_hosts}
        elif env.get("VERIFY_ALLOWED_HOSTS"):
            hosts = {h.strip().lower() for h in str(hosts_raw).split(",") if h.strip()}
        elif isinstance(hosts_raw, list) and all(isinstance(h, str) for h in hosts_raw):
            hosts = {h.strip().lower() for h in hosts_raw}
        else:  # in the file a string would be read letter by letter; say so instead
            raise ConfigError(N_("allowed_hosts in the config file must be a list of host "
                                 "names, e.g. [\"www.migrationsverket.se\"]"))
        loopback = str(pick("VERIFY_ALLOW_LOOPBACK_HTTP", "allow_loopback_http") or "0").lower()
        allow_loopback = loopback in ("1", "true", "yes")
        timeout_raw = pick("VERIFY_LOOKUP_TIMEOUT", "lookup_timeout")
        try:
            timeout = DEFAULT_TIMEOUT if timeout_raw is None else float(timeout_raw)
        except ValueError:
            raise ConfigError(
                f"{where('VERIFY_LOOKUP_TIMEOUT', 'lookup_timeout')} must be seconds, "
                f"not {timeout_raw!r}"
            ) from None
        if not 0.1 <= timeout <= 120:
            raise ConfigError(f"{where('VERIFY_LOOKUP_TIMEOUT', 'lookup_timeout')} must be "
                              "between 0.1 and 120 seconds")
        region = pick("VERIFY_REGION", "region")
        lang = pick("VERIFY_LANG", "lang")
        if lang is not None and str(lang).strip().lower() not in ("sv", "en"):
            raise ConfigError(f"{where('VERIFY_LANG', 'lang')} must be sv or en, not {lang!r}")
        settings = cls(
            profile=ordered[0],
            base=ordered[0].base,
            allowed_hosts=frozenset(hosts),
            allow_loopback_http=allow_loopback,
            timeout=timeout,
            region=str(region) if region else None,
            others=tuple(ordered[1:]),
            lang=str(lang) if lang else None,
        )
        settings.check_base(hosts_from=where("VERIFY_ALLOWED_HOSTS", "allowed_hosts")
                            if hosts_raw is not None else None)
        return settings

    def check_base(self, hosts_from: str | None = None) -> None:
        """Every profile's base must itself be an address the lookup may contact; none overlap.

        `hosts_from` names where a configured host list came from: a list written for the LMA
        card alone (0.1) then gets an error saying which host to add, and where."""
        for profile in self.profiles:
            self._check_one_base(profile, hosts_from)
        check_no_overlap(self.profiles)

    def _check_one_base(self, profile: LookupProfile, hosts_from: str | None = None) -> None:
        base = profile.base
        check_no_userinfo(base, f"{profile.kind} card, {profile.source}")
        parts = urlsplit(base)
        host = (parts.hostname or "").lower()
        if _is_ip(host) and not (self.allow_loopback_http and host in LOOPBACK_HOSTS):
            # A typed token is sent to the base: an address by number has no certificate name
            # worth checking and no place among the agency's hosts.
            raise ConfigError(
                N_("lookup base {base} ({kind} card) names its host by IP address; give the "
                   "agency's host name"), base=base, kind=profile.kind)
        if parts.scheme == "http" and not (self.allow_loopback_http and host in LOOPBACK_HOSTS):
            raise ConfigError(
                f"lookup base {base!r} is plain http; only https (or loopback with "
                "VERIFY_ALLOW_LOOPBACK_HTTP=1) is allowed"
            )
        if parts.scheme not in ("http", "https") or not host:
            raise ConfigError(f"lookup base {base!r} is not an https address")
        if host not in self.allowed_hosts and hosts_from is not None:
            raise ConfigError(
                f"{hosts_from} does not include {host!r}, the host of the {profile.kind} card's "
                f"lookup ({base}); add {host!r} to it (a host list written for LMA cards alone "
                "must now name the application card's host too)"
            )
        if host not in self.allowed_hosts:
            raise ConfigError(
                f"lookup base host {host!r} ({profile.kind} card) is not among the allowed hosts "
                f"({', '.join(sorted(self.allowed_hosts)) or 'none'}); set VERIFY_ALLOWED_HOSTS"
            )
        if profile.token_location == "path" and not base.endswith("/"):
            raise ConfigError(f"lookup base {base!r} must end with '/' (the token follows it)")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _profile_files(folder: Path) -> list[Path]:
    """The `*.toml` files of a profiles folder; a folder that exists but cannot be listed is an
    error naming it (it once fell back to the shipped profile without a word)."""
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if e.name.endswith(".toml"))
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise ConfigError(N_("the profiles folder {path} is not a folder"),
                          path=str(folder)) from None
    except OSError as exc:
        raise ConfigError(N_("cannot read the profiles folder {path}: {why}"), path=str(folder),
                          why=exc.strerror or str(exc)) from None


def _profiles_in_force(env: Mapping[str, str], configured: Any) -> dict[str, LookupProfile]:
    """Shipped, then learnt (profiles folder), then configured: later replaces by card kind."""
    profiles = {kind: shipped_profile(kind) for kind in CARD_KINDS}
    folders = [profiles_dir(env)]
    if not env.get("VERIFY_CONFIG"):
        folders.append(SYSTEM_CONFIG_DIR / "profiles")
    learnt: dict[str, LookupProfile] = {}
    for folder in reversed(folders):  # the user's folder wins over the system's
        found: dict[str, LookupProfile] = {}
        for path in _profile_files(folder):
            profile = load_profile(path)
            if profile.kind in found:
                raise ConfigError(
                    f"two lookup profiles for the {profile.kind} card: "
                    f"{found[profile.kind].source} and {path}"
                )
            found[profile.kind] = profile
        learnt.update(found)
    profiles.update(learnt)
    named = [] if not configured else [configured] if isinstance(configured, str) else configured
    for entry in named:
        profile = load_profile(str(entry))
        profiles[profile.kind] = profile
    return profiles


# Every key a config file may hold: the lookup's (read here), the language, and the desk
# daemon's (verify.desk.config.DaemonConfig; tests/lookup check the two lists agree), top level
# or in a [daemon] table. Anything else is a typo that would otherwise be ignored in silence.
LOOKUP_KEYS = frozenset({
    "lookup_base", "lookup_origin", "allowed_hosts", "allow_loopback_http", "lookup_timeout",
    "region", "card", "profile", "lang",
})
DAEMON_KEYS = frozenset({
    "sources", "events", "http", "http_token", "region", "lang", "clear_after", "dedupe_seconds",
    "max_lookups", "queue_size", "audit_log", "audit_key", "chip_reader", "trust_store",
    "chip_wait",
})
CONFIG_KEYS = LOOKUP_KEYS | DAEMON_KEYS


def unknown_key(key: str, known: frozenset[str] | set[str], where: str) -> ConfigError:
    """An unknown key, named with the closest known one and the file it is in."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(known))}"
    return ConfigError(f"{where}: unknown setting {key!r}{hint}")


def check_keys(values: Mapping[str, Any], file_name: str | None) -> None:
    """Refuse a key no reader of the config file knows (top level and the [daemon] table)."""
    where = file_name or "the config file"
    for key, value in values.items():
        if key == "daemon" and isinstance(value, Mapping):
            for inner in value:
                if inner not in CONFIG_KEYS:
                    raise unknown_key(inner, CONFIG_KEYS, f"{where} [daemon]")
        elif key not in CONFIG_KEYS:
            raise unknown_key(key, CONFIG_KEYS | {"daemon"}, where)


def _config_file_named(path: str | Path | None, env: Mapping[str, str]) -> str | None:
    """The config file read (as `_read_config` picks it), for error messages."""
    if path:
        return str(path)
    for candidate in dict.fromkeys([config_dir(env) / CONFIG_NAME, *config_candidates()]):
        if candidate.is_file():
            return str(candidate)
    return None


def _read_config(path: str | Path | None, env: Mapping[str, str]) -> dict[str, Any]:
    candidates = (
        [Path(path)]
        if path
        else list(dict.fromkeys([config_dir(env) / CONFIG_NAME, *config_candidates()]))
    )
    for candidate in candidates:
        if path and candidate.is_dir():
            raise ConfigError(f"config {candidate} is a folder, not a file: give the file "
                              f"itself, e.g. {candidate / CONFIG_NAME}")
        # Whatever stands at the path is read (a FIFO or a device is refused, never waited on).
        if path or os.path.lexists(candidate):
            return read_toml(candidate)
    return {}
