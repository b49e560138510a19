"""Benchmark: N live cameras recorded and analysed by `pantau serve`'s real worker processes.

    .venv/bin/python bench/live_cameras_cpu.py --cameras 65 --seconds 120 [--probe]

Issue 5's target: all 65 cameras (640x360 sub-streams, H.264, 10-15 fps) analysed at >= 1
sample per second each, together with recording, under 60 % of the machine's CPU (2 cores).

How: simulated office clips (bench/live_clips.py: busy office hours, empty rooms, night under
infrared; rendered once and cached) are looped by the real GStreamer RTSP server, one mount per
camera. A fresh SQLite data dir gets the 65 kelurahan sites and one camera per mount (through
the registry), then the real `ShardManager` starts the worker processes exactly as
`pantau serve` does: supervised camera threads reading RTSP with PyAV, recording 10 s MPEG-TS
segments, sampling keyframes into motion/light/tamper and the person detector, writing
observations, health and snapshots through `DbSink`. After a warm-up (tamper learns its
reference in the first 30 s), the CPU time of the worker processes and of the RTSP server is
read from /proc over `--seconds`, and the database says how many samples each camera analysed,
how often the detector ran and how much of the time was recorded.

Process CPU time is what is counted, so other jobs on the machine change the figures little
as long as the cameras keep up (samples per second says whether they did). The machine's
total load during the window is printed too. `--probe` adds a per-stage breakdown measured
inside the workers (bench/live_probe.py).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from live_clips import DEFAULT_DIR, SCENARIOS, make_clips
from live_probe import WHAT_IFS, probed_run_shard
from sqlalchemy import select

from pantau.config.model import Settings
from pantau.pipeline.shard import ShardManager
from pantau.registry.cameras import apply_camera
from pantau.runtime import open_runtime
from pantau.sim.rtsp import RtspServer
from pantau.store.db import transaction
from pantau.store.models import Camera, CameraState, Observation, Segment, Site, SiteKind

CLK_TCK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


# ---- reading /proc (no extra dependency; same numbers psutil would give) ----------------------


def proc_cpu(pid: int) -> float:
    """CPU seconds of a process, its threads and its reaped children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / CLK_TCK


def proc_memory(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB; PSS shares pages (the model, libraries) fairly between processes."""
    rss = pss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except OSError:
        pss = rss
    return rss, pss


def machine_ticks() -> tuple[int, int, int]:
    """(busy, total, steal) jiffies of the whole machine, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    steal = values[7] if len(values) > 7 else 0
    return sum(values) - idle, sum(values), steal


@dataclass
class Mark:
    wall: float
    at: datetime
    workers: list[float]
    server: float
    me: float
    machine: tuple[int, int, int]
    load: tuple[float, float, float]


def mark(worker_pids: list[int], server_pid: int) -> Mark:
    return Mark(
        time.monotonic(),
        datetime.now(UTC),
        [proc_cpu(p) for p in worker_pids],
        proc_cpu(server_pid),
        proc_cpu(os.getpid()),
        machine_ticks(),
        os.getloadavg(),
    )


def code_version() -> str:
    """The commit measured, and which pipeline/vision files differed from it (shared checkout)."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "diff",
                "--name-only",
                "HEAD",
                "--",
                "src/pantau/pipeline",
                "src/pantau/vision",
                "src/pantau/media",
            ],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.split()
    except OSError:
        return "unknown"
    return head + (f" + uncommitted {', '.join(Path(d).name for d in dirty)}" if dirty else "")


# ---- setting up -------------------------------------------------------------------------------


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "pantau_live_bench"


def fresh_postgres() -> str:
    """An empty database for the run on the local PostgreSQL (dropped and created again)."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_BENCH_DB}"


def make_settings(data: Path, args: argparse.Namespace) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": str(data),
            "database": {"url": fresh_postgres() if args.postgres else None},
            "log_level": "WARNING",
            "ingest": {
                "sample": args.sample,
                "sample_fps": args.sample_fps,
                "workers": args.workers,
            },
        }
    )


