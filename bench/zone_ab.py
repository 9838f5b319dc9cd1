"""Benchmark: the zone reader of another tree against this one, side by side in one process.

    git archive f0b4e28 | tar -x -C /tmp/before_src
    PYTHONPATH=. .venv/bin/python bench/zone_ab.py --against /tmp/before_src [--docs 6] [--rounds 6]

Both trees' `verify/cards/ocr.py` are imported into one process (the other tree's under its own
module name, with this tree's glyphs and MRZ parser) and read the same decoded photos in turn,
round after round, so both meet the same moments of the machine and neither pays for decoding
the file or starting up. Reported per set: milliseconds per photo (median of the rounds) for
each tree, and whether every read is the same text. For a change that should read exactly as
before and only faster (the still-image bench, bench/still_bench.py, measures the whole
command).
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from sets import docs_set  # noqa: E402

from verify.cards import ocr  # noqa: E402


def other_reader(tree: Path) -> ModuleType:
    """`tree`'s zone reader as a module of its own (it imports this tree's other modules)."""
    spec = importlib.util.spec_from_file_location("zone_ab_other", tree / "verify/cards/ocr.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"zone_ab: no verify/cards/ocr.py in {tree}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def compare(label: str, photos: list[np.ndarray], readers: dict[str, ModuleType],
            rounds: int) -> None:
    times: dict[str, list[float]] = {name: [] for name in readers}
    reads: dict[str, list[str | None]] = {}
    order = list(readers)
    for r in range(rounds):
        for name in order if r % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            reads[name] = [readers[name].read_mrz_image(p, use_tesseract=False) for p in photos]
            times[name].append((time.perf_counter() - started) / len(photos))
    same = len({tuple(v) for v in reads.values()}) == 1
    cells = " | ".join(f"{1000 * statistics.median(times[n]):.1f}" for n in order)
    print(f"| {label} ({len(photos)}) | {cells} | {'yes' if same else 'NO'} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", type=Path, required=True, help="the other source tree")
    ap.add_argument("--images", default=str(REPO / "fixtures/mrz/cards/*.jpg"))
    ap.add_argument("--limit", type=int, default=16, help="only the first N images")
    ap.add_argument("--docs", type=int, default=6, help="specimen document photos (seed 16)")
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args(argv)
    readers = {"--against tree": other_reader(args.against), "this tree": ocr}
    print("| photos | ms/photo, --against tree | ms/photo, this tree | same reads |")
    print("|---|---|---|---|")
    cards = [cv2.imread(p) for p in sorted(glob.glob(args.images))[:args.limit or None]]
    compare("UT renders", cards, readers, args.rounds)
    if args.docs:
        with tempfile.TemporaryDirectory() as tmp:
            docs_set(Path(tmp), args.docs, 16)
            docs = [cv2.imread(str(p)) for p in sorted(Path(tmp).glob("*.jpg"))]
        compare("document photos", docs, readers, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
