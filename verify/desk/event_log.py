"""The events file: redacted JSON Lines, one per event, to a file or standard output."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import IO, Any

from verify.desk.events import Event
from verify.errors import ConfigError


class JsonLinesSink:
    """`-` is standard output; a path is appended to (mode 0600) and reopened on SIGHUP."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self.reopen()

    def reopen(self) -> None:
        with self._lock:
            if self.target == "-":
                self._file = sys.stdout
                return
            if self._file is not None:
                self._file.close()
            self._file = open_private_append(Path(self.target))

    def record(self, event: Event) -> dict[str, Any]:
        """What one line says about an event (the audit log says less)."""
        return event.to_record()

    def emit(self, event: Event) -> None:
        line = json.dumps(self.record(event), ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None and self._file is not sys.stdout:
                self._file.close()
            self._file = None


def open_private_append(path: Path) -> IO[str]:
    """Open for appending, created readable by the owner only (the daemon's user)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot open {path} for writing: {exc.strerror}") from None
    return os.fdopen(fd, "a", encoding="utf-8")
