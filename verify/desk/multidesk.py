"""One service for many desks: each desk's page under its own path, seen by that desk only.

    /enrol/<token>               GET: confirm; POST: spend the one-time link, get the credential
    /s/<site>/<desk>/            the desk's page (the same page and script as the single desk)
    /s/<site>/<desk>/api/events  its live feed (Server-Sent Events), this desk's scans only
    /s/<site>/<desk>/api/scan    a keyboard scanner's burst typed into the page: answered on
                                 this request with the status and a sealed ticket
    /s/<site>/<desk>/api/answer  answers to the scan's questions, with its ticket (any instance)
    /s/<site>/<desk>/api/status/latest
    /operator, /metrics          operators, from the service's own addresses only
    /healthz, /desk.js, /desk.css

Isolation is by construction: every desk has its own `DeskState` (screen, feed, scan id) chosen
from the path, and a request reaches it only with a credential signed for that site segment and
desk id. Instances share the desks file and the key, nothing else (docs/many-desks.md): a scan
is checked and answered on the request that carried it, answers come back with a ticket any
instance can open, so no instance needs to know which one holds a desk's feed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from drivers.burst import burst_scans
from drivers.page import KeyboardPolicy, is_scanner_burst
from drivers.scan import Scan
from verify.check import with_decision
from verify.clock import now as wall_now
from verify.desk import deskpages
from verify.desk.config import DaemonConfig
from verify.desk.daemon import internal_error_status
from verify.desk.deskbook import ReloadingBook
from verify.desk.desks import (
    CREDENTIAL_DAYS,
    Desk,
    credential,
    read_credential,
    read_enrolment,
    site_slug,
)
from verify.desk.events import Event
from verify.desk.fleet import Fleet
from verify.desk.forwarding import Network, Origin, origin_of, within
from verify.desk.metrics import DeskMetrics, outcome_of
from verify.desk.page import PageTokens
from verify.desk.server import COOKIE, DeskHandler, DeskServer
from verify.desk.state import BadAnswer, DeskState, decide_with_answers
from verify.desk.ticket import seal, unseal
from verify.locale import N_, gettext
from verify.model import Status

TICKET_GRACE = 300.0  # a ticket outlives the screen by this much (a slow answer still counts)
TICK_SECONDS = 0.25
DESK_API = {"api/events", "api/status/latest", "api/scan", "api/answer"}
Checker = Callable[[Scan], Status]


def _derive(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(key, purpose, hashlib.sha256).digest()


@dataclasses.dataclass(frozen=True)
class Service:
    """What every instance of one service shares: its settings, the key, the desks folder."""

    key: bytes
    desks: Path
    base: DaemonConfig  # region, lang, clear_after for desks and sites that set none
    proxies: tuple[Network, ...] = ()
    operators: tuple[Network, ...] = ()
    reload_seconds: float = 10.0
    max_pages: int = 512
    keyboard: KeyboardPolicy = KeyboardPolicy()


class _SeenLinks:
    """Enrolment links spent on this instance, until they would have expired anyway."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spent: dict[str, float] = {}

    def spent(self, nonce: str) -> bool:
        with self._lock:
            return nonce in self._spent

    def spend(self, nonce: str, expires: float, at: float) -> bool:
        """True the first time; False when this link was already spent here."""
        with self._lock:
            for n in [n for n, until in self._spent.items() if until < at]:
                del self._spent[n]
            if nonce in self._spent:
                return False
            self._spent[nonce] = expires
            return True


