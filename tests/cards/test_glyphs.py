"""The OCR-B templates are rendered once and kept: a kept set is what rendering gives, a cache
that is damaged, planted or out of reach is never trusted and never stops a read."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from verify.cards import glyphs
from verify.cards.glyphs import ALPHABET, BLURS, CELL_H, CELL_W, font_path, render


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    glyphs.glyphs.cache_clear()
    yield tmp_path / "verify"
    glyphs.glyphs.cache_clear()


def fresh() -> glyphs.Glyphs:
    glyphs.glyphs.cache_clear()
    found = glyphs.glyphs()
    assert found is not None
    return found


def test_the_kept_templates_are_the_rendered_ones(cache_home: Path) -> None:
    first = fresh()
    kept = list(cache_home.glob("ocrb-glyphs-*.npy"))
    assert len(kept) == 1
    again = fresh()  # read back from the cache, not rendered
    path = font_path()
    assert path is not None
    made = render(path)
    assert again.sets.shape == (len(BLURS), len(ALPHABET), CELL_H, CELL_W)
    assert np.array_equal(again.sets, made.sets) and np.array_equal(first.sets, made.sets)
    assert again.cap_per_pitch == pytest.approx(made.cap_per_pitch)
    assert glyphs.templates(2.5)[ALPHABET.index("K")].shape == (CELL_H, CELL_W)


@pytest.mark.parametrize("planted", ["garbage", "wrong shape", "an npz", "fifo", "folder"])
def test_a_damaged_or_planted_cache_is_ignored(cache_home: Path, planted: str) -> None:
    fresh()
    (kept,) = cache_home.glob("ocrb-glyphs-*.npy")
    kept.unlink()
    if planted == "garbage":
        kept.write_bytes(b"\x93NUMPY not an array at all")
    elif planted == "wrong shape":
        with kept.open("wb") as f:
            np.save(f, np.zeros((1, 2, 3), np.float32))
    elif planted == "an npz":
        with kept.open("wb") as f:
            np.savez(f, sets=np.zeros(3, np.float32))
    elif planted == "fifo":
        os.mkfifo(kept)  # would block a reader that waits for a writer
    else:
        kept.mkdir()
    path = font_path()
    assert path is not None
    assert np.array_equal(fresh().sets, render(path).sets)


def test_a_cache_folder_that_cannot_be_written_still_gives_the_templates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    try:
        found = fresh()
        assert found.sets.shape[0] == len(BLURS)
    finally:
        glyphs.glyphs.cache_clear()
