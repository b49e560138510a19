"""Benchmark: analytics accuracy against the simulator's ground truth (issue 5).

    .venv/bin/python bench/analytics_accuracy.py                 # 4 offices x 7 days, 1 frame / 5 s
    .venv/bin/python bench/analytics_accuracy.py --verbose       # ... and list every miss
    .venv/bin/python bench/analytics_accuracy.py --offices 5 --days 14 --jobs 2

Records simulated kelurahan offices (service-room camera, 640x360; profiles punctual, late,
very_late, sometimes_closed, then friday_early) for consecutive days from --start (default
Monday 2026-11-23, so a weekend is included), with the simulator's random events plus a fixed
schedule of rare events on top so every week certainly has them: per office two intruders
outside office hours (night, evening or weekend daytime), two tampers (all four kinds occur, by
day with staff in the room and at night under infrared) and an outage. Then runs the backfill
analyzer (`pantau.pipeline.backfill.analyze_source` with `make_analyzer` on default settings,
exactly what `pantau analyze` runs) over every day, in --jobs processes, and scores the
per-minute observations and the incidents `pantau.incidents.rules.detect` derives from them
against the simulator's ground-truth file (bench/scoring.py; definitions in docs/accuracy.md):

- presence per minute (people_max >= 1 vs. someone in view for >= 10 s of the minute) in three
  light classes. **Lit**: the room lights are on for the whole minute (ground truth
  lights_on/lights_off) or the simulator's daylight level (`pantau.sim.scene.daylight`, the sky
  model the renderer uses, with the office's clouds) is >= 0.05 at both ends of the minute.
  **Night**: lights off all minute and daylight < 0.008 at both ends (camera in infrared).
  **Twilight**: the rest (dim colour picture at dawn and dusk). Minutes during a tamper or an
  outage are not scored.
- intrusion incidents: recall of ground-truth intruder visits outside office hours, and
  incidents that are not an intruder per camera-week, split by who was really there (guard,
  cleaner, staff or visitor outside the scheduled hours, or nobody); scored three ways: on the
  scheduled hours alone, with the default office margins (`incidents.hours`, as the hub and
  the agents run), and with the margins plus the night guard's round (21.45-22.15 WITA).
- tamper incidents: recall of ground-truth tamper events, kind agreement (cover and blackout
  -> covered, wall -> moved, defocus -> defocused), false tamper incidents.
- CPU seconds (process time of the analysing worker) and person-detector passes per day.

Footage is cached under --cache and reused; analysis results are cached per day and reused
only while the analyzer's source files are unchanged (their hash names the results folder), so
after tuning `pantau/pipeline/observe.py` a plain re-run re-analyses and re-scores, and a
re-run without changes only re-scores (seconds). `--reanalyse` forces analysis.

Diagnosis (always summarised, listed in full with --verbose) re-plans the simulated world only
to get each person's visible box in each analysed frame (the ground truth file has who, not
where): whether the detector ran on that frame and found them.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from multiprocessing import Manager
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import scoring
from bench.scoring import (
    LIGHT_CLASSES,
    LIT,
    NIGHT,
    Counts,
    GroundTruth,
    MinuteTruth,
    Span,
    Ticker,
    code_state,
    office_spec,
    rebuild,
    recorded_days,
    run_pool,
)
from rich.console import Console
from rich.table import Table

from pantau.config.model import Settings
from pantau.incidents.hours import Hours, Margins, expected_predicate, working_hours
from pantau.incidents.rules import INTRUSION, TAMPER, MinuteFacts, detect

# imported here, before the worker processes fork, so every worker runs the same analyzer code
# as the one whose sources named the results folder, even if those files change during a run
from pantau.pipeline import backfill, camera, observe  # noqa: F401
from pantau.registry.calendar import default_city_rules, schedule_for_day
from pantau.sim.offices import DEFAULT_ROTATION, SimConfig, SimOffice, make_scene, select_offices
from pantau.sim.profiles import OfficeSim, ScheduledEvent

ROOT = Path(__file__).resolve().parents[1]
VIEW = "interior"
SIZE = (640, 360)
TZ = "Asia/Makassar"
CAMERA_ID = 1
GUARD_WINDOW = (dtime(21, 45), dtime(22, 15))
VARIANTS = (
    ("strict", "scheduled hours only, no window"),
    ("margins", "default office margins"),
    ("guard", "office margins + guard round"),
)
RESULTS_FORMAT = 4  # bump when what analyse_day stores changes
# Rare events on a fixed schedule, per office index: (day offset, local time, kind, minutes).
# Day 0 is --start (a Monday by default); the pattern repeats every 7 days.
EVENTS: tuple[tuple[tuple[int, str, str, float], ...], ...] = (
    ((1, "02.10", "intruder", 4), (5, "13.30", "intruder", 6), (2, "10.00", "cover", 20),
     (4, "02.00", "defocus", 30), (3, "12.00", "camera_offline", 45)),
    ((2, "03.30", "intruder", 3), (6, "23.20", "intruder", 5), (0, "14.00", "wall", 15),
     (3, "23.00", "blackout", 20), (4, "16.30", "site_offline", 120)),
    ((0, "01.15", "intruder", 2.5), (4, "20.40", "intruder", 4), (1, "11.30", "defocus", 25),
     (5, "03.00", "cover", 15), (6, "08.00", "camera_offline", 60)),
    ((3, "04.05", "intruder", 5), (5, "18.25", "intruder", 3), (2, "09.10", "blackout", 12),
     (6, "21.00", "wall", 30), (1, "19.00", "camera_offline", 40)),
    ((1, "00.40", "intruder", 3), (6, "15.00", "intruder", 4), (3, "15.00", "cover", 20),
     (0, "05.00", "defocus", 20), (5, "10.00", "camera_offline", 30)),
)  # fmt: skip
EVENT_WEEKS = 8  # the schedule covers this many weeks from --start


# ---- offices and footage ---------------------------------------------------------------------


def plan_offices(count: int, start: date) -> list[SimOffice]:
    """The first `count` kelurahan offices, profiles in the simulator's rotation, with events."""
    base = select_offices(SimConfig(), count=count)
    specs = []
    for i, office in enumerate(base):
        events = []
        for week in range(EVENT_WEEKS):
            for offset, hhmm, kind, minutes in EVENTS[i % len(EVENTS)]:
                day = start + timedelta(days=offset + 7 * week)
                view = VIEW if kind not in ("intruder", "site_offline") else None
                events.append(
                    ScheduledEvent(kind=kind, at=f"{day} {hhmm}", minutes=minutes, view=view)  # type: ignore[arg-type]
                )
        specs.append(
            OfficeSim(
                site=office.slug,
                profile=DEFAULT_ROTATION[i % len(DEFAULT_ROTATION)],
                seed=office.seed,
                events=events,
                random_events=True,
            )
        )
    return select_offices(SimConfig(offices=specs), tz=TZ)


