"""Lookup references: a QR payload, pasted address or typed token → the one URL we may fetch.

A QR payload is untrusted input. Parsing is by hand and strict, not by urllib's forgiving
splitter, so that no two parsers can disagree about which host a string names. The URL that is
fetched is rebuilt from the validated parts, never the input string itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urljoin

from verify.errors import ParseError
from verify.model import LookupReference

MAX_INPUT_BYTES = 2048
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class TokenRules(Protocol):
    """What a lookup profile says about the address (`verify.lookup.profile.LookupProfile`)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def confirmed(self) -> bool: ...
    @property
    def base(self) -> str: ...
    @property
    def base_path(self) -> str: ...
    @property
    def token_re(self) -> re.Pattern[str]: ...
    @property
    def token_pattern(self) -> str: ...
    @property
    def query_param(self) -> str | None: ...

    def fits(self, host: str, path: str) -> bool: ...


class Settings(Protocol):
    """The lookup settings a reference is checked against (`verify.lookup.settings.Settings`).

    Declared here so that reading a card never imports the lookup client's package.
    """

    @property
    def base(self) -> str: ...
    @property
    def allowed_hosts(self) -> frozenset[str]: ...
    @property
    def allow_loopback_http(self) -> bool: ...
    @property
    def profile(self) -> TokenRules: ...
    @property
    def profiles(self) -> Sequence[TokenRules]: ...

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(.*)", re.S)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_HEXLABEL = re.compile(r"0x[0-9a-f]*")


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int | None

    def __str__(self) -> str:
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"


def refuse(reason: str, message: str, /, **params: object) -> ParseError:
    return ParseError(reason, message, **params)


def clean_text(text: object) -> str:
    """Refuse what no card payload contains; strip surrounding white space."""
    if not isinstance(text, str):
        raise refuse("not_text", "input must be text")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        raise refuse(
            "too_long", "input is longer than {n} bytes; no card holds that", n=MAX_INPUT_BYTES
        )
    s = text.strip(" \t\r\n")
    if not s:
        raise refuse("empty", "input is empty")
    for ch in s:
        if ch == "\x00":
            raise refuse("nul_byte", "input contains a NUL byte")
        if ch in "\r\n\u2028\u2029\x85":
            raise refuse("line_break", "input contains a line break (CR/LF injection?)")
        if ch in "\x1b\x9b":
            raise refuse("terminal_escape", "input contains a terminal escape sequence")
        category = unicodedata.category(ch)
        if category[0] == "C":
            raise refuse(
                "control_character", "input contains the control character {code}",
                code=f"U+{ord(ch):04X}"
            )
        if category[0] == "Z" or ch.isspace():
            raise refuse("whitespace", "input contains white space inside it")
    return s


def parse_reference(
    text: object, settings: Settings, *, allow_url: bool = True, allow_token: bool = True
) -> LookupReference:
    """A lookup reference from a QR payload, a pasted address or a bare token."""
    s = clean_text(text)
    looks_like_url = bool(_SCHEME.fullmatch(s)) or s.startswith("//")
    if looks_like_url:
        if not allow_url:
            raise refuse("url_not_token", "this is an address, not a token; use --url")
        return _from_url(s, settings)
    if not allow_token:
        raise refuse("token_not_url", "this is not an address (https://…)")
    return from_token(s, settings)


# No lookup token is longer; a longer one is refused before its pattern is tried.
MAX_TOKEN_CHARS = 128


def from_token(token: str, settings: Settings) -> LookupReference:
    """A token typed from the back of the card, composed with its card kind's base."""
    profile = settings.profiles[0]
    _check_token(token, profile)
    param = profile.query_param
    url = f"{profile.base}{token}" if param is None else f"{profile.base}?{param}={token}"
    return LookupReference(url=url, token=token, kind=profile.kind, profile=profile.name)


def _check_token(token: str, profile: TokenRules) -> None:
    if len(token) > MAX_TOKEN_CHARS:
        # Bounds the pattern's work on any token, whatever the profile's pattern.
        raise refuse("token_too_long", "the token is longer than {n} characters",
                     n=MAX_TOKEN_CHARS)
    if not token.isascii():
        raise refuse("non_ascii", "the token has characters that are not plain letters or digits")
    if not profile.token_re.fullmatch(token):
        raise refuse(
            "token_grammar",
            "not a lookup token: the profile expects {pattern}",
            pattern=profile.token_pattern,
        )


