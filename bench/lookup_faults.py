#!/usr/bin/env python3
"""How long a lookup takes against each hostile server of the fault suite (issue 15).

    PYTHONPATH=. .venv/bin/python bench/lookup_faults.py [--deadline 1.0]

Every framing × trickle phase, a proxy that trickles its CONNECT reply, a proxy whose tunnel
stays silent, a TLS server that never answers the ClientHello, and one that trickles a TLS
record: real servers on loopback (tests/support_faults.py). Prints each lookup's state and time,
one after the other, then all at once. Every time should be the deadline plus milliseconds.
Then the parse bombs: the red team's 257 KB page of 43,000 `<b>` and 32,000 stray `</i>` (read
well inside the deadline), and a 2 MB page of tags with the body cap raised to let it in (too
slow to read: `unknown` at the deadline). Each must end within the deadline + 1 s.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from tests.lookup import test_faults as suite
from tests.support_faults import parse_bomb_page
from verify.cards.reference import from_token
from verify.lookup.client import LookupClient


def run(name: str, base: str, env: dict[str, str | None]) -> tuple[str, str, float]:
    settings = suite._settings(base)
    started = time.monotonic()
    with LookupClient(settings) as client:
        if env.get("HTTPS_PROXY"):
            client.proxies = {"https": str(env["HTTPS_PROXY"])}
        validity = client.lookup(from_token(suite.TOKEN, settings))
    return name, validity.state, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, default=1.0)
    args = parser.parse_args()
    suite.DEADLINE = args.deadline
    for mode in ("one after the other", "all at once"):
        with ExitStack() as stack:
            prepared = [(name, *suite._case(stack, name)) for name in suite.CASES]
            started = time.monotonic()
            if mode == "all at once":
                with ThreadPoolExecutor(len(prepared)) as pool:
                    results = list(pool.map(lambda a: run(*a), prepared))
            else:
                results = [run(*a) for a in prepared]
            total = time.monotonic() - started
        worst = max(t for _, _, t in results)
        print(f"{mode}: {len(results)} cases in {total:.2f} s, slowest lookup {worst:.3f} s "
              f"(deadline {args.deadline:g} s)")
        if mode == "one after the other":
            for name, state, took in results:
                print(f"  {name:24} {state:8} {took:.3f} s")
    bombs = [
        ("parse-bomb-257KB", parse_bomb_page(), 256 * 1024),
        ("parse-bomb-2MB", parse_bomb_page(opens=700_000, stray_ends=0), 4 * 1024 * 1024),
    ]
    print("parse bombs (served at once; the parse counts inside the deadline):")
    for name, body, cap in bombs:
        validity, took, _ = suite._bomb_lookup(body, args.deadline, cap)
        within = "within" if took < args.deadline + 1 else "OVER"
        print(f"  {name:24} {validity.state:8} {took:.3f} s ({len(body):,} bytes; {within} "
              f"deadline + 1 s)")


if __name__ == "__main__":
    main()
