"""Scoring Pantau's analytics against the simulator's ground truth (shared by the benches).

The measuring stick is the file the simulator itself writes, `<out>/<site>/groundtruth.jsonl`
(format in docs/sim.md): who entered and left which views, lights, tamper and outages, and each
day's schedule. Nothing here re-plans the simulated world, so a bug in a bench cannot quietly
agree with a bug in the simulator's planner. Definitions (also in docs/accuracy.md):

- **Presence minute.** A minute [m, m+60 s) is *present* when people listed for the view are
  there for at least `min_seconds` (10 s) of it, *absent* when nobody is there at all; minutes
  in between are not scored (a person crossing the minute boundary). Minutes that overlap a
  tamper or an outage of the view are *blind* and not scored either: the ground truth says who
  is in the room, seen or not. Pantau says *present* when the minute's `people_max` >= 1.
- **Light class** of a minute: *lit* when the room lights are on for the whole minute (ground
  truth `lights_on`/`lights_off`) or daylight is at least `DAY_LEVEL` at both ends of it;
  *night* when the lights are off all minute and daylight is below `NIGHT_LEVEL` at both ends
  (the simulated cameras are in infrared then); otherwise *twilight*. Daylight is the level of
  the simulator's own sky model (`pantau.sim.scene.daylight`, passed in as a function): the
  ground truth file has no daylight lines.
- **Events.** An event (an intruder's visit, a tamper) is *recalled* when at least one incident
  of the right kind overlaps it in time; one incident may recall several events, and one event
  may be split over several incidents. An incident that overlaps no event is *false*.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)
LIT, TWILIGHT, NIGHT = "lit", "twilight", "night"
LIGHT_CLASSES = (LIT, TWILIGHT, NIGHT)
# The simulated cameras leave/enter infrared at daylight 0.008-0.012 (05.42-05.46 and
# 18.10-18.16 WITA on 2026-11-23, measured on four offices); 0.05 is a clear colour picture.
DAY_LEVEL = 0.05
NIGHT_LEVEL = 0.008
PRESENT_SECONDS = 10.0
# What Pantau should call each simulated tamper (docs/vision.md: a black frame is "covered";
# a lens turned to a wall is "moved", though a dark wall reads as covered).
TAMPER_KIND = {"cover": "covered", "blackout": "covered", "wall": "moved", "defocus": "defocused"}


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Span:
    """Something that held over [start, end) (aware UTC), with what the file said about it."""

    start: datetime
    end: datetime
    kind: str = ""  # role of a person, tamper kind, outage scope, incident kind
    view: str | None = None  # None: all views
    actor: str = ""
    spot: str = ""
    views: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


@dataclass(frozen=True)
class DayFacts:
    day: date
    working: bool
    opens: time | None
    closes: time | None
    closed_all_day: bool


@dataclass
class GroundTruth:
    site: str
    zone: ZoneInfo
    days: dict[date, DayFacts] = field(default_factory=dict)
    people: list[Span] = field(default_factory=list)
    lights: list[Span] = field(default_factory=list)
    tamper: list[Span] = field(default_factory=list)
    outages: list[Span] = field(default_factory=list)

    def people_in(self, view: str) -> list[Span]:
        return [p for p in self.people if view in p.views]

    def lights_in(self, view: str) -> list[Span]:
        return [s for s in self.lights if s.view in (None, view)]

    def tamper_in(self, view: str) -> list[Span]:
        return [s for s in self.tamper if s.view in (None, view)]

    def outages_in(self, view: str) -> list[Span]:
        return [s for s in self.outages if s.view in (None, view)]

    def blind(self, view: str) -> list[Span]:
        """When the view shows nothing of the room: tampered or offline."""
        return self.tamper_in(view) + self.outages_in(view)

    def scheduled(self, at: datetime) -> bool:
        """Inside the day's scheduled office hours, as the file's `day` line gives them."""
        local = at.astimezone(self.zone)
        facts = self.days.get(local.date())
        if facts is None or not facts.working or facts.opens is None or facts.closes is None:
            return False
        return facts.opens <= local.time().replace(tzinfo=None) < facts.closes


def _hhmm(text: str | None) -> time | None:
    if not text:
        return None
    hh, mm = text.split(".")
    return time(int(hh), int(mm))


def _pair(
    opens: dict[tuple, list[dict]], key: tuple, at: datetime, out: list, make: Callable
) -> None:
    """Close the oldest open record with the same key (FIFO); a stray close is ignored."""
    waiting = opens.get(key)
    if waiting:
        out.append(make(waiting.pop(0), at))


def parse_ground_truth(lines: Iterable[dict[str, Any]], tz: str = "Asia/Makassar") -> GroundTruth:
    """Ground truth from the file's records (dicts), whatever order the days were written in."""
    records = sorted(lines, key=lambda r: (r["utc"], r["type"] != "day"))
    zone = ZoneInfo(tz)
    gt = GroundTruth(site=records[0]["site"] if records else "", zone=zone)
    opens: dict[tuple, list[dict]] = {}
    last = parse_utc(records[-1]["utc"]) if records else None
    for rec in records:
        kind = rec["type"]
        at = parse_utc(rec["utc"])
        if kind == "day":
            d = date.fromisoformat(rec["date"])
            gt.days[d] = DayFacts(
                d,
                bool(rec["working"]),
                _hhmm(rec.get("scheduled_open")),
                _hhmm(rec.get("scheduled_close")),
                bool(rec.get("closed_all_day")),
            )
            last = max(last, at + timedelta(days=1)) if last else at + timedelta(days=1)
        elif kind == "person_enter":
            opens.setdefault(("person", rec["actor"]), []).append(rec)
        elif kind == "person_leave":
            _pair(
                opens,
                ("person", rec["actor"]),
                at,
                gt.people,
                lambda r, end: Span(
                    parse_utc(r["utc"]),
                    end,
                    r["role"],
                    None,
                    r["actor"],
                    r.get("spot", ""),
                    tuple(r.get("views", ())),
                ),
            )
        elif kind in ("lights_on", "tamper_start", "outage_start"):
            sub = rec.get("kind") or rec.get("scope") or ""
            opens.setdefault((kind, sub, rec.get("view")), []).append(rec)
        elif kind in ("lights_off", "tamper_end", "outage_end"):
            start_kind = {
                "lights_off": "lights_on",
                "tamper_end": "tamper_start",
                "outage_end": "outage_start",
            }[kind]
            sub = rec.get("kind") or rec.get("scope") or ""
            target = {"lights_off": gt.lights, "tamper_end": gt.tamper, "outage_end": gt.outages}[
                kind
            ]
            _pair(
                opens,
                (start_kind, sub, rec.get("view")),
                at,
                target,
                lambda r, end, sub=sub: Span(parse_utc(r["utc"]), end, sub, r.get("view")),
            )
    # anything still open when the file ends lasted until the end of the last day
    for key, waiting in opens.items():
        for r in waiting:
            start = parse_utc(r["utc"])
            if key[0] == "person":
                gt.people.append(
                    Span(start, last, r["role"], None, r["actor"], r.get("spot", ""),
                         tuple(r.get("views", ())))
                )  # fmt: skip
            else:
                target = {"lights_on": gt.lights, "tamper_start": gt.tamper}.get(key[0], gt.outages)
                target.append(Span(start, last, key[1], key[2]))
    for spans in (gt.people, gt.lights, gt.tamper, gt.outages):
        spans.sort(key=lambda s: (s.start, s.end))
    return gt


