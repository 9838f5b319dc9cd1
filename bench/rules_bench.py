"""How long a decision takes: the pure engine (warm, rules cached) and the cold load of the
rule files. Usage: PYTHONPATH=. python bench/rules_bench.py [N]"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from datetime import date

from verify.rules import decide, regions
from verify.rules.data import _load_book_cached, load_book, rule_files

CATEGORIES = [None, "asylum_seeker", "temporary_protection", "undocumented", "visitor"]
CARDS = [("none", "none"), ("lma", "valid"), ("lma", "not_valid"), ("lma", "unknown"),
         ("ut", "valid"), ("ut", "not_valid")]
AGES = [None, 5, 19, 40]


def main(n: int) -> None:
    colds = []
    for _ in range(5):  # the cold load, five times: the median, not one lucky run
        _load_book_cached.cache_clear()
        t0 = time.perf_counter()
        load_book()
        colds.append((time.perf_counter() - t0) * 1000)
    cold_ms = statistics.median(colds)
    names = [r.name for r in regions()]
    cases = list(itertools.product(names, CATEGORIES, CARDS, AGES))
    times = []
    for region, category, (document, validity), age in itertools.islice(
            itertools.cycle(cases), n):
        t = time.perf_counter()
        decide(region=region, category=category, document=document, validity=validity,
               age=age, today=date(2026, 11, 22))
        times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    print(f"rule files ({len(rule_files())} region files + national, {len(names)} regions), "
          f"cold load + check: median {cold_ms:.1f} ms of 5 (max {max(colds):.1f} ms)")
    print(f"decide() over {n} decisions ({len(cases)} distinct cases): "
          f"median {statistics.median(times):.0f} µs, p95 {times[int(0.95 * len(times))]:.0f} µs, "
          f"max {times[-1]:.0f} µs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
