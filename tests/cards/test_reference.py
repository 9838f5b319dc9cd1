"""QR payloads are untrusted: only an https address on an allowed host with a well-formed token
becomes a lookup. The list below is the hostile-payload corpus; none may be accepted."""

from __future__ import annotations

import socket
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify.cards.reference import check_redirect, parse_reference
from verify.errors import ParseError
from verify.lookup.profile import load_profile
from verify.lookup.settings import Settings

BASE = "https://www.migrationsverket.se/lmakort/"
SETTINGS = Settings(
    profile=load_profile(), base=BASE, allowed_hosts=frozenset({"www.migrationsverket.se"})
)

HOSTILE: list[tuple[str, str]] = [
    ("", "empty"),
    ("   ", "empty"),
    ("https://www.migrationsverket.se.evil.example/lmakort/VALID0001", "host_not_allowed"),
    ("https://evilmigrationsverket.se/lmakort/VALID0001", "host_not_allowed"),
    ("https://migrationsverket.se.evil.example/lmakort/VALID0001", "host_not_allowed"),
    ("https://www.migrationsverket.se@evil.example/lmakort/VALID0001", "userinfo"),
    ("https://user:pass@www.migrationsverket.se/lmakort/VALID0001", "userinfo"),
    ("https://evil.example#@www.migrationsverket.se/lmakort/VALID0001", "host_not_allowed"),
    ("https://www.migrationsverket.se\\@evil.example/lmakort/VALID0001", "backslash"),
    ("https://xn--migrationsverket-5nb.se/lmakort/VALID0001", "punycode"),
    ("https://www.xn--mgrationsverket-xyz.se/lmakort/VALID0001", "punycode"),
    ("https://www.migrаtionsverket.se/lmakort/VALID0001", "non_ascii"),  # Cyrillic а
    ("https://www.migrationsverket.ѕe/lmakort/VALID0001", "non_ascii"),  # Cyrillic ѕ
    ("https://www．migrationsverket．se/lmakort/VALID0001", "non_ascii"),  # full-width dots
    ("https://127.0.0.1/lmakort/VALID0001", "ip_literal"),
    ("https://2130706433/lmakort/VALID0001", "ip_literal"),
    ("https://0x7f000001/lmakort/VALID0001", "ip_literal"),
    ("https://0177.0.0.1/lmakort/VALID0001", "ip_literal"),
    ("https://127.1/lmakort/VALID0001", "ip_literal"),
    ("https://[::1]/lmakort/VALID0001", "ip_literal"),
    ("https://[::ffff:127.0.0.1]/lmakort/VALID0001", "ip_literal"),
    ("https://169.254.169.254/latest/meta-data/", "ip_literal"),
    ("http://www.migrationsverket.se/lmakort/VALID0001", "plain_http"),
    ("file:///etc/passwd", "scheme_not_allowed"),
    ("data:text/html,<script>alert(1)</script>", "scheme_not_allowed"),
    ("javascript:alert(document.cookie)", "scheme_not_allowed"),
    ("gopher://www.migrationsverket.se/lmakort/VALID0001", "scheme_not_allowed"),
    ("ftp://www.migrationsverket.se/lmakort/VALID0001", "scheme_not_allowed"),
    ("https://www.migrationsverket.se:8443/lmakort/VALID0001", "port_not_allowed"),
    ("https://www.migrationsverket.se:80/lmakort/VALID0001", "port_not_allowed"),
    ("https://www.migrationsverket.se:/lmakort/VALID0001", "malformed_port"),
    ("https://www.migrationsverket.se/lmakort/VALID0001\r\nX-Injected: 1", "line_break"),
    ("https://www.migrationsverket.se/lmakort/VALID%0d%0aX: 1", "whitespace"),
    ("https://www.migrationsverket.se/lmakort/VALID%0d%0a", "percent_encoding"),
    ("https://www.migrationsverket.se/lmakort/%2e%2e/admin", "percent_encoding"),
    ("https://www.migrationsverket.se/lmakort/../admin", "token_grammar"),
    ("https://www.migrationsverket.se/lmakort/VALID0001/extra", "token_grammar"),
    ("https://www.migrationsverket.se/other/VALID0001", "path_not_lookup"),
    ("https://www.migrationsverket.se/lmakort/VALID0001?next=https://evil", "query"),
    ("https://www.migrationsverket.se/lmakort/VALID0001#frag", "fragment"),
    ("https://www.migrationsverket.se/lmakort/VALID\x000001", "nul_byte"),
    ("https://www.migrationsverket.se/lmakort/\x1b[31mVALID0001", "terminal_escape"),
    ("\x1b]0;pwned\x07", "terminal_escape"),
    (
        "https://www.migrationsverket.se/lmakort/VALID\u202e1000",
        "control_character",
    ),  # RTL override
    ("https://www.migrationsverket.se/lmakort/VALID\u200b0001", "control_character"),  # zero width
    ("https://www.migrationsverket.se/lmakort/" + "A" * 2100, "too_long"),
    ("A" * 3000, "too_long"),
    ("VALID 0001", "whitespace"),
    ("VAL", "token_grammar"),
    ("VALID-0001", "token_grammar"),
    ("VALID0001;rm-rf/", "token_grammar"),
    ("<script>alert(1)</script>", "token_grammar"),
    ("'; DROP TABLE cards; --", "whitespace"),
    ("//evil.example/lmakort/VALID0001", "scheme_not_allowed"),
    ("https:/www.migrationsverket.se/lmakort/VALID0001", "malformed_url"),
    ("https:www.migrationsverket.se/lmakort/VALID0001", "malformed_url"),
    ("HTTPS://EVIL.EXAMPLE/lmakort/VALID0001", "host_not_allowed"),
    ("https://www.migrationsverket.se./lmakort/VALID0001", "malformed_host"),
    ("https:///lmakort/VALID0001", "no_host"),
]


