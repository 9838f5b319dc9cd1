"""Helpers for tests of the service for many desks: `verify desk …` as real processes, an
enrolment over real HTTP, a raw event-stream tap that keeps every byte it was sent."""

from __future__ import annotations

import html
import http.client
import json
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support_daemon import REPO, daemon_env


def desk_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verify", "desk", *args], env=daemon_env(env),
                          cwd=REPO, capture_output=True, text=True, timeout=60)


def add_desk(folder: Path, name: str, site: str, url: str, *extra: str) -> str:
    """`verify desk add`: the enrolment link it prints."""
    done = desk_cli("add", name, "--site", site, "--url", url, "--desks", str(folder), *extra)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


class ServeProcess:
    """`verify desk serve …` as a real process on loopback; its log collected line by line."""

    def __init__(self, folder: Path, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "verify", "desk", "serve", "--desks", str(folder),
             "--http", "127.0.0.1:0", *args],
            env=daemon_env(env), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self.log: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()
        line = self.wait_log("desks served at ")
        self.url = line.split("desks served at ", 1)[1].strip().rstrip("/")
        self.port = int(self.url.rsplit(":", 1)[1])

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.log.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_log(self, needle: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.log:
                    if needle in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"no log line {needle!r}:\n" + "\n".join(self.log))
                self._cond.wait(min(left, 0.2))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError("verify desk serve did not stop on SIGTERM") from None


def call(port: int, method: str, path: str, body: bytes | str | None = None,
         headers: dict[str, str] | None = None, host: str = "127.0.0.1"
         ) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def enrol(port: int, link: str) -> tuple[str, str]:
    """Spend an enrolment link like the page's button: (the cookie pair, the desk's path)."""
    path = "/" + link.split("/", 3)[3]
    status, headers, _ = call(port, "POST", path)
    assert status == 303, status
    return headers["set-cookie"].split(";")[0], headers["location"]


def page_token(page: bytes) -> str:
    found = re.search(rb'name="verify-page" content="([^"]*)"', page)
    assert found is not None
    return str(json.loads(html.unescape(found.group(1).decode()))["page_token"])


def burst(text: str) -> str:
    return json.dumps({"text": text, "gaps": [4] * (len(text) - 1), "end": "Enter"})


class StreamTap:
    """A desk's event stream read raw on its own socket: every byte kept for assertions."""

    def __init__(self, port: int, path: str, cookie: str, *, tls: bool = False) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        if tls:  # through the test's own TLS proxy (a self-signed certificate)
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            sock = context.wrap_socket(sock)
        self.sock = sock
        self.sock.sendall(f"GET {path}api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                          f"Cookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n".encode())
        self.data = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while chunk := self.sock.recv(65536):
                with self._lock:
                    self.data += chunk
        except OSError:
            pass

    def bytes(self) -> bytes:
        with self._lock:
            return bytes(self.data)

    def wait_for(self, needle: bytes, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.bytes():
            if time.monotonic() > deadline:
                raise AssertionError(f"the stream never carried {needle!r}")
            time.sleep(0.02)

    def close(self) -> bytes:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(5)
        return self.bytes()
