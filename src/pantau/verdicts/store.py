"""Stored verdicts: computed from stored observations and the work calendar, recomputed when
either changes, every superseded version kept.

`decide_day` is pure, so a stored verdict is only a cache of it plus a record of what it said
before. Each row carries digests of its inputs (the observation rows, the day's schedule, the
rules version and settings): a recompute whose inputs hash the same writes nothing, and one
whose inputs changed says which did ("observations", "calendar", "rules").

A new *version* (the old one copied to `verdict_history`) is written when what the verdict
says changed: status, opening or closing time or judgement, minutes late or early, schedule.
A change of coverage figures alone refreshes the row in place. While the day is still going
on (provisional: before local midnight) only a change of status makes a version — otherwise
every pass of the scheduler would add one as the last-seen time moves on.

`dirty_days` finds the site-days to recompute without reading the rows: per day one grouped
query gives each site's count and newest `updated_at` of its observation rows, compared with
the watermark stored on the verdict; schedules and settings are compared by digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pantau.accounts.scope import Scope
from pantau.config.model import Settings
from pantau.registry.calendar import DaySchedule
from pantau.registry.schedule import site_day, site_days
from pantau.store.models import (
    Camera,
    CorrectionReason,
    Observation,
    Site,
    SiteKind,
    VerdictCorrection,
    VerdictHistory,
    VerdictRow,
)
from pantau.store.types import utcnow
from pantau.verdicts.config import VerdictConfig
from pantau.verdicts.rules import RULES_VERSION, STATUS_LABELS, Verdict, decide_day

__all__ = [
    "CHANGE_LABELS",
    "CORRECTED",
    "OFFICE_KINDS",
    "REASON_LABELS",
    "DirtyDay",
    "RangeReport",
    "add_correction",
    "candidates",
    "day_bounds",
    "dirty_days",
    "effective_status",
    "latest_correction",
    "local_today",
    "recompute",
    "recompute_range",
    "status_label",
    "verdict_config",
]

# Sites that keep office hours; public spaces and roads have no opening to judge.
OFFICE_KINDS = (SiteKind.KANTOR_KELURAHAN, SiteKind.KANTOR_KECAMATAN, SiteKind.KANTOR_OPD)

NEW = "new"
OBSERVATIONS = "observations"
CALENDAR = "calendar"
RULES = "rules"
CHANGE_LABELS = {
    NEW: "Putusan pertama",
    OBSERVATIONS: "Observasi baru masuk",
    CALENDAR: "Kalender kerja berubah",
    RULES: "Aturan atau pengaturan berubah",
}

CORRECTED = "dikoreksi"
REASON_LABELS = {
    CorrectionReason.DINAS_LUAR: "Dinas luar",
    CorrectionReason.RAPAT_KANTOR_CAMAT: "Rapat di kantor camat",
    CorrectionReason.LISTRIK_PADAM: "Listrik padam",
    CorrectionReason.GANGGUAN_JARINGAN: "Gangguan jaringan",
    CorrectionReason.BENCANA: "Bencana",
    CorrectionReason.LAINNYA: "Lainnya",
}


# ---- settings, days ---------------------------------------------------------------------------


def verdict_config(settings: Settings) -> VerdictConfig:
    """The verdict settings (`verdicts:`; `verdicts.heavy_late_after` is the city's 10.00)."""
    return settings.verdicts


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of `day` as UTC instants."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def local_today(settings: Settings, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(settings.city.timezone)).date()


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


# ---- inputs and their digests -------------------------------------------------------------------


def _sha(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def schedule_digest(schedule: DaySchedule) -> str:
    return _sha(
        [
            schedule.day.isoformat(),
            schedule.working,
            schedule.opens.isoformat() if schedule.opens else None,
            schedule.closes.isoformat() if schedule.closes else None,
            schedule.rule,
            schedule.reason,
            schedule.rule_id,
            schedule.holiday_name,
        ]
    )


@dataclass(frozen=True)
class _Inputs:
    rows: list[Any]
    schedule: DaySchedule
    observations_digest: str
    schedule_digest: str
    rules: str  # rules version and settings digest, as stored on the row
    zone: str  # the city's time zone and its label (the reason's wording)
    count: int
    updated_max: datetime | None

    @property
    def digest(self) -> str:
        return _sha([self.observations_digest, self.schedule_digest, self.rules, self.zone])


def _rules_key(cfg: VerdictConfig) -> str:
    return f"{RULES_VERSION}:{cfg.digest()}"


def _stored_rules_key(row: VerdictRow) -> str:
    return f"{row.rules_version}:{row.config_digest}"


def _load_inputs(
    session: Session, settings: Settings, site: Site, day: date, cfg: VerdictConfig
) -> _Inputs:
    start, end = day_bounds(day, ZoneInfo(settings.city.timezone))
    rows = list(
        session.execute(
            select(
                Observation.camera_id,
                Observation.minute,
                Observation.people_max,
                Observation.zones,
                Observation.lights_on,
                Observation.motion_pct,
                Observation.coverage_seconds,
                Observation.tamper,
                Observation.updated_at,
            )
            .join(Camera, Camera.id == Observation.camera_id)
            .where(Camera.site_id == site.id)
            .where(Observation.minute >= start, Observation.minute < end)
            .order_by(Observation.camera_id, Observation.minute)
        )
    )
    # Content only (not updated_at): the same rows written again hash the same.
    canonical = [
        [
            r.camera_id,
            int(r.minute.timestamp()),
            r.people_max,
            r.zones,
            r.lights_on,
            float(r.motion_pct),
            float(r.coverage_seconds),
            r.tamper,
        ]
        for r in rows
    ]
    schedule = site_day(session, site, day)
    return _Inputs(
        rows=rows,
        schedule=schedule,
        observations_digest=_sha(canonical),
        schedule_digest=schedule_digest(schedule),
        rules=_rules_key(cfg),
        zone=f"{settings.city.timezone}:{settings.city.timezone_label}",
        count=len(rows),
        updated_max=max((r.updated_at for r in rows), default=None),
    )


# ---- writing a verdict ---------------------------------------------------------------------


def _columns(v: Verdict) -> dict[str, Any]:
    """The row's columns from a computed verdict (everything but digests and bookkeeping)."""

    def frac(c: Any) -> float | None:
        return None if c is None else c.fraction

    return {
        "status": v.status,
        "working": v.working,
        "schedule_rule": v.schedule_rule,
        "scheduled_open": v.scheduled_open,
        "scheduled_close": v.scheduled_close,
        "opened_at": v.opened_at,
        "closed_at": v.closed_at,
        "opening_status": v.opening_status,
        "closing_status": v.closing_status,
        "late_minutes": v.late_minutes,
        "early_minutes": v.early_minutes,
        "staffed_minutes": v.staffed_minutes,
        "opening_coverage": frac(v.opening_coverage),
        "service_coverage": frac(v.service_coverage),
        "day_coverage": frac(v.day_coverage),
        "first_presence_at": v.first_presence.minute if v.first_presence else None,
        "first_presence_camera_id": v.first_presence.camera_id if v.first_presence else None,
        "last_presence_at": v.last_presence.minute if v.last_presence else None,
        "last_presence_camera_id": v.last_presence.camera_id if v.last_presence else None,
        "reason": v.reason,
        "rules_version": v.rules_version,
        "config_digest": v.config_digest,
        "detail": v.to_dict(),
    }


_OUTCOME = (
    "status",
    "working",
    "scheduled_open",
    "scheduled_close",
    "opened_at",
    "closed_at",
    "opening_status",
    "closing_status",
    "late_minutes",
    "early_minutes",
)


def _outcome(values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(values[k] for k in _OUTCOME)


def _changes(row: VerdictRow, inputs: _Inputs) -> list[str]:
    out = []
    if row.observations_digest != inputs.observations_digest:
        out.append(OBSERVATIONS)
    if row.schedule_digest != inputs.schedule_digest:
        out.append(CALENDAR)
    if _stored_rules_key(row) != inputs.rules:
        out.append(RULES)
    return out or [RULES]  # only the city's time zone is left, a setting too


@dataclass
class _Result:
    row: VerdictRow | None
    outcome: str  # "created" | "changed" | "refreshed" | "unchanged" | "skipped"


def _recompute(
    session: Session,
    settings: Settings,
    site_id: int,
    day: date,
    now: datetime,
    cfg: VerdictConfig,
) -> _Result:
    site = session.get(Site, site_id)
    if site is None or day > local_today(settings, now):
        return _Result(None, "skipped")
    inputs = _load_inputs(session, settings, site, day, cfg)
    row = session.scalar(
        select(VerdictRow).where(VerdictRow.site_id == site_id, VerdictRow.day == day)
    )
    watermark = {
        "observation_rows": inputs.count,
        "observations_updated_at": inputs.updated_max,
    }
    if row is not None and row.inputs_digest == inputs.digest:
        if (row.observation_rows, row.observations_updated_at) != (
            inputs.count,
            inputs.updated_max,
        ):  # rows rewritten with the same content: only move the watermark
            row.observation_rows = inputs.count
            row.observations_updated_at = inputs.updated_max
            session.flush()
        return _Result(row, "unchanged")

    verdict = decide_day(
        inputs.rows,
        inputs.schedule,
        cfg,
        tz=settings.city.timezone,
        tz_label=settings.city.timezone_label,
        site_id=site_id,
    )
    values = _columns(verdict) | watermark
    digests = {
        "inputs_digest": inputs.digest,
        "observations_digest": inputs.observations_digest,
        "schedule_digest": inputs.schedule_digest,
    }
    if row is None:
        row = VerdictRow(site_id=site_id, day=day, version=1, computed_at=now, **values, **digests)
        try:
            with session.begin_nested():  # another process may have written it meanwhile
                session.add(row)
        except IntegrityError:
            row = session.scalar(
                select(VerdictRow).where(VerdictRow.site_id == site_id, VerdictRow.day == day)
            )
            if row is None:
                raise
            return _Result(row, "unchanged")
        return _Result(row, "created")

    old = {k: getattr(row, k) for k in _OUTCOME}
    provisional = now < day_bounds(day, ZoneInfo(settings.city.timezone))[1]
    if provisional:
        new_version = old["status"] != values["status"]
    else:
        new_version = _outcome(old) != _outcome(values)
    outcome = "refreshed"
    if new_version:
        session.add(
            VerdictHistory(
                verdict_id=row.id,
                version=row.version,
                status=row.status,
                reason=row.reason,
                opened_at=row.opened_at,
                closed_at=row.closed_at,
                late_minutes=row.late_minutes,
                early_minutes=row.early_minutes,
                detail=row.detail,
                inputs_digest=row.inputs_digest,
                computed_at=row.computed_at,
                superseded_at=now,
                change=_changes(row, inputs),
            )
        )
        row.version += 1
        outcome = "changed"
    for key, value in (values | digests).items():
        setattr(row, key, value)
    row.computed_at = now
    session.flush()
    return _Result(row, outcome)


def recompute(
    session: Session,
    settings: Settings,
    site_id: int,
    day: date,
    *,
    now: datetime | None = None,
) -> VerdictRow | None:
    """Compute site `site_id`'s verdict of local `day` from the stored rows and store it.

    Writes nothing when the inputs are the ones the stored verdict was computed from. Returns
    the stored row, or None for a site that does not exist or a day that has not begun.
    """
    now = now or utcnow()
    return _recompute(session, settings, site_id, day, now, verdict_config(settings)).row


# ---- which site-days ---------------------------------------------------------------------------


def _sites(
    session: Session, site_ids: Sequence[int] | None, tz: ZoneInfo
) -> dict[int, date | None]:
    """Site id -> the local day its first camera was registered (None: no camera). Without
    explicit ids: every office site that has a camera."""
    query = select(Site.id, func.min(Camera.created_at)).outerjoin(
        Camera, Camera.site_id == Site.id
    )
    if site_ids is None:
        query = query.where(Site.kind.in_(OFFICE_KINDS)).where(Camera.id.is_not(None))
    else:
        query = query.where(Site.id.in_(list(site_ids)))
    return {
        site_id: first.astimezone(tz).date() if first is not None else None
        for site_id, first in session.execute(query.group_by(Site.id))
    }


def _observation_stats(
    session: Session, settings: Settings, day: date, site_ids: Iterable[int]
) -> dict[int, tuple[int, datetime | None]]:
    start, end = day_bounds(day, ZoneInfo(settings.city.timezone))
    query = (
        select(Camera.site_id, func.count(), func.max(Observation.updated_at))
        .select_from(Camera)
        .join(Observation, Observation.camera_id == Camera.id)
        .where(Observation.minute >= start, Observation.minute < end)
        .where(Camera.site_id.in_(list(site_ids)))
        .group_by(Camera.site_id)
    )
    return {site_id: (n, latest) for site_id, n, latest in session.execute(query)}


@dataclass(frozen=True)
class DirtyDay:
    """A site-day whose stored verdict is missing or stale, and why (CHANGE_LABELS keys)."""

    site_id: int
    day: date
    why: tuple[str, ...]


def _scan(
    session: Session,
    settings: Settings,
    since: date,
    until: date,
    site_ids: Sequence[int] | None,
    now: datetime,
) -> list[tuple[int, date, tuple[str, ...] | None]]:
    """Every candidate site-day in range, with why it is dirty (None: up to date)."""
    until = min(until, local_today(settings, now))
    if until < since:
        return []
    sites = _sites(session, site_ids, ZoneInfo(settings.city.timezone))
    if not sites:
        return []
    days = _days(since, until)
    stored = {
        (r.site_id, r.day): r
        for r in session.execute(
            select(
                VerdictRow.site_id,
                VerdictRow.day,
                VerdictRow.observation_rows,
                VerdictRow.observations_updated_at,
                VerdictRow.schedule_digest,
                VerdictRow.rules_version,
                VerdictRow.config_digest,
            )
            .where(VerdictRow.day >= since, VerdictRow.day <= until)
            .where(VerdictRow.site_id.in_(list(sites)))
        )
    }
    stats = {day: _observation_stats(session, settings, day, sites) for day in days}
    rules_now = _rules_key(verdict_config(settings))
    out: list[tuple[int, date, tuple[str, ...] | None]] = []
    for site_id in sorted(sites):
        site = session.get(Site, site_id)
        assert site is not None
        schedules = {s.day: s for s in site_days(session, site, since, until)}
        first_camera = sites[site_id]
        for day in days:
            n, latest = stats[day].get(site_id, (0, None))
            row = stored.get((site_id, day))
            if row is None:
                explicit = site_ids is not None
                started = first_camera is not None and day >= first_camera
                if n or started or explicit:
                    out.append((site_id, day, (NEW,)))
                continue
            why = []
            if (row.observation_rows, row.observations_updated_at) != (n, latest):
                why.append(OBSERVATIONS)
            if row.schedule_digest != schedule_digest(schedules[day]):
                why.append(CALENDAR)
            if f"{row.rules_version}:{row.config_digest}" != rules_now:
                why.append(RULES)
            out.append((site_id, day, tuple(why) or None))
    return out


def dirty_days(
    session: Session,
    settings: Settings,
    since_day: date,
    until_day: date,
    site_ids: Sequence[int] | None = None,
    *,
    now: datetime | None = None,
) -> list[DirtyDay]:
    """Site-days in [since_day, until_day] (never after today) that need recomputing: no
    verdict yet, observation rows added, changed or removed since it was computed, another
    schedule for the day, or other rules or settings."""
    now = now or utcnow()
    return [
        DirtyDay(site_id, day, why)
        for site_id, day, why in _scan(session, settings, since_day, until_day, site_ids, now)
        if why is not None
    ]


def candidates(
    session: Session,
    settings: Settings,
    since_day: date,
    until_day: date,
    site_ids: Sequence[int] | None = None,
    *,
    now: datetime | None = None,
) -> list[tuple[int, date]]:
    """Every site-day a full recompute of the range covers (stale or not)."""
    now = now or utcnow()
    return [(s, d) for s, d, _ in _scan(session, settings, since_day, until_day, site_ids, now)]


@dataclass
class RangeReport:
    """What a recompute over a range did, per outcome."""

    created: int = 0
    changed: int = 0
    refreshed: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.created + self.changed + self.refreshed + self.unchanged + self.skipped

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "changed": self.changed,
            "refreshed": self.refreshed,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "failed": dict(self.failed),
            "total": self.total,
        }


def recompute_pairs(
    session: Session,
    settings: Settings,
    pairs: Iterable[tuple[int, date]],
    *,
    now: datetime | None = None,
    progress: Callable[[int, date, str], None] | None = None,
) -> RangeReport:
    """Recompute the given site-days in the caller's transaction."""
    now = now or utcnow()
    cfg = verdict_config(settings)
    report = RangeReport()
    for site_id, day in pairs:
        result = _recompute(session, settings, site_id, day, now, cfg)
        report.count(result.outcome)
        if progress is not None:
            progress(site_id, day, result.outcome)
    return report


def recompute_range(
    session: Session,
    settings: Settings,
    since_day: date,
    until_day: date,
    site_ids: Sequence[int] | None = None,
    *,
    now: datetime | None = None,
) -> RangeReport:
    """Recompute every candidate site-day of the range (office sites with cameras, or the
    given sites); days after today are left alone. Unchanged inputs write nothing."""
    now = now or utcnow()
    pairs = candidates(session, settings, since_day, until_day, site_ids, now=now)
    return recompute_pairs(session, settings, pairs, now=now)


# ---- corrections -----------------------------------------------------------------------------


def latest_correction(row: VerdictRow) -> VerdictCorrection | None:
    """The correction that applies: the latest one."""
    return max(row.corrections, key=lambda c: (c.created_at, c.id), default=None)


def effective_status(row: VerdictRow) -> str:
    """The computed status, or `dikoreksi` when an official reason has been attached."""
    return CORRECTED if row.corrections else row.status


def status_label(status: str) -> str:
    return "Dikoreksi" if status == CORRECTED else STATUS_LABELS.get(status, status)


def add_correction(
    session: Session,
    row: VerdictRow,
    reason: CorrectionReason | str,
    note: str,
    actor: Scope | str,
    *,
    now: datetime | None = None,
) -> VerdictCorrection:
    """Attach an official reason; the computed verdict is left as it is. The caller audits."""
    correction = VerdictCorrection(
        verdict_id=row.id,
        reason=CorrectionReason(reason),
        note=note.strip(),
        created_by=actor.username if isinstance(actor, Scope) else actor,
        user_id=actor.user_id if isinstance(actor, Scope) else None,
        created_at=now or utcnow(),
        verdict_status=row.status,
        verdict_version=row.version,
    )
    row.corrections.append(correction)
    session.flush()
    return correction
