"""Benchmark: Pantau's pipeline side by side with a Frigate-style one on the same footage.

    .venv/bin/python bench/frigate_style.py             # 2 offices, 07.00-09.00 WITA
    .venv/bin/python bench/frigate_style.py --verbose   # ... and the minutes either gets wrong

Footage: simulated kelurahan service rooms (640x360) recorded at 10 fps (one frame every 0.1
simulated seconds, H.264 with a keyframe every second, as the live simulated cameras send) over
the morning arrival window (--windows) of one working day, with the simulator's
ground truth (`groundtruth.jsonl`, its own writer). Cached under --cache.

The two pipelines, each run on every file in its own worker process (CPU = process time):

- **Pantau**, as a live camera runs it: `StreamReader` sampling 1 frame per second (every
  frame is decoded, one a second is converted for analysis), `CameraAnalyzer` from
  `make_analyzer` on default settings (motion, light, tamper; the person detector on motion,
  lighting changes and a one-minute heartbeat), minute rows from `MinuteAggregator` — i.e.
  `pantau.pipeline.backfill.analyze_source(..., sample_fps=1.0)`.
- **Frigate-style**, written here after Frigate's `ImprovedMotionDetector` and region logic
  (frigate/motion/improved_motion.py, frigate/util/object.py): every frame decoded with PyAV,
  5 of them a second processed; motion on the luma plane resized (nearest) to --motion-height
  rows (180: 320x180 for 640x360), contrast stretched from the 4th/96th percentiles averaged
  over 50 frames, Gaussian blur, absolute difference to a running average (alpha 0.01; 0.2
  while calibrating; averaged in while moving only after 10 frames), threshold 30, dilate,
  external contours larger than Frigate's 10 px at 100 rows (scaled to the motion height),
  recalibration when more than 80 % moves; motion boxes clustered into square regions (at least
  the model's 300 px, 1.35x the cluster) and the same person model (`PersonDetector`, same
  score threshold) run on each region; detections merged with NMS. Nothing else: no object
  tracker (Frigate's keeps stationary objects alive between detections), no region grid, no
  startup scan. A person sitting still therefore makes no motion and is not looked for.

Presence per minute (someone in view >= 10 s of the minute, as in bench/scoring.py) is scored
for both against the ground truth; CPU is reported per camera-second of footage.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import inspect
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av
import cv2
import numpy as np
from bench import scoring
from bench.analytics_accuracy import SIM_HASH, SIZE, TZ, VIEW, fingerprint
from bench.scoring import LIGHT_CLASSES, Counts, Ticker, code_state, run_pool
from rich.console import Console
from rich.table import Table

from pantau.config.model import Settings
from pantau.pipeline.camera import CameraSpec, make_analyzer
from pantau.sim.offices import DEFAULT_ROTATION, SimConfig, make_scene, select_offices
from pantau.sim.profiles import OfficeSim
from pantau.vision.detector import Detection, PersonDetector, nms

MODEL_SIZE = 300  # the shipped SSDLite's input; Frigate's smallest region for such a model


# ---- footage ---------------------------------------------------------------------------------


def parse_windows(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split(","):
        a, b = part.strip().split("-")
        out.append((a.strip(), b.strip()))
    return out


def hours(hhmm: str) -> float:
    hh, mm = hhmm.split(".")
    return int(hh) + int(mm) / 60


def office_specs(count: int) -> list[dict[str, Any]]:
    base = select_offices(SimConfig(), count=count)
    return [
        OfficeSim(
            site=o.slug,
            profile=DEFAULT_ROTATION[i % len(DEFAULT_ROTATION)],
            seed=o.seed,
            random_events=False,  # this bench is about presence: no tamper or outages
        ).model_dump(mode="json")
        for i, o in enumerate(base)
    ]


def record_window(
    spec: dict[str, Any], out: str, day: str, window: tuple[str, str], fps: float, q: Any
) -> str:
    """Worker: one office's window at `fps`, as `pantau sim record` would write a day."""
    from pantau.sim.encode import H264Writer
    from pantau.sim.groundtruth import GroundTruthWriter, utc

    [office] = select_offices(SimConfig(offices=[OfficeSim.model_validate(spec)]), tz=TZ)
    world, d = office.world, date.fromisoformat(day)
    scene = make_scene(office.seed, VIEW, *SIZE)
    folder = Path(out) / office.slug / VIEW
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{day}-{window[0].replace('.', '')}"
    final, part = folder / f"{name}.mp4", folder / f".{name}.mp4.part"
    start, end = world.local(d, hours(window[0])), world.local(d, hours(window[1]))
    interval = 1.0 / fps
    n = int((end - start).total_seconds() * fps)
    tick = Ticker(q, "record", 600.0)
    writer = H264Writer(
        str(part),
        fmt="mp4",
        width=SIZE[0],
        height=SIZE[1],
        gop=max(1, round(fps)),
        fps=fps,
        metadata={"pantau_start_utc": utc(start), "pantau_site": office.slug, "pantau_view": VIEW},
    )
    try:
        for k in range(n):
            at = start + timedelta(seconds=k * interval)
            present, lights, tamper, offline = world.state_at(at, VIEW)
            tick(interval)
            if offline:
                continue
            writer.write(
                scene.render(at, present, lights, tamper, frame_index=k), round(k * 1000 * interval)
            )
        frames = writer.frames
    finally:
        writer.close()
    tick.flush()
    os.replace(part, final)
    side = {
        "site": office.slug,
        "view": VIEW,
        "day": day,
        "path": final.name,
        "start_utc": utc(start),
        "end_utc": utc(start + timedelta(seconds=n * interval)),
        "frames": frames,
        "interval_s": interval,
        "width": SIZE[0],
        "height": SIZE[1],
        "gaps": [],
    }
    final.with_suffix(".json").write_text(json.dumps(side, indent=1), encoding="utf-8")
    plan, facts = world.day(d)
    GroundTruthWriter(Path(out) / office.slug / "groundtruth.jsonl").write_day(
        plan, facts, world.zone
    )
    return f"{office.slug} {name}"


