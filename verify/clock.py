"""One clock for the whole toolkit, local time with offset, so tests can reason about it."""

from __future__ import annotations

from datetime import date, datetime


def now() -> datetime:
    return datetime.now().astimezone()


def today() -> date:
    return now().date()
