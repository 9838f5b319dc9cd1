"""An http.server that bounds itself: what the desk's web server stands on.

The standard `ThreadingHTTPServer` gives every connection a thread from the moment it is
accepted, with no cap, no read timeout and a backlog of 5: a thousand idle connections take
the page down. Here (the nginx model, in the standard library, docs/daemon.md):

- One waiter thread holds every connection that has not yet sent a whole request, in a
  selector: an idle or slow client costs a descriptor, never a thread. It reads the head and
  the body (up to `MAX_BODY_BYTES`, as its `Content-Length` announces) itself, non-blocking, and
  hands the connection to a worker only when both are complete (or the first line is already not
  HTTP/1.x, or the body announced is too big to take, so it can be refused at once).
- A fixed pool of worker threads serves complete requests. A worker never reads from the
  client: the request it gets is all in memory, so a body that is announced and never sent
  holds a descriptor in the waiter, not a worker. Its writes are bounded by `READ_TIMEOUT` each
  and `REQUEST_TIMEOUT` in all (the waiter cuts the socket after that).
- At most `MAX_CONNECTIONS` are open; past that the connection idle the longest is closed, so a
  new visitor (the desk's own page) always gets in. A head and its body must arrive within
  `HEAD_TIMEOUT` of the connection being accepted.
- Every malformed request gets a short 400 with the security headers; nothing reaches stderr:
  errors go through the logging module (and its redacting filter), one line, no traceback.
"""

from __future__ import annotations

import io
import logging
import queue
import select
import selectors
import socket
import sys
import threading
import time
from collections import OrderedDict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

log = logging.getLogger("verify.desk.daemon.http")

MAX_CONNECTIONS = 256  # open client connections, idle or busy
WORKERS = 32  # threads serving complete requests (event streams included)
MAX_HEAD_BYTES = 65536  # request line + headers
MAX_BODY_BYTES = 16384  # the largest body the waiter collects (the desk's JSON and forms)
HEAD_TIMEOUT = 10.0  # from accept to the end of the request head and its body
READ_TIMEOUT = 5.0  # any single write in a worker
REQUEST_TIMEOUT = 10.0  # from dispatch to the end of the answer (event streams excepted)
BACKLOG = 1024  # the kernel caps it at net.core.somaxconn


class _Pending:
    __slots__ = ("addr", "head", "since", "want")

    def __init__(self, addr: Any, since: float) -> None:
        self.addr = addr
        self.head = b""  # the head, then as much of the body as has come
        self.since = since
        self.want: int | None = None  # bytes of head + body, once the head is whole


def _head_ready(head: bytes) -> bool:
    """A whole head, an oversized one, or a first line that is already not HTTP/1.x."""
    if b"\r\n\r\n" in head or b"\n\n" in head or len(head) > MAX_HEAD_BYTES:
        return True
    line, newline, _ = head.partition(b"\n")
    if not newline:
        return False
    words = line.strip().split()
    return len(words) != 3 or not words[2].startswith(b"HTTP/1.")


def _wanted(head: bytes) -> int:
    """How many bytes the whole request takes: the head, plus the body its one valid
    `Content-Length` announces when that is small enough to collect. Anything else (no body,
    several or odd lengths, a body too big) is the head alone: the worker refuses or ignores
    the body, and never waits for it."""
    ends = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := head.find(sep)) >= 0]
    if not ends:
        return len(head)
    end = min(ends)
    lengths = [
        value.strip()
        for line in head[:end].split(b"\n")[1:]
        for name, colon, value in [line.partition(b":")]
        if colon and name.strip().lower() == b"content-length"
    ]
    if len(lengths) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 9:
        return end
    length = int(lengths[0])
    return end + length if length <= MAX_BODY_BYTES else end


