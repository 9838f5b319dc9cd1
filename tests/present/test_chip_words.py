"""The chip's words and colours for people: every reason has its sentence in both languages,
altered is red on the desk page and in the camera banner, and a chip that did not vouch for a
valid card is amber."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.support_chip_pki import ut_zone
from verify.cards.mrz import mrz_status, parse_mrz
from verify.desk.view import desk_view
from verify.locale import catalogue
from verify.model import Authenticity
from verify.present.preview import banner_for
from verify.present.status import CHIP_REASON, CHIP_STATE, render_authenticity, render_status

NOW = datetime.now(UTC)
SCHEMA_REASONS = (
    "chip_verified dg_hash_mismatch sod_signature_invalid zone_differs chip_not_original "
    "no_trust_store csca_unknown "
    "signer_expired signer_not_yet_valid csca_expired signer_revoked access_denied not_emrtd "
    "file_missing chip_error chip_data_malformed unsupported_algorithm chip_timeout no_reader "
    "no_card card_removed reader_error zone_unreadable no_zone").split()


def _status(state: str, reason: str, **facts: str):
    base = mrz_status(parse_mrz(ut_zone()), today=NOW.date())
    auth = Authenticity(state=state, reason=reason, detail="x", checked_at=NOW,  # type: ignore[arg-type]
                        facts=tuple(facts.items()))
    return replace(base, authenticity=auth)


def test_every_reason_in_the_schema_has_a_sentence_in_swedish() -> None:
    assert set(CHIP_REASON) == set(SCHEMA_REASONS)
    sv = catalogue("sv")
    assert all(CHIP_REASON[r] in sv for r in SCHEMA_REASONS)
    assert all(CHIP_STATE[s] in sv for s in CHIP_STATE)


def test_altered_is_red_everywhere_with_the_words_staff_know() -> None:
    status = _status("altered", "zone_differs", fields="names,expiry_date")
    text = render_status(status, lang="sv")
    assert "kortets uppgifter stämmer inte med chipet" in text
    assert "Den tryckta zonen skiljer sig från chipet (namn, " in text
    assert desk_view(status, lang="sv")["tone"] == "not_valid"
    banner = banner_for(status, "sv")
    assert banner.state == "not_valid" and "stämmer inte med chipet" in banner.text
    assert status.exit_code == 3 and status.validity.state == "valid"


@pytest.mark.parametrize("state,reason", [("untrusted", "csca_unknown"),
                                          ("failed", "card_removed"),
                                          ("not_read", "zone_unreadable")])
def test_a_valid_card_whose_chip_did_not_vouch_is_amber_and_exit_3(state, reason) -> None:
    status = _status(state, reason, issuer="SE")
    assert desk_view(status, lang="en")["tone"] == "unknown"
    assert banner_for(status, "en").state == "unknown"
    assert status.exit_code == 3


def test_verified_stays_green_and_names_the_issuer() -> None:
    status = _status("verified", "chip_verified", issuer="SE")
    assert desk_view(status, lang="sv")["tone"] == "valid" and status.exit_code == 0
    assert "(CSCA, SE)" in render_authenticity(status.authenticity, "sv")
    assert "Chip: GENUINE" in render_authenticity(status.authenticity, "en")


def test_untrusted_says_what_to_install_in_both_languages() -> None:
    status = _status("untrusted", "no_trust_store")
    assert "install" in render_authenticity(status.authenticity, "en")
    assert "installera" in render_authenticity(status.authenticity, "sv")
