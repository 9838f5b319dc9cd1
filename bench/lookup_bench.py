"""The project's own overhead per lookup, against a bare `requests.get` of the same page.

Both run in the same process, against the same agency emulator on loopback, interleaved so
that machine noise hits both alike. Also checks that consecutive lookups reuse one connection.

    .venv/bin/python bench/lookup_bench.py [--n 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from verify.cards.classify import classify  # noqa: E402
from verify.lookup.client import LookupClient  # noqa: E402
from verify.lookup.emulator import Emulator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    with Emulator() as emu:
        settings = emu.settings()
        url = emu.url("VALID0001")
        bare = requests.Session()
        with LookupClient(settings) as client:
            # Warm both: first connection, imports, caches.
            for _ in range(50):
                _ = bare.get(url).text
                classify(url, settings=settings).status(client)
            connections_before = emu.connections
            ours, theirs = [], []
            for _ in range(args.n):
                t0 = time.perf_counter()
                status = classify(url, settings=settings).status(client)
                t1 = time.perf_counter()
                _ = bare.get(url).text
                t2 = time.perf_counter()
                assert status.validity.state == "valid"
                ours.append(t1 - t0)
                theirs.append(t2 - t1)
            new_connections = emu.connections - connections_before
    ours_ms = statistics.median(ours) * 1000
    theirs_ms = statistics.median(theirs) * 1000
    pairs = sorted((a - b) * 1000 for a, b in zip(ours, theirs, strict=True))
    print(f"lookups: {args.n} each, interleaved, loopback emulator")
    print(f"verify (parse + lookup + page reading) median: {ours_ms:.3f} ms")
    print(f"bare requests.get (same page)          median: {theirs_ms:.3f} ms")
    print(
        f"overhead, median of paired differences:      {statistics.median(pairs):.3f} ms "
        f"(goal < 2 ms)"
    )
    print(
        f"new connections during the timed verify lookups + bare gets: {new_connections} "
        f"(0 = both reused their one connection)"
    )
    return 0 if statistics.median(pairs) < 2.0 and new_connections == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
