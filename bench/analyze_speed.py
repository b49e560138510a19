"""Benchmark: backfill speed — 24 h of one camera's footage analysed into observations.

    .venv/bin/python bench/analyze_speed.py --interval 5

Records one simulated office day (interior view, 640x360, one frame every --interval simulated
seconds; not timed), then times `pantau analyze`'s code path (reader → motion/light/tamper →
person detector when due → per-minute rows → SQLite) over the whole day on one core.
Target from issue 5: 24 h in ≤ 60 s (≥ 1,440x real time).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pantau.config.model import Settings
from pantau.pipeline.backfill import ResumeLog, analyze_source, discover
from pantau.pipeline.camera import CameraSpec, make_analyzer
from pantau.sim.offices import SimConfig, make_scene, select_offices
from pantau.sim.profiles import OfficeSim
from pantau.sim.record import record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--interval", type=float, default=5.0, help="simulated seconds per frame")
    ap.add_argument("--sample-fps", type=float, default=1.0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pantau-bench-analyze-"))
    [office] = select_offices(
        SimConfig(offices=[OfficeSim(site="kel-mandonga", profile="punctual", random_events=False)])
    )
    t0 = time.monotonic()
    record(
        office.world,
        {"interior": make_scene(office.seed, "interior", 640, 360)},
        work,
        date(2026, 11, 23),
        1,
        interval_s=args.interval,
    )
    rec_s = time.monotonic() - t0
    settings = Settings.model_validate({"data_dir": str(work / "data")})
    analyzer = make_analyzer(CameraSpec(id=1, name="bench", url=""), settings)
    assert analyzer is not None
    [source] = discover(work / "kel-mandonga" / "interior", None)
    rows: list[dict] = []
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    analyze_source(
        source, 1, analyzer, rows.extend, ResumeLog(work / "resume"), sample_fps=args.sample_fps
    )
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    frames = sum(r["samples"] for r in rows)
    print(f"recorded 24 h ({frames} frames, one per {args.interval:g} s) in {rec_s:.1f} s")
    print(
        f"analysed 24 h in {wall:.1f} s wall, {cpu:.1f} s CPU: {86400 / wall:,.0f}x real time, "
        f"{1000 * wall / max(frames, 1):.2f} ms per frame, "
        f"{analyzer.detector_runs} detector passes, {len(rows)} minute rows"
    )


if __name__ == "__main__":
    main()
