"""Every file the tool reads goes through the one bounded reader (`drivers.files`): a FIFO is
never waited on, a device (or a symlink to one) never read, a file too large never taken in,
and each is one sentence naming the file, exit 2, no traceback, at once. Every still goes
through `drivers.camera.load_image`: its format sniffed from content before OpenCV decodes it.

Each case here once hung (a FIFO), read without end (`/dev/zero`), ended in a traceback (deep
nesting), silently dropped a file, or handed a JPEG 2000 / PBM named photo.jpg to OpenCV."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from drivers.files import FileRefused, read_bounded
from drivers.scan import SourceError
from tests.conftest import REPO, run_verify, verify_env
from tests.drivers.test_image_budget import jpeg2000_named_jpg
from verify.errors import ConfigError

PROMPT = 30  # seconds: a hang shows as a timeout; a refusal takes well under a second of work
ZONE = ("IUSWE1234567897<<<<<<<<<<<<<<<\n"
        "9001011M3012314UKR<<<<<<<<<<<4\n"
        "SHEVCHENKO<<TARAS<<<<<<<<<<<<<")


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _zero(path: Path) -> Path:
    path.symlink_to("/dev/zero")
    return path


def _big(path: Path, size: int = 2 * 1024 * 1024) -> Path:
    path.write_bytes(b"# " + b"x" * (size - 3) + b"\n")
    return path


def _deep_toml(path: Path) -> Path:
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    return path


HOSTILE_SETTINGS = {"fifo": _fifo, "dev-zero": _zero, "2MiB": _big, "deep": _deep_toml}


def _one_sentence(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    for word in words:
        assert word in lines[0], lines[0]


def _unblock(fifo: Path) -> None:
    """Give a reader stuck on `fifo` (the code before the fix) its writer, so it ends."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------
# The reader itself


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder", "too-large", "missing"])
def test_the_bounded_reader_refuses_at_once(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "f"
    reason = {"fifo": "not_regular", "dev-zero": "not_regular", "folder": "folder",
              "too-large": "too_large", "missing": "missing"}[kind]
    if kind == "fifo":
        _fifo(path)
    elif kind == "dev-zero":
        _zero(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "too-large":
        _big(path, 10_000)
    started = time.monotonic()
    with pytest.raises(FileRefused) as err:
        read_bounded(path, 4096)
    assert time.monotonic() - started < 2
    assert err.value.reason == reason and err.value.path == str(path)


def test_the_bounded_reader_reads_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert read_bounded(path, 3) == b"abc"
    with pytest.raises(FileRefused, match="too_large"):
        read_bounded(path, 2)


# ---------------------------------------------------------------------------------------------
# Settings: the desk daemon's config, the audit key file


@pytest.mark.parametrize("kind", sorted(HOSTILE_SETTINGS))
def test_the_daemon_config_is_read_bounded(tmp_path: Path, kind: str) -> None:
    """`verify daemon --config F` read F with tomllib directly: a FIFO hung it, /dev/zero was
    read until memory ran out, deep nesting was a RecursionError traceback."""
    config = HOSTILE_SETTINGS[kind](tmp_path / "daemon.toml")
    try:
        done = run_verify("daemon", "--source", "serial:/dev/null", "--http", "off",
                          "--config", str(config), "--lang", "en", timeout=PROMPT)
    finally:
        if kind == "fifo":
            _unblock(config)
    _one_sentence(done, str(config))


def test_the_daemon_config_as_a_folder_is_said_as_such(tmp_path: Path) -> None:
    done = run_verify("daemon", "--source", "serial:/dev/null", "--config", str(tmp_path),
                      "--lang", "en", timeout=PROMPT)
    _one_sentence(done, str(tmp_path), "is a folder, not a file")


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "2MiB"])
def test_the_audit_key_file_is_read_bounded(tmp_path: Path, kind: str) -> None:
    key_file = HOSTILE_SETTINGS[kind](tmp_path / "audit.key")
    try:
        done = run_verify("daemon", "--source", "serial:/dev/null", "--http", "off",
                          "--audit-log", str(tmp_path / "audit.jsonl"), "--lang", "en",
                          env={"VERIFY_AUDIT_KEY_FILE": str(key_file)}, timeout=PROMPT)
    finally:
        if kind == "fifo":
            _unblock(key_file)
    _one_sentence(done, str(key_file))


