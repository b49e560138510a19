"""Real-process helpers of the edge tests (and `bench/edge_*.py`): a `pantau serve` hub,
cameras in its database, a morning of facts in an agent's outbox, and the agent's own network
namespace joined to the host by a shaped veth pair (`netns`, a fixture: needs root)."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
import yaml
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from pantau.config.model import Settings
from pantau.edge import items as wire
from pantau.edge.outbox import Outbox
from pantau.edge.sink import OutboxSink
from pantau.incidents.rules import incident_id
from pantau.pipeline.health import MinuteSample, State
from pantau.runtime import open_runtime
from pantau.store.models import Camera, HealthSample, Incident, Observation, Site
from tests.support.media import make_clip, run

PANTAU = str(Path(sys.executable).parent / "pantau")
START = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 06.00 WITA, Tuesday 24 November
MINUTES = 720


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(
    what: str, check: Callable[[], bool], timeout: float = 60.0, step: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Hub:
    config: Path
    url: str
    db_url: str
    log: Path
    proc: subprocess.Popen | None = None
    settings: dict = field(default_factory=dict)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [PANTAU, "-c", str(self.config), "serve"],
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )

        def up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                return httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("the hub to answer", up, timeout=60)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PANTAU, "-c", str(self.config), *args], capture_output=True, text=True, timeout=60
        )


def prepare_hub(
    tmp_path: Path, host: str = "127.0.0.1", db_url: str | None = None, **overrides: Any
) -> Hub:
    """A `pantau serve` hub in `tmp_path` (config `hub.yaml`, data `hub/`), its database
    migrated and seeded, not started. `overrides` replace top-level settings (`ingest`,
    `edge`, …); the camera workers are off unless `ingest` says otherwise."""
    data = tmp_path / "hub"
    db_url = db_url or f"sqlite:///{data / 'pantau.db'}"
    port = free_port()
    settings = {
        "data_dir": str(data),
        "database": {"url": db_url},
        "server": {"host": host, "port": port},
        "ingest": {"enabled": False},
        "log_level": "WARNING",
    } | overrides
    open_runtime(Settings.model_validate(settings)).close()
    return Hub(
        write_yaml(tmp_path / "hub.yaml", settings),
        f"http://{host}:{port}",
        db_url,
        tmp_path / "hub.log",
        settings=settings,
    )


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def add_cameras(db_url: str, n: int) -> tuple[int, list[int]]:
    engine = create_engine(db_url)
    with Session(engine) as s, s.begin():
        site = s.scalar(select(Site).where(Site.slug == "kel-mandonga"))
        assert site is not None
        cams = [
            Camera(
                site=site,
                name=f"kamera {i}",
                purpose="keamanan kantor",
                main_stream=f"rtsp://10.7.0.{i}/s",
            )
            for i in range(n)
        ]
        s.add_all(cams)
        s.flush()
        out = site.id, [c.id for c in cams]
    engine.dispose()
    return out


def fill(outbox: Outbox, cameras: list[int]) -> dict:
    """One morning of two cameras through the agent's sink; returns what the hub must hold."""
    rng = random.Random(8)
    sink = OutboxSink(outbox)
    expect: dict = {"obs": {}, "health": set(), "incidents": set(), "snapshots": set()}
    for cam in cameras:
        rows = []
        for i in range(MINUTES):
            minute = START + timedelta(minutes=i)
            people = rng.randint(0, 4)
            rows.append(
                {
                    "camera_id": cam,
                    "minute": minute,
                    "people_max": people,
                    "people_mean": people / 2,
                    "zones": {"meja": {"max": people, "mean": 0.5}},
                    "motion_pct": rng.random() * 5,
                    "light_level": 100 + rng.random(),
                    "lights_on": True,
                    "ir_mode": False,
                    "tamper": {},
                    "coverage_seconds": 60.0,
                    "samples": 12,
                    "detector_runs": 2,
                    "source": "live",
                }
            )
            expect["obs"][(cam, minute)] = people
        for start in range(0, MINUTES, 60):
            sink.observations(cam, rows[start : start + 60])
        sink.health(
            cam,
            [
                MinuteSample(START + timedelta(minutes=i), State.ONLINE, 60.0, 10.0, 850.0, 0, None)
                for i in range(MINUTES)
            ],
        )
        expect["health"] |= {(cam, START + timedelta(minutes=i)) for i in range(MINUTES)}
        for k in range(2):
            inc_id = f"e{cam}-{k}"
            at = START + timedelta(minutes=30 + 200 * k)
            sink.incidents(
                [
                    {
                        "id": inc_id,
                        "camera_id": cam,
                        "kind": "intrusion",
                        "start": at,
                        "end": at + timedelta(minutes=4),
                        "detail": {"people_max": 1},
                    }
                ]
            )
            expect["incidents"].add(inc_id)
        noise = np.random.default_rng(cam).integers(0, 255, (120, 160, 3), dtype=np.uint8)
        jpeg = cv2.imencode(".jpg", noise)[1].tobytes()
        sink.snapshot(f"e{cam}-0", START, jpeg)
        expect["snapshots"].add(f"e{cam}-0")
    return expect


