"""The running demo next to the hub: live simulated cameras, the simulated feed, the rest of
the history, and the camera workers.

One child process (`sim_process`) holds everything simulated, so its CPU never competes with
the API for a GIL:

* the live offices: the simulator's cameras encoding H.264 to GStreamer's RTSP server (its own
  child process), which the hub's real camera workers record and analyse;
* the feed: the other connected offices have no video in the demo, so their minutes keep
  coming from the simulator's plan (observations, health, camera state), and their marker
  `history_simulated_until` moves with them — the hub's incident evaluator and verdict job
  treat those rows like any others;
* the older history, filled after the hub is up (newest day first, at a bounded share of a
  core, so the demo is usable at once and stays light).

The hub's workers are the real ones (`pantau.pipeline.shard.run_shard`); they are only told
to leave alone the cameras the feed plays and the ones that must stay "never connected".
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import signal
import time
from collections.abc import Callable
from datetime import datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

from pantau.config.model import Settings
from pantau.demo import history
from pantau.demo.minutes import REASON_SITE
from pantau.demo.setup import Entry, build_sites
from pantau.runtime import Runtime, open_runtime
from pantau.store.db import transaction
from pantau.store.models import CameraState
from pantau.store.types import utcnow

log = logging.getLogger(__name__)

STATE_EVERY = 10.0  # seconds; the API calls a state older than 30 s "no worker"
FEED_EVERY = 60.0
BACKFILL_SHARE = 0.5  # of one core, while the older history is being filled
FEED_WORKER = "pantau demo (simulasi)"
FPS = history.FPS  # the wall and live view need no more; keyframes stay 1 s apart
SIZE = (640, 360)


# ---- the camera workers ------------------------------------------------------------------


# ---- the simulated side ---------------------------------------------------------------------


class Throttle:
    """Keeps a loop's CPU at `share` of a core by sleeping after each piece of work."""

    def __init__(self, share: float) -> None:
        self.share = share

    def run(self, halt: MpEvent, work: Callable[..., Any], *args: Any) -> Any:
        begun = time.thread_time()
        out = work(*args)
        spent = time.thread_time() - begun
        halt.wait(spent * (1.0 / self.share - 1.0))
        return out


