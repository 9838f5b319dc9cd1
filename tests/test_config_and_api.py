"""Settings from a config file and the environment; the stable Python API."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

import verify
from drivers.scan import Scan
from verify.cards.reference import parse_reference
from verify.desk.config import LOOKUP_KEYS as DESK_LOOKUP_KEYS
from verify.desk.config import DaemonConfig
from verify.errors import ConfigError, ParseError
from verify.lookup.client import LookupClient
from verify.lookup.emulator import Emulator
from verify.lookup.profile import load_profile
from verify.lookup.settings import DAEMON_KEYS, LOOKUP_KEYS, Settings


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


# -- strict configuration: every key known, every error naming where the value came from ------


@pytest.mark.parametrize("text, message", [
    ("lookup_timout = 3\n", r"unknown setting 'lookup_timout'; did you mean 'lookup_timeout'\?"),
    ("alowed_hosts = ['x']\n", r"did you mean 'allowed_hosts'\?"),
    ("[daemon]\nclear_afterr = 3\n", r"\[daemon\]: unknown setting 'clear_afterr'; did you mean "
     r"'clear_after'\?"),
    ("colour = 'red'\n", r"unknown setting 'colour'; known: "),
])
def test_an_unknown_key_is_an_error_naming_it_and_the_closest_known(tmp_path: Path, text: str,
                                                                    message: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        Settings.from_env(env={"VERIFY_CONFIG": str(config)})
    assert str(config) in str(err.value)


def test_errors_name_the_file_and_key_or_the_variable_the_value_came_from(
        tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('lookup_timeout = "soon"\nlang = "de"\n')
    with pytest.raises(ConfigError, match=f"lookup_timeout in {config} must be seconds"):
        Settings.from_env(env={"VERIFY_CONFIG": str(config)})
    with pytest.raises(ConfigError, match="^VERIFY_LOOKUP_TIMEOUT must be seconds"):
        Settings.from_env(env={"VERIFY_LOOKUP_TIMEOUT": "soon"})
    config.write_text('lang = "de"\n')
    with pytest.raises(ConfigError, match=f"lang in {config} must be sv or en"):
        Settings.from_env(env={"VERIFY_CONFIG": str(config)})


def test_a_folder_given_as_the_config_is_said_as_such(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder, not a file"):
        Settings.from_env(env={"VERIFY_CONFIG": str(tmp_path)})


def test_a_0_1_host_list_for_lma_cards_alone_says_exactly_what_to_add(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('lookup_base = "https://proxy.region.se/lmakort/"\n'
                      'allowed_hosts = ["proxy.region.se"]\n')
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env={"VERIFY_CONFIG": str(config)})
    assert str(err.value).startswith(f"allowed_hosts in {config} does not include "
                                     "'www.migrationsverket.se', the host of the application "
                                     "card's lookup")
    config.write_text('lookup_base = "https://proxy.region.se/lmakort/"\n'
                      'allowed_hosts = ["proxy.region.se", "www.migrationsverket.se"]\n')
    settings = Settings.from_env(env={"VERIFY_CONFIG": str(config)})
    assert settings.base == "https://proxy.region.se/lmakort/"


def test_the_config_keys_are_the_daemon_s_and_the_lookup_s() -> None:
    assert DAEMON_KEYS == {f.name for f in fields(DaemonConfig)}
    assert DESK_LOOKUP_KEYS <= LOOKUP_KEYS
