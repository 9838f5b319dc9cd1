"""Settings from a config file and the environment; the stable Python API."""

from __future__ import annotations

from pathlib import Path

import pytest

import verify
from drivers.scan import Scan
from verify.cards.reference import parse_reference
from verify.errors import ConfigError, ParseError
from verify.lookup.client import LookupClient
from verify.lookup.emulator import Emulator
from verify.lookup.profile import load_profile
from verify.lookup.settings import Settings


def test_config_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'lookup_base = "https://lma.example.se/kort/"\n'
        'allowed_hosts = ["lma.example.se", "www.migrationsverket.se"]\n'
        "lookup_timeout = 2.5\n"
        'region = "skane"\n'
    )
    s = Settings.from_env(env={"VERIFY_CONFIG": str(config)})
    assert (s.base, s.allowed_hosts, s.timeout, s.region) == (
        "https://lma.example.se/kort/",
        frozenset({"lma.example.se", "www.migrationsverket.se"}),
        2.5,
        "skane",
    )
    s = Settings.from_env(
        env={
            "VERIFY_CONFIG": str(config),
            "VERIFY_REGION": "stockholm",
            "VERIFY_LOOKUP_TIMEOUT": "1",
        }
    )
    assert (s.region, s.timeout) == ("stockholm", 1.0)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"VERIFY_CONFIG": "/nonexistent/verify.toml"}, "does not exist"),
        ({"VERIFY_LOOKUP_TIMEOUT": "0"}, "between"),
        ({"VERIFY_LOOKUP_BASE": "https://evil.example/"}, "not among the allowed hosts"),
        ({"VERIFY_LOOKUP_BASE": "https://www.migrationsverket.se/lmakort"}, "must end with '/'"),
        ({"VERIFY_PROFILE": "/nonexistent/profile.toml"}, "profile.toml does not exist"),
    ],
)
def test_unusable_settings_say_why(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env=env)


def test_a_profile_with_the_token_in_the_query(tmp_path: Path) -> None:
    text = (Path(verify.__file__).parent / "lookup" / "profiles" / "lma.toml").read_text()
    text = text.replace('token_location = "path"', 'token_location = "query:id"')
    text = text.replace(
        'base = "https://www.migrationsverket.se/lmakort/"',
        'base = "https://www.migrationsverket.se/lma"',
    )
    profile_path = tmp_path / "profile.toml"
    profile_path.write_text(text)
    settings = Settings(
        profile=load_profile(profile_path),
        base="https://www.migrationsverket.se/lma",
        allowed_hosts=frozenset({"www.migrationsverket.se"}),
    )
    ref = parse_reference("https://www.migrationsverket.se/lma?id=AB12CD", settings)
    assert ref.url == "https://www.migrationsverket.se/lma?id=AB12CD" and ref.token == "AB12CD"
    assert parse_reference("AB12CD", settings).url == ref.url
    for bad in (
        "https://www.migrationsverket.se/lma?id=AB12CD&x=1",
        "https://www.migrationsverket.se/lma?other=AB12CD",
        "https://www.migrationsverket.se/lma/AB12CD",
    ):
        with pytest.raises(ParseError):
            parse_reference(bad, settings)


def test_python_api_check(monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator() as emu:
        for key, value in emu.env().items():
            monkeypatch.setenv(key, value)
        status = verify.check(emu.url("VALID0001"))
        assert status.validity.state == "valid" and status.exit_code == 0
        assert status.to_json()["document"]["kind"] == "lma"
        # A Scan from any driver works the same; one client reuses one connection.
        with LookupClient.from_env() as client:
            scan = Scan(payload=emu.url("NOINFO0001"), symbology="QRCODE", source="test")
            assert verify.check(scan, client=client).validity.state == "not_valid"
        # Garbage is a status saying so, never an exception and never valid.
        junk = verify.check("\x1b[2Jhello")
        assert junk.validity.state == "unknown" and junk.validity.basis == "not_a_card"