def add_cameras(settings: Settings, urls: list[str]) -> None:
    """One camera per kelurahan office (wrapping round if there are more mounts than offices)."""
    rt = open_runtime(settings)  # migrate + seed the 65 offices
    try:
        with transaction(rt.sessions) as session:
            sites = session.scalars(
                select(Site).where(Site.kind == SiteKind.KANTOR_KELURAHAN).order_by(Site.id)
            ).all()
            for i, url in enumerate(urls):
                site = sites[i % len(sites)]
                camera = Camera(
                    site=site, name=f"bench {i + 1}", purpose="benchmark", main_stream=""
                )
                apply_camera(camera, rt.secrets, fields={"main_stream": url})
                session.add(camera)
    finally:
        rt.close()


def wait_online(settings: Settings, n: int, timeout: float) -> int:
    rt = open_runtime(settings, prepare=False)
    deadline = time.monotonic() + timeout
    online = 0
    try:
        while time.monotonic() < deadline:
            with rt.sessions() as session:
                online = len(
                    session.scalars(select(CameraState).where(CameraState.state == "online")).all()
                )
            if online >= n:
                break
            time.sleep(1)
    finally:
        rt.close()
    return online


# ---- results from the database ----------------------------------------------------------------


def floor_minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def analysed(settings: Settings, n: int, t0: datetime, t1: datetime) -> dict[str, float]:
    """Samples and detector frames per camera from the minutes wholly inside the window."""
    first = floor_minute(t0) + timedelta(minutes=1) if t0 != floor_minute(t0) else t0
    last = floor_minute(t1)  # exclusive
    minutes = max(0, round((last - first).total_seconds() / 60))
    rt = open_runtime(settings, prepare=False)
    try:
        with rt.sessions() as session:
            rows = session.scalars(
                select(Observation).where(Observation.minute >= first, Observation.minute < last)
            ).all()
    finally:
        rt.close()
    samples: dict[int, int] = defaultdict(int)
    coverage: dict[int, float] = defaultdict(float)
    detector: dict[int, int] = defaultdict(int)
    for row in rows:
        samples[row.camera_id] += row.samples
        coverage[row.camera_id] += row.coverage_seconds
        detector[row.camera_id] += row.detector_runs
    if minutes == 0:
        return {"minutes": 0}
    per_cam = [samples.get(c, 0) / (60 * minutes) for c in range(1, n + 1)]
    return {
        "minutes": minutes,
        "samples_per_s_mean": sum(per_cam) / n,
        "samples_per_s_min": min(per_cam),
        "cameras_below_1": sum(1 for s in per_cam if s < 0.995),
        "coverage_pct": 100 * sum(coverage.values()) / (60 * minutes * n),
        "detector_frames_per_min": sum(detector.values()) / (minutes * n),
    }


def recorded(settings: Settings, n: int, t0: datetime, t1: datetime) -> dict[str, float]:
    """Seconds of video indexed inside the window, over camera-seconds of wall time."""
    rt = open_runtime(settings, prepare=False)
    try:
        with rt.sessions() as session:
            segs = session.scalars(
                select(Segment).where(Segment.end > t0, Segment.start < t1)
            ).all()
    finally:
        rt.close()
    covered = sum(max(0.0, (min(s.end, t1) - max(s.start, t0)).total_seconds()) for s in segs)
    nbytes = sum(s.bytes for s in segs)
    duration = sum((s.end - s.start).total_seconds() for s in segs)
    wall = (t1 - t0).total_seconds()
    return {
        "completeness_pct": 100 * covered / (n * wall),
        "recorded_kbps": nbytes * 8 / 1000 / duration if duration else 0.0,
        "segments": len(segs),
    }


