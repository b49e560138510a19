"""Opening-hours verdicts: list and inspect (everyone, within scope), attach an official reason
and recompute (admin). Every write and every refusal is audited.

The detail of a verdict carries its evidence: the snapshot from the recordings at the first
and last presence, a playback link around each, the superseded versions and the corrections,
and the day's per-minute observations of each camera of the site.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pantau.accounts import audit
from pantau.config.model import Settings
from pantau.hub.pending import SiteAgent, pending_day, site_agents, slack
from pantau.recordings import index
from pantau.registry.calendar import format_hhmm
from pantau.store.models import (
    Camera,
    CorrectionReason,
    Observation,
    Site,
    VerdictCorrection,
    VerdictHistory,
    VerdictRow,
)
from pantau.store.types import utcnow
from pantau.verdicts.rules import STATUSES
from pantau.verdicts.store import (
    CHANGE_LABELS,
    REASON_LABELS,
    add_correction,
    day_bounds,
    effective_status,
    latest_correction,
    local_today,
    recompute_range,
    status_label,
)
from pantau.web.deps import DB, Admin, Caller, client_ip, runtime
from pantau.web.errors import ApiError, Invalid
from pantau.web.routes.sites import visible_site
from pantau.web.schemas import AgentBrief, In

router = APIRouter(prefix="/api/verdicts", tags=["verdicts"])

MAX_LIST_DAYS = 92  # a quarter; reports aggregate longer spans themselves
MAX_RECOMPUTE_DAYS = 31  # synchronous: a month of every site; longer spans: the CLI
MOMENT = timedelta(seconds=30)  # minutes are whole: the middle is the best guess of the moment
PLAYBACK_AROUND = timedelta(minutes=5)
STATUS_PATTERN = "^(" + "|".join(STATUSES) + ")$"


# ---- schemas ----------------------------------------------------------------------------------


class CorrectionOut(BaseModel):
    id: int
    reason: str
    reason_label: str
    note: str
    created_by: str
    created_at: datetime
    verdict_status: str = Field(description="The computed status when the correction was made")
    verdict_version: int


class VerdictOut(BaseModel):
    id: int
    site_id: int
    site_name: str
    site_slug: str
    kelurahan_code: str | None
    kecamatan_code: str | None
    day: date
    status: str = Field(description="As computed from the cameras (never changed by a correction)")
    label: str
    effective_status: str = Field(description='"dikoreksi" when an official reason applies')
    effective_label: str
    working: bool
    schedule_rule: str
    scheduled_open: datetime | None
    scheduled_close: datetime | None
    opened_at: datetime | None
    closed_at: datetime | None
    local: dict[str, str | None] = Field(
        description='Local times as "07.30 WITA": scheduled_open, scheduled_close, opened, closed'
    )
    opening_status: str | None
    closing_status: str | None
    late_minutes: int | None
    early_minutes: int | None
    staffed_minutes: int | None
    opening_coverage: float | None
    service_coverage: float | None
    day_coverage: float | None
    reason: str
    version: int
    computed_at: datetime
    rules_version: str
    correction: CorrectionOut | None = Field(description="The correction that applies (latest)")
    simulated: bool = Field(
        default=False,
        description="Computed (at least partly) from simulated data of `pantau demo`: the day "
        "began before the site's history_simulated_until",
    )
    pending_sync: bool = Field(
        default=False,
        description="The site's agent has not yet sent all of this day (menunggu data lokasi): "
        "the verdict may change when the data arrives and the day is recomputed",
    )


class HistoryOut(BaseModel):
    version: int
    status: str
    label: str
    reason: str
    opened_at: datetime | None
    closed_at: datetime | None
    late_minutes: int | None
    early_minutes: int | None
    computed_at: datetime
    superseded_at: datetime
    change: list[str] = Field(description='What changed: "observations", "calendar", "rules"')
    change_label: str
    detail: dict[str, Any]


class PresenceOut(BaseModel):
    minute: datetime
    local: str
    camera_id: int
    camera_name: str | None
    snapshot_url: str = Field(description="Frame from the recordings at the moment (audited)")
    playback_url: str = Field(description="HLS playback of the minutes around it (audited)")
    has_recording: bool


class EvidenceOut(BaseModel):
    first_presence: PresenceOut | None
    last_presence: PresenceOut | None


class TimelineCamera(BaseModel):
    camera_id: int
    name: str
    people: list[int | None] = Field(description="people_max per minute; null: no row")
    coverage_seconds: list[float | None]
    lights_on: list[bool | None]
    tamper: list[bool | None]


class TimelineOut(BaseModel):
    start: datetime = Field(description="UTC instant of local midnight; index i = start + i min")
    minutes: int
    cameras: list[TimelineCamera]


class DayStatusOut(BaseModel):
    site_id: int
    site_name: str
    day: date
    has_verdict: bool
    pending_sync: bool = Field(description="The site's agent has not yet sent all of this day")
    agent: AgentBrief | None = Field(description="The site's edge agent; null: none")


class VerdictDetailOut(VerdictOut):
    agent: AgentBrief | None = Field(default=None, description="The site's edge agent")
    detail: dict[str, Any]
    evidence: EvidenceOut
    history: list[HistoryOut]
    corrections: list[CorrectionOut]
    timeline: TimelineOut | None


class CorrectionIn(In):
    reason: CorrectionReason = Field(
        description="dinas_luar, rapat_kantor_camat, listrik_padam, gangguan_jaringan, bencana, "
        "lainnya"
    )
    note: str = Field(min_length=3, max_length=2000, description="e.g. the letter's number")


class RecomputeIn(In):
    start: date = Field(alias="from", description="first local date")
    to: date = Field(description="last local date (inclusive)")
    site_ids: list[int] | None = Field(
        default=None, description="default: every office site with a camera"
    )


class RecomputeOut(BaseModel):
    start: date = Field(serialization_alias="from")
    to: date
    site_ids: list[int] | None
    created: int
    changed: int
    refreshed: int
    unchanged: int
    skipped: int
    total: int


# ---- helpers ----------------------------------------------------------------------------------


def _local(dt: datetime | None, settings: Settings) -> str | None:
    if dt is None:
        return None
    t = dt.astimezone(ZoneInfo(settings.city.timezone)).time()
    return f"{format_hhmm(t)} {settings.city.timezone_label}"


def _zulu(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _not_future(day: date, field: str, settings: Settings) -> None:
    today = local_today(settings)
    if day > today:
        raise Invalid(
            f"tanggal {day.isoformat()} belum tiba (hari ini {today.isoformat()} "
            f"{settings.city.timezone_label}) — {field} {day.isoformat()} is in the future",
            field,
        )


def _correction_out(c: VerdictCorrection) -> CorrectionOut:
    return CorrectionOut(
        id=c.id,
        reason=c.reason.value,
        reason_label=REASON_LABELS[c.reason],
        note=c.note,
        created_by=c.created_by,
        created_at=c.created_at,
        verdict_status=c.verdict_status,
        verdict_version=c.verdict_version,
    )


def _pending(agent: SiteAgent | None, day: date, settings: Settings) -> bool:
    tz = ZoneInfo(settings.city.timezone)
    return pending_day(agent, day, tz, utcnow(), slack(settings))


def _fields(
    row: VerdictRow, site: Site, settings: Settings, agent: SiteAgent | None = None
) -> dict[str, Any]:
    latest = latest_correction(row)
    effective = effective_status(row)
    return {
        "id": row.id,
        "site_id": site.id,
        "site_name": site.name,
        "site_slug": site.slug,
        "kelurahan_code": site.kelurahan_code,
        "kecamatan_code": site.kecamatan_code,
        "day": row.day,
        "status": row.status,
        "label": status_label(row.status),
        "effective_status": effective,
        "effective_label": status_label(effective)
        + (f" ({REASON_LABELS[latest.reason]})" if latest else ""),
        "working": row.working,
        "schedule_rule": row.schedule_rule,
        "scheduled_open": row.scheduled_open,
        "scheduled_close": row.scheduled_close,
        "opened_at": row.opened_at,
        "closed_at": row.closed_at,
        "local": {
            "scheduled_open": _local(row.scheduled_open, settings),
            "scheduled_close": _local(row.scheduled_close, settings),
            "opened": _local(row.opened_at, settings),
            "closed": _local(row.closed_at, settings),
        },
        "opening_status": row.opening_status,
        "closing_status": row.closing_status,
        "late_minutes": row.late_minutes,
        "early_minutes": row.early_minutes,
        "staffed_minutes": row.staffed_minutes,
        "opening_coverage": row.opening_coverage,
        "service_coverage": row.service_coverage,
        "day_coverage": row.day_coverage,
        "reason": row.reason,
        "version": row.version,
        "computed_at": row.computed_at,
        "rules_version": row.rules_version,
        "correction": _correction_out(latest) if latest else None,
        "simulated": _simulated(site, row.day, settings),
        "pending_sync": _pending(agent, row.day, settings),
    }


def _simulated(site: Site, day: date, settings: Settings) -> bool:
    until = site.history_simulated_until
    return until is not None and day_bounds(day, ZoneInfo(settings.city.timezone))[0] < until


def _history_out(h: VerdictHistory) -> HistoryOut:
    return HistoryOut(
        version=h.version,
        status=h.status,
        label=status_label(h.status),
        reason=h.reason,
        opened_at=h.opened_at,
        closed_at=h.closed_at,
        late_minutes=h.late_minutes,
        early_minutes=h.early_minutes,
        computed_at=h.computed_at,
        superseded_at=h.superseded_at,
        change=list(h.change or []),
        change_label="; ".join(CHANGE_LABELS.get(c, c) for c in h.change or []),
        detail=h.detail or {},
    )


def _presence(
    session: Session, settings: Settings, prefix: str, at: datetime | None, camera_id: int | None
) -> PresenceOut | None:
    if at is None or camera_id is None:
        return None
    camera = session.get(Camera, camera_id)
    moment = at + MOMENT
    base = f"{prefix}/api/cameras/{camera_id}"
    return PresenceOut(
        minute=at,
        local=_local(at, settings) or "",
        camera_id=camera_id,
        camera_name=camera.name if camera else None,
        snapshot_url=f"{base}/snapshot.jpg?at={_zulu(moment)}",
        playback_url=f"{base}/playlist.m3u8?from={_zulu(at - PLAYBACK_AROUND)}"
        f"&to={_zulu(at + PLAYBACK_AROUND)}",
        has_recording=camera is not None
        and index.segment_at(session, camera_id, moment) is not None,
    )


def _tampered(flags: Any) -> bool:
    """As the rules read it: any flag true or above zero."""
    if not isinstance(flags, dict):
        return False
    return any(
        v is True or (isinstance(v, int | float) and not isinstance(v, bool) and v > 0)
        for v in flags.values()
    )


def _timeline(session: Session, settings: Settings, site: Site, day: date) -> TimelineOut:
    start, end = day_bounds(day, ZoneInfo(settings.city.timezone))
    n = int((end - start) / timedelta(minutes=1))
    cameras = list(
        session.scalars(select(Camera).where(Camera.site_id == site.id).order_by(Camera.id))
    )
    lines = {
        c.id: TimelineCamera(
            camera_id=c.id,
            name=c.name,
            people=[None] * n,
            coverage_seconds=[None] * n,
            lights_on=[None] * n,
            tamper=[None] * n,
        )
        for c in cameras
    }
    rows = session.execute(
        select(
            Observation.camera_id,
            Observation.minute,
            Observation.people_max,
            Observation.coverage_seconds,
            Observation.lights_on,
            Observation.tamper,
        )
        .where(Observation.camera_id.in_(list(lines)))
        .where(Observation.minute >= start, Observation.minute < end)
    )
    for cam, minute, people, coverage, lights, tamper in rows:
        i = int((minute - start) // timedelta(minutes=1))
        line = lines[cam]
        line.people[i] = people
        line.coverage_seconds[i] = coverage
        line.lights_on[i] = lights
        line.tamper[i] = _tampered(tamper)
    return TimelineOut(start=start, minutes=n, cameras=list(lines.values()))


def _verdict(session: Session, settings: Settings, site: Site, day: date) -> VerdictRow:
    row = session.scalar(
        select(VerdictRow)
        .where(VerdictRow.site_id == site.id, VerdictRow.day == day)
        .options(selectinload(VerdictRow.history), selectinload(VerdictRow.corrections))
    )
    if row is None:
        raise ApiError(
            404,
            "not_found",
            f"Belum ada putusan untuk {site.name} pada {day.isoformat()}; hitung ulang dulu. — "
            f"No verdict for site {site.id} on {day.isoformat()} yet: recompute it first "
            "(POST /api/verdicts/recompute).",
        )
    return row


def _detail(
    request: Request, session: Session, row: VerdictRow, site: Site, timeline: bool
) -> VerdictDetailOut:
    settings = runtime(request).settings
    prefix = request.scope.get("root_path", "").rstrip("/")
    agent = site_agents(session, settings, [site.id], utcnow()).get(site.id)
    return VerdictDetailOut(
        **_fields(row, site, settings, agent),
        agent=AgentBrief(**agent.brief()) if agent else None,
        detail=row.detail or {},
        evidence=EvidenceOut(
            first_presence=_presence(
                session, settings, prefix, row.first_presence_at, row.first_presence_camera_id
            ),
            last_presence=_presence(
                session, settings, prefix, row.last_presence_at, row.last_presence_camera_id
            ),
        ),
        history=[_history_out(h) for h in sorted(row.history, key=lambda h: h.version)],
        corrections=[_correction_out(c) for c in row.corrections],
        timeline=_timeline(session, settings, site, row.day) if timeline else None,
    )


# ---- routes -----------------------------------------------------------------------------------


@router.get("", response_model=list[VerdictOut])
def list_verdicts(
    request: Request,
    scope: Caller,
    session: DB,
    day: Annotated[date | None, Query(alias="date", description="one local date")] = None,
    start: Annotated[date | None, Query(alias="from", description="first local date")] = None,
    end: Annotated[date | None, Query(alias="to", description="last local date (incl.)")] = None,
    site_id: Annotated[int | None, Query()] = None,
    kecamatan_id: Annotated[str | None, Query(description="kecamatan code, e.g. 74.71.01")] = None,
    status: Annotated[str | None, Query(pattern=STATUS_PATTERN)] = None,
) -> list[VerdictOut]:
    """Stored verdicts of the sites in the caller's scope (default: today), by day and site."""
    settings = runtime(request).settings
    if day is not None and (start is not None or end is not None):
        raise Invalid("give either date or from/to, not both", "date")
    for value, field in ((day, "date"), (start, "from"), (end, "to")):
        if value is not None:
            _not_future(value, field, settings)
    today = local_today(settings)
    lo = day or start or end or today
    hi = day or end or today
    if hi < lo:
        raise Invalid(f"to ({hi}) is before from ({lo})", "to")
    if (hi - lo).days + 1 > MAX_LIST_DAYS:
        raise Invalid(f"at most {MAX_LIST_DAYS} days at a time", "to")
    query = scope.filter_sites(
        select(VerdictRow, Site)
        .join(Site, Site.id == VerdictRow.site_id)
        .where(VerdictRow.day >= lo, VerdictRow.day <= hi)
        .options(selectinload(VerdictRow.corrections))
    )
    if site_id is not None:
        visible_site(session, scope, site_id, "verdict.list")
        query = query.where(VerdictRow.site_id == site_id)
    if kecamatan_id:
        query = query.where(Site.kecamatan_code == kecamatan_id)
    if status:
        query = query.where(VerdictRow.status == status)
    query = query.order_by(VerdictRow.day, Site.name, Site.id)
    found = list(session.execute(query))
    agents = site_agents(session, settings, sorted({s.id for _, s in found}), utcnow())
    return [VerdictOut(**_fields(row, site, settings, agents.get(site.id))) for row, site in found]


