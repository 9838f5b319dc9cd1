"""Desks as data, and the two signed strings a desk's browser ever holds. Pure.

A desk is a name, a site and optional region and language (else its site's, else the
service's). Nothing about a desk lives in a database: every instance of the service reads the
same desks file and holds the same key, so any of them can check what a browser presents:

- the enrolment link's token `e1.<desk>.<nonce>.<expires>.<mac>`: short-lived, used once to get
- the desk credential `c1.<desk>.<serial>.<issued>.<mac>` (the HttpOnly cookie): long-lived,
  void when the desk is revoked in the desks file.

The MAC covers the kind, the desk's id and the site's path segment, so a credential of one desk
(or site) is worthless on another's path, and an enrolment token is not a credential.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

ENROL_SECONDS = 15 * 60  # how long an enrolment link stays usable, by default
MAX_ENROL_SECONDS = 7 * 24 * 3600
CREDENTIAL_DAYS = 400  # browsers cap a cookie's life near this; the desk re-enrols after
MAX_TOKEN = 200
_ID = re.compile(r"[a-z2-7]{10}")
_PART = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class Desk:
    """One reception desk: what the operator named it, where it is, how it speaks."""

    id: str  # random, the last segment of its page's path
    name: str
    site: str
    region: str | None = None
    lang: str | None = None
    revoked: bool = False

    @property
    def path(self) -> str:
        """Its page's path: the site's segment, then the desk's id (cookie Path too)."""
        return f"/s/{site_slug(self.site)}/{self.id}/"


@dataclass(frozen=True)
class SiteSettings:
    region: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Book:
    """Every desk and site the service knows: what the desks file says."""

    desks: Mapping[str, Desk] = field(default_factory=dict)
    sites: Mapping[str, SiteSettings] = field(default_factory=dict)

    def by_name(self, name: str) -> Desk | None:
        found = [d for d in self.desks.values() if d.name == name and not d.revoked]
        return found[0] if len(found) == 1 else None

    def region_and_lang(self, desk: Desk, region: str | None, lang: str) -> tuple[str | None, str]:
        """The desk's own setting, else its site's, else the service's."""
        site = self.sites.get(desk.site, SiteSettings())
        return (desk.region or site.region or region, desk.lang or site.lang or lang)


def new_desk_id() -> str:
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()[:10]


def site_slug(site: str) -> str:
    """The site's name as a path segment: ASCII letters, digits and dashes (`vc-tensta`)."""
    plain = unicodedata.normalize("NFKD", site).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:40]
    return slug or "site"


def _mac(key: bytes, *parts: str) -> str:
    digest = hmac.new(key, "|".join(parts).encode(), hashlib.sha256).digest()[:20]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _split(token: str | None, kind: str) -> list[str] | None:
    if not token or len(token) > MAX_TOKEN:
        return None
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != kind or not all(_PART.fullmatch(p) for p in parts[1:]):
        return None
    if not _ID.fullmatch(parts[1]) or not parts[3].isdigit():
        return None
    return parts


# -- enrolment ---------------------------------------------------------------------------------


def enrolment_token(key: bytes, desk: Desk, *, now: float, valid_for: float = ENROL_SECONDS) -> str:
    nonce = secrets.token_urlsafe(12)
    expires = str(int(now + valid_for))
    return ".".join(("e1", desk.id, nonce, expires,
                     _mac(key, "e1", desk.id, site_slug(desk.site), nonce, expires)))


@dataclass(frozen=True)
class Enrolment:
    """A well-signed enrolment token, read (whether it is still usable is the caller's check)."""

    desk_id: str
    nonce: str
    expires: int


def read_enrolment(key: bytes, token: str | None, site: str) -> Enrolment | None:
    """The token's contents when its MAC is right for `site`'s segment, else None."""
    parts = _split(token, "e1")
    if parts is None:
        return None
    _, desk, nonce, expires, mac = parts
    if not hmac.compare_digest(mac, _mac(key, "e1", desk, site, nonce, expires)):
        return None
    return Enrolment(desk, nonce, int(expires))


# -- the desk credential -------------------------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    desk_id: str
    serial: str  # one per enrolment: which browser got it
    issued: int


def credential(key: bytes, desk: Desk, *, now: float) -> str:
    serial = secrets.token_urlsafe(9)
    issued = str(int(now))
    return ".".join(("c1", desk.id, serial, issued,
                     _mac(key, "c1", desk.id, site_slug(desk.site), serial, issued)))


def read_credential(key: bytes, token: str | None, site: str, desk_id: str) -> Credential | None:
    """The credential when it is signed for exactly this site segment and desk id, else None."""
    parts = _split(token, "c1")
    if parts is None or parts[1] != desk_id:
        return None
    _, desk, serial, issued, mac = parts
    if not hmac.compare_digest(mac, _mac(key, "c1", desk, site, serial, issued)):
        return None
    return Credential(desk, serial, int(issued))
