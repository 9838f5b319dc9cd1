"""Benchmark: the live camera path as a prescriber uses it, against zxing-cpp fed the same frames.

    python bench/clip_bench.py [--approach 24] [--held 12] [--seed 2311] [--json out.json]

Two kinds of generated 640×480 30 fps clips (bench/sets.py's card and camera model):
- *approach*: 0.3 s of empty desk, then the card comes from far (the card 15 % of the frame
  width, under 1 px per module) to near (45-55 %) over two seconds with hand shake and the
  motion blur its speed gives, two in five tilted by up to 35°, then is held for a second;
- *held*: bench/sets.py `video`: a small (1.4-2.0 px/module), noisy, JPEG-compressed card held
  nearly still for two seconds.

The figure is the time from the first frame with the whole code in view to the decoded
answer, as a live loop meets it: frames arrive every 33 ms; the loop takes the newest frame
when it is free (a webcam with a one-frame buffer) and spends the frame's processing time on
it, measured as this thread's CPU time (a busy machine disturbs it less than wall time). The
cascade's own budgets count the same CPU time (`Cascade(clock=time.thread_time)`): counted in
wall time on a shared machine they would starve the slow steps and measure the neighbours. A
clip not read by its end counts as not read.

Decoders: `verify` is the camera loop's cascade (`Cascade.decode_frame`, the camera's default
budget, frames combined); `zxing-cpp` is zxing-cpp alone on every frame it gets. Seeds:
approach clips 2311 (evaluation, fixed before any run), held clips 2321.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from sets import make_cards, still_video  # noqa: E402

from drivers.camera import DEFAULT_BUDGET_MS  # noqa: E402
from drivers.decode import BASELINES, STACK_DEPTH, Cascade  # noqa: E402

FPS = 30
APPROACH_SEED = 2311
HELD_SEED = 2321


def approach_clip(rng: np.random.Generator, payload: str) -> tuple[list[np.ndarray], int | None]:
    """(frames, index of the first frame with the whole code in view)."""
    mc = make_cards()
    fw, fh = 640, 480
    bg = mc.background(rng, fw, fh)
    card = mc.render_card(payload, rng, ec="M")
    lead, approach, hold = int(0.3 * FPS), 2 * FPS, FPS
    near = float(rng.uniform(0.45, 0.55))
    start = np.array([rng.uniform(-0.35, 0.35), rng.uniform(0.45, 0.7)])  # raised from below
    end = rng.uniform(-0.08, 0.08, 2)
    tilted = rng.random() < 0.4
    yaw0, pitch0 = (rng.uniform(-35, 35, 2) if tilted else rng.uniform(-8, 8, 2))
    roll0 = float(rng.uniform(-20, 20))
    noise = float(rng.uniform(2, 5))
    jpeg = int(rng.integers(60, 86))
    shake = np.zeros(2)
    frames: list[np.ndarray] = []
    first: int | None = None
    prev_centre: np.ndarray | None = None
    for i in range(lead + approach + hold):
        if i < lead:
            frames.append(cv2.imdecode(np.frombuffer(mc.camera(
                bg.astype(np.float32), mc.Shot(name="c", payload=payload, noise=noise,
                                               jpeg=jpeg), rng), np.uint8), cv2.IMREAD_COLOR))
            continue
        t = min(1.0, (i - lead) / approach)
        ease = 1 - (1 - t) ** 2
        frac = 0.15 + (near - 0.15) * ease
        shake = 0.85 * shake + rng.normal(0, 0.004, 2)  # a hand's slow wander and tremor
        pos = start + (end - start) * min(1.0, ease * 1.6) + shake
        shot = mc.Shot(name="c", payload=payload, frame=(fw, fh), card_width_frac=float(frac),
                       roll=roll0 * (1 - 0.5 * ease), yaw=float(yaw0 * (1 - 0.6 * ease)),
                       pitch=float(pitch0 * (1 - 0.6 * ease)),
                       shift=(float(pos[0]), float(pos[1])), noise=noise, jpeg=jpeg)
        corners = mc.card_corners_in_frame(shot, fw, fh)
        centre = corners.mean(axis=0)
        if prev_centre is not None:
            # The exposure is about half the frame interval: the blur is half the travel.
            d = centre - prev_centre
            shot.motion_px = float(np.hypot(*d) * 0.5)
            shot.motion_angle = float(math.degrees(math.atan2(-d[1], d[0])))
        prev_centre = centre
        scene, _ = mc.place(bg.copy(), card, corners)
        frames.append(cv2.imdecode(np.frombuffer(mc.camera(scene, shot, rng), np.uint8),
                                   cv2.IMREAD_COLOR))
        if first is None and mc.code_in_view(shot):
            first = i
    return frames, first


def live(frames: list[np.ndarray], first: int, payload: str,
         make: Callable[[], Cascade]) -> float | None:
    """Seconds from frame `first` arriving to the answer, in the live-loop model (module
    text), or None when the clip ends unread."""
    cascade = make()
    clock = 0.0
    last = -1
    while True:
        newest = min(len(frames) - 1, int(clock * FPS))
        if newest <= last:
            if last == len(frames) - 1:
                return None
            newest = last + 1
            clock = newest / FPS  # idle until the next frame arrives
        last = newest
        t0 = time.thread_time()
        found = cascade.decode_frame(frames[newest])
        clock += time.thread_time() - t0
        if newest >= first and any(d.text == payload for d in found):
            return clock - first / FPS


BUDGET_MS = [DEFAULT_BUDGET_MS]  # --budget tries another (the camera's default otherwise)
STACK = [STACK_DEPTH]  # --stack: frames combined (Cascade's default otherwise)

DECODERS: dict[str, Callable[[], Cascade]] = {
    "verify": lambda: Cascade(budget_ms=BUDGET_MS[0], stack_frames=STACK[0],
                              clock=time.thread_time),
    "zxing-cpp": lambda: Cascade(BASELINES["zxing-cpp"], stack_frames=0, clock=time.thread_time),
}


def summary(times: list[float | None]) -> dict:
    read = sorted(t for t in times if t is not None)
    # An unread clip counts as never answered: it is in the p95 as infinity.
    ranked = read + [math.inf] * (len(times) - len(read))

    def pct(q: float) -> float | None:
        v = ranked[min(len(ranked) - 1, math.ceil(q * len(ranked)) - 1)] if ranked else None
        return None if v is None or math.isinf(v) else round(v, 3)

    return {"clips": len(times), "read": len(read), "p50_s": pct(0.5), "p95_s": pct(0.95),
            "max_read_s": round(read[-1], 3) if read else None}


def run(kind: str, clips: list[tuple[list[np.ndarray], int, str]]) -> dict:
    out = {}
    for name, make in DECODERS.items():
        cpu0 = time.process_time()
        times = [live(frames, first, payload, make) for frames, first, payload in clips]
        out[name] = {**summary(times), "cpu_s": round(time.process_time() - cpu0, 1),
                     "times": [None if t is None else round(t, 3) for t in times]}
    print(f"\n{kind}: {len(clips)} clips, 640×480 30 fps; time from the whole code in view "
          "to the answer (live-loop model, CPU time)")
    print("| decoder | read | p50 | p95 | slowest read | CPU s |")
    print("|---|---|---|---|---|---|")
    for name, r in out.items():
        p50 = f"{r['p50_s']} s" if r["p50_s"] is not None else "not read (∞)"
        p95 = f"{r['p95_s']} s" if r["p95_s"] is not None else "not read (∞)"
        print(f"| {name} | {r['read']}/{r['clips']} | {p50} | {p95} | "
              f"{r['max_read_s']} s | {r['cpu_s']} |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--approach", type=int, default=24, help="approach clips (0 skips)")
    ap.add_argument("--held", type=int, default=12, help="held clips (0 skips)")
    ap.add_argument("--seed", type=int, default=APPROACH_SEED, help="approach clips' seed")
    ap.add_argument("--held-seed", type=int, default=HELD_SEED)
    ap.add_argument("--budget", type=float, default=DEFAULT_BUDGET_MS,
                    help="the live loop's decode budget per frame, ms (default: the camera's)")
    ap.add_argument("--stack", type=int, default=STACK_DEPTH,
                    help="frames the live loop combines")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    BUDGET_MS[0] = args.budget
    STACK[0] = args.stack
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):  # one core, as the live loop has
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    mc = make_cards()
    report: dict[str, object] = {"seed": args.seed, "held_seed": args.held_seed}
    if args.approach:
        rng = np.random.default_rng(args.seed)
        clips = []
        for _ in range(args.approach):
            payload = mc.BASE + mc.token(rng, str(rng.choice(["VALID", "NOWORK", "NOINFO"])))
            frames, first = approach_clip(rng, payload)
            if first is not None:
                clips.append((frames, first, payload))
        report["approach"] = run(f"Approach clips (seed {args.seed})", clips)
        del clips
    if args.held:
        rng = np.random.default_rng(args.held_seed)
        held = []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.held):
                payload = mc.BASE + mc.token(rng, str(rng.choice(["VALID", "NOWORK",
                                                                   "NOINFO"])))
                path = Path(tmp) / f"held-{i:02d}.mp4"
                still_video(path, rng, payload)
                cap = cv2.VideoCapture(str(path))
                frames = []
                while True:
                    ok, frame = cap.read()
                    if not ok:
                        break
                    frames.append(frame)
                cap.release()
                held.append((frames, 0, payload))
        report["held"] = run(f"Held clips (seed {args.held_seed})", held)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
