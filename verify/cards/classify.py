"""What a text is: an LMA number, a lookup reference (QR address or typed token), or an MRZ."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from verify.cards.lma import parse_lma
from verify.cards.mrz import Mrz, looks_like_mrz, mrz_status, parse_mrz
from verify.cards.reference import Settings, TokenRules, clean_text, parse_reference
from verify.clock import now, today
from verify.errors import ParseError
from verify.model import Document, DocumentKind, LmaNumber, LookupReference, Status, Validity

# Digits, dashes, spaces and one slash: someone typed the number under the photo.
_LMA_SHAPE = re.compile(r"[\s\d\u2010-\u2014\u2212-]{6,}(/\s*\w{0,4})?\s*")


class Lookup(Protocol):
    """The agency lookup (`verify.lookup.LookupClient`); reading a card never opens one itself."""

    def lookup(self, ref: LookupReference) -> Validity: ...


class Parsed(Protocol):
    @property
    def kind(self) -> str: ...

    def describe(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...

    def status(self, client: Lookup | None = None) -> Status: ...


@dataclass(frozen=True)
class ParsedLma:
    value: LmaNumber
    settings: Settings
    kind: str = "lma_number"

    def describe(self) -> str:
        serial = "" if self.value.serial is None else f", card serial {self.value.serial}"
        return (
            f"LMA number {self.value.number}{serial} (cannot be looked up without the card's token)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lma_number": self.value.number,
            "card_serial": self.value.serial,
        }

    def status(self, client: Lookup | None = None) -> Status:
        return Status(
            document=Document(
                kind="lma", lma_number=self.value.number, card_serial=self.value.serial
            ),
            validity=Validity(
                state="unknown",
                basis="lma_number_only",
                checked_at=now(),
                detail="an LMA number alone cannot be looked up: the lookup needs the code from "
                "the card's QR code or the address on its back",
                manual_check_url=self.settings.base,
                reason="lma_number_only",
            ),
        )


@dataclass(frozen=True)
class ParsedReference:
    value: LookupReference
    settings: Settings
    kind: str = "lookup_reference"

    @property
    def profile(self) -> TokenRules:
        """The profile the address fits (the typed token's card kind for a token)."""
        for profile in self.settings.profiles:
            if profile.name == self.value.profile:
                return profile
        return self.settings.profiles[0]

    def describe(self) -> str:
        unconfirmed = "" if self.profile.confirmed else " [lookup profile unconfirmed]"
        return f"lookup reference ({self.value.kind} card): {self.value.url}{unconfirmed}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "card": self.value.kind,
            "lookup_url": self.value.url,
            "lookup_token": self.value.token,
            "profile": self.profile.name,
            "profile_confirmed": self.profile.confirmed,
        }

    def status(self, client: Lookup | None = None) -> Status:
        if client is None:
            raise TypeError("a lookup reference needs a lookup client to give a status")
        validity = client.lookup(self.value)
        kind: DocumentKind = "application" if self.value.kind == "application" else "lma"
        return Status(
            document=Document(kind=kind, lookup_token=self.value.token, lookup_url=self.value.url),
            validity=validity,
        )


@dataclass(frozen=True)
class ParsedMrz:
    value: Mrz
    show_name: bool = False
    on: date | None = None
    kind: str = "mrz"

    def describe(self) -> str:
        return str(self.value.describe())

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind,
                **self.value.to_json(show_name=self.show_name, today=self.on or today())}

    def status(self, client: Lookup | None = None) -> Status:
        return mrz_status(self.value, today=self.on or today(), show_name=self.show_name)


def classify(
    text: str,
    *,
    as_kind: str | None = None,
    show_name: bool = False,
    settings: Settings,
) -> Parsed:
    """Decide what `text` is. `as_kind` ("lma", "url", "token", "lookup", "mrz", "scan") narrows it.

    "scan" is what a scanner or camera read: a card only as a lookup address or an MRZ. A bare
    token or number is something a person types; from a scanner it is some other barcode
    (a Code 39 label, a cut-short read), and looking it up would ask the agency about nothing.
    """
    if not isinstance(text, str):
        raise ParseError("not_text", "input must be text")
    if as_kind == "lma":
        return ParsedLma(parse_lma(text), settings)
    if as_kind == "mrz" or (as_kind is None and looks_like_mrz(text)):
        return _mrz(text, show_name)
    if as_kind == "scan":
        return _scan(text, show_name, settings)
    if as_kind == "token":
        return ParsedReference(parse_reference(text, settings, allow_url=False), settings)
    if as_kind in ("url", "lookup"):
        return ParsedReference(parse_reference(text, settings), settings)
    if as_kind is not None:
        raise ParseError("bad_kind", "unknown input kind {kind}", kind=repr(as_kind))
    if len(text) <= 64 and _LMA_SHAPE.fullmatch(text):
        return ParsedLma(parse_lma(text), settings)
    try:
        return ParsedReference(parse_reference(text, settings), settings)
    except ParseError as exc:
        if exc.reason in ("token_grammar", "non_ascii"):
            clean_text(text)
            raise ParseError(
                "unrecognised",
                "not an LMA number, lookup address, lookup token or MRZ",
            ) from None
        raise


def _scan(text: str, show_name: bool, settings: Settings) -> Parsed:
    if looks_like_mrz(text):
        return _mrz(text, show_name)
    try:
        return ParsedReference(parse_reference(text, settings, allow_token=False), settings)
    except ParseError as exc:
        if exc.reason in ("token_not_url", "token_grammar", "non_ascii"):
            raise ParseError(
                "not_a_card_scan",
                "a scanned code that is not a lookup address or an MRZ (a token counts only "
                "when typed: verify card --token)",
            ) from None
        raise


def _mrz(text: str, show_name: bool) -> ParsedMrz:
    return ParsedMrz(parse_mrz(text), show_name=show_name)