# ---- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict:
    clips = make_clips(args.clips, scenario=args.scenario, fps=args.fps)
    work = Path(tempfile.mkdtemp(prefix="pantau-live-bench-"))
    data = work / "data"
    mounts = {f"cam{i + 1}": clips[i % len(clips)].path for i in range(args.cameras)}
    result: dict = {
        "code": code_version(),
        "cameras": args.cameras,
        "scenario": args.scenario,
        "fps": args.fps,
        "sample": args.sample if args.sample == "keyframes" else f"{args.sample_fps:g} fps",
        "database": "postgresql" if args.postgres else "sqlite",
        "what_if": args.what_if,
    }
    try:
        with RtspServer(mounts, fps=args.fps) as server:
            assert server.proc is not None
            settings = make_settings(data, args)
            add_cameras(settings, [server.url(m) for m in mounts])
            manager = ShardManager(settings, processes=args.workers)
            probe_dir = work / "probe"
            start_mark = end_mark = None
            if args.probe:
                # Same entry point with stage timers around it (bench/live_probe.py).
                ctx = mp.get_context("spawn")
                start_mark, end_mark = ctx.Event(), ctx.Event()
                probe_dir.mkdir()
                manager._procs = [  # a benchmark may look inside
                    ctx.Process(
                        target=probed_run_shard,
                        args=(
                            settings.model_dump_json(),
                            i,
                            manager.count,
                            manager._stop,
                            start_mark,
                            end_mark,
                            str(probe_dir / f"shard{i}.json"),
                            tuple(args.what_if),
                        ),
                        name=f"pantau-shard{i}",
                        daemon=True,
                    )
                    for i in range(manager.count)
                ]
            log_path = work / "workers.log"
            saved_stderr = redirect_stderr(log_path)  # the workers inherit it
            try:
                manager.start()
            finally:
                os.dup2(saved_stderr, 2)
                os.close(saved_stderr)
            try:
                pids = [p.pid for p in manager._procs]
                online = wait_online(settings, args.cameras, timeout=180)
                result["online_after_start"] = online
                print(
                    f"{online}/{args.cameras} cameras online; warming up {args.warmup:g} s",
                    file=sys.stderr,
                    flush=True,
                )
                time.sleep(args.warmup)
                if start_mark is not None:
                    start_mark.set()
                m0 = mark(pids, server.proc.pid)
                time.sleep(args.seconds)
                m1 = mark(pids, server.proc.pid)
                if end_mark is not None:
                    end_mark.set()
                memory = [proc_memory(p) for p in pids]
                server_mem = proc_memory(server.proc.pid)
                time.sleep(1 if args.probe else 0)  # let the probes write
            finally:
                manager.stop()
            # stopped: every recorder has closed and indexed its last segment
        result.update(summarise(args, settings, m0, m1, memory, server_mem))
        result["log_errors"] = count_errors(log_path)
        if args.keep:
            result["log"] = str(log_path)
        if args.probe:
            result["probe"] = merge_probes(probe_dir, m1.wall - m0.wall)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return result


def redirect_stderr(path: Path) -> int:
    """Point fd 2 at `path` (children started now inherit it); returns the saved fd."""
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    return saved


def count_errors(path: Path) -> dict[str, int]:
    """ERROR lines of the workers' log by message (camera names and numbers folded)."""
    counts: dict[str, int] = defaultdict(int)
    for line in path.read_text(errors="replace").splitlines():
        if " ERROR " in line:
            message = line.split(": ", 2)[-1]
            counts[re.sub(r"camera bench \d+ \(\d+\)", "camera", message)[:80]] += 1
        elif "database is locked" in line and line.startswith("sqlite3."):
            counts["(cause) sqlite3: database is locked"] += 1
    return dict(counts)


