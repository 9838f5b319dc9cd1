"""Lookup profiles: data that says where the token sits and which page text means what.

Kept out of code so that a region can confirm or correct it from a real card without a release.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from verify.errors import ConfigError

MARKER_KINDS = (
    "page",
    "valid",
    "no_information",
    "right_to_work",
    "no_right_to_work",
    "maintenance",
    "consent",
)


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

    @property
    def token_re(self) -> re.Pattern[str]:
        return re.compile(self.token_pattern)

    @property
    def query_param(self) -> str | None:
        kind, _, name = self.token_location.partition(":")
        return name if kind == "query" else None

    @classmethod
    def from_mapping(cls, data: dict[str, Any], origin: str) -> LookupProfile:
        try:
            markers_raw = data.get("markers", {})
            markers = {
                kind: tuple(str(m).casefold() for m in markers_raw.get(kind, ()))
                for kind in MARKER_KINDS
            }
            profile = cls(
                name=str(data["name"]),
                confirmed=bool(data.get("confirmed", False)),
                base=str(data["base"]),
                allowed_hosts=tuple(str(h).lower() for h in data["allowed_hosts"]),
                token_location=str(data.get("token_location", "path")),
                token_pattern=str(data["token_pattern"]),
                max_body_bytes=int(data.get("max_body_bytes", 256 * 1024)),
                markers=markers,
            )
            re.compile(profile.token_pattern)
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise ConfigError(f"lookup profile {origin} is not usable: {exc!r}") from None
        if profile.token_location != "path" and not profile.query_param:
            raise ConfigError(f"lookup profile {origin}: token_location must be path or query:NAME")
        for kind in ("page", "valid", "no_information"):
            if not profile.markers[kind]:
                raise ConfigError(f"lookup profile {origin}: markers.{kind} must not be empty")
        return profile


def load_profile(path: str | Path | None = None) -> LookupProfile:
    """The profile at `path` (read each time: a region may edit it), or the shipped default."""
    if path is None:
        return _default_profile()
    try:
        text = Path(path).read_text("utf-8")
        return LookupProfile.from_mapping(tomllib.loads(text), str(path))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read lookup profile {path}: {exc}") from None


@functools.cache
def _default_profile() -> LookupProfile:
    """The shipped profile never changes while running; every check used to re-read it."""
    text = resources.files("verify.lookup.profiles").joinpath("default.toml").read_text("utf-8")
    return LookupProfile.from_mapping(tomllib.loads(text), "default")
