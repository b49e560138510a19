"""Drain an edge site's backlog over a capped link: issue 8's "7 days, 4 cameras, 1 Mbit/s".

Builds the backlog an offline agent accumulates (per camera and day: 1,440 observations and
health minutes, two incidents each with a 640x360 JPEG thumbnail) straight into the agent's
outbox through `OutboxSink`, starts a `pantau serve` hub, enrols an agent with the CLI, then
times one `pantau agent sync --once` under `edge.bandwidth_kbps`. The agent's CPU is the
child's rusage, less that of a bare `pantau agent status` (interpreter start-up).

    .venv/bin/python bench/edge_drain.py [--days 7] [--cameras 4] [--kbps 1000] [--steady 600]

Then, with `--steady SECONDS`, the steady state of a connected site: a long-running
`pantau agent sync` while the bench writes what the site's cameras write every minute (one
observation and one health minute per camera), its CPU read from /proc after its start-up.

Targets (issue 8): drain ≤ 10 minutes; sync adds ≤ 2 % CPU at the agent.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.demo_startup import proc_stat

from pantau.config.model import Settings
from pantau.edge.outbox import Outbox
from pantau.edge.sink import OutboxSink
from pantau.pipeline.health import MinuteSample, State
from pantau.runtime import open_runtime

with warnings.catch_warnings():  # the test modules import starlette's TestClient
    warnings.simplefilter("ignore")
    from tests.support.edge import PANTAU, Hub, add_cameras, free_port, hub_counts, write_yaml

START = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)  # 00.00 WITA, Tuesday 17 November


def thumbnail(label: str, seed: int) -> bytes:
    img = np.full((360, 640, 3), 90, np.uint8)
    cv2.putText(img, label, (50, 180), 0, 2, (255, 255, 255), 3)
    noisy = img + np.random.default_rng(seed).normal(0, 12, img.shape)
    img = cv2.GaussianBlur(noisy.clip(0, 255).astype(np.uint8), (3, 3), 0)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 75])[1].tobytes()


def observation(rng: random.Random, cam: int, minute: datetime, office_hours: bool) -> dict:
    people = rng.randint(0, 3) if office_hours else 0
    return {
        "camera_id": cam,
        "minute": minute,
        "people_max": people,
        "people_mean": round(people * rng.random(), 3),
        "zones": {"meja": {"max": people, "mean": round(rng.random(), 3)}},
        "motion_pct": round(rng.random() * 3, 3),
        "light_level": round(80 + rng.random() * 40, 2),
        "lights_on": people > 0,
        "ir_mode": False,
        "tamper": {},
        "coverage_seconds": 60.0,
        "samples": 12,
        "detector_runs": rng.randint(0, 3),
        "source": "live",
    }


def fill(outbox: Outbox, cameras: list[int], days: int) -> None:
    """What an agent's pipeline writes while offline, through the same sink."""
    rng = random.Random(1)
    sink = OutboxSink(outbox)
    for cam in cameras:
        for day in range(days):
            minutes = [START + timedelta(days=day, minutes=i) for i in range(1440)]
            working = (START + timedelta(days=day, hours=8)).weekday() < 5
            # people only in office hours (07.30-16.00 WITA) of working days: the hub evaluates
            # the minutes it receives, and people at night would be real intrusions
            staffed = [working and 450 <= i < 960 for i in range(1440)]
            sink.observations(
                cam, [observation(rng, cam, m, staffed[i]) for i, m in enumerate(minutes)]
            )
            sink.health(cam, [online(m) for m in minutes])
            for k in range(2):
                at = START + timedelta(days=day, hours=14 + k)
                inc = f"b{cam}-{day}-{k}"
                end = at + timedelta(minutes=5)
                sink.incidents(
                    [
                        {
                            "id": inc,
                            "camera_id": cam,
                            "kind": "intrusion",
                            "start": at,
                            "end": end,
                            "detail": {"people_max": 1},
                        }
                    ]
                )
                sink.snapshot(inc, at, thumbnail(inc, k))


def proc_cpu(pid: int) -> float:
    stat = proc_stat(pid)
    if stat is None:
        raise SystemExit(f"process {pid} is gone")
    return stat[1]


def online(minute: datetime) -> MinuteSample:
    """A health minute of a camera that streamed all of it."""
    return MinuteSample(minute, State.ONLINE, 60.0, 10.0, 850.0, 0, None)


