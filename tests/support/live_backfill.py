"""One simulated camera seen live and analysed again from files, for tests/test_live_backfill.py.

The live half is the product's own chain: `LiveSim` (render, H.264, UDP) -> GStreamer RTSP server
-> `CameraWorker` (records MPEG-TS segments, samples keyframes, analyses) -> sinks. The offline
half is whatever `pantau analyze` reads: the worker's own segment files, or a `pantau sim record`
of the same window of the same world. This module only sets the scene and compares minutes;
it never computes an observation itself.
"""

from __future__ import annotations

import contextlib
import json
import math
import resource
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pantau.media.reader
import pantau.sim.record
from pantau.config.model import Settings
from pantau.incidents.rules import IncidentSpec, MinuteFacts, detect
from pantau.pipeline.camera import CameraSpec, CameraWorker
from pantau.pipeline.health import State
from pantau.sim.live import LiveCamera, LiveCameraSpec, LiveSim, free_udp_port
from pantau.sim.offices import SimConfig, SimOffice, make_scene, parse_event, select_offices
from pantau.sim.profiles import OfficeSim

# Monday 23 November 2026 at a punctual office (kel-korumba), just after the scheduled 16.00
# closing: two staff members are still at their desks with the lights on, a third person walks
# in at 16.00.15 for 90 s (an intruder on command) and at 16.01.50 the interior camera's picture
# goes black (a tamper on command). The stream starts at 15.59.40; its three whole minutes
# differ: 16.00 and 16.01 lit with people (outside the scheduled hours: an intrusion for the
# incident rules), 16.02 black (a tamper).
# Why not the morning arrival: one person walking in, or people in a room still dark, are found
# in only some frames (measured: none to two in three), so whether a minute has anyone depends
# on which frames were sampled; at one sample per 5 s such minutes disagreed with the live ones
# in 2 of 5 sampling phases. Seated staff in a lit room are found at every phase and rate.
# Why a black picture rather than a cloth over the lens: the simulated cloth is grainy (about
# 30 KB a frame) and on a busy machine the simulator's UDP hop to the RTSP server then loses
# packets.
SITE = "kel-korumba"
DAY = date(2026, 11, 23)
VIEW = "interior"
EVENTS = (f"intruder@{DAY} 16.00.15+1.5", f"blackout@{DAY} 16.01.50+10/{VIEW}")
LIVE_FROM = "15.59.40"  # 20 s before 16.00: connecting and warming up happen in 15.59
LIVE_UNTIL = "16.03.03"  # 3 s into 16.03, so 16.02 is whole
CAMERA_FPS = 5.0  # light on a shared machine; the simulator's GOP is one second at any rate


def office() -> SimOffice:
    [o] = select_offices(
        SimConfig(offices=[OfficeSim(site=SITE, profile="punctual", random_events=False)]),
        events=[parse_event(e) for e in EVENTS],
    )
    return o


def local(o: SimOffice, hhmmss: str) -> datetime:
    """'15.59.40' on DAY in the office's zone -> aware UTC."""
    h, m, s = (int(v) for v in hhmmss.split("."))
    return o.world.local(DAY, h + m / 60 + s / 3600)


