"""Misbehaving servers on loopback for the fault suite: raw sockets, one thread per connection.

Each server plays a script of (bytes, seconds-between-bytes) steps; it stops when the client
hangs up, when the script ends, or when the server is closed. Nothing outlives `close()`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AGENCY = REPO / "verify" / "lookup" / "emulator_pages"


def valid_page() -> bytes:
    """The agency's page for a valid card: what a cut-short lookup must never report as read."""
    layout = (AGENCY / "_layout.html").read_text("utf-8")
    return layout.replace("{content}", (AGENCY / "valid.html").read_text("utf-8")).encode()


def parse_bomb_page(opens: int = 43_000, stray_ends: int = 32_000) -> bytes:
    """The valid page with a parse bomb before its end: many open `<b>` and stray `</i>` (the
    red team's 257 KB page; each stray end tag once re-walked every open element)."""
    page = valid_page()
    bomb = b"<b>" * opens + b"</i>" * stray_ends
    return page.replace(b"</body>", bomb + b"</body>")


Step = tuple[bytes, float]  # bytes to send, and the pause before each byte (0: all at once)


class ScriptServer:
    """Accepts connections and plays `script(request_bytes)` on each; counts connections."""

    def __init__(self, script: Callable[[bytes], list[Step]], *, read_request: bool = True):
        self.script = script
        self.read_request = read_request
        self.connections = 0
        self.stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._accept = threading.Thread(target=self._serve, name="fault-accept", daemon=True)
        self._accept.start()

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            thread = threading.Thread(target=self._play, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _play(self, conn: socket.socket) -> None:
        try:
            request = _read_head(conn, self.stop) if self.read_request else b""
            for data, pause in self.script(request):
                if pause <= 0:
                    conn.sendall(data)
                    continue
                for i in range(len(data)):
                    if self.stop.wait(pause):
                        return
                    conn.sendall(data[i : i + 1])
            # Script over: the connection stays open and silent until the server closes.
        except OSError:
            return

    def close(self) -> None:
        self.stop.set()
        self._accept.join(2)
        with self._lock:
            for conn in self._conns:
                try:
                    conn.close()
                except OSError:
                    pass
        for thread in self._threads:
            thread.join(2)
        self._sock.close()

    def __enter__(self) -> ScriptServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_head(conn: socket.socket, stop: threading.Event) -> bytes:
    """The request head (up to the blank line), or whatever arrived before a pause."""
    conn.settimeout(0.2)
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536 and not stop.is_set():
        try:
            chunk = conn.recv(4096)
        except TimeoutError:
            if data:  # e.g. a TLS ClientHello: no blank line will come
                break
            continue
        if not chunk:
            break
        data += chunk
    conn.settimeout(None)
    return data


@contextmanager
def script_server(
    script: Callable[[bytes], list[Step]], *, read_request: bool = True
) -> Iterator[ScriptServer]:
    server = ScriptServer(script, read_request=read_request)
    try:
        yield server
    finally:
        server.close()


def framed(framing: str, phase: str, trickle: float, body: bytes | None = None) -> list[Step]:
    """An answer in one framing, trickled in one phase (`head`, `body`) or stalled mid-body."""
    body = valid_page() if body is None else body
    if framing == "length":
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        head += b"Content-Length: %d\r\n\r\n" % len(body)
        payload = body
    elif framing == "chunked":
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
        payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    elif framing == "close11":
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
        payload = body
    elif framing == "close10":
        head = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n"
        payload = body
    else:  # pragma: no cover - test parameter typo
        raise ValueError(framing)
    if phase == "head":
        return [(head, trickle), (payload, 0)]
    if phase == "body":
        return [(head, 0), (payload, trickle)]
    if phase == "stall":  # half the body, then silence with the connection open
        return [(head, 0), (payload[: len(payload) // 2], 0)]
    raise ValueError(phase)  # pragma: no cover
