"""Lookup profiles per card kind: shipped unconfirmed, matched by host and path, never two."""

from __future__ import annotations

import dataclasses
import re
import time
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.cards.reference import parse_reference
from verify.errors import ConfigError, ParseError
from verify.lookup.profile import LookupProfile, check_no_overlap, shipped_profile
from verify.lookup.settings import Settings, config_dir, profiles_dir

LMA = "https://www.migrationsverket.se/lmakort/"
APPLICATION = "https://www.migrationsverket.se/ansokningskort/"


def isolated(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment whose config folder is empty (no learnt profiles of the machine)."""
    config = tmp_path / "config.toml"
    if not config.exists():
        config.write_text("")
    return {"VERIFY_CONFIG": str(config), **extra}


def test_both_card_kinds_ship_unconfirmed(tmp_path: Path) -> None:
    settings = Settings.from_env(env=isolated(tmp_path))
    kinds = {p.kind: p for p in settings.profiles}
    assert set(kinds) == {"lma", "application"}
    assert not any(p.confirmed for p in kinds.values())
    assert (kinds["lma"].base, kinds["application"].base) == (LMA, APPLICATION)


def test_an_address_belongs_to_the_one_profile_whose_host_and_path_it_fits(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env(env=isolated(tmp_path))
    lma = parse_reference(LMA + "AbCd1234", settings)
    application = parse_reference(APPLICATION + "AbCd1234", settings)
    assert (lma.kind, application.kind) == ("lma", "application")
    assert application.profile == "migrationsverket-application-unconfirmed"
    with pytest.raises(ParseError) as caught:
        parse_reference("https://www.migrationsverket.se/other/AbCd1234", settings)
    assert caught.value.reason == "path_not_lookup"


def test_a_typed_token_takes_its_card_kind_from_the_option_or_the_config(tmp_path: Path) -> None:
    settings = Settings.from_env(env=isolated(tmp_path))
    assert parse_reference("AbCd1234", settings).url == LMA + "AbCd1234"
    ref = parse_reference("AbCd1234", settings.for_card("application"))
    assert (ref.url, ref.kind) == (APPLICATION + "AbCd1234", "application")
    configured = Settings.from_env(env=isolated(tmp_path, VERIFY_CARD="application"))
    assert parse_reference("AbCd1234", configured).kind == "application"
    with pytest.raises(ConfigError, match="lma, application"):
        Settings.from_env(env=isolated(tmp_path, VERIFY_CARD="passport"))


def _write(path: Path, profile: LookupProfile) -> Path:
    path.write_text(profile.to_toml(), "utf-8")
    return path


def test_overlapping_profiles_are_a_configuration_error_at_load(tmp_path: Path) -> None:
    inner = dataclasses.replace(
        shipped_profile("application"), base=LMA + "ansokan/", name="inside-the-lma-path"
    )
    profile = _write(tmp_path / "app.toml", inner)
    with pytest.raises(ConfigError, match="overlap"):
        Settings.from_env(env=isolated(tmp_path, VERIFY_PROFILE=str(profile)))
    same_path = dataclasses.replace(inner, base=LMA, name="same-path")
    with pytest.raises(ConfigError, match="overlap"):
        check_no_overlap([shipped_profile("lma"), same_path])
    other_host = dataclasses.replace(
        inner, base="https://kort.example.se/lmakort/", allowed_hosts=("kort.example.se",)
    )
    check_no_overlap([shipped_profile("lma"), other_host])  # same path, other host: fine


def test_a_learnt_profile_in_the_config_folder_replaces_the_shipped_one(tmp_path: Path) -> None:
    env = isolated(tmp_path)
    assert config_dir(env) == tmp_path and profiles_dir(env) == tmp_path / "profiles"
    folder = profiles_dir(env)
    folder.mkdir()
    learnt = dataclasses.replace(
        shipped_profile("application"), name="region-confirmed", confirmed=True,
        confirmed_on="2026-12-01", note="two cards at Malmö reception",
    )
    _write(folder / "application.toml", learnt)
    kinds = {p.kind: p for p in Settings.from_env(env=env).profiles}
    assert kinds["application"].name == "region-confirmed" and kinds["application"].confirmed
    assert kinds["application"].source == str(folder / "application.toml")
    assert kinds["lma"].source == "shipped"
    _write(folder / "second.toml", dataclasses.replace(learnt, name="another"))
    with pytest.raises(ConfigError, match="two lookup profiles for the application card"):
        Settings.from_env(env=env)


def test_a_written_profile_reads_back_the_same(tmp_path: Path) -> None:
    profile = dataclasses.replace(
        shipped_profile("application"), confirmed=True, confirmed_on="2026-12-01",
        note='said "ok" \\ twice', source="x",
    )
    back = LookupProfile.from_mapping(tomllib.loads(profile.to_toml()), "test", source="x")
    assert back == profile


def test_an_unknown_card_kind_in_a_profile_is_refused(tmp_path: Path) -> None:
    text = shipped_profile("lma").to_toml().replace('kind = "lma"', 'kind = "passport"')
    (tmp_path / "p.toml").write_text(text)
    with pytest.raises(ConfigError, match="kind must be one of"):
        Settings.from_env(env=isolated(tmp_path, VERIFY_PROFILE=str(tmp_path / "p.toml")))


def test_the_origin_moves_every_shipped_profile_and_keeps_their_paths(tmp_path: Path) -> None:
    env = isolated(tmp_path, VERIFY_LOOKUP_ORIGIN="http://127.0.0.1:8088",
                   VERIFY_ALLOWED_HOSTS="127.0.0.1", VERIFY_ALLOW_LOOPBACK_HTTP="1")
    bases = sorted(p.base for p in Settings.from_env(env=env).profiles)
    assert bases == ["http://127.0.0.1:8088/ansokningskort/", "http://127.0.0.1:8088/lmakort/"]


_PATHS = st.sampled_from(["/lmakort/", "/ansokningskort/", "/lmakort/ansokningskort/", "/", ""])


@settings(derandomize=True, max_examples=300, deadline=None)
@given(path=_PATHS, token=st.text(max_size=20), query=st.sampled_from(["", "?kod=x", "#f"]))
def test_hostile_addresses_are_read_by_their_own_profile_or_refused(
    path: str, token: str, query: str
) -> None:
    settings_ = Settings(
        profile=shipped_profile("lma"), base=LMA,
        allowed_hosts=frozenset({"www.migrationsverket.se"}),
        others=(shipped_profile("application"),),
    )
    text = f"https://www.migrationsverket.se{path}{token}{query}"
    try:
        ref = parse_reference(text, settings_)
    except ParseError as exc:
        assert exc.reason and exc.message
        return
    profile = settings_.profile_named(ref.profile)
    assert ref.kind == profile.kind and ref.url.startswith(profile.base)
    assert ref.url == profile.base + ref.token


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30),
                    st.lists(st.text(max_size=10), max_size=3))


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    overrides=st.dictionaries(
        st.sampled_from(["name", "kind", "confirmed", "base", "allowed_hosts", "token_location",
                         "token_pattern", "max_body_bytes", "markers", "confirmed_on", "note"]),
        _VALUES, max_size=4,
    )
)
def test_a_hostile_profile_file_is_a_config_error_or_a_profile(overrides: dict) -> None:
    data = tomllib.loads(shipped_profile("application").to_toml())
    data.update(overrides)
    try:
        profile = LookupProfile.from_mapping(data, "hostile")
    except ConfigError as exc:
        assert "hostile" in str(exc)
        return
    assert profile.kind in ("lma", "application")
    assert profile.markers["valid"] and profile.markers["no_information"]


SHIPPED_TEXT = (Path(__file__).resolve().parents[2] / "verify" / "lookup" / "profiles"
                / "lma.toml").read_text("utf-8")


def _profile_file(tmp_path: Path, old: str, new: str) -> Path:
    assert old in SHIPPED_TEXT
    path = tmp_path / "hostile.toml"
    path.write_text(SHIPPED_TEXT.replace(old, new, 1))
    return path


HOSTILE_PROFILES = [
    # (what the red team changed, into what, words of the one sentence)
    ('token_pattern = "[A-Za-z0-9]{4,64}"', 'token_pattern = "(a+)+"', "exponential"),
    ('token_pattern = "[A-Za-z0-9]{4,64}"', 'token_pattern = "(a|ab)*c"', "exponential"),
    ("max_body_bytes = ", "max_body_bytes = 1e12\n# ", "max_body_bytes must be a whole number"),
    ("max_body_bytes = ", "max_body_bytes = 1000000000000\n# ", "from 1024 to 8388608"),
    ("max_body_bytes = ", "max_body_bytes = -1\n# ", "max_body_bytes must be a whole number"),
    ('allowed_hosts = ["www.migrationsverket.se"]', 'allowed_hosts = "www.migrationsverket.se"',
     "allowed_hosts must be a list"),
    ('base = "https://www.migrationsverket.se/lmakort/"',
     'base = "https://clerk:hunter2@www.migrationsverket.se/lmakort/"', "user name or password"),
]


@pytest.mark.parametrize("old, new, words", HOSTILE_PROFILES)
def test_a_hostile_profile_is_refused_on_load_in_one_sentence(
    tmp_path: Path, old: str, new: str, words: str
) -> None:
    path = _profile_file(tmp_path, old, new)
    started = time.monotonic()
    with pytest.raises(ConfigError, match=re.escape(words)) as caught:
        Settings.from_env(env={"VERIFY_PROFILE": str(path)})
    assert time.monotonic() - started < 1.0
    assert "hunter2" not in str(caught.value)


def test_a_profile_with_user_info_is_exit_2_and_never_prints_the_password(
    tmp_path: Path, verify_cli
) -> None:
    path = _profile_file(tmp_path, 'base = "https://www.migrationsverket.se/lmakort/"',
                         'base = "https://clerk:hunter2@www.migrationsverket.se/lmakort/"')
    done = verify_cli("lookup", "ABCD1234", "--json",
                      env={"VERIFY_PROFILE": str(path), "VERIFY_LANG": "en"})
    assert done.returncode == 2
    assert "hunter2" not in done.stdout + done.stderr
    assert "user name or password" in done.stderr


@pytest.mark.parametrize("base", ["https://10.1.2.3/lmakort/", "https://[2001:db8::1]/lmakort/",
                                  "https://203.0.113.9:8443/lmakort/"])
def test_an_ip_literal_base_for_typed_tokens_is_refused(base: str) -> None:
    host = base.split("/")[2].rsplit(":", 1)[0] if "[" not in base else "[2001:db8::1]"
    env = {"VERIFY_LOOKUP_BASE": base, "VERIFY_ALLOWED_HOSTS": host.strip("[]") + "," + host}
    with pytest.raises(ConfigError, match="IP address"):
        Settings.from_env(env=env)


def test_a_string_allowed_hosts_in_the_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('allowed_hosts = "www.migrationsverket.se"\n')
    with pytest.raises(ConfigError, match="must be a list"):
        Settings.from_env(env={"VERIFY_CONFIG": str(config)})


def test_a_token_longer_than_any_real_one_is_refused_before_its_pattern_runs() -> None:
    settings_ = Settings.from_env(env={})
    with pytest.raises(ParseError, match="longer than"):
        parse_reference("A" * 10_000, settings_)


@pytest.mark.parametrize("env", [
    {"VERIFY_LOOKUP_BASE": "https://clerk:hunter2@www.migrationsverket.se/lmakort/"},
    {"VERIFY_LOOKUP_ORIGIN": "https://clerk:hunter2@www.migrationsverket.se"},
])
def test_user_info_in_a_configured_base_is_refused_without_repeating_it(env) -> None:
    with pytest.raises(ConfigError, match="user name or password") as caught:
        Settings.from_env(env=env)
    assert "hunter2" not in str(caught.value)
