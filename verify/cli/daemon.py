"""`verify daemon`: the reception-desk service (docs/daemon.md)."""

import errno
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from drivers import handler_for
from drivers.page import KeyboardPolicy
from drivers.scan import Scan
from drivers.source import SourceURL
from verify.authenticity import chip_checker, load_trust_folder
from verify.cards.classify import classify
from verify.check import check_text, not_a_card
from verify.cli.app import app
from verify.clock import now
from verify.desk.audit import AuditLog, audit_key
from verify.desk.config import DEFAULT_HTTP, DaemonConfig, build_config, load_config
from verify.desk.daemon import DRAIN_SECONDS, Daemon
from verify.desk.event_log import JsonLinesSink
from verify.desk.metrics import DeskMetrics
from verify.desk.server import DeskServer
from verify.desk.state import DeskState
from verify.desk.view import profile_notice
from verify.errors import ConfigError, ParseError
from verify.locale import N_
from verify.lookup.settings import Settings
from verify.model import EXIT_INTERRUPTED, LookupReference, Status, Validity
from verify.redact import scrub_text

log = logging.getLogger("verify.desk.daemon")


class RedactingFilter(logging.Filter):
    """Last line of defence: whatever any library logs, identifiers are masked before output."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = scrub_text(message)
        record.args = None
        return True


def setup_logging(verbose: bool) -> None:
    """Plain lines on stderr (the journal adds time and unit); no identifiers, ever."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("verify daemon: %(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # urllib3 logs request lines (with the card's token) at debug level: never let them through.
    for noisy in ("urllib3", "requests", "charset_normalizer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def default_checker(lookup: Settings | None = None, metrics: DeskMetrics | None = None) -> Any:
    """Parse and look up with ONE LookupClient, so every lookup reuses the connection.

    The lookup's own settings (lookup_base, allowed_hosts, …) may sit in the same TOML file.
    With `metrics`, each lookup's time and outcome is counted (nothing of the card is).
    """
    # The lookup client brings requests: loaded only when a lookup happens.
    from verify.lookup.client import LookupClient

    client = LookupClient(lookup or Settings.from_env())

    def checker(scan: Scan) -> Status:
        started = time.monotonic()
        try:
            status = check_text(scan.payload, as_kind="scan", client=client)
        except ParseError as exc:
            return not_a_card(exc)
        if metrics is not None:
            metrics.observe_check(time.monotonic() - started, status)
        return status

    return checker


class _NotLookedUp:
    """The lookup that did not happen because the service stopped first: unknown, with the
    address to open by hand (what `classify` hands a reference to instead of a client)."""

    def lookup(self, ref: LookupReference) -> Validity:
        return Validity(
            state="unknown", basis="lookup", checked_at=now(),
            detail="the service stopped before the lookup answered; check the card by hand",
            reason="lookup_interrupted", manual_check_url=ref.url,
        )


def interrupted_status(lookup: Settings) -> Any:
    """A scan still without an answer when the daemon stops: what the card is (no network),
    its lookup `unknown` with the address to check by hand."""

    def status(scan: Scan) -> Status:
        try:
            return classify(scan.payload, as_kind="scan", settings=lookup).status(_NotLookedUp())
        except ParseError as exc:
            return not_a_card(exc)

    return status


def build_sinks(config: DaemonConfig, current: Any) -> tuple[list[Any], Any]:

    sinks: list[Any] = []
    if config.events is not None:

        sinks.append(JsonLinesSink(config.events))
    if config.audit_log is not None:

        sinks.append(AuditLog(Path(config.audit_log), audit_key(config.audit_key)))
    desk = DeskState(current)
    sinks.append(desk)
    return sinks, desk


@app.command()
def daemon(
    source: Annotated[list[str] | None, typer.Option(
        "--source", help="a source URL; repeat for several, e.g. serial:/dev/ttyACM0",
    )] = None,
    events: Annotated[str | None, typer.Option(
        "--events", help="append redacted JSON Lines events to PATH, or - for stdout")] = None,
    http: Annotated[str | None, typer.Option(
        "--http", help=f"desk screen HOST:PORT (default {DEFAULT_HTTP}; off: none)")] = None,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="VERIFY_DESK_TOKEN",
        help="desk-screen token, required when --http is not loopback")] = None,
    region: Annotated[str | None, typer.Option(
        "--region", envvar="VERIFY_REGION", help="region for the decision")] = None,
    clear_after: Annotated[float | None, typer.Option(
        "--clear-after", help="seconds a status stays on the desk screen (default 30)")] = None,
    dedupe: Annotated[float | None, typer.Option(
        "--dedupe-seconds", help="the same card again within N seconds is one event")] = None,
    max_lookups: Annotated[int | None, typer.Option(
        "--max-lookups", help="concurrent lookups (default 4)")] = None,
    audit_log: Annotated[str | None, typer.Option(
        "--audit-log", help="opt-in pseudonymised audit log (needs VERIFY_AUDIT_KEY)")] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", help="TOML settings file; re-read on SIGHUP")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="desk screen: sv or en")] = None,
    chip_reader: Annotated[str | None, typer.Option(
        "--chip-reader", help="read UT cards' chips on this reader, e.g. pcsc: (docs/chip.md)",
    )] = None,
    trust_store: Annotated[str | None, typer.Option(
        "--trust-store", envvar="VERIFY_TRUST_STORE",
        help="folder of CSCA certificates, master lists and CRLs")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="debug log (no identifiers)")] = False,
) -> None:
    """Reception-desk service: scan, check and show every card, until stopped (SIGTERM)."""

    cli_layer = {
        "sources": tuple(source) if source else None, "events": events, "http": http,
        "http_token": token, "region": region, "clear_after": clear_after,
        "dedupe_seconds": dedupe, "max_lookups": max_lookups, "audit_log": audit_log,
        "lang": lang, "chip_reader": chip_reader, "trust_store": trust_store,
    }

    def load() -> DaemonConfig:
        return build_config(load_config(config), cli_layer)

    settings = load()  # ConfigError → exit 2 with the message, before anything starts
    if settings.audit_log is not None:

        audit_key(settings.audit_key)
    for url in settings.sources:
        _check_source_url(url)
    keyboard = _page_source(settings.sources)
    # The lookup's settings may sit in the same file; read once. ConfigError → exit 2 here too.
    lookup = Settings.from_env(config_path=config)
    holder: dict[str, Daemon] = {}
    metrics = DeskMetrics(sources=lambda: holder["d"].source_states() if "d" in holder else {},
                          profile_confirmed=lookup.profile.confirmed)
    checker = default_checker(lookup, metrics)
    setup_logging(verbose)
    if settings.chip_reader:  # the trust store is read once, now: a bad folder is exit 2
        trust = load_trust_folder(settings.trust_store)
        for name, why in trust.problems:  # in the folder, not used: say so once, at start
            log.warning("trust store: %s is not used: %s", name, why)
        checker = chip_checker(checker, reader_url=settings.chip_reader, trust=trust,
                               wait=settings.chip_wait)

    sinks, desk = build_sinks(settings, lambda: holder["d"].config)
    sinks.append(metrics)
    desk.notice = profile_notice([p.name for p in lookup.profiles if not p.confirmed],
                                 lang=settings.lang)
    server = None
    address = settings.http_address()
    if address is not None:

        try:
            server = DeskServer(address, desk, token=settings.http_token,
                                health=lambda: {**holder["d"].stats.to_json(),
                                                **metrics.health()},
                                metrics=metrics.render, keyboard=keyboard)
        except OSError as exc:
            raise listen_error(exc, settings.http) from None
    # Stopping waits for a lookup under way up to its own deadline (and a second to spare),
    # within the unit's stop timeout; a scan still unanswered then is shown as unknown.
    d = Daemon(settings, checker=checker, sinks=sinks, reload=load, on_scan=desk.checking,
               interrupted=interrupted_status(lookup),
               drain_seconds=min(lookup.timeout + 1.0, DRAIN_SECONDS))
    holder["d"] = d

    def tick() -> None:
        desk.tick()
        desk.update_sources(d.source_states())

    desk.update_sources(d.source_states())
    if server is not None:
        server.start()
        log.info("desk screen at %s", server.url)
    try:
        d.run(on_tick=tick)
    finally:
        if server is not None:
            server.stop()
    # Drained and closed either way; SIGTERM (systemd) is a normal stop, Ctrl-C is 130.
    raise typer.Exit(EXIT_INTERRUPTED if d.stopped_by == signal.SIGINT else 0)


