#!/usr/bin/env python3
"""How long a lookup takes against each hostile server of the fault suite (issue 15).

    PYTHONPATH=. .venv/bin/python bench/lookup_faults.py [--deadline 1.0]

Every framing × trickle phase, a proxy that trickles its CONNECT reply, a proxy whose tunnel
stays silent, a TLS server that never answers the ClientHello, and one that trickles a TLS
record: real servers on loopback (tests/support_faults.py). Prints each lookup's state and time,
one after the other, then all at once. Every time should be the deadline plus milliseconds.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from tests.lookup import test_faults as suite
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


if __name__ == "__main__":
    main()