def test_the_hostile_list_is_long_enough() -> None:
    assert len(HOSTILE) >= 40


@pytest.mark.parametrize("payload, reason", HOSTILE)
def test_hostile_payload_is_refused_with_its_reason(payload: str, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_reference(payload, SETTINGS)
    assert caught.value.reason == reason, caught.value.message


@pytest.mark.parametrize(
    "text, url",
    [
        ("https://www.migrationsverket.se/lmakort/VALID0001", BASE + "VALID0001"),
        ("HTTPS://WWW.MIGRATIONSVERKET.SE/lmakort/VALID0001", BASE + "VALID0001"),
        ("https://www.migrationsverket.se:443/lmakort/AbC123", BASE + "AbC123"),
        ("  https://www.migrationsverket.se/lmakort/x1y2z3\r\n", BASE + "x1y2z3"),
        ("VALID0001", BASE + "VALID0001"),
        (" abcd1234 ", BASE + "abcd1234"),
    ],
)
def test_good_references_compose_the_canonical_url(text: str, url: str) -> None:
    assert parse_reference(text, SETTINGS).url == url


def test_bare_token_composes_with_the_configured_base() -> None:
    other = Settings(
        profile=SETTINGS.profile,
        base="https://lma.example.se/k/",
        allowed_hosts=frozenset({"lma.example.se"}),
    )
    assert parse_reference("TOKEN1", other).url == "https://lma.example.se/k/TOKEN1"


def test_loopback_http_needs_the_opt_in_and_an_allowed_loopback_host() -> None:
    loop = Settings(
        profile=SETTINGS.profile,
        base="http://127.0.0.1:8088/lmakort/",
        allowed_hosts=frozenset({"127.0.0.1"}),
        allow_loopback_http=True,
    )
    assert parse_reference("http://127.0.0.1:8088/lmakort/VALID1", loop).token == "VALID1"
    with pytest.raises(ParseError, match="not an allowed"):
        parse_reference("http://localhost:8088/lmakort/VALID1", loop)  # loopback, not allowed
    closed = Settings(
        profile=SETTINGS.profile,
        base=BASE,
        allowed_hosts=frozenset({"127.0.0.1", "www.migrationsverket.se"}),
    )
    with pytest.raises(ParseError) as caught:
        parse_reference("http://127.0.0.1:8088/lmakort/VALID1", closed)
    assert caught.value.reason == "ip_literal"


@pytest.mark.parametrize(
    "location, ok",
    [
        ("/lmakort/VALID0001", True),
        ("https://www.migrationsverket.se/annat", True),
        ("https://evil.example/", False),
        ("http://www.migrationsverket.se/lmakort/VALID0001", False),
        ("//evil.example/x", False),
        ("https://www.migrationsverket.se@evil.example/", False),
        ("https://10.0.0.1/", False),
        ("javascript:alert(1)", False),
        ("/x\r\nSet-Cookie: a=b", False),
    ],
)
def test_redirects_only_to_allowed_hosts_over_https(location: str, ok: bool) -> None:
    if ok:
        assert check_redirect(location, BASE + "X1234", SETTINGS).startswith(
            "https://www.migrationsverket.se/"
        )
    else:
        with pytest.raises(ParseError):
            check_redirect(location, BASE + "X1234", SETTINGS)


@given(st.text(max_size=300))
def test_arbitrary_text_is_a_reference_or_a_parse_error(text: str) -> None:
    try:
        ref = parse_reference(text, SETTINGS)
    except ParseError:
        return
    assert ref.url == BASE + ref.token
    assert parse_reference(ref.url, SETTINGS) == ref  # normalising twice equals once


@given(st.from_regex(r"https://[a-z.@:0-9\[\]]{1,40}/lmakort/[A-Za-z0-9]{4,10}", fullmatch=True))
def test_url_shaped_text_only_ever_reaches_the_allowed_host(text: str) -> None:
    try:
        ref = parse_reference(text, SETTINGS)
    except ParseError:
        return
    assert ref.url.startswith(BASE)


@pytest.fixture
def listener():
    """A loopback TCP listener that counts connection attempts."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield sock.getsockname()[1], accepted
    stop.set()
    thread.join(2)
    sock.close()


def test_refused_payloads_open_no_connection(listener, verify_cli) -> None:
    port, accepted = listener
    payloads = [
        f"https://127.0.0.1:{port}/lmakort/VALID0001",
        f"http://127.0.0.1:{port}/lmakort/VALID0001",
        f"https://localhost:{port}/lmakort/VALID0001",
        f"https://www.migrationsverket.se@127.0.0.1:{port}/lmakort/VALID0001",
        f"http://[::1]:{port}/lmakort/VALID0001",
        f"https://2130706433:{port}/lmakort/VALID0001",
    ]
    for payload in payloads:
        result = verify_cli("lookup", payload)
        assert result.returncode == 2, (payload, result.stderr)
        assert "Traceback" not in result.stderr
    assert accepted == []
