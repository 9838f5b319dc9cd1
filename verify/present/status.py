"""Human text for a status: Swedish at the desk by default, English on request.

Every word comes from the catalogue (`verify.locale`). The core's English `detail` is for JSON
and logs; what a person reads is chosen by the outcome's stable `reason` code, so no English
sentence is ever matched by its prefix.
"""

from __future__ import annotations

from verify.locale import N_, _
from verify.model import Authenticity, Status, Validity
from verify.present.decision import render_decision

HEADLINE = {
    "valid": N_("VALID"),
    "not_valid": N_("NOT VALID"),
    "unknown": N_("CANNOT BE DETERMINED"),
}
DOCUMENT = {
    "lma": N_("LMA card"),
    "application": N_("Application card"),
    "ut": N_("UT card"),
    "passport": N_("Passport"),
    "unknown": N_("Unknown document"),
}
# The one sentence a person reads for each outcome; placeholders come from `Validity.facts`.
REASON = {
    "lookup_valid": N_("The Migration Agency's lookup service shows that the card is valid."),
    "lookup_no_information": N_(
        "The lookup service shows no information about the card: it is no longer valid "
        "(for example a refusal, or a residence permit granted)."
    ),
    "lma_number_only": N_(
        "An LMA number is not enough for a lookup: the code from the card's QR code or the "
        "address on the back of the card is needed."
    ),
    "lookup_timeout": N_("The lookup service did not answer within {seconds} s."),
    "lookup_interrupted": N_("The service stopped before the lookup service answered."),
    "interrupted": N_("The service stopped before the check finished; check the card by hand."),
    "lookup_unreachable": N_("The lookup service could not be reached."),
    "lookup_http_error": N_("The lookup service answered with an error."),
    "lookup_maintenance": N_("The lookup service shows a maintenance page."),
    "lookup_consent": N_("The lookup service shows a cookie page instead of an answer."),
    "lookup_redirect_refused": N_(
        "The lookup service sent the request on to an address that is not allowed."
    ),
    "lookup_too_large": N_("The lookup service's answer was unreasonably large."),
    "lookup_not_a_page": N_("The lookup service answered with something that is not a web page."),
    "lookup_unrecognised_page": N_(
        "Page not recognised — the lookup profile may be out of date."
    ),
    "lookup_ambiguous": N_(
        "Page not recognised — the lookup profile may be out of date. The page says neither "
        "valid nor no information."
    ),
    "ut_valid": N_(
        "UT card issued by Sweden, valid until {date} (the expiry date in the machine-readable "
        "zone; every check digit is correct)."
    ),
    "ut_expired": N_("The UT card expired on {date}."),
    "mrz_check_failed": N_(
        "The machine-readable zone did not read correctly ({fields}); read it again or check "
        "the card by eye."
    ),
    "not_a_ut_card": N_(
        "{what} issued by {issuer}, expiry date {date}: not a Swedish UT card, so it does not "
        "show temporary protection."
    ),
    "not_a_card": N_("What was scanned is not a card that can be checked."),
    "internal_error": N_("The check failed; check the card by hand."),
    "no_card": N_("No card was scanned: the decision rests on the facts given."),
}
FIELD = {
    "document_number": N_("document number"),
    "birth_date": N_("birth date"),
    "expiry_date": N_("expiry date"),
    "optional_data": N_("personal number"),
    "composite": N_("the whole zone"),
    "birth_date_unreadable": N_("birth date unreadable"),
    "expiry_date_unreadable": N_("expiry date unreadable"),
    "sex_unreadable": N_("sex unreadable"),
    "name_missing": N_("name missing"),
}
# The chip (docs/chip.md): one headline per state and one sentence per reason.
CHIP_STATE = {
    "verified": N_("Chip: GENUINE — the card's signature checks out"),
    "altered": N_("Chip: ALTERED — the card's data does not match the chip"),
    "untrusted": N_("Chip: intact, but its signer is not trusted"),
    "failed": N_("Chip: COULD NOT BE READ"),
    "not_read": N_("Chip: not read"),
}
CHIP_REASON = {
    "chip_verified": N_(
        "The chip's signature is valid and leads to a trusted country signing CA ({issuer}); "
        "the printed zone matches the chip."
    ),
    "dg_hash_mismatch": N_(
        "The zone stored in the chip does not match its signature: the chip's data has been "
        "changed."
    ),
    "sod_signature_invalid": N_("The signature over the chip's data is not valid."),
    "zone_differs": N_("The printed zone differs from the chip ({fields})."),
    "chip_not_original": N_(
        "The chip could not prove it is the original (Active Authentication failed): it may be "
        "a copy."
    ),
    "no_trust_store": N_(
        "No trust store is installed, so who signed the chip cannot be checked: install the "
        "country signing CA certificates (CSCA) or a CSCA master list (docs/chip.md)."
    ),
    "csca_unknown": N_(
        "The chip is signed, but by no country signing CA in the trust store ({issuer}): "
        "install that country's CSCA certificate or a current master list (docs/chip.md)."
    ),
    "signer_expired": N_("The document signer's certificate expired on {date}."),
    "signer_not_yet_valid": N_("The document signer's certificate is not valid until {date}."),
    "csca_expired": N_(
        "The country signing CA ({issuer}) is outside its validity dates: install its current "
        "certificate."
    ),
    "signer_revoked": N_("The document signer's certificate has been revoked."),
    "access_denied": N_(
        "The chip refused access with the key from the machine-readable zone: the zone was "
        "probably misread — read it again. If it still fails, the printed zone does not belong "
        "to this chip."
    ),
    "not_emrtd": N_("The card on the reader is not a travel document's chip."),
    "file_missing": N_("The chip lacks a file that every travel document has."),
    "chip_error": N_("The chip answered with something that cannot be read."),
    "chip_data_malformed": N_("The chip's security data cannot be read."),
    "unsupported_algorithm": N_(
        "The chip's signature uses an algorithm this program does not support."
    ),
    "chip_timeout": N_(
        "The chip was not read within {seconds} s: hold the card still on the reader and try "
        "again."
    ),
    "no_reader": N_(
        "No card reader was found: connect a contactless reader (and check that the smart-card "
        "service is running)."
    ),
    "no_card": N_("No card was placed on the reader in time: place the card on the reader."),
    "card_removed": N_(
        "The card was taken off the reader during the reading: place it on the reader again "
        "and hold it still."
    ),
    "reader_error": N_("The card reader failed."),
    "zone_unreadable": N_(
        "The machine-readable zone did not read correctly, so the chip cannot be opened: read "
        "the zone again."
    ),
    "no_zone": N_("What was read has no machine-readable zone, so there is no chip to open."),
}
ZONE_FIELD = {
    "names": N_("name"),
    "sex": N_("sex"),
    "nationality": N_("nationality"),
    "document_code": N_("document code"),
    "issuing_state": N_("issuing state"),
    "check_digits": N_("check digits"),
    "format": N_("zone format"),
}
WHAT = {
    "passport": N_("A passport"),
    "residence_permit": N_("A residence permit"),
    "id_card": N_("An identity card"),
}


