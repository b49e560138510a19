"""The incident evaluator of the running hub: every enabled camera, every minute or so.

The rules are pure and the store is idempotent, so the evaluator simply re-reads a window of
recent history (`analytics.incident_lookback_hours`) for each camera on every pass: late
observations (a site reconnecting, an upload) extend or create incidents on the next pass,
and nothing needs to remember where the last pass stopped. Each camera is evaluated in its
own transaction, and a camera whose evaluation fails is logged with its name and skipped:
one bad row must not keep the control room from hearing about the other cameras.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pantau.incidents.store import evaluate_camera
from pantau.registry.calendar import format_hhmm
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Camera
from pantau.store.types import utcnow

log = logging.getLogger(__name__)
FIRST_DELAY_SECONDS = 15.0  # let the camera workers connect before the first pass


class Waitable(Protocol):
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


@dataclass
class PassReport:
    """What one pass did; `failed` maps camera id to the error's text."""

    cameras: int = 0
    new: int = 0
    updated: int = 0
    failed: dict[int, str] = field(default_factory=dict)
    cpu_seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.cameras} cameras, {self.new} new and {self.updated} known incidents, "
            f"{len(self.failed)} failed, {self.cpu_seconds:.2f} s CPU"
        )


class IncidentEvaluator:
    """Runs `evaluate_camera` over every enabled camera; `run` loops until told to stop."""

    def __init__(self, rt: Runtime, clock: Callable[[], datetime] = utcnow) -> None:
        self.rt = rt
        self.clock = clock
        cfg = rt.settings.analytics
        self.interval = cfg.incident_interval_seconds
        self.lookback = timedelta(hours=cfg.incident_lookback_hours)
        self._tz = ZoneInfo(rt.settings.city.timezone)
        self._label = rt.settings.city.timezone_label

    def run_once(self, now: datetime | None = None, stop: Waitable | None = None) -> PassReport:
        started = time.thread_time()
        now = now or self.clock()
        until = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        since = until - self.lookback
        report = PassReport()
        with self.rt.sessions() as session:
            cameras = list(
                session.execute(
                    select(Camera.id, Camera.name).where(Camera.enabled).order_by(Camera.id)
                ).all()
            )
        for camera_id, name in cameras:
            if stop is not None and stop.is_set():
                break
            report.cameras += 1
            try:
                with transaction(self.rt.sessions) as session:
                    begun = utcnow()  # wall clock: new rows are stamped after it
                    rows = evaluate_camera(session, self.rt.settings, camera_id, since, until)
                    fresh = [r for r in rows if r.created_at >= begun]
                    for row in fresh:
                        log.info(
                            "incident %s: %s on camera %s (%d) from %s %s",
                            row.id,
                            row.kind,
                            name,
                            camera_id,
                            format_hhmm(row.start.astimezone(self._tz)),
                            self._label,
                        )
                    report.new += len(fresh)
                    report.updated += len(rows) - len(fresh)
            except Exception as exc:  # one camera's trouble must not stop the others
                report.failed[camera_id] = f"{type(exc).__name__}: {exc}"
                log.exception("incidents: camera %s (%d): evaluation failed", name, camera_id)
        report.cpu_seconds = time.thread_time() - started
        return report

    def run(self, stop: Waitable, first_delay: float | None = None) -> None:
        """Pass after pass until `stop` is set; a failed pass is logged, never fatal."""
        if first_delay is None:
            first_delay = min(FIRST_DELAY_SECONDS, self.interval)
        if stop.wait(first_delay):
            return
        while not stop.is_set():
            begun = time.monotonic()
            try:
                report = self.run_once(stop=stop)
                level = logging.WARNING if report.failed else logging.DEBUG
                log.log(level, "incidents: %s", report)
            except Exception:
                log.exception("incidents: evaluation pass failed; trying again next interval")
            stop.wait(max(1.0, self.interval - (time.monotonic() - begun)))


def start_evaluator(rt: Runtime, stop: Waitable) -> threading.Thread:
    """The evaluator on a daemon thread of the calling process (shard 0 of `pantau serve`)."""
    thread = threading.Thread(
        target=IncidentEvaluator(rt).run, args=(stop,), name="incident-evaluator", daemon=True
    )
    thread.start()
    return thread
