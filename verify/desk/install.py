"""Install the desk service files (systemd unit, udev rule, example settings) under a root.

The files are package data (`verify/desk/packaging/`, also `packaging/` in a checkout), so the
wheel carries them and the docs show the same files. Like a package manager's conffiles, every
file written carries a first line with the hash of the rest: a file whose hash still matches was
not edited and may be replaced by a newer version; an edited file is never overwritten. The
example settings are written once and then left to the site.

It runs as root into /etc, so it trusts nothing it finds under the root: every folder and file
is opened relative to its parent's descriptor without following a symbolic link (`O_NOFOLLOW`),
a file is written only over a regular file, through a fresh temporary file created exclusively
(a planted `*.verify-new` link is refused, not followed) and renamed into place. The unit's
`ExecStart` is quoted by systemd's rules; a path with a control character is refused.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import stat
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
RULE_OFF = (
    "# OFF: no scanner id was given, so the rules below match nothing. Find the scanner's\n"
    "# VENDOR:PRODUCT with `lsusb` and run `verify desk install-service --scanner-usb-id\n"
    "# VENDOR:PRODUCT`; it writes them here and turns the rules on.\n"
)
MAX_EXISTING = 1 << 20  # an installed file is a few KiB; more is not ours
TMP_SUFFIX = ".verify-new"
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


def exec_path(path: Path) -> str:
    """The command's path as the first word of `ExecStart=`, read back by systemd as it is
    (systemd.service(5), systemd.syntax(7)): `%` doubled (specifiers), quoted when it holds a
    space or `;`. systemd refuses a command path with a quote or a backslash, and a control
    character (a newline would start a new setting): such a path is refused here, in a sentence."""
    text = str(path)
    if not path.is_absolute() or any(
        (not ch.isprintable() and ch != " ") or ch in "\"'\\" for ch in text
    ):
        raise ConfigError(_("the path {path} cannot be the service's command: systemd wants an "
                            "absolute path without control characters, quotes or backslashes; "
                            "install verify under a plain path", path=ascii(text)))
    word = text.replace("%", "%%")
    return f'"{word}"' if any(ch in text for ch in " ;") else word


def render(name: str, *, script: Path, usb_id: tuple[str, str] | None) -> str:
    """The file as it will be written (without the header line)."""
    text = (PACKAGING / name).read_text("utf-8")
    if name == UNIT:
        text = text.replace(f"ExecStart={DEFAULT_SCRIPT} ", f"ExecStart={exec_path(script)} ")
    if name == RULE and usb_id is not None:
        text = text.replace(PLACEHOLDER_IDS[0], f'ATTRS{{idVendor}}=="{usb_id[0]}"')
        text = text.replace(PLACEHOLDER_IDS[1], f'ATTRS{{idProduct}}=="{usb_id[1]}"')
    elif name == RULE:
        # No ids: never the placeholders as a live rule; every rule is a comment until filled in.
        lines = [f"# {line}".replace(PLACEHOLDER_IDS[0], 'ATTRS{idVendor}=="VVVV"')
                 .replace(PLACEHOLDER_IDS[1], 'ATTRS{idProduct}=="PPPP"')
                 if line.startswith("SUBSYSTEM") else line for line in text.splitlines()]
        text = RULE_OFF + "\n".join(lines).replace("1234:5678", "VVVV:PPPP") + "\n"
    return text


def installed_usb_id(root: Path) -> tuple[str, str] | None:
    """The scanner ids an earlier install wrote into the rule, so a rerun keeps them."""
    target = TARGETS[RULE]
    try:
        folder = _open_folder(root, target.parent, create=False)
    except FileNotFoundError:
        return None
    try:
        text = _read(folder, root / target)
    finally:
        os.close(folder)
    if text is None:
        return None
    m = re.search(r'^SUBSYSTEM.*ATTRS\{idVendor\}=="([0-9a-f]{4})", '
                  r'ATTRS\{idProduct\}=="([0-9a-f]{4})"', text, re.MULTILINE)
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


def _refuse(path: Path, why: str) -> ConfigError:
    return ConfigError(_("refusing to write {path}: {why}; nothing was written",
                         path=str(path), why=why))


def _os_error(path: Path, exc: OSError) -> ConfigError:
    if isinstance(exc, PermissionError):
        return ConfigError(_("cannot write {path}: permission denied. Run it as root "
                             "(sudo verify desk install-service) or give --root a folder you "
                             "may write", path=str(path)))
    return ConfigError(_("cannot write {path}: {reason}", path=str(path),
                         reason=exc.strerror or type(exc).__name__))


def _open_folder(root: Path, rel: Path, *, create: bool) -> int:
    """A descriptor of root/rel, each step opened below the last without following a link.
    The root itself is what the caller named, link or not."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    here = root
    try:
        for part in rel.parts:
            here = here / part
            if create:
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _refuse(here, _("it is a symbolic link or not a folder")) from None
                raise
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read(folder: int, path: Path) -> str | None:
    """The text of a regular file in `folder`, None if there is none; anything else refused."""
    try:
        fd = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(path, _("it is a symbolic link")) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(path, _("it is not a regular file"))
        if info.st_size > MAX_EXISTING:
            raise _refuse(path, _("it is larger than an installed file can be"))
        return os.read(fd, MAX_EXISTING + 1).decode("utf-8", errors="replace")
    finally:
        os.close(fd)