def render_detail(validity: Validity, lang: str = "sv") -> str:
    """The sentence for this outcome in `lang`; an outcome without a code shows no sentence
    rather than English in a Swedish screen."""
    template = REASON.get(validity.reason)
    if template is None:
        return _("The check gave no explanation.", lang)
    facts = dict(validity.facts)
    if "fields" in facts:
        facts["fields"] = ", ".join(_(FIELD.get(f, f.replace("_", " ")), lang)
                                    for f in facts["fields"].split(",") if f)
    if "what" in REASON[validity.reason]:
        facts["what"] = _(WHAT.get(facts.get("kind", "")) or N_("A document"), lang)
    needed = {"seconds", "date", "fields", "what", "issuer"}
    params = {k: facts.get(k, "?") for k in needed if "{" + k + "}" in template}
    return _(template, lang, **params)


def render_authenticity(auth: Authenticity, lang: str = "sv") -> str:
    """Two short lines for the chip: what it says, and the sentence for why."""
    template = CHIP_REASON.get(auth.reason, N_("The check gave no explanation."))
    facts = dict(auth.facts)
    if "fields" in facts:
        facts["fields"] = ", ".join(_(ZONE_FIELD.get(f) or FIELD.get(f, f.replace("_", " ")),
                                      lang) for f in facts["fields"].split(",") if f)
    params = {k: facts.get(k, "?") for k in ("issuer", "date", "fields", "seconds")
              if "{" + k + "}" in template}
    text = _(CHIP_STATE[auth.state], lang) + "\n" + _(template, lang, **params)
    if auth.state == "verified" and facts.get("clone_check") == "passed":
        text += " " + _("The chip also proved it is the original (Active Authentication).", lang)
    return text


