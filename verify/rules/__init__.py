"""Decisions per region: rules as dated, cited data (one TOML file per region) and the engine.

Public: `decide(...)`, `decide_for_status(status, ...)`, `regions()`. See docs/rules.md.
"""

from __future__ import annotations

from verify.rules.data import load_book
from verify.rules.engine import condition_names, decide, decide_for_status, regions

__all__ = ["condition_names", "decide", "decide_for_status", "load_book", "regions"]
