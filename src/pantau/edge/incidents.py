"""Incidents found at the site: the hub's rules (`incidents.rules`) over the agent's recent minutes.

Why at the agent and not only at the hub: an intrusion at an office whose link is down must
still become an incident *with a picture of the moment*, and only the agent has that picture —
the hub keeps no recording of an edge camera (footage stays at the site, principle 6). So the
agent runs the same rules on the minutes it writes, against the calendar and allowed windows
the hub sent, and puts the incident first in the outbox (its picture goes last). The hub
evaluates the same minutes when they arrive and lands on the same stable ids (camera, kind,
start minute): one incident, whoever saw it first.

Where the agent cannot decide it stays silent: a day past the cached calendar raises no
intrusion here (the hub judges it with its own calendar once the minutes arrive).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pantau.edge.config_cache import ConfigCache
from pantau.incidents.hours import UNKNOWN, Hours, Margins, Unknown, expected_predicate
from pantau.incidents.rules import (
    CAMERA_OFFLINE,
    IncidentSpec,
    MinuteFacts,
    detect,
    offline_incidents,
)
from pantau.incidents.windows import allowed_predicate, stored_windows
from pantau.media.reader import SampledFrame
from pantau.media.snapshot import encode_jpeg

CONTEXT = timedelta(hours=3)  # minutes kept per camera besides those of a running incident
MAX_OPEN = timedelta(days=1)  # an incident running longer is split, as bounded memory needs
FRAME_NEAR = timedelta(minutes=3)  # the latest frame is the evidence if this close to its moment


@dataclass(frozen=True)
class _Sample:
    camera_id: int
    minute: datetime
    state: str


@dataclass(frozen=True)
class Finding:
    """An incident to put in the outbox (new, or its facts changed), with a picture if new."""

    row: dict[str, Any]
    moment: datetime
    jpeg: bytes | None = None


class SiteIncidents:
    """Per-camera rolling minutes; `observations`/`health` return what changed."""

    def __init__(self, cache: ConfigCache) -> None:
        self.cache = cache
        self._obs: dict[int, dict[datetime, MinuteFacts]] = {}
        self._health: dict[int, dict[datetime, _Sample]] = {}
        self._frames: dict[int, SampledFrame] = {}
        self._sent: dict[str, tuple[Any, ...]] = {}
        self._lock = threading.Lock()

    def frame(self, camera_id: int, frame: SampledFrame) -> None:
        self._frames[camera_id] = frame

    def observations(self, camera_id: int, rows: list[dict[str, Any]]) -> list[Finding]:
        with self._lock:
            mine = self._obs.setdefault(camera_id, {})
            for r in rows:
                mine[r["minute"]] = MinuteFacts.of(camera_id, r)
            return self._evaluate(camera_id)

    def health(self, camera_id: int, samples: list[tuple[datetime, str]]) -> list[Finding]:
        with self._lock:
            mine = self._health.setdefault(camera_id, {})
            for minute, state in samples:
                mine[minute] = _Sample(camera_id, minute, state)
            return self._evaluate(camera_id)

    def _evaluate(self, camera_id: int) -> list[Finding]:
        config = self.cache.load()
        if not config:
            return []
        obs = sorted(self._obs.get(camera_id, {}).values(), key=lambda o: o.minute)
        samples = sorted(self._health.get(camera_id, {}).values(), key=lambda s: s.minute)
        tz = config.get("timezone", "Asia/Makassar")
        windows = stored_windows((config.get("site") or {}).get("allowed_windows"))
        specs = offline_incidents(samples)
        if obs:
            specs += detect(
                obs,
                scheduled=_scheduled(config, tz),
                allowed=allowed_predicate(windows, tz),
                # as the hub judges; a hub that sends none does not use motion at all
                dark_motion_pct=float(config.get("dark_motion_pct") or 0.0),
            )
        found = [self._finding(s) for s in specs]
        self._prune(camera_id, specs)
        return [f for f in found if f is not None]

    def _finding(self, spec: IncidentSpec) -> Finding | None:
        row = {
            "id": spec.id,
            "camera_id": spec.camera_id,
            "kind": spec.kind,
            "start": spec.start,
            "end": spec.end,
            "detail": dict(spec.detail),
        }
        facts = (spec.end, tuple(sorted(spec.detail.items())))
        known = self._sent.get(spec.id)
        if known == facts:
            return None
        self._sent[spec.id] = facts
        jpeg = None
        frame = self._frames.get(spec.camera_id)
        if (
            known is None
            and spec.kind != CAMERA_OFFLINE
            and frame is not None
            and abs(frame.at - spec.evidence_minute) <= FRAME_NEAR
        ):
            jpeg = encode_jpeg(frame.bgr)
        return Finding(row, spec.evidence_minute, jpeg)

    def _prune(self, camera_id: int, specs: list[IncidentSpec]) -> None:
        """Keep `CONTEXT` of minutes, and every minute of a running incident (its start, and
        so its id, must not move), but never more than `MAX_OPEN`."""
        minutes = list(self._obs.get(camera_id, {})) + list(self._health.get(camera_id, {}))
        if not minutes:
            return
        latest = max(minutes)
        keep_from = latest - CONTEXT
        running = [s.start for s in specs if s.end is None]
        if running:
            keep_from = max(min(keep_from, *running), latest - MAX_OPEN)
        for table in (self._obs, self._health):
            mine = table.get(camera_id, {})
            for minute in [m for m in mine if m < keep_from]:
                del mine[minute]
        if len(self._sent) > 1000:  # forget finished incidents; a repeat is harmless (same id)
            live = {s.id for s in specs}
            self._sent = {k: v for k, v in self._sent.items() if k in live}


def _scheduled(config: dict[str, Any], timezone: str) -> Callable[[datetime], bool]:
    """The hub's line between expected and intrusion, from the cached calendar and margins."""
    days: dict[date, tuple[time, time] | None] = {}
    for d in config.get("calendar", []):
        day = date.fromisoformat(d["date"])
        if d.get("working") and d.get("opens") and d.get("closes"):
            days[day] = (time.fromisoformat(d["opens"]), time.fromisoformat(d["closes"]))
        else:
            days[day] = None

    def hours_of(day: date) -> Hours | Unknown | None:
        return days.get(day, UNKNOWN)  # past the cached calendar: not ours to call

    return expected_predicate(hours_of, timezone, Margins.from_json(config.get("margins")))
