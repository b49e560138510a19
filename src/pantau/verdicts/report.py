"""Compliance reports: daily verdicts of many offices -> what leadership reads.

Pure: plain verdict dicts (`Verdict.to_dict()`), site metadata and corrections in, a `Report`
out; no database, no clock unless `today` is left out. Feeding it from storage is one query.
The rules, and why they are what they are (docs/reports.md):

* Percentages are over **judged** working days: a `tidak_diketahui` day (camera or link down
  when it mattered) is neither on time nor late, so it is left out of the rate and shown in its
  own column with how much was seen.
* A working day with an official correction (dinas luar, listrik padam ...) is **excused**: it
  counts as compliant in the corrected rate. Both rates are shown; ranking and trend use the
  corrected one, since the corrections are the city's own official word.
* Ranking goes from the best corrected on-time rate to the worst, ties broken by the earlier
  average opening time. Offices whose working days were mostly unknown are listed apart as
  "data tidak cukup", never at the bottom as if they had been late.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pantau.verdicts.labels import EXCUSED, fmt_date, fmt_month, label

__all__ = [
    "AppliedCorrection",
    "DayCell",
    "GroupReport",
    "Period",
    "Report",
    "ReportError",
    "Scope",
    "SeriesPoint",
    "SiteInfo",
    "SiteReport",
    "Stats",
    "Trend",
    "build_report",
]

PeriodKind = Literal["day", "week", "month", "year"]
ScopeKind = Literal["city", "kecamatan", "kelurahan"]

ON_TIME = "tepat_waktu"
LATE = "terlambat"
HEAVY = "terlambat_berat"
NOT_OPEN = "tidak_buka"
EARLY = "pulang_cepat"
HOLIDAY = "libur"
UNKNOWN = "tidak_diketahui"
_OPENING_SEEN = (ON_TIME, LATE, HEAVY)


class ReportError(ValueError):
    """A report that cannot be made (future or empty period, unknown area); the message is
    for people, in Bahasa Indonesia."""


# ---- period and scope --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A local calendar day, ISO week, month or year; `end` is inclusive."""

    kind: PeriodKind
    start: date
    end: date

    @classmethod
    def day(cls, day: date) -> Period:
        return cls("day", day, day)

    @classmethod
    def week(cls, year: int, week: int) -> Period:
        try:
            start = date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise ReportError(f"minggu {year}-W{week:02d} tidak ada") from exc
        return cls("week", start, start + timedelta(days=6))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        if not 1 <= month <= 12:
            raise ReportError(f"bulan {year}-{month:02d} tidak ada")
        start = date(year, month, 1)
        nxt = date(year + month // 12, month % 12 + 1, 1)
        return cls("month", start, nxt - timedelta(days=1))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls("year", date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def containing(cls, kind: PeriodKind, day: date) -> Period:
        if kind == "day":
            return cls.day(day)
        if kind == "week":
            iso = day.isocalendar()
            return cls.week(iso.year, iso.week)
        if kind == "month":
            return cls.month(day.year, day.month)
        return cls.year(day.year)

    @classmethod
    def parse(cls, text: str) -> Period:
        """ "2026-11-23" (day), "2026-W48" (ISO week), "2026-11" (month) or "2026" (year)."""
        s = text.strip()
        try:
            if m := re.fullmatch(r"(\d{4})-W(\d{1,2})", s, re.IGNORECASE):
                return cls.week(int(m[1]), int(m[2]))
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
                return cls.day(date.fromisoformat(s))
            if m := re.fullmatch(r"(\d{4})-(\d{1,2})", s):
                return cls.month(int(m[1]), int(m[2]))
            if re.fullmatch(r"\d{4}", s):
                return cls.year(int(s))
        except ValueError as exc:
            raise ReportError(f"periode {text!r} tidak valid: {exc}") from exc
        raise ReportError(
            f"periode {text!r} tidak dikenal; tulis 2026-11-23 (hari), 2026-W48 (minggu), "
            "2026-11 (bulan) atau 2026 (tahun)"
        )

    @property
    def key(self) -> str:
        """Stable text form, sortable within a kind ("2026-11", "2026-W48")."""
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            iso = self.start.isocalendar()
            return f"{iso.year}-W{iso.week:02d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        return f"{self.start:%Y}"

    @property
    def days(self) -> list[date]:
        n = (self.end - self.start).days + 1
        return [self.start + timedelta(days=i) for i in range(n)]

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> Period:
        """The period of the same kind just before (the previous day, week, month, year)."""
        return Period.containing(self.kind, self.start - timedelta(days=1))

    def title(self, lang: str = "id") -> str:
        if self.kind == "day":
            return fmt_date(self.start, lang)
        if self.kind == "week":
            iso = self.start.isocalendar()
            head = label("week_label", lang, week=iso.week, year=iso.year)
            a = fmt_date(self.start, lang, "d MMMM")
            return f"{head} ({a} – {fmt_date(self.end, lang, 'd MMMM y')})"
        if self.kind == "month":
            return fmt_month(self.start, lang)
        return str(self.start.year)


@dataclass(frozen=True)
class Scope:
    """The whole city, one kecamatan (code or name) or one kelurahan (code or site slug)."""

    kind: ScopeKind = "city"
    code: str | None = None

    @classmethod
    def city(cls) -> Scope:
        return cls("city")

    @classmethod
    def kecamatan(cls, code: str) -> Scope:
        return cls("kecamatan", code)

    @classmethod
    def kelurahan(cls, code: str) -> Scope:
        return cls("kelurahan", code)

    def matches(self, site: SiteInfo) -> bool:
        if self.kind == "city":
            return True
        want = (self.code or "").strip().casefold()
        if self.kind == "kecamatan":
            return want in {(site.kecamatan_code or "").casefold(), site.kecamatan.casefold()}
        return want in {(site.kelurahan_code or "").casefold(), site.slug.casefold()}


# ---- input -------------------------------------------------------------------------------------


def _get(obj: Any, *names: str) -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True)
class SiteInfo:
    """What a report needs to know about an office (`store.models.Site` has all of it)."""

    id: int
    slug: str
    name: str
    kecamatan: str
    kecamatan_code: str | None = None
    kelurahan_code: str | None = None

    @classmethod
    def of(cls, obj: Any) -> SiteInfo:
        """From a SiteInfo, a mapping (id or site_id, slug, name, kecamatan or kecamatan_name,
        kecamatan_code, kelurahan_code) or a `Site` row with its kecamatan loaded."""
        if isinstance(obj, SiteInfo):
            return obj
        kec = _get(obj, "kecamatan_name", "kecamatan")
        if kec is not None and not isinstance(kec, str):
            kec = getattr(kec, "name", None)
        site_id = _get(obj, "id", "site_id")
        if site_id is None:
            raise ReportError(f"data kantor tanpa id: {obj!r}")
        name = _get(obj, "name") or f"Kantor {site_id}"
        return cls(
            id=int(site_id),
            slug=str(_get(obj, "slug") or site_id),
            name=str(name),
            kecamatan=str(kec or _get(obj, "kecamatan_code") or "–"),
            kecamatan_code=_get(obj, "kecamatan_code"),
            kelurahan_code=_get(obj, "kelurahan_code"),
        )


@dataclass(frozen=True)
class AppliedCorrection:
    """An admin's official reason for a day; `raw_status` is what the cameras said."""

    site_id: int
    day: date
    reason: str
    note: str = ""
    raw_status: str | None = None
    excused: bool = False

    @classmethod
    def of(cls, obj: Any) -> AppliedCorrection:
        return cls(
            site_id=int(_get(obj, "site_id")),
            day=_as_date(_get(obj, "day", "date")),
            reason=str(_get(obj, "reason") or ""),
            note=str(_get(obj, "note") or ""),
        )


# ---- aggregation ---------------------------------------------------------------------------------


def _ratio(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


@dataclass
class Stats:
    """Counts over a set of office-days; rates are 0..1 or None when nothing was judged.

    The status counts partition the working days:
    working_days = on_time + late + not_open + closed_early + unknown (heavy_late is part of
    late). `excused_judged` / `excused_unknown` are corrected days among the bad and the
    unknown ones.
    """

    days: int = 0
    working_days: int = 0
    holidays: int = 0
    on_time: int = 0
    late: int = 0
    heavy_late: int = 0
    not_open: int = 0
    closed_early: int = 0
    unknown: int = 0
    excused_judged: int = 0
    excused_unknown: int = 0
    missing: int = 0
    service_minutes: int = 0
    service_seen: int = 0
    unknown_minutes: int = 0
    unknown_seen: int = 0
    pending: int = 0  # days the site's agent has not yet sent in full (menunggu data lokasi)
    opening_minutes: list[float] = field(default_factory=list)
    late_minutes: list[int] = field(default_factory=list)

    @property
    def judged(self) -> int:
        return self.working_days - self.unknown

    @property
    def excused(self) -> int:
        return self.excused_judged + self.excused_unknown

    @property
    def on_time_rate(self) -> float | None:
        """Raw: what the cameras saw, on the judged days."""
        return _ratio(self.on_time, self.judged)

    @property
    def corrected_rate(self) -> float | None:
        """Corrected days count as compliant; a corrected unknown day becomes judged."""
        return _ratio(
            self.on_time + self.excused_judged + self.excused_unknown,
            self.judged + self.excused_unknown,
        )

    @property
    def avg_open(self) -> float | None:
        """Mean local opening time in minutes after midnight, over days with a seen opening."""
        return statistics.fmean(self.opening_minutes) if self.opening_minutes else None

    @property
    def median_open(self) -> float | None:
        return statistics.median(self.opening_minutes) if self.opening_minutes else None

    @property
    def avg_late(self) -> float | None:
        return statistics.fmean(self.late_minutes) if self.late_minutes else None

    @property
    def service_seen_rate(self) -> float | None:
        return _ratio(self.service_seen, self.service_minutes)

    @property
    def unknown_seen_rate(self) -> float | None:
        """How much of the deciding window was seen on the unknown days."""
        return _ratio(self.unknown_seen, self.unknown_minutes)

    @property
    def unknown_share(self) -> float:
        """Share of working days that stay unknown after corrections."""
        return _ratio(self.unknown - self.excused_unknown, self.working_days) or 0.0

    def add(self, other: Stats) -> None:
        for name in self.__dataclass_fields__:
            mine = getattr(self, name)
            if isinstance(mine, list):
                mine.extend(getattr(other, name))
            else:
                setattr(self, name, mine + getattr(other, name))

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "working_days": self.working_days,
            "holidays": self.holidays,
            "judged": self.judged,
            "on_time": self.on_time,
            "late": self.late,
            "heavy_late": self.heavy_late,
            "not_open": self.not_open,
            "closed_early": self.closed_early,
            "unknown": self.unknown,
            "excused": self.excused,
            "missing": self.missing,
            "pending": self.pending,
            "on_time_rate": self.on_time_rate,
            "corrected_rate": self.corrected_rate,
            "avg_open": self.avg_open,
            "median_open": self.median_open,
            "avg_late": self.avg_late,
            "service_seen_rate": self.service_seen_rate,
            "unknown_seen_rate": self.unknown_seen_rate,
        }


@dataclass(frozen=True)
class Trend:
    """This period against the previous one: rate in percentage points (corrected rate),
    average opening in minutes (negative = earlier = better)."""

    previous_rate: float | None
    rate_delta: float | None
    previous_avg_open: float | None
    open_delta: float | None

    @classmethod
    def between(cls, now: Stats, before: Stats | None) -> Trend | None:
        if before is None or before.working_days == 0:
            return None
        r0, r1 = before.corrected_rate, now.corrected_rate
        o0, o1 = before.avg_open, now.avg_open
        return cls(
            previous_rate=r0,
            rate_delta=None if r0 is None or r1 is None else 100.0 * (r1 - r0),
            previous_avg_open=o0,
            open_delta=None if o0 is None or o1 is None else o1 - o0,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous_rate": self.previous_rate,
            "rate_delta": self.rate_delta,
            "previous_avg_open": self.previous_avg_open,
            "open_delta": self.open_delta,
        }


@dataclass(frozen=True)
class DayCell:
    """One office on one day, as the day grid and the heat map show it."""

    day: date
    status: str
    working: bool
    opened: float | None = None  # local minutes after midnight
    scheduled: float | None = None
    late_minutes: int | None = None
    reason: str = ""
    correction: AppliedCorrection | None = None
    pending: bool = False  # the site's agent has not yet sent all of this day

    @property
    def shown_status(self) -> str:
        """The status after corrections: an excused bad or unknown day is `dikoreksi`."""
        if self.correction is not None and self.correction.excused:
            return EXCUSED
        return self.status


@dataclass
class SiteReport:
    site: SiteInfo
    stats: Stats
    previous: Stats | None = None
    trend: Trend | None = None
    rank: int | None = None
    cells: dict[date, DayCell] = field(default_factory=dict)

    @property
    def ranked(self) -> bool:
        return self.rank is not None


@dataclass
class GroupReport:
    """A kecamatan, or the whole scope (`code` None)."""

    name: str
    code: str | None
    sites: int
    stats: Stats
    previous: Stats | None = None
    trend: Trend | None = None


@dataclass(frozen=True)
class SeriesPoint:
    day: date
    scheduled: float | None
    opened: float | None


@dataclass
class Report:
    period: Period
    scope: Scope
    scope_name: str
    today: date
    tz: str
    tz_label: str
    heavy_late_after: time
    sites: list[SiteReport]
    groups: list[GroupReport]
    total: GroupReport
    ranking: list[SiteReport]
    insufficient: list[SiteReport]
    corrections: list[AppliedCorrection]
    days: list[date]
    previous_period: Period
    has_previous: bool
    ignored_verdicts: int = 0
    duplicate_verdicts: int = 0

    def site(self, site_id: int) -> SiteReport:
        for s in self.sites:
            if s.site.id == site_id:
                return s
        raise KeyError(site_id)

    def title(self, lang: str = "id") -> str:
        return label("title_daily" if self.period.kind == "day" else "title", lang)

    def scope_title(self, lang: str = "id") -> str:
        if self.scope.kind == "city":
            return self.scope_name
        return f"{label(self.scope.kind, lang)} {self.scope_name}"

    def opening_series(self, site_id: int | None = None) -> list[SeriesPoint]:
        """Per day: the scheduled and the seen opening (local minutes) of one office, or the
        medians over the offices in the report (working days, seen openings only)."""
        rows = [self.site(site_id)] if site_id is not None else self.sites
        out = []
        for day in self.days:
            cells = [c for r in rows if (c := r.cells.get(day)) is not None and c.working]
            sched = [c.scheduled for c in cells if c.scheduled is not None]
            opened = [c.opened for c in cells if c.opened is not None]
            out.append(
                SeriesPoint(
                    day,
                    statistics.median(sched) if sched else None,
                    statistics.median(opened) if opened else None,
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the API (minutes after midnight for times, 0..1 rates)."""

        def site(r: SiteReport) -> dict[str, Any]:
            return {
                "site_id": r.site.id,
                "slug": r.site.slug,
                "name": r.site.name,
                "kecamatan": r.site.kecamatan,
                "kelurahan_code": r.site.kelurahan_code,
                "rank": r.rank,
                "stats": r.stats.to_dict(),
                "trend": None if r.trend is None else r.trend.to_dict(),
            }

        def group(g: GroupReport) -> dict[str, Any]:
            return {
                "name": g.name,
                "code": g.code,
                "sites": g.sites,
                "stats": g.stats.to_dict(),
                "trend": None if g.trend is None else g.trend.to_dict(),
            }

        return {
            "period": {
                "kind": self.period.kind,
                "key": self.period.key,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
                "title": self.period.title(),
            },
            "previous_period": self.previous_period.key if self.has_previous else None,
            "scope": {"kind": self.scope.kind, "code": self.scope.code, "name": self.scope_name},
            "today": self.today.isoformat(),
            "timezone": self.tz,
            "total": group(self.total),
            "groups": [group(g) for g in self.groups],
            "sites": [site(r) for r in self.sites],
            "ranking": [r.site.id for r in self.ranking],
            "insufficient": [r.site.id for r in self.insufficient],
            "corrections": [
                {
                    "site_id": c.site_id,
                    "day": c.day.isoformat(),
                    "reason": c.reason,
                    "note": c.note,
                    "raw_status": c.raw_status,
                    "excused": c.excused,
                }
                for c in self.corrections
            ],
        }


# ---- building ------------------------------------------------------------------------------------


class _Clock:
    """ISO UTC text -> local minutes after midnight, with a cache (many verdicts share the
    same scheduled times)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.cache: dict[Any, float] = {}

    def minutes(self, value: Any) -> float | None:
        if value is None:
            return None
        hit = self.cache.get(value)
        if hit is not None:
            return hit
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        local = dt.astimezone(self.tz)
        out = local.hour * 60 + local.minute + local.second / 60
        self.cache[value] = out
        return out


def _as_dict(v: Any) -> Mapping[str, Any]:
    if isinstance(v, Mapping):
        return v
    if hasattr(v, "to_dict"):
        return v.to_dict()
    raise ReportError(f"putusan harus dict atau Verdict, bukan {type(v).__name__}")


def _cov(v: Mapping[str, Any], which: str) -> tuple[int, int]:
    c = (v.get("coverage") or {}).get(which) or {}
    return int(c.get("minutes") or 0), int(c.get("seen_minutes") or 0)


def _count(stats: Stats, v: Mapping[str, Any], cell: DayCell) -> None:
    stats.days += 1
    if not cell.working:
        stats.holidays += 1
        return
    stats.working_days += 1
    status = cell.status
    m, s = _cov(v, "service")
    stats.service_minutes += m
    stats.service_seen += s
    excused = cell.correction is not None and cell.correction.excused
    if status == ON_TIME:
        stats.on_time += 1
    elif status in (LATE, HEAVY):
        stats.late += 1
        stats.heavy_late += status == HEAVY
        if cell.late_minutes is not None:
            stats.late_minutes.append(cell.late_minutes)
    elif status == NOT_OPEN:
        stats.not_open += 1
    elif status == EARLY:
        stats.closed_early += 1
    elif status == UNKNOWN:
        stats.unknown += 1
        m, s = _cov(v, "opening")
        stats.unknown_minutes += m
        stats.unknown_seen += s
        stats.excused_unknown += excused
    else:
        raise ReportError(f"status putusan tidak dikenal: {status!r}")
    if excused and status != UNKNOWN:
        stats.excused_judged += 1
    opening = v.get("opening_status")
    if cell.opened is not None and (opening in _OPENING_SEEN or status in _OPENING_SEEN):
        stats.opening_minutes.append(cell.opened)


def _tally(
    rows: dict[tuple[int, date], Mapping[str, Any]],
    sites: dict[int, SiteInfo],
    period: Period,
    last_day: date,
    corrections: dict[tuple[int, date], AppliedCorrection],
    clock: _Clock,
) -> tuple[dict[int, Stats], dict[int, dict[date, DayCell]], list[AppliedCorrection]]:
    stats = {sid: Stats() for sid in sites}
    cells: dict[int, dict[date, DayCell]] = {sid: {} for sid in sites}
    applied: list[AppliedCorrection] = []
    for (sid, day), v in rows.items():
        if not period.contains(day):
            continue
        status = str(v.get("status"))
        working = bool(v.get("working"))
        corr = corrections.get((sid, day))
        if corr is not None:
            corr = AppliedCorrection(
                corr.site_id,
                corr.day,
                corr.reason,
                corr.note,
                raw_status=status,
                excused=working and status != ON_TIME,
            )
            applied.append(corr)
        sched = (v.get("schedule") or {}).get("open")
        cell = DayCell(
            day=day,
            status=status,
            working=working,
            opened=clock.minutes(v.get("opened_at")),
            scheduled=clock.minutes(sched),
            late_minutes=v.get("late_minutes"),
            reason=str(v.get("reason") or ""),
            correction=corr,
            pending=bool(v.get("pending_sync")),
        )
        cells[sid][day] = cell
        _count(stats[sid], v, cell)
        stats[sid].pending += cell.pending
    elapsed = sum(1 for d in period.days if d <= last_day)
    for sid, st in stats.items():
        st.missing = elapsed - len(cells[sid])
    applied.sort(key=lambda c: (c.day, c.site_id))
    return stats, cells, applied


def _rank(sites: list[SiteReport], min_judged_share: float) -> tuple[list, list]:
    ranked: list[SiteReport] = []
    insufficient: list[SiteReport] = []
    for r in sites:
        st = r.stats
        if st.working_days == 0:
            continue
        if st.corrected_rate is None or 1.0 - st.unknown_share < min_judged_share:
            insufficient.append(r)
        else:
            ranked.append(r)

    def key(r: SiteReport) -> tuple[float, float]:
        avg = r.stats.avg_open
        return (-round(r.stats.corrected_rate or 0.0, 9), round(avg) if avg is not None else 1e9)

    ranked.sort(key=lambda r: (*key(r), r.site.name))
    prev = None
    for i, r in enumerate(ranked):
        k = key(r)
        r.rank = prev[1] if prev is not None and prev[0] == k else i + 1
        prev = (k, r.rank)
    insufficient.sort(key=lambda r: (r.stats.unknown_share, r.site.name))
    return ranked, insufficient


def build_report(
    verdicts: Iterable[Any],
    sites: Iterable[Any],
    period: Period | str,
    scope: Scope | None = None,
    *,
    corrections: Iterable[Any] = (),
    today: date | None = None,
    tz: str = "Asia/Makassar",
    tz_label: str = "WITA",
    city_name: str = "Kota Kendari",
    heavy_late_after: time = time(10, 0),
    min_judged_share: float = 0.5,
) -> Report:
    """The report of `scope` (default: the city) over `period`.

    `verdicts`: `Verdict.to_dict()` dicts (or Verdicts) of any days; those of `period` make
    the report, those of the previous period of the same kind (if given) make the trend. A
    site-day given twice keeps the last one. `corrections`: mappings or rows with site_id, day,
    reason, note. `today` (local date; default: now in `tz`) bounds the period: a period that
    has not begun is an error, days after today count as not yet reported.
    """
    if isinstance(period, str):
        period = Period.parse(period)
    scope = scope or Scope.city()
    zone = ZoneInfo(tz)
    today = today or datetime.now(zone).date()
    if period.start > today:
        raise ReportError(
            f"periode {period.title()} belum dimulai (hari ini {fmt_date(today)}): "
            "laporan untuk masa depan tidak dapat dibuat"
        )

    all_sites = [SiteInfo.of(s) for s in sites]
    chosen = {s.id: s for s in all_sites if scope.matches(s)}
    if not chosen:
        what = "kantor" if scope.kind == "city" else f"{scope.kind} {scope.code!r}"
        raise ReportError(f"tidak ada kantor untuk {what}")
    if scope.kind == "city":
        scope_name = city_name
    elif scope.kind == "kecamatan":
        scope_name = next(iter(chosen.values())).kecamatan
    else:
        scope_name = next(iter(chosen.values())).name

    before = period.previous()
    known = {s.id for s in all_sites}
    rows: dict[tuple[int, date], Mapping[str, Any]] = {}
    ignored = duplicates = 0
    for raw in verdicts:
        v = _as_dict(raw)
        sid = v.get("site_id")
        if sid is None or int(sid) not in chosen:
            ignored += sid is None or int(sid) not in known  # a site nobody described
            continue
        day = _as_date(v.get("day"))
        if not (period.contains(day) or before.contains(day)):
            continue
        key = (int(sid), day)
        duplicates += key in rows
        rows[key] = v

    corr_map: dict[tuple[int, date], AppliedCorrection] = {}
    for raw in corrections:
        c = AppliedCorrection.of(raw)
        if c.site_id in chosen:
            corr_map[(c.site_id, c.day)] = c
    for (sid, day), v in rows.items():  # a stored verdict may carry its correction
        emb = v.get("correction")
        if emb and (sid, day) not in corr_map:
            corr_map[(sid, day)] = AppliedCorrection.of({"site_id": sid, "day": day, **emb})

    clock = _Clock(zone)
    last_day = min(period.end, today)
    stats, cells, applied = _tally(rows, chosen, period, last_day, corr_map, clock)
    if not any(cells.values()):
        raise ReportError(
            f"tidak ada putusan untuk {scope_name} pada periode {period.title()}: "
            "belum dihitung, atau kamera belum terpasang"
        )
    prev_stats, _, _ = _tally(rows, chosen, before, before.end, corr_map, clock)
    has_previous = any(st.days for st in prev_stats.values())

    reports = []
    for sid, info in chosen.items():
        p = prev_stats[sid] if has_previous else None
        reports.append(
            SiteReport(info, stats[sid], p, Trend.between(stats[sid], p), cells=cells[sid])
        )
    reports.sort(key=lambda r: (r.site.kecamatan, r.site.name))

    groups: list[GroupReport] = []
    total = GroupReport(scope_name, None, 0, Stats(), Stats() if has_previous else None)
    for r in reports:
        if not groups or groups[-1].name != r.site.kecamatan:
            groups.append(
                GroupReport(
                    r.site.kecamatan,
                    r.site.kecamatan_code,
                    0,
                    Stats(),
                    Stats() if has_previous else None,
                )
            )
        for g in (groups[-1], total):
            g.sites += 1
            g.stats.add(r.stats)
            if g.previous is not None and r.previous is not None:
                g.previous.add(r.previous)
    for g in (*groups, total):
        g.trend = Trend.between(g.stats, g.previous)

    ranking, insufficient = _rank(reports, min_judged_share)
    return Report(
        period=period,
        scope=scope,
        scope_name=scope_name,
        today=today,
        tz=tz,
        tz_label=tz_label,
        heavy_late_after=heavy_late_after,
        sites=reports,
        groups=groups,
        total=total,
        ranking=ranking,
        insufficient=insufficient,
        corrections=applied,
        days=[d for d in period.days if d <= last_day],
        previous_period=before,
        has_previous=has_previous,
        ignored_verdicts=ignored,
        duplicate_verdicts=duplicates,
    )
