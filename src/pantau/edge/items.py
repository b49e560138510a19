"""The wire format agent and hub share: one item per fact, keyed by the same stable id the hub
stores it under, so a resent item overwrites instead of adding (principle 5).

An item is `{"key", "kind", "seq", "data"}`; `data` is JSON (times as ISO 8601 UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

OBSERVATION = "observation"
INCIDENT = "incident"
HEALTH = "health"
SEGMENT = "segment"
STATE = "state"
SNAPSHOT = "snapshot"
KINDS = (OBSERVATION, INCIDENT, HEALTH, SEGMENT, STATE, SNAPSHOT)

# Lower goes first. "Today" is the site's local day: today's minutes decide today's verdict
# and tonight's alarms; older backlog only fills in the past.
P_INCIDENT, P_TODAY, P_BACKLOG, P_SNAPSHOT = 0, 1, 2, 3


def iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime in an edge item; attach UTC first")
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError(f"time {value!r} has no zone")
    return at.astimezone(UTC)


def _minute(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def observation_key(camera_id: int, minute: datetime) -> str:
    return f"obs/{camera_id}/{_minute(minute)}"


def health_key(camera_id: int, minute: datetime) -> str:
    return f"health/{camera_id}/{_minute(minute)}"


def incident_key(incident_id: str) -> str:
    return f"incident/{incident_id}"


def segment_key(camera_id: int, start: datetime) -> str:
    return f"segment/{camera_id}/{iso(start)}"


def state_key(camera_id: int) -> str:
    return f"state/{camera_id}"


def snapshot_key(incident_id: str) -> str:
    return f"snapshot/{incident_id}"


def stream_of(key: str) -> str:
    """Items of one stream (kind and camera) are sent in the order they were produced."""
    parts = key.split("/")
    return "/".join(parts[:2]) if parts[0] in ("obs", "health", "segment") else parts[0]


def local_midnight(now: datetime, timezone: str) -> datetime:
    """The start of the site's local today, as UTC (items at or after it are "today's")."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    start = datetime.combine(local.date(), datetime.min.time(), tzinfo=tz)
    return start.astimezone(UTC)


def priority(kind: str, at: datetime, today_start: datetime) -> int:
    if kind == INCIDENT:
        return P_INCIDENT
    if kind == SNAPSHOT:
        return P_SNAPSHOT
    return P_TODAY if at >= today_start else P_BACKLOG


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """Times to ISO strings, dates to ISO dates; everything else must already be JSON."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, datetime):
            out[k] = iso(v)
        elif isinstance(v, date):
            out[k] = v.isoformat()
        elif isinstance(v, timedelta):
            out[k] = v.total_seconds()
        else:
            out[k] = v
    return out
