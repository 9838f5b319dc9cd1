"""`verify parse` in words: what a text is, in the chosen language (no name, no birth date)."""

from __future__ import annotations

from verify.cards.classify import Parsed, ParsedLma, ParsedMrz, ParsedReference
from verify.locale import N_, _
from verify.present.status import FIELD

MRZ_KIND = {
    "ut": N_("UT card (residence permit)"),
    "residence_permit": N_("residence permit"),
    "passport": N_("passport"),
    "id_card": N_("identity card"),
}


def describe(parsed: Parsed) -> str:
    """One line per kind of text; the card's own numbers shown, nothing identifying added."""
    if isinstance(parsed, ParsedLma):
        v = parsed.value
        if v.serial is None:
            return _("LMA number {number} (cannot be looked up without the code from the "
                     "card's QR code)", number=v.number)
        return _("LMA number {number}, card serial {serial} (cannot be looked up without the "
                 "code from the card's QR code)", number=v.number, serial=v.serial)
    if isinstance(parsed, ParsedReference):
        line = _("lookup address: {url}", url=parsed.value.url)
        if not parsed.settings.profile.confirmed:
            line += " " + _("[lookup profile unconfirmed]")
        return line
    if isinstance(parsed, ParsedMrz):
        m = parsed.value
        expiry = m.expiry_date.isoformat() if m.expiry_date else _("unreadable")
        if m.ok:
            state = _("every check digit is correct")
        else:
            state = _("NOT CORRECT: {fields}", fields=", ".join(
                _(FIELD.get(f, f.replace("_", " "))) for f in (*m.failed, *m.problems)))
        return _("MRZ {format}: {kind} {code} issued by {issuer}, number {number}, expiry date "
                 "{expiry}; {state}", format=m.format, kind=_(MRZ_KIND.get(m.kind, m.kind)),
                 code=m.document_code.rstrip("<"), issuer=m.issuing_state,
                 number=m.document_number, expiry=expiry, state=state)
    return parsed.describe()
