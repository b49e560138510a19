"""Benchmark: backfill speed — 24 h of one camera's footage analysed into observations.

    .venv/bin/python bench/analyze_speed.py [--cache /tmp/pantau-day] [--jobs 2]

Records one simulated office day (interior view, 640x360, one frame per simulated second with
a keyframe on each, as a camera sub-stream's keyframes; not timed), then times `pantau
analyze`'s code path on the defaults (one sample every 5 s, keyframes only, one worker process
per core: reader → motion/light/tamper → person detector when due → per-minute rows).
Target from issue 5: 24 h in ≤ 60 s (≥ 1,440x real time).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pantau.config.model import Settings
from pantau.pipeline.backfill import ResumeLog, discover, plan
from pantau.pipeline.backfill_pool import backfill
from pantau.pipeline.camera import CameraSpec
from pantau.sim.offices import SimConfig, make_scene, select_offices
from pantau.sim.profiles import OfficeSim
from pantau.sim.record import record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--interval", type=float, default=1.0, help="simulated seconds per frame")
    ap.add_argument("--sample-fps", type=float, default=0.2, help="the `pantau analyze` default")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--cache", type=Path, default=None, help="keep the recorded day here")
    args = ap.parse_args()
    work = args.cache or Path(tempfile.mkdtemp(prefix="pantau-bench-analyze-"))
    folder = work / "kel-mandonga" / "interior"
    t0 = time.monotonic()
    if not any(folder.glob("*.mp4")):
        [office] = select_offices(
            SimConfig(
                offices=[OfficeSim(site="kel-mandonga", profile="punctual", random_events=False)]
            )
        )
        record(
            office.world,
            {"interior": make_scene(office.seed, "interior", 640, 360)},
            work,
            date(2026, 11, 23),
            1,
            interval_s=args.interval,
        )
        print(f"recorded 24 h (one frame per {args.interval:g} s) in {time.monotonic() - t0:.1f} s")
    settings = Settings.model_validate({"data_dir": str(work / "data")})
    spec = CameraSpec(id=1, name="bench", url="")
    groups = plan(discover(folder, None), args.jobs)
    shutil.rmtree(work / "resume", ignore_errors=True)
    rows: list[dict] = []
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    rc0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    _, passes = backfill(
        groups, spec, settings, rows.extend, ResumeLog(work / "resume"), sample_fps=args.sample_fps
    )
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    rc1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(
        (b.ru_utime + b.ru_stime) - (a.ru_utime + a.ru_stime) for a, b in ((ru0, ru1), (rc0, rc1))
    )
    frames = sum(r["samples"] for r in rows)
    print(
        f"analysed 24 h with {len(groups)} job(s) in {wall:.1f} s wall, {cpu:.1f} s CPU: "
        f"{86400 / wall:,.0f}x real time, {1000 * cpu / max(frames, 1):.2f} ms CPU per "
        f"analysed frame ({frames} frames), {passes} detector passes, {len(rows)} minute rows"
    )


if __name__ == "__main__":
    main()