def read_ground_truth(path: Path, tz: str = "Asia/Makassar") -> GroundTruth:
    with path.open(encoding="utf-8") as fh:
        return parse_ground_truth((json.loads(line) for line in fh if line.strip()), tz)


# ---- per-minute truth -------------------------------------------------------------------------


def seconds_covered(spans: Iterable[Span], start: datetime, end: datetime) -> float:
    """Length of the union of `spans` inside [start, end), in seconds."""
    parts = sorted((max(s.start, start), min(s.end, end)) for s in spans if s.overlaps(start, end))
    total = 0.0
    cur_a: datetime | None = None
    cur_b: datetime | None = None
    for a, b in parts:
        if cur_b is None or a > cur_b:
            if cur_a is not None and cur_b is not None:
                total += (cur_b - cur_a).total_seconds()
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_a is not None and cur_b is not None:
        total += (cur_b - cur_a).total_seconds()
    return total


@dataclass(frozen=True)
class MinuteTruth:
    minute: datetime
    occupied: float  # seconds of the minute with someone in view
    people: tuple[Span, ...]  # who was in view during the minute
    light: str  # LIT, TWILIGHT, NIGHT
    blind: bool  # tampered or offline during (part of) the minute


def light_class(
    minute: datetime, lights: Sequence[Span], daylight: Callable[[datetime], float]
) -> str:
    end = minute + MINUTE
    lit_s = seconds_covered(lights, minute, end)
    sky = (daylight(minute), daylight(end))
    if lit_s >= 60.0 or min(sky) >= DAY_LEVEL:
        return LIT
    if lit_s == 0.0 and max(sky) < NIGHT_LEVEL:
        return NIGHT
    return TWILIGHT


def minute_truth(
    gt: GroundTruth,
    view: str,
    minutes: Iterable[datetime],
    daylight: Callable[[datetime], float],
) -> dict[datetime, MinuteTruth]:
    people = gt.people_in(view)
    lights = gt.lights_in(view)
    blind = gt.blind(view)
    out: dict[datetime, MinuteTruth] = {}
    for m in minutes:
        end = m + MINUTE
        here = tuple(p for p in people if p.overlaps(m, end))
        out[m] = MinuteTruth(
            m,
            seconds_covered(here, m, end),
            here,
            light_class(m, lights, daylight),
            any(b.overlaps(m, end) for b in blind),
        )
    return out


