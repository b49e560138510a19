"""Where a camera worker's facts go. The hub writes them to its database; an edge agent (later)
to its durable outbox. Workers only see this interface."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

from pantau.media.reader import SampledFrame
from pantau.media.recorder import Recovery, SegmentInfo
from pantau.media.snapshot import write_latest
from pantau.pipeline.health import HealthTracker, MinuteSample
from pantau.recordings.index import add_segment
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import CameraState, HealthSample, Observation
from pantau.store.types import utcnow

log = logging.getLogger(__name__)


class Sink(Protocol):
    def segment(self, camera_id: int, info: SegmentInfo) -> None: ...
    def recovered(self, camera_id: int, results: list[Recovery]) -> None: ...
    def health(self, camera_id: int, samples: list[MinuteSample]) -> None: ...
    def state(self, camera_id: int, tracker: HealthTracker, extra: dict[str, object]) -> None: ...
    def frame(self, camera_id: int, frame: SampledFrame) -> None: ...
    def disk_full(self, camera_id: int, message: str) -> None: ...
    def observations(self, camera_id: int, rows: list[dict[str, Any]]) -> None: ...


class DbSink:
    """Writes to the hub database; every call is its own short transaction (thread-safe)."""

    def __init__(self, runtime: Runtime, worker_name: str, snapshot_every: float = 2.0) -> None:
        self.rt = runtime
        self.worker_name = worker_name
        self.snapshot_every = snapshot_every
        self._last_snapshot: dict[int, float] = {}
        self._retention_lock = threading.Lock()

    def segment(self, camera_id: int, info: SegmentInfo) -> None:
        with transaction(self.rt.sessions) as session:
            add_segment(session, info)

    def recovered(self, camera_id: int, results: list[Recovery]) -> None:
        for r in results:
            log.warning(
                "camera %d: %s segment %s after an unclean stop (%s)",
                camera_id,
                r.action,
                r.path,
                r.detail,
            )
            if r.segment is not None:
                self.segment(camera_id, r.segment)

    def health(self, camera_id: int, samples: list[MinuteSample]) -> None:
        if not samples:
            return
        with transaction(self.rt.sessions) as session:
            for s in samples:
                session.merge(
                    HealthSample(
                        camera_id=camera_id,
                        minute=s.minute,
                        state=s.state.value,
                        online_seconds=s.online_seconds,
                        fps=s.fps,
                        kbps=s.kbps,
                        reconnects=s.reconnects,
                        reason=(s.reason or None) and s.reason[:240],
                    )
                )

    def state(self, camera_id: int, tracker: HealthTracker, extra: dict[str, object]) -> None:
        with transaction(self.rt.sessions) as session:
            session.merge(
                CameraState(
                    camera_id=camera_id,
                    state=tracker.state.value,
                    reason=(tracker.reason or None) and tracker.reason[:240],
                    reason_code=tracker.reason_code,
                    since=tracker.since or utcnow(),
                    last_packet_at=tracker.last_packet_at,
                    fps=tracker.last_fps,
                    kbps=tracker.last_kbps,
                    reconnects=tracker.recent_reconnects,
                    worker=self.worker_name,
                    updated_at=utcnow(),
                    **extra,
                )
            )

    def frame(self, camera_id: int, frame: SampledFrame) -> None:
        now = time.monotonic()
        if now - self._last_snapshot.get(camera_id, 0.0) < self.snapshot_every:
            return
        self._last_snapshot[camera_id] = now
        write_latest(self.rt.settings.snapshots_dir, camera_id, frame.bgr)

    def observations(self, camera_id: int, rows: list[dict[str, Any]]) -> None:
        """Upsert by (camera, minute): writing a minute again replaces it, never adds one."""
        if not rows:
            return
        with transaction(self.rt.sessions) as session:
            for row in rows:
                session.merge(Observation(**row))

    def disk_full(self, camera_id: int, message: str) -> None:
        """Free space now (oldest first) rather than wait for the periodic retention run."""
        from pantau.recordings.retention import enforce

        log.error("camera %d: %s; running retention now", camera_id, message)
        with self._retention_lock:
            report = enforce(self.rt, utcnow())
        log.warning("retention after disk full: %s", report)