def render_refusal(message: str, lang: str = "sv") -> str:
    """A refused input, for the desk: the reason, already in `lang` (see verify.locale.localise)."""
    return _("REFUSED — this is not a card that can be checked ({why}).", lang, why=message)


def render_status(status: Status, *, lang: str = "sv", verbose: bool = False) -> str:
    """Headline, the outcome's sentence, the card's facts, then the decision when there is one."""
    v, d = status.validity, status.document
    lines = [f"{_(HEADLINE[v.state], lang)} — {_(DOCUMENT.get(d.kind, d.kind), lang)}"]
    lines.append(render_detail(v, lang))
    if status.authenticity is not None:
        lines.append(render_authenticity(status.authenticity, lang))
    unconfirmed = unconfirmed_line(v, lang)
    if unconfirmed:
        lines.append(unconfirmed)
    if d.lma_number:
        serial = (" (" + _("card serial {serial}", lang, serial=d.card_serial) + ")"
                  if d.card_serial else "")
        lines.append(_("LMA number: {number}", lang, number=d.lma_number) + serial)
    mrz = d.mrz or {}
    names = mrz.get("names")
    if isinstance(names, dict):
        full = " ".join(x for x in (names.get("given_names"), names.get("surname")) if x)
        lines.append(_("Name (from the machine-readable zone): {name}", lang, name=full or "–"))
    if mrz.get("expiry_date"):
        # A date whose check digit failed is what was read, never "valid until".
        trusted = mrz.get("checks", {}).get("expiry_date") is True and \
            "expiry_date_unreadable" not in mrz.get("problems", [])
        if not trusted:
            lines.append(_("Expiry date as read (its check digit is not correct): {date}",
                           lang, date=mrz["expiry_date"]))
        elif v.state in ("valid", "not_valid"):
            lines.append(_("Valid until: {date}", lang, date=mrz["expiry_date"]))
        else:
            lines.append(_("Expiry date: {date}", lang, date=mrz["expiry_date"]))
    if v.state == "valid" and v.right_to_work is not None:
        lines.append(_("Right to work (AT-UND): yes", lang) if v.right_to_work
                     else _("Right to work (AT-UND): no", lang))
    if v.state != "valid" and v.manual_check_url:
        lines.append(_("Check by hand in a browser: {url}", lang, url=v.manual_check_url))
    if verbose:
        lines.append(_("Checked: {when} ({basis})", lang,
                       when=v.checked_at.isoformat(timespec="seconds"), basis=v.basis))
    if status.decision is not None:
        lines.append("")
        lines.append(render_decision(status.decision, lang=lang, verbose=verbose))
    return "\n".join(lines)


def unconfirmed_line(validity: Validity, lang: str) -> str:
    """One line while the lookup profile that read the page is unconfirmed, else empty."""
    profile = validity.profile
    if profile is None or profile.confirmed:
        return ""
    return _(
        "Note: lookup profile {name} is unconfirmed — its page wording has not been checked "
        "against real cards (verify profile learn).",
        lang,
        name=profile.name,
    )