def day_minutes(day: date, zone: ZoneInfo) -> list[datetime]:
    """The UTC minute starts of one local day."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(
        ZoneInfo("UTC")
    )
    n = int((end - start).total_seconds() // 60)
    return [start + k * MINUTE for k in range(n)]


# ---- presence ---------------------------------------------------------------------------------


def ratio(num: float, den: float) -> float | None:
    return num / den if den else None


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    partial: int = 0  # someone there for less than min_seconds: not scored
    blind: int = 0  # tampered or offline: not scored
    unobserved: int = 0  # no observation row although the view was up

    @property
    def precision(self) -> float | None:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return ratio(self.tp, self.tp + self.fn)

    @property
    def scored(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def add(self, other: Counts) -> None:
        for name in ("tp", "fp", "fn", "tn", "partial", "blind", "unobserved"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def presence_outcome(
    truth: MinuteTruth, people_max: int | None, min_seconds: float = PRESENT_SECONDS
) -> str:
    """'tp', 'fp', 'fn', 'tn', or why the minute is not scored: 'blind', 'unobserved',
    'partial'."""
    if truth.blind:
        return "blind"
    if people_max is None:
        return "unobserved"
    seen = people_max >= 1
    if truth.occupied >= min_seconds:
        return "tp" if seen else "fn"
    if truth.occupied > 0:
        return "partial"
    return "fp" if seen else "tn"


def score_presence(
    truths: dict[datetime, MinuteTruth],
    people_max: dict[datetime, int],
    min_seconds: float = PRESENT_SECONDS,
) -> tuple[dict[str, Counts], list[tuple[MinuteTruth, str]]]:
    """Counts per light class, and the scored mistakes (truth, 'fp' | 'fn') in time order."""
    counts = {c: Counts() for c in LIGHT_CLASSES}
    misses: list[tuple[MinuteTruth, str]] = []
    for m in sorted(truths):
        t = truths[m]
        outcome = presence_outcome(t, people_max.get(m), min_seconds)
        c = counts[t.light]
        setattr(c, outcome, getattr(c, outcome) + 1)
        if outcome in ("fp", "fn"):
            misses.append((t, outcome))
    return counts, misses


# ---- events and incidents ---------------------------------------------------------------------


@dataclass
class Match:
    events: list[Span]
    incidents: list[Span]
    hits: list[list[int]]  # per event: indices of the incidents overlapping it
    false: list[int]  # incidents overlapping no event

    @property
    def recalled(self) -> int:
        return sum(1 for h in self.hits if h)

    @property
    def recall(self) -> float | None:
        return ratio(self.recalled, len(self.events))

    @property
    def missed(self) -> list[Span]:
        return [e for e, h in zip(self.events, self.hits, strict=True) if not h]


def match(events: Sequence[Span], incidents: Sequence[Span]) -> Match:
    hits = [[i for i, inc in enumerate(incidents) if inc.overlaps(e.start, e.end)] for e in events]
    used = {i for h in hits for i in h}
    false = [i for i in range(len(incidents)) if i not in used]
    return Match(list(events), list(incidents), hits, false)


def incident_spans(specs: Iterable[Any], until: datetime) -> list[Span]:
    """IncidentSpecs (pantau.incidents.rules) as spans; an open incident ends at `until`."""
    return [
        Span(s.start, s.end or until, s.kind, None, detail=dict(s.detail))
        for s in sorted(specs, key=lambda s: s.start)
    ]


def intruder_events(gt: GroundTruth, view: str) -> tuple[list[Span], list[Span]]:
    """Intruder visits outside office hours the view could see; and those it could not
    (partly during a tamper or an outage, or inside office hours)."""
    blind = gt.blind(view)
    scored, skipped = [], []
    for p in gt.people_in(view):
        if p.kind != "intruder":
            continue
        outside = not gt.scheduled(p.start) and not gt.scheduled(p.end - timedelta(seconds=1))
        if outside and not any(b.overlaps(p.start, p.end) for b in blind):
            scored.append(p)
        else:
            skipped.append(p)
    return scored, skipped


def intrusion_cause(incident: Span, gt: GroundTruth, view: str) -> str:
    """Who was really there during an intrusion incident: 'intruder', 'guard', another role
    (cleaner, staff, visitor: people outside the scheduled hours, but expected), or 'nobody'."""
    roles = {p.kind for p in gt.people_in(view) if p.overlaps(incident.start, incident.end)}
    for role in ("intruder", "guard", "cleaner", "staff", "visitor"):
        if role in roles:
            return role
    return "nobody"


def kind_agrees(event: Span, incident: Span) -> bool:
    want = TAMPER_KIND.get(event.kind, event.kind)
    return incident.detail.get("kind") == want


def in_window(at: datetime, zone: ZoneInfo, start: time, end: time) -> bool:
    """Local time of day inside [start, end) (a window may cross midnight)."""
    t = at.astimezone(zone).time().replace(tzinfo=None)
    return start <= t < end if start <= end else (t >= start or t < end)
