"""Helpers for daemon tests: an in-process scan source and a recording sink.

`feed:NAME` is a real `drivers.Source` (registered with `drivers.register_scheme`) whose scans
come from a queue the test fills, so pipeline tests need no hardware; end-to-end tests use the
real serial source on a pseudo-terminal instead.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import drivers
from drivers.scan import Scan, SourceError
from drivers.source import Source, SourceURL
from tests.support_scanner import PtyScanner  # noqa: F401  (re-exported for daemon tests)
from verify.desk.events import Event
from verify.model import Document, Status, Validity

FEEDS: dict[str, queue.Queue[str | None]] = {}
# Number of times opening `feed:NAME` fails before it works (a camera that is lost for a while).
OPEN_FAILURES: dict[str, int] = {}
OPENS: dict[str, int] = {}
_END = None


class FeedSource(Source):
    def __init__(self, url: SourceURL) -> None:
        super().__init__(url)
        name = url.target
        OPENS[name] = OPENS.get(name, 0) + 1
        if OPEN_FAILURES.get(name, 0) > 0:
            OPEN_FAILURES[name] -= 1
            raise SourceError(f"feed {name}: device not found")
        self.feed = FEEDS.setdefault(name, queue.Queue())

    def scans(self) -> Iterator[Scan]:
        while not self.closed:
            try:
                payload = self.feed.get(timeout=0.05)
            except queue.Empty:
                continue
            if payload is _END:
                return
            if payload.startswith("!raise"):
                raise OSError("device vanished")
            yield Scan(payload=payload, symbology="qr", source=self.url.url)


drivers.register_scheme("feed", FeedSource)


def feed(name: str) -> queue.Queue[str | None]:
    return FEEDS.setdefault(name, queue.Queue())


class Recorder:
    """A daemon sink that keeps events in memory for assertions."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.reopened = 0
        self.closed = False
        self._cond = threading.Condition()

    def emit(self, event: Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def reopen(self) -> None:
        self.reopened += 1

    def close(self) -> None:
        self.closed = True

    def wait_for(self, n: int, timeout: float = 5.0) -> list[Event]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.events) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"wanted {n} events, got {len(self.events)}")
                self._cond.wait(left)
            return list(self.events)


def status_for(payload: str) -> Status:
    """A stand-in checker with the contract's shape.

    VALID… valid, DOWN… unknown, other tokens not valid, anything else not a card.
    """
    at = datetime.now().astimezone()
    if payload.startswith("https://agency.test/lmakort/"):
        token = payload.rsplit("/", 1)[1]
        if token.startswith("VALID"):
            state, work = "valid", True
        elif token.startswith("DOWN"):
            state, work = "unknown", None
        else:
            state, work = "not_valid", None
        return Status(
            document=Document(kind="lma", lookup_token=token, lookup_url=payload),
            validity=Validity(state=state, basis="lookup", checked_at=at, right_to_work=work,
                              detail=f"lookup of {token}", manual_check_url=payload),
        )
    return Status(
        document=Document(kind="unknown"),
        validity=Validity(state="unknown", basis="not_a_card", checked_at=at,
                          detail=f"not a card: {payload!r}"),
    )


def url(token: str) -> str:
    return f"https://agency.test/lmakort/{token}"


# -- end-to-end helpers: a scanner on a real pseudo-terminal, the daemon as a real process ----


REPO = Path(__file__).resolve().parents[1]


def daemon_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class DaemonProcess:
    """`verify daemon …` as a real process; its stderr (the journal) is collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "verify", "daemon", *args], env=env, cwd=cwd,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.log: list[str] = []
        self.out: list[str] = []
        self._new_line = threading.Condition()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.log), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.out), daemon=True).start()

    def _pump(self, stream, into: list[str]) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            with self._new_line:
                into.append(line.rstrip("\n"))
                self._new_line.notify_all()

    def wait_log(self, needle: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        with self._new_line:
            while True:
                for line in self.log:
                    if needle in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no log line with {needle!r}:\n" + "\n".join(self.log))
                self._new_line.wait(min(left, 0.2))

    def wait_device_open(self, link: Path, timeout: float = 10.0) -> None:
        """Until the daemon holds the scanner's tty open: the serial driver drops bytes that
        arrived before it opened the port (stale input), so a test must not scan earlier."""
        wait_fd_open(self.proc.pid, link, timeout)

    def desk_url(self) -> str:
        return self.wait_log("desk screen at ").split("desk screen at ", 1)[1].strip()

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError("the daemon did not stop on SIGTERM") from None


def wait_fd_open(pid: int, link: Path, timeout: float = 10.0) -> None:
    target = os.path.realpath(link)
    deadline = time.monotonic() + timeout
    fd_dir = Path(f"/proc/{pid}/fd")
    while time.monotonic() < deadline:
        for fd in fd_dir.iterdir():
            try:
                if os.readlink(fd) == target:
                    time.sleep(0.1)  # pyserial flushes the input right after opening
                    return
            except OSError:
                continue
        time.sleep(0.02)
    raise AssertionError(f"process {pid} never opened {target}")


CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1280,800",
)


@contextmanager
def chromium():  # type: ignore[no-untyped-def]
    """Headless Debian Chromium through Selenium with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="verify-chromium-")
    opts.add_argument(f"--user-data-dir={profile}")
    opts.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def page_seen(browser, read: str, predicate, timeout: float) -> tuple[dict, float]:  # type: ignore[no-untyped-def]
    """Poll a page with the script `read` until `predicate(screen)`: the screen and the
    monotonic time it was seen; an AssertionError showing the last screen at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        screen = browser.execute_script(read)
        seen = time.monotonic()
        if predicate(screen):
            return screen, seen
        if seen > deadline:
            raise AssertionError(f"the desk page never got there; it shows {screen}")
        time.sleep(0.01)