def agents_incidents(stored: list[Incident], sent: set[str]) -> list[Incident]:
    """The incidents the agent sent. The others must be the hub's own evaluation of the synced
    minutes (intrusions before opening hours), under the rules' stable ids."""
    own = [i for i in stored if i.id not in sent]
    assert all(i.id == incident_id(i.camera_id, i.kind, i.start) for i in own), [
        (i.id, i.kind) for i in own
    ]
    return [i for i in stored if i.id in sent]


def hub_counts(db_url: str) -> tuple[int, int, int]:
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            return (
                s.scalar(select(func.count()).select_from(Observation)) or 0,
                s.scalar(select(func.count()).select_from(HealthSample)) or 0,
                s.scalar(select(func.count()).select_from(Incident)) or 0,
            )
    finally:
        engine.dispose()


def start_agent(config: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [PANTAU, "-c", str(config), "agent", "sync"], stdout=log.open("a"), stderr=subprocess.STDOUT
    )


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=30)


@pytest.fixture
def netns() -> Iterator[dict[str, str]]:
    tag = uuid.uuid4().hex[:6]
    ns, host_if, ns_if = f"pantau-{tag}", f"vph{tag}", f"vpa{tag}"
    net = random.randint(16, 250)
    host_ip, ns_ip = f"10.231.{net}.1", f"10.231.{net}.2"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        sh("ip", "link", "set", ns_if, "netns", ns)
        sh("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", ns_if, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        tbf = ("tbf", "rate", "256kbit", "burst", "8kb", "latency", "300ms")
        sh("tc", "qdisc", "add", "dev", host_if, "root", *tbf)  # hub -> site
        sh(
            "ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", ns_if, "root", *tbf
        )  # site -> hub
        yield {"ns": ns, "ns_if": ns_if, "host_ip": host_ip}
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


SEGMENT_SECONDS = 10  # per recorded segment, as the recorder cuts them


def recorded_site(root: Path, camera_id: int, t0: datetime, media: Path, seconds: int) -> list:
    """`seconds` of real H.264 (keyframe each second) cut into 10 s MPEG-TS segments and
    stored where and as the recorder names them. Returns [(start, end, path)]."""
    clip = media / f"site-{seconds}.mp4"
    if not clip.exists():
        make_clip(clip, seconds=seconds, size="320x240", bitrate="150k")
    cut = media / f"site-{seconds}-ts"
    if not cut.exists():
        cut.mkdir()
        run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(clip), "-c", "copy", "-f",
             "segment", "-segment_time", str(SEGMENT_SECONDS), "-segment_format", "mpegts",
             str(cut / "s%03d.ts")])  # fmt: skip
    out = []
    for i, src in enumerate(sorted(cut.glob("*.ts"))):
        start = t0 + timedelta(seconds=i * SEGMENT_SECONDS)
        rel = f"{camera_id}/{start:%Y-%m-%d}/{start:%H%M%S}_{start.microsecond // 1000:03d}Z.ts"
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(src.read_bytes())
        end = (start + timedelta(seconds=SEGMENT_SECONDS)).timestamp()
        os.utime(dest, (end, end))  # as the recorder leaves it: last written at its end
        out.append((start, start + timedelta(seconds=SEGMENT_SECONDS), dest))
    assert len(out) == seconds // SEGMENT_SECONDS
    return out


# ---- wire items as an agent sends them -------------------------------------------------------


def obs_item(camera_id: int, minute: datetime, people: int = 1) -> dict[str, Any]:
    data = {
        "camera_id": camera_id,
        "minute": minute,
        "people_max": people,
        "people_mean": float(people),
        "zones": {},
        "motion_pct": 1.5 if people else 0.0,  # an empty room is still (docs/verdicts.md)
        "light_level": 120.0,
        "lights_on": True,
        "ir_mode": False,
        "tamper": {},
        "coverage_seconds": 60.0,
        "samples": 12,
        "detector_runs": 1,
        "source": "live",
    }
    return {
        "key": wire.observation_key(camera_id, minute),
        "kind": wire.OBSERVATION,
        "seq": 1,
        "data": wire.jsonable(data),
    }


def health_item(camera_id: int, minute: datetime) -> dict[str, Any]:
    data = {
        "camera_id": camera_id,
        "minute": minute,
        "state": "online",
        "online_seconds": 60.0,
        "fps": 10.0,
        "kbps": 900.0,
        "reconnects": 0,
        "reason": None,
    }
    return {
        "key": wire.health_key(camera_id, minute),
        "kind": wire.HEALTH,
        "seq": 2,
        "data": wire.jsonable(data),
    }


def incident_item(camera_id: int, inc_id: str, start: datetime, end: datetime | None) -> dict:
    data = {
        "id": inc_id,
        "camera_id": camera_id,
        "kind": "intrusion",
        "start": start,
        "end": end,
        "detail": {"people_max": 2},
    }
    return {
        "key": wire.incident_key(inc_id),
        "kind": wire.INCIDENT,
        "seq": 3,
        "data": wire.jsonable(data),
    }
