"""What a text or scan is: LMA numbers, lookup references, machine-readable zones. Pure.

    parsed = classify("https://…/VALID0001", settings=Settings.from_env())
    parsed.kind            # "lma_number" | "lookup_reference" | "mrz"

Reading a card never contacts anyone: a lookup reference is checked against the allowed hosts
and handed on; `verify.check` asks the agency. OCR of a zone from a photo (`verify.cards.ocr`)
needs OpenCV and is imported only by the camera path.
"""

from __future__ import annotations

from verify.cards.classify import Parsed, ParsedLma, ParsedMrz, ParsedReference, classify
from verify.cards.lma import parse_lma
from verify.cards.mrz import Mrz, looks_like_mrz, mrz_status, parse_mrz
from verify.cards.reference import clean_text, parse_reference

__all__ = [
    "Mrz",
    "Parsed",
    "ParsedLma",
    "ParsedMrz",
    "ParsedReference",
    "classify",
    "clean_text",
    "looks_like_mrz",
    "mrz_status",
    "parse_lma",
    "parse_mrz",
    "parse_reference",
]
