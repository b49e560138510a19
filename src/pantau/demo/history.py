"""Simulated history: the offices' past from the simulator's ground truth, through the real
incident rules and the real verdict store, marked with `Site.history_simulated_until`.

Each site is extended from its marker (or from the first day asked) up to a given instant in
one transaction: observation and health rows, the incidents the rules find in them, the
verdicts of the days touched, and the new marker. So a crash leaves either the whole step or
none of it, and a second run starts where the first stopped — nothing is written twice.
Rows go straight to the driver: executemany on SQLite (the demo's database), COPY on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from pantau.config.model import Settings
from pantau.demo.minutes import MINUTE, CameraMinutes, camera_minutes
from pantau.incidents.hours import widened, working_hours
from pantau.incidents.rules import MinuteFacts, detect, offline_incidents
from pantau.incidents.store import upsert_incidents
from pantau.incidents.windows import allowed_predicate, stored_windows
from pantau.registry.schedule import site_days
from pantau.sim.world import World
from pantau.store.models import Camera, Incident, Observation, Site, VerdictRow
from pantau.store.types import utcnow
from pantau.verdicts.store import day_bounds, recompute_pairs

SOURCE = "sim"  # Observation.source of every generated row
RESOLVED_AFTER = timedelta(hours=24)  # older simulated incidents arrive already resolved
RESOLVE_NOTE = "Data simulasi pantau demo: diselesaikan otomatis."
FPS, KBPS = 5.0, 350.0  # what the live simulated cameras send


@dataclass
class SimCamera:
    camera_id: int
    world: World
    view: str = "interior"
    seed: int = 0


@dataclass
class SimSite:
    site_id: int
    slug: str
    cameras: list[SimCamera] = field(default_factory=list)
    code: str = ""
    profile: str = "punctual"


@dataclass
class StepReport:
    minutes: int = 0
    observations: int = 0
    health: int = 0
    incidents: int = 0
    verdicts: int = 0

    def add(self, other: StepReport) -> None:
        for key in vars(self):
            setattr(self, key, getattr(self, key) + getattr(other, key))


class _Sample(NamedTuple):
    camera_id: int
    minute: datetime
    state: str


def floor_minute(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def history_start(settings: Settings, days: int, now: datetime) -> datetime:
    """Local midnight `days` days before today: the first instant of the history."""
    tz = ZoneInfo(settings.city.timezone)
    today = now.astimezone(tz).date()
    return day_bounds(today - timedelta(days=days), tz)[0]


def has_real_data_after(session: Session, site_id: int, since: datetime) -> bool:
    """True once a real (not generated) observation exists at or after `since`: the site has
    gone live, and simulating over that would mix the two under one marker."""
    query = select(
        exists()
        .where(Observation.camera_id == Camera.id)
        .where(Camera.site_id == site_id)
        .where(Observation.minute >= since)
        .where(Observation.source != SOURCE)
    )
    return bool(session.scalar(query))


# ---- rows ---------------------------------------------------------------------------------------


def _minute_texts(start: datetime, n: int) -> list[str]:
    """Naive UTC as SQLAlchemy stores DateTime on SQLite ('2026-11-01 07:30:00.000000')."""
    base = np.datetime64(start.replace(tzinfo=None), "m")
    stamps = np.datetime_as_string(base + np.arange(n), unit="us")
    return [s.replace("T", " ") for s in stamps.tolist()]


_OBS_COLS = (
    "camera_id, minute, people_max, people_mean, zones, motion_pct, light_level, lights_on, "
    "ir_mode, tamper, coverage_seconds, samples, detector_runs, source, updated_at"
)
_HEALTH_COLS = "camera_id, minute, state, online_seconds, fps, kbps, reconnects, reason"


def _tuples(
    camera_id: int, m: CameraMinutes, minutes: list[Any], stamp: Any
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Observation and health rows in column order (`_OBS_COLS`, `_HEALTH_COLS`)."""
    cov = m.coverage.tolist()
    online = (m.coverage >= 30.0).tolist()
    back = [False] + [online[i] and not online[i - 1] for i in range(1, m.n)]
    health = [
        (
            camera_id,
            minutes[i],
            "online" if online[i] else "offline",
            cov[i],
            FPS if online[i] else 0.0,
            KBPS if online[i] else 0.0,
            1 if back[i] else 0,  # the video came back: one reconnect
            None if online[i] else m.offline_reason[i],
        )
        for i in range(m.n)
    ]
    people = m.people_max.tolist()
    mean = m.people_mean.tolist()
    lights = m.lights_on.tolist()
    level = m.light_level.tolist()
    ir = m.ir_mode.tolist()
    obs = [
        (
            camera_id,
            minutes[i],
            people[i],
            mean[i],
            "{}",
            round(0.4 + 0.5 * people[i], 2) if people[i] else 0.0,
            level[i],
            lights[i],
            ir[i],
            f'{{"{m.tamper[i]}": 0.9}}' if m.tamper[i] else "{}",
            cov[i],
            round(cov[i]),
            # the detector looks while people are in view, and on the empty room's heartbeat
            (2 if people[i] or i % 5 == 0 else 0) if online[i] else 0,
            SOURCE,
            stamp,
        )
        for i in range(m.n)
        if cov[i] >= 1.0  # a minute with no video has no observation, as live
    ]
    return obs, health


