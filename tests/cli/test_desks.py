"""`verify desk add|link|list|revoke|site|serve` as a person uses them: real processes, exit
code 2 and one clear sentence for bad input, nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support_desks import desk_cli


def test_add_prints_a_one_time_link_and_list_shows_the_desk(tmp_path: Path) -> None:
    folder = str(tmp_path / "desks")
    done = desk_cli("add", "reception 2", "--site", "VC Tensta", "--region", "stockholm",
                    "--url", "https://verify.region.se/", "--desks", folder)
    assert done.returncode == 0, done.stderr
    assert "Disken reception 2 (VC Tensta) är tillagd" in done.stdout
    link = done.stdout.strip().splitlines()[-1]
    assert link.startswith("https://verify.region.se/enrol/e1.")
    listed = json.loads(desk_cli("list", "--json", "--desks", folder).stdout)
    assert [(d["name"], d["site"], d["region"], d["path"].startswith("/s/vc-tensta/"))
            for d in listed] == [("reception 2", "VC Tensta", "stockholm", True)]
    # The same desk again is refused; a new link for it is `verify desk link`.
    again = desk_cli("add", "reception 2", "--site", "VC Tensta", "--desks", folder,
                     "--url", "https://v.se")
    assert again.returncode == 2 and "verify desk link" in again.stderr
    other = desk_cli("link", "reception 2", "--desks", folder, "--url", "https://v.se")
    assert other.returncode == 0 and other.stdout.startswith("https://v.se/enrol/e1.")
    assert other.stdout.strip() != link.split("/", 3)[3]


def test_site_settings_apply_to_desks_without_their_own_and_revoke_marks_it(
    tmp_path: Path,
) -> None:
    folder = str(tmp_path / "desks")
    desk_cli("add", "r1", "--site", "VC Rinkeby", "--desks", folder, "--url", "https://v.se")
    done = desk_cli("site", "VC Rinkeby", "--region", "skane", "--screen-lang", "en",
                    "--desks", folder, "--lang", "en")
    assert done.returncode == 0 and "Site VC Rinkeby: region skane, language en." in done.stdout
    assert "skane\ten" in desk_cli("list", "--desks", folder).stdout
    done = desk_cli("revoke", "r1", "--desks", folder)
    assert done.returncode == 0 and "spärrad" in done.stdout
    assert "spärrad" in desk_cli("list", "--desks", folder).stdout
    gone = desk_cli("revoke", "r1", "--desks", folder)
    assert gone.returncode == 2 and "ingen disk 'r1'" in gone.stderr


def test_bad_input_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    folder = str(tmp_path / "desks")
    cases = [
        (("add", "r1", "--site", "S", "--region", "lappland"), "okänd region 'lappland'"),
        (("add", "r1", "--site", "S", "--screen-lang", "de"), "--screen-lang måste vara sv"),
        (("add", "r1", "--site", "S", "--valid-for", "0"), "--valid-for måste vara"),
        (("add", "r1", "--site", "S", "--url", "ftp://x"), "--url måste börja med https://"),
        (("add", "", "--site", "S"), "en disk behöver ett namn"),
        (("add", "r1", "--site", "S"), "ange --url"),
        (("serve",), "ingen disknyckel"),
    ]
    for args, words in cases:
        done = desk_cli(*args, "--desks", folder)
        assert done.returncode == 2, (args, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "desks" / "desks.json").exists()  # nothing half-written
    desk_cli("add", "r1", "--site", "S", "--desks", folder, "--url", "https://v.se")
    (tmp_path / "desks" / "desks.json").write_text("{not json")
    for args in (("list",), ("serve",)):
        done = desk_cli(*args, "--desks", folder, "--lang", "en")
        assert done.returncode == 2 and "is damaged" in done.stderr, done.stderr
    done = desk_cli("serve", "--desks", folder, "--trusted-proxy", "nginx.local")
    assert done.returncode == 2
