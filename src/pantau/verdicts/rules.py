"""The daily opening-hours verdict: one site's observations + its schedule for a day -> a status.

Pure and deterministic: no clock, no database, rows in any order, duplicates and stray rows
harmless. The same rows, schedule and settings always give the same `Verdict`, so a day can be
recomputed whenever late observations arrive. The rules, and why each threshold is what it is,
are in docs/verdicts.md; the short version:

* A minute is *seen* when some camera watching the service area analysed at least
  `min_seen_seconds` of it and was not tampered; *staffed* when such a camera counted people in
  the service zone with the lights not reported off.
* A *session* is a run of staffed minutes (gaps shorter than `split_gap`) that holds
  `min_present` of `window` minutes, spans at least `min_session` minutes and, on working
  days, overlaps the scheduled hours. Opening = start of the first session, closing = end of
  the last, each stretched over the adjacent minutes with people (the lights go on a minute or
  two after the first person comes in), then over lit minutes with motion (a clerk sitting
  still at the counter whom the detector does not find).
* **Unknown is not late.** Every judgement is made twice: with unseen minutes as empty (what
  was seen) and as staffed (the most favourable reading). A bad status needs both readings to
  agree and the decisive window to be `min_coverage` seen; otherwise `tidak_diketahui`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from pantau.registry.calendar import DaySchedule, format_hhmm
from pantau.verdicts.config import VerdictConfig

__all__ = [
    "RULES_VERSION",
    "STATUSES",
    "STATUS_LABELS",
    "Coverage",
    "Presence",
    "RowStats",
    "Verdict",
    "decide_day",
]

RULES_VERSION = "2"
"""Bump when the rules change meaning, so stored verdicts computed by older code are found."""

TEPAT_WAKTU = "tepat_waktu"
TERLAMBAT = "terlambat"
TERLAMBAT_BERAT = "terlambat_berat"
TIDAK_BUKA = "tidak_buka"
PULANG_CEPAT = "pulang_cepat"
LIBUR = "libur"
TIDAK_DIKETAHUI = "tidak_diketahui"
STATUSES = (
    TEPAT_WAKTU,
    TERLAMBAT,
    TERLAMBAT_BERAT,
    TIDAK_BUKA,
    PULANG_CEPAT,
    LIBUR,
    TIDAK_DIKETAHUI,
)
STATUS_LABELS = {
    TEPAT_WAKTU: "Tepat waktu",
    TERLAMBAT: "Terlambat",
    TERLAMBAT_BERAT: "Terlambat berat",
    TIDAK_BUKA: "Tidak buka",
    PULANG_CEPAT: "Pulang cepat",
    LIBUR: "Libur",
    TIDAK_DIKETAHUI: "Tidak diketahui",
}

MINUTE = timedelta(minutes=1)


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class Coverage:
    """How much of [start, end) was seen; an empty window counts as fully seen."""

    start: datetime
    end: datetime
    minutes: int
    seen_minutes: int

    @property
    def fraction(self) -> float:
        return 1.0 if self.minutes <= 0 else round(self.seen_minutes / self.minutes, 4)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "minutes": self.minutes,
            "seen_minutes": self.seen_minutes,
            "fraction": self.fraction,
        }


@dataclass(frozen=True)
class Presence:
    """A minute with people and the camera that saw them (lowest id if several): evidence."""

    minute: datetime
    camera_id: int

    def to_dict(self) -> dict[str, Any]:
        return {"minute": _iso(self.minute), "camera_id": self.camera_id}


@dataclass(frozen=True)
class RowStats:
    """What happened to the input rows, so a verdict built on odd data says so.

    total = used + not_service_area + duplicates + outside_day + invalid, where used and
    not_service_area count distinct camera-minutes (duplicates are merged into them).
    """

    total: int = 0
    used: int = 0
    duplicates: int = 0
    outside_day: int = 0
    invalid: int = 0
    not_service_area: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "used": self.used,
            "duplicates": self.duplicates,
            "outside_day": self.outside_day,
            "invalid": self.invalid,
            "not_service_area": self.not_service_area,
        }


@dataclass(frozen=True)
class Verdict:
    """One site on one local day. Times are aware UTC; `reason` is for people (WITA).

    opened_at / closed_at are what the cameras saw (start of the first, end of the last
    session); whether they could be judged is in opening_status / closing_status. The
    *_earliest / *_latest times are the most favourable reading of unseen minutes (equal to
    the seen times when the view was clear); late and early minutes are measured from them so
    an outage never adds minutes to anybody's lateness.
    """

    day: date
    status: str
    working: bool
    schedule_rule: str
    schedule_reason: str
    reason: str
    rules_version: str
    config_digest: str
    site_id: int | None = None
    holiday_name: str | None = None
    scheduled_open: datetime | None = None
    scheduled_close: datetime | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    opened_earliest: datetime | None = None
    closed_latest: datetime | None = None
    opening_status: str | None = None
    closing_status: str | None = None
    late_minutes: int | None = None
    early_minutes: int | None = None
    staffed_minutes: int | None = None
    opening_coverage: Coverage | None = None
    closing_coverage: Coverage | None = None
    service_coverage: Coverage | None = None
    day_coverage: Coverage | None = None
    first_presence: Presence | None = None
    last_presence: Presence | None = None
    cameras: tuple[int, ...] = ()
    rows: RowStats = field(default_factory=RowStats)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (ISO UTC strings, ISO date), same output for the same day."""

        def cov(c: Coverage | None) -> dict[str, Any] | None:
            return None if c is None else c.to_dict()

        return {
            "site_id": self.site_id,
            "day": self.day.isoformat(),
            "status": self.status,
            "label": self.label,
            "reason": self.reason,
            "working": self.working,
            "schedule": {
                "rule": self.schedule_rule,
                "reason": self.schedule_reason,
                "holiday_name": self.holiday_name,
                "open": _iso(self.scheduled_open),
                "close": _iso(self.scheduled_close),
            },
            "opened_at": _iso(self.opened_at),
            "closed_at": _iso(self.closed_at),
            "opened_earliest": _iso(self.opened_earliest),
            "closed_latest": _iso(self.closed_latest),
            "opening_status": self.opening_status,
            "closing_status": self.closing_status,
            "late_minutes": self.late_minutes,
            "early_minutes": self.early_minutes,
            "staffed_minutes": self.staffed_minutes,
            "coverage": {
                "opening": cov(self.opening_coverage),
                "closing": cov(self.closing_coverage),
                "service": cov(self.service_coverage),
                "day": cov(self.day_coverage),
            },
            "evidence": {
                "first_presence": None
                if self.first_presence is None
                else self.first_presence.to_dict(),
                "last_presence": None
                if self.last_presence is None
                else self.last_presence.to_dict(),
            },
            "cameras": list(self.cameras),
            "rows": self.rows.to_dict(),
            "rules_version": self.rules_version,
            "config_digest": self.config_digest,
        }


