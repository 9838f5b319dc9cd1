"""Ask the Migration Agency's lookup page whether a card is valid. Fails closed.

Only a page the profile positively recognises gives `valid` or `not_valid`; everything else —
timeouts, HTTP errors, refused redirects, odd pages, oversized answers — is `unknown` with the
address to check by hand.

One deadline covers the whole lookup (connect, redirects, headers, body). Per-socket timeouts
alone do not hold against a server that trickles a byte at a time, so a watchdog shuts the
socket down when the deadline passes, whichever phase the lookup is in.
"""

from __future__ import annotations

import heapq
import http.cookiejar
import itertools
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from verify.cards.reference import check_redirect
from verify.clock import now
from verify.errors import ParseError
from verify.lookup.page import PageTimeout, read_page
from verify.lookup.settings import Settings
from verify.model import LookupReference, ProfileUse, Validity

log = logging.getLogger(__name__)


class _RedactURLPaths(logging.Filter):
    """urllib3 logs request lines, which carry the card's token: keep host, drop the path."""

    _path = re.compile(r"(?<![\w.:])/[^\s\"']*|(https?://[^/\s\"']+)/[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._path.sub(lambda m: (m.group(1) or "") + "/…", record.getMessage())
        record.args = None
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactURLPaths())

MAX_REDIRECTS = 3
_READ_CHUNK = 1024
USER_AGENT = "verify/0.1 (+https://github.com/verify-lma/verify)"


class _Attempt:
    """The sockets one lookup is using, so the watchdog can cut them in any phase.

    The watchdog owns each socket from the moment it exists (`_new_conn`), before a proxy's
    CONNECT, before the TLS handshake, and after http.client detached it from the connection
    for a close-delimited answer. It holds a duplicate descriptor of the same kernel socket:
    `shutdown()` acts on the socket, not the descriptor, so cutting the duplicate wakes any
    read blocked on the original, whichever Python object (plain, TLS, buffered file) wraps it.
    """

    def __init__(self) -> None:
        self.socks: list[socket.socket] = []
        self.expired = False
        self.done = False
        self.lock = threading.Lock()

    def own(self, sock: socket.socket) -> None:
        """Take a handle on `sock`; if the deadline already passed, cut it at once."""
        try:
            handle = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except (OSError, ValueError):
            return
        with self.lock:
            if self.done:
                handle.close()
                return
            self.socks.append(handle)
            expired = self.expired
        if expired:
            _cut(handle)
            raise TimeoutError("lookup deadline passed")

    def kill(self) -> None:
        with self.lock:
            if self.done:
                return
            self.expired = True
            socks = list(self.socks)
        for sock in socks:
            _cut(sock)

    def finish(self) -> None:
        with self.lock:
            self.done = True
            socks, self.socks = self.socks, []
        for sock in socks:
            sock.close()


def _cut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Watchdog:
    """One thread for all lookups in the process: cuts each attempt whose deadline passed.

    A timer thread per lookup would cost a thread start on every lookup; finished attempts are
    marked done and dropped lazily when they reach the top of the heap.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Attempt]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, attempt: _Attempt) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline, next(self._seq), attempt))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="lookup-watchdog", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is attempt:
                self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, _, attempt = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                attempt.kill()


_WATCHDOG = _Watchdog()
_current = threading.local()


def _own(sock: socket.socket) -> None:
    attempt: _Attempt | None = getattr(_current, "attempt", None)
    if attempt is not None:
        attempt.own(sock)


class _TrackedHTTPConnection(HTTPConnection):
    """A connection whose socket the current lookup's watchdog owns from its creation."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        try:
            _own(sock)
        except TimeoutError:
            sock.close()
            raise
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # A kept-alive connection from an earlier lookup: this lookup owns its socket too.
        if self.sock is not None:
            _own(self.sock)
        super().request(*args, **kwargs)


