"""The events file: redacted JSON Lines, one per event, to a file or standard output."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import IO

from verify.audit import open_private_append
from verify.events import Event


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

    def emit(self, event: Event) -> None:
        line = json.dumps(event.to_record(), ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None and self._file is not sys.stdout:
                self._file.close()
            self._file = None
