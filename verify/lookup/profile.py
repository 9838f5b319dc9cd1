"""Lookup profiles: one per card kind, data that says where the token sits and what page text means.

Kept out of code so that a region can confirm or correct it from a real card without a release
(`verify profile learn` writes one). Each card kind (LMA card, application card) has its own
profile; a scanned address belongs to the one profile whose host and path it fits.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from verify.errors import ConfigError
from verify.locale import N_
from verify.lookup.pattern import PROBLEMS, pattern_problem
from verify.tomlfile import parse_toml, read_toml

MARKER_KINDS = (
    "page",
    "valid",
    "no_information",
    "right_to_work",
    "no_right_to_work",
    "maintenance",
    "consent",
)
CARD_KINDS = ("lma", "application")
SHIPPED = "shipped"
# The shipped profiles, beside this module as the rule files are (`importlib.resources` would
# load zipfile support at every start for a package never imported from a zip).
SHIPPED_DIR = Path(__file__).resolve().parent / "profiles"


@dataclass(frozen=True)
class LookupProfile:
    name: str
    confirmed: bool
    base: str
    allowed_hosts: tuple[str, ...]
    token_location: str  # "path" or "query:NAME"
    token_pattern: str
    max_body_bytes: int
    markers: dict[str, tuple[str, ...]]
    kind: str = "lma"  # the card kind: "lma" or "application"
    source: str = SHIPPED  # "shipped" or the file it was read from
    confirmed_on: str | None = None  # ISO date
    note: str = ""  # who confirmed it, from which cards

    @property
    def token_re(self) -> re.Pattern[str]:
        return re.compile(self.token_pattern)

    @property
    def query_param(self) -> str | None:
        kind, _, name = self.token_location.partition(":")
        return name if kind == "query" else None

    @property
    def host(self) -> str:
        return (urlsplit(self.base).hostname or "").lower()

    @property
    def base_path(self) -> str:
        return urlsplit(self.base).path or "/"

    @property
    def hosts(self) -> frozenset[str]:
        """The hosts whose addresses this profile answers for: its base's and the allowed ones."""
        return frozenset({self.host, *self.allowed_hosts})

    def fits(self, host: str, path: str) -> bool:
        """Whether an address with this host and path is this profile's kind of lookup."""
        if host.lower().strip("[]") not in {h.strip("[]") for h in self.hosts}:
            return False
        if self.query_param is None:
            return path.startswith(self.base_path)
        return path == self.base_path

    def rebased(self, base: str) -> LookupProfile:
        """The same profile at another base address (the emulator, a test, a region's proxy)."""
        host = (urlsplit(base).hostname or "").lower()
        return dataclasses.replace(self, base=base, allowed_hosts=(host,))

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], origin: str, source: str = SHIPPED
    ) -> LookupProfile:
        _check_values(data, origin)
        try:
            markers_raw = data.get("markers", {})
            markers = {
                kind: tuple(str(m).casefold() for m in markers_raw.get(kind, ()))
                for kind in MARKER_KINDS
            }
            confirmed_on = data.get("confirmed_on")
            profile = cls(
                name=str(data["name"]),
                confirmed=bool(data.get("confirmed", False)),
                base=str(data["base"]),
                allowed_hosts=tuple(str(h).lower() for h in data["allowed_hosts"]),
                token_location=str(data.get("token_location", "path")),
                token_pattern=str(data["token_pattern"]),
                max_body_bytes=int(data.get("max_body_bytes", 256 * 1024)),
                markers=markers,
                kind=str(data.get("kind", "lma")),
                source=source,
                confirmed_on=None if confirmed_on is None else str(confirmed_on),
                note=str(data.get("note", "")),
            )
            re.compile(profile.token_pattern)
        except (KeyError, TypeError, ValueError, AttributeError, re.error) as exc:
            raise ConfigError(f"lookup profile {origin} is not usable: {exc!r}") from None
        if profile.kind not in CARD_KINDS:
            raise ConfigError(
                f"lookup profile {origin}: kind must be one of {', '.join(CARD_KINDS)}"
            )
        if profile.token_location != "path" and not profile.query_param:
            raise ConfigError(f"lookup profile {origin}: token_location must be path or query:NAME")
        for kind in ("page", "valid", "no_information"):
            if not profile.markers[kind]:
                raise ConfigError(f"lookup profile {origin}: markers.{kind} must not be empty")
        return profile

    def to_toml(self) -> str:
        """The profile as a TOML file (what `verify profile learn` writes)."""
        lines = [
            "# Lookup profile written by `verify profile learn` (docs/lookup.md).",
            f"name = {_q(self.name)}",
            f"kind = {_q(self.kind)}",
            f"confirmed = {'true' if self.confirmed else 'false'}",
        ]
        if self.confirmed_on:
            lines.append(f"confirmed_on = {_q(self.confirmed_on)}")
        lines += [
            f"note = {_q(self.note)}",
            f"base = {_q(self.base)}",
            f"allowed_hosts = [{', '.join(_q(h) for h in self.allowed_hosts)}]",
            f"token_location = {_q(self.token_location)}",
            f"token_pattern = {_q(self.token_pattern)}",
            f"max_body_bytes = {self.max_body_bytes}",
            "",
            "[markers]",
        ]
        for kind in MARKER_KINDS:
            lines.append(f"{kind} = [{', '.join(_q(m) for m in self.markers[kind])}]")
        return "\n".join(lines) + "\n"