def summarise(
    args: argparse.Namespace,
    settings: Settings,
    m0: Mark,
    m1: Mark,
    memory: list[tuple[float, float]],
    server_mem: tuple[float, float],
) -> dict:
    wall = m1.wall - m0.wall
    n = args.cameras
    pantau = sum(m1.workers) - sum(m0.workers)
    server = m1.server - m0.server
    me = m1.me - m0.me
    busy = (m1.machine[0] - m0.machine[0]) / CLK_TCK
    steal = (m1.machine[2] - m0.machine[2]) / CLK_TCK
    out = {
        "seconds": round(wall, 1),
        "workers": len(m0.workers),
        "pantau_pct_of_machine": 100 * pantau / wall / CORES,
        "pantau_pct_of_core": 100 * pantau / wall,
        "per_camera_pct_of_core": 100 * pantau / wall / n,
        "per_camera_ms_per_s": 1000 * pantau / wall / n,
        "per_worker_pct_of_core": [
            round(100 * (b - a) / wall, 1) for a, b in zip(m0.workers, m1.workers, strict=True)
        ],
        "rtsp_server_pct_of_core": 100 * server / wall,
        "machine_busy_pct_of_machine": 100 * busy / wall / CORES,
        "others_pct_of_machine": 100 * (busy - pantau - server - me) / wall / CORES,
        "steal_pct_of_machine": 100 * steal / wall / CORES,
        "load_before": m0.load,
        "load_after": m1.load,
        "rss_mb_workers": [round(r) for r, _ in memory],
        "pss_mb_workers": [round(p) for _, p in memory],
        "rss_mb_rtsp_server": round(server_mem[0]),
    }
    out.update(analysed(settings, n, m0.at, m1.at))
    out.update(recorded(settings, n, m0.at, m1.at))
    return out


def merge_probes(folder: Path, wall: float) -> dict:
    stages: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    threads: dict[str, float] = defaultdict(float)
    for f in sorted(folder.glob("shard*.json")):
        data = json.loads(f.read_text())
        for k, v in data["stages"].items():
            stages[k] += v
        for k, v in data["calls"].items():
            calls[k] += v
        for k, v in data["threads"].items():
            threads[k] += v
    return {"stages": dict(stages), "calls": dict(calls), "threads": dict(threads), "wall": wall}


# ---- printing ---------------------------------------------------------------------------------


def report(r: dict) -> None:
    n = r["cameras"]
    if not r.get("minutes"):
        target = "not judged (no whole minute analysed)"
    elif r["pantau_pct_of_machine"] < 60 and r["samples_per_s_min"] >= 0.995:
        target = "MET"
    else:
        target = "MISSED"
    print(
        f"\ncode: {r['code']}" + (f"; what-if: {', '.join(r['what_if'])}" if r["what_if"] else "")
    )
    print(
        f"{n} cameras, scenario {r['scenario']} (640x360 H.264 {r['fps']} fps, 1 s GOP), "
        f"sampling {r['sample']}, {r['database']}, {r['workers']} worker processes, "
        f"{r['seconds']:g} s measured after warm-up"
    )
    print(
        f"  Pantau workers     {r['pantau_pct_of_machine']:5.1f} % of the machine "
        f"({r['pantau_pct_of_core']:.1f} % of one core; per worker {r['per_worker_pct_of_core']})"
        f"   target < 60 %: {target}"
    )
    print(
        f"  per camera         {r['per_camera_pct_of_core']:5.2f} % of a core = "
        f"{r['per_camera_ms_per_s']:.1f} ms CPU per camera-second"
    )
    if r.get("minutes"):
        print(
            f"  analysed           {r['samples_per_s_mean']:.2f} samples/s per camera "
            f"(lowest {r['samples_per_s_min']:.2f}; {r['cameras_below_1']} cameras below 1), "
            f"coverage {r['coverage_pct']:.0f} % over {r['minutes']} whole minutes"
        )
        print(
            f"  person detector    ran on {r['detector_frames_per_min']:.1f} frames per "
            "camera-minute"
        )
    else:
        print("  analysed           (no whole minute inside the window: use --seconds >= 120)")
    print(
        f"  recording          {r['completeness_pct']:.1f} % of camera-seconds indexed "
        f"({r['segments']} segments, {r['recorded_kbps']:.0f} kbit/s per camera)"
    )
    print(
        f"  memory             workers RSS {r['rss_mb_workers']} MB (PSS {r['pss_mb_workers']}),"
        f" RTSP server {r['rss_mb_rtsp_server']} MB"
    )
    print(f"  RTSP server        {r['rtsp_server_pct_of_core']:.1f} % of one core (not counted)")
    errors = r.get("log_errors") or {}
    crashes = sum(v for k, v in errors.items() if not k.startswith("("))
    print(f"  worker log         {crashes} ERROR lines")
    for message, count in sorted(errors.items(), key=lambda kv: -kv[1]):
        print(f"    {count:4d} x {message}")
    print(
        f"  machine            busy {r['machine_busy_pct_of_machine']:.0f} % during the window, "
        f"of which other jobs {r['others_pct_of_machine']:.0f} % (steal "
        f"{r['steal_pct_of_machine']:.0f} %); load {r['load_before'][0]:.2f} -> "
        f"{r['load_after'][0]:.2f}"
    )
    if "probe" in r:
        print_probe(r)


