"""The agent's sink: what a camera worker produces goes to the outbox (and, if given, to the
agent's own local sink for recording, snapshots and local retention). Workers see the same
`Sink` interface as on the hub (principle 4)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pantau.edge import items as wire
from pantau.edge.incidents import Finding, SiteIncidents
from pantau.edge.outbox import Outbox
from pantau.media.reader import SampledFrame
from pantau.media.recorder import Recovery, SegmentInfo, parse_segment_start
from pantau.pipeline.health import HealthTracker, MinuteSample
from pantau.pipeline.sinks import Sink
from pantau.store.types import utcnow

log = logging.getLogger(__name__)


class OutboxSink:
    def __init__(
        self,
        outbox: Outbox,
        local: Sink | None = None,
        on_disk_full: Callable[[], object] | None = None,
        site_incidents: SiteIncidents | None = None,
    ) -> None:
        self.outbox = outbox
        self.local = local
        self.on_disk_full = on_disk_full
        self.site_incidents = site_incidents

    def segment(self, camera_id: int, info: SegmentInfo) -> None:
        if self.local is not None:
            self.local.segment(camera_id, info)
        # Keyed by the start in the file's name (whole milliseconds), the one local retention
        # reads back when it deletes the file: its tombstone then replaces this very row.
        start = parse_segment_start(Path(info.path)) or info.start
        data = {"camera_id": camera_id, "start": start, "end": info.end, "bytes": info.bytes}
        self.outbox.put([(wire.segment_key(camera_id, start), wire.SEGMENT, start, data)])

    def segments_gone(self, gone: Sequence[tuple[int, datetime]]) -> None:
        """Local retention deleted these (camera, start) segments: the hub must stop offering
        them for clip requests. Same keys as their index rows, so a row not yet sent is
        replaced, not sent. One transaction for the lot."""
        self.outbox.put(
            [
                (
                    wire.segment_key(cam, start),
                    wire.SEGMENT,
                    start,
                    {"camera_id": cam, "start": start, "deleted": True},
                )
                for cam, start in gone
            ]
        )

    def recovered(self, camera_id: int, results: list[Recovery]) -> None:
        for r in results:
            log.warning("camera %d: %s segment %s (%s)", camera_id, r.action, r.path, r.detail)
            if r.segment is not None:
                self.segment(camera_id, r.segment)

    def health(self, camera_id: int, samples: list[MinuteSample]) -> None:
        if self.local is not None:
            self.local.health(camera_id, samples)
        self.outbox.put(
            [
                (
                    wire.health_key(camera_id, s.minute),
                    wire.HEALTH,
                    s.minute,
                    {
                        "camera_id": camera_id,
                        "minute": s.minute,
                        "state": s.state.value,
                        "online_seconds": s.online_seconds,
                        "fps": s.fps,
                        "kbps": s.kbps,
                        "reconnects": s.reconnects,
                        "reason": s.reason,
                    },
                )
                for s in samples
            ]
        )
        if self.site_incidents is not None:
            found = self.site_incidents.health(
                camera_id, [(s.minute, s.state.value) for s in samples]
            )
            self._found(found)

    def state(self, camera_id: int, tracker: HealthTracker, extra: dict[str, object]) -> None:
        if self.local is not None:
            self.local.state(camera_id, tracker, extra)
        now = utcnow()
        data = {
            "camera_id": camera_id,
            "state": tracker.state.value,
            "reason": tracker.reason,
            "reason_code": tracker.reason_code,
            "since": tracker.since or now,
            "last_packet_at": tracker.last_packet_at,
            "fps": tracker.last_fps,
            "kbps": tracker.last_kbps,
            "reconnects": tracker.recent_reconnects,
            "updated_at": now,
            **{k: v for k, v in extra.items() if k in ("width", "height", "codec")},
        }
        self.outbox.put([(wire.state_key(camera_id), wire.STATE, now, data)])

    def frame(self, camera_id: int, frame: SampledFrame) -> None:
        if self.local is not None:
            self.local.frame(camera_id, frame)
        if self.site_incidents is not None:
            self.site_incidents.frame(camera_id, frame)

    def disk_full(self, camera_id: int, message: str) -> None:
        if self.local is not None:
            self.local.disk_full(camera_id, message)
        else:
            log.error("camera %d: %s", camera_id, message)
        if self.on_disk_full is not None:
            self.on_disk_full()

    def observations(self, camera_id: int, rows: list[dict[str, Any]]) -> None:
        if self.local is not None:
            self.local.observations(camera_id, rows)
        self.outbox.put(
            [
                (wire.observation_key(camera_id, r["minute"]), wire.OBSERVATION, r["minute"], r)
                for r in rows
            ]
        )
        if self.site_incidents is not None:
            self._found(self.site_incidents.observations(camera_id, rows))

    def _found(self, found: list[Finding]) -> None:
        if not found:
            return
        self.incidents([f.row for f in found])
        for f in found:
            if f.jpeg is not None:
                self.snapshot(f.row["id"], f.moment, f.jpeg)

    # ---- beyond the worker's Sink: the agent's incident evaluation --------------------------

    def incidents(self, rows: Sequence[dict[str, Any]]) -> None:
        """{id, camera_id, kind, start, end, detail}: the facts; the hub keeps the workflow."""
        self.outbox.put(
            [(wire.incident_key(r["id"]), wire.INCIDENT, r["start"], dict(r)) for r in rows]
        )

    def snapshot(self, incident_id: str, at: datetime, jpeg: bytes) -> None:
        """The evidence picture of an incident (`at`: the incident's moment)."""
        data = {"incident_id": incident_id, "jpeg": base64.b64encode(jpeg).decode()}
        self.outbox.put([(wire.snapshot_key(incident_id), wire.SNAPSHOT, at, data)])
