"""Benchmark: cold start of `verify` from two source trees, interleaved run by run.

    python bench/coldstart_bench.py --before /tmp/cs_main [--python OTHER_VENV_PY] [--n 9]

Runs `verify --version`, `verify card --mrz Z` and `verify card --image PHOTO` (a committed
UT-card render) alternately from the `--before` tree (e.g. `git -C /work/main archive HEAD |
tar -x -C /tmp/cs_main`) and from this tree, with the same launcher, and prints the median
CPU time (user + system) of each: alternating keeps a shared machine's load out of the
comparison. Bytecode is cached in a throw-away prefix, as pip does at install. `--python`
runs the `--before` tree with its own interpreter (its venv's dependencies); wall time is
printed beside CPU time. One untimed photo per tree first writes the bytecode and the OCR-B
glyph cache, as a desk that has read a card before.
"""

from __future__ import annotations

import argparse
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
PY = str(REPO / ".venv" / "bin" / "python")
LAUNCH = ("import sys; sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in "
          "repr(f)]; sys.path.insert(0, sys.argv.pop(1)); from verify.cli import main; main()")
CARD = REPO / "fixtures" / "mrz" / "cards" / "p00-clean"


def cpu(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds and wall seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="the other source tree")
    ap.add_argument("--python", help="the interpreter for --before (default: this tree's)")
    ap.add_argument("--n", type=int, default=9)
    args = ap.parse_args(argv)
    env = {**os.environ, "DISPLAY": ""}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="coldstart_pyc_")
    mrz = "\n".join(json.loads(CARD.with_suffix(".json").read_text())["lines"])
    cases = {"verify --version": ["--version"],
             "verify card --mrz Z": ["card", "--json", "--mrz", mrz],
             "verify card --image UT_PHOTO": ["card", "--json", "--no-preview", "--image",
                                              str(CARD.with_suffix(".jpg"))]}
    trees = {"before": str(args.before), "this tree": str(REPO)}
    python = {"before": args.python or PY, "this tree": PY}
    for key, tree in trees.items():  # untimed: writes the bytecode and the glyph cache
        cpu([python[key], "-c", LAUNCH, tree, *cases["verify card --image UT_PHOTO"]], env)
    print("| what (median of CPU s / wall s) | before | this tree |")
    print("|---|---|---|")
    for label, words in cases.items():
        got: dict[str, list[tuple[float, float]]] = {k: [] for k in trees}
        for _ in range(args.n):
            for key, tree in trees.items():
                got[key].append(cpu([python[key], "-c", LAUNCH, tree, *words], env))
        cells = [f"{statistics.median(c for c, _ in got[k]):.3f} / "
                 f"{statistics.median(w for _, w in got[k]):.3f}" for k in trees]
        print(f"| {label} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
