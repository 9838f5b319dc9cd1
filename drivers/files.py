"""Read a file that cannot hurt the reader: a regular file, opened without blocking, bounded.

Every file the tool reads is named by a person and may be anything: a FIFO would block the
command waiting for a writer, `/dev/zero` (or a symlink to it) would be read until memory runs
out, a file may grow while it is read. `open_regular` opens without blocking and refuses
whatever is not a regular file; `read_bounded` reads at most `max_bytes` of it. Both raise
`FileRefused`, whose `reason` the caller words in its own sentence (settings, images, keys,
the trust store each name the file their own way).

The one copy of this logic: `verify.tomlfile` (settings), `drivers.camera` (images),
`drivers.recording` (recordings) and the desk and chip files read through it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

CHUNK = 65536


class FileRefused(Exception):
    """A file that was not read. `reason` is one of:

    - `missing`: nothing at the path;
    - `folder`: a folder;
    - `not_regular`: a device, FIFO, socket (also through a symlink);
    - `too_large`: more than the limit (`limit` bytes), however it was found out;
    - `unreadable`: the system refused (`why` says how, `errno` its number: permission, I/O).
    """

    def __init__(self, reason: str, path: str | Path, *, limit: int = 0, why: str = "",
                 errno: int | None = None) -> None:
        self.reason = reason
        self.path = str(path)
        self.limit = limit
        self.why = why
        self.errno = errno
        super().__init__(f"{self.path}: {reason}" + (f" ({why})" if why else ""))


def open_regular(path: str | Path) -> int:
    """A descriptor of the regular file at `path`, opened read-only without blocking (a FIFO
    is not waited on); `FileRefused` when it is anything else or cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileRefused("missing", path) from None
    except IsADirectoryError:
        raise FileRefused("folder", path) from None
    except OSError as exc:
        raise FileRefused("unreadable", path, why=exc.strerror or str(exc),
                          errno=exc.errno) from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise FileRefused("unreadable", path, why=exc.strerror or str(exc),
                          errno=exc.errno) from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise FileRefused("folder" if stat.S_ISDIR(mode) else "not_regular", path)
    return fd


def read_bounded(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of the regular file at `path`, at most `max_bytes` of them, or `FileRefused`."""
    fd = open_regular(path)
    try:
        if os.fstat(fd).st_size > max_bytes:
            raise FileRefused("too_large", path, limit=max_bytes)
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:  # the file may grow while it is read
            chunk = os.read(fd, CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise FileRefused("too_large", path, limit=max_bytes)
    except OSError as exc:
        raise FileRefused("unreadable", path, why=exc.strerror or str(exc),
                          errno=exc.errno) from None
    finally:
        os.close(fd)
    return b"".join(chunks)