@contextlib.contextmanager
def receiver_clock(clock: WindowClock) -> Iterator[None]:
    """Make the stream reader's "now" the simulator's clock.

    A live packet is stamped with the time it arrives (docs/time.md); for the frames of a
    simulated 16.00 to be stamped 16.00, the receiver has to live in simulated time too, as a
    real deployment at that hour would. Only `datetime.now` inside pantau.media.reader changes.
    """

    class SimNow(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            at = clock.now()
            return at.astimezone(tz) if tz is not None else at.replace(tzinfo=None)

    with mock.patch.object(pantau.media.reader, "datetime", SimNow):
        yield


class TeeSink:
    """Hands every call to several sinks: one live run feeds the SQLite and PostgreSQL databases."""

    def __init__(self, *sinks: Any) -> None:
        self.sinks = sinks

    def __getattr__(self, name: str) -> Callable[..., None]:
        def call(*args: Any, **kwargs: Any) -> None:
            for sink in self.sinks:
                getattr(sink, name)(*args, **kwargs)

        return call


class WindowClock:
    """Simulated time at real speed that starts with the stream (see `QuietSim.start`).

    Duck-types `SimClock`. Starting the GStreamer server can take seconds on a busy machine;
    counting from the first frame keeps those seconds out of the window.
    """

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.speed = 1.0
        self._t0: float | None = None

    def begin(self) -> None:
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        t0 = self._t0 if self._t0 is not None else time.monotonic()
        return self.start + timedelta(seconds=time.monotonic() - t0)


class QuietSim(LiveSim):
    """The live simulator, its clock started once the server listens, without ground truth.

    This comparison measures Pantau against itself, not against the truth, and the truth
    writer currently fails on any day with a tamper event (TypeError in
    pantau.sim.groundtruth.day_events: `kind` is both its parameter and the tamper field).
    """

    def start(self) -> QuietSim:
        self.server.start()
        self.clock.begin()  # type: ignore[attr-defined]
        self.threads = [LiveCamera(c, self.clock, self.fps, self._truth) for c in self.cameras]
        for t in self.threads:
            t.start()
        return self

    def _truth(self, world: Any, at: datetime) -> None:
        return None


@dataclass
class LiveRun:
    camera_id: int
    segments: Path  # the worker's recordings of this camera
    worker_state: State
    reconnects: int  # connections after the first: each one loses seconds of the window
    frames_sent: int
    cpu_seconds: float  # this process: simulator, worker, analysis, database writes
    server_cpu_seconds: float  # the GStreamer RTSP server process


def run_live(
    o: SimOffice,
    settings: Settings,
    sink: Any,
    camera_id: int,
    *,
    start: datetime,
    until: datetime,
    truth_dir: Path,
) -> LiveRun:
    """Serve the office's camera from `start` at real speed and record/analyse it until `until`.

    Real speed because the simulator stamps its stream with wall-clock milliseconds: at a sped-up
    clock the stream's time falls behind the pictures and the reader re-anchors every 10 s.
    """
    clock = WindowClock(start)
    cam = LiveCameraSpec(
        o.world, VIEW, make_scene(o.seed, VIEW, 640, 360), f"{o.slug}/{VIEW}", free_udp_port()
    )
    cpu0 = time.process_time()
    children0 = _children_cpu()
    with (
        receiver_clock(clock),
        QuietSim([cam], fps=CAMERA_FPS, clock=clock, truth_dir=truth_dir) as sim,
    ):
        spec = CameraSpec(id=camera_id, name="live", url=sim.url(f"{o.slug}/{VIEW}"))
        worker = CameraWorker(spec, settings, sink)
        worker.start()
        try:
            threading.Event().wait(max(0.0, (until - clock.now()).total_seconds()))
            state = worker.state
            reconnects = worker.tracker.recent_reconnects
        finally:
            worker.stop()
            worker.join(20)
        assert not worker.is_alive(), "the camera worker did not stop"
        [camera] = sim.threads
        assert camera.error is None, camera.error
        frames = camera.frames
    return LiveRun(
        camera_id,
        settings.recordings_dir / str(camera_id),
        state,
        reconnects,
        frames,
        time.process_time() - cpu0,
        _children_cpu() - children0,
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def record_window(
    o: SimOffice, start: datetime, until: datetime, out: Path, *, interval_s: float = 1.0
) -> Path:
    """`pantau sim record` of [start, until) instead of the whole day; returns the view folder.

    The simulator records whole days; rendering 86,400 frames for a three-minute comparison
    would dominate the test, so `record_day`'s frame times are narrowed to the window and the
    sidecar is written as `record` writes it (no ground truth: see `QuietSim`).
    """
    n = int((until - start).total_seconds() // interval_s)
    times = [start + timedelta(seconds=k * interval_s) for k in range(n)]
    scene = make_scene(o.seed, VIEW, 640, 360)
    with mock.patch.object(pantau.sim.record, "frame_times", lambda *_a: times):
        made = pantau.sim.record.record_day(o.world, scene, VIEW, DAY, out, interval_s=interval_s)
    assert made is not None and made.frames == n
    folder = out / o.slug / VIEW
    (folder / f"{DAY}.json").write_text(json.dumps(asdict(made), indent=1), encoding="utf-8")
    return folder


# ---- comparing minutes ---------------------------------------------------------------------

Row = dict[str, Any]


def by_minute(rows: Iterable[Any]) -> dict[datetime, Row]:
    """Observation ORM rows (or dicts) keyed by minute, as plain dicts."""
    out: dict[datetime, Row] = {}
    for r in rows:
        d = r if isinstance(r, dict) else {c: getattr(r, c) for c in ROW_FIELDS}
        out[d["minute"]] = d
    return out


ROW_FIELDS = (
    "camera_id",
    "minute",
    "people_max",
    "people_mean",
    "motion_pct",
    "light_level",
    "lights_on",
    "ir_mode",
    "tamper",
    "coverage_seconds",
    "samples",
    "detector_runs",
    "source",
)


def whole_minutes(*sets: dict[datetime, Row]) -> list[datetime]:
    """Minutes every set has, without each set's first and last minute (partial by nature)."""
    common = set.intersection(*(set(s) for s in sets))
    for s in sets:
        ordered = sorted(s)
        common -= {ordered[0], ordered[-1]}
    return sorted(common)


MOTION_FLOOR = 0.05  # % of the frame: below this both sides call it "still"
MOTION_FACTOR = 3.0  # "of the same order": measured at most 1.6x between sample rates


def same_order(a: float, b: float) -> bool:
    a, b = max(a, MOTION_FLOOR), max(b, MOTION_FLOOR)
    return abs(math.log10(a) - math.log10(b)) <= math.log10(MOTION_FACTOR)


@dataclass
class Agreement:
    minutes: list[datetime]
    presence: list[datetime] = field(default_factory=list)  # minutes that disagree
    lights: list[datetime] = field(default_factory=list)
    ir: list[datetime] = field(default_factory=list)
    tamper: list[datetime] = field(default_factory=list)
    motion: list[datetime] = field(default_factory=list)

    @property
    def presence_share(self) -> float:
        return 1 - len(self.presence) / len(self.minutes) if self.minutes else 0.0

    def problems(self, min_presence: float = 0.9) -> list[str]:
        out = []
        if not self.minutes:
            out.append("no whole minute in common")
        if self.presence_share < min_presence:
            out.append(f"presence agrees in {self.presence_share:.0%} of minutes ({self.presence})")
        for name in ("lights", "ir", "tamper", "motion"):
            if getattr(self, name):
                out.append(f"{name} differs in {getattr(self, name)}")
        return out


def agreement(a: dict[datetime, Row], b: dict[datetime, Row], minutes: list[datetime]) -> Agreement:
    out = Agreement(minutes)
    for m in minutes:
        x, y = a[m], b[m]
        if (x["people_max"] >= 1) != (y["people_max"] >= 1):
            out.presence.append(m)
        if x["lights_on"] != y["lights_on"]:
            out.lights.append(m)
        if x["ir_mode"] != y["ir_mode"]:
            out.ir.append(m)
        if sorted(x["tamper"] or {}) != sorted(y["tamper"] or {}):
            out.tamper.append(m)
        if not same_order(x["motion_pct"], y["motion_pct"]):
            out.motion.append(m)
    return out


def incidents(
    rows: dict[datetime, Row], minutes: list[datetime], scheduled: Callable[[datetime], bool]
) -> list[tuple[str, datetime, datetime | None, tuple[str, ...]]]:
    """The rules over the given minutes, camera-neutral: (kind, start, end, tamper kinds)."""
    specs: list[IncidentSpec] = detect(
        [MinuteFacts.of(0, rows[m]) for m in minutes],
        scheduled=scheduled,
    )
    return [(s.kind, s.start, s.end, tuple(s.detail.get("kinds", ()))) for s in specs]


def shifted(rows: dict[datetime, Row], by: timedelta) -> dict[datetime, Row]:
    """The same rows labelled `by` later: a deliberately wrong time base."""
    return {m + by: {**r, "minute": m + by} for m, r in rows.items()}