# ---- Frigate-style pipeline ------------------------------------------------------------------


class FrigateMotion:
    """After Frigate's ImprovedMotionDetector, default settings, one camera."""

    def __init__(self, frame_shape: tuple[int, int], height: int) -> None:
        self.frame_shape = frame_shape
        self.height = height
        self.width = height * frame_shape[1] // frame_shape[0]
        self.scale = frame_shape[0] / height
        self.threshold = 30
        self.contour_area = 10 * (height / 100) ** 2  # Frigate's 10 px are at 100 rows
        self.lightning = 0.8
        self.frame_alpha = 0.01
        self.avg = np.zeros((height, self.width), np.float32)
        self.contrast = np.zeros((50, 2), np.uint8)
        self.contrast[:, 1] = 255
        self.contrast_i = 0
        self.calibrating = True
        self.moving_frames = 0

    def detect(self, luma: np.ndarray) -> list[tuple[int, int, int, int]]:
        small = cv2.resize(luma, (self.width, self.height), interpolation=cv2.INTER_NEAREST)
        lo, hi = np.percentile(small, (4, 96)).astype(np.uint8)
        if lo < hi:
            self.contrast[self.contrast_i] = (lo, hi)
            self.contrast_i = (self.contrast_i + 1) % len(self.contrast)
            a_lo, a_hi = self.contrast.mean(axis=0)
            small = np.clip(small, a_lo, a_hi)
            small = ((small - a_lo) / max(a_hi - a_lo, 1e-6) * 255).astype(np.uint8)
        small = cv2.GaussianBlur(small, (3, 3), 1.0)
        delta = cv2.absdiff(small, cv2.convertScaleAbs(self.avg))
        thresh = cv2.threshold(delta, self.threshold, 255, cv2.THRESH_BINARY)[1]
        thresh = cv2.dilate(thresh, None, iterations=1)
        contours, _ = cv2.findContours(thresh, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes, total = [], 0.0
        for c in contours:
            area = cv2.contourArea(c)
            total += area
            if area > self.contour_area:
                x, y, w, h = cv2.boundingRect(c)
                s = self.scale
                boxes.append((int(x * s), int(y * s), int((x + w) * s), int((y + h) * s)))
        moving = total / (self.width * self.height)
        if moving < 0.05 and len(boxes) <= 4:
            self.calibrating = False
        if self.calibrating or moving > self.lightning:
            self.calibrating = True
        alpha = 0.2 if self.calibrating else self.frame_alpha
        if boxes:
            self.moving_frames += 1
            if self.moving_frames >= 10:
                cv2.accumulateWeighted(small, self.avg, alpha)
        else:
            cv2.accumulateWeighted(small, self.avg, alpha)
            self.moving_frames = 0
        return boxes


def square_region(
    shape: tuple[int, int], box: tuple[float, ...], min_size: int, multiplier: float = 1.35
) -> tuple[int, int, int, int]:
    """A square around `box`, `multiplier` times its longer side, at least `min_size`, moved
    inside the frame where it fits (Frigate's calculate_region)."""
    x0, y0, x1, y1 = box
    size = max(min_size, int(max(x1 - x0, y1 - y0) * multiplier) // 4 * 4)
    ox = min(max(0, int((x0 + x1) / 2 - size / 2)), max(0, shape[1] - size))
    oy = min(max(0, int((y0 + y1) / 2 - size / 2)), max(0, shape[0] - size))
    return (ox, oy, ox + size, oy + size)


def _inside(outer: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return b[0] >= outer[0] and b[1] >= outer[1] and b[2] <= outer[2] and b[3] <= outer[3]


def _area(b: tuple[float, ...]) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def _hull(boxes: list[tuple[int, ...]]) -> tuple[int, ...]:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def motion_regions(
    shape: tuple[int, int], boxes: list[tuple[int, int, int, int]], min_size: int = MODEL_SIZE
) -> list[tuple[int, int, int, int]]:
    """Motion boxes clustered as Frigate clusters them, one square region per cluster."""
    used: set[int] = set()
    clusters = []
    for i, b in enumerate(boxes):
        if i in used:
            continue
        cluster = [i]
        used.add(i)
        bw, bh = b[2] - b[0], b[3] - b[1]
        reach = max(min_size, int((bw * bh / 0.1) ** 0.5))  # the box is >= 10 % of its region
        cx, cy = b[0] + bw / 2, b[1] + bh / 2
        dx, dy = reach - bw / 2 * 1.1, reach - bh / 2 * 1.1
        bound = (cx - dx, cy - dy, cx + dx, cy + dy)
        for j, other in enumerate(boxes):
            if j in used or not _inside(bound, other):
                continue
            candidate = [boxes[k] for k in [*cluster, j]]
            region = square_region(shape, _hull(candidate), min_size)
            if region[2] - region[0] > min_size and any(
                _area(c) / _area(region) < 0.05 for c in candidate
            ):
                continue  # a box would be too small in the bigger region: keep apart
            cluster.append(j)
            used.add(j)
        clusters.append(cluster)
    return [square_region(shape, _hull([boxes[k] for k in c]), min_size) for c in clusters]


@dataclass
class PipelineResult:
    pipeline: str
    file: str
    slug: str
    window: str
    footage_s: float
    cpu_s: float
    wall_s: float
    decoded: int
    processed: int
    detector_passes: int
    people_max: dict[str, int] = field(default_factory=dict)  # minute ISO -> max count


def frigate_hash() -> str:
    """The Frigate-style pipeline's own code (not the rest of this file)."""
    parts = (FrigateMotion, square_region, _inside, _area, _hull, motion_regions, run_frigate)
    text = "".join(inspect.getsource(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def run_frigate(path: Path, start: datetime, detector: PersonDetector, args: dict) -> dict:
    fps_out, height = args["frigate_fps"], args["motion_height"]
    decoded = processed = passes = 0
    people: dict[str, int] = {}
    motion: FrigateMotion | None = None
    slot_last = -1
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            decoded += 1
            at = start + timedelta(seconds=float(frame.pts * stream.time_base))
            slot = int((at - start).total_seconds() * fps_out + 1e-6)
            if slot <= slot_last:
                continue
            slot_last = slot
            processed += 1
            h, w = frame.height, frame.width
            plane = frame.planes[0]
            luma = np.frombuffer(plane, np.uint8).reshape(h, plane.line_size)[:, :w]
            if motion is None:
                motion = FrigateMotion((h, w), height)
            boxes = motion.detect(luma)
            count = 0
            if boxes and not motion.calibrating:
                bgr = frame.to_ndarray(format="bgr24")
                found: list[Detection] = []
                for region in motion_regions((h, w), boxes):
                    found += detector.detect(bgr, roi=region)
                    passes += 1
                count = len(nms(found, 0.45, detector.score_threshold))
            key = at.replace(second=0, microsecond=0).isoformat()
            people[key] = max(people.get(key, 0), count)
    return {"decoded": decoded, "processed": processed, "passes": passes, "people": people}


def run_pantau(path: Path) -> dict:
    run = scoring.analyse_file(path, sample_fps=1.0)
    return {
        "decoded": None,
        "processed": sum(r["samples"] for r in run.rows),
        "passes": run.detector_passes,
        "people": {r["minute"].isoformat(): r["people_max"] for r in run.rows},
    }


def analyse(job: dict[str, Any]) -> dict[str, Any]:
    """Worker: one pipeline over one file; CPU is this process's time during the run."""
    path = Path(job["video"])
    side = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    start = datetime.fromisoformat(side["start_utc"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(side["end_utc"].replace("Z", "+00:00"))
    detector = PersonDetector(threads=1) if job["pipeline"] == "frigate" else None
    if job["pipeline"] == "pantau":
        make_analyzer(CameraSpec(id=1, name="warm", url=""), Settings())  # model loaded
    cpu0, t0 = scoring.cpu_seconds(), time.monotonic()
    if detector is not None:
        out = run_frigate(path, start, detector, job["args"])
    else:
        out = run_pantau(path)
    wall = time.monotonic() - t0
    cpu = scoring.cpu_seconds() - cpu0
    res = PipelineResult(
        job["pipeline"],
        path.name,
        side["site"],
        job["window"],
        (end - start).total_seconds(),
        cpu,
        wall,
        out["decoded"] or side["frames"],
        out["processed"],
        out["passes"],
        out["people"],
    )
    result = Path(job["result"])
    result.parent.mkdir(parents=True, exist_ok=True)
    tmp_file = result.with_suffix(".tmp")
    with gzip.open(tmp_file, "wt", encoding="utf-8") as fh:
        json.dump(asdict(res), fh)
    os.replace(tmp_file, result)
    return {"cpu_s": res.cpu_s}


# ---- main ------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--offices", type=int, default=2)
    ap.add_argument(
        "--date",
        type=date.fromisoformat,
        default=date(2026, 11, 24),
        help="a working day (default Tuesday 2026-11-24)",
    )
    ap.add_argument("--windows", default="07.00-09.00", help="local WITA windows")
    ap.add_argument("--fps", type=float, default=10.0, help="recorded frames per second")
    ap.add_argument("--frigate-fps", type=float, default=5.0, help="frames Frigate processes/s")
    ap.add_argument("--motion-height", type=int, default=180, help="Frigate motion frame rows")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/pantau-frigate"))
    ap.add_argument("--reanalyse", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="list the minutes they disagree on")
    ap.add_argument("--record-only", action="store_true", help="record the footage, then stop")
    ap.add_argument(
        "--site", action="append", help="only this office of the --offices (repeatable)"
    )
    args = ap.parse_args()
    console = Console(width=160)
    specs = office_specs(args.offices)
    windows = parse_windows(args.windows)
    key = json.dumps([specs, args.fps, SIZE], sort_keys=True)
    key = hashlib.sha256(key.encode()).hexdigest()
    folder = args.cache / f"footage-{args.fps:g}fps-{key[:10]}"
    console.print(f"footage: {folder}")
    made = folder / "simulator.json"
    if made.exists() and json.loads(made.read_text())["sim_sources"] != SIM_HASH:
        console.print(
            "[yellow]footage recorded with other simulator sources "
            f"({json.loads(made.read_text())['sim_sources']}); delete {folder} to record it "
            "again if the world or its pictures changed[/]"
        )
    from multiprocessing import Manager

    files = {
        (s["site"], w): folder / s["site"] / VIEW / f"{args.date}-{w[0].replace('.', '')}.mp4"
        for s in specs
        for w in windows
        if not args.site or s["site"] in args.site
    }
    with Manager() as manager:
        q = manager.Queue()
        tasks = [
            (record_window, (s, str(folder), str(args.date), w, args.fps, q), f"{s['site']} {w}")
            for s in specs
            for w in windows
            if (s["site"], w) in files and not files[(s["site"], w)].exists()
        ]
        todo = sum(hours(w[1]) - hours(w[0]) for _s, w in ((t[1][0], t[1][3]) for t in tasks))
        run_pool(
            console,
            args.jobs,
            tasks,
            {"record": todo * 3600},
            q,
            lambda label, _r: console.print(f"recorded {label}"),
        )
        if tasks:
            made.write_text(json.dumps(code_state(), indent=1), encoding="utf-8")
        if args.record_only:
            return
        # Pantau's results are named by the analyzer's sources, the Frigate-style ones by the
        # code of that pipeline here and its settings: tuning one re-runs only that one
        results_dirs = {
            "pantau": folder / f"results-pantau-{fingerprint(1.0)}",
            "frigate": folder / f"results-frigate-{frigate_hash()}-{args.frigate_fps:g}-"
            f"{args.motion_height}",
        }
        for d in results_dirs.values():
            d.mkdir(parents=True, exist_ok=True)
            if not (d / "code.json").exists():
                (d / "code.json").write_text(json.dumps(code_state(), indent=1))
        jobs = []
        for (site, w), video in files.items():
            for pipeline, results_dir in results_dirs.items():
                result = results_dir / f"{video.stem}-{site}-{pipeline}.json.gz"
                if result.exists() and not args.reanalyse:
                    continue
                job = {
                    "video": str(video),
                    "pipeline": pipeline,
                    "result": str(result),
                    "window": f"{w[0]}–{w[1]}",
                    "args": {"frigate_fps": args.frigate_fps, "motion_height": args.motion_height},
                }
                jobs.append((analyse, (job,), f"{pipeline} {site} {w[0]}"))
        run_pool(
            console,
            args.jobs,
            jobs,
            {},
            q,
            lambda label, r: console.print(f"analysed {label}: {r['cpu_s']:.0f} s CPU"),
        )

    results = []
    for p in sorted(p for d in results_dirs.values() for p in d.glob("*.json.gz")):
        with gzip.open(p, "rt", encoding="utf-8") as fh:
            results.append(json.load(fh))
    report(console, results, folder, specs, args)


def report(console: Console, results: list[dict], folder: Path, specs: list[dict], args) -> None:
    from pantau.sim.scene import daylight

    zone = ZoneInfo(TZ)
    seeds = {s["site"]: s["seed"] for s in specs}
    table = Table(
        title=f"Pantau vs Frigate-style, {len({r['slug'] for r in results})} office(s), "
        f"{args.date} "
        f"{args.windows} WITA, 640x360 H.264 at {args.fps:g} fps"
    )
    for col in (
        "pipeline",
        "camera-s",
        "frames decoded",
        "frames analysed",
        "detector passes",
        "CPU ms / camera-s",
        "presence P",
        "presence R",
        "tp/fp/fn/tn",
    ):
        table.add_column(col, justify="left" if col == "pipeline" else "right")
    disagreements: dict[tuple[str, str], dict[str, str]] = {}
    for pipeline in ("pantau", "frigate"):
        mine = [r for r in results if r["pipeline"] == pipeline]
        if not mine:
            continue
        counts = {c: Counts() for c in LIGHT_CLASSES}
        for r in mine:
            gt = scoring.read_ground_truth(folder / r["slug"] / "groundtruth.jsonl", TZ)
            people = {datetime.fromisoformat(k): v for k, v in r["people_max"].items()}
            side = json.loads(
                (folder / r["slug"] / VIEW / r["file"]).with_suffix(".json").read_text()
            )
            start = datetime.fromisoformat(side["start_utc"].replace("Z", "+00:00"))
            minutes = [start + k * scoring.MINUTE for k in range(int(r["footage_s"] // 60))]
            seed = seeds[r["slug"]]
            truths = scoring.minute_truth(
                gt, VIEW, minutes, lambda t, s=seed: daylight(t, s, zone).level
            )
            c, misses = scoring.score_presence(truths, people)
            for k in LIGHT_CLASSES:
                counts[k].add(c[k])
            for t, outcome in misses:
                there = ", ".join(sorted({p.kind + "/" + p.spot for p in t.people})) or "nobody"
                key = (r["slug"], t.minute.isoformat())
                disagreements.setdefault(key, {})[pipeline] = f"{outcome} ({there})"
        total = Counts()
        for k in LIGHT_CLASSES:
            total.add(counts[k])
        footage = sum(r["footage_s"] for r in mine)
        cpu = sum(r["cpu_s"] for r in mine)
        table.add_row(
            "Pantau (1 fps, heartbeat)"
            if pipeline == "pantau"
            else f"Frigate-style ({args.frigate_fps:g} fps, motion regions)",
            f"{footage:,.0f}",
            f"{sum(r['decoded'] for r in mine):,}",
            f"{sum(r['processed'] for r in mine):,}",
            f"{sum(r['detector_passes'] for r in mine):,}",
            f"{1000 * cpu / footage:.1f}",
            scoring_fmt(total.precision),
            scoring_fmt(total.recall),
            f"{total.tp}/{total.fp}/{total.fn}/{total.tn}",
        )
    console.print(table)
    per = Table(title="Per file")
    for col in ("file", "pipeline", "CPU s", "CPU ms / camera-s", "passes"):
        per.add_column(col)
    for r in sorted(results, key=lambda r: (r["slug"], r["file"], r["pipeline"])):
        per.add_row(
            f"{r['slug']} {r['window']}",
            r["pipeline"],
            f"{r['cpu_s']:.1f}",
            f"{1000 * r['cpu_s'] / r['footage_s']:.1f}",
            f"{r['detector_passes']:,}",
        )
    console.print(per)
    if args.verbose:
        console.rule("Minutes scored wrong by either pipeline")
        for (slug, m), d in sorted(disagreements.items()):
            local = datetime.fromisoformat(m).astimezone(zone).strftime("%H.%M")
            console.print(
                f"{slug} {local} WITA  pantau: {d.get('pantau', 'right')}  "
                f"frigate: {d.get('frigate', 'right')}",
                highlight=False,
            )


def scoring_fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


if __name__ == "__main__":
    main()
