"""Serial scanner path: throughput and terminator-to-Scan latency on a real pty with pyserial.

    PYTHONPATH=. python bench/serial_bench.py [--scans 2000] [--latency 500]

Throughput: a burst of N terminated scans written to the pty master as fast as the kernel takes
them; scans per second until the last Scan comes out of `SerialSource`.
Latency: one scan at a time — payload written, pause, then the CR alone; the clock starts just
before the CR is written and stops at `Scan.received` (set when the driver made the Scan).
Also the framer alone (no I/O) for comparison.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import tempfile
import threading
import time
import tty
from pathlib import Path

from drivers import open_source
from drivers.framing import Framer
from drivers.scan import Scan

PAYLOAD = b"]Q1https://www.migrationsverket.se/lmakort/VALID%06d"


def pty_source(tmp: Path):  # type: ignore[no-untyped-def]
    master, slave = os.openpty()
    tty.setraw(slave)
    link = tmp / "scanner"
    link.symlink_to(os.ttyname(slave))
    source = open_source(f"serial:{link}")
    scans: queue.Queue[Scan] = queue.Queue()

    def run() -> None:
        for scan in source:
            scans.put(scan)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while getattr(source, "port", None) is None:
        time.sleep(0.001)
    time.sleep(0.1)  # pyserial flushes input right after open
    return master, slave, source, scans, thread


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scans", type=int, default=2000)
    ap.add_argument("--latency", type=int, default=500)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmpdir:
        master, slave, source, scans, thread = pty_source(Path(tmpdir))
        try:
            # throughput
            wire = b"".join(PAYLOAD % i + b"\r\n" for i in range(args.scans))
            start = time.monotonic()
            writer = threading.Thread(target=write_all, args=(master, wire))
            writer.start()
            for i in range(args.scans):
                scan = scans.get(timeout=30)
                assert scan.payload.endswith(f"{i:06d}"), (i, scan.payload)
            elapsed = time.monotonic() - start
            writer.join()
            print(
                f"throughput: {args.scans} scans in {elapsed:.3f} s = "
                f"{args.scans / elapsed:,.0f} scans/s (pty, pyserial, framer, Scan)"
            )

            # latency
            latencies = []
            for i in range(args.latency):
                write_all(master, PAYLOAD % i)
                time.sleep(0.002)
                t0 = time.monotonic()
                write_all(master, b"\r")
                scan = scans.get(timeout=5)
                latencies.append((scan.received - t0) * 1000)
            latencies.sort()
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(
                f"latency terminator->Scan over {len(latencies)} scans: "
                f"median {statistics.median(latencies):.3f} ms, p99 {p99:.3f} ms, "
                f"max {latencies[-1]:.3f} ms (goal p99 <= 5 ms)"
            )
        finally:
            source.close()
            thread.join(2)
            os.close(master)
            os.close(slave)

    framer = Framer()
    wire = b"".join(PAYLOAD % i + b"\r\n" for i in range(20000))
    start = time.perf_counter()
    n = 0
    for off in range(0, len(wire), 64):  # USB full-speed packet size
        n += len(framer.feed(wire[off : off + 64], 0.0))
    elapsed = time.perf_counter() - start
    print(
        f"framer alone: {n} scans in {elapsed:.3f} s = {n / elapsed:,.0f} scans/s "
        f"({len(wire) / elapsed / 1e6:.1f} MB/s, 64-byte reads)"
    )


if __name__ == "__main__":
    main()