# What a lookup answer may weigh: the agency's page is some KB; more is refused as too large.
MIN_BODY_BYTES = 1024
MAX_BODY_BYTES = 8 * 1024 * 1024


def _check_values(data: Mapping[str, Any], origin: str) -> None:
    """Values a hand-written profile could get dangerously wrong, each refused in one sentence:
    a cap that is not a sane whole number, a host list that is a string, a base with a user
    name or password, a token pattern that could backtrack without end."""
    cap = data.get("max_body_bytes", MIN_BODY_BYTES)
    if isinstance(cap, bool) or not isinstance(cap, int) \
            or not MIN_BODY_BYTES <= cap <= MAX_BODY_BYTES:
        raise ConfigError(
            N_("lookup profile {path}: max_body_bytes must be a whole number of bytes from "
               "{low} to {high}, not {value}"),
            path=origin, low=MIN_BODY_BYTES, high=MAX_BODY_BYTES, value=repr(cap))
    hosts = data.get("allowed_hosts")
    if hosts is not None and (
            not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts)):
        raise ConfigError(
            N_("lookup profile {path}: allowed_hosts must be a list of host names, "
               "e.g. [\"www.migrationsverket.se\"]"), path=origin)
    base = data.get("base")
    if isinstance(base, str):
        check_no_userinfo(base, origin)
    pattern = data.get("token_pattern")
    if isinstance(pattern, str):
        problem = pattern_problem(pattern)
        if problem is not None:
            key, values = problem
            raise ConfigError(PROBLEMS[key], path=origin, pattern=pattern, **values)


def check_no_userinfo(base: str, origin: str) -> None:
    """A base address must not carry `user:password@`: it would be sent as Basic auth to the
    agency and printed in every manual address."""
    authority = base.partition("://")[2].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" in authority:
        raise ConfigError(
            N_("{path}: the lookup base must not hold a user name or password (before '@')"),
            path=origin)


def _q(text: str) -> str:
    """A TOML basic string."""
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in out) + '"'


def load_profile(path: str | Path | None = None, kind: str = "lma") -> LookupProfile:
    """The profile at `path` (read each time: a region may edit it), else the shipped `kind`."""
    if path is None:
        return shipped_profile(kind)
    return LookupProfile.from_mapping(read_toml(path), str(path), source=str(path))


@functools.cache
def shipped_profile(kind: str) -> LookupProfile:
    """The shipped profile of a card kind; it never changes while running, so it is read once."""
    if kind not in CARD_KINDS:
        raise ConfigError(f"no lookup profile for card kind {kind!r}")
    text = (SHIPPED_DIR / f"{kind}.toml").read_text("utf-8")
    profile = LookupProfile.from_mapping(parse_toml(text, f"{kind}.toml"), f"{kind}.toml")
    if profile.kind != kind:
        raise ConfigError(f"shipped profile {kind}.toml says kind = {profile.kind!r}")
    return profile


def check_no_overlap(profiles: Iterable[LookupProfile]) -> None:
    """Every address must belong to at most one profile: overlapping profiles are refused."""
    seen: list[LookupProfile] = []
    for profile in profiles:
        for other in seen:
            if other.kind == profile.kind:
                raise ConfigError(
                    f"two lookup profiles for the {profile.kind} card: {other.source} and "
                    f"{profile.source}"
                )
            hosts = {h.strip("[]") for h in profile.hosts} & {h.strip("[]") for h in other.hosts}
            a, b = profile.base_path, other.base_path
            if hosts and (a.startswith(b) or b.startswith(a)):
                raise ConfigError(
                    f"lookup profiles {other.name} ({other.source}) and {profile.name} "
                    f"({profile.source}) overlap: both fit addresses under "
                    f"{sorted(hosts)[0]}{min(a, b, key=len)}; give each card kind its own path"
                )
        seen.append(profile)
