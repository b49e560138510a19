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


# ---- running the benches: code hashes, footage, worker pools, the analysis of one file -------


def source_hash(patterns: Iterable[str]) -> str:
    """Hash of the `pantau` package files matching `patterns` (relative to the package), taken
    where `pantau` is imported from: a run from a frozen copy names its results after that copy."""
    import hashlib

    import pantau

    package = Path(pantau.__file__).parent
    h = hashlib.sha256()
    for pattern in patterns:
        for p in sorted(package.glob(pattern)):
            if p.is_file():
                h.update(p.name.encode())
                h.update(p.read_bytes())
    return h.hexdigest()[:12]


# Whose change makes cached analysis results stale (the analyzer), or recorded footage (the
# simulated world and its pictures; not the live server or the ground-truth writer).
ANALYZER_SOURCES = (
    "pipeline/observe.py",
    "pipeline/backfill.py",
    "pipeline/backfill_pool.py",
    "pipeline/camera.py",
    "media/reader.py",
    "vision/*.py",
    "models/*.onnx",
)
SIM_SOURCES = (
    "sim/world.py",
    "sim/plan.py",
    "sim/profiles.py",
    "sim/offices.py",
    "sim/scene.py",
    "sim/sprites.py",
    "sim/render.py",
    "sim/record.py",
    "sim/encode.py",
    "sim/sprite_data/*",
    "registry/calendar.py",
)


def analyzer_hash() -> str:
    """The analyzer's sources and the default analytics settings it runs with (the settings
    file holds much else, which should not make results stale)."""
    import hashlib

    from pantau.config.model import Settings

    defaults = Settings().model_dump(mode="json", include={"analytics", "ingest"})
    text = source_hash(ANALYZER_SOURCES) + json.dumps(defaults, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def code_state() -> dict[str, Any]:
    """Which code produced a result: commit, uncommitted package files, source hashes."""
    import subprocess

    import pantau

    def git(*a: str) -> str:
        try:
            return subprocess.run(
                ["git", *a],
                cwd=Path(pantau.__file__).parent,
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
        except OSError:
            return ""

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": git("status", "--short", "--", ".").splitlines(),
        "analyzer": analyzer_hash(),
        "sim_sources": source_hash(SIM_SOURCES),
        "at": datetime.now(ZoneInfo("UTC")).isoformat(timespec="seconds"),
    }


def recorded_days(folder: Path, slug: str) -> set[date]:
    """Days whose ground truth is written: `record` writes it after the day's video is final."""
    gt = folder / slug / "groundtruth.jsonl"
    if not gt.exists():
        return set()
    return {
        date.fromisoformat(json.loads(line)["date"])
        for line in gt.read_text(encoding="utf-8").splitlines()
        if '"type": "day"' in line
    }


def office_spec(office: Any) -> dict[str, Any]:
    """A simulated office as plain data, to hand to a worker process."""
    return office.world.office.model_dump(mode="json")


def rebuild(spec: dict[str, Any], tz: str = "Asia/Makassar") -> Any:
    from pantau.sim.offices import SimConfig, select_offices
    from pantau.sim.profiles import OfficeSim

    [office] = select_offices(SimConfig(offices=[OfficeSim.model_validate(spec)]), tz=tz)
    return office


class Ticker:
    """Sends progress (simulated seconds) from a worker to the parent in coarse steps."""

    def __init__(self, q: Any, key: str, step: float) -> None:
        self.q, self.key, self.step, self.acc = q, key, step, 0.0

    def __call__(self, amount: float) -> None:
        self.acc += amount
        if self.acc >= self.step:
            self.q.put((self.key, self.acc))
            self.acc = 0.0

    def flush(self) -> None:
        if self.acc:
            self.q.put((self.key, self.acc))
            self.acc = 0.0


def cpu_seconds() -> float:
    """CPU time of this process so far (other jobs on the machine do not count)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def record_office(
    spec: dict[str, Any],
    out: str,
    days: list[str],
    interval: float,
    q: Any,
    view: str = "interior",
    size: tuple[int, int] = (640, 360),
    hours: tuple[float, float] = (0.0, 24.0),
) -> tuple[str, float]:
    """Worker: record the given days of one office's `view` with `pantau sim record`'s code
    (its ground truth is one file per office); returns (slug, CPU seconds)."""
    from pantau.sim.offices import make_scene
    from pantau.sim.record import record

    cpu0 = cpu_seconds()
    office = rebuild(spec)
    scene = make_scene(office.seed, view, *size)
    tick = Ticker(q, "record", 3600.0)
    for d in days:
        record(
            office.world,
            {view: scene},
            Path(out),
            date.fromisoformat(d),
            1,
            interval_s=interval,
            hours=hours,
            progress=lambda frames: tick(frames * interval),
        )
    tick.flush()
    (Path(out) / office.slug / "simulator.json").write_text(
        json.dumps(code_state(), indent=1), encoding="utf-8"
    )
    return office.slug, cpu_seconds() - cpu0


def run_pool(
    console: Any,
    jobs: int,
    tasks: list[tuple[Callable, tuple, str]],
    totals: dict[str, float],
    q: Any,
    on_done: Callable[[str, Any], None],
) -> None:
    """Run (fn, args, label) tasks in `jobs` processes; a progress bar per kind in `totals`
    (simulated seconds, advanced by the workers' Tickers)."""
    import queue as queues
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    if not tasks:
        return
    with (
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,.1f}/{task.total:,.1f} h"),
            TimeElapsedColumn(),
            console=console,
        ) as progress,
        ProcessPoolExecutor(jobs) as pool,
    ):
        bars = {
            k: progress.add_task(f"{k} (simulated hours)", total=v / 3600)
            for k, v in totals.items()
        }
        pending = {pool.submit(fn, *args): label for fn, args, label in tasks}
        while pending:
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            while True:
                try:
                    key, amount = q.get_nowait()
                except queues.Empty:
                    break
                if key in bars:
                    progress.advance(bars[key], amount / 3600)
            for fut in done:
                on_done(pending.pop(fut), fut.result())


