"""Worker processes: cameras are sharded over processes so both cores are used.

Each process owns the cameras whose id falls in its shard (id mod N), reads their definitions
from the database every few seconds (so a camera added through the API starts recording without
a restart) and runs one supervised thread per camera. Decoding and muxing happen in FFmpeg with
the GIL released, so threads in one process do not queue behind each other; separate processes
keep one misbehaving camera's Python work (or a crash of FFmpeg itself) away from the rest.
Shard 0 also runs the hub-wide chores: retention, and the incident evaluator (on its own
thread, so a slow pass never delays restarting a camera).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from multiprocessing.synchronize import Event as MpEvent

from sqlalchemy import select

from pantau.config.model import Settings
from pantau.pipeline.camera import CameraSpec, CameraWorker, zones_of
from pantau.pipeline.orphan import watch_parent
from pantau.pipeline.sinks import DbSink
from pantau.registry.secrets import SecretError, with_credentials
from pantau.runtime import Runtime, open_runtime
from pantau.store.models import Agent, Camera
from pantau.store.types import utcnow

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0


def load_specs(
    rt: Runtime, index: int, count: int, skip: frozenset[int] = frozenset()
) -> dict[int, CameraSpec]:
    """The cameras this shard records. Cameras of a site served by an agent (not revoked) are
    left out: the agent records them at the site, and the hub usually cannot reach them; so are
    `skip` (the demo's cameras that exist only in the simulator's history)."""
    specs: dict[int, CameraSpec] = {}
    with rt.sessions() as session:
        agent_sites = select(Agent.site_id).where(Agent.revoked_at.is_(None))
        for cam in session.scalars(select(Camera).where(Camera.site_id.not_in(agent_sites))):
            if cam.id % count != index or cam.id in skip:
                continue
            password = None
            if cam.password_enc:
                try:
                    password = rt.secrets.decrypt(cam.password_enc)
                except SecretError as exc:
                    log.error("camera %s (%d): %s", cam.name, cam.id, exc)
            specs[cam.id] = CameraSpec(
                id=cam.id,
                name=cam.name,
                url=with_credentials(cam.main_stream, cam.username, password),
                enabled=cam.enabled,
                zones=zones_of(cam.zones),
            )
    return specs


def run_shard(
    settings_json: str,
    index: int,
    count: int,
    stop: MpEvent,
    parent: int,
    skip: frozenset[int] = frozenset(),
) -> None:
    """Entry point of one worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    settings = Settings.model_validate_json(settings_json)
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s %(levelname)s shard{index} %(name)s: %(message)s",
    )
    watch_parent(stop.set, parent)
    rt = open_runtime(settings, prepare=False)
    sink = DbSink(rt, worker_name=f"{os.uname().nodename}:{os.getpid()}/shard{index}")
    workers: dict[int, CameraWorker] = {}
    next_retention = time.monotonic() + 30.0
    # One of each for the whole hub (they read every camera and site, not just shard 0's).
    services = _start_services(rt, stop) if index == 0 else []
    try:
        while not stop.is_set():
            try:
                wanted = load_specs(rt, index, count, skip)
            except Exception:
                log.exception("could not read cameras; keeping the current ones")
                wanted = {cid: w.spec for cid, w in workers.items()}
            for cid, worker in list(workers.items()):
                if wanted.get(cid) != worker.spec or not worker.is_alive():
                    worker.stop()
                    worker.join(timeout=settings.ingest.stall_seconds + 5)
                    del workers[cid]
            for cid, spec in wanted.items():
                if cid not in workers:
                    workers[cid] = CameraWorker(spec, settings, sink)
                    workers[cid].start()
            if index == 0 and settings.recording.enabled and time.monotonic() >= next_retention:
                next_retention = time.monotonic() + settings.recording.retention_interval_seconds
                _retention(rt)
            stop.wait(POLL_SECONDS)
    finally:
        for worker in workers.values():
            worker.stop()
        for worker in workers.values():
            worker.join(timeout=settings.ingest.stall_seconds + 5)
        for thread in services:
            thread.join(timeout=10)  # each stops after the camera or day it is on
        rt.close()


def _settings_json(settings: Settings) -> str:
    """The settings for a worker process, secrets included (pydantic masks SecretStr as
    "**********" in JSON, which would hand the worker a wrong SMTP password)."""
    return settings.model_dump_json(context={"reveal": True}, round_trip=True)


def _start_services(rt: Runtime, stop: MpEvent) -> list[threading.Thread]:
    """Incidents, verdicts and report mail: once per hub, next to the cameras of shard 0."""
    from pantau.incidents.evaluator import start_evaluator
    from pantau.verdicts.mailer import start_mailer
    from pantau.verdicts.scheduler import start_scheduler

    started = []
    for name, start in (
        ("incident evaluator", start_evaluator),
        ("verdicts", start_scheduler),
        ("report mailer", start_mailer),
    ):
        try:
            started.append(start(rt, stop))
        except Exception:  # recording must go on even if these cannot run
            log.exception("could not start the %s", name)
    return started


def _retention(rt: Runtime) -> None:
    from pantau.hub.clips import expire_clips
    from pantau.recordings.retention import enforce
    from pantau.store.db import transaction

    try:
        report = enforce(rt, utcnow())
        log.info("retention: %s", report)
        with transaction(rt.sessions) as session:
            if expired := expire_clips(session, rt.settings, utcnow()):
                log.info("retention: %d retrieved edge clips expired", expired)
    except Exception:
        log.exception("retention run failed")


class ShardManager:
    """Starts and stops the worker processes (spawned, so no state leaks from the parent)."""

    def __init__(
        self, settings: Settings, processes: int | None = None, skip: frozenset[int] = frozenset()
    ) -> None:
        self.settings = settings
        self.count = processes or settings.ingest.workers or os.cpu_count() or 1
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        self._procs = [
            ctx.Process(
                target=run_shard,
                args=(_settings_json(settings), i, self.count, self._stop, os.getpid(), skip),
                name=f"pantau-shard{i}",
                daemon=True,
            )
            for i in range(self.count)
        ]

    def start(self) -> ShardManager:
        for proc in self._procs:
            proc.start()
        return self

    def stop(self, timeout: float = 20.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for proc in self._procs:
            proc.join(timeout=max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.terminate()
                proc.join(2)

    @property
    def alive(self) -> list[bool]:
        return [p.is_alive() for p in self._procs]

    def __enter__(self) -> ShardManager:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
