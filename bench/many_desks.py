#!/usr/bin/env python3
"""Many browser-only desks on ONE instance of `verify desk serve` (issue 22's load).

    PYTHONPATH=. .venv/bin/python bench/many_desks.py [--desks 300] [--interval 10]
        [--duration 300] [--agency-ms 200]

`verify desk add` makes the desks (one shared key, one desks file); each is enrolled over HTTP
like a browser pressing the link's button, opens its page (the page token) and holds its event
stream open on a socket of its own. Then every desk sends one keyboard-scanner burst every
INTERVAL seconds (phases spread evenly) for DURATION seconds; the agency emulator answers each
lookup after AGENCY_MS. Measured per scan, from sending the burst:
- `answer`: the scan's answer back on the request that carried it (what the page shows);
- `stream`: the status arriving on that desk's event stream (what the page's other tabs show).
Errors are non-200 answers, failed requests and scans whose status never reached their stream;
a cross-desk delivery is a status with one desk's code on another desk's stream. The instance's
memory (VmRSS) and CPU time (/proc) are sampled as it runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import selectors
import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support_desks import ServeProcess, add_desk, burst, call, page_token
from verify.desk.deskbook import load_book, load_key, save_book
from verify.desk.desks import Book, Desk, enrolment_token, new_desk_id
from verify.lookup.emulator import Emulator

CODE = re.compile(rb"/lmakort/(D\d{4}S\d{5}X)")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Streams:
    """Every desk's event stream on one selector thread: when each code arrived, where."""

    def __init__(self, port: int, desks: list[tuple[str, str, str]]) -> None:
        self.sel = selectors.DefaultSelector()
        self.arrived: dict[bytes, float] = {}
        self.cross = 0
        self.lock = threading.Lock()
        self.buffers: dict[socket.socket, bytearray] = {}
        for name, path, cookie in desks:
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(f"GET {path}api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                         f"Cookie: {cookie}\r\n\r\n".encode())
            sock.setblocking(False)
            self.sel.register(sock, selectors.EVENT_READ, name.encode())
            self.buffers[sock] = bytearray()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            for key, _ in self.sel.select(0.2):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    chunk = sock.recv(65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    self.sel.unregister(sock)
                    continue
                at = time.monotonic()
                buf = self.buffers[sock]
                buf += chunk
                while b"\n\n" in buf:
                    message, _, rest = bytes(buf).partition(b"\n\n")
                    buf[:] = rest
                    for code in CODE.findall(message):
                        with self.lock:
                            if code[1:5] != key.data:
                                self.cross += 1
                            self.arrived.setdefault(code, at)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--desks", type=int, default=300)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=300.0)
    parser.add_argument("--agency-ms", type=float, default=200.0)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, 4 * args.desks + 256), hard),
                                                hard))
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emu:
        emu.delay = args.agency_ms / 1000
        folder = Path(tmp) / "desks"
        started = time.monotonic()
        # The first desk through the CLI (it makes the key); the rest into the same desks file
        # in one go (300 CLI processes would only time Python's start-up).
        first = add_desk(folder, "desk 0001", "site 1", "http://127.0.0.1")
        book = load_book(folder)
        more = [Desk(new_desk_id(), f"desk {i:04d}", f"site {i % 20}")
                for i in range(2, args.desks + 1)]
        save_book(folder, Book(desks={**book.desks, **{d.id: d for d in more}}))
        all_desks = [*book.desks.values(), *more]
        key = load_key(folder)
        serve = ServeProcess(folder, emu.env(), "--region", "skane", "--max-pages",
                             str(args.desks + 64), "--clear-after", "30")
        try:
            port = serve.port
            desks = []
            for i, desk in enumerate(all_desks):
                # Enrolled like a browser pressing the link's button.
                path = (first.split("/", 3)[3] if i == 0 else
                        "enrol/" + enrolment_token(key, desk, now=time.time()))
                status, headers, _ = call(port, "POST", "/" + path)
                assert status == 303, status
                cookie = headers["set-cookie"].split(";")[0]
                _, _, page = call(port, "GET", desk.path, headers={"Cookie": cookie})
                desks.append((f"{i + 1:04d}", desk.path, cookie, page_token(page)))
            print(f"{args.desks} desks enrolled in {time.monotonic() - started:.1f} s")
            streams = Streams(port, [(n, p, c) for n, p, c, _ in desks])
            time.sleep(1.0)
            pid = serve.proc.pid
            samples = [(0.0, rss_kib(pid))]
            cpu0 = cpu_seconds(pid)
            sent: dict[bytes, float] = {}
            answered: dict[bytes, float] = {}
            errors: list[str] = []
            lock = threading.Lock()

            def scan(name: str, path: str, cookie: str, token: str, seq: int) -> None:
                code = f"D{name}S{seq:05d}X"
                at = time.monotonic()
                with lock:
                    sent[code.encode()] = at
                try:
                    status, _, body = call(port, "POST", path + "api/scan",
                                           burst(emu.url(code)),
                                           {"Cookie": cookie, "X-Verify-Page": token,
                                            "Content-Type": "application/json"})
                    ok = status == 200 and code.encode() in body
                    if ok and json.loads(body)["desk"]["tone"] != "not_valid":
                        ok = False
                except OSError as exc:
                    status, ok = type(exc).__name__, False
                with lock:
                    if ok:
                        answered[code.encode()] = time.monotonic() - at
                    else:
                        errors.append(f"{code}: {status}")

            t0 = time.monotonic()
            rounds = int(args.duration // args.interval)
            with ThreadPoolExecutor(max_workers=128) as pool:
                for r in range(rounds):
                    for i, (name, path, cookie, token) in enumerate(desks):
                        due = t0 + r * args.interval + i * args.interval / len(desks)
                        delay = due - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                        pool.submit(scan, name, path, cookie, token, r)
                    samples.append((time.monotonic() - t0, rss_kib(pid)))
            time.sleep(2.0)
            cpu = cpu_seconds(pid) - cpu0
            wall = time.monotonic() - t0
            streams.close()
        finally:
            serve.stop()
    stream_lat = [streams.arrived[c] - sent[c] for c in sent if c in streams.arrived]
    lost = [c for c in sent if c not in streams.arrived]
    answer_lat = list(answered.values())
    total = len(sent)
    per_scan_cpu = cpu / max(1, total)
    print(f"scans {total} over {wall:.0f} s ({total / wall:.1f}/s), agency {args.agency_ms:.0f} ms")
    print(f"answer on its request: p50 {1000 * statistics.median(answer_lat):.0f} ms, "
          f"p99 {1000 * pct(answer_lat, 99):.0f} ms, max {1000 * max(answer_lat):.0f} ms")
    if stream_lat:
        print(f"status on the desk's stream: p50 {1000 * statistics.median(stream_lat):.0f} ms, "
              f"p99 {1000 * pct(stream_lat, 99):.0f} ms")
    print(f"errors {len(errors) + len(lost)} ({len(errors)} answers, {len(lost)} never on "
          f"the stream); cross-desk deliveries {streams.cross}")
    print("memory (VmRSS, MiB) at s: " + ", ".join(
        f"{t:.0f}: {kib / 1024:.1f}" for t, kib in samples[:: max(1, len(samples) // 6)]
        + [samples[-1]]))
    print(f"instance CPU {cpu:.1f} s = {1000 * per_scan_cpu:.1f} ms per scan "
          f"({100 * cpu / wall:.0f}% of one core at this rate)")
    need = 500 / args.interval  # scans per second of 500 desks scanning as often as here
    cores = need * per_scan_cpu
    print(f"500 desks at one scan per {args.interval:.0f} s each = {need:.0f} scans/s "
          f"= {cores:.2f} cores of this instance's work; 500 open pages = 500 feeds")
    if errors[:5]:
        print("first errors:", errors[:5])


if __name__ == "__main__":
    main()
