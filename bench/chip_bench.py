"""Chip benchmark: from a card put on the reader to the result, and what each step costs.

The real PC/SC stack of the tests: a pcscd of its own with the vpcd reader driver, the tests'
emulated UT card chip (tests/support_chip.py), a fresh test PKI. Each round starts the check
first (it waits for a card, as at the desk), then puts the card on the reader; times are from
that moment. Needs root (pcscd in its own mount namespace) and the test packages.

    .venv/bin/python bench/chip_bench.py --rounds 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support_chip import Behaviour, Pcscd, VirtualCard, chip_for  # noqa: E402
from tests.support_chip_pki import make_card, make_csca, make_signer  # noqa: E402
from verify.authenticity import check_chip  # noqa: E402
from verify.cards.emrtd.trust import load_trust_store  # noqa: E402
from verify.cards.mrz import parse_mrz  # noqa: E402

STEPS = ("card_present", "select", "bac", "ef_com", "dg1", "ef_sod", "passive_authentication")


def one_round(port: int, card: object, mrz: object, trust: object,
              delay: float) -> tuple[str, float, dict[str, float]]:
    """(result state, put-on time, step name → monotonic time) of one card on the reader."""
    marks: dict[str, float] = {}
    result: dict[str, str] = {}

    def run() -> None:
        auth = check_chip(mrz, trust=trust, deadline=10.0,  # type: ignore[arg-type]
                          on_step=lambda name: marks.__setitem__(name, time.monotonic()))
        result["state"] = auth.state
        marks["result"] = time.monotonic()

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.3)  # the check is waiting for a card, as at the desk
    card_on = VirtualCard(port, chip_for(card), Behaviour(delay=delay))
    put = time.monotonic()
    card_on.insert()
    worker.join()
    card_on.remove()
    time.sleep(0.3)  # pcscd sees the card go
    return result["state"], put, marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.0,
                        help="seconds the emulated chip takes per APDU (a slow chip)")
    args = parser.parse_args()
    service = Pcscd()
    os.environ.update(service.env)  # before the first PC/SC call: the library keeps the path

    try:
        csca = make_csca()
        card = make_card(make_signer(csca))
        trust = load_trust_store([("se.pem", csca.pem)], datetime.now(UTC))
        mrz = parse_mrz(card.zone)
        totals: list[float] = []
        per_step: dict[str, list[float]] = {s: [] for s in STEPS}
        states: set[str] = set()
        for _ in range(args.rounds):
            state, put, marks = one_round(service.port, card, mrz, trust, args.delay)
            states.add(state)
            totals.append(marks["result"] - put)
            last = put
            for step in STEPS:
                per_step[step].append(marks[step] - last)
                last = marks[step]
        print(f"rounds: {args.rounds}; results: {sorted(states)}; APDU delay {args.delay:g} s")
        print(f"card on reader → result: median {statistics.median(totals) * 1000:.0f} ms, "
              f"max {max(totals) * 1000:.0f} ms")
        for step in STEPS:
            values = per_step[step]
            print(f"  {step:24s} median {statistics.median(values) * 1000:7.1f} ms  "
                  f"max {max(values) * 1000:7.1f} ms")
    finally:
        service.close()


if __name__ == "__main__":
    main()
