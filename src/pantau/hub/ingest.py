"""Ingest of agent items at the hub, the same for a synced batch and a carried bundle.

Every fact is upserted by its stable id, and an upsert whose content equals the stored row
writes nothing (not even `updated_at`), so a retried batch or a bundle imported twice leaves
the database as it was. The caller commits; only then is the batch acknowledged.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Text, cast, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pantau.config.model import Settings
from pantau.edge import items as wire
from pantau.store.models import (
    Agent,
    Camera,
    CameraState,
    EdgeSegment,
    HealthSample,
    Incident,
    Observation,
)
from pantau.store.types import utcnow

log = logging.getLogger(__name__)

OBS_FIELDS = (
    "people_max",
    "people_mean",
    "zones",
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
HEALTH_FIELDS = ("state", "online_seconds", "fps", "kbps", "reconnects", "reason")
STATE_FIELDS = (
    "state",
    "reason",
    "reason_code",
    "since",
    "last_packet_at",
    "fps",
    "kbps",
    "width",
    "height",
    "codec",
    "reconnects",
)


@dataclass
class IngestResult:
    acked: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # key -> reason (never retried)
    counts: dict[str, int] = field(default_factory=dict)
    days: set[date] = field(default_factory=set)  # local days whose observations arrived
    # per camera, the first and last minute of observations or health that arrived
    spans: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)

    def _touch(self, camera_id: int, minute: datetime) -> None:
        first, last = self.spans.get(camera_id, (minute, minute))
        self.spans[camera_id] = (min(first, minute), max(last, minute))


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _differs(stored: Any, new: Any) -> Any:
    """PostgreSQL's json has no equality: compare its text (one serializer writes both)."""
    if isinstance(stored.type, JSON):
        return cast(stored, Text).is_distinct_from(cast(new, Text))
    return stored.is_distinct_from(new)


def _upsert(
    session: Session, table: Any, rows: list[dict[str, Any]], keys: tuple[str, ...], fields: tuple
) -> None:
    """INSERT … ON CONFLICT DO UPDATE only where some field differs: equal rows stay untouched.

    Plain executemany (psycopg pipelines it): measured 3x less hub CPU than multi-row VALUES
    through RETURNING/insertmanyvalues, which SQLAlchemy compiles per page."""
    if not rows:
        return
    ins = _insert(session)(table)
    cols = table.__table__.c
    update = {f: ins.excluded[f] for f in fields}
    if "updated_at" in cols:
        update["updated_at"] = ins.excluded["updated_at"]
    changed = or_(*[_differs(cols[f], ins.excluded[f]) for f in fields])
    stmt = ins.on_conflict_do_update(index_elements=list(keys), set_=update, where=changed)
    for start in range(0, len(rows), 1000):
        session.execute(stmt, rows[start : start + 1000])


