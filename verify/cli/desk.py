"""`verify desk …`: setting a reception-desk computer up (docs/reception-desk.md)."""

from pathlib import Path
from typing import Annotated

import typer

from verify.cli.app import app
from verify.desk.install import install, installed_script, installed_usb_id, parse_usb_id
from verify.locale import _

desk_app = typer.Typer(
    no_args_is_help=True,
    help="Set up a reception-desk computer: the service, the scanner rule, the settings.",
)
app.add_typer(desk_app, name="desk")


@desk_app.command("install-service")
def install_service(
    root: Annotated[Path, typer.Option(
        "--root", help="write under this directory instead of / (staging, images, tests)",
        file_okay=False)] = Path("/"),
    scanner_usb_id: Annotated[str | None, typer.Option(
        "--scanner-usb-id", help="VENDOR:PRODUCT of the scanner for the udev rule, e.g. 0c2e:0b61",
    )] = None,
) -> None:
    """Write the systemd unit, the udev rule and example settings; print each file written.

    An edited unit or rule is never overwritten; the settings file is written only once.
    """
    usb_id = parse_usb_id(scanner_usb_id) if scanner_usb_id else None
    script = installed_script()
    for w in install(root, script=script, usb_id=usb_id):
        label = {
            "written": _("written"),
            "replaced": _("replaced (it was not edited since it was installed)"),
            "unchanged": _("unchanged"),
            "kept": _("kept (your own settings; the example was not written)"),
        }[w.action]
        typer.echo(f"{w.path}: {label}")
    typer.echo(_("The service runs {script}.", script=script))
    if installed_usb_id(root) is None:
        typer.echo(_("No scanner id given: the udev rule is written switched off (it matches "
                     "nothing). Find the scanner's VENDOR:PRODUCT with `lsusb` and run again "
                     "with --scanner-usb-id VENDOR:PRODUCT."))
    if root == Path("/"):
        typer.echo(_("Next: sudo systemctl daemon-reload && sudo udevadm control --reload && "
                     "sudo systemctl enable --now verify-daemon"))