class _TrackedHTTPSConnection(HTTPSConnection, _TrackedHTTPConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # Through a proxy (HTTPS_PROXY) the tunnel is built inside connect(): the same tracked
        # connections, so a proxy that trickles its CONNECT reply is cut at the deadline too.
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


@dataclass(frozen=True)
class Page:
    status: int
    content_type: str
    text: str


class _Unknown(Exception):
    """Internal: the lookup could not answer; `reason` is the stable code, the message the
    English `detail`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class LookupClient:
    """A reusable client: one session, one connection pool, no cookies, no proxies' netrc."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.session = requests.Session()
        self.session.trust_env = False  # no ~/.netrc credentials, no env CA overrides
        self.session.cookies.set_policy(_NoCookies())
        adapter = _Adapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.clear()
        self.session.headers.update(
            {"User-Agent": USER_AGENT, "Accept": "text/html", "Accept-Encoding": "gzip, deflate"}
        )
        # Proxies are still honoured, read once from the environment (hospital networks need them).
        self.proxies = {
            k: v for k, v in requests.utils.get_environ_proxies(settings.base).items() if v
        }

    @classmethod
    def from_env(cls) -> LookupClient:
        return cls(Settings.from_env())

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> LookupClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lookup(self, ref: LookupReference) -> Validity:
        """The card's validity; never raises for anything the network or server does."""
        started = time.monotonic()
        deadline = started + self.settings.timeout
        try:
            page = self._fetch(ref.url, deadline)
            validity = self._read(page, ref, deadline)
        except _Unknown as exc:
            validity = self._unknown(ref, str(exc), exc.reason)
        log.debug(
            "lookup finished in %.1f ms: %s", (time.monotonic() - started) * 1000, validity.state
        )
        return validity

    # -- network -----------------------------------------------------------------------------

    def _fetch(self, url: str, deadline: float) -> Page:
        attempt = _Attempt()
        _current.attempt = attempt
        _WATCHDOG.arm(deadline, attempt)
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                response = self._get(url, deadline)
                with response:
                    if response.is_redirect:
                        location = response.headers.get("Location", "")
                        try:
                            url = check_redirect(location, url, self.settings)
                        except ParseError as exc:
                            raise _Unknown(
                                "lookup_redirect_refused",
                                f"the lookup redirected elsewhere, refused: {exc.message}"
                            ) from None
                        continue
                    page = self._body(response, deadline, attempt)
                    if attempt.expired:
                        # The watchdog cut the socket; whatever arrived is incomplete.
                        raise _Unknown(
                            "lookup_timeout",
                            f"the lookup did not answer within {self.settings.timeout:g} s"
                        )
                    return page
            raise _Unknown("lookup_redirect_refused", "the lookup redirected too many times")
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if attempt.expired or time.monotonic() >= deadline:
                raise _Unknown(
                    "lookup_timeout",
                    f"the lookup did not answer within {self.settings.timeout:g} s"
                ) from None
            raise _Unknown(
                "lookup_unreachable",
                f"the lookup service could not be reached ({type(exc).__name__})"
            ) from None
        finally:
            attempt.finish()
            _current.attempt = None

    def _get(self, url: str, deadline: float) -> requests.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Unknown("lookup_timeout",
                          f"the lookup did not answer within {self.settings.timeout:g} s")
        return self.session.get(
            url,
            timeout=(remaining, remaining),
            allow_redirects=False,
            stream=True,
            proxies=self.proxies,
        )

    def _body(self, response: requests.Response, deadline: float, attempt: _Attempt) -> Page:
        cap = self.settings.max_body_bytes
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            raise _Unknown("lookup_too_large",
                          f"the lookup's answer is too large ({declared} bytes)")
        chunks: list[bytes] = []
        size = 0
        # Small reads: a trickled body is seen byte by byte and the deadline checked between
        # them; a read blocked past the deadline is woken by the watchdog cutting the socket.
        for chunk in response.iter_content(chunk_size=_READ_CHUNK):
            size += len(chunk)
            if size > cap:
                raise _Unknown("lookup_too_large",
                              f"the lookup's answer is larger than {cap} bytes")
            chunks.append(chunk)
            if time.monotonic() >= deadline or attempt.expired:
                raise _Unknown("lookup_timeout",
                              f"the lookup did not answer within {self.settings.timeout:g} s")
        body = b"".join(chunks)
        header = response.headers.get("Content-Type", "")
        content_type = header.split(";")[0].strip().lower()
        # requests guesses ISO-8859-1 when the header names no charset; the page is UTF-8 then.
        charset = (
            response.encoding if response.encoding and "charset" in header.lower() else "utf-8"
        )
        try:
            text = body.decode(charset, "replace")
        except LookupError:
            text = body.decode("utf-8", "replace")
        return Page(status=response.status_code, content_type=content_type, text=text)

    # -- reading the page --------------------------------------------------------------------

    def fetch_page(self, ref: LookupReference) -> Page | Validity:
        """The answer page itself (for `verify profile check|learn`), or why there is none."""
        deadline = time.monotonic() + self.settings.timeout
        try:
            page = self._fetch(ref.url, deadline)
            self._check_page(page)
        except _Unknown as exc:
            return self._unknown(ref, str(exc), exc.reason)
        return page

    def _read(self, page: Page, ref: LookupReference, deadline: float) -> Validity:
        """The page read inside the same deadline as its fetch: a page built to be slow to
        read ends as `unknown` with the manual address, like a server that is slow to send."""
        self._check_page(page)
        try:
            return read_page(page.text, self.settings, ref, deadline)
        except PageTimeout:
            raise _Unknown(
                "lookup_timeout",
                f"the lookup's page could not be read within {self.settings.timeout:g} s"
            ) from None

    def _check_page(self, page: Page) -> None:
        if page.status != 200:
            raise _Unknown("lookup_http_error", f"the lookup service answered HTTP {page.status}")
        if page.content_type not in ("text/html", "application/xhtml+xml"):
            raise _Unknown(
                "lookup_not_a_page",
                f"the lookup answered with {page.content_type or 'no content type'}, not a web page"
            )

    def _unknown(self, ref: LookupReference, detail: str, reason: str) -> Validity:
        profile = self.settings.profile_named(ref.profile)
        return Validity(
            state="unknown",
            basis="lookup",
            checked_at=now(),
            detail=detail,
            reason=reason,
            facts=(("seconds", f"{self.settings.timeout:g}"),),
            manual_check_url=ref.url,
            profile=ProfileUse(profile.name, profile.confirmed),
        )
