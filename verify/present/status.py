"""Human text for a status: Swedish at the desk by default, English on request."""

from __future__ import annotations

from verify.locale import _
from verify.model import Status, Validity
from verify.present.decision import render_decision

HEADLINE = {
    "sv": {"valid": "GILTIGT", "not_valid": "INTE GILTIGT", "unknown": "KAN INTE AVGÖRAS"},
    "en": {"valid": "VALID", "not_valid": "NOT VALID", "unknown": "CANNOT BE DETERMINED"},
}
TEXT = {
    "sv": {
        "lma": "LMA-kort",
        "ut": "UT-kort",
        "unknown": "Okänt dokument",
        "passport": "Pass",
        "rtw_true": "Rätt att arbeta (AT-UND): ja",
        "rtw_false": "Rätt att arbeta (AT-UND): nej",
        "manual": "Kontrollera för hand i webbläsaren:",
        "number": "LMA-nummer",
        "serial": "kortnummer",
        "expiry": "Giltigt till",
        "checked": "Kontrollerat",
    },
    "en": {
        "lma": "LMA card",
        "ut": "UT card",
        "unknown": "Unknown document",
        "passport": "Passport",
        "rtw_true": "Right to work (AT-UND): yes",
        "rtw_false": "Right to work (AT-UND): no",
        "manual": "Check by hand in a browser:",
        "number": "LMA number",
        "serial": "card serial",
        "expiry": "Valid until",
        "checked": "Checked",
    },
}
# Details the core writes in English; the desk reads Swedish. Matched by prefix.
DETAIL_SV: tuple[tuple[str, str], ...] = (
    (
        "the agency's lookup says the card is valid",
        "Migrationsverkets uppslagstjänst visar att kortet är giltigt.",
    ),
    (
        "the agency's lookup shows no information",
        "Uppslagstjänsten visar ingen information om kortet: det gäller inte längre "
        "(till exempel avslag, eller beviljat uppehållstillstånd).",
    ),
    (
        "an LMA number alone cannot be looked up",
        "Ett LMA-nummer räcker inte för uppslag: det behövs koden från kortets QR-kod eller "
        "adressen på kortets baksida.",
    ),
    ("the lookup did not answer within", "Uppslagstjänsten svarade inte i tid."),
    ("the lookup service could not be reached", "Uppslagstjänsten gick inte att nå."),
    ("the lookup service answered HTTP", "Uppslagstjänsten svarade med ett fel."),
    ("the lookup service shows a maintenance page", "Uppslagstjänsten visar en sida om underhåll."),
    (
        "the lookup service shows a consent page",
        "Uppslagstjänsten visar en sida om cookies i stället för ett svar.",
    ),
    (
        "the lookup redirected",
        "Uppslagstjänsten skickade vidare till en adress som inte är tillåten.",
    ),
    ("the lookup's answer is", "Uppslagstjänstens svar var orimligt stort."),
    ("the lookup answered with", "Uppslagstjänsten svarade med en sida som inte känns igen."),
    (
        "the lookup page says neither",
        "Uppslagstjänstens sida säger varken giltigt eller ingen information.",
    ),
    ("not a card", "Det skannade är inget kort."),
)


def render_detail(detail: str, lang: str) -> str:
    if detail.startswith("page not recognised"):
        return _("Page not recognised — the lookup profile may be out of date.", lang)
    if lang == "sv":
        for prefix, swedish in DETAIL_SV:
            if detail.startswith(prefix):
                return swedish
    return detail[:1].upper() + detail[1:] + ("" if detail.endswith(".") else ".")


def render_refusal(message: str, lang: str) -> str:
    """A refused input, for the desk: the reason stays in English detail (it names characters)."""
    if lang == "sv":
        return f"AVVISAT — detta är inget kort som kan kontrolleras ({message})."
    return f"REFUSED — {message}."


def render_status(status: Status, *, lang: str = "sv", verbose: bool = False) -> str:
    t = TEXT[lang]
    v, d = status.validity, status.document
    kind = _("Application card", lang) if d.kind == "application" else t.get(d.kind, d.kind)
    lines = [f"{HEADLINE[lang][v.state]} — {kind}"]
    lines.append(render_detail(v.detail, lang))
    unconfirmed = unconfirmed_line(v, lang)
    if unconfirmed:
        lines.append(unconfirmed)
    if d.lma_number:
        serial = f" ({t['serial']} {d.card_serial})" if d.card_serial else ""
        lines.append(f"{t['number']}: {d.lma_number}{serial}")
    if d.mrz and d.mrz.get("expiry_date"):
        lines.append(f"{t['expiry']}: {d.mrz['expiry_date']}")
    if v.state == "valid" and v.right_to_work is not None:
        lines.append(t["rtw_true"] if v.right_to_work else t["rtw_false"])
    if v.state != "valid" and v.manual_check_url:
        lines.append(f"{t['manual']} {v.manual_check_url}")
    if verbose:
        lines.append(f"{t['checked']}: {v.checked_at.isoformat(timespec='seconds')} ({v.basis})")
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
