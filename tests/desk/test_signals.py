"""A service stops on SIGTERM whenever the signal comes: at any line its main thread runs.

A Python handler runs between two bytecodes of the main thread, so where the signal lands
decides what the handler finds held. A handler that took a lock the interrupted code held
(`Event.set()` inside `Event.wait`) left `verify daemon` deaf to SIGTERM after a reload. These
tests do not wait for an unlucky moment: a trace function raises the signal at every line the
main thread runs once the service's handlers are in place, each in a child process, so a hang
fails the test instead of the run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support_daemon import REPO, PtyScanner, daemon_env

# `tracer_for(EVERY, STOP, …)` raises EVERY at each line event of the main thread once the
# handlers for EVERY and STOP are Python code, except inside the handler itself (a handler
# re-entered from its own lines is not what a signal does), then STOP once.
TRACER = """
import signal, sys, time

STOPPED_AT = []  # when STOP was raised, by the monotonic clock


def handler_code(signum):
    h = signal.getsignal(signum)
    h = getattr(h, "__func__", h)
    return getattr(h, "__code__", None)

def tracer_for(every, stop, stop_at=None, stop_after=None, lines=None):
    # STOP at line event number `stop_at`, or at the first line `stop_after` seconds after
    # the handlers were in place; EVERY at each line before that.
    seen = [0]
    began = []

    def tracer(frame, event, arg):
        if event != "line" or seen[0] < 0:
            return tracer
        code = handler_code(stop)
        if code is None or (every is not None and handler_code(every) is None):
            return tracer
        f = frame
        while f is not None:
            if f.f_code is code:
                return tracer
            f = f.f_back
        seen[0] += 1
        if not began:
            began.append(time.monotonic())
        if lines is not None:
            lines.add((frame.f_code.co_filename, frame.f_lineno))
        if seen[0] == stop_at or (
                stop_after is not None and time.monotonic() - began[0] > stop_after):
            seen[0] = -1  # once
            STOPPED_AT.append(time.monotonic())
            signal.raise_signal(stop)
        elif every is not None:
            signal.raise_signal(every)
        return tracer

    return tracer
"""


def run_child(*parts: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """The tracer and the parts as one script, in a child process: a hang fails, by timeout."""
    script = "\n".join([TRACER, *(textwrap.dedent(p) for p in parts)])
    try:
        return subprocess.run(
            [sys.executable, "-c", script], cwd=REPO,
            env=daemon_env(), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the child did not stop: {exc.stderr!r}") from None


SERVE = """
import signal, sys, time
from verify.desk.signals import ServiceSignals

def serve(signals):  # a service's main loop, as the daemon's and `desk serve`'s are
    while not signals.stop_asked:
        signals.wait(5.0)
        signals.take_reload()

def stopped_within(tracer):
    with ServiceSignals() as signals:
        sys.settrace(tracer)
        serve(signals)
        sys.settrace(None)
        assert signals.stopped_by == signal.SIGTERM
    return time.monotonic() - STOPPED_AT[-1]
"""


def test_a_stop_at_any_line_of_the_wait_ends_it_at_once() -> None:
    """With reloads asked at every line, SIGTERM at line 1, then 2, 3, … 60 of the loop: each
    time the loop ends at once, never after its 5 s wait."""
    done = run_child(SERVE, """
        lines = set()
        worst = max(stopped_within(tracer_for(signal.SIGHUP, signal.SIGTERM, stop_at=k,
                                              lines=lines)) for k in range(1, 61))
        print(len(lines), round(worst, 3))
    """)
    assert done.returncode == 0, done.stderr
    covered, worst = done.stdout.split()
    assert int(covered) >= 8  # the loop's lines and the wait's
    assert float(worst) < 0.5


def test_a_stop_just_before_the_wait_blocks_ends_it_at_once() -> None:
    """The one signal lands on the line that calls `select`, so its Python handler runs only
    after `select` was entered: the interpreter's wake-up byte still ends the wait."""
    done = run_child(SERVE, """
        import linecache

        def tracer(frame, event, arg):
            if event == "line" and not STOPPED_AT and "select.select(" in linecache.getline(
                    frame.f_code.co_filename, frame.f_lineno):
                STOPPED_AT.append(time.monotonic())
                signal.raise_signal(signal.SIGTERM)
            return tracer

        print(round(stopped_within(tracer), 3))
    """)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 0.5


def test_the_daemon_stops_on_sigterm_after_a_sighup_at_every_line(tmp_path: Path) -> None:
    """A reload asked at each line of the main thread for two seconds, then SIGTERM: the
    daemon reloads, stops, drains and exits 0."""
    scanner = PtyScanner(tmp_path / "scanner")
    config = tmp_path / "daemon.toml"
    config.write_text('region = "skane"\n')
    try:
        done = run_child(f"""
            import signal, sys
            from verify.cli import main
            sys.settrace(tracer_for(signal.SIGHUP, signal.SIGTERM, stop_after=2.0))
            main(["daemon", "--source", "serial:{scanner.link}", "--http", "127.0.0.1:0",
                  "--config", {str(config)!r}, "--events",
                  {str(tmp_path / "events.jsonl")!r}])  # exits with the daemon's code
        """)
    finally:
        scanner.unplug()
    assert done.returncode == 0, done.stderr
    assert "reloaded: region=skane" in done.stderr
    assert "stopped: 0 scan(s)" in done.stderr