def steady(cfg: str, outbox_path: Path, cameras: list[int], seconds: float, db_url: str) -> None:
    """A connected site in steady state: the sync loop running, the cameras' minutes arriving."""
    before = hub_counts(db_url)
    proc = subprocess.Popen(
        [PANTAU, "-c", cfg, "agent", "sync"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        time.sleep(10)  # interpreter start-up and the first hello are not the steady state
        if proc.poll() is not None:
            raise SystemExit(f"agent sync exited ({proc.returncode}): {proc.stderr.read()[-2000:]}")
        c0, t0 = proc_cpu(proc.pid), time.perf_counter()
        outbox = Outbox(outbox_path)
        sink, rng, minutes = OutboxSink(outbox), random.Random(2), 0
        try:
            while time.perf_counter() - t0 < seconds:
                minute = datetime.now(UTC).replace(second=0, microsecond=0)
                for cam in cameras:
                    sink.observations(cam, [observation(rng, cam, minute, True)])
                    sink.health(cam, [online(minute)])
                minutes += 1
                time.sleep(max(0.0, min(60.0, seconds - (time.perf_counter() - t0))))
        finally:
            outbox.close()
        cpu, wall = proc_cpu(proc.pid) - c0, time.perf_counter() - t0
        time.sleep(Settings().edge.idle_seconds + 5)  # the last minutes' round, not counted
    finally:
        proc.terminate()
        proc.wait(30)
    after = hub_counts(db_url)
    print(
        f"steady state: {len(cameras)} cameras, {minutes} minutes fed over {wall:.0f} s; "
        f"agent sync CPU {cpu:.2f} s = {100 * cpu / wall:.3f} % of one core "
        f"(a hello every {Settings().edge.idle_seconds:g} s when idle)"
    )
    print(
        f"hub received {after[0] - before[0]} observations, {after[1] - before[1]} health minutes "
        f"(fed {minutes * len(cameras)} each)"
    )


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(work: Path, days: int, cameras: int, kbps: float, steady_seconds: float) -> None:
    port = free_port()
    db_url = f"sqlite:///{work / 'hub' / 'pantau.db'}"
    settings = {
        "data_dir": str(work / "hub"),
        "database": {"url": db_url},
        "server": {"host": "127.0.0.1", "port": port},
        "ingest": {"enabled": False},
        "log_level": "WARNING",
    }
    open_runtime(Settings.model_validate(settings)).close()  # migrate and seed
    _, cams = add_cameras(db_url, cameras)
    hub = Hub(
        write_yaml(work / "hub.yaml", settings),
        f"http://127.0.0.1:{port}",
        db_url,
        work / "hub.log",
    )
    hub.start()
    try:
        token = hub.cli("agent", "token", "--site", "kel-mandonga").stdout.strip().splitlines()[-1]
        agent = {
            "data_dir": str(work / "site"),
            "log_level": "WARNING",
            "edge": {"bandwidth_kbps": kbps},
        }
        cfg = str(write_yaml(work / "agent.yaml", agent))
        enrol = [PANTAU, "-c", cfg, "agent", "enrol", "--hub", hub.url, "--token", token]
        subprocess.run(enrol, check=True, capture_output=True, timeout=60)

        outbox = Outbox(work / "site" / "agent" / "outbox.db")
        t = time.perf_counter()
        fill(outbox, cams, days)
        backlog = outbox.backlog()
        outbox.close()
        print(
            f"backlog: {days} d x {cameras} cameras = {backlog.items} items, "
            f"{backlog.bytes / 1e6:.1f} MB raw (built in {time.perf_counter() - t:.1f} s)"
        )

        c0 = children_cpu()
        subprocess.run([PANTAU, "-c", cfg, "agent", "status"], check=True, capture_output=True)
        startup = children_cpu() - c0
        c0, t0 = children_cpu(), time.perf_counter()
        out = subprocess.run(
            [PANTAU, "-c", cfg, "agent", "sync", "--once"], capture_output=True, text=True
        )
        wall, cpu = time.perf_counter() - t0, children_cpu() - c0 - startup
        if out.returncode != 0:
            raise SystemExit(f"sync failed ({out.returncode}):\n{out.stderr[-2000:]}")
        obs, health, incidents = hub_counts(db_url)
        print(f"drain at {kbps:g} kbit/s: {wall:.1f} s wall ({wall / 60:.1f} min)")
        print(
            f"agent sync CPU: {cpu:.2f} s = {100 * cpu / wall:.2f} % of one core over the drain, "
            f"{100 * cpu / (days * 86400):.4f} % over the {days} d it covers "
            f"(start-up {startup:.2f} s excluded)"
        )
        print(
            f"hub holds: {obs} observations, {health} health minutes, {incidents} incidents "
            f"(expected {1440 * days * cameras}, {1440 * days * cameras}, {2 * days * cameras})"
        )
        if steady_seconds > 0:
            steady(cfg, work / "site" / "agent" / "outbox.db", cams, steady_seconds, db_url)
    finally:
        if hub.proc is not None and hub.proc.poll() is None:
            hub.proc.terminate()
            hub.proc.wait(20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--days", type=int, default=7, help="days of backlog (default 7)")
    ap.add_argument("--cameras", type=int, default=4, help="cameras at the site (default 4)")
    ap.add_argument("--kbps", type=float, default=1000.0, help="agent upload cap (default 1000)")
    ap.add_argument(
        "--steady", type=float, default=0.0, help="then measure the steady state for SECONDS"
    )
    ap.add_argument("--workdir", type=Path, help="kept afterwards; default a temporary dir")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="pantau-edge-drain-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(work, args.days, args.cameras, args.kbps, args.steady)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
