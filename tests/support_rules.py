"""Helpers for the rules tests: normalised text, sources of a rule document. The seed texts
themselves come from the `seed_texts` fixture (tests/conftest.py), only for the audits."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from verify.rules import load_book

REPO = Path(__file__).resolve().parents[1]
RULES_DIR = REPO / "verify" / "rules"


def norm(text: str) -> str:
    """Whitespace-insensitive form: seeds break lines (and words) mid-passage."""
    return " ".join(text.split())


def split_source(source: str) -> tuple[str, str]:
    name, _, passage = source.partition(": ")
    return name, passage


def as_json_doc(obj: Any) -> Any:
    """TOML → JSON-able (dates as ISO strings), the form schema.json describes."""
    if isinstance(obj, dict):
        return {k: as_json_doc(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [as_json_doc(v) for v in obj]
    if isinstance(obj, datetime.date):
        return obj.isoformat()
    return obj


def all_sources(obj: Any) -> list[str]:
    """Every *source field in a rule document."""
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k.endswith("source") and isinstance(v, str):
                out.append(v)
            else:
                out.extend(all_sources(v))
    elif isinstance(obj, list):
        for v in obj:
            out.extend(all_sources(v))
    return out


def passage_found(source: str, seed_texts: dict[str, str]) -> bool:
    """Is the quoted passage in its document: a seed (seed_texts), or a kept document's
    quotes (the rule files' [documents] tables)?"""
    name, passage = split_source(source)
    if len(norm(passage)) < 8:
        return False
    doc = load_book().document(source)
    if name in seed_texts:
        return norm(passage) in seed_texts[name]
    if doc is None or doc.key != name or not doc.quotes:
        return False
    return any(norm(passage) in norm(q) for q in doc.quotes)
