"""A local stand-in for the agency's lookup service: tests, the demo, and desk training.

Three page designs: the LMA card (`/lmakort/TOKEN`), the application card
(`/ansokningskort/TOKEN`, whose page also shows the holder's name, birth date and case number),
and a second design no shipped profile knows (`/kontroll?kod=TOKEN`, other wording) for
`verify profile learn`; `wording = 2` rewords that design, as an agency redesign would.

Tokens choose the answer (docs/lookup.md lists them): `VALID…`, `NOWORK…`, any other well-formed
token → no information; fault tokens `SLOW…`, `TRICKLE…`, `TRICKLEHEAD…`, `ERROR…`, `MAINT…`,
`CONSENT…`, `LAYOUT…`, `REDIRECT…`, `REDIRECTOK…`, `HUGE…`, `HUGESTREAM…`, `JSON…`.
`outage = True` makes every request answer 503. Binds to loopback only; logs nothing.
"""

from __future__ import annotations

import errno
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from verify.errors import VerifyError
from verify.locale import N_, _
from verify.lookup.profile import shipped_profile
from verify.lookup.settings import Settings

PAGES = Path(__file__).resolve().parent / "emulator_pages"  # package data: shipped in the wheel
BASE_PATH = "/lmakort/"
APPLICATION_PATH = "/ansokningskort/"
DESIGN2_PATH = "/kontroll"
DESIGN2_PARAM = "kod"
TOKEN = re.compile(r"[A-Za-z0-9]{4,64}")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
SLOW_SECONDS = 30.0
TRICKLE_INTERVAL = 0.05


# The made-up holder the application card's page shows: the leak tests look for these.
HOLDER = {
    "name": "Zainab Qorvani-Lindqvist",
    "birth_date": "1987-03-14",
    "case_number": "4471-2026-889012",
}

# The second design's wording; 2 is the same page after the agency reworded it.
WORDINGS: dict[int, dict[str, str]] = {
    1: {
        "heading": "Sökresultat för kortkontroll",
        "valid": "Kortet gäller.",
        "work_yes": "Personen får arbeta i Sverige.",
        "work_no": "Personen får inte arbeta i Sverige.",
        "no_information": "Inga uppgifter hittades för den angivna koden.",
        "footer": "Uppgifterna hämtas direkt ur ärendesystemet.",
    },
    2: {
        "heading": "Sökresultat för kortkontroll",
        "valid": "Kortet är aktivt.",
        "work_yes": "Arbete: tillåtet.",
        "work_no": "Arbete: ej tillåtet.",
        "no_information": "Koden gav ingen träff.",
        "footer": "Uppgifterna hämtas direkt ur ärendesystemet.",
    },
}


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def _design_page(name: str, design: str = "lma", wording: int = 1) -> bytes:
    """The page `name` (valid/nowork/noinfo.html or a fault page) in one of the designs."""
    content = (PAGES / name).read_text("utf-8")
    answers = ("valid.html", "nowork.html", "noinfo.html")
    if design == "application" and name in answers:
        holder = _fill((PAGES / "application-holder.html").read_text("utf-8"), HOLDER)
        content = (PAGES / f"application-{name}").read_text("utf-8").replace("{holder}", holder)
        layout = (PAGES / "application-layout.html").read_text("utf-8")
        content = layout.replace("{content}", content)
    elif design == "design2" and name in answers:
        words = WORDINGS[wording]
        inner = "design2-noinfo.html" if name == "noinfo.html" else "design2-valid.html"
        work = words["work_no"] if name == "nowork.html" else words["work_yes"]
        body = _fill((PAGES / inner).read_text("utf-8"), {**HOLDER, **words, "work": work})
        layout = (PAGES / "design2-layout.html").read_text("utf-8")
        content = _fill(layout.replace("{content}", body), words)
    elif name in answers:
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
        if emu.delay:
            emu.stopping.wait(emu.delay)
        if emu.outage:
            return self._send(503, b"<html><body>Service Unavailable</body></html>")
        path, _, query = self.path.partition("?")
        if path == DESIGN2_PATH:
            name, _, token = query.partition("=")
            design = "design2"
            if name != DESIGN2_PARAM:
                return self._send(400, b"<html><body>Bad request</body></html>")
        elif path.startswith(APPLICATION_PATH):
            token, design = path[len(APPLICATION_PATH) :], "application"
        elif path.startswith(BASE_PATH):
            token, design = path[len(BASE_PATH) :], "lma"
        else:
            return self._send(404, b"<html><body>Not found</body></html>")
        if not TOKEN.fullmatch(token):
            return self._send(400, b"<html><body>Bad request</body></html>")
        self._answer(token.upper(), token, design)

    def _answer(self, upper: str, token: str, design: str = "lma") -> None:
        emu = self.server.emulator

        def _page(name: str) -> bytes:
            return _design_page(name, design, emu.wording)

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
        self.delay = 0.0  # seconds every answer waits (a loaded agency, for benchmarks)
        self.wording = 1  # the second design's wording (WORDINGS)
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
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The LMA card's lookup base."""
        return f"{self.origin}{BASE_PATH}"

    @property
    def application_base_url(self) -> str:
        return f"{self.origin}{APPLICATION_PATH}"

    def env(self) -> dict[str, str]:
        """VERIFY_* variables that point the shipped profiles (both card kinds) at this emulator."""
        return {
            "VERIFY_LOOKUP_ORIGIN": self.origin,
            "VERIFY_ALLOWED_HOSTS": self.host,
            "VERIFY_ALLOW_LOOPBACK_HTTP": "1",
        }

    def settings(self, timeout: float = 5.0, card: str = "lma") -> Settings:
        """Lookup settings pointing the shipped profiles at this emulator (in-process clients)."""
        lma = shipped_profile("lma").rebased(self.base_url)
        application = shipped_profile("application").rebased(self.application_base_url)
        return Settings(
            profile=lma,
            base=lma.base,
            allowed_hosts=frozenset({self.host}),
            allow_loopback_http=True,
            timeout=timeout,
            others=(application,),
        ).for_card(card)

    def url(self, token: str) -> str:
        """An LMA card's QR address."""
        return self.base_url + token

    def application_url(self, token: str) -> str:
        """An application card's QR address."""
        return self.application_base_url + token

    def design2_url(self, token: str) -> str:
        """A card's QR address in the second page design (no shipped profile knows it)."""
        return f"{self.origin}{DESIGN2_PATH}?{DESIGN2_PARAM}={token}"

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
        if exc.errno == errno.EADDRINUSE:
            raise VerifyError(N_("cannot listen on {address}: the port is already in use; "
                                 "choose another with --port (0 picks a free one)"),
                              address=f"{host}:{port}") from None
        raise VerifyError(N_("cannot listen on {address}: {why}"), address=f"{host}:{port}",
                          why=exc.strerror or str(exc)) from None
    print(emu.base_url, flush=True)
    print(
        _("Point the lookup at it: {settings}",
          settings=" ".join(f"{key}={value}" for key, value in emu.env().items())),
        file=sys.stderr,
        flush=True,
    )
    try:
        emu._server.serve_forever()  # until Ctrl-C: KeyboardInterrupt goes on to the caller
    finally:
        emu.stopping.set()
        emu._server.server_close()
