"""Both card kinds through `verify card` and `verify lookup`: kind, schema, the unconfirmed line,
and the region's decision (a valid application card is an asylum seeker's card everywhere)."""

from __future__ import annotations

import pytest

from tests.cli.test_card import status_of
from verify.rules import regions


@pytest.mark.parametrize("command", ["card", "lookup"])
@pytest.mark.parametrize(
    "kind, token, code, state, work",
    [
        ("lma", "VALID0001", 0, "valid", True),
        ("application", "VALID0001", 0, "valid", True),
        ("application", "NOWORK0001", 0, "valid", False),
        ("application", "NOINFO0001", 1, "not_valid", None),
        ("application", "LAYOUT0001", 3, "unknown", None),
    ],
)
def test_scanned_addresses_of_both_kinds_name_their_kind_and_validate(
    emu, verify_cli, command, kind, token, code, state, work
) -> None:
    url = emu.application_url(token) if kind == "application" else emu.url(token)
    args = ("card", "--url", url) if command == "card" else ("lookup", url)
    result = verify_cli(*args, "--json", env=emu.env())
    assert result.returncode == code, result.stderr
    status = status_of(result)
    assert status["document"]["kind"] == kind
    assert status["document"]["lma_number"] is None
    assert (status["validity"]["state"], status["validity"]["right_to_work"]) == (state, work)
    assert status["validity"]["profile"] == {
        "name": f"migrationsverket-{kind}-unconfirmed", "confirmed": False}


def test_a_typed_token_is_an_application_card_with_card_application(emu, verify_cli) -> None:
    for args in (("card", "--token", "VALID0001"), ("lookup", "VALID0001")):
        result = verify_cli(*args, "--card", "application", "--json", env=emu.env())
        status = status_of(result)
        assert status["document"]["kind"] == "application"
        assert status["document"]["lookup_url"] == emu.application_url("VALID0001")
    default = status_of(verify_cli("lookup", "VALID0001", "--json", env=emu.env()))
    assert default["document"]["kind"] == "lma"
    configured = verify_cli("lookup", "VALID0001", "--json",
                            env={**emu.env(), "VERIFY_CARD": "application"})
    assert status_of(configured)["document"]["kind"] == "application"
    bad = verify_cli("card", "--token", "VALID0001", "--card", "passport", env=emu.env())
    assert bad.returncode == 2 and "lma eller application" in bad.stderr


@pytest.mark.parametrize("command", ["card", "lookup"])
def test_human_output_says_once_that_the_profile_is_unconfirmed(emu, verify_cli, command) -> None:
    url = emu.application_url("VALID0001")
    args = ("card", "--url", url) if command == "card" else ("lookup", url)
    sv = verify_cli(*args, env=emu.env())
    assert sv.returncode == 0
    assert sv.stdout.startswith("GILTIGT — Ansökningskort")
    assert sv.stdout.count("uppslagsprofilen migrationsverket-application-unconfirmed är "
                           "obekräftad") == 1
    en = verify_cli(*args, "--lang", "en", env=emu.env())
    assert en.stdout.startswith("VALID — Application card")
    assert en.stdout.count("is unconfirmed") == 1


def test_a_changed_page_fails_closed_with_the_manual_address(emu, verify_cli) -> None:
    url = emu.application_url("LAYOUT0001")
    result = verify_cli("card", "--url", url, "--lang", "en", env=emu.env())
    assert result.returncode == 3
    assert "Page not recognised — the lookup profile may be out of date." in result.stdout
    assert url in result.stdout


@pytest.mark.parametrize("region", [r.name for r in regions()])
def test_a_valid_application_card_is_an_asylum_seekers_card_in_every_region(
    emu, verify_cli, region
) -> None:
    result = verify_cli("card", "--url", emu.application_url("VALID0001"), "--region", region,
                        "--age", "30", "--json", env=emu.env())
    lma = verify_cli("card", "--url", emu.url("VALID0001"), "--region", region,
                     "--age", "30", "--json", env=emu.env())
    application, reference = status_of(result), status_of(lma)
    assert application["decision"]["category"] == "asylum_seeker"
    assert application["decision"]["entitlement"] == reference["decision"]["entitlement"]
