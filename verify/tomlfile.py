"""Read a settings file (TOML) that cannot hurt the reader: bounded, regular, shallow.

Config, lookup profiles and rule files are written by people and may be wrong in any way: a
profile symlinked to `/dev/zero` would be read until memory runs out, a FIFO would block every
command waiting for a writer, a deeply nested value would end in a RecursionError. Every such
file is read here: opened without blocking, only if it is a regular file, at most `MAX_BYTES`,
UTF-8, and no deeper than `MAX_DEPTH` tables and arrays. Anything else is one clear sentence
(`ConfigError`, exit 2) naming the file.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

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
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(N_("settings file {path} does not exist"), path=str(path)) from None
    except OSError as exc:
        raise ConfigError(N_("cannot read settings file {path}: {why}"), path=str(path),
                          why=exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(N_("{path} is not a regular file (a device, pipe or folder); "
                                 "settings are read only from files"), path=str(path))
        if info.st_size > max_bytes:
            raise ConfigError(N_("settings file {path} is larger than {limit} KB"),
                              path=str(path), limit=max_bytes // 1024)
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:  # the file may grow while it is read
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise ConfigError(N_("settings file {path} is larger than {limit} KB"),
                              path=str(path), limit=max_bytes // 1024)
    except OSError as exc:
        raise ConfigError(N_("cannot read settings file {path}: {why}"), path=str(path),
                          why=exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(N_("settings file {path} is not UTF-8 text"), path=str(path)) from None


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