def _write_sqlite(
    session: Session, obs: list[tuple[Any, ...]], health: list[tuple[Any, ...]]
) -> None:
    """Tuples straight into the driver's executemany (a C loop over one statement)."""
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        cursor.executemany(
            f"INSERT OR IGNORE INTO health_sample ({_HEALTH_COLS}) VALUES (?,?,?,?,?,?,?,?)",
            health,
        )
        cursor.executemany(
            f"INSERT OR IGNORE INTO observation ({_OBS_COLS}) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            obs,
        )
    finally:
        cursor.close()


def _write_postgresql(
    session: Session, obs: list[tuple[Any, ...]], health: list[tuple[Any, ...]]
) -> None:
    """COPY into a temporary table, then insert what is not there yet (COPY alone cannot
    skip a row that exists)."""
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        for table, cols, rows in (
            ("health_sample", _HEALTH_COLS, health),
            ("observation", _OBS_COLS, obs),
        ):
            if not rows:
                continue
            tmp = f"demo_{table}"
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {tmp} "
                f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            with cur.copy(f"COPY {tmp} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {tmp} ON CONFLICT DO NOTHING"
            )
            cur.execute(f"DELETE FROM {tmp}")


def write_minutes(
    session: Session, camera_id: int, m: CameraMinutes, stamp: datetime
) -> tuple[int, int]:
    """Store the minutes; a (camera, minute) that already has a row keeps it."""
    if m.n <= 0:
        return 0, 0
    naive = stamp.astimezone(UTC).replace(tzinfo=None)
    if session.get_bind().dialect.name == "sqlite":
        obs, health = _tuples(
            camera_id, m, _minute_texts(m.start, m.n), naive.isoformat(" ", "microseconds")
        )
        _write_sqlite(session, obs, health)
    else:
        start = m.start.astimezone(UTC).replace(tzinfo=None)
        minutes = [start + i * MINUTE for i in range(m.n)]
        obs, health = _tuples(camera_id, m, minutes, naive)
        _write_postgresql(session, obs, health)
    return len(obs), len(health)


# ---- incidents ---------------------------------------------------------------------------------


