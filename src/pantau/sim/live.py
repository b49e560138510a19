"""`pantau sim serve`: simulated cameras served over the real RTSP server, in real time.

Each camera renders its office at the current WITA time (or a sped-up simulated clock),
encodes H.264 and sends MPEG-TS over UDP on 127.0.0.1 to the GStreamer RTSP server, which
serves it as rtsp://127.0.0.1:PORT/<site-slug>/<view>. A camera or site "offline" in the plan
simply stops sending, so Pantau sees exactly what a real outage looks like.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pantau.sim.encode import H264Writer
from pantau.sim.groundtruth import GroundTruthWriter
from pantau.sim.rtsp import RtspServer
from pantau.sim.world import World

log = logging.getLogger(__name__)


class SimClock:
    """Simulated UTC time: `start` + elapsed wall time x `speed`."""

    def __init__(self, start: datetime | None = None, speed: float = 1.0) -> None:
        self.start = (start or datetime.now(UTC)).astimezone(UTC)
        self.speed = speed
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveCameraSpec:
    world: World
    view: str
    scene: object
    mount: str
    udp_port: int


class LiveCamera(threading.Thread):
    def __init__(
        self,
        spec: LiveCameraSpec,
        clock: SimClock,
        fps: float,
        truth: Callable[[World, datetime], None],
    ) -> None:
        super().__init__(name=f"sim-{spec.mount}", daemon=True)
        self.spec, self.clock, self.fps, self.truth = spec, clock, fps, truth
        self.halt = threading.Event()
        self.frames = 0
        self.error: str | None = None

    def run(self) -> None:
        spec = self.spec
        width, height = spec.scene.width, spec.scene.height  # type: ignore[attr-defined]
        writer: H264Writer | None = None
        t0 = time.monotonic()
        try:
            while not self.halt.is_set():
                at = self.clock.now()
                self.truth(spec.world, at)
                present, lights, tamper, offline = spec.world.state_at(at, spec.view)
                if offline:
                    if writer is not None:  # the stream stops, as a dead camera's does
                        writer.close()
                        writer = None
                else:
                    if writer is None:
                        writer = H264Writer(
                            f"udp://127.0.0.1:{spec.udp_port}?pkt_size=1316",
                            fmt="mpegts",
                            width=width,
                            height=height,
                            gop=max(1, round(self.fps)),
                            fps=self.fps,
                            live=True,
                        )
                        t0 = time.monotonic()
                    frame = spec.scene.render(
                        at,
                        present,
                        lights,
                        tamper,  # type: ignore[attr-defined]
                        frame_index=self.frames,
                    )
                    writer.write(frame, round((time.monotonic() - t0) * 1000))
                    self.frames += 1
                next_at = t0 + (self.frames + 1) / self.fps if writer else time.monotonic() + 1
                self.halt.wait(max(0.0, next_at - time.monotonic()))
        except Exception as exc:  # one broken simulated camera must not stop the others
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("simulated camera %s failed", spec.mount)
        finally:
            if writer is not None:
                writer.close()


class LiveSim:
    """The RTSP server plus one thread per simulated camera."""

    def __init__(
        self,
        cameras: list[LiveCameraSpec],
        *,
        fps: float,
        clock: SimClock,
        truth_dir: Path,
        port: int = 0,
    ) -> None:
        self.cameras = cameras
        self.clock = clock
        self.fps = fps
        self.server = RtspServer(
            {c.mount: f"udp:{c.udp_port}" for c in cameras},
            port=port,
            start_timeout=3 if port else 10,
        )
        self._writers: dict[str, GroundTruthWriter] = {}
        self._written: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self.truth_dir = truth_dir
        self.threads: list[LiveCamera] = []

    def _truth(self, world: World, at: datetime) -> None:
        day = at.astimezone(world.zone).date()
        key = (world.slug, day.isoformat())
        if key in self._written:
            return
        with self._lock:
            if key in self._written:
                return
            writer = self._writers.setdefault(
                world.slug, GroundTruthWriter(self.truth_dir / f"{world.slug}.jsonl")
            )
            plan, facts = world.day(day)
            writer.write_day(plan, facts, world.zone)
            self._written.add(key)

    def url(self, mount: str) -> str:
        return self.server.url(mount)

    def start(self) -> LiveSim:
        self.truth_dir.mkdir(parents=True, exist_ok=True)
        self.server.start()
        self.threads = [LiveCamera(c, self.clock, self.fps, self._truth) for c in self.cameras]
        for t in self.threads:
            t.start()
        return self

    def stop(self) -> None:
        for t in self.threads:
            t.halt.set()
        for t in self.threads:
            t.join(5)
        self.server.stop()

    def __enter__(self) -> LiveSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
