"""Shared by the command tests: one agency emulator per test module."""

from __future__ import annotations

import pytest

from verify.lookup.emulator import Emulator


@pytest.fixture(scope="module")
def emu():
    with Emulator() as emulator:
        yield emulator
