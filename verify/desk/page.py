"""The desk page's words and its anti-forgery token, put into the HTML by the server.

The page's script is a file (the Content-Security-Policy allows no inline code), so what it
needs from the server rides in `<meta>` tags: the words in the desk's language, the page's own
anti-forgery token and the keyboard-scanner policy. Every value is HTML-escaped here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
from typing import Any

from verify.locale import gettext


def page_words(lang: str) -> dict[str, str]:
    """Every word the page shows before and between scans, in `lang`."""
    return {
        "lang": lang,
        "title": gettext("verify – reception", lang),
        "waiting": gettext("Waiting for a card …", lang),
        "scan_hint": gettext("Scan the card's QR code.", lang),
        "connecting": gettext("Connecting …", lang),
        "connected": gettext("This screen is linked to the service", lang),
        "disconnected": gettext("This screen has no link to the service – trying again …", lang),
        "checking": gettext("Checking the card …", lang),
        "checking_hint": gettext("Wait for the answer; do not scan again.", lang),
        "retrying": gettext("No contact with the service – trying again in {seconds} s", lang),
        "scanned": gettext("Scanned {time}", lang),
        "answered": gettext("Answer: {answers}", lang),
        "change_answer": gettext("Change the answer", lang),
        "answer_failed": gettext("The answer was not taken; scan the card again.", lang),
        "keyboard_ready": gettext("Keyboard scanner: ready", lang),
        "keyboard_blurred": gettext("Keyboard scanner: click this page first", lang),
        "scan_refused": gettext("The scan from the keyboard was not taken.", lang),
        "login_title": gettext("verify – log in", lang),
        "login_heading": gettext("Reception screen", lang),
        "login_hint": gettext("Enter the screen's key (token) from the service settings.", lang),
        "login_key": gettext("Key", lang),
        "login_button": gettext("Log in", lang),
    }


def render(template: bytes, lang: str, *, page_token: str = "",
           keyboard: dict[str, int] | None = None) -> bytes:
    """Fill `{{name}}` slots with escaped words; `{{page_data}}` is the script's JSON."""
    words = page_words(lang)
    data: dict[str, Any] = {"words": words, "page_token": page_token, "keyboard": keyboard}
    values = {k: html.escape(v, quote=True) for k, v in words.items()}
    values["page_data"] = html.escape(json.dumps(data, ensure_ascii=False), quote=True)
    text = template.decode("utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text.encode("utf-8")


class PageTokens:
    """Per-page anti-forgery tokens: a random nonce and its MAC under a key of this process.

    Stateless (no list of issued tokens to grow), unguessable from outside, and void after a
    restart. A page elsewhere cannot read one (same-origin policy), so it cannot send one.
    """

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def issue(self) -> str:
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._mac(nonce)}"

    def valid(self, token: str | None) -> bool:
        if not token or len(token) > 128 or token.count(".") != 1:
            return False
        nonce, mac = token.split(".")
        return hmac.compare_digest(mac.encode(), self._mac(nonce).encode())

    def _mac(self, nonce: str) -> str:
        digest = hmac.new(self._key, nonce.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode()
