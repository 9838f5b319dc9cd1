#!/usr/bin/env python3
"""The desk web server under a flood of idle and slow connections (issue 15).

    PYTHONPATH=. .venv/bin/python bench/desk_flood.py [--idle 2000] [--slow 200] [--requests 20]

`verify daemon` runs as a real process (a scanner on a pty, the desk on 127.0.0.1:0). This
process opens IDLE connections that send nothing and SLOW ones that send half a request head,
then times GET / and GET /healthz while they are held, and counts the daemon's open files
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.idle + args.slow + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    with tempfile.TemporaryDirectory() as tmp:
        scanner = PtyScanner(Path(tmp) / "scanner")
        daemon = DaemonProcess(["--source", f"serial:{scanner.link}", "--http", "127.0.0.1:0"],
                               daemon_env(), Path(tmp))
        held: list[socket.socket] = []
        try:
            port = int(daemon.desk_url().rstrip("/").rsplit(":", 1)[1])
            get(port, "/healthz")
            fds_before = len(os.listdir(f"/proc/{daemon.proc.pid}/fd"))
            started = time.monotonic()
            for i in range(args.idle + args.slow):
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                if i >= args.idle:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                held.append(sock)
            opened = time.monotonic() - started
            times: dict[str, list[float]] = {"/": [], "/healthz": []}
            peak = 0
            for _ in range(args.requests):
                for path in times:
                    times[path].append(get(port, path))
                peak = max(peak, len(os.listdir(f"/proc/{daemon.proc.pid}/fd")))
        finally:
            for sock in held:
                sock.close()
            daemon.stop()
            scanner.unplug()
    print(f"{args.idle} idle + {args.slow} half-a-head connections opened in {opened:.2f} s")
    for path, values in times.items():
        print(f"GET {path:9} p50 {statistics.median(values) * 1000:.1f} ms, "
              f"max {max(values) * 1000:.1f} ms over {len(values)} requests")
    print(f"daemon open files: {fds_before} before, {peak} at peak")
    tracebacks = sum("Traceback" in line for line in daemon.log)
    print(f"traceback lines in the daemon's stderr: {tracebacks}")


if __name__ == "__main__":
    main()
