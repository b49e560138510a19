"""The simulator's ground truth as JSON lines: what really happened, in UTC and in WITA.

One line per event, sorted by time. Benchmarks score Pantau against this file, so it records
what a perfect observer would have seen: every person entering and leaving (and their role),
lights, the office's true opening and closing, tamper and outage intervals. Format: docs/sim.md.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pantau.registry.calendar import format_hhmm
from pantau.sim.plan import DayPlan
from pantau.sim.world import TruthDay


def wita(at: datetime, zone: ZoneInfo, label: str = "WITA") -> str:
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d} {local:%H.%M.%S} {label}"


def utc(at: datetime) -> str:
    return at.astimezone(ZoneInfo("UTC")).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day_events(plan: DayPlan, truth: TruthDay, zone: ZoneInfo) -> list[dict[str, Any]]:
    """All events of one planned day, sorted by time (the `day` summary line first)."""

    def ev(at: datetime, kind: str, /, **extra: Any) -> dict[str, Any]:  # extra may hold kind
        return {
            "utc": utc(at),
            "wita": wita(at, zone),
            "site": plan.site_slug,
            "type": kind,
            **extra,
        }

    midnight = datetime.combine(truth.day, datetime.min.time(), tzinfo=zone)
    summary = ev(
        midnight,
        "day",
        date=truth.day.isoformat(),
        working=truth.working,
        rule=truth.rule,
        closed_all_day=truth.closed_all_day,
        scheduled_open=format_hhmm(truth.scheduled_open) if truth.scheduled_open else None,
        scheduled_close=format_hhmm(truth.scheduled_close) if truth.scheduled_close else None,
        opened_at=utc(truth.opened_at) if truth.opened_at else None,
        opened_at_wita=wita(truth.opened_at, zone) if truth.opened_at else None,
        closed_at=utc(truth.closed_at) if truth.closed_at else None,
        closed_at_wita=wita(truth.closed_at, zone) if truth.closed_at else None,
        staff=truth.staff,
        visitors=truth.visitors,
        notes=truth.notes,
    )
    events: list[dict[str, Any]] = []
    if truth.opened_at:
        events.append(ev(truth.opened_at, "office_open"))
    if truth.closed_at:
        events.append(ev(truth.closed_at, "office_close"))
    for v in plan.visits:
        common = {"actor": v.actor_id, "role": v.role, "spot": v.spot, "views": list(v.views)}
        events.append(ev(v.enter, "person_enter", **common))
        events.append(ev(v.leave, "person_leave", **common))
    for i in plan.lights:
        events.append(ev(i.start, "lights_on", view="interior"))
        events.append(ev(i.end, "lights_off", view="interior"))
    for i in plan.tamper:
        events.append(ev(i.start, "tamper_start", kind=i.kind, view=i.view))
        events.append(ev(i.end, "tamper_end", kind=i.kind, view=i.view))
    for i in plan.outages:
        events.append(ev(i.start, "outage_start", scope=i.kind, view=i.view))
        events.append(ev(i.end, "outage_end", scope=i.kind, view=i.view))
    events.sort(key=lambda e: e["utc"])
    return [summary, *events]


class GroundTruthWriter:
    """Appends each day once (a restart of a live simulator does not duplicate a day)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.days: set[str] = set()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rec = json.loads(line)
                    if rec.get("type") == "day":
                        self.days.add(rec["date"])

    def write_day(self, plan: DayPlan, truth: TruthDay, zone: ZoneInfo) -> bool:
        key = truth.day.isoformat()
        if key in self.days:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            for event in day_events(plan, truth, zone):
                fh.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.days.add(key)
        return True


def read(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