def _check_tmp(folder: int, path: Path) -> bool:
    """Is a regular temporary file left beside `path` (an interrupted install)? Anything else
    there (a symbolic link, a folder, a device) is refused, never followed."""
    tmp = path.name + TMP_SUFFIX
    try:
        info = os.stat(tmp, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(path.with_name(tmp), _("a symbolic link or other file is in the way; "
                                             "remove it"))
    return True


def _write(folder: int, path: Path, content: str) -> None:
    """Write through a temporary file created exclusively beside it, then rename it in place."""
    tmp = path.name + TMP_SUFFIX
    if _check_tmp(folder, path):
        os.unlink(tmp, dir_fd=folder)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644,
                 dir_fd=folder)
    try:
        os.write(fd, content.encode("utf-8"))
        os.fchmod(fd, 0o644)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path.name, src_dir_fd=folder, dst_dir_fd=folder)


def install(root: Path, *, script: Path | None = None,
            usb_id: tuple[str, str] | None = None) -> list[Written]:
    """Write the files under `root`; refuse (ConfigError, nothing written) if the unit or the
    rule was edited since it was installed, or if anything on the way is not what it should be."""
    script = script or installed_script()
    here = root
    try:
        usb_id = usb_id or installed_usb_id(root)
        files = plan(root, script=script, usb_id=usb_id)
        existing: dict[Path, str | None] = {}
        for path, _content in files:
            here = path
            try:
                folder = _open_folder(root, path.parent.relative_to(root), create=False)
            except FileNotFoundError:
                existing[path] = None
                continue
            try:
                existing[path] = _read(folder, path)
                _check_tmp(folder, path)
            finally:
                os.close(folder)
        refused = [path for path, _content in files
                   if path.name != SETTINGS and existing[path] is not None
                   and edited(existing[path] or "")]
        if refused:
            raise ConfigError(_(
                "refusing to overwrite a changed file: {files} (edited after it was installed). "
                "Move it aside and run again, then carry your changes over (for the unit, "
                "`systemctl edit verify-daemon` keeps them in a drop-in that upgrades leave "
                "alone).", files=", ".join(str(p) for p in refused)))
        out: list[Written] = []
        for path, content in files:
            here = path
            old = existing[path]
            if old == content:
                out.append(Written(path, "unchanged"))
                continue
            if old is not None and path.name == SETTINGS:
                out.append(Written(path, "kept"))  # the site's own settings
                continue
            root.mkdir(parents=True, exist_ok=True)  # the root is the caller's: links allowed
            folder = _open_folder(root, path.parent.relative_to(root), create=True)
            try:
                _write(folder, path, content)
            finally:
                os.close(folder)
            out.append(Written(path, "written" if old is None else "replaced"))
        return out
    except OSError as exc:
        raise _os_error(here, exc) from None