@router.post("/recompute", response_model=RecomputeOut)
def recompute_verdicts(
    body: RecomputeIn, request: Request, scope: Admin, session: DB
) -> RecomputeOut:
    """Recompute a range now (the hub also does it on its own for the last week); unchanged
    inputs write nothing. At most 31 days; longer spans: `pantau verdicts recompute`."""
    settings = runtime(request).settings
    _not_future(body.start, "from", settings)
    _not_future(body.to, "to", settings)
    if body.to < body.start:
        raise Invalid(f"to ({body.to}) is before from ({body.start})", "to")
    if (body.to - body.start).days + 1 > MAX_RECOMPUTE_DAYS:
        raise Invalid(
            f"at most {MAX_RECOMPUTE_DAYS} days at a time; use `pantau verdicts recompute`",
            "to",
        )
    if body.site_ids is not None:
        found = set(session.scalars(select(Site.id).where(Site.id.in_(body.site_ids))))
        missing = sorted(set(body.site_ids) - found)
        if missing:
            raise Invalid(f"unknown site ids: {', '.join(map(str, missing))}", "site_ids")
    report = recompute_range(session, settings, body.start, body.to, body.site_ids)
    out = RecomputeOut(
        start=body.start,
        to=body.to,
        site_ids=body.site_ids,
        **{k: v for k, v in report.to_dict().items() if k != "failed"},
    )
    audit.record(
        session,
        scope,
        "verdict.recompute",
        object_type="verdict",
        detail=out.model_dump(mode="json", by_alias=True),
        ip=client_ip(request),
    )
    return out