def print_probe(r: dict) -> None:
    """Stage times (exclusive thread CPU), then what no stage covers, summing to the workers'
    process CPU time (which also holds threads that ended during the window)."""
    p = r["probe"]
    n, wall = r["cameras"], p["wall"]
    cam_s = n * wall
    samples = p["calls"].get("colour convert + resize", 0)
    total = r["pantau_pct_of_core"] / 100 * r["seconds"]
    others = {k: v for k, v in p["threads"].items() if k != "camera threads"}
    rows = sorted(p["stages"].items(), key=lambda kv: -kv[1])
    rows.append(
        (
            "camera threads outside stages",
            total - sum(p["stages"].values()) - sum(others.values()),
        )
    )
    rows += sorted(((f"thread: {k}", v) for k, v in others.items()), key=lambda kv: -kv[1])
    print(f"\n  where the CPU goes (inside the workers; {samples / cam_s:.2f} samples/camera-s)")
    print(f"  {'':34s} {'ms/camera-s':>11s} {'share':>6s} {'calls/cam-s':>11s} {'ms/call':>8s}")
    for stage, cpu in rows:
        calls = p["calls"].get(stage, 0)
        per_call = f"{calls / cam_s:11.2f} {1000 * cpu / calls:8.2f}" if calls else ""
        print(f"  {stage[:34]:34s} {1000 * cpu / cam_s:11.2f} {100 * cpu / total:5.1f}% {per_call}")
    print(f"  {'total (worker processes)':34s} {1000 * total / cam_s:11.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cameras", type=int, default=65)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--warmup", type=float, default=30)
    ap.add_argument("--workers", type=int, default=None, help="default: one per core")
    ap.add_argument(
        "--sample", choices=("keyframes", "fps"), default=None, help="default: keyframes"
    )
    ap.add_argument(
        "--sample-fps", type=float, default=None, help="decode every frame, analyse F per second"
    )
    ap.add_argument("--fps", type=int, default=10, help="camera frame rate (clips)")
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="mixed")
    ap.add_argument("--clips", type=Path, default=DEFAULT_DIR, help="clip cache folder")
    ap.add_argument("--probe", action="store_true", help="per-stage CPU inside the workers")
    ap.add_argument(
        "--what-if",
        action="append",
        default=[],
        choices=sorted(WHAT_IFS),
        help="with --probe: try a candidate change from the outside (bench/live_probe.py)",
    )
    ap.add_argument(
        "--postgres", action="store_true", help=f"local PostgreSQL ({PG_BENCH_DB}), not SQLite"
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--keep", action="store_true", help="keep the data dir")
    args = ap.parse_args()
    args.sample = args.sample or ("fps" if args.sample_fps else "keyframes")
    args.sample_fps = args.sample_fps or 1.0
    if args.what_if and not args.probe:
        ap.error("--what-if needs --probe")
    r = run(args)
    report(r)
    if args.json:
        args.json.write_text(json.dumps(r, indent=1, default=str))


if __name__ == "__main__":
    main()
