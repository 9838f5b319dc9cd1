"""The desks file and the shared key on disk, and the copy each instance re-reads.

    DIR/desks.json   every desk and site (name, site, region, language, revoked): configuration,
                     written by `verify desk add/site/revoke`, copied to every instance
    DIR/key          the key every instance signs and checks credentials with (mode 0600)

Instances never write here. Each re-reads the desks file when it changed, at most every
`interval` seconds, so a revocation is in force on every instance within that interval.
A desks file that cannot be read keeps the last good copy in force (and says so in the log).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from drivers.files import FileRefused, read_bounded
from verify.desk.desks import Book, Desk, SiteSettings
from verify.errors import ConfigError
from verify.locale import N_
from verify.tomlfile import refusal

log = logging.getLogger("verify.desk.desks")

BOOK = "desks.json"
KEY = "key"
KEY_BYTES = 32
# A desk is some 150 bytes in the file: room for tens of thousands.
BOOK_MAX_BYTES = 8 * 1024 * 1024
KEY_MAX_BYTES = 4096


def book_to_json(book: Book) -> dict[str, Any]:
    return {
        "desks": [
            {k: v for k, v in (("id", d.id), ("name", d.name), ("site", d.site),
                               ("region", d.region), ("lang", d.lang),
                               ("revoked", d.revoked or None)) if v is not None}
            for d in sorted(book.desks.values(), key=lambda d: (d.site, d.name, d.id))
        ],
        "sites": {name: {k: v for k, v in (("region", s.region), ("lang", s.lang)) if v}
                  for name, s in sorted(book.sites.items())},
    }


def book_from_json(data: Any) -> Book:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    desks: dict[str, Desk] = {}
    for item in data.get("desks", []):
        desk = Desk(id=str(item["id"]), name=str(item["name"]), site=str(item["site"]),
                    region=item.get("region"), lang=item.get("lang"),
                    revoked=bool(item.get("revoked", False)))
        desks[desk.id] = desk
    sites = {str(name): SiteSettings(region=s.get("region"), lang=s.get("lang"))
             for name, s in dict(data.get("sites", {})).items()}
    return Book(desks=desks, sites=sites)


def load_book(folder: Path) -> Book:
    """The desks file; an empty book when there is none yet. Read as a settings file is: a
    regular file (a FIFO is never waited on, a device never read), at most `BOOK_MAX_BYTES`."""
    path = folder / BOOK
    try:
        raw = read_bounded(path, BOOK_MAX_BYTES)
    except FileRefused as exc:
        if exc.reason == "missing":
            return Book()
        if exc.reason == "unreadable":
            raise ConfigError(N_("cannot read the desks file {path}: {why}"), path=str(path),
                              why=exc.why) from None
        raise refusal(exc) from None
    try:
        return book_from_json(json.loads(raw.decode("utf-8")))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise ConfigError(N_("the desks file {path} is damaged"), path=str(path)) from None


def save_book(folder: Path, book: Book) -> None:
    """Write the whole file anew and rename it over the old one: readers see one or the other."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{BOOK}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(book_to_json(book), ensure_ascii=False, indent=2) + "\n",
                   encoding="utf-8")
    os.replace(tmp, folder / BOOK)


def load_key(folder: Path, *, create: bool = False) -> bytes:
    """The shared key; `create` makes one (0600) when the folder has none yet."""
    path = folder / KEY
    if create and not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(KEY_BYTES) + "\n")
    try:
        text = read_bounded(path, KEY_MAX_BYTES).decode("ascii").strip()
    except FileRefused as exc:
        if exc.reason in ("not_regular", "folder", "too_large"):
            raise refusal(exc) from None
        raise ConfigError(N_("no desk key in {folder}: add a desk first "
                             "(verify desk add) or copy the key there"),
                          folder=str(folder)) from None
    except UnicodeDecodeError:
        raise ConfigError(N_("no desk key in {folder}: add a desk first "
                             "(verify desk add) or copy the key there"),
                          folder=str(folder)) from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise ConfigError(N_("the desk key {path} is damaged (want {n} random bytes in hex)"),
                          path=str(path), n=KEY_BYTES)
    return key


class ReloadingBook:
    """The desks file as this instance knows it: re-read when it changed, checked every
    `interval` seconds on use (no thread of its own)."""

    def __init__(self, folder: Path, interval: float = 10.0) -> None:
        self.folder = folder
        self.interval = interval
        self._lock = threading.Lock()
        self._book = load_book(folder)
        self._stamp = self._stat()
        self._checked = time.monotonic()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = (self.folder / BOOK).stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def current(self, now: float | None = None) -> Book:
        now = time.monotonic() if now is None else now
        with self._lock:
            if now - self._checked < self.interval:
                return self._book
            self._checked = now
            stamp = self._stat()
            if stamp == self._stamp:
                return self._book
            try:
                self._book = load_book(self.folder)
                self._stamp = stamp
                log.info("desks file re-read: %d desk(s)", len(self._book.desks))
            except ConfigError as exc:
                log.warning("desks file not re-read, keeping the last good one: %s", exc)
            return self._book