class BoundedHTTPServer(HTTPServer):
    """`HTTPServer` with a waiter thread, a worker pool and the bounds above."""

    request_queue_size = BACKLOG
    allow_reuse_address = True
    # A subclass may raise these (a service for many desks holds one event stream per page).
    max_connections = MAX_CONNECTIONS
    workers = WORKERS

    def __init__(self, address: tuple[str, int], handler: type[BoundedHandler]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        # Bind here, not in the base class: a port in use must close the socket and raise the
        # OSError as it is (the base class would call server_close on a half-built server).
        super().__init__(address, handler, bind_and_activate=False)
        try:
            self.server_bind()
            self.server_activate()
        except OSError:
            self.socket.close()
            raise
        self.stopping = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._inbox: queue.SimpleQueue[tuple[socket.socket, Any]] = queue.SimpleQueue()
        self._idle: OrderedDict[socket.socket, _Pending] = OrderedDict()
        self._busy: dict[socket.socket, float] = {}  # socket → when the waiter cuts it
        self._busy_lock = threading.Lock()
        self._jobs: queue.SimpleQueue[tuple[socket.socket, Any, bytes] | None] = (
            queue.SimpleQueue()
        )
        self._threads = [threading.Thread(target=self._wait, name="desk-http-wait", daemon=True)]
        self._threads += [
            threading.Thread(target=self._work, name=f"desk-http-{i}", daemon=True)
            for i in range(self.workers)
        ]
        for t in self._threads:
            t.start()

    # -- accept (serve_forever's thread) ----------------------------------------------------

    def process_request(self, request: Any, client_address: Any) -> None:
        """Accepted: to the waiter, never a thread of its own."""
        self._inbox.put((request, client_address))
        self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    @property
    def open_connections(self) -> int:
        with self._busy_lock:
            return len(self._idle) + len(self._busy) + self._inbox.qsize()

    # -- the waiter ---------------------------------------------------------------------------

    def _wait(self) -> None:
        while not self.stopping.is_set():
            try:
                events = self._selector.select(timeout=0.25)
            except OSError:  # pragma: no cover - selector closed at shutdown
                return
            now = time.monotonic()
            for key, _ in events:
                if key.fileobj is self._wake_r:
                    try:
                        self._wake_r.recv(4096)
                    except OSError:
                        pass
                    continue
                self._read_head(key.fileobj, now)  # type: ignore[arg-type]
            self._take_new(now)
            self._expire(now)

    def _take_new(self, now: float) -> None:
        while True:
            try:
                sock, addr = self._inbox.get_nowait()
            except queue.Empty:
                return
            sock.setblocking(False)
            with self._busy_lock:
                self._idle[sock] = _Pending(addr, now)
                over = len(self._idle) + len(self._busy) - self.max_connections
            self._selector.register(sock, selectors.EVENT_READ)
            for _ in range(max(0, over)):
                # The connection idle the longest goes, so the newest (a desk page) gets in.
                oldest = next(iter(self._idle))
                self._drop(oldest)

    def _read_head(self, sock: socket.socket, now: float) -> None:
        """Read what has come of the head, then of the body; dispatch when the request is whole."""
        pending = self._idle.get(sock)
        if pending is None:
            return
        # One byte past the limit, so the handler sees a head that is too long (414/431).
        room = MAX_HEAD_BYTES + 1 if pending.want is None else pending.want
        try:
            data = sock.recv(max(1, room - len(pending.head)))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(sock)
            return
        pending.head += data
        if pending.want is None and _head_ready(pending.head):
            pending.want = _wanted(pending.head)
        if pending.want is not None and len(pending.head) >= pending.want:
            self._selector.unregister(sock)
            with self._busy_lock:
                del self._idle[sock]
                self._busy[sock] = now + REQUEST_TIMEOUT
            self._jobs.put((sock, pending.addr, pending.head))

    def _drop(self, sock: socket.socket) -> None:
        try:
            self._selector.unregister(sock)
        except (KeyError, ValueError):
            pass
        with self._busy_lock:
            self._idle.pop(sock, None)
        _close(sock)

    def _expire(self, now: float) -> None:
        stale = [s for s, p in self._idle.items() if now - p.since > HEAD_TIMEOUT]
        for sock in stale:
            self._drop(sock)  # no answer: it never said what it wanted
        with self._busy_lock:
            late = [s for s, until in self._busy.items() if now > until]
        for sock in late:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # the worker's read or write ends now
            except OSError:
                pass

    # -- workers ------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            sock, addr, head = job
            try:
                sock.setblocking(True)
                sock.settimeout(READ_TIMEOUT)
                self.RequestHandlerClass(sock, addr, self, head)  # type: ignore[call-arg, arg-type]
            except Exception:
                self.handle_error(sock, addr)
            finally:
                with self._busy_lock:
                    self._busy.pop(sock, None)
                self.shutdown_request(sock)

    def unbounded(self, sock: socket.socket) -> None:
        """An event stream lives as long as the screen: the request deadline no longer applies."""
        with self._busy_lock:
            if sock in self._busy:
                self._busy[sock] = float("inf")

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One log line through the logging module (redacted there), never a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            log.debug("client connection ended: %s", type(exc).__name__)
        else:
            log.warning("desk web server: a request failed (%s)", type(exc).__name__)

    # -- life cycle ---------------------------------------------------------------------------

    def server_close(self) -> None:
        self.stopping.set()
        self._wake()
        super().server_close()
        for _ in range(self.workers):
            self._jobs.put(None)
        for t in self._threads:
            t.join(2)
        with self._busy_lock:
            idle = list(self._idle)
            busy = list(self._busy)
        for sock in idle + busy:
            _close(sock)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


class _Prefixed(io.RawIOBase):
    """The request the waiter read, then the end: a worker never waits on a client's bytes."""

    def __init__(self, head: bytes) -> None:
        self._head = memoryview(head)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return 0


class BoundedHandler(BaseHTTPRequestHandler):
    """One request per connection; malformed ones get a 400 with the security headers."""

    server: BoundedHTTPServer
    default_request_version = "HTTP/1.0"  # so that even an error before parsing has headers
    raw_requestline: bytes
    security_headers: dict[str, str] = {}
    _answered = False  # a status line has been sent for this request

    def __init__(self, request: Any, client_address: Any, server: Any, head: bytes) -> None:
        self._head = head
        super().__init__(request, client_address, server)

    def setup(self) -> None:
        super().setup()
        self.rfile = io.BufferedReader(_Prefixed(self._head))

    def handle(self) -> None:
        """One request; a route that fails still answers (500) if it had not begun to."""
        self.close_connection = True
        self._answered = False
        try:
            self.handle_one_request()
        except Exception as exc:
            if not isinstance(exc, OSError) and not self._answered:
                self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR)
            raise

    def send_response(self, code: int, message: str | None = None) -> None:
        self._answered = True
        super().send_response(code, message)

    def client_left(self) -> bool:
        """Has the client closed its side (or sent what no one reads)? Without blocking."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def parse_request(self) -> bool:
        raw_line: bytes = getattr(self, "raw_requestline", b"")
        if len(raw_line.split()) != 3:
            # `GET /` alone is HTTP/0.9: http.server would wait for headers, then answer
            # without any (no CSP); nothing here speaks it.
            self.command = None  # type: ignore[assignment]
            self.request_version = "HTTP/1.0"
            self.send_error(HTTPStatus.BAD_REQUEST)
            return False
        return super().parse_request()

    def send_error(
        self, code: int, message: str | None = None, explain: str | None = None
    ) -> None:
        """A short plain answer with the security headers; nothing of the request echoed."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        body = f"{code} {phrase}\n".encode()
        log.debug("refused a request: %s", code)
        self.send_response(code, phrase)
        for name, value in self.security_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002
        """http.server's own complaints (they quote the request line): never logged as such."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Nothing of the request line or headers; `log_request` says what is needed."""
