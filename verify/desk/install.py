"""Install the desk service files (systemd unit, udev rule, example settings) under a root.

The files are package data (`verify/desk/packaging/`, also `packaging/` in a checkout), so the
wheel carries them and the docs show the same files. Like a package manager's conffiles, every
file written carries a first line with the hash of the rest: a file whose hash still matches was
not edited and may be replaced by a newer version; an edited file is never overwritten. The
example settings are written once and then left to the site.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from verify.errors import ConfigError
from verify.locale import _
from verify.version import __version__

PACKAGING = Path(__file__).resolve().parent / "packaging"
UNIT = "verify-daemon.service"
RULE = "70-verify-scanner.rules"
SETTINGS = "daemon.toml"
# Where each file goes, relative to the root; the unit's ExecStart names the settings path.
TARGETS = {
    UNIT: Path("etc/systemd/system") / UNIT,
    RULE: Path("etc/udev/rules.d") / RULE,
    SETTINGS: Path("etc/verify") / SETTINGS,
}
DEFAULT_SCRIPT = "/opt/verify/venv/bin/verify"  # the documented layout, in the shipped unit
PLACEHOLDER_IDS = ('ATTRS{idVendor}=="1234"', 'ATTRS{idProduct}=="5678"')
HEADER = re.compile(r"# installed by verify-lma [^ ]+ sha256=([0-9a-f]{64})\n")


@dataclass(frozen=True)
class Written:
    path: Path
    action: str  # written | replaced | unchanged | kept


def installed_script() -> Path:
    """The `verify` command of the environment this runs from, not an assumed path."""
    name = "verify.exe" if sys.platform == "win32" else "verify"
    candidate = Path(sysconfig.get_path("scripts")) / name
    if candidate.is_file():
        return candidate
    found = shutil.which("verify")
    if found:
        return Path(found).resolve()
    raise ConfigError(_("cannot find the installed `verify` command; install the package "
                        "first (docs/reception-desk.md)"))


def parse_usb_id(text: str) -> tuple[str, str]:
    m = re.fullmatch(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})", text.strip())
    if not m:
        raise ConfigError(_("--scanner-usb-id wants VENDOR:PRODUCT in hex, e.g. 0c2e:0b61, "
                            "not {text}", text=repr(text)))
    return m.group(1).lower(), m.group(2).lower()


def render(name: str, *, script: Path, usb_id: tuple[str, str] | None) -> str:
    """The file as it will be written (without the header line)."""
    text = (PACKAGING / name).read_text("utf-8")
    if name == UNIT:
        text = text.replace(f"ExecStart={DEFAULT_SCRIPT} ", f"ExecStart={script} ")
    if name == RULE and usb_id is not None:
        text = text.replace(PLACEHOLDER_IDS[0], f'ATTRS{{idVendor}}=="{usb_id[0]}"')
        text = text.replace(PLACEHOLDER_IDS[1], f'ATTRS{{idProduct}}=="{usb_id[1]}"')
    return text


def installed_usb_id(path: Path) -> tuple[str, str] | None:
    """The scanner ids an earlier install wrote into the rule, so a rerun keeps them."""
    if not path.is_file():
        return None
    text = path.read_text("utf-8", errors="replace")
    m = re.search(r'ATTRS\{idVendor\}=="([0-9a-f]{4})", ATTRS\{idProduct\}=="([0-9a-f]{4})"',
                  text)
    if not m or (m.group(1), m.group(2)) == ("1234", "5678"):
        return None
    return m.group(1), m.group(2)


def with_header(body: str) -> str:
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return f"# installed by verify-lma {__version__} sha256={digest}\n{body}"


def edited(existing: str) -> bool:
    """True unless the file is exactly what an install wrote (any version)."""
    m = HEADER.match(existing)
    if not m:
        return True
    body = existing[m.end():]
    return hashlib.sha256(body.encode("utf-8")).hexdigest() != m.group(1)


def plan(root: Path, *, script: Path, usb_id: tuple[str, str] | None) -> list[tuple[Path, str]]:
    return [(root / TARGETS[name], with_header(render(name, script=script, usb_id=usb_id)))
            for name in (UNIT, RULE, SETTINGS)]


def install(root: Path, *, script: Path | None = None,
            usb_id: tuple[str, str] | None = None) -> list[Written]:
    """Write the files under `root`; refuse (ConfigError, nothing written) if the unit or the
    rule was edited since it was installed."""
    script = script or installed_script()
    usb_id = usb_id or installed_usb_id(root / TARGETS[RULE])
    files = plan(root, script=script, usb_id=usb_id)
    refused = [path for path, _ in files
               if path.name != SETTINGS and path.is_file()
               and edited(path.read_text("utf-8", errors="replace"))]
    if refused:
        raise ConfigError(_(
            "refusing to overwrite a changed file: {files} (edited after it was installed). "
            "Move it aside and run again, then carry your changes over (for the unit, "
            "`systemctl edit verify-daemon` keeps them in a drop-in that upgrades leave alone).",
            files=", ".join(str(p) for p in refused)))
    out: list[Written] = []
    for path, content in files:
        if path.is_file():
            old = path.read_text("utf-8", errors="replace")
            if old == content:
                out.append(Written(path, "unchanged"))
                continue
            if path.name == SETTINGS:
                out.append(Written(path, "kept"))  # the site's own settings
                continue
            action = "replaced"
        else:
            action = "written"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".verify-new")
        tmp.write_text(content, "utf-8")
        tmp.chmod(0o644)
        tmp.replace(path)
        out.append(Written(path, action))
    return out