# ---- input rows ------------------------------------------------------------------------------


def _getter(row: Any) -> Callable[[str], Any]:
    """Read a field of a dict row (pipeline, JSON) or of an object row (ORM) alike."""
    if isinstance(row, dict | Mapping):
        return row.get
    return lambda name: getattr(row, name, None)


def _is_map(value: Any) -> bool:
    return isinstance(value, dict | Mapping)


def _number(value: Any) -> float:
    if type(value) is float or type(value) is int:
        return 0.0 if value != value else float(value)  # NaN is no number
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return 0.0
    v = float(value)
    return 0.0 if math.isnan(v) else v


def _zone_max(value: Any) -> float:
    return _number(value.get("max")) if _is_map(value) else _number(value)


@dataclass
class _CamMinute:
    """One camera-minute after merging duplicates (order-independent: max / any)."""

    coverage: float = 0.0
    people: float = 0.0
    zones: dict[str, float] = field(default_factory=dict)
    lights_on: bool | None = None
    motion: float = 0.0
    tampered: bool = False

    def merge(self, get: Callable[[str], Any]) -> None:
        self.coverage = max(self.coverage, min(60.0, max(0.0, _number(get("coverage_seconds")))))
        self.people = max(self.people, _number(get("people_max")))
        zones = get("zones")
        if zones and _is_map(zones):
            for name, value in zones.items():
                key = str(name).strip().casefold()
                self.zones[key] = max(self.zones.get(key, 0.0), _zone_max(value))
        self.motion = max(self.motion, _number(get("motion_pct")))
        lights = get("lights_on")
        if lights is True or (lights is False and self.lights_on is None):
            self.lights_on = lights  # any "on" wins: one copy saw the lights
        tamper = get("tamper")
        if tamper and _is_map(tamper) and any(v is True or _number(v) > 0 for v in tamper.values()):
            self.tampered = True


