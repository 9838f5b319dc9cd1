"""Benchmark: read the UT-card renders with verify and with PassportEye, same run, same images.

    .venv/bin/pip install -e '.[bench]'                                 # PassportEye
    PYTHONPATH=. .venv/bin/python bench/mrz_bench.py                    # committed fixtures
    PYTHONPATH=. .venv/bin/python bench/mrz_bench.py --generate 30      # + 30 fresh people (×8)
    PYTHONPATH=. .venv/bin/python bench/mrz_bench.py --no-passporteye   # verify only
    PYTHONPATH=. .venv/bin/python bench/mrz_bench.py --docs 60 --docs-seed 16  # + document photos

`--docs N` adds a second table: N specimen-style photos of whole documents (bench/sets.py
`docs`: TD3 passports with wide-spaced print, TD2 and TD1 cards, anywhere in the photo, a
fifth upside down), generated into a temporary folder with that seed.

A read is *fully correct* when every check digit passes and every field equals the truth
stored beside the image (document code, state, number, dates, sex, nationality, names).
A *wrong accept* is a read that passes every check digit (so it would be trusted) while some
field differs from the truth: the number that must stay at zero.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
warnings.filterwarnings("ignore", category=FutureWarning)  # PassportEye on newer scikit-image
sys.path.insert(0, str(ROOT))

from verify.cards.mrz import parse_mrz, resolve_birth, resolve_expiry  # noqa: E402
from verify.cards.ocr import read_mrz_file  # noqa: E402

TODAY = date(2026, 11, 22)


@dataclass
class Tally:
    name: str
    correct: int = 0
    wrong_accepted: int = 0
    rejected: int = 0
    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def expected(truth: dict) -> dict:
    return {
        "document_number": truth["document_number"], "issuing_state": truth["issuing_state"],
        "nationality": truth["nationality"], "sex": truth["sex"],
        "birth_date": resolve_birth(truth["birth"], TODAY),
        "expiry_date": resolve_expiry(truth["expiry"], TODAY),
        "surname": truth["surname"], "given_names": truth["given_names"],
    }


def verify_reader(path: Path) -> tuple[bool, dict] | None:
    text = read_mrz_file(path)
    if text is None:
        return None
    m = parse_mrz(text, today=TODAY)
    return m.ok, {"document_number": m.document_number, "issuing_state": m.issuing_state,
                  "nationality": m.nationality, "sex": m.sex, "birth_date": m.birth_date,
                  "expiry_date": m.expiry_date, "surname": m.surname,
                  "given_names": m.given_names}


def passporteye_reader(path: Path) -> tuple[bool, dict] | None:
    from passporteye import read_mrz

    m = read_mrz(str(path))
    if m is None:
        return None
    d = m.to_dict()

    def clean(s: str) -> str:
        return " ".join(s.replace("<", " ").split())

    # Its own `valid` also demands exact line lengths (it keeps stray fillers); judge it, as
    # verify is judged, by its check digits.
    checked = all(d.get(k) for k in ("valid_number", "valid_date_of_birth",
                                     "valid_expiration_date", "valid_composite"))
    return checked, {
        "document_number": d.get("number", "").replace("<", ""),
        "issuing_state": d.get("country", "").replace("<", ""),
        "nationality": d.get("nationality", "").replace("<", ""),
        "sex": {"<": "X"}.get(d.get("sex", ""), d.get("sex", "")),
        "birth_date": resolve_birth(d.get("date_of_birth", ""), TODAY),
        "expiry_date": resolve_expiry(d.get("expiration_date", ""), TODAY),
        "surname": clean(d.get("surname", "")), "given_names": clean(d.get("names", "")),
    }


def run(images: list[Path], readers: dict[str, Callable[[Path], tuple[bool, dict] | None]]
        ) -> list[Tally]:
    tallies = [Tally(n) for n in readers]
    for img in images:
        want = expected(json.loads(img.with_suffix(".json").read_text()))
        for tally, reader in zip(tallies, readers.values(), strict=True):
            t0 = time.perf_counter()
            try:
                got = reader(img)
            except Exception as exc:  # noqa: BLE001 - a reader crashing is a rejected read
                got = None
                tally.failures.append(f"{img.name}: crashed ({type(exc).__name__})")
            tally.times.append(time.perf_counter() - t0)
            if got is None or not got[0]:
                tally.rejected += 1
                tally.failures.append(f"{img.name}: no checked read")
                continue
            wrong = [k for k in want if got[1].get(k) != want[k]]
            if wrong:
                tally.wrong_accepted += 1
                tally.failures.append(f"{img.name}: WRONG but checked ({', '.join(wrong)})")
            else:
                tally.correct += 1
    return tallies


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=ROOT / "fixtures/mrz/cards")
    ap.add_argument("--generate", type=int, default=0,
                    help="also render this many fresh mock people (8 images each)")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--docs", type=int, default=0, metavar="N",
                    help="also read N generated whole-document photos (TD3/TD2/TD1)")
    ap.add_argument("--docs-seed", type=int, default=16)
    ap.add_argument("--camera", type=int, default=0, metavar="N",
                    help="also time the camera path on N UT cards held steady")
    ap.add_argument("--no-passporteye", action="store_true")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--all-cores", action="store_true",
                    help="do not pin to one core (default: one core, as the issue measures)")
    args = ap.parse_args(argv)
    if not args.all_cores:
        import os

        import cv2

        cv2.setNumThreads(1)
        os.environ["OMP_THREAD_LIMIT"] = "1"  # Tesseract's own threads
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    images = sorted(args.dir.glob("*.jpg"))
    tmp = None
    if args.generate:
        sys.path.insert(0, str(ROOT / "fixtures/mrz"))
        from make_fixtures import main as make

        tmp = tempfile.TemporaryDirectory()
        make(["--out", tmp.name, "--people", str(args.generate), "--seed", str(args.seed)])
        images += sorted(Path(tmp.name).glob("*.jpg"))
    readers: dict[str, Callable[[Path], tuple[bool, dict] | None]] = {"verify": verify_reader}
    if not args.no_passporteye:
        readers["passporteye"] = passporteye_reader
    tallies = run(images, readers)
    where = args.dir.relative_to(ROOT) if args.dir.is_relative_to(ROOT) else args.dir
    if images:
        report(f"{len(images)} images ({where}"
               + (f" + {args.generate} generated people" if args.generate else "") + ")",
               tallies, len(images), args.verbose)
    if args.docs:
        sys.path.insert(0, str(ROOT / "bench"))
        from sets import docs_set

        with tempfile.TemporaryDirectory() as docs_tmp:
            docs_set(Path(docs_tmp), args.docs, args.docs_seed)
            docs = sorted(Path(docs_tmp).glob("*.jpg"))
            report(f"\n{len(docs)} whole-document photos (bench/sets.py docs, seed "
                   f"{args.docs_seed}: TD3 wide-spaced, TD2, TD1; "
                   f"{sum('-180' in d.name for d in docs)} upside down)",
                   run(docs, readers), len(docs), args.verbose)
    if args.camera:
        camera_bench(args.camera, args.seed)
    if tmp is not None:
        tmp.cleanup()
    return 0


def camera_bench(people: int, seed: int) -> None:
    """The camera path on a UT card held steady in front of a 1280×720 webcam: frames arrive
    in real time (30 fps; frames that come while a read runs are dropped, as a webcam's
    one-frame buffer does), each goes through the QR cascade's live step and then the MRZ
    frame hook, exactly as `verify card --camera` does. Measured: wall time from the card
    being held steady (the first frame) to the zone being read."""
    import random

    import cv2

    sys.path.insert(0, str(ROOT / "fixtures/mrz"))
    from make_fixtures import _noise, _place_on_table, mock_person, render_back, zone_for

    from drivers.decode import Cascade
    from verify.cards.ocr import FrameHook

    rng = random.Random(seed + 1)
    times: list[float] = []
    misses = 0
    wrong = 0
    for _ in range(people):
        person = mock_person(rng)
        zone = zone_for(person)
        scene = _place_on_table(render_back(zone, rng), rng, rng.uniform(-6, 6), 0.015, 0.75)
        scene = cv2.resize(scene, (1280, 960))[120:840]  # a 16:9 webcam frame
        frames = [_noise(cv2.GaussianBlur(scene, (0, 0), 0.7), rng, 4) for _ in range(8)]
        frames = [cv2.imdecode(cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 85])[1],
                               cv2.IMREAD_COLOR) for f in frames]
        cascade, hook = Cascade(budget_ms=8.0), FrameHook()
        t0 = time.monotonic()
        got = None
        index = 0
        while time.monotonic() - t0 < 6.0:
            elapsed = time.monotonic() - t0
            due = int(elapsed * 30)
            if due < index:
                time.sleep((index - elapsed * 30) / 30)
            frame_img = frames[index % len(frames)]
            found = cascade.decode_frame(frame_img)

            class _F:  # what the capture loop hands its hooks
                image = frame_img

            _F.index = index  # type: ignore[attr-defined]
            if not found:
                got = hook(_F)
            if got:
                break
            index = max(index + 1, int((time.monotonic() - t0) * 30))
        if got is None:
            misses += 1
        elif got != zone:
            wrong += 1
        else:
            times.append(time.monotonic() - t0)
    print(f"\nCamera path, UT card held steady, 1280×720 at 30 fps ({people} cards): read "
          f"{len(times)}/{people}, wrong {wrong}, no read within 6 s {misses}; "
          f"time to read median {statistics.median(times) if times else float('nan'):.2f} s, "
          f"worst {max(times) if times else float('nan'):.2f} s")


def report(title: str, tallies: list[Tally], n: int, verbose: bool) -> None:
    print(title)
    print(f"{'reader':<12} {'fully correct':>15} {'wrong accepted':>15} {'no read':>8} "
          f"{'median s/img':>13}")
    for t in tallies:
        print(f"{t.name:<12} {t.correct:>6}/{n} {100 * t.correct / n:5.1f}% "
              f"{t.wrong_accepted:>15} {t.rejected:>8} {statistics.median(t.times):>13.3f}")
    if verbose:
        for t in tallies:
            for f in t.failures:
                print(f"  {t.name}: {f}")


if __name__ == "__main__":
    raise SystemExit(main())
