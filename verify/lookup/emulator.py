"""A local stand-in for the agency's lookup service: tests, the demo, and desk training.

Tokens choose the answer (docs/lookup.md lists them): `VALID…`, `NOWORK…`, any other well-formed
token → no information; fault tokens `SLOW…`, `TRICKLE…`, `TRICKLEHEAD…`, `ERROR…`, `MAINT…`,
`CONSENT…`, `LAYOUT…`, `REDIRECT…`, `REDIRECTOK…`, `HUGE…`, `HUGESTREAM…`, `JSON…`.
`outage = True` makes every request answer 503. Binds to loopback only; logs nothing.
"""

from __future__ import annotations

import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from verify.errors import VerifyError
from verify.lookup.profile import load_profile
from verify.lookup.settings import Settings

PAGES = Path(__file__).resolve().parent / "emulator_pages"  # package data: shipped in the wheel
BASE_PATH = "/lmakort/"
TOKEN = re.compile(r"[A-Za-z0-9]{4,64}")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
SLOW_SECONDS = 30.0
TRICKLE_INTERVAL = 0.05


def _page(name: str) -> bytes:
    content = (PAGES / name).read_text("utf-8")
    if name in ("valid.html", "nowork.html", "noinfo.html"):
        content = (PAGES / "_layout.html").read_text("utf-8").replace("{content}", content)
    return content.encode("utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    emulator: Emulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (deadlines, size caps) are expected; stay quiet about them."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per answer and no Nagle: otherwise delayed ACKs add ~40 ms to every lookup.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.emulator.lock:
            self.server.emulator.connections += 1

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silent: request lines carry tokens."""

    def do_GET(self) -> None:  # noqa: N802
        emu = self.server.emulator
        with emu.lock:
            emu.requests += 1
            emu.last_headers = dict(self.headers.items())
        if emu.outage:
            return self._send(503, b"<html><body>Service Unavailable</body></html>")
        path = self.path.split("?", 1)[0]
        if not path.startswith(BASE_PATH):
            return self._send(404, b"<html><body>Not found</body></html>")
        token = path[len(BASE_PATH) :]
        if not TOKEN.fullmatch(token):
            return self._send(400, b"<html><body>Bad request</body></html>")
        self._answer(token.upper(), token)

    def _answer(self, upper: str, token: str) -> None:
        emu = self.server.emulator
        if upper.startswith("VALID"):
            return self._send(200, _page("valid.html"))
        if upper.startswith("NOWORK"):
            return self._send(200, _page("nowork.html"))
        if upper.startswith("SLOW"):
            emu.stopping.wait(SLOW_SECONDS)
            return self._send(200, _page("valid.html"))
        if upper.startswith("TRICKLEHEAD"):
            return self._trickle(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                + b"X-Pad: "
                + b"a" * 2000
                + b"\r\n\r\n"
                + _page("valid.html")
            )
        if upper.startswith("TRICKLE"):
            body = _page("valid.html")
            head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            self.wfile.write(head)
            self.wfile.flush()
            return self._trickle(body)
        if upper.startswith("ERROR"):
            return self._send(500, b"<html><body>Internal Server Error</body></html>")
        if upper.startswith("MAINT"):
            return self._send(200, _page("maintenance.html"))
        if upper.startswith("CONSENT"):
            return self._send(200, _page("consent.html"))
        if upper.startswith("LAYOUT"):
            return self._send(200, _page("changed-layout.html"))
        if upper.startswith("REDIRECTOK"):
            return self._send(302, b"", location=f"{BASE_PATH}VALID0001")
        if upper.startswith("REDIRECT"):
            target = emu.redirect_target or "https://evil.example/lmakort/VALID0001"
            return self._send(302, b"", location=target)
        if upper.startswith("HUGESTREAM"):
            return self._huge(declared=False)
        if upper.startswith("HUGE"):
            return self._huge(declared=True)
        if upper.startswith("COOKIE"):
            return self._send(
                200, _page("valid.html"), headers=[("Set-Cookie", "tracker=1; Path=/")]
            )
        if upper.startswith("JSON"):
            return self._send(200, b'{"valid": true}', content_type="application/json")
        return self._send(200, _page("noinfo.html"))

    def _send(
        self,
        code: int,
        body: bytes,
        *,
        content_type: str = "text/html; charset=utf-8",
        location: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if location is not None:
                self.send_header("Location", location)
            for name, value in headers or ():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _trickle(self, data: bytes) -> None:
        self.close_connection = True
        emu = self.server.emulator
        try:
            for i in range(len(data)):
                if emu.stopping.wait(TRICKLE_INTERVAL):
                    return
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
        except OSError:
            return

    def _huge(self, *, declared: bool) -> None:
        size = 64 * 1024 * 1024
        self.close_connection = True
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            if declared:
                self.send_header("Content-Length", str(size))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"<p>" + b"x" * 65530 + b"</p>"
            for _ in range(size // len(chunk)):
                self.wfile.write(chunk)
        except OSError:
            return


class Emulator:
    """`with Emulator() as emu:` → an HTTP lookup service on loopback at `emu.base_url`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in LOOPBACK:
            raise ValueError("the agency emulator binds to loopback only")
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = 0
        self.outage = False
        self.redirect_target: str | None = None
        self.last_headers: dict[str, str] = {}
        self.stopping = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.emulator = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{BASE_PATH}"

    def env(self) -> dict[str, str]:
        """VERIFY_* variables that point the lookup at this emulator."""
        return {
            "VERIFY_LOOKUP_BASE": self.base_url,
            "VERIFY_ALLOWED_HOSTS": self.host,
            "VERIFY_ALLOW_LOOPBACK_HTTP": "1",
        }

    def settings(self, timeout: float = 5.0) -> Settings:
        """Lookup settings pointing at this emulator (for in-process clients)."""

        return Settings(
            profile=load_profile(),
            base=self.base_url,
            allowed_hosts=frozenset({self.host}),
            allow_loopback_http=True,
            timeout=timeout,
        )

    def url(self, token: str) -> str:
        return self.base_url + token

    def start(self) -> Emulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="agency-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(host: str = "127.0.0.1", port: int = 8088) -> None:
    """CLI entry: print the base address on the first line, then serve until stopped."""

    try:
        emu = Emulator(host, port)
    except ValueError as exc:
        raise VerifyError(str(exc)) from None
    except OSError as exc:
        raise VerifyError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    print(emu.base_url, flush=True)
    print(
        "Point the lookup at it: " + " ".join(f"{key}={value}" for key, value in emu.env().items()),
        file=sys.stderr,
        flush=True,
    )
    try:
        emu._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stopping.set()
        emu._server.server_close()
