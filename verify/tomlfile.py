"""Read a settings file (TOML) that cannot hurt the reader: bounded, regular, shallow.

Config, lookup profiles and rule files are written by people and may be wrong in any way: a
profile symlinked to `/dev/zero` would be read until memory runs out, a FIFO would block every
command waiting for a writer, a deeply nested value would end in a RecursionError. Every such
file is read here: opened without blocking, only if it is a regular file, at most `MAX_BYTES`,
UTF-8, and no deeper than `MAX_DEPTH` tables and arrays. Anything else is one clear sentence
(`ConfigError`, exit 2) naming the file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from drivers.files import FileRefused, read_bounded
from verify.errors import ConfigError
from verify.locale import N_

# A lookup profile is about 2 KB, a region's rules some tens of KB.
MAX_BYTES = 1024 * 1024
# Tables within tables (and arrays) deeper than this are no settings anyone writes.
MAX_DEPTH = 16


def read_toml(path: str | Path, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The TOML document at `path`, or a `ConfigError` saying what is wrong with the file."""
    return parse_toml(read_text(path, max_bytes), path)


def read_text(path: str | Path, max_bytes: int = MAX_BYTES) -> str:
    """A small regular UTF-8 file's text. Never blocks on a FIFO, never follows a device."""
    try:
        return read_bytes(path, max_bytes).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(N_("settings file {path} is not UTF-8 text"), path=str(path)) from None


def read_bytes(path: str | Path, max_bytes: int = MAX_BYTES) -> bytes:
    """A small regular file's bytes (`drivers.files.read_bounded`), or a `ConfigError` naming
    the file: the settings' wording of every way a file is refused."""
    try:
        return read_bounded(path, max_bytes)
    except FileRefused as exc:
        raise refusal(exc) from None


def refusal(exc: FileRefused) -> ConfigError:
    """`exc` as the one sentence a settings file's refusal is."""
    if exc.reason == "missing":
        return ConfigError(N_("settings file {path} does not exist"), path=exc.path)
    if exc.reason in ("folder", "not_regular"):
        return ConfigError(N_("{path} is not a regular file (a device, pipe or folder); "
                              "settings are read only from files"), path=exc.path)
    if exc.reason == "too_large":
        return ConfigError(N_("settings file {path} is larger than {limit} KB"),
                           path=exc.path, limit=exc.limit // 1024)
    return ConfigError(N_("cannot read settings file {path}: {why}"), path=exc.path,
                       why=exc.why)


def parse_toml(text: str, path: str | Path) -> dict[str, Any]:
    """`text` as TOML, no deeper than `MAX_DEPTH`, or a `ConfigError` naming `path`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(N_("settings file {path} is not valid TOML: {why}"), path=str(path),
                          why=str(exc)) from None
    except RecursionError:
        data = None
    if data is None or _depth(data) > MAX_DEPTH:
        raise ConfigError(
            N_("settings file {path} nests tables or lists more than {limit} levels deep"),
            path=str(path), limit=MAX_DEPTH)
    return data


def _depth(value: object) -> int:
    """How deep tables and arrays nest, counted without recursion."""
    deepest = 0
    todo: list[tuple[object, int]] = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = list(item)
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_DEPTH:
            return deepest
        todo.extend((child, depth + 1) for child in children)
    return deepest
