"""The few pages of the service for many desks that are not the desk screen: a refusal, the
enrolment's confirmation, the operator's list of desks. Pure: words in, escaped HTML out.

No script (the Content-Security-Policy allows none inline) and nothing of a patient: a refusal
says what is wrong in one sentence; the operator page shows desks, never scans.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from verify.desk.fleet import DeskRow
from verify.locale import N_, gettext

HEADS = (N_("Desk"), N_("Site"), N_("Region"), N_("Language"), N_("Last contact"),
         N_("Last scan"), N_("Page open"))


def _page(lang: str, title: str, body: str) -> bytes:
    return (
        f'<!doctype html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{html.escape(title)}</title>\n"
        '<link rel="stylesheet" href="/desk.css">\n</head>\n<body>\n'
        f'<main class="tone-idle login">\n{body}\n</main>\n</body>\n</html>\n'
    ).encode()


def refusal(lang: str, message: str) -> bytes:
    """One sentence saying why nothing is shown."""
    title = gettext("verify – reception", lang)
    return _page(lang, title, f'<h1 id="refused">{html.escape(message)}</h1>')


def enrol_form(lang: str, desk_name: str, site: str) -> bytes:
    """Confirm before the link is used: a link preview in a chat must not spend it."""
    title = gettext("verify – enrol a desk", lang)
    heading = gettext("Enrol this browser as the desk {name} ({site})", lang,
                      name=desk_name, site=site)
    hint = gettext("Do this on the desk's own computer only. The link works once.", lang)
    button = gettext("Enrol this browser", lang)
    return _page(lang, title, (
        f"<h1>{html.escape(heading)}</h1>\n"
        f'<p class="detail">{html.escape(hint)}</p>\n'
        f'<form method="post"><button id="enrol" type="submit">{html.escape(button)}</button>'
        "</form>"))


def _when(at: float | None, lang: str) -> str:
    if at is None or at <= 0:
        return gettext("never", lang)
    return datetime.fromtimestamp(at).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def operator(lang: str, rows: Sequence[DeskRow]) -> bytes:
    """Every desk, its settings, when this instance last heard from it, whether its page is
    open here. Names only: the scans themselves are never on it."""
    title = gettext("verify – desks", lang)
    heads = [gettext(w, lang) for w in HEADS]
    yes, no = gettext("yes", lang), gettext("no", lang)
    lines = []
    for r in rows:
        page = gettext("revoked", lang) if r.revoked else (yes if r.pages else no)
        cells = [r.name, r.site, r.region or "–", r.lang, _when(r.last_contact, lang),
                 _when(r.last_scan, lang), page]
        lines.append(f'<tr data-desk="{html.escape(r.id)}">'
                     + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    table = ("<table id=\"desks\">\n<thead><tr>"
             + "".join(f"<th>{html.escape(h)}</th>" for h in heads)
             + "</tr></thead>\n<tbody>\n" + "\n".join(lines) + "\n</tbody>\n</table>")
    return _page(lang, title, f"<h1>{html.escape(title)}</h1>\n{table}")