class MultiDeskServer(DeskServer):
    """The desk server's machinery (bounds, security headers, feed, page) routed per desk."""

    def __init__(self, address: tuple[str, int], service: Service, *, checker: Checker,
                 metrics: DeskMetrics, health: Callable[[], dict[str, Any]] | None = None
                 ) -> None:
        self.workers = service.max_pages + 32  # one per open page's feed, and the requests
        self.max_connections = service.max_pages * 2 + 256
        self.service = service
        self.checker = checker
        self.book = ReloadingBook(service.desks, service.reload_seconds)
        self.fleet = Fleet(self.book.current, region=service.base.region, lang=service.base.lang)
        self.desk_metrics = metrics
        metrics.registry.register(self.fleet)
        self.states: dict[str, DeskState] = {}
        self.states_lock = threading.Lock()
        self.spent = _SeenLinks()
        self.seq = 0
        self.ticket_key = _derive(service.key, b"verify-ticket-v1")
        super().__init__(address, DeskState(lambda: service.base), health=health,
                         metrics=metrics.render, keyboard=service.keyboard)
        self.RequestHandlerClass = MultiDeskHandler  # type: ignore[assignment]
        # Page tokens any instance accepts: the same key on each.
        self.page_tokens = PageTokens(_derive(service.key, b"verify-page-v1"))
        self.streams = threading.BoundedSemaphore(service.max_pages)
        self._ticker = threading.Thread(target=self._tick, name="desks-tick", daemon=True)
        self._ticker.start()

    def config_for(self, desk: Desk) -> DaemonConfig:
        """The desk's settings as the desks file says now (an operator may change them)."""
        book = self.book.current()
        region, lang = book.region_and_lang(book.desks.get(desk.id, desk),
                                            self.service.base.region, self.service.base.lang)
        return dataclasses.replace(self.service.base, region=region, lang=lang)

    def state_for(self, desk: Desk) -> DeskState:
        with self.states_lock:
            state = self.states.get(desk.id)
            if state is None:
                state = PageDeskState(lambda: self.config_for(desk))
                self.states[desk.id] = state
            return state

    def next_seq(self) -> int:
        with self.states_lock:
            self.seq += 1
            return self.seq

    def _tick(self) -> None:
        while not self.stopping.wait(TICK_SECONDS):
            book = self.book.current()
            with self.states_lock:
                states = list(self.states.items())
            for desk_id, state in states:
                desk = book.desks.get(desk_id)
                if desk is None or desk.revoked:
                    state.close()  # a revoked desk's open feeds end now
                    with self.states_lock:
                        self.states.pop(desk_id, None)
                else:
                    state.tick()


