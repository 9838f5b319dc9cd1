#!/usr/bin/env python3
"""The desk web server under a flood of idle and slow connections (issues 15 and 21).

    PYTHONPATH=. .venv/bin/python bench/desk_flood.py [--idle 2000] [--slow 200] [--requests 20]
    PYTHONPATH=. .venv/bin/python bench/desk_flood.py --idle 0 --slow 0 --bodies 300 --foreign 100

`verify daemon` runs as a real process (a scanner on a pty, the agency emulator, the desk on
127.0.0.1:0). This process opens IDLE connections that send nothing, SLOW ones that send half a
request head, BODIES that announce a `POST /login` body and never send it, and FOREIGN event-stream
requests (`Origin` of another site) left open; then times GET / and GET /healthz while they are
held, times one scan from the pty scanner to the event log, and counts the daemon's open files
(/proc/PID/fd) before and at the peak.
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import socket
import statistics
import tempfile
import time
from pathlib import Path

from tests.support_daemon import DaemonProcess, PtyScanner, daemon_env
from verify.lookup.emulator import Emulator


def get(port: int, path: str) -> float:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}")
    return time.monotonic() - started


def held_bodies(port: int, n: int) -> list[socket.socket]:
    """POST /login announcing 4000 bytes of body, none sent."""
    out = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Content-Length: 4000\r\n\r\n".encode())
        out.append(sock)
    return out


def held_foreign_streams(port: int, n: int) -> list[socket.socket]:
    """GET /api/events as a page of another site sends it, left open."""
    out = []
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Origin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\n\r\n".encode())
        out.append(sock)
    return out


def scan_to_event(scanner: PtyScanner, payload: str, events: Path) -> float:
    before = len(events.read_text().splitlines()) if events.exists() else 0
    started = time.monotonic()
    scanner.scan(payload)
    while (len(events.read_text().splitlines()) if events.exists() else 0) <= before:
        if time.monotonic() - started > 20:
            raise SystemExit("the scan never reached the event log")
        time.sleep(0.005)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--bodies", type=int, default=0)
    parser.add_argument("--foreign", type=int, default=0)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.idle + args.slow + args.bodies + args.foreign + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emu:
        scanner = PtyScanner(Path(tmp) / "scanner")
        events = Path(tmp) / "events.jsonl"
        daemon = DaemonProcess(["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0",
                                "--events", str(events)], daemon_env(emu.env()), Path(tmp))
        held: list[socket.socket] = []
        try:
            port = int(daemon.desk_url().rstrip("/").rsplit(":", 1)[1])
            deadline = time.monotonic() + 30
            while True:  # 503 until the scanner's source is open
                try:
                    get(port, "/healthz")
                    break
                except SystemExit:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            fds_before = len(os.listdir(f"/proc/{daemon.proc.pid}/fd"))
            started = time.monotonic()
            for i in range(args.idle + args.slow):
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                if i >= args.idle:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                held.append(sock)
            held += held_bodies(port, args.bodies) + held_foreign_streams(port, args.foreign)
            opened = time.monotonic() - started
            time.sleep(0.5)
            times: dict[str, list[float]] = {"/": [], "/healthz": []}
            peak = 0
            for _ in range(args.requests):
                for path in times:
                    times[path].append(get(port, path))
                peak = max(peak, len(os.listdir(f"/proc/{daemon.proc.pid}/fd")))
            scan = scan_to_event(scanner, emu.url("VALID0001"), events)
        finally:
            for sock in held:
                sock.close()
            daemon.stop()
            scanner.unplug()
    print(f"{args.idle} idle + {args.slow} half-a-head + {args.bodies} never-sent-body + "
          f"{args.foreign} foreign event-stream connections opened in {opened:.2f} s")
    for path, values in times.items():
        print(f"GET {path:9} p50 {statistics.median(values) * 1000:.1f} ms, "
              f"max {max(values) * 1000:.1f} ms over {len(values)} requests")
    print(f"one scan, pty scanner to the event log: {scan * 1000:.1f} ms")
    print(f"daemon open files: {fds_before} before, {peak} at peak")
    tracebacks = sum("Traceback" in line for line in daemon.log)
    print(f"traceback lines in the daemon's stderr: {tracebacks}")


if __name__ == "__main__":
    main()
