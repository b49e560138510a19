"""Benchmark: opening-hours verdicts against the simulator's ground truth, end to end (issue 6).

    .venv/bin/python bench/verdict_accuracy.py                # 4 offices, >= 20 working days each
    .venv/bin/python bench/verdict_accuracy.py --verbose      # ... and every wrong day, with why
    .venv/bin/python bench/verdict_accuracy.py --offices 4 --days 30 --jobs 2 --start 2026-11-30

sim → video → analyze → verdicts. Records simulated kelurahan offices (service-room camera,
640x360, one frame per --interval simulated seconds, local 05.30-18.30 only) for consecutive
days from --start (default Monday 2026-11-30: four weekends, cuti bersama 24 and Natal 25
December), profiles punctual / late / very_late / sometimes_closed, with the simulator's random
events (outages, tamper, intruders) plus a fixed schedule per office: the arrival hidden by a
camera outage, by a site outage and by a cloth over the lens; outages in the afternoon only,
over the (Friday) closing, early in the morning, and one ending just before the working day.
Then `pantau analyze`'s code path (`pantau.pipeline.backfill_pool.backfill`, --jobs processes,
one sample per 5 s) turns each office's footage into per-minute observations, and
`pantau.verdicts.rules.decide_day` (default `VerdictConfig`, city calendar) gives one verdict
per office-day. Scored against the ground-truth file (`<office>/groundtruth.jsonl`):

- **expected status** from the true opening and closing, the schedule and the times the
  camera was blind (outage, tamper, not recorded), with `VerdictConfig`'s thresholds: see
  `expected_status` (and docs/verdict-accuracy.md). A day whose opening could not be seen
  expects `tidak_diketahui`.
- **status accuracy** over every office-day (weekends and holidays expect `libur`), with a
  confusion matrix;
- **opening-time error** |opened_at - true opening| on days both say the office opened, the
  verdict judged the opening and the arrival itself was in view (median, p95, max);
- **late/closed verdicts on unseen openings**: terlambat, terlambat_berat or tidak_buka on a
  day whose opening window was not seen. Must be 0.

Footage is cached under --cache (re-used on re-runs; a change to the simulator's sources or
the office set-up records afresh); observations are cached next to it under the hash of the
analyzer's sources (`--reanalyse` forces analysis); verdicts and scores are recomputed on
every run (seconds).
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from multiprocessing import Manager
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scoring import (  # noqa: E402
    SIM_SOURCES,
    analyzer_hash,
    bench_arguments,
    office_spec,
    parse_ground_truth,
    record_office,
    recorded_days,
    run_pool,
    source_hash,
)

from pantau.config.model import Settings  # noqa: E402
from pantau.pipeline.backfill import BackfillError, ResumeLog, discover, plan  # noqa: E402
from pantau.pipeline.backfill_pool import backfill  # noqa: E402
from pantau.pipeline.camera import CameraSpec  # noqa: E402
from pantau.registry.calendar import default_city_rules, schedule_for_day  # noqa: E402
from pantau.sim.groundtruth import read as read_truth  # noqa: E402
from pantau.sim.offices import SimConfig, SimOffice, make_scene, select_offices  # noqa: E402
from pantau.sim.profiles import OfficeSim, Profile, ScheduledEvent  # noqa: E402
from pantau.verdicts import Verdict, VerdictConfig, decide_day  # noqa: E402

TZ = "Asia/Makassar"
ZONE = ZoneInfo(TZ)
VIEW = "interior"
SIZE = (640, 360)
HOURS = (5.5, 18.5)
CAMERA_ID = 1
SAMPLE_FPS = 0.2  # `pantau analyze` default: one keyframe every 5 s
PROFILES = ("punctual", "late", "very_late", "sometimes_closed")
MIN_WORKING_DAYS = 20
MINUTE = timedelta(minutes=1)
UNKNOWN, LIBUR, TEPAT = "tidak_diketahui", "libur", "tepat_waktu"
TERLAMBAT, BERAT, TIDAK_BUKA, PULANG = "terlambat", "terlambat_berat", "tidak_buka", "pulang_cepat"
STATUS_ORDER = (TEPAT, TERLAMBAT, BERAT, TIDAK_BUKA, PULANG, LIBUR, UNKNOWN)
BAD = (TERLAMBAT, BERAT, TIDAK_BUKA)  # the verdicts that accuse an office
SHORT = {
    TEPAT: "tepat",
    TERLAMBAT: "lambat",
    BERAT: "berat",
    TIDAK_BUKA: "t.buka",
    PULANG: "p.cepat",
    LIBUR: "libur",
    UNKNOWN: "t.diket",
}
# ---- offices, their scheduled events, footage ---------------------------------------------


def working_days(start: date, count: int) -> list[date]:
    rules = default_city_rules()
    days = (start + timedelta(days=k) for k in range(count))
    return [d for d in days if schedule_for_day(rules, d).working]


def default_days(start: date) -> int:
    """Enough consecutive days for MIN_WORKING_DAYS working days."""
    n = MIN_WORKING_DAYS
    while len(working_days(start, n)) < MIN_WORKING_DAYS:
        n += 1
    return n


def _at(day: date, minute: int) -> str:
    return f"{day.isoformat()} {minute // 60:02d}.{minute % 60:02d}"


def scheduled_events(profile: Profile, start: date) -> list[ScheduledEvent]:
    """Outages and a cover on fixed working days (by index from `start`), placed around this
    profile's own arrival window so that they really hide (or just miss) the opening."""
    wd = working_days(start, 120)
    a0 = profile.arrive.earliest.hour * 60 + profile.arrive.earliest.minute
    a1 = profile.arrive.latest.hour * 60 + profile.arrive.latest.minute
    span = a1 - a0
    friday = next(d for d in wd if d.weekday() == 4)
    plan: list[tuple[str, date, int, float, str | None]] = [
        ("camera_offline", wd[2], a0 - 25, span + 50, VIEW),  # the arrival hidden
        ("camera_offline", wd[5], 12 * 60 + 30, 120, VIEW),  # afternoon only
        ("camera_offline", wd[8], 6 * 60 + 40, 45, VIEW),  # ends 07.25: just before/at opening
        ("site_offline", wd[11], a0 - 15, span + 30, None),  # the arrival hidden (link down)
        ("site_offline", wd[14], 13 * 60 + 30, 90, None),  # afternoon only
        ("site_offline", friday, 15 * 60, 150, None),  # over the (Friday) closing
        ("camera_offline", wd[17], 6 * 60 + 5, 35, VIEW),  # early morning: the cleaner's time
        ("cover", wd[19], a0 - 10, span + 30, VIEW),  # a cloth over the lens at opening time
    ]
    return [
        ScheduledEvent(kind=kind, at=_at(day, minute), minutes=minutes, view=view)  # type: ignore[arg-type]
        for kind, day, minute, minutes, view in plan
    ]