# ---------------------------------------------------------------------------------------------
# The many-desks store: desks.json and the key


def _deep_json(path: Path) -> Path:
    path.write_text("[" * 100_000 + "]" * 100_000)
    return path


HOSTILE_BOOKS = {"fifo": _fifo, "dev-zero": _zero, "9MiB": lambda p: _big(p, 9 << 20),
                 "deep": _deep_json}


@pytest.mark.parametrize("kind", sorted(HOSTILE_BOOKS))
def test_the_desks_file_is_read_bounded(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "desks"
    folder.mkdir()
    book = HOSTILE_BOOKS[kind](folder / "desks.json")
    try:
        done = run_verify("desk", "list", "--desks", str(folder), "--lang", "en",
                          timeout=PROMPT)
    finally:
        if kind == "fifo":
            _unblock(book)
    _one_sentence(done, str(book))


def test_the_desk_key_is_read_bounded(tmp_path: Path) -> None:
    folder = tmp_path / "desks"
    folder.mkdir()
    key = _fifo(folder / "key")
    try:
        done = run_verify("desk", "add", "Disk 1", "--site", "VC Tensta", "--url",
                          "https://v.example", "--desks", str(folder), "--lang", "en",
                          timeout=PROMPT)
    finally:
        _unblock(key)
    _one_sentence(done, str(key), "not a regular file")


def test_a_running_service_keeps_its_desks_when_the_file_becomes_a_fifo(tmp_path: Path) -> None:
    """The desks file is re-read under a lock every request takes: a FIFO there once held
    every request of `verify desk serve`."""
    from verify.desk.deskbook import ReloadingBook, save_book
    from verify.desk.desks import Book, Desk

    folder = tmp_path / "desks"
    save_book(folder, Book(desks={"d1": Desk(id="d1", name="Disk 1", site="VC")}))
    reloading = ReloadingBook(folder, interval=0.0)
    (folder / "desks.json").unlink()
    fifo = _fifo(folder / "desks.json")
    box: dict[str, object] = {}
    worker = threading.Thread(target=lambda: box.update(book=reloading.current()),
                              daemon=True)
    worker.start()
    worker.join(5)
    stuck = worker.is_alive()
    _unblock(fifo)  # lets a stuck reader go before the test ends
    worker.join(5)
    assert not stuck, "the desks file was waited on"
    book = box["book"]
    assert list(book.desks) == ["d1"]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# The chip's trust store


def test_the_trust_store_names_what_it_did_not_read(tmp_path: Path) -> None:
    """A FIFO, a symlink to /dev/zero, a file over the limit and a subfolder are never read
    (or waited on) and each is named among the store's problems; before, they were dropped
    without a word (and a file swapped for a FIFO between the look and the read hung)."""
    from verify.authenticity import load_trust_folder
    from verify.cards.emrtd.trust import MAX_ITEM

    store = tmp_path / "trust"
    store.mkdir()
    _fifo(store / "csca.pem")
    _zero(store / "zero.crl")
    _big(store / "big.ml", MAX_ITEM + 1)
    (store / "old").mkdir()
    started = time.monotonic()
    trust = load_trust_folder(store)
    assert time.monotonic() - started < 5
    named = dict(trust.problems)
    assert set(named) == {"csca.pem", "zero.crl", "big.ml", "old"}
    assert "not a regular file" in named["csca.pem"] and "not a regular file" in named["zero.crl"]
    assert "larger" in named["big.ml"]


def test_a_trust_store_with_too_many_files_is_refused(tmp_path: Path, monkeypatch) -> None:
    """The listing was sorted whole and cut at the limit: files past it (a CRL among them)
    were left out in silence."""
    import verify.authenticity as authenticity

    monkeypatch.setattr(authenticity, "MAX_TRUST_FILES", 3)
    for n in range(4):
        (tmp_path / f"{n}.crl").write_bytes(b"x")
    with pytest.raises(ConfigError, match=f"trust store {tmp_path} holds more than 3 files"):
        authenticity.load_trust_folder(tmp_path)


def test_a_trust_store_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path / "trust")
    try:
        done = run_verify("card", "--mrz", ZONE, "--chip", "--trust-store", str(fifo),
                          "--lang", "en", timeout=PROMPT)
    finally:
        _unblock(fifo)
    _one_sentence(done, str(fifo), "is not a folder")


