"""Where settings are looked for, per operating system (docs/platforms.md).

`$VERIFY_CONFIG` names the file outright. Otherwise the user's, then the machine's settings
directory as the platform defines it (platformdirs: `~/.config/verify` and `/etc/xdg/verify` on
Linux, `~/Library/Application Support/verify` on macOS, `%LOCALAPPDATA%\\verify` and
`%PROGRAMDATA%\\verify` on Windows). On Linux and other Unix systems `/etc/verify/config.toml`,
where the desk installation keeps its settings, is looked at last, as it always was.
"""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

APP = "verify"
CONFIG_NAME = "config.toml"


def user_config_dir() -> Path:
    """The user's settings folder (learnt lookup profiles live in its `profiles/`)."""
    return platformdirs.user_config_path(APP, appauthor=False)


def user_cache_dir() -> Path:
    """The user's cache folder (the zone reader's glyph templates: nothing from a card)."""
    return platformdirs.user_cache_path(APP, appauthor=False)


def config_candidates() -> list[Path]:
    """The settings files to try, first match wins."""
    out = [
        user_config_dir() / CONFIG_NAME,
        platformdirs.site_config_path(APP, appauthor=False) / CONFIG_NAME,
    ]
    if sys.platform != "win32":
        out.append(Path("/etc") / APP / CONFIG_NAME)
    return list(dict.fromkeys(out))
