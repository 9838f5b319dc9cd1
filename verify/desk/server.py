"""The desk screen's HTTP server: a static page, a JSON API and a Server-Sent Events feed.

Security shape (docs/daemon.md):
- loopback by default; any other address needs a token, sent as `Authorization: Bearer …`,
  `X-Verify-Token: …` or the `verify_desk` cookie set by the /login form (POST body), so the token
  never appears in a URL, a browser history or an access log;
- without a token, the Host header must name this server (defeats DNS rebinding: a web page
  elsewhere cannot read the feed through a hostname that resolves to 127.0.0.1);
- a strict Content-Security-Policy: the page's script and style are files, nothing inline,
  nothing external; the access log holds method, path (no query) and status only, at debug level.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from drivers.page import KeyboardPolicy, deliver, is_scanner_burst
from verify.desk.connections import BoundedHandler, BoundedHTTPServer
from verify.desk.metrics import CONTENT_TYPE as METRICS_TYPE
from verify.desk.page import PageTokens, render
from verify.desk.state import BadAnswer, DeskState, StaleScan

log = logging.getLogger("verify.desk.daemon.http")

COOKIE = "verify_desk"
KEEPALIVE_SECONDS = 15.0
STREAM_POLL = 0.5  # how often an event stream looks whether its client has gone
MAX_FORM_BYTES = 4096
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
}
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/desk.js": ("desk.js", "text/javascript; charset=utf-8"),
    "/desk.css": ("desk.css", "text/css; charset=utf-8"),
    "/login": ("login.html", "text/html; charset=utf-8"),
}
PUBLIC = {"/healthz", "/metrics", "/login", "/desk.css", "/favicon.ico"}
# Pages whose words are filled in per request, in the desk's language (verify.desk.page).
RENDERED = {"/", "/login"}
POST_ROUTES = {"/api/answer": "_post_answer", "/api/scan": "_post_scan"}
PAGE_TOKEN_HEADER = "X-Verify-Page"
MAX_JSON_BYTES = 16384
MAX_STREAMS = 16  # live event feeds (desk screens); each holds one of the server's workers
LOGIN_WINDOW = 60.0
LOGIN_FAILURES_PER_CLIENT = 5  # wrong tokens per address per window, then 429
LOGIN_FAILURES_IN_ALL = 20  # wrong tokens from everyone per window, then 429


def session_value(token: str) -> str:
    """What the login cookie carries: derived from the token, never the token itself.

    A cookie that leaks (a browser profile, a proxy log) cannot be used as the token elsewhere
    (Bearer, another desk's login), and changing the token ends every session.
    """
    return hmac.new(token.encode(), b"verify-desk-session-v1", hashlib.sha256).hexdigest()


def client_key(address: str) -> str:
    """Whom a login limit counts: the address, or its /64 for IPv6 (one site holds a /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LoginLimit:
    """Wrong tokens, limited per client and in all over a sliding window.

    The check and the count are one step under one lock, so attempts sent at once are counted
    one by one (none slips past the limit while another is being checked). A client with no
    wrong token in the window is always checked: wrong tokens from elsewhere can never lock
    the desk out of its own screen; they make a client that has already failed wait.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: deque[tuple[float, str]] = deque()

    def _trim(self, now: float) -> None:
        while self._failures and now - self._failures[0][0] > LOGIN_WINDOW:
            self._failures.popleft()

    def attempt(self, client: str, given: str, token: str, now: float | None = None) -> float:
        """-1 when `given` is the token; 0 when it is not (counted); else the seconds this
        client must wait, and `given` was not checked."""
        now = time.monotonic() if now is None else now
        key = client_key(client)
        with self._lock:
            self._trim(now)
            mine = [at for at, who in self._failures if who == key]
            if len(mine) >= LOGIN_FAILURES_PER_CLIENT:
                return max(0.001, LOGIN_WINDOW - (now - mine[0]))
            if mine and len(self._failures) >= LOGIN_FAILURES_IN_ALL:
                return max(0.001, LOGIN_WINDOW - (now - self._failures[0][0]))
            # Equal-length digests: the comparison's time says nothing of the token or its length.
            if hmac.compare_digest(hashlib.sha256(given.encode()).digest(),
                                   hashlib.sha256(token.encode()).digest()):
                return -1.0
            if len(self._failures) < 10 * LOGIN_FAILURES_IN_ALL:  # bounded memory
                self._failures.append((now, key))
            return 0.0


def _asset(name: str) -> bytes:
    return resources.files("verify.desk.static").joinpath(name).read_bytes()


class DeskServer(BoundedHTTPServer):
    """The desk's routes on the bounded server (connection cap, timeouts: desk/connections.py)."""

    def __init__(
        self,
        address: tuple[str, int],
        desk: DeskState,
        *,
        token: str | None = None,
        health: Callable[[], dict[str, Any]] | None = None,
        metrics: Callable[[], bytes] | None = None,
        keyboard: KeyboardPolicy | None = None,
    ) -> None:
        self.desk = desk
        self.metrics = metrics
        self.keyboard = keyboard  # None: no `page:` source, the page does not capture keys
        self.page_tokens = PageTokens()
        self.token = token
        self.session = None if token is None else session_value(token)
        self.health: Callable[[], dict[str, Any]] = health or dict
        self.assets = {path: (_asset(name), ctype) for path, (name, ctype) in STATIC.items()}
        self.streams = threading.BoundedSemaphore(MAX_STREAMS)
        self.logins = LoginLimit()
        super().__init__(address, DeskHandler)
        host, port = str(self.server_address[0]), int(self.server_address[1])
        self.port = port
        self.allowed_hosts = {
            f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"{host}:{port}",
        }

    @property
    def url(self) -> str:
        host = str(self.server_address[0])
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/"

    def start(self) -> threading.Thread:
        t = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2},
                             name="desk-http", daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class DeskHandler(BoundedHandler):
    server: DeskServer
    server_version = "verify-desk"
    sys_version = ""
    security_headers = SECURITY_HEADERS

    # -- plumbing -----------------------------------------------------------------------------

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Never the query string or headers; method, path and status only, at debug level."""
        path = urlsplit(getattr(self, "path", "") or "").path
        log.debug("%s %s %s", getattr(self, "command", None) or "-",
                  path if path in STATIC or path.startswith("/api/") or path in PUBLIC
                  else "(other)", code)

    def _headers(self, code: int, ctype: str, extra: dict[str, str] | None = None,
                 length: int | None = None) -> None:
        self.send_response(code)
        for k, v in SECURITY_HEADERS.items():
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def _send(
        self, code: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        self._headers(code, ctype, extra, len(body))
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, code: int, data: Any) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self._send(code, body, "application/json; charset=utf-8")

    def _presented_token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[7:].strip()
        if self.headers.get("X-Verify-Token"):
            return self.headers["X-Verify-Token"].strip()
        return None

    def _presented_session(self) -> str | None:
        raw = self.headers.get("Cookie")
        if raw:
            try:
                cookie = SimpleCookie(raw)
            except CookieError:
                return None
            if COOKIE in cookie:
                return cookie[COOKIE].value
        return None

    def _authorised(self) -> bool:
        token, session = self.server.token, self.server.session
        if token is None or session is None:
            return True
        presented = self._presented_token()
        if presented is not None and hmac.compare_digest(presented.encode(), token.encode()):
            return True
        cookie = self._presented_session()
        return cookie is not None and hmac.compare_digest(cookie.encode(), session.encode())

    def _host_ok(self) -> bool:
        if self.server.token is not None:
            return True  # the token guards it; the desk may use any name for this machine
        return self.headers.get("Host", "") in self.server.allowed_hosts

    def _gate(self, path: str) -> bool:
        if not self._host_ok():
            self._json(HTTPStatus.MISDIRECTED_REQUEST, {"error": "unknown host"})
            return False
        if path in PUBLIC or self._authorised():
            return True
        if path.startswith("/api/"):
            self._json(HTTPStatus.UNAUTHORIZED, {"error": "token required"})
        else:
            self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": "/login"})
        return False

    # -- routes -------------------------------------------------------------------------------

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if not self._gate(path):
            return
        if path == "/healthz":
            self._healthz()
        elif path == "/metrics":
            self._metrics()
        elif path in RENDERED:
            self._page(path)
        elif path == "/api/status/latest":
            self._json(HTTPStatus.OK, {"event": self._desk().latest_record()})
        elif path == "/api/events":
            self._stream()
        elif path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        elif path in self.server.assets:
            body, ctype = self.server.assets[path]
            self._send(HTTPStatus.OK, body, ctype)
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path in POST_ROUTES:
            if self._gate(path):
                getattr(self, POST_ROUTES[path])()
            return
        if not self._host_ok() or path != "/login":
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        self._login()

    def _login(self) -> None:
        """The login form's POST. Only this server's own page may post it (a form on a foreign
        page is refused and not counted, so it cannot lock the desk out); wrong tokens are
        limited (LoginLimit)."""
        if not self._same_origin():
            self._json(HTTPStatus.FORBIDDEN, {"error": "cross-origin request refused"})
            return
        try:  # a form always says its length; no length (or chunks) is no form
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if "Transfer-Encoding" in self.headers:
            length = -1
        body = self.rfile.read(length) if 0 <= length <= MAX_FORM_BYTES else b""
        if not 0 <= length <= MAX_FORM_BYTES or len(body) != length:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "bad form"})
            return
        token, session = self.server.token, self.server.session
        if token is None or session is None:
            self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": "/"})
            return
        form = parse_qs(body.decode("utf-8", "replace"))
        given = (form.get("token") or [""])[0].strip()
        wait = self.server.logins.attempt(str(self.client_address[0]), given, token)
        if wait > 0:
            self._send(HTTPStatus.TOO_MANY_REQUESTS, b'{"error": "too many attempts"}',
                       "application/json; charset=utf-8", {"Retry-After": str(int(wait) + 1)})
        elif wait < 0:
            cookie = f"{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000"
            self._send(HTTPStatus.SEE_OTHER, b"", "text/plain",
                       {"Location": "/", "Set-Cookie": cookie})
        else:
            self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {"Location": "/login?fel=1"})

    def _desk(self) -> DeskState:
        """The desk this request is for (a service for many desks picks one per path)."""
        return self.server.desk

    def _stream(self) -> None:
        desk = self._desk()
        if self.command == "HEAD":
            self._headers(HTTPStatus.OK, "text/event-stream; charset=utf-8")
            return
        if not self._same_origin():
            # A page elsewhere must not take the desk screen's slots (nor read the feed).
            self._json(HTTPStatus.FORBIDDEN, {"error": "cross-origin request refused"})
            return
        if not self.server.streams.acquire(blocking=False):
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, b'{"error": "too many event streams"}',
                       "application/json; charset=utf-8", {"Retry-After": "2"})
            return
        self.server.unbounded(self.connection)
        sub = desk.subscribe()
        try:
            self._headers(HTTPStatus.OK, "text/event-stream; charset=utf-8",
                          {"X-Accel-Buffering": "no"})
            self.wfile.write(b"retry: 2000\n\n")
            quiet = 0.0
            while not self.server.stopping.is_set():
                # The client may go without a word: look every STREAM_POLL seconds, so its
                # slot is free again within that, not at the next keepalive that fails.
                if self.client_left():
                    break
                try:
                    message = sub.get(timeout=STREAM_POLL)
                except queue.Empty:
                    quiet += STREAM_POLL
                    if quiet >= KEEPALIVE_SECONDS:
                        self.wfile.write(b": keepalive\n\n")
                        quiet = 0.0
                    continue
                quiet = 0.0
                if message is None:
                    break
                self.wfile.write(message.encode())
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass
        finally:
            desk.unsubscribe(sub)
            self.server.streams.release()
            self.close_connection = True

    # -- issue 12: the page's words, its answers and scans, health and metrics ------------------

    def _page(self, path: str) -> None:
        """The page in the desk's language, with a fresh anti-forgery token for this page."""
        body, ctype = self.server.assets[path]
        keyboard = self.server.keyboard
        page = render(
            body, self._desk().lang(), page_token=self.server.page_tokens.issue(),
            keyboard={"max_gap_ms": keyboard.max_gap_ms, "min_chars": keyboard.min_chars,
                      "mean_gap_ms": keyboard.mean_gap_ms}
            if keyboard is not None else None,
        )
        self._send(HTTPStatus.OK, page, ctype)

    def _healthz(self) -> None:
        report = {"ok": True, **self.server.health()}
        code = HTTPStatus.OK if report.get("ok") else HTTPStatus.SERVICE_UNAVAILABLE
        self._json(code, report)

    def _metrics(self) -> None:
        if self.server.metrics is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        self._send(HTTPStatus.OK, self.server.metrics(), METRICS_TYPE)

    def _same_origin(self) -> bool:
        """Only this server's own page may post or open the event stream.

        A browser's `Sec-Fetch-Site` (no page can set it) must be `same-origin`; then `Origin`
        may be `null`, as Chromium sends it on a form post from a page whose referrer policy is
        `no-referrer` (the login page's). Without `Sec-Fetch-Site` (an older browser), an
        `Origin` must name this server. A client that sends neither is no browser page.
        """
        site = self.headers.get("Sec-Fetch-Site")
        origin = self.headers.get("Origin")
        host = self.headers.get("Host", "")
        # https: the same authority behind a TLS proxy in front of the desk.
        own = (f"http://{host}", f"https://{host}")
        if site is not None:
            return site == "same-origin" and (origin is None or origin == "null" or origin in own)
        return origin is None or origin in own

    def _page_input(self) -> dict[str, Any] | None:
        """The JSON body of a page's POST, or None after a 4xx (cross-origin, no page token,
        wrong type or size, not a JSON object). Nothing of the body is logged."""
        if not self._same_origin():
            self._json(HTTPStatus.FORBIDDEN, {"error": "cross-origin request refused"})
            return None
        if not self.server.page_tokens.valid(self.headers.get(PAGE_TOKEN_HEADER)):
            self._json(HTTPStatus.FORBIDDEN, {"error": "page token missing or wrong"})
            return None
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "JSON only"})
            return None
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if not 0 < length <= MAX_JSON_BYTES:
            self.close_connection = True
            self._json(HTTPStatus.BAD_REQUEST, {"error": "bad length"})
            return None
        body = self.rfile.read(length)
        try:
            # Deep nesting makes the parser recurse past Python's limit: bad input, a 400.
            data = json.loads(body.decode("utf-8")) if len(body) == length else None
        except (UnicodeDecodeError, ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "not a JSON object"})
            return None
        return data

    def _answers_input(self) -> tuple[str, dict[str, str], dict[str, Any]] | None:
        """The page's {"scan": id, "answers": {fact: value}} (and the whole body), or a 400."""
        data = self._page_input()
        if data is None:
            return None
        scan, answers = data.get("scan"), data.get("answers")
        if not isinstance(scan, str) or not isinstance(answers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in answers.items()
        ):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "want scan and answers"})
            return None
        return scan, answers, data

    def _post_answer(self) -> None:
        """{"scan": id, "answers": {fact: value}} -> the scan's view decided with the answers."""
        given = self._answers_input()
        if given is None:
            return
        scan, answers, _ = given
        try:
            desk = self.server.desk.answer(scan, answers)
        except StaleScan:
            self._json(HTTPStatus.CONFLICT, {"error": "that scan is no longer on screen"})
            return
        except BadAnswer:
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": "not an answer to this scan"})
            return
        self._json(HTTPStatus.OK, desk)

    def _post_scan(self) -> None:
        """{"text", "gaps", "end"}: a keyboard scanner's burst typed into the page."""
        policy = self.server.keyboard
        if policy is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": "no page source configured"})
            return
        data = self._page_input()
        if data is None:
            return
        text, gaps, end = data.get("text"), data.get("gaps"), data.get("end")
        ok = (isinstance(text, str) and isinstance(gaps, list) and end in ("Enter", "Tab")
              and all(isinstance(g, int | float) and not isinstance(g, bool) for g in gaps))
        if not ok or not is_scanner_burst(str(text), gaps, policy):  # type: ignore[arg-type]
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": "not a scanner's burst"})
            return
        if not deliver(str(text), "\r" if end == "Enter" else "\t"):
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "the page source is not open"})
            return
        self._json(HTTPStatus.ACCEPTED, {"accepted": True})