# ---------------------------------------------------------------------------------------------
# Images: every path that reads a still



def pbm_named_jpg(path: Path) -> Path:
    path.write_bytes(b"P4\n7900 7900\n" + bytes(2000))
    return path


HOSTILE_IMAGES = {"JPEG 2000": jpeg2000_named_jpg, "PBM": pbm_named_jpg}

# (command, arguments before the file, how the file is given)
IMAGE_COMMANDS = {
    "card --image": (["card", "--no-preview", "--image"], "{path}"),
    "scan --source image:": (["scan", "--count", "1", "--timeout", "5", "--source"],
                             "image:{path}"),
    "record --source image:": (["record", "--duration", "5", "--out", "{out}", "--source"],
                               "image:{path}"),
    "daemon --source image:": (["daemon", "--http", "off", "--source"], "image:{path}"),
    "profile learn --source image:": (["profile", "learn", "--card", "lma", "--yes",
                                       "--source"], "image:{path}"),
}


@pytest.mark.parametrize("fmt", sorted(HOSTILE_IMAGES))
@pytest.mark.parametrize("command", sorted(IMAGE_COMMANDS))
def test_every_command_refuses_an_unchecked_format_named_jpg(tmp_path: Path, fmt: str,
                                                               command: str) -> None:
    path = HOSTILE_IMAGES[fmt](tmp_path / "photo.jpg")
    args, given = IMAGE_COMMANDS[command]
    out = str(tmp_path / "rec.jsonl")
    argv = [a.replace("{out}", out) for a in args] + [given.format(path=path)]
    config = tmp_path / "config.toml"
    config.write_text("")
    done = run_verify(*argv, "--lang", "en", env={"VERIFY_CONFIG": str(config)}, timeout=60)
    _one_sentence(done, str(path), f"is in the {fmt} format")


@pytest.mark.parametrize("fmt", sorted(HOSTILE_IMAGES))
def test_an_image_named_as_a_video_is_refused(tmp_path: Path, fmt: str) -> None:
    """FFmpeg opened a JPEG 2000 or a PBM called clip.mp4 as a one-frame video and decoded it
    with its own decoder, outside the allow-list and the memory budget."""
    path = HOSTILE_IMAGES[fmt](tmp_path / "clip.mp4")
    done = run_verify("card", "--no-preview", "--video", str(path), "--lang", "en",
                      timeout=60)
    _one_sentence(done, f"{path} is an image, not a video")


def _in_a_process(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=verify_env({}), cwd=REPO, timeout=PROMPT)