@dataclass
class _Day:
    """Per-minute facts of the whole local day (index 0 = local midnight)."""

    start: datetime  # UTC instant of local midnight
    n: int
    tz: ZoneInfo
    seen: np.ndarray
    present: np.ndarray  # people in the service area (lights not considered)
    staffed: np.ndarray  # present, and lights not reported off
    active: np.ndarray  # motion in a room the camera reports lit
    moving: np.ndarray  # motion, whatever the lights
    camera: np.ndarray  # lowest camera id with people, else with motion; -1 if none
    cameras: tuple[int, ...]
    stats: RowStats

    def at(self, i: int) -> datetime:
        return self.start + i * MINUTE

    def index(self, t: time, day: date) -> int:
        """Minute index of local time `t` on `day`, clamped to the day."""
        local = datetime.combine(day, t, tzinfo=self.tz).astimezone(UTC)
        i = math.ceil((local - self.start) / MINUTE)
        return min(max(i, 0), self.n)

    def index_of(self, dt: datetime) -> int:
        return int((dt - self.start) // MINUTE)

    def coverage(self, a: int, b: int) -> Coverage:
        a, b = max(0, a), min(self.n, b)
        b = max(a, b)
        return Coverage(self.at(a), self.at(b), b - a, int(self.seen[a:b].sum()))


def _collect(rows: Iterable[Any], day: date, tz: ZoneInfo, cfg: VerdictConfig) -> _Day:
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    n = int((end - start) / MINUTE)
    merged: dict[tuple[int, int], _CamMinute] = {}
    total = duplicates = outside = invalid = 0
    for row in rows:
        total += 1
        get = _getter(row)
        camera_id, minute = get("camera_id"), get("minute")
        if (
            isinstance(camera_id, bool)
            or not isinstance(camera_id, numbers.Integral)
            or not isinstance(minute, datetime)
            or minute.utcoffset() is None
        ):
            invalid += 1
            continue
        camera_id = int(camera_id)
        offset = (minute - start) // MINUTE  # floors a minute given with seconds
        if not 0 <= offset < n:
            outside += 1  # another day, or an absurd clock (1970, 2000 after a camera reboot)
            continue
        key = (camera_id, int(offset))
        if key in merged:
            duplicates += 1
        else:
            merged[key] = _CamMinute()
        merged[key].merge(get)

    service = {z.casefold() for z in cfg.service_zones}
    min_seen, min_people = cfg.min_seen_seconds, cfg.min_people
    seen, present, staffed = bytearray(n), bytearray(n), bytearray(n)
    active, moving = bytearray(n), bytearray(n)
    camera = [-1] * n
    mover = [-1] * n
    used = not_service = 0
    cameras: set[int] = set()
    for (camera_id, i), cm in sorted(merged.items(), key=lambda kv: kv[0]):
        if cm.zones:
            mine = [v for k, v in cm.zones.items() if k in service]
            if not mine:
                not_service += 1  # a camera with zones, none of them the service area
                continue
            people = max(mine)
        else:
            people = cm.people
        used += 1
        cameras.add(camera_id)
        if cm.tampered or cm.coverage < min_seen:
            continue
        seen[i] = 1
        if cfg.activity_motion > 0 and cm.motion > cfg.activity_motion:
            moving[i] = 1
            if cm.lights_on is True:
                active[i] = 1
            if mover[i] < 0:
                mover[i] = camera_id
        if people >= min_people:
            present[i] = 1
            if camera[i] < 0:
                camera[i] = camera_id  # rows are sorted: the lowest id wins
            if not (cfg.require_lights and cm.lights_on is False):
                staffed[i] = 1
    stats = RowStats(total, used, duplicates, outside, invalid, not_service)
    camera = [c if c >= 0 else m for c, m in zip(camera, mover, strict=True)]
    return _Day(
        start,
        n,
        tz,
        np.frombuffer(bytes(seen), dtype=bool),
        np.frombuffer(bytes(present), dtype=bool),
        np.frombuffer(bytes(staffed), dtype=bool),
        np.frombuffer(bytes(active), dtype=bool),
        np.frombuffer(bytes(moving), dtype=bool),
        np.array(camera, dtype=np.int64),
        tuple(sorted(cameras)),
        stats,
    )


# ---- sessions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Session:
    start: int  # first minute, stretched back over adjacent minutes with people, then motion
    end: int  # exclusive, stretched forward likewise
    first_people: int  # first minute with people (the start before the walk over motion)
    last_people: int  # exclusive


@dataclass(frozen=True)
class _Minutes:
    """What the sessions are found on: one reading of the day (as seen, or favourable)."""

    staffed: np.ndarray
    present: np.ndarray
    active: np.ndarray
    moving: np.ndarray

    @classmethod
    def seen(cls, d: _Day) -> _Minutes:
        return cls(d.staffed, d.present, d.active, d.moving)

    @classmethod
    def favourable(cls, d: _Day) -> _Minutes:
        unseen = ~d.seen
        return cls(d.staffed | unseen, d.present | unseen, d.active | unseen, d.moving | unseen)


def _edge(m: _Minutes, i: int, limit: int, step: int, cfg: VerdictConfig) -> tuple[int, int]:
    """(outermost minute with people, outermost minute of the presence), walking from minute
    `i` towards `limit`: over minutes with people; then over lit minutes with motion, at most
    `activity_reach` of them; then over the motion of the minute or two before the lights went
    on (or after they went off)."""

    def bound(start: int, n: int) -> int:
        return max(limit, start - n) if step < 0 else min(limit, start + n)

    people = _stretch(m.present, i, limit, step, cfg.edge_gap)
    lit = _stretch(
        m.present | m.active, people, bound(people, cfg.activity_reach), step, cfg.edge_gap
    )
    dark = m.moving & ~m.active
    edge = _stretch(m.present | dark, lit, bound(lit, cfg.edge_gap + 1), step, cfg.edge_gap)
    return people, edge


def _sessions(
    m: _Minutes,
    lo: int,
    hi: int,
    cfg: VerdictConfig,
    overlap: tuple[int, int] | None,
) -> list[_Session]:
    """Sustained staffed presences within [lo, hi), in time order."""
    staffed = m.staffed
    if hi <= lo:
        return []
    idx = np.flatnonzero(staffed[lo:hi]) + lo
    if idx.size == 0:
        return []
    csum = np.concatenate(([0], np.cumsum(staffed, dtype=np.int64)))
    out: list[_Session] = []
    for run in np.split(idx, np.flatnonzero(np.diff(idx) > cfg.split_gap) + 1):
        a, b = int(run[0]), int(run[-1]) + 1
        # Windows are counted inside the run only, so the next run never props this one up.
        ahead = csum[np.minimum(run + cfg.window, b)] - csum[run]
        behind = csum[run + 1] - csum[np.maximum(run + 1 - cfg.window, a)]
        first = np.flatnonzero(ahead >= cfg.min_present)
        if first.size == 0:
            continue
        t = int(run[first[0]])
        u = int(run[np.flatnonzero(behind >= cfg.min_present)[-1]]) + 1
        if u - t < cfg.min_session:
            continue
        if overlap is not None and not (t < overlap[1] and u > overlap[0]):
            continue
        first, start = _edge(m, t, lo, -1, cfg)
        last, end = _edge(m, u - 1, hi - 1, 1, cfg)
        out.append(_Session(start, end + 1, first, last + 1))
    return out


def _stretch(present: np.ndarray, i: int, limit: int, step: int, gap: int) -> int:
    """Walk from minute `i` towards `limit` over minutes with people, bridging up to `gap`
    empty minutes (a missed detection); returns the outermost minute with people."""
    edge = i
    j = i + step
    while (j - limit) * step <= 0 and abs(j - edge) <= gap + 1:
        if present[j]:
            edge = j
        j += step
    return edge


# ---- wording ---------------------------------------------------------------------------------


class _Words:
    def __init__(self, d: _Day, label: str) -> None:
        self.d = d
        self.label = label

    def at(self, i: int) -> str:
        return f"{format_hhmm(self.d.at(i).astimezone(self.d.tz).time())} {self.label}"

    def hhmm(self, i: int) -> str:
        return format_hhmm(self.d.at(i).astimezone(self.d.tz).time())

    def seen(self, c: Coverage) -> str:
        a = self.hhmm(self.d.index_of(c.start))
        b = self.hhmm(self.d.index_of(c.end))
        return (
            f"kamera hanya melihat {c.seen_minutes} dari {c.minutes} menit "
            f"({round(100 * c.fraction)}%) antara {a} dan {b} {self.label}"
        )


# ---- the verdict -----------------------------------------------------------------------------


def decide_day(
    observations: Iterable[Any],
    schedule: DaySchedule,
    config: VerdictConfig | None = None,
    *,
    tz: str | ZoneInfo = "Asia/Makassar",
    tz_label: str = "WITA",
    site_id: int | None = None,
) -> Verdict:
    """The verdict of one site on `schedule.day` from the observation rows of its cameras.

    `observations`: mappings or objects with camera_id, minute (aware), people_max, zones,
    lights_on, coverage_seconds, tamper (the `observation` table's shape); rows of other days,
    with a naive or absurd time, and duplicates are tolerated and counted in `Verdict.rows`.
    `tz` is the city's zone (`city.timezone`); the schedule's times are local to it.
    """
    cfg = config or VerdictConfig()
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    day = schedule.day
    d = _collect(observations, day, zone, cfg)
    words = _Words(d, tz_label)

    base: dict[str, Any] = {
        "day": day,
        "working": schedule.working,
        "schedule_rule": schedule.rule,
        "schedule_reason": schedule.reason,
        "holiday_name": schedule.holiday_name,
        "rules_version": RULES_VERSION,
        "config_digest": cfg.digest(),
        "site_id": site_id,
        "cameras": d.cameras,
        "rows": d.stats,
    }

    def presence(i: int) -> Presence | None:
        cam = int(d.camera[i])
        return Presence(d.at(i), cam) if cam >= 0 else None

    if not schedule.working:
        lo, hi = d.index(cfg.earliest, day), d.index(cfg.latest, day)
        seen = _sessions(_Minutes.seen(d), lo, hi, cfg, None)
        reason = f"Libur: {schedule.reason}" if schedule.reason else "Libur"
        if seen:
            s, e = seen[0].start, seen[-1].end
            reason += f"; ada petugas {words.hhmm(s)}–{words.at(e)}"
        return Verdict(
            status=LIBUR,
            reason=reason,
            opened_at=d.at(seen[0].start) if seen else None,
            closed_at=d.at(seen[-1].end) if seen else None,
            first_presence=presence(seen[0].start) if seen else None,
            last_presence=presence(seen[-1].end - 1) if seen else None,
            day_coverage=d.coverage(lo, hi),
            **base,
        )

    if schedule.opens is None or schedule.closes is None:
        raise ValueError(f"{day.isoformat()}: a working day needs opening and closing hours")
    open_i, close_i = d.index(schedule.opens, day), d.index(schedule.closes, day)
    heavy_i = d.index(cfg.heavy_late_after, day)
    lead_i = max(0, open_i - cfg.lead)
    lo = min(d.index(cfg.earliest, day), lead_i)
    hi = max(d.index(cfg.latest, day), close_i)
    hours = (open_i, close_i)
    seen_s = _sessions(_Minutes.seen(d), lo, hi, cfg, hours)
    opt_s = _sessions(_Minutes.favourable(d), lo, hi, cfg, hours)
    opened = seen_s[0].start if seen_s else None
    closed = seen_s[-1].end if seen_s else None
    opened_opt = opt_s[0].start if opt_s else None
    closed_opt = opt_s[-1].end if opt_s else None
    if opened is not None and opened_opt is not None:
        opened_opt = min(opened_opt, opened)
    if closed is not None and closed_opt is not None:
        closed_opt = max(closed_opt, closed)

    # "Terlambat berat" is the complaint about offices that should open early in the morning;
    # on a day whose schedule itself opens at or near that hour it would only mean "late".
    heavy_applies = heavy_i > open_i + cfg.grace

    def open_status(i: int | None) -> str:
        if i is None:
            return TIDAK_BUKA
        if i - open_i <= cfg.grace:
            return TEPAT_WAKTU
        return TERLAMBAT_BERAT if heavy_applies and i >= heavy_i else TERLAMBAT

    seen_status, opt_status = open_status(opened), open_status(opened_opt)
    late_minutes: int | None = None
    if seen_status == TEPAT_WAKTU:
        # People seen at (or before) the scheduled time prove the office was open: no need to
        # have seen the morning before them.
        opening = TEPAT_WAKTU
        opening_cov = d.coverage(lead_i, opened if opened is not None else lead_i)
    elif opened is not None:
        opening_cov = d.coverage(lead_i, opened)
        ok = opening_cov.fraction >= cfg.min_coverage and opt_status == seen_status
        opening = seen_status if ok else TIDAK_DIKETAHUI
        if ok:
            assert opened_opt is not None
            late_minutes = opened_opt - open_i
    else:
        full = d.coverage(lead_i, close_i)
        morning = d.coverage(lead_i, heavy_i)
        if opt_status == TIDAK_BUKA and full.fraction >= cfg.min_coverage:
            opening, opening_cov = TIDAK_BUKA, full
        elif (
            heavy_applies
            and opt_status in (TIDAK_BUKA, TERLAMBAT_BERAT)
            and morning.fraction >= cfg.min_coverage
        ):
            # Seen empty until the heavy-late hour, not seen enough afterwards: whatever
            # happened later, it was not open before that hour.
            opening, opening_cov = TERLAMBAT_BERAT, morning
        else:
            opening, opening_cov = TIDAK_DIKETAHUI, morning if heavy_applies else full

    closing: str | None = None
    closing_cov: Coverage | None = None
    early_minutes: int | None = None
    if closed is not None:
        limit = close_i - cfg.grace
        if closed >= limit:
            closing = TEPAT_WAKTU
            closing_cov = d.coverage(closed, close_i)
        else:
            closing_cov = d.coverage(closed, close_i)
            assert closed_opt is not None
            ok = closing_cov.fraction >= cfg.min_coverage and closed_opt < limit
            closing = PULANG_CEPAT if ok else TIDAK_DIKETAHUI
            if ok:
                early_minutes = close_i - closed_opt

    status = opening
    if opening == TEPAT_WAKTU and closing == PULANG_CEPAT:
        status = PULANG_CEPAT

    # ---- reason, in Bahasa Indonesia -------------------------------------------------------
    jadwal = words.at(open_i)
    parts: list[str] = []
    if opening == TEPAT_WAKTU:
        assert opened is not None
        parts.append(f"Buka {words.at(opened)}, tepat waktu (jadwal {jadwal})")
    elif opening == TERLAMBAT and opened is not None:
        parts.append(
            f"Buka {words.at(opened)}, terlambat {late_minutes} menit dari jadwal {jadwal}"
        )
    elif opening == TERLAMBAT_BERAT and opened is not None:
        parts.append(
            f"Buka {words.at(opened)}, terlambat berat {late_minutes} menit dari jadwal "
            f"{jadwal} (buka pukul {words.at(heavy_i)} atau sesudahnya)"
        )
    elif opening == TERLAMBAT_BERAT:
        parts.append(
            f"Terlambat berat: belum ada petugas sampai {words.at(heavy_i)} (jadwal {jadwal}); "
            f"sesudah itu {words.seen(d.coverage(heavy_i, close_i))}"
        )
    elif opening == TIDAK_BUKA:
        parts.append(
            f"Tidak buka: tidak ada petugas terlihat selama jam layanan "
            f"{words.hhmm(open_i)}–{words.at(close_i)}"
        )
    else:
        text = f"Tidak diketahui: {words.seen(opening_cov)}"
        if opened is not None and opening_cov.fraction >= cfg.min_coverage:
            assert opened_opt is not None
            text = (
                f"Tidak diketahui: petugas terlihat {words.at(opened)}, tetapi kamera tidak "
                f"melihat tepat sebelumnya; kantor mungkin sudah buka sejak "
                f"{words.at(opened_opt)}"
            )
        elif opened is not None:
            text += f"; petugas pertama terlihat {words.at(opened)}"
        parts.append(text)
    if opening in (TEPAT_WAKTU, TERLAMBAT, TERLAMBAT_BERAT) and opened is not None:
        first_people = seen_s[0].first_people
        if first_people > opened:
            parts.append(
                f"ada gerakan sejak {words.at(opened)}, orang pertama terdeteksi "
                f"{words.at(first_people)}"
            )
    if closing == TEPAT_WAKTU and closed is not None:
        parts.append(f"tutup {words.at(closed)}")
    elif closing == PULANG_CEPAT and closed is not None:
        parts.append(
            f"pulang cepat: tutup {words.at(closed)}, {early_minutes} menit sebelum jadwal "
            f"{words.at(close_i)}"
        )
    elif closing == TIDAK_DIKETAHUI and closing_cov is not None and closed is not None:
        if closing_cov.fraction >= cfg.min_coverage:
            parts.append(
                f"jam tutup tidak diketahui: petugas terakhir terlihat {words.at(closed)}, "
                f"kamera tidak melihat tepat sesudahnya"
            )
        else:
            parts.append(f"jam tutup tidak diketahui: {words.seen(closing_cov)}")
    if closing in (TEPAT_WAKTU, PULANG_CEPAT) and closed is not None:
        last_people = seen_s[-1].last_people
        if last_people < closed:
            parts.append(
                f"orang terakhir terdeteksi {words.at(last_people)}, ada gerakan sampai "
                f"{words.at(closed)}"
            )

    return Verdict(
        status=status,
        reason="; ".join(parts),
        scheduled_open=d.at(open_i),
        scheduled_close=d.at(close_i),
        opened_at=d.at(opened) if opened is not None else None,
        closed_at=d.at(closed) if closed is not None else None,
        opened_earliest=d.at(opened_opt) if opened_opt is not None else None,
        closed_latest=d.at(closed_opt) if closed_opt is not None else None,
        opening_status=opening,
        closing_status=closing,
        late_minutes=late_minutes,
        early_minutes=early_minutes,
        staffed_minutes=int(d.staffed[open_i:close_i].sum()),
        opening_coverage=opening_cov,
        closing_coverage=closing_cov,
        service_coverage=d.coverage(open_i, close_i),
        day_coverage=d.coverage(lo, hi),
        first_presence=presence(opened) if opened is not None else None,
        last_presence=presence(closed - 1) if closed is not None else None,
        **base,
    )