class MultiDeskHandler(DeskHandler):
    server: MultiDeskServer
    _current: DeskState | None = None
    _origin: Origin | None = None

    def _desk(self) -> DeskState:
        assert self._current is not None
        return self._current

    def _lang(self) -> str:
        return self.server.service.base.lang

    def _host_ok(self) -> bool:
        return True  # each desk's credential guards it; the public name is the proxy's

    def _same_origin(self) -> bool:
        site = self.headers.get("Sec-Fetch-Site")
        if site is not None and site != "same-origin":
            return False
        origin = self.headers.get("Origin")
        scheme = self._origin.scheme if self._origin is not None else "http"
        return origin is None or origin == f"{scheme}://{self.headers.get('Host', '')}"

    def _refuse(self, code: int, english: str, *, html_page: bool, lang: str | None = None,
                **params: object) -> None:
        """A clear 4xx: JSON for the API, one sentence on a page; nothing of any desk's scans."""
        self.close_connection = True
        if html_page:
            message = gettext(english, lang or self._lang(), **params)
            self._send(code, deskpages.refusal(lang or self._lang(), message),
                       "text/html; charset=utf-8")
        else:
            self._json(code, {"error": english.format(**params)})

    def _forwarding_ok(self, path: str) -> bool:
        self._origin = origin_of(str(self.client_address[0]), dict(self.headers.items()),
                                 self.server.service.proxies)
        if self._origin is None:
            self._refuse(HTTPStatus.BAD_REQUEST, N_("Forwarding headers are accepted only from "
                         "the configured proxy."), html_page="/api/" not in path)
            return False
        return True

    # -- routes -------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if not self._forwarding_ok(path):
            return
        if path == "/healthz":
            self._healthz()
        elif path in ("/desk.js", "/desk.css"):
            body, ctype = self.server.assets[path]
            self._send(HTTPStatus.OK, body, ctype)
        elif path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        elif path in ("/operator", "/metrics"):
            self._operator(path)
        elif path.startswith("/enrol/"):
            self._enrol(path[len("/enrol/"):], spend=False)
        elif path.startswith("/s/"):
            self._desk_route(path, "GET")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if not self._forwarding_ok(path):
            return
        if path.startswith("/enrol/"):
            self._enrol(path[len("/enrol/"):], spend=True)
        elif path.startswith("/s/"):
            self._desk_route(path, "POST")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    # -- operators ------------------------------------------------------------------------------

    def _operator(self, path: str) -> None:
        origin = self._origin
        if origin is None or origin.proxied or not within(origin.client,
                                                          self.server.service.operators):
            self._refuse(HTTPStatus.FORBIDDEN, N_("The operator page is open only from the "
                         "operators' addresses, not through the proxy."), html_page=True)
            return
        if path == "/metrics":
            self._metrics()
        else:
            self._send(HTTPStatus.OK, deskpages.operator(self._lang(), self.server.fleet.rows()),
                       "text/html; charset=utf-8")

    # -- enrolment ----------------------------------------------------------------------------

    def _enrol(self, token: str, *, spend: bool) -> None:
        book = self.server.book.current()
        parts = token.split(".")
        desk = book.desks.get(parts[1]) if len(parts) == 5 else None
        found = None if desk is None else read_enrolment(self.server.service.key, token,
                                                         site_slug(desk.site))
        if desk is None or found is None:
            self._refuse(HTTPStatus.FORBIDDEN, N_("This enrolment link is not valid. Ask the "
                         "operator for a new one."), html_page=True)
            return
        lang = book.region_and_lang(desk, None, self._lang())[1]
        if desk.revoked:
            self._refuse(HTTPStatus.FORBIDDEN, N_("This desk has been revoked. Ask the operator."),
                         html_page=True, lang=lang)
            return
        at = time.time()
        if at > found.expires:
            self._refuse(HTTPStatus.GONE, N_("This enrolment link has expired. Ask the operator "
                         "for a new one."), html_page=True, lang=lang)
            return
        if not spend and not self.server.spent.spent(found.nonce):
            self._send(HTTPStatus.OK, deskpages.enrol_form(lang, desk.name, desk.site),
                       "text/html; charset=utf-8")
            return
        # The form's page sends no referrer, so its Origin is "null": the browser's own
        # Sec-Fetch-Site says whether the press came from this page.
        if spend and self.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin",
                                                                                "none"):
            self._refuse(HTTPStatus.FORBIDDEN, "cross-origin request refused", html_page=False)
            return
        if not spend or not self.server.spent.spend(found.nonce, found.expires, at):
            self._refuse(HTTPStatus.GONE, N_("This enrolment link has already been used. Ask the "
                         "operator for a new one."), html_page=True, lang=lang)
            return
        value = credential(self.server.service.key, desk, now=at)
        cookie = (f"{COOKIE}={value}; Path={desk.path}; Max-Age={CREDENTIAL_DAYS * 86400}; "
                  "HttpOnly; Secure; SameSite=Strict")
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain",
                   {"Location": desk.path, "Set-Cookie": cookie})

    # -- a desk's own routes -------------------------------------------------------------------

    def _presented(self) -> list[str]:
        """Every `verify_desk` cookie sent (a browser may hold several, for other paths)."""
        values = []
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, eq, value = part.strip().partition("=")
            if eq and name == COOKIE:
                values.append(value.strip())
        return values

    def _desk_route(self, path: str, method: str) -> None:
        parts = path.split("/", 4)  # "", "s", site, desk, rest
        if len(parts) == 4 and method == "GET" and all(parts[2:]):
            # A desk's address typed without its last slash: the page's relative paths need it.
            self._send(HTTPStatus.PERMANENT_REDIRECT, b"", "text/plain", {"Location": path + "/"})
            return
        if len(parts) < 5:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        _, _, site, desk_id, rest = parts
        is_page = rest == ""
        book = self.server.book.current()
        desk = book.desks.get(desk_id)
        if desk is None or site_slug(desk.site) != site or (not is_page and rest not in DESK_API):
            self._refuse(HTTPStatus.NOT_FOUND, N_("There is no such desk."), html_page=is_page)
            return
        lang = book.region_and_lang(desk, None, self._lang())[1]
        if desk.revoked:
            self._refuse(HTTPStatus.FORBIDDEN, N_("This desk has been revoked. Ask the operator."),
                         html_page=is_page, lang=lang)
            return
        presented = self._presented()
        key = self.server.service.key
        if not presented:
            self._refuse(HTTPStatus.UNAUTHORIZED, N_("This browser is not enrolled as this desk. "
                         "Open the desk's enrolment link."), html_page=is_page, lang=lang)
            return
        oldest = time.time() - CREDENTIAL_DAYS * 86400
        if not any(c is not None and c.issued > oldest
                   for c in (read_credential(key, v, site, desk.id) for v in presented)):
            self._refuse(HTTPStatus.FORBIDDEN, N_("This browser's desk key is not for this desk."),
                         html_page=is_page, lang=lang)
            return
        self._current = self.server.state_for(desk)
        fleet = self.server.fleet
        fleet.contact(desk.id)
        if method == "GET" and is_page:
            self._page("/")
        elif method == "GET" and rest == "api/events":
            fleet.page_opened(desk.id)
            try:
                self._stream()
            finally:
                fleet.page_closed(desk.id)
        elif method == "GET" and rest == "api/status/latest":
            self._json(HTTPStatus.OK, {"event": self._desk().latest_record()})
        elif method == "POST" and rest == "api/scan":
            self._scan(desk)
        elif method == "POST" and rest == "api/answer":
            self._answer(desk)
        else:
            self._json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method not allowed"})

    def _scan(self, desk: Desk) -> None:
        """Check the burst now and answer with what this desk's screen shows, and a ticket."""
        data = self._page_input()
        if data is None:
            return
        policy = self.server.service.keyboard
        text, gaps, end = data.get("text"), data.get("gaps"), data.get("end")
        ok = (isinstance(text, str) and isinstance(gaps, list) and end in ("Enter", "Tab")
              and all(isinstance(g, int | float) and not isinstance(g, bool) for g in gaps))
        if not ok or not is_scanner_burst(str(text), gaps, policy):  # type: ignore[arg-type]
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": "not a scanner's burst"})
            return
        scans = burst_scans(str(text), "\r" if end == "Enter" else "\t")
        if not scans:
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": "not a scanner's burst"})
            return
        scan = scans[-1]  # a burst is one code; if it framed to several, the last is on screen
        config = self.server.config_for(desk)
        status = self._check(scan, config)
        event = Event(seq=self.server.next_seq(), status=status, source=scan.source,
                      symbology=scan.symbology, scanned_at=scan.at, emitted_at=wall_now(),
                      latency_ms=(time.monotonic() - scan.received) * 1000.0)
        state = self._desk()
        assert isinstance(state, PageDeskState)
        shown = state.show(event)
        self.server.desk_metrics.emit(event)
        self.server.fleet.scanned(desk.id, outcome_of(status))
        shown["ticket"] = seal(self.server.ticket_key, desk.id, shown["desk"]["scan_id"],
                               scan.at, _undecided(status),
                               expires=time.time() + config.clear_after + TICKET_GRACE)
        self._json(HTTPStatus.OK, shown)

    def _check(self, scan: Scan, config: DaemonConfig) -> Status:
        try:
            status = self.server.checker(scan)
        except Exception as exc:  # a fault in the check is never a verdict
            return internal_error_status(exc)
        if status.validity.basis == "not_a_card" or config.region is None:
            return status
        return with_decision(status, region=config.region)

    def _answer(self, desk: Desk) -> None:
        """The ticket's scan decided again with the page's answers; nothing kept anywhere."""
        given = self._answers_input()
        if given is None:
            return
        scan, answers, data = given
        sealed = unseal(self.server.ticket_key, desk.id, data.get("ticket"), now=time.time())
        if sealed is None or not hmac.compare_digest(sealed.scan_id, scan):
            self._json(HTTPStatus.CONFLICT, {"error": "that scan is no longer on screen"})
            return
        config = self.server.config_for(desk)
        try:
            if len(answers) > 8:
                raise BadAnswer("too many answers")
            decided = with_decision(sealed.status, region=config.region)
            status = decide_with_answers(decided, config.region, answers)
        except BadAnswer:
            self._json(HTTPStatus.UNPROCESSABLE_ENTITY, {"error": "not an answer to this scan"})
            return
        event = Event(seq=0, status=status, source="page:", symbology="unknown",
                      scanned_at=sealed.scanned_at, emitted_at=wall_now(), latency_ms=0.0)
        view = event.to_desk(lang=config.lang, clear_after=config.clear_after)
        view["desk"]["scan_id"] = sealed.scan_id
        self._json(HTTPStatus.OK, view)


def _undecided(status: Status) -> Status:
    return dataclasses.replace(status, decision=None)


class PageDeskState(DeskState):
    """One desk's screen and feeds; a scan put on it gives back what its feeds were sent."""

    def __init__(self, config: Callable[[], DaemonConfig]) -> None:
        super().__init__(config)
        self._showing = threading.Lock()

    def show(self, event: Event) -> dict[str, Any]:
        with self._showing:  # two scans at once on one desk: each gets its own view back
            self.emit(event)
            with self._lock:
                shown = self._desk
        assert shown is not None
        return dict(shown)