def check_origin(scheme: str, authority: str, settings: Settings) -> Origin:
    """Validate scheme + authority against the allowed hosts; the shared gate for redirects too."""
    scheme = scheme.lower()
    if scheme not in ("https", "http"):
        raise refuse("scheme_not_allowed", "{scheme}: addresses are not lookups; only https is",
                     scheme=scheme)
    if not authority:
        raise refuse("no_host", "the address names no host")
    if "@" in authority:
        raise refuse("userinfo", "the address hides a user name before '@' (a known trick)")
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise refuse("malformed_host", "unbalanced [ in the host")
        host, rest = authority[: end + 1].lower(), authority[end + 1 :]
        if rest and not rest.startswith(":"):
            raise refuse("malformed_host", "junk after the IPv6 address")
        port_text = rest[1:] if rest else None
    else:
        if authority.count(":") > 1:
            raise refuse("malformed_host", "the host has more than one ':'")
        host, sep, port_text_raw = authority.partition(":")
        host = host.lower()
        port_text = port_text_raw if sep else None
    port: int | None = None
    if port_text is not None:
        if not port_text.isdigit() or not port_text.isascii() or len(port_text) > 5:
            raise refuse("malformed_port", "the port is not a number")
        port = int(port_text)
    if not host.isascii():
        raise refuse("non_ascii", "the host has non-ASCII characters (look-alike letters?)")
    labels = host.split(".")
    if any(label.startswith("xn--") for label in labels):
        raise refuse(
            "punycode", "the host is an internationalised (punycode) name, not the agency's"
        )
    is_ip = (
        host.startswith("[")
        or labels[-1].isdigit()
        or any(_HEXLABEL.fullmatch(label) for label in labels)
    )
    loopback_ok = (
        settings.allow_loopback_http
        and host in LOOPBACK_HOSTS
        and (host in settings.allowed_hosts or host.strip("[]") in settings.allowed_hosts)
    )
    if loopback_ok:
        return Origin(scheme, host, port)
    if is_ip:
        raise refuse("ip_literal", "the address is an IP number, not the agency's host name")
    if not _HOSTNAME.fullmatch(host):
        raise refuse("malformed_host", "the host name is malformed")
    if host not in settings.allowed_hosts:
        near = [a for a in settings.allowed_hosts if a in host or host in a]
        if near:
            raise refuse("host_not_allowed", "the host {host} is not an allowed lookup host (it "
                         "only looks like {near})", host=host, near=near[0])
        raise refuse("host_not_allowed", "the host {host} is not an allowed lookup host",
                     host=host)
    if scheme != "https":
        raise refuse("plain_http", "plain http is not allowed; the lookup uses https")
    if port not in (None, 443):
        raise refuse(
            "port_not_allowed", "port {port} is not allowed; the lookup uses the default port",
            port=port,
        )
    return Origin(scheme, host, None)


def _split(s: str) -> tuple[str, str, str, str, str | None]:
    m = _SCHEME.fullmatch(s)
    scheme, rest = (m.group(1), m.group(2)) if m else ("", s)
    if "\\" in s:
        raise refuse("backslash", "the address contains a backslash (browsers read it as '/')")
    if not rest.startswith("//"):
        if scheme.lower() not in ("https", "http"):
            raise refuse(
                "scheme_not_allowed",
                "{scheme}: addresses are not lookups; only https is", scheme=scheme or "this",
            )
        raise refuse("malformed_url", "the address lacks '//' after the scheme")
    rest = rest[2:]
    cut = min(
        [i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0], default=len(rest)
    )
    authority, tail = rest[:cut], rest[cut:]
    fragment = None
    if "#" in tail:
        tail, fragment = tail.split("#", 1)
    path, _, query = tail.partition("?")
    return scheme, authority, path, query, fragment


def _from_url(s: str, settings: Settings) -> LookupReference:
    scheme, authority, path, query, fragment = _split(s)
    if not scheme:
        raise refuse("scheme_not_allowed", "the address has no scheme; only https is")
    origin = check_origin(scheme, authority, settings)
    if fragment is not None:
        raise refuse("fragment", "the address has a '#' part; a lookup address has none")
    if "%" in path or "%" in query:
        raise refuse("percent_encoding", "the address hides characters as percent codes (%XX)")
    fitting = [p for p in settings.profiles if p.fits(origin.host, path)]
    if len(fitting) != 1:
        # Overlapping profiles are refused when settings load; doubt is never a guess.
        raise refuse("path_not_lookup", "the address is not a card lookup on the agency's site")
    profile = fitting[0]
    base_path = profile.base_path
    param = profile.query_param
    if param is None:
        if query:
            raise refuse("query", "the address has a '?' part; a lookup address has none")
        if not path.startswith(base_path):
            raise refuse("path_not_lookup", "the address is not a card lookup on the agency's site")
        token = path[len(base_path) :]
    else:
        if path != base_path:
            raise refuse("path_not_lookup", "the address is not a card lookup on the agency's site")
        pairs = [p.partition("=") for p in query.split("&")] if query else []
        if len(pairs) != 1 or pairs[0][0] != param or not pairs[0][1]:
            raise refuse("query", "a lookup address has exactly ?{param}=TOKEN", param=param)
        token = pairs[0][2]
    _check_token(token, profile)
    url = f"{origin}{base_path}{token}" if param is None else f"{origin}{base_path}?{param}={token}"
    return LookupReference(url=url, token=token, kind=profile.kind, profile=profile.name)


def check_redirect(location: str, current_url: str, settings: Settings) -> str:
    """The URL a redirect may be followed to, or ParseError: only allowed hosts, only https."""
    s = clean_text(location)
    absolute = urljoin(current_url, s)
    scheme, authority, path, query, _fragment = _split(absolute)
    origin = check_origin(scheme, authority, settings)
    if "%" in authority:
        raise refuse("percent_encoding",
                     "the redirect's host hides characters as percent codes (%XX)")
    return f"{origin}{path or '/'}" + (f"?{query}" if query else "")


def manual_check_url(settings: Settings, reference: LookupReference | None) -> str:
    """What a person opens in a browser: the lookup address, or the base to complete by hand."""
    return reference.url if reference is not None else settings.base