def _observation(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    row = {f: data.get(f) for f in OBS_FIELDS}
    row["camera_id"] = int(data["camera_id"])
    row["minute"] = wire.parse_time(data["minute"])
    row["zones"] = row["zones"] or {}
    row["tamper"] = row["tamper"] or {}
    row["source"] = str(row["source"] or "edge")[:16]
    for f, default in (("people_max", 0), ("people_mean", 0.0), ("motion_pct", 0.0)):
        row[f] = default if row[f] is None else row[f]
    for f, default in (("coverage_seconds", 0.0), ("samples", 0), ("detector_runs", 0)):
        row[f] = default if row[f] is None else row[f]
    row["updated_at"] = now
    return row


def _health(data: dict[str, Any]) -> dict[str, Any]:
    row = {f: data.get(f) for f in HEALTH_FIELDS}
    row["camera_id"] = int(data["camera_id"])
    row["minute"] = wire.parse_time(data["minute"])
    row["state"] = str(row["state"])[:16]
    row["reason"] = (row["reason"] or None) and str(row["reason"])[:240]
    for f, default in (("online_seconds", 0.0), ("fps", 0.0), ("kbps", 0.0), ("reconnects", 0)):
        row[f] = default if row[f] is None else row[f]
    return row


def _incident(session: Session, data: dict[str, Any], snapshots: Path) -> None:
    """Facts (kind, times, detail) come from the agent; the workflow state is the hub's own."""
    inc_id = str(data["id"])[:32]
    start, end = wire.parse_time(data["start"]), wire.parse_time(data.get("end"))
    detail = data.get("detail") or {}
    row = session.get(Incident, inc_id)
    if row is None:
        row = Incident(
            id=inc_id,
            camera_id=int(data["camera_id"]),
            kind=str(data["kind"])[:32],
            start=start,
            end=end,
            state="new",
            detail=detail,
        )
        session.add(row)
    else:
        if row.end != end:
            row.end = end
        if row.detail != detail:
            row.detail = detail
    picture = snapshots / f"{inc_id}.jpg"
    if row.snapshot_path is None and picture.exists():
        row.snapshot_path = str(picture)


def _snapshot(session: Session, data: dict[str, Any], snapshots: Path) -> None:
    inc_id = str(data["incident_id"])[:32]
    if not inc_id.replace("-", "").isalnum():
        raise ValueError(f"incident id {inc_id!r} is not a file name")
    raw = base64.b64decode(data["jpeg"], validate=True)
    if not raw.startswith(b"\xff\xd8"):
        raise ValueError("snapshot is not a JPEG")
    snapshots.mkdir(parents=True, exist_ok=True)
    picture = snapshots / f"{inc_id}.jpg"
    if not picture.exists() or picture.read_bytes() != raw:
        tmp = picture.with_suffix(".part")
        tmp.write_bytes(raw)
        tmp.replace(picture)
    row = session.get(Incident, inc_id)
    if row is not None and row.snapshot_path is None:
        row.snapshot_path = str(picture)


def _state(session: Session, agent: Agent, data: dict[str, Any]) -> None:
    camera_id = int(data["camera_id"])
    updated = wire.parse_time(data["updated_at"])
    row = session.get(CameraState, camera_id)
    if row is not None and row.updated_at is not None and row.updated_at >= updated:
        return  # an older report than the one stored
    values = {f: data.get(f) for f in STATE_FIELDS}
    values["since"] = wire.parse_time(values["since"]) or updated
    values["last_packet_at"] = wire.parse_time(values["last_packet_at"])
    values["fps"] = values["fps"] or 0.0
    values["kbps"] = values["kbps"] or 0.0
    values["reconnects"] = values["reconnects"] or 0
    session.merge(
        CameraState(camera_id=camera_id, updated_at=updated, worker=f"agent:{agent.id}", **values)
    )


def edge_snapshots_dir(settings: Settings) -> Path:
    return settings.snapshots_dir / "edge"


def ingest(
    session: Session, settings: Settings, agent: Agent, batch: Iterable[dict[str, Any]]
) -> IngestResult:
    """Upsert a batch of items of `agent`'s site. An item for a camera of another site, or one
    that does not parse, is rejected with the reason (the agent sets it aside, never resends)."""
    now = utcnow()
    tz = ZoneInfo(settings.city.timezone)
    cameras = set(session.scalars(select(Camera.id).where(Camera.site_id == agent.site_id)))
    snapshots = edge_snapshots_dir(settings)
    result = IngestResult()
    obs: dict[tuple[int, datetime], dict[str, Any]] = {}
    health: dict[tuple[int, datetime], dict[str, Any]] = {}
    segments: dict[tuple[int, datetime], dict[str, Any]] = {}
    gone: set[tuple[int, datetime]] = set()  # deleted by the site's retention
    later: list[tuple[str, str, dict[str, Any]]] = []
    for i, item in enumerate(batch):
        if not isinstance(item, dict):
            result.rejected[f"#{i}"] = "item is not an object"
            continue
        key, kind = str(item.get("key")), item.get("kind")
        data = item.get("data") or {}
        try:
            if not isinstance(data, dict):
                raise ValueError("data is not an object")
            if kind not in wire.KINDS:
                raise ValueError(f"unknown kind {kind!r}")
            if kind != wire.SNAPSHOT and int(data["camera_id"]) not in cameras:
                raise ValueError(
                    f"camera {data['camera_id']} is not a camera of site {agent.site_id}"
                )
            if kind == wire.OBSERVATION:
                row = _observation(data, now)
                obs[(row["camera_id"], row["minute"])] = row
                result.days.add(row["minute"].astimezone(tz).date())
                result._touch(row["camera_id"], row["minute"])
            elif kind == wire.HEALTH:
                row = _health(data)
                health[(row["camera_id"], row["minute"])] = row
                result._touch(row["camera_id"], row["minute"])
            elif kind == wire.SEGMENT and data.get("deleted"):
                gone.add((int(data["camera_id"]), wire.parse_time(data["start"])))
            elif kind == wire.SEGMENT:
                start = wire.parse_time(data["start"])
                segments[(int(data["camera_id"]), start)] = {
                    "camera_id": int(data["camera_id"]),
                    "start": start,
                    "end": wire.parse_time(data["end"]),
                    "bytes": int(data.get("bytes") or 0),
                    "agent_id": agent.id,
                }
            else:
                later.append((key, kind, data))
                continue
        except (KeyError, TypeError, ValueError) as exc:
            result.rejected[key] = f"{type(exc).__name__}: {exc}"
            continue
        result.acked.append(key)
        result.counts[kind] = result.counts.get(kind, 0) + 1
    _upsert(session, Observation, list(obs.values()), ("camera_id", "minute"), OBS_FIELDS)
    _upsert(session, HealthSample, list(health.values()), ("camera_id", "minute"), HEALTH_FIELDS)
    _upsert(session, EdgeSegment, list(segments.values()), ("camera_id", "start"), ("end", "bytes"))
    for camera_id, start in gone:  # rows indexed before keys were by name have microseconds
        session.execute(
            delete(EdgeSegment).where(
                EdgeSegment.camera_id == camera_id,
                EdgeSegment.start >= start,
                EdgeSegment.start < start + timedelta(milliseconds=1),
            )
        )
    # Incidents before their pictures, whatever order they came in.
    later.sort(key=lambda x: {wire.INCIDENT: 0, wire.STATE: 1, wire.SNAPSHOT: 2}[x[1]])
    for key, kind, data in later:
        try:
            if kind == wire.INCIDENT:
                _incident(session, data, snapshots)
            elif kind == wire.STATE:
                _state(session, agent, data)
            else:
                _snapshot(session, data, snapshots)
        except (KeyError, TypeError, ValueError) as exc:
            result.rejected[key] = f"{type(exc).__name__}: {exc}"
            continue
        result.acked.append(key)
        result.counts[kind] = result.counts.get(kind, 0) + 1
    session.flush()
    return result