class Feed:
    """The feed offices' minutes and camera states, from the simulator's plan."""

    def __init__(self, rt: Runtime, sites: list[history.SimSite], days: int) -> None:
        self.rt = rt
        self.sites = sites
        self.days = days
        self._since: dict[int, tuple[str, datetime]] = {}

    def minutes(self) -> history.StepReport:
        return history.fill_forward(
            self.rt.sessions, self.rt.settings, self.sites, self.days, derive=False
        )

    def states(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        with transaction(self.rt.sessions) as session:
            for sim in self.sites:
                for cam in sim.cameras:
                    _, _, _, offline = cam.world.state_at(now, cam.view)
                    state = "offline" if offline else "online"
                    known = self._since.get(cam.camera_id)
                    if known is None:
                        row = session.get(CameraState, cam.camera_id)
                        since = row.since if row is not None and row.state == state else now
                        known = (state, since)
                    elif known[0] != state:
                        known = (state, now)
                    self._since[cam.camera_id] = known
                    session.merge(
                        CameraState(
                            camera_id=cam.camera_id,
                            state=state,
                            reason=REASON_SITE if offline else None,
                            reason_code="unreachable" if offline else None,
                            since=known[1],
                            last_packet_at=None if offline else now,
                            fps=0.0 if offline else FPS,
                            kbps=0.0 if offline else history.KBPS,
                            width=SIZE[0],
                            height=SIZE[1],
                            codec="h264",
                            reconnects=0,
                            worker=FEED_WORKER,
                            updated_at=now,
                        )
                    )


def _start_live(sites: list[history.SimSite], data_dir: Path, port: int) -> tuple[Any, int]:
    from pantau.sim.live import LiveCameraSpec, LiveSim, SimClock, free_udp_port
    from pantau.sim.offices import make_scene
    from pantau.sim.rtsp import RtspServerError

    cams = [
        LiveCameraSpec(
            cam.world,
            cam.view,
            make_scene(cam.seed, cam.view, *SIZE),
            f"{s.slug}/{cam.view}",
            free_udp_port(),
        )
        for s in sites
        for cam in s.cameras
    ]
    for attempt in (port, 0):  # the usual port, or any free one
        sim = LiveSim(
            cams,
            fps=FPS,
            clock=SimClock(),
            truth_dir=data_dir / "sim" / "groundtruth",
            port=attempt,
        )
        try:
            sim.start()
            return sim, sim.server.port
        except RtspServerError:
            if attempt == 0:
                raise
    raise AssertionError("unreachable")


def sim_process(
    settings_json: str,
    live: list[Entry],
    feed: list[Entry],
    days: int,
    port: int,
    out: Queue,
    go: MpEvent,
    stop: MpEvent,
) -> None:
    """Entry point of the demo's simulator process (see the module's docstring)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    settings = Settings.model_validate_json(settings_json)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s demo-sim %(name)s: %(message)s"
    )
    tz = settings.city.timezone
    live_sim = None
    try:
        if live:
            live_sim, port = _start_live(build_sites(live, tz), settings.data_dir, port)
        out.put(("port", port))
    except Exception as exc:  # the parent prints it and runs without live cameras
        log.exception("live simulated cameras could not start")
        out.put(("error", f"{type(exc).__name__}: {exc}"))
    try:
        while not go.wait(0.5):
            if stop.is_set():
                return
        rt = open_runtime(settings, prepare=False)
        try:
            _feed_loop(rt, build_sites(feed, tz), build_sites(live + feed, tz), days, stop)
        finally:
            rt.close()
    finally:
        if live_sim is not None:
            live_sim.stop()


def _feed_loop(
    rt: Runtime,
    feed_sites: list[history.SimSite],
    all_sites: list[history.SimSite],
    days: int,
    stop: MpEvent,
) -> None:
    feed = Feed(rt, feed_sites, days)
    throttle = Throttle(BACKFILL_SHARE)
    with rt.sessions() as session:
        backlog = history.missing_days(session, rt.settings, all_sites, days, utcnow())
    if backlog:
        log.info("filling %d older simulated office-days in the background", len(backlog))
    next_state = next_feed = 0.0
    while not stop.is_set():
        now = time.monotonic()
        try:
            if now >= next_state:
                next_state = now + STATE_EVERY
                feed.states()
            if now >= next_feed:
                next_feed = now + FEED_EVERY
                feed.minutes()
            if backlog:
                sim, day = backlog.pop(0)
                throttle.run(stop, history.fill_day, rt.sessions, rt.settings, sim, day)
                if not backlog:
                    log.info("simulated history complete: %d days", days)
                continue
        except Exception:  # the demo goes on; the next round tries again
            log.exception("simulated feed failed; trying again")
        stop.wait(max(0.2, min(next_state, next_feed) - time.monotonic()))


class SimProcess:
    """Starts `sim_process`, waits for the RTSP port, lets the feed go, stops it all."""

    def __init__(
        self, settings: Settings, live: list[Entry], feed: list[Entry], days: int, port: int
    ) -> None:
        ctx = mp.get_context("spawn")
        self._out: Queue = ctx.Queue()
        self._go = ctx.Event()
        self._stop = ctx.Event()
        payload = settings.model_dump_json(context={"reveal": True}, round_trip=True)
        self.proc = ctx.Process(
            target=sim_process,
            args=(payload, live, feed, days, port, self._out, self._go, self._stop),
            name="pantau-demo-sim",
            daemon=True,
        )

    def start(self) -> SimProcess:
        self.proc.start()
        return self

    def port(self, timeout: float = 120.0) -> int:
        """The RTSP server's port once the live cameras run; RuntimeError if they could not."""
        kind, value = self._out.get(timeout=timeout)
        if kind == "error":
            raise RuntimeError(value)
        return int(value)

    def go(self) -> None:
        self._go.set()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(3)
