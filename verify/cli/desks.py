"""`verify desk add|link|list|revoke|site|serve`: one service for many browser-only desks
(docs/many-desks.md)."""

import dataclasses
import json
import logging
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from drivers.page import KeyboardPolicy
from verify.cli.app import Lang, check_lang, fail
from verify.cli.daemon import default_checker, listen_error, setup_logging
from verify.cli.desk import desk_app
from verify.desk.config import DaemonConfig, canonical_region, parse_host_port
from verify.desk.deskbook import load_book, load_key, save_book
from verify.desk.desks import (
    ENROL_SECONDS,
    MAX_ENROL_SECONDS,
    Book,
    Desk,
    SiteSettings,
    enrolment_token,
    new_desk_id,
)
from verify.desk.forwarding import networks
from verify.desk.metrics import DeskMetrics
from verify.desk.multidesk import MultiDeskServer, Service
from verify.desk.signals import ServiceSignals
from verify.errors import ConfigError
from verify.locale import _
from verify.locations import user_config_dir
from verify.lookup.settings import Settings
from verify.model import EXIT_INTERRUPTED

log = logging.getLogger("verify.desk.daemon")

Desks = Annotated[Path, typer.Option(
    "--desks", envvar="VERIFY_DESKS", file_okay=False, show_default=False,
    help="the folder with the desks file and the shared key (default: the settings folder's "
         "desks/)")]
Url = Annotated[str | None, typer.Option(
    "--url", envvar="VERIFY_PUBLIC_URL",
    help="the service's public address, as desks open it, e.g. https://verify.region.se")]
ValidFor = Annotated[float, typer.Option(
    "--valid-for", help="minutes the enrolment link works (default 15)")]
SiteOfName = Annotated[str | None, typer.Option("--site", help="its site, when names repeat")]


def _default_desks() -> Path:
    return user_config_dir() / "desks"


def _region(region: str | None) -> str | None:
    """The region by its name in the rule files (any of the 21, or an alias)."""
    if region is None:
        return None
    try:
        return canonical_region(region)
    except ConfigError as exc:
        raise fail(exc.template, **exc.params) from None


def _lang(lang: str | None) -> str | None:
    if lang is not None and lang not in ("sv", "en"):
        raise fail("--screen-lang must be sv or en, not {lang}", lang=repr(lang))
    return lang


def _minutes(valid_for: float) -> float:
    if not 1 <= valid_for * 60 <= MAX_ENROL_SECONDS:
        raise fail("--valid-for must be between 1 minute and 7 days (10080 minutes)")
    return valid_for * 60


def _link(folder: Path, desk: Desk, url: str | None, valid_for: float) -> str:
    if url is None:
        raise fail("give --url, the service's address as desks open it (or VERIFY_PUBLIC_URL), "
                   "e.g. https://verify.region.se")
    if not url.startswith(("https://", "http://")):
        raise fail("--url must start with https:// (or http:// for a test on this machine)")
    key = load_key(folder, create=True)
    token = enrolment_token(key, desk, now=time.time(), valid_for=valid_for)
    return f"{url.rstrip('/')}/enrol/{token}"


def _find(book: Book, name: str, site: str | None) -> Desk:
    found = [d for d in book.desks.values() if not d.revoked and (d.name == name or d.id == name)
             and (site is None or d.site == site)]
    if not found:
        raise fail("no desk {name}; see verify desk list", name=repr(name))
    if len(found) > 1:
        raise fail("several desks are called {name}: give --site", name=repr(name))
    return found[0]