def listen_error(exc: OSError, address: str | None) -> ConfigError:
    """Why the desk screen cannot listen, as one sentence saying what to do (exit 2)."""
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(N_("cannot listen on {address}: the port is already in use (another "
                              "verify daemon?); stop it or choose another port with --http"),
                           address=address)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ConfigError(N_("cannot listen on {address}: permission denied (ports below 1024 "
                              "need privileges); choose a port above 1024 with --http"),
                           address=address)
    if exc.errno == errno.EADDRNOTAVAIL:
        return ConfigError(N_("cannot listen on {address}: this computer has no such address; "
                              "give one of its own addresses with --http"), address=address)
    return ConfigError(N_("cannot listen on {address}: {why}"), address=address,
                       why=exc.strerror or type(exc).__name__)


def _page_source(sources: tuple[str, ...]) -> KeyboardPolicy | None:
    """The keyboard policy of the one `page:` source, if the desk page is a scan source."""
    pages = [u for u in sources if SourceURL.parse(u).scheme == "page"]
    if len(pages) > 1:
        raise ConfigError("give at most one page: source")
    return KeyboardPolicy.from_url(pages[0]) if pages else None


def _check_source_url(url: str) -> None:
    """Refuse a malformed URL or unknown scheme at start-up (exit 2), not in a retry loop.
    A still (`image:`) is read now as well: a photo refused once (not a file, a format not
    on the allow-list, over the memory budget) is refused every time, so it is exit 2 with
    its one sentence, not a warning retried for ever."""

    parsed = SourceURL.parse(url)
    handler = handler_for(parsed.scheme)
    if getattr(handler, "still", False):
        handler(parsed).close()
