"""Benchmark: a UT card photo answered end to end, process start included; and cold start.

    python bench/still_bench.py [--images 'fixtures/mrz/cards/*.jpg'] [--docs 6] [--rounds 1]
                                [--src TREE [--python PY]] [--against TREE [--against-python PY]]
                                [--limit N] [--json out.json]

Runs the real command, `verify card --image PHOTO --json --no-preview`, once per photo per
round (the committed UT-card renders, and with --docs N specimen-style document photos from
bench/sets.py `docs`, seed 16), and reports per photo the time until the answer's first byte
reaches stdout (what the desk sees), the wall time until the process has ended, and the CPU
time (user + system of the child process: a busy machine disturbs it much less than wall
time). Beside
them, in the same run: `python -c pass` (the interpreter alone), `verify --version` (the
CLI's imports), `python -c 'import cv2'` (the image stack) and `verify card --mrz Z`, so
the figure can be split into start-up and work. Bytecode is cached (in a temporary prefix)
as in an installed wheel, and the package is imported from the tree itself, not through the
checkout's editable-install finder (a wheel has none). One photo is read untimed first, as a
desk has read a card before: it writes the bytecode and the OCR-B glyph cache.
`--python` runs `--src` with another interpreter (another tree's venv, e.g. older
dependencies). `--against TREE` runs a second tree photo by photo in turn with the first, so a
before/after pair meets the same moments of a busy machine (its own row, "--against tree").
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
VENV = REPO / ".venv" / "bin"


ENV = {**os.environ, "DISPLAY": ""}
# An installed wheel has its bytecode compiled by pip; a checkout run with
# PYTHONDONTWRITEBYTECODE recompiles every module at each start. Measure the installed case:
# bytecode goes to a throw-away prefix (never into the tree), warmed by one untimed run.
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
ENV["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="still_bench_pyc_")
# A generated UT card's MRZ (the committed fixture's; no real person).
MRZ = "\n".join(json.loads((REPO / "fixtures/mrz/cards/p00-clean.json").read_text())["lines"])


def timed(cmd: list[str]) -> tuple[float, float, float, int]:
    """(s to the answer's first byte on stdout, wall s to the process's end, CPU s of the
    child, exit code). The answer is on the screen at the first; the interpreter's own
    shutdown (freeing OpenCV and numpy) comes after it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    assert proc.stdout is not None
    first = proc.stdout.read(1)
    answered = time.perf_counter() - t0
    proc.stdout.read()
    code = proc.wait()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return (answered if first else wall), wall, cpu, code


def row(label: str, samples: list[tuple[float, float, float, int]]) -> dict:
    answers = [a for a, _, _, _ in samples]
    walls = [w for _, w, _, _ in samples]
    cpus = [c for _, _, c, _ in samples]
    r = {"n": len(samples), "answer_median_s": round(statistics.median(answers), 3),
         "wall_median_s": round(statistics.median(walls), 3),
         "wall_p90_s": round(sorted(walls)[max(0, int(0.9 * len(walls)) - 1)], 3),
         "cpu_median_s": round(statistics.median(cpus), 3),
         "cpu_max_s": round(max(cpus), 3),
         "exit_codes": sorted({c for _, _, _, c in samples})}
    print(f"| {label} | {r['n']} | {r['answer_median_s']} | {r['wall_median_s']} | "
          f"{r['wall_p90_s']} | {r['cpu_median_s']} | {r['cpu_max_s']} | {r['exit_codes']} |")
    return r


def launcher(py: str, src: Path) -> list[str]:
    """The command line that runs `verify` from the tree `src`. The package is installed
    editable from this tree: its finder is bypassed, as a wheel has none."""
    return [py, "-c", "import sys; sys.meta_path[:] = [f for f in sys.meta_path "
            "if 'editable' not in repr(f)]; sys.path.insert(0, sys.argv.pop(1)); "
            "from verify.cli import main; main()", str(src)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", default=str(REPO / "fixtures/mrz/cards/*.jpg"))
    ap.add_argument("--docs", type=int, default=0, help="specimen document photos to add")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--src", type=Path,
                    help="run the command from this source tree instead (e.g. an exported "
                         "older commit, for a before/after in one run)")
    ap.add_argument("--python", type=Path, help="the interpreter for --src (its own venv)")
    ap.add_argument("--against", type=Path,
                    help="also run this source tree (e.g. an exported older commit), photo by "
                         "photo in turn with the measured one, so both meet the same machine")
    ap.add_argument("--against-python", type=Path, help="the interpreter for --against")
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    photos = sorted(glob.glob(args.images))[:args.limit or None]
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.docs:
            from sets import docs_set

            docs_set(Path(tmp), args.docs, 16)
            doc_photos = sorted(str(p) for p in Path(tmp).glob("*.jpg"))
        else:
            doc_photos = []
        py = str(args.python if args.src and args.python else VENV / "python")
        verify = launcher(py, args.src or REPO)
        other = launcher(str(args.against_python or VENV / "python"), args.against) \
            if args.against else None
        print("| what | runs | answer median s | wall median s | wall p90 s | CPU median s | "
              "CPU max s | exit |")
        print("|---|---|---|---|---|---|---|---|")
        rounds = range(args.rounds)
        report["python"] = row("python -c pass", [timed([py, "-c", "pass"]) for _ in range(5)])
        report["cv2"] = row("python -c 'import cv2'",
                            [timed([py, "-c", "import cv2"]) for _ in range(5)])
        timed([*verify, "--version"])  # untimed: writes the bytecode
        report["version"] = row("verify --version",
                                [timed([*verify, "--version"]) for _ in range(5)])
        report["mrz"] = row("verify card --mrz Z",
                            [timed([*verify, "card", "--json", "--mrz", MRZ])
                             for _ in range(5)])
        read = [*verify, "card", "--no-preview", "--json", "--image"]
        read_other = [*other, "card", "--no-preview", "--json", "--image"] if other else None
        for cmd in (read, read_other):
            if cmd:
                timed([*cmd, (photos or doc_photos)[0]])  # untimed: bytecode, glyph cache
        for key, label, files in (("ut_fixtures", "UT renders", photos),
                                  ("docs", "document photos", doc_photos)):
            if not files:
                continue
            mine: list[tuple[float, float, float, int]] = []
            theirs: list[tuple[float, float, float, int]] = []
            for _ in rounds:
                for p in files:
                    mine.append(timed([*read, p]))
                    if read_other:
                        theirs.append(timed([*read_other, p]))
            report[key] = row(f"verify card --image ({label}, {len(files)})", mine)
            if read_other:
                report[f"{key}_against"] = row(
                    f"verify card --image ({label}, {len(files)}), --against tree", theirs)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