@pytest.mark.parametrize("fmt", sorted(HOSTILE_IMAGES))
def test_the_zone_reader_refuses_an_unchecked_format_named_jpg(tmp_path: Path, fmt: str) -> None:
    """`read_mrz_file` called cv2.imread on whatever it was given: 790 MB for this file."""
    from verify.cards.ocr import read_mrz_file

    path = HOSTILE_IMAGES[fmt](tmp_path / "photo.jpg")
    with pytest.raises(SourceError, match=f"is in the {fmt} format"):
        read_mrz_file(path)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_the_zone_reader_refuses_what_is_not_a_file_at_once(tmp_path: Path, kind: str) -> None:
    """Run in a process of its own: before, cv2.imread waited on the FIFO for ever."""
    path = HOSTILE_SETTINGS[kind](tmp_path / "photo.jpg")
    try:
        done = _in_a_process(
            "from verify.cards.ocr import read_mrz_file\n"
            f"try:\n    read_mrz_file({str(path)!r})\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)\n")
    finally:
        if kind == "fifo":
            _unblock(path)
    assert done.stdout.strip() == f"SourceError not a file: {path}", done.stdout + done.stderr


def test_the_zone_reader_still_reads_a_photo(tmp_path: Path) -> None:
    """The shipped UT-card photo reads through the bounded path as it did through imread."""
    from verify.cards.ocr import read_mrz_file

    cards = REPO / "fixtures" / "mrz" / "cards"
    photo = sorted(cards.glob("*.jpg"))[0]
    assert read_mrz_file(photo) is not None


# ---------------------------------------------------------------------------------------------
# Recordings


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_recording_that_is_not_a_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    path = HOSTILE_SETTINGS[kind](tmp_path / "session.jsonl")
    try:
        done = run_verify("replay", str(path), "--fast", "--lang", "en", timeout=PROMPT)
    finally:
        if kind == "fifo":
            _unblock(path)
    _one_sentence(done, f"not a file: {path}")


# ---------------------------------------------------------------------------------------------
# Files and folders the user may not read: one sentence naming them. Tests run as root, who
# reads anything; the command runs with every capability dropped, as an ordinary user would.

UNREADABLE = {
    "daemon config": ("daemon.toml", ["daemon", "--source", "serial:/dev/null", "--http", "off",
                                      "--config", "{path}"], {}),
    "desks file": ("desks/desks.json", ["desk", "list", "--desks", "{parent}"], {}),
    "trust store": ("trust/", ["card", "--mrz", ZONE, "--chip", "--trust-store", "{path}"], {}),
    "rules folder": ("rules/", ["decide", "--region", "skane"], {"VERIFY_RULES_DIR": "{path}"}),
}


@pytest.mark.parametrize("what", sorted(UNREADABLE))
def test_what_cannot_be_read_is_one_sentence_naming_it(tmp_path: Path, what: str) -> None:
    name, args, env = UNREADABLE[what]
    path = tmp_path / name.rstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    if name.endswith("/"):
        path.mkdir()
    else:
        path.write_text('region = "skane"\n' if path.suffix == ".toml" else "{}")
    path.chmod(0)
    fill = {"path": str(path), "parent": str(path.parent)}
    command = [sys.executable, "-m", "verify", *(a.format(**fill) for a in args), "--lang", "en"]
    if os.geteuid() == 0:
        command = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", *command]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PROMPT, cwd=REPO,
                              env={**verify_env(), **{k: v.format(**fill)
                                                      for k, v in env.items()}})
    finally:
        path.chmod(0o700)
    _one_sentence(done, str(path))
    assert "readable" in done.stderr or "cannot read" in done.stderr


def test_what_the_trust_store_does_not_use_is_said_not_dropped(tmp_path: Path) -> None:
    """A file in the trust store that is not a certificate, master list or CRL (or a subfolder)
    is named on stderr when `card --chip` starts, so a region sees why a CSCA seems missing."""
    trust = tmp_path / "trust"
    (trust / "sub").mkdir(parents=True)
    (trust / "notes.txt").write_text("not a certificate\n")
    done = run_verify("card", "--mrz", ZONE, "--chip", "--trust-store", str(trust), "--lang",
                      "en", timeout=PROMPT)
    notes = [line for line in done.stderr.splitlines() if "trust store's" in line]
    assert len(notes) == 2, done.stderr
    assert "notes.txt is not used: not a certificate" in notes[0]
    assert "sub is not used: a folder" in notes[1]
