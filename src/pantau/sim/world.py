"""The simulated world: one office's day planned from its profile, the calendar and a seed.

Everything is a pure function of (site, day, profile, seed, events): the same day always has
the same people at the same times, whether it is served live, recorded at 500x, or re-planned by
a benchmark that scores Pantau against it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from pantau.registry.calendar import CalendarRule, DaySchedule, default_city_rules, schedule_for_day
from pantau.sim.plan import DayPlan, Interval, Visit
from pantau.sim.profiles import OfficeSim, Profile, ScheduledEvent

TAMPER_KINDS = ("cover", "wall", "defocus", "blackout")


@dataclass
class TruthDay:
    """What really happened at the office that day (the measuring stick for verdicts)."""

    site_slug: str
    day: date
    working: bool
    rule: str
    scheduled_open: time | None
    scheduled_close: time | None
    opened_at: datetime | None = None  # first staff member in (UTC)
    closed_at: datetime | None = None  # last staff member out (UTC)
    closed_all_day: bool = False
    staff: int = 0
    visitors: int = 0
    notes: list[str] = field(default_factory=list)


def rng_for(*parts: object) -> np.random.Generator:
    """A generator seeded from stable text (hash() differs between processes)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


class World:
    """Plans days for one office."""

    def __init__(
        self,
        office: OfficeSim,
        profile: Profile,
        site_slug: str,
        *,
        tz: str = "Asia/Makassar",
        rules: list[CalendarRule] | None = None,
    ) -> None:
        self.office = office
        self.profile = profile
        self.slug = site_slug
        self.zone = ZoneInfo(tz)
        self.rules = rules if rules is not None else default_city_rules()
        self.seed = office.seed if office.seed is not None else 0
        self._cache: dict[date, tuple[DayPlan, TruthDay]] = {}

    # ---- helpers -------------------------------------------------------------------------

    def local(self, day: date, t: time | float) -> datetime:
        """UTC instant of a local time (or of hours-after-midnight as a float) on `day`."""
        if isinstance(t, time):
            t = t.hour + t.minute / 60 + t.second / 3600
        midnight = datetime.combine(day, time(0), tzinfo=self.zone)
        return (midnight + timedelta(hours=float(t))).astimezone(UTC)

    def _in_window(
        self, rng: np.random.Generator, day: date, earliest: time, latest: time
    ) -> datetime:
        a, b = self.local(day, earliest), self.local(day, latest)
        return a + timedelta(seconds=float(rng.uniform(0, (b - a).total_seconds())))

    def schedule(self, day: date) -> DaySchedule:
        return schedule_for_day(self.rules, day)

    # ---- planning ------------------------------------------------------------------------

    def day(self, day: date) -> tuple[DayPlan, TruthDay]:
        if day not in self._cache:
            self._cache[day] = self._plan(day)
            if len(self._cache) > 8:
                self._cache.pop(next(iter(self._cache)))
        return self._cache[day]

    def _plan(self, day: date) -> tuple[DayPlan, TruthDay]:
        rng = rng_for(self.slug, day.isoformat(), self.seed, self.profile.name)
        sched = self.schedule(day)
        plan = DayPlan(site_slug=self.slug, day=day)
        truth = TruthDay(self.slug, day, sched.working, sched.rule, sched.opens, sched.closes)
        p = self.profile
        prefix = f"{self.slug}/{day.isoformat()}"

        if sched.working and rng.random() < p.closed_probability:
            truth.closed_all_day = True
            truth.notes.append("kantor tidak buka (profil: kadang tutup)")
        elif sched.working:
            self._staff_day(rng, day, plan, truth, prefix)
        if sched.working and not truth.closed_all_day and "cleaner" in p.behaviours:
            self._cleaner(rng, day, plan, prefix)
        if "night_guard" in p.behaviours:
            start = self.local(day, 22.0) + timedelta(minutes=float(rng.uniform(-10, 10)))
            plan.visits.append(
                Visit(
                    f"{prefix}/guard",
                    "guard",
                    start,
                    start + timedelta(seconds=float(rng.uniform(60, 120))),
                    "walkthrough",
                )
            )
        if self.office.random_events:
            self._random_events(rng, day, plan, prefix)
        for i, event in enumerate(self.office.events):
            self._scheduled(event, day, plan, f"{prefix}/event-{i}")
        plan.visits.sort(key=lambda v: v.enter)
        return plan, truth

    def _staff_day(
        self, rng: np.random.Generator, day: date, plan: DayPlan, truth: TruthDay, prefix: str
    ) -> None:
        p = self.profile
        n = int(rng.integers(p.staff[0], p.staff[1] + 1))
        opened = self._in_window(rng, day, p.arrive.earliest, p.arrive.latest)
        leave_w = p.leave
        if day.weekday() == 4 and "friday_early" in p.behaviours and p.friday_leave:
            leave_w = p.friday_leave
        closed = self._in_window(rng, day, leave_w.earliest, leave_w.latest)
        later = sorted(opened + timedelta(minutes=float(rng.uniform(1, 45))) for _ in range(n - 1))
        arrivals = [opened, *later]
        departures = [closed] + [
            closed - timedelta(minutes=float(rng.uniform(1, 40))) for _ in range(n - 1)
        ]
        for k, (enter, leave) in enumerate(zip(arrivals, departures, strict=True)):
            leave = max(leave, enter + timedelta(minutes=30))
            spot = "counter" if k == 0 and n > 2 else "desk"
            plan.visits.append(
                Visit(f"{prefix}/staff-{k + 1}", "staff", enter, leave, spot, spot_index=k)
            )
        truth.opened_at = opened
        truth.closed_at = max(v.leave for v in plan.visits if v.role == "staff")
        truth.staff = n
        on = opened + timedelta(seconds=float(rng.uniform(30, 180)))
        off = truth.closed_at - timedelta(seconds=float(rng.uniform(10, 40)))
        plan.lights.append(Interval(on, off, "on"))
        if "visitors" in p.behaviours and p.visitors_per_hour > 0:
            t = opened + timedelta(minutes=10)
            end = truth.closed_at - timedelta(minutes=15)
            k = 0
            while True:
                t += timedelta(hours=float(rng.exponential(1 / p.visitors_per_hour)))
                if t >= end:
                    break
                stay = timedelta(minutes=float(rng.uniform(4, 20)))
                spot = "counter" if rng.random() < 0.6 else "visitor_chair"
                plan.visits.append(
                    Visit(
                        f"{prefix}/visitor-{k + 1}",
                        "visitor",
                        t,
                        min(t + stay, end),
                        spot,
                        spot_index=k % 3,
                    )
                )
                k += 1
            truth.visitors = k

    def _cleaner(self, rng: np.random.Generator, day: date, plan: DayPlan, prefix: str) -> None:
        enter = self.local(day, 6.5) + timedelta(minutes=float(rng.uniform(-10, 10)))
        leave = enter + timedelta(minutes=float(rng.uniform(15, 30)))
        plan.visits.append(Visit(f"{prefix}/cleaner", "cleaner", enter, leave, "wander"))
        if rng.random() < 0.5:  # some cleaners switch the lights on: lights alone are not opening
            plan.lights.append(
                Interval(enter + timedelta(seconds=20), leave - timedelta(seconds=20), "on")
            )

    def _random_events(
        self, rng: np.random.Generator, day: date, plan: DayPlan, prefix: str
    ) -> None:
        if rng.random() < 1 / 20:
            start = self.local(day, float(rng.uniform(0.5, 4.5)))
            plan.visits.append(
                Visit(
                    f"{prefix}/intruder",
                    "intruder",
                    start,
                    start + timedelta(minutes=float(rng.uniform(2, 6))),
                    "wander",
                )
            )
        if rng.random() < 1 / 25:
            kind = TAMPER_KINDS[int(rng.integers(len(TAMPER_KINDS)))]
            start = self.local(day, float(rng.uniform(0, 23)))
            plan.tamper.append(
                Interval(
                    start,
                    start + timedelta(minutes=float(rng.uniform(10, 60))),
                    kind,
                    self._view(rng),
                )
            )
        if rng.random() < 1 / 15:
            start = self.local(day, float(rng.uniform(0, 22)))
            plan.outages.append(
                Interval(
                    start,
                    start + timedelta(minutes=float(rng.uniform(20, 180))),
                    "camera",
                    self._view(rng),
                )
            )
        if rng.random() < 1 / 30:
            start = self.local(day, float(rng.uniform(0, 20)))
            plan.outages.append(
                Interval(start, start + timedelta(hours=float(rng.uniform(1, 6))), "site")
            )

    @staticmethod
    def _view(rng: np.random.Generator) -> str:
        return "interior" if rng.random() < 0.6 else "entrance"

    def _scheduled(self, event: ScheduledEvent, day: date, plan: DayPlan, actor: str) -> None:
        start = parse_local(event.at, self.zone)
        if start.astimezone(self.zone).date() != day:
            return
        end = start + timedelta(minutes=event.minutes)
        if event.kind == "intruder":
            plan.visits.append(Visit(actor, "intruder", start, end, "wander"))
        elif event.kind in TAMPER_KINDS:
            plan.tamper.append(Interval(start, end, event.kind, event.view or "interior"))
        else:
            scope = "site" if event.kind == "site_offline" else "camera"
            plan.outages.append(
                Interval(start, end, scope, None if scope == "site" else event.view or "interior")
            )

    # ---- queries at an instant -------------------------------------------------------------

    def state_at(self, at: datetime, view: str) -> tuple[list[Visit], bool, str | None, bool]:
        """(people present, lights on, tamper kind, camera offline) for one view at `at`."""
        local_day = at.astimezone(self.zone).date()
        present: list[Visit] = []
        lights = False
        tamper = None
        offline = False
        for d in (local_day - timedelta(days=1), local_day):  # visits may cross midnight
            plan, _ = self.day(d)
            present += [v for v in plan.visits if v.enter <= at < v.leave and view in v.views]
            lights = lights or any(i.start <= at < i.end for i in plan.lights)
            for i in plan.tamper:
                if i.start <= at < i.end and i.view in (None, view):
                    tamper = i.kind
            offline = offline or any(
                i.start <= at < i.end and i.view in (None, view) for i in plan.outages
            )
        return present, lights, tamper, offline


def parse_local(text: str, zone: ZoneInfo) -> datetime:
    """'2026-12-01 23.40' (or ISO) in the city's zone -> aware UTC."""
    cleaned = text.strip().replace("T", " ")
    date_part, _, time_part = cleaned.partition(" ")
    time_part = time_part.replace(".", ":") or "00:00"
    try:
        naive = datetime.fromisoformat(f"{date_part} {time_part}")
    except ValueError as exc:
        raise ValueError(f"cannot read local time {text!r}; write e.g. 2026-12-01 23.40") from exc
    if naive.tzinfo is None:
        naive = naive.replace(tzinfo=zone)
    return naive.astimezone(UTC)