def _scheduled_mask(
    session: Session, site: Site, settings: Settings, m: CameraMinutes
) -> np.ndarray:
    tz = ZoneInfo(settings.city.timezone)
    margins = settings.analytics.intrusion_margins.margins()
    first = m.start.astimezone(tz).date()
    last = m.minute(m.n - 1).astimezone(tz).date()
    mask = np.zeros(m.n, dtype=bool)
    for day in site_days(session, site, first, last):
        hours = working_hours(day)
        if hours is None:
            continue
        span = widened(day.day, hours, margins)
        a, b = (t.replace(tzinfo=tz).astimezone(UTC) for t in span)
        i0 = max(0, int(-(-(a - m.start).total_seconds() // 60)))
        i1 = min(m.n, int(-(-(b - m.start).total_seconds() // 60)))
        if i1 > i0:
            mask[i0:i1] = True
    return mask


def find_incidents(
    session: Session, settings: Settings, site: Site, camera_id: int, m: CameraMinutes
) -> list[Incident]:
    """The real rules over the minutes that can matter (people outside office hours, tamper,
    offline) plus the last minute, which tells the rules where the data ends."""
    if m.n <= 0:
        return []
    scheduled = _scheduled_mask(session, site, settings, m)
    seen = m.coverage >= 1.0
    flagged = np.array([t is not None for t in m.tamper], dtype=bool)
    pick = seen & (((m.people_max > 0) & ~scheduled) | flagged)
    pick[m.n - 1] = True
    obs = [
        MinuteFacts(
            camera_id,
            m.minute(i),
            int(m.people_max[i]) if seen[i] else 0,
            {m.tamper[i]: 0.9} if m.tamper[i] else {},
        )
        for i in np.flatnonzero(pick)
    ]
    online = m.coverage >= 30.0
    down = np.flatnonzero(~online).tolist()
    samples = [_Sample(camera_id, m.minute(i), "offline") for i in down]
    if not down or down[-1] != m.n - 1:
        samples.append(_Sample(camera_id, m.minute(m.n - 1), "online"))
    allowed = allowed_predicate(stored_windows(site.allowed_windows), settings.city.timezone)
    specs = detect(obs, scheduled=lambda _m: False, allowed=allowed)
    specs += offline_incidents(samples)
    return upsert_incidents(session, specs)


def settle_old(rows: Iterable[Incident], now: datetime) -> None:
    """Simulated alarms of days gone by arrive resolved; the last day's wait for an operator."""
    for row in rows:
        if row.state == "new" and row.start < now - RESOLVED_AFTER:
            row.state = "resolved"
            row.resolved_by = "pantau demo"
            row.resolved_at = (row.end or row.start) + timedelta(minutes=20)
            row.note = RESOLVE_NOTE


# ---- one step of one site ------------------------------------------------------------------


def local_days(settings: Settings, start: datetime, end: datetime) -> list[date]:
    tz = ZoneInfo(settings.city.timezone)
    first = start.astimezone(tz).date()
    last = (end - MINUTE).astimezone(tz).date()
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def extend_site(
    session: Session,
    settings: Settings,
    sim: SimSite,
    start: datetime,
    end: datetime,
    *,
    derive: bool = True,
    move_marker: bool = True,
    now: datetime | None = None,
) -> StepReport:
    """Simulate [start, end) for one site and move its marker to `end` (caller's transaction).

    `derive`: also run the incident rules and recompute the verdicts of the days touched
    (the running hub does both on its own for the minutes the live feed adds).
    """
    now = now or utcnow()
    report = StepReport()
    n = int((end - start) // MINUTE)
    site = session.get(Site, sim.site_id)
    if site is None or n <= 0:
        return report
    report.minutes = n
    found: list[Incident] = []
    for cam in sim.cameras:
        m = camera_minutes(cam.world, cam.view, start, n)
        o, h = write_minutes(session, cam.camera_id, m, now)
        report.observations += o
        report.health += h
        if derive:
            found += find_incidents(session, settings, site, cam.camera_id, m)
    settle_old(found, now)
    report.incidents = len(found)
    if derive:
        pairs = [(site.id, d) for d in local_days(settings, start, end)]
        done = recompute_pairs(session, settings, pairs, now=now)
        report.verdicts = done.total
    if move_marker and (site.history_simulated_until or start) <= end:
        site.history_simulated_until = end
    session.flush()
    return report


def forward_steps(
    session: Session,
    settings: Settings,
    sites: Sequence[SimSite],
    days: int,
    end: datetime,
) -> list[tuple[SimSite, datetime]]:
    """Where each site's forward step starts: at its marker, or `days` back on a first run.
    Sites already up to date, or gone live since their marker, are left out."""
    floor = history_start(settings, days, end)
    steps = []
    for sim in sites:
        site = session.get(Site, sim.site_id)
        if site is None or not sim.cameras:
            continue
        until = site.history_simulated_until
        if until is not None and has_real_data_after(session, site.id, until):
            continue
        start = floor if until is None else max(until, floor)
        if end - start >= MINUTE:
            steps.append((sim, start))
    return steps


def still_simulated(session: Session, sites: Sequence[SimSite]) -> list[SimSite]:
    """The sites whose data is still simulated (none has gone live since its marker)."""
    out = []
    for sim in sites:
        site = session.get(Site, sim.site_id)
        if site is None:
            continue
        until = site.history_simulated_until
        if until is None or not has_real_data_after(session, site.id, until):
            out.append(sim)
    return out


def missing_days(
    session: Session, settings: Settings, sites: Sequence[SimSite], days: int, now: datetime
) -> list[tuple[SimSite, date]]:
    """Whole past days (newest first) of simulated sites that have no verdict yet: the part
    of the history filled after the hub is up. A day's rows, incidents and verdict are
    written in one transaction, so a verdict computed after the day ended means the day is
    done; one computed during the day (the demo stopped then) is filled up."""
    tz = ZoneInfo(settings.city.timezone)
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days)
    by_id = {s.site_id: s for s in sites if s.cameras}
    done = {
        (site_id, day)
        for site_id, day, computed in session.execute(
            select(VerdictRow.site_id, VerdictRow.day, VerdictRow.computed_at)
            .where(VerdictRow.day >= first, VerdictRow.day < today)
            .where(VerdictRow.site_id.in_(list(by_id)))
        )
        if computed >= day_bounds(day, tz)[1]
    }
    out = []
    for k in range(1, days + 1):
        day = today - timedelta(days=k)
        for site_id, sim in by_id.items():
            if (site_id, day) not in done:
                out.append((sim, day))
    return out


def fill_day(
    sessions: Callable[[], Any], settings: Settings, sim: SimSite, day: date
) -> StepReport:
    """One whole past day of one site (its marker stays where it is)."""
    start, end = day_bounds(day, ZoneInfo(settings.city.timezone))
    with sessions() as session, session.begin():
        site = session.get(Site, sim.site_id)
        if site is None or site.history_simulated_until is None:
            return StepReport()
        end = min(end, site.history_simulated_until)
        if end - start < MINUTE:
            return StepReport()
        return extend_site(session, settings, sim, start, end, move_marker=False)


def fill_forward(
    sessions: Callable[[], Any],
    settings: Settings,
    sites: Sequence[SimSite],
    days: int,
    *,
    end: datetime | None = None,
    derive: bool = True,
    on_plan: Callable[[int], None] | None = None,
    progress: Callable[[SimSite, StepReport], None] | None = None,
) -> StepReport:
    """Bring every site's simulated history up to `end` (default: the last whole minute),
    starting `days` back on a first run. `on_plan` gets the number of minutes to do."""
    end = floor_minute(end or utcnow())
    total = StepReport()
    with sessions() as session:
        steps = forward_steps(session, settings, sites, days, end)
    if on_plan is not None:
        on_plan(sum(int((end - start) // MINUTE) for _, start in steps))
    for sim, start in steps:
        with sessions() as session, session.begin():
            step = extend_site(session, settings, sim, start, end, derive=derive)
        total.add(step)
        if progress is not None:
            progress(sim, step)
    return total
