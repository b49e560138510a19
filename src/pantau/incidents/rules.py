"""Incident rules: pure functions from per-minute facts to incident specs.

No database, no clock: the same observations always give the same incidents, so re-analysis
of old footage or a retried upload lands on the same stable IDs (see `incident_id`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

MINUTE = timedelta(minutes=1)
INTRUSION, TAMPER, CAMERA_OFFLINE = "intrusion", "tamper", "camera_offline"
KINDS = (INTRUSION, TAMPER, CAMERA_OFFLINE)


# Mean motion (% of the frame) over a minute of an infrared picture that counts as someone
# moving in the dark room: an empty room at night reads 0.000 %, a person walking 0.3-2 %.
DARK_MOTION_PCT = 0.1


class ObsLike(Protocol):
    camera_id: int
    minute: datetime
    people_max: int
    tamper: dict[str, Any]
    motion_pct: float
    ir_mode: bool | None


@dataclass(frozen=True)
class MinuteFacts:
    """What the rules read of an observation row, for callers that hold rows as dicts."""

    camera_id: int
    minute: datetime
    people_max: int
    tamper: dict[str, Any]
    motion_pct: float = 0.0
    ir_mode: bool | None = None

    @classmethod
    def of(cls, camera_id: int, row: dict[str, Any]) -> MinuteFacts:
        return cls(
            camera_id,
            row["minute"],
            int(row.get("people_max") or 0),
            row.get("tamper") or {},
            float(row.get("motion_pct") or 0.0),
            row.get("ir_mode"),
        )


class SampleLike(Protocol):
    camera_id: int
    minute: datetime
    state: str


@dataclass(frozen=True)
class IncidentSpec:
    """What the rules found. `end` is exclusive; None while the condition still holds.

    `last` is the last minute of the run (also when it is still open), so a store can tell a
    window that merely ends earlier than a known incident from one that saw it go on.
    """

    kind: str
    start: datetime
    end: datetime | None
    camera_id: int
    evidence_minute: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    last: datetime | None = None

    @property
    def id(self) -> str:
        return incident_id(self.camera_id, self.kind, self.start)


def incident_id(camera_id: int, kind: str, start: datetime) -> str:
    """Stable ID from (camera, kind, start minute): analysing twice never duplicates."""
    minute = start.replace(second=0, microsecond=0).isoformat()
    return hashlib.sha256(f"{camera_id}|{kind}|{minute}".encode()).hexdigest()[:32]


def _runs(minutes: Sequence[datetime], max_step: timedelta) -> list[list[datetime]]:
    """Group sorted minutes into runs whose neighbours are at most `max_step` apart."""
    runs: list[list[datetime]] = []
    for m in minutes:
        if runs and m - runs[-1][-1] <= max_step:
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


def _never(_: datetime) -> bool:
    return False


def _end(run: list[datetime], last: datetime, max_step: timedelta) -> datetime | None:
    """Exclusive end of a run, or None while a later observation could still extend it.

    With a tolerated gap (intrusion bridges one empty minute) a run whose last minute is
    within `max_step` of the last observation may go on: closing it there would let the next
    evaluation open a second incident for the same visit.
    """
    return None if last - run[-1] < max_step else run[-1] + MINUTE


def _moving_in_the_dark(o: ObsLike, threshold: float) -> bool:
    """Someone moving in an infrared picture the detector cannot read (docs/incidents.md)."""
    if threshold <= 0:  # off
        return False
    tampered = any(v for v in (o.tamper or {}).values())
    return bool(o.ir_mode) and (o.motion_pct or 0.0) >= threshold and not tampered


def detect(
    observations: Iterable[ObsLike],
    *,
    scheduled: Callable[[datetime], bool],
    allowed: Callable[[datetime], bool] = _never,
    intrusion_min_minutes: int = 2,
    tamper_min_minutes: int = 1,
    dark_motion_pct: float = DARK_MOTION_PCT,
) -> list[IncidentSpec]:
    """Intrusion (people outside office hours and allowed windows) and tamper incidents.

    A minute has people when the detector counted someone, or when the room moved by at least
    `dark_motion_pct` % in an infrared picture (no tamper): at night the model finds a person
    on few frames, while an empty dark office does not move at all. Intrusion minutes may be
    one minute apart (a missed detection must not split a visit); a run counts when it has at
    least `intrusion_min_minutes` minutes with people. Tamper needs `tamper_min_minutes`
    consecutive flagged minutes. A run that reaches the last observation is still open.
    """
    obs = sorted(observations, key=lambda o: (o.camera_id, o.minute))
    out: list[IncidentSpec] = []
    for camera_id in sorted({o.camera_id for o in obs}):
        mine = [o for o in obs if o.camera_id == camera_id]
        last = mine[-1].minute
        by_minute = {o.minute: o for o in mine}

        hits = [
            o.minute
            for o in mine
            if (o.people_max >= 1 or _moving_in_the_dark(o, dark_motion_pct))
            and not scheduled(o.minute)
            and not allowed(o.minute)
        ]
        for run in _runs(hits, 2 * MINUTE):
            if len(run) < intrusion_min_minutes:
                continue
            peak = max(
                run,
                key=lambda m: (
                    by_minute[m].people_max,
                    by_minute[m].motion_pct or 0.0,
                    -m.timestamp(),
                ),
            )
            seen = any(by_minute[m].people_max >= 1 for m in run)
            out.append(
                IncidentSpec(
                    INTRUSION,
                    run[0],
                    _end(run, last, 2 * MINUTE),
                    camera_id,
                    peak,
                    {
                        "people_max": by_minute[peak].people_max,
                        "minutes": len(run),
                        "basis": "people" if seen else "motion",
                    },
                    run[-1],
                )
            )

        flagged = [o.minute for o in mine if any(v for v in (o.tamper or {}).values())]
        for run in _runs(flagged, MINUTE):
            if len(run) < tamper_min_minutes:
                continue
            counts: dict[str, int] = {}
            confidence: dict[str, float] = {}
            for m in run:
                for kind, conf in (by_minute[m].tamper or {}).items():
                    if conf:
                        counts[kind] = counts.get(kind, 0) + 1
                        confidence[kind] = max(confidence.get(kind, 0.0), float(conf))
            main = max(sorted(counts), key=lambda k: counts[k])
            out.append(
                IncidentSpec(
                    TAMPER,
                    run[0],
                    _end(run, last, MINUTE),
                    camera_id,
                    run[0],
                    {
                        "kind": main,
                        "kinds": sorted(counts),
                        "confidence": confidence[main],
                        "minutes": len(run),
                    },
                    run[-1],
                )
            )
    return sorted(out, key=lambda s: (s.camera_id, s.start, s.kind))


def offline_incidents(samples: Iterable[SampleLike], min_minutes: int = 10) -> list[IncidentSpec]:
    """Camera down: at least `min_minutes` consecutive health minutes in state offline."""
    rows = sorted(samples, key=lambda s: (s.camera_id, s.minute))
    out: list[IncidentSpec] = []
    for camera_id in sorted({s.camera_id for s in rows}):
        mine = [s for s in rows if s.camera_id == camera_id]
        last = mine[-1].minute
        down = [s.minute for s in mine if s.state == "offline"]
        for run in _runs(down, MINUTE):
            if len(run) >= min_minutes:
                out.append(
                    IncidentSpec(
                        CAMERA_OFFLINE,
                        run[0],
                        _end(run, last, MINUTE),
                        camera_id,
                        run[0],
                        {"minutes": len(run)},
                        run[-1],
                    )
                )
    return out
