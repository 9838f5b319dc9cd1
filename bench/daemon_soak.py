#!/usr/bin/env python3
"""Soak and fault run for `verify daemon` (issue 7).

    PYTHONPATH=. .venv/bin/python bench/daemon_soak.py [--scans 10000] [--baud 115200]

A scanner on a real pseudo-terminal sends N distinct card codes (plus an immediate repeat of
every 50th, which must be absorbed as the same event) at the serial line rate given by --baud
(0: as fast as the pty takes them). The lookup goes to the agency emulator on loopback. A third
of the way in the scanner is unplugged and plugged back; at two thirds the agency has an outage
for 300 scans. The daemon is a real `verify daemon` process.

Checks and figures:
- every distinct scan gives exactly one event, in order (matched through the audit log's keyed
  pseudonyms, since events are redacted);
- scans during the outage say `unknown`, the others what the emulator says;
- latency from the terminator byte leaving the scanner to the event line arriving (p50/p99/max),
  and the daemon's own `latency_ms` (terminator seen by the driver → event emitted);
- the daemon's resident memory after warm-up and at the end.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from hashlib import sha256
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support_scanner import PtyScanner  # noqa: E402
from verify.lookup.emulator import Emulator  # noqa: E402

AUDIT_KEY = "soak-audit-key-0123456789"


def wait_fd_open(pid: int, link: Path, timeout: float = 10.0) -> None:
    """Until the daemon holds the tty open: the serial driver drops input older than its open."""
    target = os.path.realpath(link)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == target:
                    time.sleep(0.1)
                    return
            except OSError:
                continue
        time.sleep(0.02)
    raise SystemExit(f"the daemon never opened {target}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def expected_state(token: str) -> str:
    return "valid" if token.startswith(("VALID", "NOWORK")) else "not_valid"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scans", type=int, default=10_000)
    ap.add_argument("--baud", type=int, default=115200, help="serial line rate; 0 = unpaced")
    ap.add_argument("--outage", type=int, default=300, help="scans sent during the outage")
    ap.add_argument("--max-lookups", type=int, default=4)
    ap.add_argument("--idle", help="the serial source's idle= option (0 disables the timeout)")
    ap.add_argument("--region", help="decide for this region too (adds the rules' cost)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="verify-soak-"))
    scanner = PtyScanner(work / "scanner")
    kinds = ("VALID", "NOWORK", "NOINFO")
    tokens = [f"{kinds[i % 3]}{i:06d}" for i in range(args.scans)]
    unplug_at, outage_at = args.scans // 3, 2 * args.scans // 3
    outage_end = outage_at + args.outage
    sent_at: list[float] = []
    arrived: list[tuple[float, dict]] = []
    with Emulator() as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VERIFY_")}
        env.update(emu.env(), PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1",
                   VERIFY_AUDIT_KEY=AUDIT_KEY, VERIFY_LOOKUP_TIMEOUT="2")
        cmd = [sys.executable, "-m", "verify", "daemon",
               "--source", f"serial:{scanner.link}?backoff=0.2"
               + (f"&idle={args.idle}" if args.idle is not None else ""),
               "--events", "-", "--http", "127.0.0.1:0", "--max-lookups", str(args.max_lookups),
               "--audit-log", str(work / "audit.jsonl")]
        if args.region:
            cmd += ["--region", args.region]
        proc = subprocess.Popen(cmd, env=env, cwd=work, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, bufsize=1)
        log: list[str] = []
        threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True).start()

        def read_events() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                arrived.append((time.monotonic(), json.loads(line)))

        reader = threading.Thread(target=read_events, daemon=True)
        reader.start()
        deadline = time.monotonic() + 20
        while not any("source serial:" in x and "open" in x for x in log):
            if time.monotonic() > deadline or proc.poll() is not None:
                print("daemon did not start:\n" + "".join(log), file=sys.stderr)
                return 2
            time.sleep(0.05)

        wait_fd_open(proc.pid, scanner.link)
        payloads = [emu.url(t).encode() + b"\r" for t in tokens]
        byte_time = 10 / args.baud if args.baud else 0.0  # 8N1: 10 bits a byte
        rss_warm = 0
        started = time.monotonic()
        next_at = started
        for i, data in enumerate(payloads):
            if i == 500:
                time.sleep(0.5)
                rss_warm = rss_kib(proc.pid)
                next_at = time.monotonic()
            if i == unplug_at:
                while len(arrived) < i:  # unplugged between two scans, not in the middle of one
                    time.sleep(0.01)
                scanner.unplug()
                time.sleep(1.0)
                scanner.plug()
                deadline = time.monotonic() + 10  # the driver finds it again under the same name
                while not any("device is back" in x for x in log):
                    if time.monotonic() > deadline:
                        print("the serial source did not come back", file=sys.stderr)
                        return 2
                    time.sleep(0.01)
                wait_fd_open(proc.pid, scanner.link)
                next_at = time.monotonic()
            if i == outage_at:
                while len(arrived) < i:  # the outage starts after the last answer before it
                    time.sleep(0.01)
                emu.outage = True
                next_at = time.monotonic()
            if i == outage_end:
                while len(arrived) < outage_end:  # let the outage scans be answered first
                    time.sleep(0.01)
                emu.outage = False
                next_at = time.monotonic()
            if byte_time:
                next_at += len(data) * byte_time
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            sent_at.append(scanner.send(data))
            if i % 50 == 0:  # the same card again at once: must be the same event
                scanner.send(data)
        send_seconds = time.monotonic() - started
        deadline = time.monotonic() + 60
        while len(arrived) < args.scans and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        rss_end = rss_kib(proc.pid)
        cpu = cpu_seconds(proc.pid)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(20)
        reader.join(5)
        requests = emu.requests
    scanner.unplug()

    # Order and completeness through the audit log's pseudonyms.
    key = AUDIT_KEY.encode()
    want = [hmac.new(key, f"token:{t}".encode(), sha256).hexdigest() for t in tokens]
    audit = [json.loads(x) for x in (work / "audit.jsonl").read_text().splitlines()]
    got = [a["subjects"].get("lookup_token") for a in audit]
    exact = got == want
    states = [e["validity"]["state"] for _, e in arrived]
    wrong = [i for i, t in enumerate(tokens[: len(states)])
             if not outage_at <= i < outage_end and states[i] != expected_state(t)]
    outage_unknown = sum(1 for s in states[outage_at:outage_end] if s == "unknown")
    n = min(len(arrived), len(sent_at))
    e2e = [(arrived[i][0] - sent_at[i]) * 1000 for i in range(n)
           if not (unplug_at <= i < unplug_at + 5)]
    own = [e["event"]["latency_ms"] for _, e in arrived]
    fault_free = [x for i, x in enumerate(e2e) if not outage_at <= i < outage_end]

    print(f"command: {' '.join(sys.argv)}")
    print(f"scans sent: {len(sent_at)} distinct + {len(range(0, args.scans, 50))} immediate "
          f"repeats in {send_seconds:.1f} s at {args.baud or 'unpaced'} baud "
          f"({len(sent_at) / send_seconds:.0f} scans/s)")
    print(f"events: {len(arrived)} (want {args.scans}); audit lines: {len(audit)}; "
          f"exactly one per distinct scan, in order: {exact}")
    print(f"wrong states outside the outage: {len(wrong)}; unknown during the outage: "
          f"{outage_unknown}/{args.outage}; agency requests: {requests}")
    print(f"terminator byte -> event line (all, ms): p50 {pct(e2e, 50):.2f}  p99 "
          f"{pct(e2e, 99):.2f}  max {max(e2e):.2f}")
    print(f"  outside the outage: p50 {pct(fault_free, 50):.2f}  p99 {pct(fault_free, 99):.2f}")
    print(f"daemon's own latency_ms: p50 {statistics.median(own):.2f}  p99 {pct(own, 99):.2f}")
    print(f"resident memory: after warm-up {rss_warm / 1024:.1f} MiB, end {rss_end / 1024:.1f} "
          f"MiB, growth {(rss_end - rss_warm) / 1024:.2f} MiB")
    print(f"daemon CPU: {cpu:.1f} s in all, {cpu / max(1, len(arrived)) * 1000:.2f} ms per event")
    print(f"daemon exit code after SIGTERM: {code}")
    if os.environ.get("SOAK_DEBUG"):
        slow = sorted(range(len(e2e)), key=lambda i: -e2e[i])[: max(1, len(e2e) // 100)]
        print("slowest scans (index: ms):", ", ".join(f"{i}: {e2e[i]:.0f}" for i in sorted(slow)))
    bases: dict[str, int] = {}
    for _, e in arrived:
        bases[e["validity"]["basis"]] = bases.get(e["validity"]["basis"], 0) + 1
    print(f"events by basis: {bases}")
    if not exact:
        first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
        print(f"first mismatch at event {first}")
    warnings = [x.strip() for x in log if "WARNING" in x]
    print(f"daemon warnings: {len(warnings)}" + "".join(f"\n  {w}" for w in warnings[:5]))
    ok = exact and not wrong and code == 0 and len(arrived) == args.scans
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