@router.get("/{site_id}/{day}", response_model=VerdictDetailOut)
def get_verdict(
    site_id: int,
    day: date,
    request: Request,
    scope: Caller,
    session: DB,
    timeline: Annotated[bool, Query(description="include the per-minute observations")] = True,
) -> VerdictDetailOut:
    """One verdict with its evidence, superseded versions, corrections and the day's timeline."""
    site = visible_site(session, scope, site_id, "verdict.read")
    _not_future(day, "day", runtime(request).settings)
    row = _verdict(session, runtime(request).settings, site, day)
    return _detail(request, session, row, site, timeline)


@router.get("/{site_id}/{day}/status", response_model=DayStatusOut)
def get_day_status(
    site_id: int, day: date, request: Request, scope: Caller, session: DB
) -> DayStatusOut:
    """Whether a verdict exists for the day and whether the site's agent has sent all of the
    day yet: the drill-down asks this first, so a day still waiting for its data is said as
    such rather than as a missing verdict."""
    settings = runtime(request).settings
    site = visible_site(session, scope, site_id, "verdict.read")
    _not_future(day, "day", settings)
    exists = session.scalar(
        select(VerdictRow.id).where(VerdictRow.site_id == site.id, VerdictRow.day == day)
    )
    agent = site_agents(session, settings, [site.id], utcnow()).get(site.id)
    return DayStatusOut(
        site_id=site.id,
        site_name=site.name,
        day=day,
        has_verdict=exists is not None,
        pending_sync=_pending(agent, day, settings),
        agent=AgentBrief(**agent.brief()) if agent else None,
    )


@router.post("/{site_id}/{day}/corrections", response_model=VerdictDetailOut, status_code=201)
def add_verdict_correction(
    site_id: int, day: date, body: CorrectionIn, request: Request, scope: Admin, session: DB
) -> VerdictDetailOut:
    """Attach an official reason; the computed verdict stays visible, the latest reason
    applies (`effective_status` "dikoreksi")."""
    settings = runtime(request).settings
    site = visible_site(session, scope, site_id, "verdict.correction.create")
    _not_future(day, "day", settings)
    row = _verdict(session, settings, site, day)
    correction = add_correction(session, row, body.reason, body.note, scope)
    audit.record(
        session,
        scope,
        "verdict.correction.create",
        object_type="verdict",
        object_id=row.id,
        detail={
            "site_id": site.id,
            "day": day.isoformat(),
            "correction_id": correction.id,
            "reason": correction.reason.value,
            "note": correction.note,
            "status": row.status,
            "version": row.version,
        },
        ip=client_ip(request),
    )
    return _detail(request, session, row, site, timeline=False)