@dataclass
class FileAnalysis:
    rows: list[dict[str, Any]]
    cpu_s: float
    wall_s: float
    detector_passes: int


def analyse_file(
    video: Path,
    camera_id: int = 1,
    *,
    sample_fps: float = 0.2,
    wrap: Callable[[Any], Any] = lambda analyzer: analyzer,
    advance: Callable[[float], None] | None = None,
) -> FileAnalysis:
    """One recording through `pantau analyze`'s path in this process: `backfill.discover`,
    `camera.make_analyzer` on default settings, `backfill.analyze_source`. `wrap` may put
    something around the analyzer (it must pass `process` and `last_at` through)."""
    import tempfile
    import time as clock

    from pantau.config.model import Settings
    from pantau.pipeline.backfill import ResumeLog, analyze_source, discover
    from pantau.pipeline.camera import CameraSpec, make_analyzer

    with tempfile.TemporaryDirectory(prefix="pantau-bench-") as tmp:
        settings = Settings.model_validate({"data_dir": tmp})
        analyzer = make_analyzer(CameraSpec(id=camera_id, name=video.stem, url=""), settings)
        assert analyzer is not None, "analytics are off in the default settings"
        [source] = discover(video, None)
        rows: list[dict[str, Any]] = []
        cpu0, t0 = cpu_seconds(), clock.monotonic()
        analyze_source(
            source,
            camera_id,
            wrap(analyzer),
            rows.extend,
            ResumeLog(Path(tmp) / "resume"),
            sample_fps=sample_fps,
            advance=advance,
        )
        return FileAnalysis(
            rows, cpu_seconds() - cpu0, clock.monotonic() - t0, analyzer.detector_runs
        )


def bench_arguments(doc: str | None, start: date, cache: Path) -> Any:
    """The options every simulated-office bench takes (each adds its own)."""
    import argparse

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--offices", type=int, default=4, help="number of offices (default 4)")
    ap.add_argument("--interval", type=float, default=5.0, help="simulated seconds per frame")
    ap.add_argument(
        "--start",
        type=date.fromisoformat,
        default=start,
        help=f"first local date (default {start}, a {start:%A})",
    )
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--cache", type=Path, default=cache, help=f"default {cache}")
    ap.add_argument("--reanalyse", action="store_true", help="ignore cached analysis results")
    ap.add_argument("--record-only", action="store_true", help="record the footage, then stop")
    ap.add_argument(
        "--no-record", action="store_true", help="record nothing: analyse and score what is there"
    )
    ap.add_argument("--verbose", action="store_true", help="list every miss, with why")
    return ap