def office_dir(cache: Path, office: SimOffice, interval: float, start: date) -> Path:
    """One office's footage, ground truth and results; named by everything that shapes them."""
    key = json.dumps(
        [office.world.office.model_dump(mode="json"), interval, SIZE, str(start)],
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return cache / f"{office.slug}-{interval:g}s-{start}-{digest}"


# ---- analysis (worker) -----------------------------------------------------------------------


# Taken when this module is imported, i.e. when the analyzer code the workers will run (they
# fork from this process) was imported: names the results of exactly that code.
ANALYZER_HASH = scoring.analyzer_hash()
SIM_HASH = scoring.source_hash(scoring.SIM_SOURCES)


def fingerprint(interval: float) -> str:
    return hashlib.sha256(f"{RESULTS_FORMAT}|{interval}|{ANALYZER_HASH}".encode()).hexdigest()[:12]


class FrameLog:
    """Wraps the analyzer: passes frames through unchanged and keeps what it said per frame."""

    def __init__(self, analyzer: Any) -> None:
        self.analyzer = analyzer
        self.frames: list[Any] = []
        self.passes: list[int] = []  # detector passes spent on each frame

    def __getattr__(self, name: str) -> Any:  # everything else is the analyzer's own
        return getattr(self.analyzer, name)

    def process(self, frame: Any) -> Any:
        before = self.analyzer.detector_runs
        facts = self.analyzer.process(frame)
        self.frames.append(facts)
        self.passes.append(self.analyzer.detector_runs - before)
        return facts


def _hit(det: tuple[int, ...], truth: tuple[int, ...]) -> bool:
    """The detector found this person: IoU >= 0.3, or the box lies mostly inside theirs."""
    ix = max(0, min(det[2], truth[2]) - max(det[0], truth[0]))
    iy = max(0, min(det[3], truth[3]) - max(det[1], truth[1]))
    inter = ix * iy
    a_det = (det[2] - det[0]) * (det[3] - det[1])
    a_tr = (truth[2] - truth[0]) * (truth[3] - truth[1])
    union = a_det + a_tr - inter
    return (union > 0 and inter / union >= 0.3) or (a_det > 0 and inter / a_det >= 0.6)


def diagnose_frames(
    office: SimOffice, frames: list[Any], passes: list[int]
) -> dict[str, dict[str, Any]]:
    """Per minute: who was visible in which frames (the scene's own boxes), whether the detector
    ran on those frames and found them, and detections that matched nobody."""
    scene = make_scene(office.seed, VIEW, *SIZE)
    out: dict[str, dict[str, Any]] = {}
    for f, n_pass in zip(frames, passes, strict=True):
        present, _lights, _tamper, _off = office.world.state_at(f.at, VIEW)
        truth = scene.people(f.at, present) if present else []
        if not truth and not f.people:
            continue
        m = f.at.replace(second=0, microsecond=0).isoformat()
        d = out.setdefault(
            m, {"n": 0, "ran": 0, "seen": 0, "stale": 0, "ir": 0, "actors": {}, "fp": []}
        )
        d["n"] += 1
        d["ran"] += int(f.detector_ran)
        d["seen"] += int(f.people > 0)
        d["ir"] += int(f.ir)
        if f.people and not truth and not f.detector_ran:
            d["stale"] += 1  # a count held from an earlier detection, nobody there any more
        for actor, box in truth:
            a = d["actors"].setdefault(
                actor,
                {"vis": 0, "ran": 0, "hit": 0, "counted": 0, "by_passes": {}, "h": [], "box": None},
            )
            a["vis"] += 1
            a["h"].append(box[3] - box[1])
            a["box"] = list(box)
            hit = any(_hit(b, box) for b in f.boxes)
            a["counted"] += int(hit)  # on any frame: fresh, held or persisted boxes
            if f.detector_ran:
                a["ran"] += 1
                a["hit"] += int(hit)
                bucket = a["by_passes"].setdefault(str(min(n_pass, 4)), [0, 0])
                bucket[0] += 1
                bucket[1] += int(hit)
        if f.detector_ran:
            for b in f.boxes:
                if not any(_hit(b, box) for _a, box in truth) and len(d["fp"]) < 3:
                    d["fp"].append(list(b))
    for d in out.values():
        for a in d["actors"].values():
            a["h"] = round(median(a["h"])) if a["h"] else 0
    return out


def analyse_day(job: dict[str, Any]) -> dict[str, Any]:
    """Worker: analyse one office-day with the backfill path; cache and return the results."""
    result_file = Path(job["result"])
    logs: list[FrameLog] = []
    tick = Ticker(job["queue"], "analyse", 1800.0)
    run = scoring.analyse_file(
        Path(job["video"]),
        CAMERA_ID,
        wrap=lambda analyzer: logs.append(FrameLog(analyzer)) or logs[-1],
        advance=tick,
    )
    tick.flush()
    [log] = logs
    office = rebuild(job["spec"])
    res = {
        "slug": job["slug"],
        "day": job["day"],
        "cpu_s": round(run.cpu_s, 2),
        "wall_s": round(run.wall_s, 2),
        "frames": len(log.frames),
        "detector_passes": run.detector_passes,
        "detector_frames": sum(1 for f in log.frames if f.detector_ran),
        "rows": [{**r, "minute": r["minute"].isoformat()} for r in run.rows],
        "diag": diagnose_frames(office, log.frames, log.passes),
    }
    tmp_file = result_file.with_suffix(".tmp")
    result_file.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(tmp_file, "wt", encoding="utf-8") as fh:
        json.dump(res, fh)
    os.replace(tmp_file, result_file)
    return {"slug": res["slug"], "day": res["day"], "cpu_s": res["cpu_s"]}


def load_result(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        res = json.load(fh)
    for r in res["rows"]:
        r["minute"] = datetime.fromisoformat(r["minute"])
    return res


# ---- scoring ---------------------------------------------------------------------------------


@dataclass
class OfficeScore:
    office: SimOffice
    gt: GroundTruth
    days: list[date]
    presence: dict[str, Counts]
    misses: list[tuple[MinuteTruth, str]]
    rows: dict[datetime, dict]
    truths: dict[datetime, MinuteTruth]
    diag: dict[str, dict]
    intrusion: dict[str, scoring.Match]  # variant -> match
    skipped_intruders: list[Span]
    tamper: scoring.Match
    cpu_s: float
    frames: int
    passes: int
    detector_frames: int


def calendar_scheduled(zone: ZoneInfo, margins: Margins) -> Callable[[datetime], bool]:
    """Expected hours as Pantau draws them: the city calendar (as evaluate_camera does), widened
    by office margins (`incidents.hours`)."""
    rules = default_city_rules()

    def hours_of(day: date) -> Hours | None:
        return working_hours(schedule_for_day(rules, day))

    return expected_predicate(hours_of, zone.key, margins)


def score_office(
    office: SimOffice, gt: GroundTruth, days: list[date], results: list[dict[str, Any]]
) -> OfficeScore:
    from pantau.sim.scene import daylight

    zone = ZoneInfo(TZ)
    rows = {r["minute"]: r for res in results for r in res["rows"]}
    minutes = [m for d in days for m in scoring.day_minutes(d, zone)]
    truths = scoring.minute_truth(
        gt, VIEW, minutes, lambda at: daylight(at, office.seed, zone).level
    )
    presence, misses = scoring.score_presence(truths, {m: r["people_max"] for m, r in rows.items()})

    obs = [MinuteFacts.of(CAMERA_ID, r) for _m, r in sorted(rows.items())]
    until = (max(rows) + scoring.MINUTE) if rows else datetime.now(ZoneInfo("UTC"))
    scored = set(days)

    def on_scored_day(events: list[Span]) -> list[Span]:  # the file may hold more days
        return [e for e in events if e.start.astimezone(zone).date() in scored]

    intruders, skipped = (on_scored_day(e) for e in scoring.intruder_events(gt, VIEW))

    def guard(at: datetime) -> bool:
        return scoring.in_window(at, zone, *GUARD_WINDOW)

    expected = calendar_scheduled(zone, Settings().analytics.intrusion_margins.margins())
    variants = {  # name: (scheduled, allowed)
        "strict": (calendar_scheduled(zone, Margins(0, 0)), lambda _at: False),
        "margins": (expected, lambda _at: False),
        "guard": (expected, guard),
    }
    intrusion = {}
    tamper_incidents: list[Span] = []
    for name, (scheduled, allowed) in variants.items():
        specs = detect(obs, scheduled=scheduled, allowed=allowed) if obs else []
        spans = scoring.incident_spans([s for s in specs if s.kind == INTRUSION], until)
        intrusion[name] = scoring.match(intruders, spans)
        tamper_incidents = scoring.incident_spans([s for s in specs if s.kind == TAMPER], until)
    tamper = scoring.match(on_scored_day(gt.tamper_in(VIEW)), tamper_incidents)
    diag = {k: v for res in results for k, v in res["diag"].items()}
    return OfficeScore(
        office,
        gt,
        days,
        presence,
        misses,
        rows,
        truths,
        diag,
        intrusion,
        skipped,
        tamper,
        sum(r["cpu_s"] for r in results),
        sum(r["frames"] for r in results),
        sum(r["detector_passes"] for r in results),
        sum(r["detector_frames"] for r in results),
    )


# ---- reporting -------------------------------------------------------------------------------


def wita(at: datetime, fmt: str = "%Y-%m-%d %H.%M") -> str:
    return at.astimezone(ZoneInfo(TZ)).strftime(fmt)


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def verdict(value: float | None, target: float, higher: bool = True) -> str:
    if value is None:
        return "no data"
    ok = value >= target if higher else value <= target
    return "[green]met[/]" if ok else "[red]NOT met[/]"


def figures_table(scores: list[OfficeScore], args: argparse.Namespace) -> Table:
    total = {c: Counts() for c in LIGHT_CLASSES}
    for s in scores:
        for c in LIGHT_CLASSES:
            total[c].add(s.presence[c])
    camera_weeks = sum(len(s.days) for s in scores) / 7
    t = Table(title="Analytics accuracy against the simulator's ground truth")
    t.add_column("measure")
    t.add_column("figure", justify="right")
    t.add_column("counts")
    t.add_column("target")
    t.add_column("")
    for c in LIGHT_CLASSES:
        k = total[c]
        target = "≥ 0.95" if c == LIT else "–"
        t.add_row(
            f"presence precision, {c}",
            pct(k.precision),
            f"tp {k.tp} fp {k.fp}",
            target,
            verdict(k.precision, 0.95) if c == LIT else "",
        )
        t.add_row(
            f"presence recall, {c}",
            pct(k.recall),
            f"tp {k.tp} fn {k.fn} (tn {k.tn}; not scored: partial {k.partial}, "
            f"blind {k.blind}, no row {k.unobserved})",
            target,
            verdict(k.recall, 0.95) if c == LIT else "",
        )
    for name, label in VARIANTS:
        events = sum(len(s.intrusion[name].events) for s in scores)
        hit = sum(s.intrusion[name].recalled for s in scores)
        causes = Counter(
            scoring.intrusion_cause(s.intrusion[name].incidents[i], s.gt, VIEW)
            for s in scores
            for i in s.intrusion[name].false
        )
        false = sum(causes.values())
        nobody = causes.get("nobody", 0)
        t.add_row(
            f"intrusion recall ({label})",
            pct(scoring.ratio(hit, events)),
            f"{hit}/{events} intruder visits",
            "≥ 0.95",
            verdict(scoring.ratio(hit, events), 0.95),
        )
        t.add_row(
            f"incidents not an intruder per camera-week ({label})",
            f"{false / camera_weeks:.2f}" if camera_weeks else "–",
            f"{false} in {camera_weeks:.1f} camera-weeks: "
            + ", ".join(f"{k} {v}" for k, v in causes.most_common()),
            "≤ 1",
            verdict(false / camera_weeks if camera_weeks else None, 1.0, higher=False),
        )
        t.add_row(
            f"  of which nobody there ({label})",
            f"{nobody / camera_weeks:.2f}" if camera_weeks else "–",
            f"{nobody}",
            "≤ 1",
            verdict(nobody / camera_weeks if camera_weeks else None, 1.0, higher=False),
        )
    events = sum(len(s.tamper.events) for s in scores)
    hit = sum(s.tamper.recalled for s in scores)
    agree = sum(
        1
        for s in scores
        for e, h in zip(s.tamper.events, s.tamper.hits, strict=True)
        if h and any(scoring.kind_agrees(e, s.tamper.incidents[i]) for i in h)
    )
    false_t = sum(len(s.tamper.false) for s in scores)
    t.add_row(
        "tamper recall",
        pct(scoring.ratio(hit, events)),
        f"{hit}/{events} tamper events",
        "≥ 0.95",
        verdict(scoring.ratio(hit, events), 0.95),
    )
    t.add_row(
        "tamper kind agreement", pct(scoring.ratio(agree, hit)), f"{agree}/{hit} recalled", "–", ""
    )
    t.add_row(
        "false tamper incidents per camera-week",
        f"{false_t / camera_weeks:.2f}" if camera_weeks else "–",
        f"{false_t}",
        "–",
        "",
    )
    days = sum(len(s.days) for s in scores)
    cpu = sum(s.cpu_s for s in scores)
    t.add_row(
        "CPU s per simulated day",
        f"{cpu / days:.1f}",
        f"{cpu:.0f} s over {days} days (one worker; the machine was shared, so CPU time "
        "includes cache contention)",
        "≤ 120 (60 s wall on 2 cores)",
        verdict(cpu / days, 120, higher=False),
    )
    frames = sum(s.frames for s in scores)
    t.add_row(
        "detector passes per day",
        f"{sum(s.passes for s in scores) / days:,.0f}",
        f"on {100 * sum(s.detector_frames for s in scores) / max(frames, 1):.0f} % of "
        f"{frames / days:,.0f} frames a day",
        "–",
        "",
    )
    return t


def offices_table(scores: list[OfficeScore]) -> Table:
    t = Table(title="Per office")
    for col in (
        "office",
        "profile",
        "days",
        "lit P",
        "lit R",
        "night P",
        "night R",
        "intruders",
        "not intruder*",
        "tamper",
        "false tamper",
        "CPU s/day",
    ):
        t.add_column(col, justify="right" if col not in ("office", "profile") else "left")
    for s in scores:
        lit, night = s.presence[LIT], s.presence[NIGHT]
        g = s.intrusion["guard"]
        t.add_row(
            s.office.slug,
            s.office.world.profile.name,
            str(len(s.days)),
            pct(lit.precision),
            pct(lit.recall),
            pct(night.precision),
            pct(night.recall),
            f"{g.recalled}/{len(g.events)}",
            str(len(g.false)),
            f"{s.tamper.recalled}/{len(s.tamper.events)}",
            str(len(s.tamper.false)),
            f"{s.cpu_s / max(len(s.days), 1):.0f}",
        )
    t.caption = "* intrusion incidents that were not an intruder, office margins and guard round"
    return t


def runs_of(items: list[tuple[MinuteTruth, str]]) -> list[list[tuple[MinuteTruth, str]]]:
    """Group consecutive minutes with the same outcome."""
    out: list[list[tuple[MinuteTruth, str]]] = []
    for t, o in items:
        if out and out[-1][-1][1] == o and t.minute - out[-1][-1][0].minute == scoring.MINUTE:
            out[-1].append((t, o))
        else:
            out.append([(t, o)])
    return out


def who(t: MinuteTruth) -> str:
    return ", ".join(sorted({f"{p.kind}/{p.spot}" for p in t.people})) or "nobody"


def describe_run(s: OfficeScore, run: list[tuple[MinuteTruth, str]]) -> str:
    first, last = run[0][0], run[-1][0]
    n = len(run)
    rows = [s.rows.get(t.minute, {}) for t, _ in run]
    diags = [s.diag.get(t.minute.isoformat(), {}) for t, _ in run]
    frames = sum(d.get("n", 0) for d in diags) or sum(r.get("samples", 0) for r in rows)
    ran = sum(r.get("detector_runs", 0) for r in rows)
    text = (
        f"{s.office.slug} {wita(first.minute)}–{wita(last.minute + scoring.MINUTE, '%H.%M')} WITA "
        f"({n} min, {first.light}) {run[0][1].upper()}: truth {who(first)}; "
        f"Pantau people_max {max(r.get('people_max', 0) for r in rows)}, detector on "
        f"{ran}/{sum(r.get('samples', 0) for r in rows)} frames, "
        f"motion {median(r.get('motion_pct', 0) for r in rows):.2f} %"
    )
    actors: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for d in diags:
        for name, a in d.get("actors", {}).items():
            acc = actors[name]
            acc[0] += a["vis"]
            acc[1] += a["ran"]
            acc[2] += a["hit"]
            acc[3] = a["h"]
    if actors:
        text += "; " + "; ".join(
            f"{name.rsplit('/', 1)[-1]} visible {a[0]}/{frames} frames, h {a[3]} px, "
            f"found in {a[2]}/{a[1]} detector frames"
            for name, a in actors.items()
        )
    elif run[0][1] == "fn":
        text += "; nobody visible in the scene's own boxes (out of frame or hidden)"
    if run[0][1] == "fp":
        boxes = [b for d in diags for b in d.get("fp", [])][:2]
        stale = sum(d.get("stale", 0) for d in diags)
        text += f"; unmatched boxes {boxes}" if boxes else ""
        text += f"; {stale} frames held an earlier count" if stale else ""
    return text


def diagnosis(scores: list[OfficeScore], console: Console, verbose: bool) -> None:
    """Why the misses happened, in aggregate (always) and one by one (--verbose)."""
    console.rule("Diagnosis")
    # detector hit rate per role/spot and light class, on frames where it ran
    rate: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    by_passes: dict[tuple[str, str, str], dict[str, list[int]]] = defaultdict(dict)
    heights: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for s in scores:
        for m, d in s.diag.items():
            minute = datetime.fromisoformat(m)
            for p in s.gt.people_in(VIEW):
                if p.overlaps(minute, minute + scoring.MINUTE) and p.actor in d["actors"]:
                    a = d["actors"][p.actor]
                    key = (p.kind, p.spot, s.truths[minute].light)
                    rate[key][0] += a["vis"]
                    rate[key][1] += a["ran"]
                    rate[key][2] += a["hit"]
                    rate[key][3] += a.get("counted", 0)
                    for n, (ran, hit) in a.get("by_passes", {}).items():
                        acc = by_passes[key].setdefault(n, [0, 0])
                        acc[0] += ran
                        acc[1] += hit
                    heights[key].append(a["h"])
    t = Table(
        title="Person detector in the real pipeline, by who and where (person-frames)",
        caption="found: a box the analyzer reported covers the person, on frames where the "
        "detector ran; by passes: found % when that frame cost 1, 2, 3, 4+ detector passes; "
        "counted: covered on any frame (held or persisted boxes too)",
    )
    cols = ("role/spot", "light", "visible", "detector ran", "found %", "by passes", "counted %")
    for col in (*cols, "h px"):
        t.add_column(col, justify="left" if col in ("role/spot", "light", "by passes") else "right")
    for key in sorted(rate, key=lambda k: -rate[k][0]):
        vis, ran, hit, counted = rate[key]
        passes = " ".join(
            f"{n}:{100 * h / r:.0f}%({r})" for n, (r, h) in sorted(by_passes[key].items()) if r
        )
        t.add_row(
            f"{key[0]}/{key[1]}",
            key[2],
            f"{vis:,}",
            f"{ran:,} ({100 * ran / max(vis, 1):.0f} %)",
            f"{100 * hit / ran:.0f} %" if ran else "–",
            passes or "–",
            f"{100 * counted / vis:.0f} %" if vis and by_passes[key] else "–",
            f"{median(heights[key]):.0f}" if heights[key] else "–",
        )
    console.print(t)

    sprite_table(scores, console)

    # presence misses by cause
    t = Table(title="Presence mistakes (minutes) by light class and who was there")
    for col in ("light", "kind", "truth", "minutes"):
        t.add_column(col, justify="right" if col == "minutes" else "left")
    causes: Counter[tuple[str, str, str]] = Counter()
    for s in scores:
        for truth, outcome in s.misses:
            if outcome == "fn":
                what = who(truth)
            else:
                recent = [
                    p
                    for p in s.gt.people_in(VIEW)
                    if p.end <= truth.minute and truth.minute - p.end < timedelta(minutes=3)
                ]
                what = f"after {recent[-1].kind} left (<3 min)" if recent else "nobody near"
            causes[(truth.light, outcome, what)] += 1
    for (light, outcome, what), n in sorted(causes.items(), key=lambda kv: (kv[0][0], -kv[1])):
        t.add_row(light, "missed (fn)" if outcome == "fn" else "false (fp)", what, str(n))
    console.print(t)

    # events missed and incidents that were not events
    for s in scores:
        for name, _label in VARIANTS:
            for e in s.intrusion[name].missed:
                console.print(
                    f"MISSED intruder ({name}): {s.office.slug} {wita(e.start)}–"
                    f"{wita(e.end, '%H.%M')} WITA ({e.minutes:.1f} min): "
                    + rows_summary(s, e.start, e.end)
                )
        for e in s.skipped_intruders:
            console.print(f"not scored intruder: {s.office.slug} {wita(e.start)} (blind/in hours)")
        for e, h in zip(s.tamper.events, s.tamper.hits, strict=True):
            if not h:
                console.print(
                    f"MISSED tamper {e.kind}: {s.office.slug} {wita(e.start)}–"
                    f"{wita(e.end, '%H.%M')} WITA: " + rows_summary(s, e.start, e.end)
                )
            else:
                inc = [s.tamper.incidents[i] for i in h]
                kinds = ",".join(sorted({i.detail.get("kind", "?") for i in inc}))
                delay = (inc[0].start - e.start).total_seconds() / 60
                if verbose or not any(scoring.kind_agrees(e, i) for i in inc):
                    console.print(
                        f"tamper {e.kind} {s.office.slug} {wita(e.start)} ({e.minutes:.0f} min): "
                        f"incident {kinds}, starts {delay:+.0f} min, {len(inc)} incident(s)"
                    )
        for i in s.tamper.false:
            inc = s.tamper.incidents[i]
            console.print(
                f"FALSE tamper {inc.detail.get('kind')}: {s.office.slug} {wita(inc.start)}–"
                f"{wita(inc.end, '%H.%M')} WITA; " + rows_summary(s, inc.start, inc.end)
            )
        if verbose:
            for name, _label in VARIANTS:
                for i in s.intrusion[name].false:
                    inc = s.intrusion[name].incidents[i]
                    cause = scoring.intrusion_cause(inc, s.gt, VIEW)
                    console.print(
                        f"intrusion not an intruder ({name}): {s.office.slug} {wita(inc.start)}–"
                        f"{wita(inc.end, '%H.%M')} WITA, really: {cause}; "
                        + rows_summary(s, inc.start, inc.end)
                    )
    if verbose:
        console.rule("Presence mistakes, minute runs")
        for s in scores:
            for run in runs_of(s.misses):
                console.print(describe_run(s, run), highlight=False)


def sprite_table(scores: list[OfficeScore], console: Console) -> None:
    """Found % by the sprite a person is drawn with: the simulator picks one standing sprite
    per actor (a hash of the id), and a still person that the detector misses once it misses
    on every frame, so some sprites cost whole runs of minutes. Uses the scene's private
    `_track_for`; skipped if the simulator changes it."""
    rate: dict[tuple[str, int], list[Any]] = {}
    for s in scores:
        scene = make_scene(s.office.seed, VIEW, *SIZE)
        track_for = getattr(scene, "_track_for", None)
        if track_for is None:
            return
        for d in s.diag.values():
            for actor, a in d["actors"].items():
                if actor.rsplit("/", 1)[-1].split("-")[0] not in ("staff", "visitor"):
                    continue
                stand = track_for(actor)[1]
                key = (str(getattr(stand, "id", "?")), int(getattr(stand, "native_height", 0)))
                acc = rate.setdefault(key, [0, 0, 0, set()])
                acc[0] += a["vis"]
                acc[1] += a["ran"]
                acc[2] += a["hit"]
                acc[3].add(actor)
    t = Table(title="Staff and visitors by the sprite they are drawn with (person-frames)")
    for col in ("sprite", "native h px", "people", "visible", "detector ran", "found %"):
        t.add_column(col, justify="left" if col == "sprite" else "right")
    for (sprite, native), (vis, ran, hit, actors) in sorted(
        rate.items(), key=lambda kv: kv[1][2] / max(kv[1][1], 1)
    ):
        t.add_row(sprite, str(native), str(len(actors)), f"{vis:,}", f"{ran:,}",
                  f"{100 * hit / ran:.0f} %" if ran else "–")  # fmt: skip
    console.print(t)


def rows_summary(s: OfficeScore, start: datetime, end: datetime) -> str:
    m = start.replace(second=0, microsecond=0)
    rows = []
    while m < end:
        if m in s.rows:
            rows.append(s.rows[m])
        m += scoring.MINUTE
    if not rows:
        return "no observation rows"
    tam = Counter(k for r in rows for k in r["tamper"])
    ran = sum(r["detector_runs"] for r in rows)
    return (
        f"{len(rows)} rows, people_max {[r['people_max'] for r in rows][:12]}, "
        f"detector frames {ran}/{sum(r['samples'] for r in rows)}, "
        f"ir {sum(r['ir_mode'] for r in rows)}/{len(rows)}, tamper {dict(tam) or '-'}"
    )


# ---- main ------------------------------------------------------------------------------------


def main() -> None:
    ap = scoring.bench_arguments(__doc__, date(2026, 11, 23), Path("/tmp/pantau-accuracy"))
    ap.add_argument("--days", type=int, default=7, help="consecutive days (default 7)")
    ap.add_argument("--rerecord", action="store_true", help="discard cached footage first")
    ap.add_argument("--score-only", action="store_true", help="score what is cached, run nothing")
    ap.add_argument(
        "--results", metavar="ID", help="score the cached results-ID of earlier analyzer code"
    )
    args = ap.parse_args()
    console = Console(width=160)
    offices = plan_offices(args.offices, args.start)
    days = [args.start + timedelta(days=k) for k in range(args.days)]
    dirs = {o.slug: office_dir(args.cache, o, args.interval, args.start) for o in offices}
    fp = args.results or fingerprint(args.interval)
    if fp != fingerprint(args.interval):
        args.score_only = True  # those results came from other analyzer code: nothing to add
    results = {slug: d / f"results-{fp}" for slug, d in dirs.items()}
    console.print(f"cache: {args.cache} (analyzer {ANALYZER_HASH}, simulator {SIM_HASH})")
    for slug, d in dirs.items():
        if args.rerecord and d.exists() and not args.score_only:
            shutil.rmtree(d)
        made = d / slug / "simulator.json"
        if made.exists() and json.loads(made.read_text())["sim_sources"] != SIM_HASH:
            console.print(
                f"[yellow]{slug}: footage recorded with other simulator sources "
                f"({json.loads(made.read_text())['sim_sources']}); --rerecord if the world or "
                "its pictures changed[/]"
            )

    with Manager() as manager:
        q = manager.Queue()
        # 1. footage (one task per office: the ground truth file is per office)
        todo = {o.slug: sorted(set(days) - recorded_days(dirs[o.slug], o.slug)) for o in offices}
        tasks = [
            (
                scoring.record_office,
                (
                    office_spec(o),
                    str(dirs[o.slug]),
                    [str(d) for d in todo[o.slug]],
                    args.interval,
                    q,
                ),
                o.slug,
            )
            for o in offices
            if todo[o.slug] and not args.score_only and not args.no_record
        ]
        n_rec = sum(len(todo[t[2]]) for t in tasks)
        if tasks:
            console.print(f"recording {n_rec} office-days ({args.interval:g} s per frame)")
        t0 = time.monotonic()
        run_pool(
            console,
            args.jobs,
            tasks,
            {"record": n_rec * 86400.0},
            q,
            lambda label, _r: console.print(f"recorded {label}"),
        )
        if tasks:
            console.print(f"recording took {time.monotonic() - t0:.0f} s")
        if args.record_only:
            return

        # 2. analysis (one task per office-day, cached by analyzer fingerprint)
        analyse_tasks = []
        for o in offices:
            for d in days:
                video = dirs[o.slug] / o.slug / VIEW / f"{d}.mp4"
                result = results[o.slug] / f"{d}.json.gz"
                if args.score_only or not video.exists():
                    continue
                if result.exists() and not args.reanalyse:
                    continue
                job = {
                    "slug": o.slug,
                    "day": str(d),
                    "video": str(video),
                    "result": str(result),
                    "spec": office_spec(o),
                    "queue": q,
                }
                analyse_tasks.append((analyse_day, (job,), f"{o.slug} {d}"))
        for r in results.values():
            r.mkdir(parents=True, exist_ok=True)
            if not (r / "code.json").exists():
                (r / "code.json").write_text(json.dumps(code_state(), indent=1), encoding="utf-8")
        if analyse_tasks:
            console.print(
                f"analysing {len(analyse_tasks)} office-days in {args.jobs} processes "
                f"(results-{fp})"
            )
        run_pool(
            console,
            args.jobs,
            analyse_tasks,
            {"analyse": len(analyse_tasks) * 86400.0},
            q,
            lambda label, r: console.print(f"analysed {label}: {r['cpu_s']:.0f} s CPU"),
        )

    # 3. scoring
    scores = []
    for o in offices:
        truth = dirs[o.slug] / o.slug / "groundtruth.jsonl"
        if not truth.exists():
            console.print(f"[yellow]{o.slug}: no footage yet, not scored[/]")
            continue
        gt = scoring.read_ground_truth(truth, TZ)
        done = [(d, results[o.slug] / f"{d}.json.gz") for d in days]
        no_video = {d for d in gt.days if not (dirs[o.slug] / o.slug / VIEW / f"{d}.mp4").exists()}
        scored_days = [d for d, p in done if p.exists() or d in no_video]  # offline all day
        loaded = [load_result(p) for _d, p in done if p.exists()]
        scores.append(score_office(o, gt, scored_days, loaded))
    console.print(
        f"{len(scores)} offices x {len(days)} days from {args.start} ({days[0]:%a}–"
        f"{days[-1]:%a}), {VIEW} {SIZE[0]}x{SIZE[1]}, one frame per {args.interval:g} s, "
        f"results-{fp}; presence needs >= {scoring.PRESENT_SECONDS:g} s in view"
    )
    console.print(figures_table(scores, args))
    console.print(offices_table(scores))
    diagnosis(scores, console, args.verbose)


if __name__ == "__main__":
    main()
