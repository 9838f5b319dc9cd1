"""Settings files that cannot hurt: a device, a FIFO, a huge or deeply nested file is one clear
sentence (exit 2), never a hang, a MemoryError or a RecursionError."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, run_verify, verify_env
from verify.errors import ConfigError
from verify.tomlfile import MAX_BYTES, MAX_DEPTH, read_toml

SHIPPED = Path(__file__).resolve().parents[1] / "verify" / "lookup" / "profiles" / "lma.toml"


def test_a_regular_small_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text('a = 1\n[b]\nc = ["x"]\n')
    assert read_toml(path) == {"a": 1, "b": {"c": ["x"]}}


@pytest.mark.parametrize("text, words", [
    ("a = " + "[" * 5000 + "]" * 5000, "levels deep"),
    ("a = " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "levels deep"),
    ("a = " + "{b = " * 3000 + "1" + "}" * 3000, "levels deep"),
    ("a = [[[", "not valid TOML"),
])
def test_nesting_and_syntax_are_one_sentence(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=words):
        read_toml(path)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * MAX_BYTES + "\n")
    with pytest.raises(ConfigError, match="larger than"):
        read_toml(path)


def test_devices_fifos_and_folders_are_not_settings_files(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    started = time.monotonic()
    for path in (fifo, link, tmp_path, Path("/dev/zero")):
        with pytest.raises(ConfigError, match="not a regular file"):
            read_toml(path)
    assert time.monotonic() - started < 1.0


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "G\xf6teborg"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_toml(path)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('[]{}="a.b,=\n 1\'#')), max_size=400))
def test_any_text_is_a_table_or_a_config_error(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("t") / "x.toml"
    path.write_text(text)
    try:
        assert isinstance(read_toml(path), dict)
    except ConfigError:
        pass


def _profiles_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    config = tmp_path / "config.toml"
    config.write_text("")
    folder = tmp_path / "profiles"
    folder.mkdir()
    return folder, {"VERIFY_CONFIG": str(config), "VERIFY_LANG": "en"}


def test_a_profile_symlinked_to_dev_zero_is_refused_at_once(tmp_path: Path) -> None:
    folder, env = _profiles_folder(tmp_path)
    (folder / "lma.toml").symlink_to("/dev/zero")
    started = time.monotonic()
    done = run_verify("profile", "show", env=env, timeout=30)
    assert time.monotonic() - started < 10
    assert done.returncode == 2
    assert "is not a regular file" in done.stderr and "Traceback" not in done.stderr


def test_a_fifo_in_the_profiles_folder_does_not_hang_the_command(tmp_path: Path) -> None:
    folder, env = _profiles_folder(tmp_path)
    os.mkfifo(folder / "lma.toml")
    done = run_verify("profile", "show", env=env, timeout=30)
    assert done.returncode == 2
    assert "is not a regular file" in done.stderr


def test_deeply_nested_config_is_one_sentence_not_a_recursion_error(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("region = " + "[" * 100_000 + "]" * 100_000 + "\n")
    done = run_verify("profile", "show", env={"VERIFY_CONFIG": str(config), "VERIFY_LANG": "sv"})
    assert done.returncode == 2
    assert "RecursionError" not in done.stderr and "Traceback" not in done.stderr
    assert "nivåer" in done.stderr  # said in Swedish by default


def test_an_unreadable_profiles_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    """It once fell back to the shipped profile without a word. Run as an unprivileged user
    (root reads any folder)."""
    folder, env = _profiles_folder(tmp_path)
    (folder / "lma.toml").write_text(SHIPPED.read_text("utf-8"))
    folder.chmod(0o300)  # can enter and write, cannot list
    tmp_path.chmod(0o755)
    for parent in tmp_path.parents:
        if parent.stat().st_mode & 0o005 != 0o005:
            parent.chmod(parent.stat().st_mode | 0o005)
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    done = subprocess.run([*prefix, sys.executable, "-m", "verify", "profile", "show"],
                          env=verify_env(env), capture_output=True, text=True, cwd=REPO,
                          timeout=60)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert f"cannot read the profiles folder {folder}" in done.stderr
