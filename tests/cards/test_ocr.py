"""The zone finder on zones as documents print them (issue 16): wide-spaced passport print,
anywhere on the page, upside down. Images are rendered here with the real OCR-B font."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from verify.cards.glyphs import OCRB_PATHS, templates
from verify.cards.mrz import compose_td1, compose_td3, parse_mrz
from verify.cards.ocr import (
    _correlate,
    _percentile,
    _windows,
    find_bands,
    read_cells,
    read_mrz_image,
)

OCRB = next(p for p in OCRB_PATHS if Path(p).exists())

TD3 = compose_td3(document_number="L898902C3", birth="740812", expiry="320415",
                  surname="ERIKSSON", given_names="ANNA MARIA", sex="F", nationality="UTO",
                  issuing_state="UTO")
TD1 = compose_td1(document_number="HA4010674", birth="800604", expiry="280904",
                  surname="KOVALENKO", given_names="TARAS", sex="M")


def page(zone: str, *, pitch: float, glyph: float, size: tuple[int, int] = (1600, 1200),
         at: tuple[int, int] = (300, 700), seed: int = 1) -> np.ndarray:
    """A light page with some printed text and the zone at `pitch` px per character whose
    glyphs are `glyph` times the width OCR-B gives at that pitch (< 1: wide-spaced)."""
    w, h = size
    rng = np.random.default_rng(seed)
    img = Image.fromarray(np.clip(rng.normal(228, 3, (h, w)), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    draw.text((at[0], at[1] - 300), "SPECIMEN PASSPORT / PASS", fill=40,
              font=ImageFont.truetype(OCRB, 40))
    font = ImageFont.truetype(OCRB, round(pitch * glyph / 0.72))
    for i, line in enumerate(zone.split("\n")):
        for j, ch in enumerate(line):
            x = at[0] + j * pitch + (pitch - font.getlength(ch)) / 2
            draw.text((x, at[1] + i * pitch * 1.65), ch, fill=25, font=font)
    grey = cv2.GaussianBlur(np.array(img), (0, 0), 0.8)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def test_wide_spaced_passport_zone_is_found_and_read():
    img = page(TD3, pitch=26, glyph=0.65)  # passport print: glyph well inside its cell
    bands = list(find_bands(img))
    assert bands and len(bands[0].lines) == 2
    assert read_mrz_image(img, use_tesseract=False) == TD3
    assert parse_mrz(read_mrz_image(img, use_tesseract=False) or "").ok


@pytest.mark.parametrize("at", [(40, 120), (400, 1050)])
def test_zone_anywhere_on_the_page(at):
    img = page(TD3, pitch=26, glyph=0.7, at=at)
    assert read_mrz_image(img, use_tesseract=False) == TD3


def test_upside_down_zone_is_found_and_read():
    img = page(TD1, pitch=30, glyph=0.95)  # card print: tight
    upside_down = np.ascontiguousarray(img[::-1, ::-1])
    assert read_mrz_image(img, use_tesseract=False) == TD1
    assert read_mrz_image(upside_down, use_tesseract=False) == TD1


def test_wide_spaced_zone_is_cut_into_44_cells_not_36():
    # Two lines are TD2 (36) or TD3 (44); wide-spaced print once made the cells TD2's.
    img = page(TD3, pitch=24, glyph=0.62)
    cells = read_cells(next(find_bands(img)))
    assert cells is not None and cells.fmt == "TD3"
    assert cells.text.split("\n")[0] == TD3.split("\n")[0]


@given(seed=st.integers(0, 2**32 - 1), contrast=st.sampled_from([0.0, 0.5, 40.0, 255.0]),
       size=st.tuples(st.integers(30, 44), st.integers(22, 36)))
def test_cells_are_matched_exactly_as_opencv_matches_them(seed, contrast, size):
    """The one-product correlation gives OpenCV's normalised correlation for every glyph, on
    flat, faint and full-contrast cells alike: the zone reader's choices do not change."""
    rng = np.random.default_rng(seed)
    patch = (128 + contrast * (rng.random(size) - 0.5)).astype(np.float32)
    tmpl = templates()
    assert tmpl is not None
    expected = np.array([cv2.matchTemplate(patch, t, cv2.TM_CCOEFF_NORMED).max() for t in tmpl])
    assert np.abs(_correlate(_windows([patch]), tmpl)[0] - expected).max() < 1e-3


@given(values=st.lists(st.integers(0, 10_000), min_size=1, max_size=60),
       q=st.sampled_from([0.0, 10.0, 50.0, 90.0, 100.0]))
def test_the_short_list_percentile_is_numpy_s(values, q):
    assert abs(_percentile(values, q) - float(np.percentile(values, q))) < 1e-9