@desk_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="the desk's name, e.g. 'reception 2'")],
    site: Annotated[str, typer.Option("--site", help="where it is, e.g. 'VC Tensta'")],
    region: Annotated[str | None, typer.Option(
        "--region", help="this desk's region (else its site's, else the service's)")] = None,
    screen_lang: Annotated[str | None, typer.Option(
        "--screen-lang", help="this desk's screen language, sv or en (else its site's, else "
                              "the service's)")] = None,
    url: Url = None,
    valid_for: ValidFor = ENROL_SECONDS / 60,
    desks: Desks = Path(),
    lang: Lang = None,
) -> None:
    """Add a desk and print its one-time enrolment link (open it on the desk's browser)."""
    check_lang(lang)
    folder = desks if desks != Path() else _default_desks()
    seconds = _minutes(valid_for)
    if not name.strip() or not site.strip() or len(name) > 80 or len(site) > 80:
        raise fail("a desk needs a name and a site of at most 80 characters")
    book = load_book(folder)
    if any(d.name == name and d.site == site and not d.revoked for d in book.desks.values()):
        raise fail("{site} already has a desk called {name}; for a new link: verify desk link",
                   site=repr(site), name=repr(name))
    desk = Desk(id=new_desk_id(), name=name.strip(), site=site.strip(), region=_region(region),
                lang=_lang(screen_lang))
    link = _link(folder, desk, url, seconds)
    save_book(folder, dataclasses.replace(book, desks={**book.desks, desk.id: desk}))
    typer.echo(_("Desk {name} ({site}) added. Open this link once, on that desk's browser, "
                 "within {minutes} minutes:", name=desk.name, site=desk.site,
                 minutes=int(seconds // 60)))
    typer.echo(link)


@desk_app.command("link")
def link(
    name: Annotated[str, typer.Argument(help="the desk's name or id")],
    site: SiteOfName = None,
    url: Url = None,
    valid_for: ValidFor = ENROL_SECONDS / 60,
    desks: Desks = Path(),
    lang: Lang = None,
) -> None:
    """A new one-time enrolment link for a desk (a new browser, or a link that expired)."""
    check_lang(lang)
    folder = desks if desks != Path() else _default_desks()
    seconds = _minutes(valid_for)
    desk = _find(load_book(folder), name, site)
    typer.echo(_link(folder, desk, url, seconds))


@desk_app.command("list")
def list_desks(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    desks: Desks = Path(),
    lang: Lang = None,
) -> None:
    """Every desk: name, site, region, language, its page's path, revoked or not."""
    check_lang(lang)
    folder = desks if desks != Path() else _default_desks()
    book = load_book(folder)
    rows = sorted(book.desks.values(), key=lambda d: (d.site, d.name))
    if as_json:
        typer.echo(json.dumps([{**dataclasses.asdict(d), "path": d.path} for d in rows],
                              ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(_("No desks yet: verify desk add NAME --site SITE"))
    for d in rows:
        region, screen = book.region_and_lang(d, None, "")
        state = _("revoked") if d.revoked else ""
        typer.echo("\t".join(x for x in (d.site, d.name, region or "-", screen or "-", d.path,
                                          state) if x is not None).rstrip())


@desk_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="the desk's name or id")],
    site: SiteOfName = None,
    desks: Desks = Path(),
    lang: Lang = None,
) -> None:
    """Revoke a desk: its credential stops working on every instance within the reload time."""
    check_lang(lang)
    folder = desks if desks != Path() else _default_desks()
    book = load_book(folder)
    desk = _find(book, name, site)
    gone = dataclasses.replace(desk, revoked=True)
    save_book(folder, dataclasses.replace(book, desks={**book.desks, desk.id: gone}))
    typer.echo(_("Desk {name} ({site}) revoked. Copy the desks file to every instance.",
                 name=desk.name, site=desk.site))


@desk_app.command("site")
def site_settings(
    site: Annotated[str, typer.Argument(help="the site's name, as given to verify desk add")],
    region: Annotated[str | None, typer.Option("--region", help="the site's region")] = None,
    screen_lang: Annotated[str | None, typer.Option(
        "--screen-lang", help="the site's screen language, sv or en")] = None,
    desks: Desks = Path(),
    lang: Lang = None,
) -> None:
    """Set a site's region and language, for its desks that set none of their own."""
    check_lang(lang)
    folder = desks if desks != Path() else _default_desks()
    book = load_book(folder)
    settings = SiteSettings(region=_region(region), lang=_lang(screen_lang))
    save_book(folder, dataclasses.replace(book, sites={**book.sites, site: settings}))
    typer.echo(_("Site {site}: region {region}, language {lang}.", site=site,
                 region=settings.region or "-", lang=settings.lang or "-"))


@desk_app.command("serve")
def serve(
    http: Annotated[str, typer.Option(
        "--http", help="HOST:PORT to listen on (behind the proxy: a private address)")] =
        "127.0.0.1:8766",
    region: Annotated[str | None, typer.Option(
        "--region", envvar="VERIFY_REGION", help="region for desks and sites that set none")] =
        None,
    lang: Annotated[str | None, typer.Option(
        "--lang", help="screen language for desks and sites that set none: sv or en")] = None,
    proxy: Annotated[list[str] | None, typer.Option(
        "--trusted-proxy", help="address or network of the reverse proxy; repeat for several. "
                                "Forwarding headers from anyone else are refused")] = None,
    operator: Annotated[list[str] | None, typer.Option(
        "--operator-from", help="addresses that may open /operator and /metrics directly "
                                "(default: this machine)")] = None,
    reload_seconds: Annotated[float, typer.Option(
        "--reload-seconds", help="how often the desks file is checked for changes "
                                 "(revocations)")] = 10.0,
    max_pages: Annotated[int, typer.Option(
        "--max-pages", help="desk pages one instance holds open at once")] = 512,
    key_gap: Annotated[int, typer.Option(
        "--key-gap", help="longest pause between a scanner's keys, in ms (5-500; default 60)")
    ] = 60,
    clear_after: Annotated[float, typer.Option(
        "--clear-after", help="seconds a status stays on a desk's screen")] = 30.0,
    config: Annotated[Path | None, typer.Option(
        "--config", help="TOML settings file for the lookup")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="debug log (no identifiers)")] = False,
    desks: Desks = Path(),
) -> None:
    """Serve many browser-only desks: each enrolled desk's page under its own path."""
    screen_lang = check_lang(lang)
    folder = desks if desks != Path() else _default_desks()
    key = load_key(folder)
    load_book(folder)  # a damaged desks file: exit 2 now, not at the first request
    if not 0.5 <= reload_seconds <= 3600:
        raise fail("--reload-seconds must be between 0.5 and 3600")
    if not 1 <= max_pages <= 4096:
        raise fail("--max-pages must be between 1 and 4096")
    if not 1 <= clear_after <= 86400:
        raise fail("--clear-after must be between 1 and 86400 seconds")
    if not 5 <= key_gap <= 500:
        raise fail("--key-gap must be between 5 and 500 ms")
    address = parse_host_port(http)
    service = Service(
        key=key, desks=folder,
        base=DaemonConfig(sources=("page:",), region=_region(region), lang=screen_lang,
                          clear_after=clear_after, http=http),
        proxies=networks(proxy or ()),
        operators=networks(operator or ("127.0.0.0/8", "::1")),
        reload_seconds=reload_seconds, max_pages=max_pages,
        keyboard=KeyboardPolicy(max_gap_ms=key_gap),
    )
    lookup = Settings.from_env(config_path=config)
    metrics = DeskMetrics(sources=lambda: {"page:": "open"},
                          profile_confirmed=lookup.profile.confirmed)
    checker = default_checker(lookup, metrics)
    setup_logging(verbose)
    try:
        server = MultiDeskServer(address, service, checker=checker, metrics=metrics,
                                 health=metrics.health)
    except OSError as exc:
        raise listen_error(exc, http) from None
    with ServiceSignals(reload=()) as signals:
        server.start()
        log.info("desks served at %s", server.url)
        try:
            while not signals.stop_asked:
                signals.wait(0.5)
        finally:
            server.stop()
    # SIGTERM (the service manager) is a normal stop; Ctrl-C is 130, after the same shutdown.
    raise typer.Exit(EXIT_INTERRUPTED if signals.stopped_by == signal.SIGINT else 0)