def plan_offices(count: int, start: date) -> list[SimOffice]:
    base = select_offices(SimConfig(), count=count)
    specs = []
    for i, office in enumerate(base):
        name = PROFILES[i % len(PROFILES)]
        [probe] = select_offices(SimConfig(offices=[OfficeSim(site=office.slug, profile=name)]))
        specs.append(
            OfficeSim(
                site=office.slug,
                profile=name,
                seed=office.seed,
                events=scheduled_events(probe.world.profile, start),
                random_events=True,
            )
        )
    return select_offices(SimConfig(offices=specs), tz=TZ)


def footage_dir(cache: Path, offices: list[SimOffice], interval: float, start: date) -> Path:
    key = json.dumps(
        [office_spec(o) for o in offices]
        + [interval, SIZE, HOURS, str(start), source_hash(SIM_SOURCES)],
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return cache / f"footage-{interval:g}s-{start}-{digest}"


def progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def record_all(
    console: Console, folder: Path, offices: list[SimOffice], days: list[date], args: Any
) -> float:
    """Record what the cache lacks, one worker per office; returns CPU seconds."""
    todo = {o.slug: sorted(set(days) - recorded_days(folder, o.slug)) for o in offices}
    n = sum(len(v) for v in todo.values())
    if not n:
        return 0.0
    console.print(
        f"recording {n} office-days ({HOURS[0]:g}–{HOURS[1]:g} h) in {args.jobs} processes"
    )
    cpu = 0.0

    def done(label: str, result: tuple[str, float]) -> None:
        nonlocal cpu
        cpu += result[1]
        console.print(f"recorded {label} ({result[1]:.0f} s CPU)")

    with Manager() as manager:
        q = manager.Queue()
        tasks = [
            (
                record_office,
                (
                    office_spec(o),
                    str(folder),
                    [str(d) for d in todo[o.slug]],
                    args.interval,
                    q,
                    VIEW,
                    SIZE,
                    HOURS,
                ),
                o.slug,
            )
            for o in offices
            if todo[o.slug]
        ]
        run_pool(console, args.jobs, tasks, {"record": n * (HOURS[1] - HOURS[0]) * 3600}, q, done)
    return cpu


# ---- analysis: backfill on every core, observations cached per office -----------------------


def _row_json(row: dict[str, Any]) -> str:
    return json.dumps({**row, "minute": row["minute"].isoformat()}, separators=(",", ":"))


def analyse_all(
    console: Console, obs_dir: Path, folder: Path, offices: list[SimOffice], days: list[date], args
) -> tuple[float, int]:
    """Backfill each office's missing days (--jobs processes); returns (CPU s, footage s)."""
    wanted = {d.isoformat() for d in days}
    work: list[tuple[SimOffice, list]] = []
    for o in offices:
        done_file = obs_dir / o.slug / "done.json"
        done = set(json.loads(done_file.read_text())) if done_file.exists() else set()
        video = folder / o.slug / VIEW
        if not video.exists():
            continue
        try:
            found = discover(video, None)
        except BackfillError:  # nothing finished yet (a recording may be under way)
            continue
        sources = [s for s in found if s.path.stem in wanted and s.path.stem not in done]
        if sources:
            work.append((o, sources))
    if not work:
        return 0.0, 0
    total = sum(s.seconds or 0 for _, sources in work for s in sources)
    console.print(
        f"analysing {sum(len(s) for _, s in work)} office-days ({total / 3600:,.0f} h of footage) "
        f"with {args.jobs} processes → {obs_dir.name}"
    )
    settings = Settings.model_validate({"data_dir": str(obs_dir / "data")})
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    rc0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with progress_bar(console) as progress:
        bar = progress.add_task("analysing (footage)", total=total)
        for o, sources in work:
            store = obs_dir / o.slug
            store.mkdir(parents=True, exist_ok=True)
            with (store / "rows.jsonl").open("a", encoding="utf-8") as fh:

                def write(rows: list[dict[str, Any]], fh: Any = fh) -> None:
                    fh.write("".join(_row_json(r) + "\n" for r in rows))
                    fh.flush()

                backfill(
                    plan(sources, args.jobs),
                    CameraSpec(id=CAMERA_ID, name=o.slug, url=""),
                    settings,
                    write,
                    ResumeLog(store / "resume"),
                    sample_fps=SAMPLE_FPS,
                    advance=lambda s: progress.advance(bar, s),
                )
            done_file = store / "done.json"
            done = set(json.loads(done_file.read_text())) if done_file.exists() else set()
            done_file.write_text(json.dumps(sorted(done | {s.path.stem for s in sources})))
            progress.console.print(f"analysed {o.slug}: {len(sources)} days")
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    rc1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(
        (b.ru_utime + b.ru_stime) - (a.ru_utime + a.ru_stime) for a, b in ((ru0, ru1), (rc0, rc1))
    )
    return cpu, int(total)


def load_rows(path: Path) -> dict[date, list[dict[str, Any]]]:
    """Observation rows by local day (duplicates from a resumed run are merged by decide_day)."""
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    if not path.exists():
        return by_day
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            row["minute"] = datetime.fromisoformat(row["minute"])
            by_day[row["minute"].astimezone(ZONE).date()].append(row)
    return by_day


# ---- ground truth and the expected status ----------------------------------------------------

Spans = list[tuple[datetime, datetime]]


@dataclass
class TruthDay:
    """One office-day as the simulator's file tells it (aware UTC times)."""

    slug: str
    profile: str
    day: date
    working: bool
    sched_open: datetime | None
    sched_close: datetime | None
    opened: datetime | None  # first staff member in
    closed: datetime | None  # last staff member out
    closed_all_day: bool
    blind: Spans  # the service-room camera showed nothing: outage, tamper, not recorded
    blind_kinds: list[tuple[datetime, datetime, str]] = field(default_factory=list)
    people: list[Any] = field(default_factory=list)  # scoring.Span of everyone in the room


def local_dt(day: date, t: dtime) -> datetime:
    return datetime.combine(day, t, tzinfo=ZONE).astimezone(UTC)


def read_truth_days(path: Path, slug: str, profile: str) -> dict[date, TruthDay]:
    raw = read_truth(path)
    gt = parse_ground_truth(raw, TZ)
    kinds = [(s.start, s.end, f"tamper {s.kind}") for s in gt.tamper_in(VIEW)]
    kinds += [(s.start, s.end, f"{s.kind} outage") for s in gt.outages_in(VIEW)]
    people = gt.people_in(VIEW)
    out: dict[date, TruthDay] = {}
    for rec in raw:
        if rec["type"] != "day":
            continue
        d = date.fromisoformat(rec["date"])
        midnight = local_dt(d, dtime(0))
        unrecorded = [
            (midnight, midnight + timedelta(hours=HOURS[0])),
            (midnight + timedelta(hours=HOURS[1]), midnight + timedelta(days=1)),
        ]
        day_kinds = [k for k in kinds if k[0] < midnight + timedelta(days=1) and k[1] > midnight]

        def parse(text: str | None) -> datetime | None:
            return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None

        def sched(text: str | None, d: date = d) -> datetime | None:
            if not text:
                return None
            hh, mm = text.split(".")
            return local_dt(d, dtime(int(hh), int(mm)))

        out[d] = TruthDay(
            slug,
            profile,
            d,
            bool(rec["working"]),
            sched(rec.get("scheduled_open")),
            sched(rec.get("scheduled_close")),
            parse(rec.get("opened_at")),
            parse(rec.get("closed_at")),
            bool(rec.get("closed_all_day")),
            merge([(a, b) for a, b, _ in day_kinds] + unrecorded),
            day_kinds,
            [p for p in people if p.start < midnight + timedelta(days=1) and p.end > midnight],
        )
    return out


def day_off(slug: str, profile: str, d: date) -> TruthDay:
    """A day off by the city calendar, not recorded (the simulator plans no opening on it):
    its verdict rests on the calendar alone, so footage would change nothing."""
    midnight = local_dt(d, dtime(0))
    blind = [(midnight, midnight + timedelta(days=1))]
    return TruthDay(slug, profile, d, False, None, None, None, None, False, blind, [], [])


def merge(spans: Iterable[tuple[datetime, datetime]]) -> Spans:
    out: Spans = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def blind_seconds(blind: Spans, a: datetime, b: datetime) -> float:
    return sum(max(0.0, (min(y, b) - max(x, a)).total_seconds()) for x, y in blind)


def seen_share(blind: Spans, a: datetime, b: datetime) -> float:
    length = (b - a).total_seconds()
    return 1.0 if length <= 0 else 1.0 - blind_seconds(blind, a, b) / length


def first_clear(blind: Spans, t: datetime) -> datetime:
    """The first instant at or after `t` that the camera saw (spans are merged)."""
    for a, b in blind:
        if a <= t < b:
            return b
    return t


def last_clear(blind: Spans, t: datetime) -> datetime:
    """The last instant at or before `t` that the camera saw."""
    for a, b in blind:
        if a < t <= b:
            return a
    return t


def hm(t: datetime | None) -> str:
    return "–" if t is None else t.astimezone(ZONE).strftime("%H.%M")


@dataclass
class Expected:
    status: str
    why: str
    opening_unseen: bool = False  # the opening could not be judged from what the camera saw
    arrival_in_view: bool = False  # the true opening instant itself was in view


def expected_status(t: TruthDay, cfg: VerdictConfig) -> Expected:
    """What a perfect observer of the same camera would conclude under the documented rules
    (docs/verdicts.md), from the true opening/closing and the times the camera was blind:

    * not a working day → libur.
    * closed all day → tidak_buka when [open - lead, close) was >= min_coverage seen and no
      blind stretch of >= min_session inside the hours could hide an opening; else
      terlambat_berat when the morning [open - lead, heavy_late_after) was seen so (an
      opening is only possible later); else tidak_diketahui.
    * opened at T. The first sighting S is the first instant >= T in view. Unknown when more
      than window - min_present of the `window` minutes after S were blind (no sustained
      presence to see; terlambat_berat still if T >= 10.00 and the morning was seen), or when
      the office may have opened unseen earlier with another status: at the start of a blind
      stretch ending < split_gap before S, or of one >= min_session long inside the hours.
      A late S also needs [open - lead, S) >= min_coverage seen. Otherwise the status of S:
      tepat_waktu (< open + grace + 1 min), terlambat_berat (>= heavy_late_after, if that is
      more than `grace` after the open), else terlambat.
    * closing (only matters after an on-time opening): the last staff member out at C is
      early when the minute ending after C ends before close - grace; the mirror image of
      the opening rules decides whether the camera could tell, and an unknown closing leaves
      the status tepat_waktu.
    """
    if not t.working:
        return Expected(LIBUR, "not a working day")
    assert t.sched_open is not None and t.sched_close is not None
    lead_start = t.sched_open - cfg.lead * MINUTE
    heavy = local_dt(t.day, cfg.heavy_late_after)
    heavy_applies = heavy > t.sched_open + cfg.grace * MINUTE
    blind = t.blind
    window = cfg.window * MINUTE
    may_miss = (cfg.window - cfg.min_present) * 60.0

    def hidden_from(limit: datetime) -> datetime | None:
        """Start of the earliest blind stretch inside the hours long enough to hide a whole
        session and starting before `limit`."""
        for a, b in blind:
            lo, hi = max(a, lead_start), min(b, t.sched_close)
            if hi - lo >= cfg.min_session * MINUTE and hi > t.sched_open and lo < limit:
                return lo
        return None

    def status_of(at: datetime) -> str:
        if at < t.sched_open + (cfg.grace + 1) * MINUTE:
            return TEPAT
        return BERAT if heavy_applies and at >= heavy else TERLAMBAT

    def morning_seen_empty() -> bool:
        return (
            heavy_applies
            and seen_share(blind, lead_start, heavy) >= cfg.min_coverage
            and hidden_from(heavy) is None
        )

    if t.opened is None:
        full = seen_share(blind, lead_start, t.sched_close)
        if full >= cfg.min_coverage and hidden_from(t.sched_close) is None:
            return Expected(TIDAK_BUKA, f"closed; hours seen {full:.0%}")
        if morning_seen_empty():
            return Expected(BERAT, "closed; morning seen empty, afternoon partly blind")
        return Expected(UNKNOWN, f"closed; hours only {full:.0%} seen", opening_unseen=True)

    seen_at = first_clear(blind, t.opened)
    in_view = seen_at == t.opened
    if blind_seconds(blind, seen_at, seen_at + window) > may_miss:
        if t.opened >= heavy and morning_seen_empty():
            return Expected(BERAT, "arrival not seen, morning seen empty", arrival_in_view=in_view)
        return Expected(UNKNOWN, f"presence after {hm(seen_at)} not in view", opening_unseen=True)
    early = seen_at
    for a, b in blind:
        if a < seen_at and b >= seen_at - cfg.split_gap * MINUTE:
            early = min(early, max(a, lead_start))
    hidden = hidden_from(seen_at)
    if hidden is not None:
        early = min(early, hidden)
    if status_of(early) != status_of(seen_at):
        return Expected(
            UNKNOWN, f"first seen {hm(seen_at)}, may have opened {hm(early)}", opening_unseen=True
        )
    opening = status_of(seen_at)
    if opening != TEPAT:
        share = seen_share(blind, lead_start, seen_at)
        if share < cfg.min_coverage:
            return Expected(
                UNKNOWN,
                f"opening window {hm(lead_start)}–{hm(seen_at)} only {share:.0%} seen",
                opening_unseen=True,
            )
        return Expected(opening, f"opened {hm(t.opened)}", arrival_in_view=in_view)

    # an on-time opening: the closing decides between tepat_waktu and pulang_cepat
    assert t.closed is not None
    limit = t.sched_close - cfg.grace * MINUTE

    def is_early(at: datetime) -> bool:
        return at.replace(second=0, microsecond=0) + MINUTE < limit

    last = last_clear(blind, t.closed)
    why = f"opened {hm(t.opened)}, closed {hm(t.closed)}"
    if not is_early(last):
        return Expected(TEPAT, why, arrival_in_view=in_view)
    if blind_seconds(blind, last - window, last) > may_miss:
        return Expected(TEPAT, why + " (closing not seen)", arrival_in_view=in_view)
    late = last
    for a, b in blind:
        if b > last and a <= last + cfg.split_gap * MINUTE:
            late = max(late, b)
        lo, hi = max(a, last), min(b, local_dt(t.day, cfg.latest))
        if hi - lo >= cfg.min_session * MINUTE and lo < t.sched_close:
            late = max(late, hi)
    if not is_early(late) or seen_share(blind, last, t.sched_close) < cfg.min_coverage:
        return Expected(TEPAT, why + " (early closing not seen)", arrival_in_view=in_view)
    return Expected(PULANG, why, arrival_in_view=in_view)


# ---- what the observations say (for the error analysis) --------------------------------------


@dataclass
class Minutes:
    """One day's observations per local minute (index 0 = local midnight)."""

    start: datetime
    seen: np.ndarray
    people: np.ndarray
    lights_off: np.ndarray
    tampered: np.ndarray
    rows: np.ndarray  # a row exists

    def idx(self, at: datetime) -> int:
        return int((at - self.start) // MINUTE)

    def at(self, i: int) -> datetime:
        return self.start + i * MINUTE


def minutes_of(rows: list[dict[str, Any]], day: date, cfg: VerdictConfig) -> Minutes:
    start = local_dt(day, dtime(0))
    n = 24 * 60
    seen, people, off, tam, have = (np.zeros(n, dtype=bool) for _ in range(5))
    for r in rows:
        i = int((r["minute"] - start) // MINUTE)
        if not 0 <= i < n:
            continue
        have[i] = True
        flagged = any(v > 0 for v in (r.get("tamper") or {}).values())
        tam[i] |= flagged
        if r.get("coverage_seconds", 0) >= cfg.min_seen_seconds and not flagged:
            seen[i] = True
            people[i] |= r.get("people_max", 0) >= cfg.min_people
            off[i] |= r.get("lights_on") is False
    return Minutes(start, seen, people, off & people, tam, have)


def runs(mask: np.ndarray, lo: int, hi: int) -> list[tuple[int, int]]:
    out, i = [], lo
    while i < hi:
        if mask[i]:
            j = i
            while j < hi and mask[j]:
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def who_at(t: TruthDay, a: datetime, b: datetime) -> str:
    roles = Counter(p.kind for p in t.people if p.start < b and p.end > a)
    return ", ".join(f"{n} {r}" for r, n in sorted(roles.items())) or "nobody"


@dataclass
class DayResult:
    truth: TruthDay
    expected: Expected
    verdict: Verdict
    minutes: Minutes

    @property
    def correct(self) -> bool:
        return self.verdict.status == self.expected.status

    @property
    def opening_error(self) -> float | None:
        """Signed minutes, verdict minus truth, when both say the office opened."""
        if self.truth.opened is None or self.verdict.opened_at is None:
            return None
        return (self.verdict.opened_at - self.truth.opened).total_seconds() / 60

    @property
    def opening_scored(self) -> bool:
        """The opening-time error counts: the arrival was in view and the verdict judged it."""
        return (
            self.opening_error is not None
            and self.expected.arrival_in_view
            and self.verdict.opening_status not in (None, UNKNOWN)
        )

    @property
    def closing_error(self) -> float | None:
        if self.truth.closed is None or self.verdict.closed_at is None:
            return None
        return (self.verdict.closed_at - self.truth.closed).total_seconds() / 60


class SceneProbe:
    """What the camera could show of the first staff member in and the last one out: their
    visible box in the simulated scene (the ground truth file says who, not where)."""

    def __init__(self, offices: list[SimOffice]) -> None:
        self.offices = {o.slug: o for o in offices}
        self.scenes: dict[str, Any] = {}

    def box(self, slug: str, actor: str, at: datetime) -> tuple[int, int, int, int] | None:
        office = self.offices[slug]
        if slug not in self.scenes:
            self.scenes[slug] = make_scene(office.seed, VIEW, *SIZE)
        present = office.world.state_at(at, VIEW)[0]
        return dict(self.scenes[slug].people(at, present)).get(actor)

    def staff(self, t: TruthDay) -> str:
        staff = sorted((p for p in t.people if p.kind == "staff"), key=lambda p: p.start)
        if not staff:
            return ""

        def looks(p: Any, at: datetime) -> str:
            b = self.box(t.slug, p.actor, at)
            size = f"{b[3] - b[1]} px tall" if b else "not visible"
            return f"{p.spot} {size} at {hm(at)}"

        first, last = staff[0], max(staff, key=lambda p: p.end)
        text = f"first staff in {hm(first.start)} ({looks(first, first.start + 3 * MINUTE)})"
        if len(staff) > 1:
            text += f", next {hm(staff[1].start)}"
        return text + f"; last out {hm(last.end)} ({looks(last, last.end - 3 * MINUTE)})"


def _overlaps(det: tuple[int, ...], truth: tuple[int, ...]) -> bool:
    """A detection is this person: IoU >= 0.3, or the detection lies mostly inside them."""
    ix = max(0, min(det[2], truth[2]) - max(det[0], truth[0]))
    iy = max(0, min(det[3], truth[3]) - max(det[1], truth[1]))
    inter = ix * iy
    a_det = (det[2] - det[0]) * (det[3] - det[1])
    union = a_det + (truth[2] - truth[0]) * (truth[3] - truth[1]) - inter
    return (union > 0 and inter / union >= 0.3) or (a_det > 0 and inter / a_det >= 0.6)


class ArrivalReplay:
    """Re-analyses the day's file from its start to a quarter hour after the true opening,
    frame by frame, to tell a detector that looked at the first staff member and missed
    them from one that did not look. The analyzer starts fresh at the file's first frame
    (the full run carried its state over from the previous file), so the replay is close
    to, not identical with, the full run."""

    def __init__(self, folder: Path, probe: SceneProbe, settings: Settings) -> None:
        self.folder, self.probe, self.settings = folder, probe, settings

    def __call__(self, t: TruthDay, minutes: int) -> str:
        from pantau.pipeline.backfill import Piece, analyze_piece
        from pantau.pipeline.camera import make_analyzer

        staff = sorted((p for p in t.people if p.kind == "staff"), key=lambda p: p.start)
        video = self.folder / t.slug / VIEW / f"{t.day}.mp4"
        if not staff or not video.exists() or t.opened is None:
            return ""
        first = staff[0]
        analyzer = make_analyzer(CameraSpec(id=CAMERA_ID, name=t.slug, url=""), self.settings)
        assert analyzer is not None
        frames: list[Any] = []

        class Log:
            """The analyzer, keeping what it said about each frame."""

            def process(self, frame: Any) -> Any:
                facts = analyzer.process(frame)
                frames.append(facts)
                return facts

            def __getattr__(self, name: str) -> Any:
                return getattr(analyzer, name)

        [source] = discover(video, None)
        start = t.opened.replace(second=0, microsecond=0)
        piece = Piece(source, None, start + minutes * MINUTE)
        analyze_piece(piece, CAMERA_ID, Log(), lambda rows: None, None, sample_fps=SAMPLE_FPS)  # type: ignore[arg-type]
        shown = counted = 0
        looks: Counter[str] = Counter()
        found: Counter[str] = Counter()
        for f in frames:
            box = self.probe.box(t.slug, first.actor, f.at) if f.at >= start else None
            if box is None:
                continue
            shown += 1
            counted += f.people > 0
            if f.detector_ran:
                looks[f.look or "?"] += 1
                found[f.look or "?"] += any(_overlaps(b, box) for b in f.boxes)
        kinds = ", ".join(f"{k} {found[k]}/{n}" for k, n in looks.most_common()) or "none"
        return (
            f"replay: in the {minutes} min after {hm(start)} the first staff member is in view in "
            f"{shown} frames; detector looks that found them: {kinds}; counted in {counted} frames"
        )


def diagnose(
    r: DayResult,
    cfg: VerdictConfig,
    probe: SceneProbe | None = None,
    replay: ArrivalReplay | None = None,
) -> tuple[str, str]:
    """(cause, one line from the observations) for a wrong or badly timed day."""
    t, v, m = r.truth, r.verdict, r.minutes
    lo = m.idx(local_dt(t.day, cfg.earliest))
    facts: list[str] = []
    staffed = m.people & ~m.lights_off
    first_people = next((i for i in range(lo, len(m.seen)) if m.people[i]), None)
    first_staffed = next((i for i in range(lo, len(m.seen)) if staffed[i]), None)
    facts.append(f"first staffed minute {hm(m.at(first_staffed)) if first_staffed else '–'}")
    if first_people is not None and first_people != first_staffed:
        facts.append(f"first people {hm(m.at(first_people))}")
    if t.opened is not None:
        i = m.idx(t.opened)
        j = i + cfg.window
        p, s = int(m.people[i:j].sum()), int(staffed[i:j].sum())
        u = int((~m.seen[i:j]).sum())
        spans = runs(m.people, i, j)
        where = ", ".join(f"{hm(m.at(a))}–{hm(m.at(b - 1))}" for a, b in spans[:3]) or "nobody"
        facts.append(
            f"after the true opening {hm(t.opened)}: people seen {where}, {p} of "
            f"{cfg.window} minutes with people, {s} staffed"
            + (f", lights off in {int(m.lights_off[i:j].sum())}" if m.lights_off[i:j].any() else "")
            + (f", {u} unseen" if u else "")
        )
        before = runs(staffed, lo, i)
        if before:
            a, b = before[0][0], before[-1][1]
            facts.append(
                f"staffed before the opening {sum(y - x for x, y in before)} min between "
                f"{hm(m.at(a))} and {hm(m.at(b - 1))} (truth: {who_at(t, m.at(a), m.at(b))})"
            )
        if t.closed is not None:
            k = m.idx(t.closed)
            last = next((x for x in range(k + cfg.window, lo, -1) if staffed[x]), None)
            facts.append(
                f"last staffed minute {hm(m.at(last)) if last else '–'} "
                f"(true closing {hm(t.closed)})"
            )
    elif t.working:
        open_i, close_i = m.idx(t.sched_open), m.idx(t.sched_close)  # type: ignore[arg-type]
        false = runs(staffed, open_i - cfg.lead, close_i)
        if false:
            facts.append(
                f"closed, yet staffed minutes {sum(b - a for a, b in false)} "
                f"(first {hm(m.at(false[0][0]))}; truth: "
                f"{who_at(t, m.at(false[0][0]), m.at(false[0][1]))})"
            )
    if t.blind_kinds:
        facts.append(
            "blind "
            + ", ".join(f"{hm(a)}–{hm(b)} {k}" for a, b, k in t.blind_kinds if a.date() <= b.date())
        )
    tam_days = [k for k in t.blind_kinds if k[2].startswith("tamper")]
    for a, b, k in tam_days:
        i, j = m.idx(a), m.idx(b)
        flagged = int(m.tampered[max(i, 0) : j].sum())
        facts.append(f"{k}: {flagged} of {j - i} minutes flagged")
    if probe is not None and t.working and t.opened is not None:
        facts.append(probe.staff(t))
    line = "; ".join(facts)

    # the cause
    ev, vs = r.expected.status, v.status
    err = r.opening_error
    if ev == UNKNOWN and vs != UNKNOWN:
        missed_tamper = any(
            int(m.tampered[max(m.idx(a), 0) : m.idx(b)].sum()) < (m.idx(b) - m.idx(a)) / 2
            for a, b, _ in tam_days
        )
        cause = "tamper not flagged" if missed_tamper else "judged an opening the truth hides"
    elif vs == UNKNOWN and ev != UNKNOWN:
        unseen_clear = 0
        if t.sched_open is not None:
            a, b = m.idx(t.sched_open) - cfg.lead, m.idx(t.opened or t.sched_close)  # type: ignore[arg-type]
            gt_blind = np.zeros(len(m.seen), dtype=bool)
            for x, y in t.blind:
                gt_blind[max(m.idx(x), 0) : max(m.idx(y + MINUTE - timedelta(seconds=1)), 0)] = True
            unseen_clear = int((~m.seen[a:b] & ~gt_blind[a:b]).sum())
        if unseen_clear:
            cause = "minutes unseen although the camera was up"
            line += f"; {unseen_clear} such minutes in the opening window"
        else:
            cause = "outage edge (rules more cautious than the expectation)"
    elif t.working and t.opened is None:
        cause = "false presence on a closed day"
    elif err is not None and err > cfg.grace:
        i = m.idx(t.opened)  # type: ignore[arg-type]
        p = int(m.people[i : i + cfg.window].sum())
        s = int((m.people & ~m.lights_off)[i : i + cfg.window].sum())
        if p < cfg.min_present:
            cause = "detector missed the first arrivals"
            if replay is not None:
                line += "; " + replay(t, cfg.window)
        elif s < cfg.min_present:
            cause = "lights reported off"
        else:
            cause = "sustained-presence rule"
    elif err is not None and err < -cfg.grace:
        cause = "false presence before the opening"
    elif ev in (TEPAT, PULANG) and vs in (TEPAT, PULANG):
        cause = "closing time"
    elif err is None and v.opened_at is None and t.opened is not None:
        cause = "no session found"
    else:
        cause = "threshold edge"
    return cause, line


# ---- scoring and printing ----------------------------------------------------------------------


def pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.1f} %)" if d else "–"


def ok(flag: bool) -> str:
    return "[green]✓[/]" if flag else "[red]✗[/]"


def figures(results: list[DayResult]) -> dict[str, Any]:
    errs = [abs(r.opening_error) for r in results if r.opening_scored]  # type: ignore[arg-type]
    all_errs = [abs(r.opening_error) for r in results if r.opening_error is not None]  # type: ignore[arg-type]
    close_errs = [
        abs(r.closing_error)  # type: ignore[arg-type]
        for r in results
        if r.closing_error is not None and r.verdict.closing_status not in (None, UNKNOWN)
    ]
    unseen = [r for r in results if r.expected.opening_unseen]

    def stats(xs: list[float]) -> dict[str, float | None]:
        if not xs:
            return {"n": 0, "median": None, "p95": None, "max": None}
        return {
            "n": len(xs),
            "median": float(median(xs)),
            "p95": float(np.percentile(xs, 95)),
            "max": float(max(xs)),
        }

    return {
        "days": len(results),
        "working": sum(r.truth.working for r in results),
        "correct": sum(r.correct for r in results),
        "opening": stats(errs),
        "opening_all": stats(all_errs),
        "closing": stats(close_errs),
        "unseen": len(unseen),
        "bad_on_unseen": sum(r.verdict.status in BAD for r in unseen),
        "expected_unknown": sum(r.expected.status == UNKNOWN for r in results),
        "said_unknown": sum(r.verdict.status == UNKNOWN for r in results),
    }


def fmt_min(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f} min"


def main_table(f: dict[str, Any], title: str) -> Table:
    tab = Table(title=title, title_justify="left")
    for col in ("figure", "measured", "target", ""):
        tab.add_column(col)
    o = f["opening"]
    tab.add_row(
        f"opening time |error|, median ({o['n']} days)",
        fmt_min(o["median"]),
        "≤ 2 min",
        ok(o["median"] is not None and o["median"] <= 2),
    )
    tab.add_row(
        "opening time |error|, 95th percentile",
        fmt_min(o["p95"]),
        "≤ 10 min",
        ok(o["p95"] is not None and o["p95"] <= 10),
    )
    tab.add_row("opening time |error|, max", fmt_min(o["max"]), "", "")
    share = f["correct"] / f["days"] if f["days"] else 0.0
    tab.add_row(
        f"status correct (all {f['days']} office-days)",
        pct(f["correct"], f["days"]),
        "≥ 95 %",
        ok(share >= 0.95),
    )
    tab.add_row(
        f"late/closed verdicts on days the opening was not seen ({f['unseen']} days)",
        str(f["bad_on_unseen"]),
        "0",
        ok(f["bad_on_unseen"] == 0),
    )
    a = f["opening_all"]
    tab.add_row(
        f"  opening |error| incl. hidden arrivals ({a['n']} days)",
        f"median {fmt_min(a['median'])}, p95 {fmt_min(a['p95'])}, max {fmt_min(a['max'])}",
        "",
        "",
    )
    c = f["closing"]
    tab.add_row(
        f"  closing |error| on judged closings ({c['n']} days)",
        f"median {fmt_min(c['median'])}, p95 {fmt_min(c['p95'])}, max {fmt_min(c['max'])}",
        "",
        "",
    )
    tab.add_row(
        "  tidak_diketahui expected / said",
        f"{f['expected_unknown']} / {f['said_unknown']}",
        "",
        "",
    )
    return tab


def confusion(results: list[DayResult]) -> Table:
    present = [
        s for s in STATUS_ORDER if any(s in (r.expected.status, r.verdict.status) for r in results)
    ]
    tab = Table(title="Confusion matrix (rows: expected from the ground truth; columns: verdict)")
    tab.add_column("expected \\ verdict")
    for s in present:
        tab.add_column(SHORT[s], justify="right")
    tab.add_column("right", justify="right")
    counts = Counter((r.expected.status, r.verdict.status) for r in results)
    for e in present:
        row_total = sum(counts[(e, v)] for v in present)
        if not row_total:
            continue
        cells = [
            (f"[bold]{counts[(e, v)]}[/]" if e == v else str(counts[(e, v)] or "·"))
            for v in present
        ]
        tab.add_row(e, *cells, pct(counts[(e, e)], row_total))
    return tab


def offices_table(results: list[DayResult]) -> Table:
    tab = Table(title="Per office")
    for col in ("office", "profile", "days", "working", "right", "unknown exp./said",
                "opening |err| median", "p95", "max"):  # fmt: skip
        tab.add_column(col, justify="left" if col in ("office", "profile") else "right")
    by: dict[str, list[DayResult]] = defaultdict(list)
    for r in results:
        by[r.truth.slug].append(r)
    for slug, rs in by.items():
        f = figures(rs)
        o = f["opening"]
        tab.add_row(
            slug,
            rs[0].truth.profile,
            str(f["days"]),
            str(f["working"]),
            pct(f["correct"], f["days"]),
            f"{f['expected_unknown']}/{f['said_unknown']}",
            fmt_min(o["median"]),
            fmt_min(o["p95"]),
            fmt_min(o["max"]),
        )
    return tab


def describe(r: DayResult) -> str:
    t, v = r.truth, r.verdict
    truth = (
        "libur"
        if not t.working
        else "closed all day"
        if t.opened is None
        else f"opened {hm(t.opened)}, closed {hm(t.closed)}"
    )
    sched = f"jadwal {hm(t.sched_open)}–{hm(t.sched_close)}" if t.working else ""
    err = r.opening_error
    return (
        f"{t.slug} {t.day} {t.day:%a} ({t.profile}) truth {truth} {sched} → expected "
        f"{r.expected.status} ({r.expected.why}); verdict {v.status} opened {hm(v.opened_at)} "
        f"closed {hm(v.closed_at)}"
        + (f" (error {err:+.1f} min)" if err is not None else "")
        + f"\n      verdict reason: {v.reason}"
    )


def main() -> None:
    ap = bench_arguments(__doc__, date(2026, 11, 30), Path("/tmp/pantau-verdicts"))
    ap.add_argument(
        "--days",
        type=int,
        default=None,
        help=f"consecutive days (default: enough for {MIN_WORKING_DAYS} working days)",
    )
    ap.add_argument(
        "--site", action="append", help="analyse only this office (repeatable); score all"
    )
    ap.add_argument(
        "--verdict",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a verdict setting other than the default (repeatable), e.g. activity_motion=0",
    )
    args = ap.parse_args()
    try:
        cfg = VerdictConfig.model_validate(dict(kv.split("=", 1) for kv in args.verdict))
    except ValueError as exc:
        raise SystemExit(f"--verdict: {exc}") from exc
    console = Console(width=180)
    n_days = args.days or default_days(args.start)
    days = [args.start + timedelta(days=k) for k in range(n_days)]
    offices = plan_offices(args.offices, args.start)
    folder = footage_dir(args.cache, offices, args.interval, args.start)
    folder.mkdir(parents=True, exist_ok=True)
    console.print(f"footage: {folder}")

    # 1. footage: working days only (a day off is `libur` from the calendar alone)
    t0 = time.monotonic()
    rules = default_city_rules()
    rec_days = [d for d in days if schedule_for_day(rules, d).working]
    rec_cpu = 0.0 if args.no_record else record_all(console, folder, offices, rec_days, args)
    if rec_cpu:
        console.print(f"recording: {time.monotonic() - t0:.0f} s wall, {rec_cpu:.0f} s CPU")
    if args.record_only:
        return

    # 2. observations
    analyzer = analyzer_hash()
    obs_dir = folder / f"obs-{SAMPLE_FPS:g}fps-{analyzer}"
    if args.reanalyse and obs_dir.exists():
        import shutil

        shutil.rmtree(obs_dir)
    t0 = time.monotonic()
    mine = [o for o in offices if not args.site or o.slug in args.site]
    an_cpu, footage_s = analyse_all(console, obs_dir, folder, mine, days, args)
    if footage_s:
        console.print(
            f"analysis: {footage_s / 3600:,.0f} h of footage in {time.monotonic() - t0:.0f} s "
            f"wall, {an_cpu:.0f} s CPU ({footage_s / max(an_cpu, 1e-9):,.0f}x real time per core)"
        )
    if analyzer_hash() != analyzer:
        console.print("[yellow]warning: the analyzer's sources changed during this run[/]")

    # 3. verdicts and scores
    rules = default_city_rules()
    results: list[DayResult] = []
    pending: list[str] = []
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    verdict_cpu = 0.0
    for i, o in enumerate(offices):
        truth = read_truth_days(folder / o.slug / "groundtruth.jsonl", o.slug, o.world.profile.name)
        rows = load_rows(obs_dir / o.slug / "rows.jsonl")
        done_file = obs_dir / o.slug / "done.json"
        analysed = set(json.loads(done_file.read_text())) if done_file.exists() else set()
        for d in days:
            if d not in truth and not schedule_for_day(rules, d).working:
                truth[d] = day_off(o.slug, o.world.profile.name, d)
            if d not in truth:
                continue
            if truth[d].working and d.isoformat() not in analysed:
                pending.append(f"{o.slug} {d}")  # not analysed yet (or being analysed)
                continue
            a = resource.getrusage(resource.RUSAGE_SELF)
            v = decide_day(
                rows.get(d, []),
                schedule_for_day(rules, d),
                cfg,
                tz=TZ,
                tz_label="WITA",
                site_id=i + 1,
            )
            b = resource.getrusage(resource.RUSAGE_SELF)
            verdict_cpu += (b.ru_utime + b.ru_stime) - (a.ru_utime + a.ru_stime)
            results.append(
                DayResult(
                    truth[d], expected_status(truth[d], cfg), v, minutes_of(rows.get(d, []), d, cfg)
                )
            )
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    f = figures(results)
    console.print()
    console.print(
        f"{len(offices)} offices x {n_days} days from {args.start} ({f['working']} working "
        f"office-days and {f['days'] - f['working']} days off scored), "
        f"{VIEW} camera {SIZE[0]}x{SIZE[1]}, one frame per {args.interval:g} s, "
        f"{HOURS[0]:g}–{HOURS[1]:g} h local; analysed at {SAMPLE_FPS:g} fps; verdicts "
        f"{1000 * verdict_cpu / max(1, len(results)):.1f} ms CPU per office-day "
        f"(scoring {(ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime):.1f} s CPU)"
    )
    if pending:
        console.print(f"[yellow]not scored, no finished analysis: {', '.join(pending)}[/]")
    console.print(main_table(f, "Verdict accuracy against the simulator's ground truth"))
    console.print(confusion(results))
    console.print(offices_table(results))

    wrong = [r for r in results if not r.correct]
    slow = [
        r
        for r in results
        if r.correct and r.opening_scored and abs(r.opening_error or 0) > cfg.grace
    ]
    probe = SceneProbe(offices)
    causes = Counter(diagnose(r, cfg)[0] for r in wrong)
    if wrong:
        tab = Table(title=f"Wrong days by cause ({len(wrong)})")
        tab.add_column("cause")
        tab.add_column("days", justify="right")
        tab.add_column("expected → verdict")
        for cause, n in causes.most_common():
            pairs = Counter(
                f"{SHORT[r.expected.status]}→{SHORT[r.verdict.status]}"
                for r in wrong
                if diagnose(r, cfg)[0] == cause
            )
            tab.add_row(cause, str(n), ", ".join(f"{k} x{v}" for k, v in pairs.most_common()))
        console.print(tab)
    if slow:
        console.print(
            f"{len(slow)} right day(s) with an opening error over {cfg.grace} min: "
            + ", ".join(f"{r.truth.slug} {r.truth.day} {r.opening_error:+.1f}" for r in slow)
        )
    if args.verbose:
        replay = ArrivalReplay(
            folder, probe, Settings.model_validate({"data_dir": str(obs_dir / "data")})
        )
        for title, items in (("Wrong days", wrong), ("Right status, opening off by > grace", slow)):
            if not items:
                continue
            console.print(f"\n[bold]{title}[/]")
            for r in items:
                cause, line = diagnose(r, cfg, probe, replay)
                console.print(f"- {describe(r)}\n      cause: {cause}; {line}", highlight=False)
    out = folder / "verdict-accuracy.json"
    out.write_text(
        json.dumps(
            {
                "figures": f,
                "causes": dict(causes),
                "days": [
                    {
                        "site": r.truth.slug,
                        "profile": r.truth.profile,
                        "day": r.truth.day.isoformat(),
                        "expected": r.expected.status,
                        "why": r.expected.why,
                        "verdict": r.verdict.status,
                        "reason": r.verdict.reason,
                        "opening_error": r.opening_error,
                        "closing_error": r.closing_error,
                    }
                    for r in results
                ],
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    console.print(f"per-day results: {out}")


if __name__ == "__main__":
    main()
