"""The chip check at the edge: open the reader, read the chip within a deadline, load the
region's trust store from its folder, and give a status its `authenticity`.

The pure parts (BAC, reading, passive authentication) are `verify.cards.emrtd`; this module
adds the two things they must not do: I/O (the PC/SC reader, the trust-store folder) and time
(one deadline over waiting for the card and reading it, enforced from outside the reading
thread so a chip that stops answering cannot hang the caller).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.files import FileRefused, read_bounded
from drivers.scan import Scan, SourceError
from verify.cards.mrz import Mrz, parse_mrz
from verify.clock import now as local_now
from verify.errors import ConfigError, ParseError
from verify.locale import N_
from verify.model import Authenticity, Status

if TYPE_CHECKING:
    from verify.cards.emrtd.trust import TrustStore

# The chip's code (verify.cards.emrtd) is imported where a chip is read or a trust store
# loaded: it brings cryptography and asn1crypto, a fifth of every command's start-up, and
# only a desk with a card reader uses it.

Opener = Callable[[str, float, Callable[[], None]], Any]

DEFAULT_READER = "pcsc:"
DEFAULT_DEADLINE = 5.0
MAX_TRUST_FILES = 5000

# The English detail for each failure a reader or the reading can end in.
FAILED = {
    "no_reader": "no card reader was found",
    "no_card": "no card was put on the reader in time",
    "card_removed": "the card was taken off the reader during the reading",
    "reader_error": "the card reader failed",
    "access_denied": "the chip refused access with the key from the zone: the zone was "
                     "misread (read it again), or it does not belong to this chip",
    "not_emrtd": "the card on the reader is not a travel document's chip",
    "file_missing": "the chip lacks a file every travel document has",
    "chip_error": "the chip answered with something that is not a valid answer",
    "chip_timeout": "the chip was not read within the deadline",
}


def load_trust_folder(path: str | Path | None, when: datetime | None = None) -> TrustStore:
    """The trust store in a folder (certificates, master lists, CRLs); none configured gives
    an empty store, which makes every intact chip `untrusted` saying what to install.

    Each file is read through `drivers.files.read_bounded`: a regular file of at most
    `MAX_ITEM` bytes. Anything else in the folder (a subfolder, a FIFO, a device or a symlink
    to one, a file too large) is never waited on or read, and is named among the store's
    problems. A folder that cannot be listed, a file that cannot be read, or more than
    `MAX_TRUST_FILES` entries is an error naming it: a revocation list left unread would be a
    certificate wrongly trusted."""
    from verify.cards.emrtd.trust import MAX_ITEM, TrustStore, load_trust_store

    if path is None or str(path) == "":
        return TrustStore()
    folder = Path(path)
    try:
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in itertools.islice(entries, MAX_TRUST_FILES + 1))
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigError(N_("trust store {path} is not a folder"), path=str(folder)) from None
    except OSError as exc:
        raise ConfigError(N_("cannot read the trust store {path}: {why}"), path=str(folder),
                          why=exc.strerror or type(exc).__name__) from None
    if len(names) > MAX_TRUST_FILES:
        raise ConfigError(N_("trust store {path} holds more than {n} files"),
                          path=str(folder), n=MAX_TRUST_FILES)
    items: list[tuple[str, bytes]] = []
    skipped: list[tuple[str, str]] = []
    for name in names:
        try:
            items.append((name, read_bounded(folder / name, MAX_ITEM)))
        except FileRefused as exc:
            if exc.reason == "unreadable":  # a CRL left unread would trust a revoked CSCA
                raise ConfigError(N_("cannot read the trust store {path}: {why}"),
                                  path=exc.path, why=exc.why) from None
            skipped.append((name, UNREAD[exc.reason]))
    store = load_trust_store(items, when or datetime.now(UTC))
    return replace(store, problems=(*store.problems, *skipped)) if skipped else store


# Why a file of the trust-store folder was not read (English, as the store's other problems).
UNREAD = {
    "folder": "a folder: not read",
    "not_regular": "not a regular file (a device, pipe or socket): not read",
    "too_large": "larger than a trust-store file can be",
    "missing": "gone while the folder was read",
}


def pcsc_opener(url: str, wait: float, on_reader: Callable[[], None]) -> Any:
    """The PC/SC reader. Imported here: pyscard loads the system's PC/SC library, which a
    desk without a card reader may lack, and nothing but the chip needs it."""
    from drivers.pcsc import open_reader

    return open_reader(url, wait, on_reader)


def authenticity(state: str, reason: str, detail: str,
                 facts: tuple[tuple[str, str], ...] = ()) -> Authenticity:
    return Authenticity(state=state, reason=reason, detail=detail,  # type: ignore[arg-type]
                        checked_at=local_now(), facts=facts)


def check_chip(
    mrz: Mrz,
    *,
    trust: TrustStore,
    reader_url: str = DEFAULT_READER,
    deadline: float = DEFAULT_DEADLINE,
    on_step: Callable[[str], None] | None = None,
    opener: Opener = pcsc_opener,
) -> Authenticity:
    """Read the chip of the card whose zone is `mrz` and judge it, within `deadline` seconds
    from now (waiting for the reader and the card included)."""
    from verify.cards.emrtd.access import mrz_information
    from verify.cards.emrtd.passive import Verdict, passive_authentication
    from verify.cards.emrtd.session import ChipError, read_chip

    if not mrz.ok or mrz.birth_date is None or mrz.expiry_date is None:
        return authenticity("not_read", "zone_unreadable",
                            "the zone did not read correctly, so the chip's key is unknown")
    info = mrz_information(mrz.document_number, mrz.birth_date.strftime("%y%m%d"),
                           mrz.expiry_date.strftime("%y%m%d"))
    printed = tuple(mrz.lines)
    box: dict[str, Verdict | Exception] = {}
    held: list[Any] = []
    done = threading.Event()

    found = threading.Event()
    present = threading.Event()

    def work() -> None:
        try:
            # The reader's own wait ends a little before the deadline, so its more precise
            # answer (no reader, no card) usually arrives first.
            reader = opener(reader_url, deadline * 0.9, found.set)
            held.append(reader)
            present.set()
            with reader:
                if on_step:
                    on_step("card_present")
                files = read_chip(reader.transmit, info, os.urandom, on_step)
            box["verdict"] = passive_authentication(files, printed, trust,
                                                    datetime.now(UTC))
            if on_step:
                on_step("passive_authentication")
        except Exception as exc:  # noqa: BLE001 - every failure becomes a `failed` verdict
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=work, name="chip-read", daemon=True)
    thread.start()
    if not done.wait(deadline):
        for reader in held:  # closing may block inside PC/SC: never wait for it
            threading.Thread(target=reader.close, daemon=True).start()
        if not found.is_set():  # still looking for a reader
            return authenticity("failed", "no_reader", FAILED["no_reader"])
        if not present.is_set():  # still waiting for a card
            return authenticity("failed", "no_card", FAILED["no_card"])
        return authenticity("failed", "chip_timeout", FAILED["chip_timeout"],
                            (("seconds", f"{deadline:g}"),))
    verdict = box.get("verdict")
    if isinstance(verdict, Verdict):
        return authenticity(verdict.state, verdict.reason, verdict.detail, verdict.facts)
    error = box.get("error")
    reason = getattr(error, "reason", None)
    if isinstance(error, SourceError | ChipError) and isinstance(reason, str):
        reason = reason if reason in FAILED else "chip_error"
        return authenticity("failed", reason, FAILED[reason])
    if isinstance(error, SourceError | ImportError | OSError):  # no PC/SC service or library
        return authenticity("failed", "no_reader", FAILED["no_reader"])
    return authenticity("failed", "chip_error", FAILED["chip_error"])


def with_authenticity(status: Status, result: Authenticity) -> Status:
    return replace(status, authenticity=result)


def no_zone() -> Authenticity:
    """A chip was asked for, but what was read has no zone to open it with (an LMA card)."""
    return authenticity("not_read", "no_zone",
                        "what was read has no machine-readable zone, so there is no chip to open")


def check_status_chip(status: Status, text: str, *, trust: TrustStore,
                      reader_url: str = DEFAULT_READER,
                      deadline: float = DEFAULT_DEADLINE) -> Status:
    """`status` (from `text`) with the chip's word beside it: the zone in `text` opens the chip.
    A text without a zone (an LMA card's code) gets `not_read`, never a reader wait."""
    if status.document.mrz is None:
        return with_authenticity(status, no_zone())
    try:
        mrz = parse_mrz(text)
    except ParseError:
        try:
            mrz = parse_mrz(text, ocr_tolerant=True)
        except ParseError:
            return with_authenticity(status, no_zone())
    return with_authenticity(status, check_chip(mrz, trust=trust, reader_url=reader_url,
                                                deadline=deadline))


def chip_checker(base: Callable[[Scan], Status], *, reader_url: str, trust: TrustStore,
                 wait: float) -> Callable[[Scan], Status]:
    """The desk's check with the chip: after a zone is scanned, its card is awaited on the
    reader for `wait` seconds and the status gains its authenticity. One reader holds one card,
    so chips are read one after another; an LMA card's code never waits."""
    one_card = threading.Lock()

    def check(scan: Scan) -> Status:
        status = base(scan)
        if status.document.mrz is None:
            return status
        with one_card:
            return check_status_chip(status, scan.payload, trust=trust, reader_url=reader_url,
                                     deadline=wait)

    return check
