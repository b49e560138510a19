"""The control room's overview: every office's live state (map) and camera/site health.

Why a module of its own: the map and the health page each need one answer built from many
tables (sites, cameras, live camera states, observations, verdicts, health samples, segments)
for every visible site at once. Building it here in a few grouped queries keeps the browser to
one request per screen, instead of 65 x 5 small ones on a kelurahan's weak link.

How a site's live state is decided, and why, is in docs/site-state.md; `decide_state` is the
rule, pure so it can be tested and explained without a database.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import shutil
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import case, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pantau.accounts.scope import Scope
from pantau.config.model import Settings
from pantau.hub.pending import SiteAgent, label_moment, site_agents
from pantau.recordings.retention import disk_status
from pantau.registry.calendar import DaySchedule, format_hhmm
from pantau.registry.schedule import site_day
from pantau.store.models import (
    Camera,
    CameraState,
    Connectivity,
    HealthSample,
    Incident,
    Kecamatan,
    Kelurahan,
    Observation,
    Segment,
    Site,
    VerdictRow,
)
from pantau.store.types import utcnow
from pantau.verdicts.rules import STATUS_LABELS
from pantau.web.deps import DB, Caller, runtime
from pantau.web.routes.health import live_state
from pantau.web.schemas import AgentBrief

router = APIRouter(prefix="/api/overview", tags=["overview"])

DATA = Path(__file__).resolve().parents[2] / "registry" / "data"
BOUNDARY_FILES = {
    "kelurahan": DATA / "kendari_kelurahan.geojson",
    "kecamatan": DATA / "kendari_kecamatan.geojson",
}

STATES = ("open", "not_open_yet", "closed", "camera_offline", "not_connected")
STATE_LABELS = {
    "open": "Buka",
    "not_open_yet": "Belum buka",
    "closed": "Tutup",
    "camera_offline": "Kamera mati",
    "not_connected": "Belum terhubung",
}
SEEING = ("online", "degraded")  # camera states whose pictures reach the hub
FRESH = timedelta(minutes=5)  # an observation this recent tells who is there "now"
HEALTH_DAYS = 30
SPANS = ("24h", "7d", "30d")


# ---- the rule ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """What the state of one site at one instant depends on (all times aware UTC)."""

    now: datetime
    connectivity: str
    camera_states: tuple[str, ...]  # live state of each camera (routes.health.live_state)
    camera_reason: str | None  # why the first camera that cannot see is down
    schedule: DaySchedule
    opens: datetime | None  # today's scheduled open/close as instants
    closes: datetime | None
    opened_at: datetime | None  # from today's verdict: sustained presence, walked back
    people_now: int | None  # None: no observation in the last FRESH minutes
    agent: SiteAgent | None = None  # the site's edge agent, if it has one


@dataclass(frozen=True)
class Decision:
    state: str
    code: str
    vars: dict[str, Any]
    note: str | None = None  # said besides the state: "syncing", "agent_revoked"
    note_vars: dict[str, Any] = field(default_factory=dict)


def decide_state(i: Inputs, hhmm: Any = None, moment: Any = None) -> Decision:
    """The first rule that applies wins; see docs/site-state.md for each step and why.

    `hhmm` formats a time of today ("07.30 WITA"), `moment` an instant that may be on
    another day ("Sen 23 Nov 16.00 WITA"); both default to plain UTC text."""
    fmt = hhmm or (lambda dt: format_hhmm(dt.time()))
    when = moment or (lambda dt: f"{dt:%Y-%m-%d} {format_hhmm(dt.time())}")
    agent = i.agent
    if agent is not None and agent.state == "offline_pending":
        return Decision(
            "not_connected",
            "data_pending",
            {
                "since": when(agent.last_contact) if agent.last_contact else None,
                "since_at": agent.last_contact,
                "complete_until": when(agent.complete_until) if agent.complete_until else None,
                "complete_until_at": agent.complete_until,
                "backlog_items": agent.backlog_items,
            },
        )
    decision = _by_cameras_and_schedule(i, fmt)
    if agent is None:
        return decision
    if agent.state in ("revoked", "never"):
        if decision.state in ("not_connected", "camera_offline"):
            return Decision("not_connected", f"agent_{agent.state}", {})
        return replace(decision, note=f"agent_{agent.state}")
    if agent.state == "online" and agent.backlog_items > 0:
        return replace(decision, note="syncing", note_vars={"items": agent.backlog_items})
    return decision


def _by_cameras_and_schedule(i: Inputs, fmt: Any) -> Decision:
    if i.connectivity == Connectivity.PLANNED:
        return Decision("not_connected", "planned", {})
    if i.connectivity != Connectivity.CONNECTED:
        return Decision("not_connected", "link_down", {})
    if not i.camera_states:
        return Decision("not_connected", "no_camera", {})
    if not any(s in SEEING for s in i.camera_states):
        if all(s == "disabled" for s in i.camera_states):
            return Decision("camera_offline", "cameras_disabled", {})
        return Decision("camera_offline", "cameras_down", {"reason": i.camera_reason or "—"})
    people = i.people_now or 0
    present = {"people": people} if people else {}
    if not i.schedule.working or i.opens is None or i.closes is None:
        name = {"name": i.schedule.holiday_name or i.schedule.reason}
        return Decision("closed", "day_off_people" if people else "day_off", name | present)
    if i.now >= i.closes:
        closes = {"closes": fmt(i.closes)}
        code = "after_hours_people" if people else "after_hours"
        return Decision("closed", code, closes | present)
    if i.opened_at is not None and i.opened_at <= i.now:
        return Decision("open", "opened", {"opened": fmt(i.opened_at)})
    if i.now < i.opens:
        return Decision("not_open_yet", "before_open", {"opens": fmt(i.opens)})
    if people:
        return Decision("open", "staff_present", {"people": people})
    if i.people_now is None:
        return Decision("not_open_yet", "no_data", {"opens": fmt(i.opens)})
    minutes = int((i.now - i.opens).total_seconds() // 60)
    return Decision("not_open_yet", "late", {"opens": fmt(i.opens), "minutes": minutes})


REASONS = {
    "planned": "Situs direncanakan, belum dipasang",
    "link_down": "Jaringan situs belum terhubung ke pusat",
    "no_camera": "Belum ada kamera terdaftar",
    "cameras_disabled": "Semua kamera dinonaktifkan",
    "cameras_down": "Tidak ada kamera yang mengirim gambar: {reason}",
    "day_off": "Bukan hari kerja: {name}",
    "day_off_people": "Bukan hari kerja: {name}; {people} orang terlihat",
    "after_hours": "Jam kerja selesai {closes}",
    "after_hours_people": "Jam kerja selesai {closes}; {people} orang terlihat",
    "opened": "Dibuka {opened}",
    "staff_present": "{people} orang di kantor sekarang",
    "before_open": "Jadwal buka {opens}",
    "no_data": "Jadwal buka {opens}; belum ada hasil analitik terbaru",
    "late": "Belum ada petugas; jadwal buka {opens} (lewat {minutes} menit)",
    "data_pending": "Lokasi offline sejak {since}, data menunggu dikirim "
    "(lengkap s.d. {complete_until})",
    "data_pending_none": "Lokasi offline sejak {since}, data menunggu dikirim "
    "(belum ada data lengkap)",
    "agent_revoked": "Agen lokasi dicabut; data dari lokasi tidak lagi diterima",
    "agent_never": "Agen lokasi terdaftar tetapi belum pernah menghubungi pusat",
}
NOTES = {
    "syncing": "mengirim data tertunda: {items} item",
    "agent_revoked": "agen lokasi dicabut",
    "agent_never": "agen lokasi belum pernah menghubungi pusat",
}


def thousands(n: int) -> str:
    """1234 -> "1.234" (Indonesian grouping)."""
    return f"{n:,}".replace(",", ".")


def reason_text(d: Decision) -> str:
    if d.code == "data_pending" and d.vars.get("complete_until") is None:
        return REASONS["data_pending_none"].format(**(d.vars | {"since": d.vars["since"] or "—"}))
    return REASONS[d.code].format(**d.vars)


def note_text(d: Decision) -> str | None:
    if d.note is None:
        return None
    return NOTES[d.note].format(**{k: thousands(v) for k, v in d.note_vars.items()})


# ---- geography --------------------------------------------------------------------------------


@functools.cache
def boundary_bytes(level: str) -> bytes:
    return BOUNDARY_FILES[level].read_bytes()


def _ring_centroid(ring: list[list[float]]) -> tuple[float, float, float]:
    """(signed area, x, y) of one ring by the shoelace formula (lon/lat as plane: a city)."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=False):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    area /= 2
    if area == 0:
        return 0.0, ring[0][0], ring[0][1]
    return area, cx / (6 * area), cy / (6 * area)


def polygon_centroid(geometry: dict[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) of the area-weighted centroid of a (Multi)Polygon's outer rings."""
    polys = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polys = [polys]
    parts = [_ring_centroid(p[0]) for p in polys if p and p[0]]
    total = sum(abs(a) for a, _, _ in parts)
    if not parts:
        return None
    if total == 0:
        return parts[0][2], parts[0][1]
    lon = sum(abs(a) * x for a, x, _ in parts) / total
    lat = sum(abs(a) * y for a, _, y in parts) / total
    return lat, lon


@functools.cache
def centroids(level: str) -> dict[str, tuple[float, float]]:
    data = json.loads(boundary_bytes(level))
    out = {}
    for feature in data["features"]:
        c = polygon_centroid(feature["geometry"])
        if c is not None:
            out[feature["properties"]["code"]] = c
    return out


def site_position(site: Site) -> tuple[float | None, float | None, str | None]:
    """The site's own coordinates, else its kelurahan's centroid, else its kecamatan's."""
    if site.lat is not None and site.lon is not None:
        return site.lat, site.lon, "site"
    for level, code in (("kelurahan", site.kelurahan_code), ("kecamatan", site.kecamatan_code)):
        if code and code in centroids(level):
            lat, lon = centroids(level)[code]
            return round(lat, 6), round(lon, 6), level
    return None, None, None


# ---- shared lookups ---------------------------------------------------------------------------


def visible_sites(session: Session, scope: Scope) -> list[Site]:
    query = scope.filter_sites(select(Site)).order_by(Site.kecamatan_code, Site.name, Site.id)
    return list(session.scalars(query))


def _names(session: Session) -> tuple[dict[str, str], dict[str, str]]:
    kec = dict(session.execute(select(Kecamatan.code, Kecamatan.name)).all())
    kel = dict(session.execute(select(Kelurahan.code, Kelurahan.name)).all())
    return kec, kel


def _cameras(session: Session, site_ids: list[int]) -> list[tuple[Camera, CameraState | None]]:
    if not site_ids:
        return []
    rows = session.execute(
        select(Camera, CameraState)
        .outerjoin(CameraState, CameraState.camera_id == Camera.id)
        .where(Camera.site_id.in_(site_ids))
        .order_by(Camera.site_id, Camera.id)
    )
    return [(cam, st) for cam, st in rows.all()]


UNKNOWN_BEHIND_AGENT = {
    "state": "unknown",
    "reason": "agen lokasi terputus; keadaan kamera belum diketahui",
    "reason_code": "agent_offline",
}


def seen_through(live: dict[str, Any], agent: SiteAgent | None) -> dict[str, Any]:
    """A camera behind an agent that is out of touch: its last reported state has only gone
    stale, so it is "unknown", not "offline" (kamera mati) — the camera may be recording."""
    behind = agent is not None and agent.state == "offline_pending"
    if behind and live["state"] not in (*SEEING, "disabled"):
        return UNKNOWN_BEHIND_AGENT
    return live


def _local(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.city.timezone)


def _hhmm_label(settings: Settings) -> Any:
    tz, label = _local(settings), settings.city.timezone_label
    return lambda dt: f"{format_hhmm(dt.astimezone(tz).time())} {label}"


# ---- GET /api/overview/sites ------------------------------------------------------------------


class CameraBrief(BaseModel):
    id: int
    name: str
    state: str
    reason: str | None
    since: datetime | None
    last_seen: datetime | None


class SiteStateOut(BaseModel):
    id: int
    slug: str
    kind: str
    name: str
    kecamatan_code: str | None
    kecamatan: str | None
    kelurahan_code: str | None
    kelurahan: str | None
    lat: float | None
    lon: float | None
    position: Literal["site", "kelurahan", "kecamatan"] | None = Field(
        description="Where lat/lon come from: the site's own, or a region's centroid"
    )
    connectivity: str
    cameras: dict[str, int] = Field(description="Number of cameras per live state")
    camera_list: list[CameraBrief]
    state: str = Field(description="|".join(STATES))
    state_label: str
    reason_code: str
    reason: str = Field(description="Bahasa Indonesia; the UI builds its own from reason_code")
    reason_vars: dict[str, Any]
    note_code: str | None = Field(description="syncing, agent_revoked, agent_never: besides state")
    note: str | None = Field(
        description='Bahasa Indonesia, e.g. "mengirim data tertunda: 1.234 item"'
    )
    note_vars: dict[str, Any]
    agent: AgentBrief | None = Field(description="The site's edge agent; null: none")
    working_day: bool
    schedule_rule: str = Field(description="The calendar rule that decided today's hours")
    schedule_reason: str
    scheduled_open: datetime | None
    scheduled_close: datetime | None
    people_now: int | None = Field(description="Most people one camera counts now; null: no data")
    people_at: datetime | None = Field(description="The observation minute people_now is from")
    opened_at: datetime | None = Field(description="Today's opening, from today's verdict")
    verdict_status: str | None
    verdict_label: str | None
    last_seen: datetime | None = Field(description="Last packet from any of the site's cameras")
    open_incidents: int


class OverviewOut(BaseModel):
    generated_at: datetime
    day: date
    states: list[str]
    counts: dict[str, int]
    total: int
    sites: list[SiteStateOut]


def _latest_people(
    session: Session, camera_ids: list[int], now: datetime
) -> dict[int, tuple[int, datetime]]:
    """Per camera, people at its latest observation minute within FRESH."""
    if not camera_ids:
        return {}
    latest = (
        select(Observation.camera_id, func.max(Observation.minute).label("minute"))
        .where(Observation.camera_id.in_(camera_ids), Observation.minute >= now - FRESH)
        .group_by(Observation.camera_id)
        .subquery()
    )
    rows = session.execute(
        select(Observation.camera_id, Observation.people_max, Observation.minute).join(
            latest,
            (latest.c.camera_id == Observation.camera_id) & (latest.c.minute == Observation.minute),
        )
    )
    return {cid: (people, minute) for cid, people, minute in rows}


def _open_incidents(session: Session, site_ids: list[int]) -> dict[int, int]:
    if not site_ids:
        return {}
    rows = session.execute(
        select(Camera.site_id, func.count())
        .join(Incident, Incident.camera_id == Camera.id)
        .where(Camera.site_id.in_(site_ids), Incident.state != "resolved")
        .group_by(Camera.site_id)
    )
    return dict(rows.all())


def _instant(day: date, t: time | None, tz: ZoneInfo) -> datetime | None:
    return None if t is None else datetime.combine(day, t, tzinfo=tz).astimezone(UTC)


def build_overview(session: Session, settings: Settings, scope: Scope) -> OverviewOut:
    now = utcnow()
    tz = _local(settings)
    today = now.astimezone(tz).date()
    fmt = _hhmm_label(settings)
    sites = visible_sites(session, scope)
    ids = [s.id for s in sites]
    kec_names, kel_names = _names(session)
    agents = site_agents(session, settings, ids, now)
    by_site: dict[int, list[tuple[Camera, CameraState | None, dict[str, Any]]]] = {}
    for cam, st in _cameras(session, ids):
        live = seen_through(live_state(cam, st, now), agents.get(cam.site_id))
        by_site.setdefault(cam.site_id, []).append((cam, st, live))
    cam_ids = [c.id for rows in by_site.values() for c, _, _ in rows]
    people = _latest_people(session, cam_ids, now)
    incidents = _open_incidents(session, ids)
    verdicts = {
        v.site_id: v
        for v in (
            session.scalars(
                select(VerdictRow).where(VerdictRow.day == today, VerdictRow.site_id.in_(ids))
            )
            if ids
            else []
        )
    }
    label = settings.city.timezone_label
    moment = lambda dt: label_moment(dt, tz, label, today)  # noqa: E731
    schedules: dict[int | None, DaySchedule] = {}  # one per calendar: most sites share the city's
    out: list[SiteStateOut] = []
    counts = dict.fromkeys(STATES, 0)
    for site in sites:
        if site.calendar_id not in schedules:
            schedules[site.calendar_id] = site_day(session, site, today)
        schedule = schedules[site.calendar_id]
        cams = by_site.get(site.id, [])
        states = tuple(live["state"] for _, _, live in cams)
        down = next((live for _, _, live in cams if live["state"] not in SEEING), None)
        seen = [people[c.id] for c, _, live in cams if c.id in people and live["state"] in SEEING]
        people_now = max((p for p, _ in seen), default=None)
        people_at = max((m for _, m in seen), default=None)
        verdict = verdicts.get(site.id)
        opens = _instant(today, schedule.opens, tz) if schedule.working else None
        closes = _instant(today, schedule.closes, tz) if schedule.working else None
        decision = decide_state(
            Inputs(
                now=now,
                connectivity=str(site.connectivity),
                camera_states=states,
                camera_reason=down["reason"] if down else None,
                schedule=schedule,
                opens=opens,
                closes=closes,
                opened_at=verdict.opened_at if verdict else None,
                people_now=people_now,
                agent=agents.get(site.id),
            ),
            fmt,
            moment,
        )
        counts[decision.state] += 1
        lat, lon, position = site_position(site)
        by_state: dict[str, int] = {}
        for s in states:
            by_state[s] = by_state.get(s, 0) + 1
        packets = [st.last_packet_at for _, st, _ in cams if st and st.last_packet_at]
        last_seen = max(packets, default=None)
        out.append(
            SiteStateOut(
                id=site.id,
                slug=site.slug,
                kind=str(site.kind),
                name=site.name,
                kecamatan_code=site.kecamatan_code,
                kecamatan=kec_names.get(site.kecamatan_code or ""),
                kelurahan_code=site.kelurahan_code,
                kelurahan=kel_names.get(site.kelurahan_code or ""),
                lat=lat,
                lon=lon,
                position=position,
                connectivity=str(site.connectivity),
                cameras=by_state,
                camera_list=[
                    CameraBrief(
                        id=c.id,
                        name=c.name,
                        state=live["state"],
                        reason=live["reason"],
                        since=st.since if st else None,
                        last_seen=st.last_packet_at if st else None,
                    )
                    for c, st, live in cams
                ],
                state=decision.state,
                state_label=STATE_LABELS[decision.state],
                reason_code=decision.code,
                reason=reason_text(decision),
                reason_vars=decision.vars,
                note_code=decision.note,
                note=note_text(decision),
                note_vars=decision.note_vars,
                agent=AgentBrief(**agents[site.id].brief()) if site.id in agents else None,
                working_day=schedule.working,
                schedule_rule=schedule.rule,
                schedule_reason=schedule.holiday_name or schedule.reason,
                scheduled_open=opens,
                scheduled_close=closes,
                people_now=people_now,
                people_at=people_at,
                opened_at=verdict.opened_at if verdict else None,
                verdict_status=verdict.status if verdict else None,
                verdict_label=STATUS_LABELS.get(verdict.status) if verdict else None,
                last_seen=last_seen,
                open_incidents=incidents.get(site.id, 0),
            )
        )
    return OverviewOut(
        generated_at=now, day=today, states=list(STATES), counts=counts, total=len(out), sites=out
    )


@router.get("/sites", response_model=OverviewOut)
def overview_sites(request: Request, scope: Caller, session: DB) -> OverviewOut:
    """Every visible site's live state (open, not yet open, closed, camera offline, not
    connected) with its reason, people now, today's opening and verdict; counts per state."""
    return build_overview(session, runtime(request).settings, scope)


@router.get(
    "/boundaries",
    responses={200: {"content": {"application/geo+json": {}}}, 304: {"description": "unchanged"}},
)
def boundaries(
    request: Request,
    scope: Caller,
    level: Annotated[Literal["kelurahan", "kecamatan"], Query()] = "kelurahan",
) -> Response:
    """The shipped boundary GeoJSON (features carry `code` and `name`); cacheable by ETag."""
    body = boundary_bytes(level)
    etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/geo+json", headers=headers)


# ---- GET /api/overview/health -----------------------------------------------------------------


class CameraHealthRow(BaseModel):
    camera_id: int
    name: str
    site_id: int
    site_name: str
    kecamatan: str | None
    enabled: bool
    state: str
    reason: str | None
    reason_code: str | None
    since: datetime | None
    last_seen: datetime | None
    installed_at: datetime = Field(description="Added to Pantau (or its first sample, if earlier)")
    never_seen: bool = Field(description="Enabled, and never sent a packet nor a recording")
    uptime: dict[str, float | None] = Field(description="Online share since installed, per span")
    recorded: dict[str, float | None] = Field(description="Recorded share since installed")
    bytes: int = Field(description="Size of its recordings of the last 30 days")
    days_uptime: list[float | None] = Field(description="Per local day (see `days`); null: none")
    days_recorded: list[float | None]


class SiteHealthRow(BaseModel):
    site_id: int
    name: str
    slug: str
    kecamatan: str | None
    kelurahan_code: str | None
    connectivity: str
    cameras: int
    by_state: dict[str, int]
    uptime: dict[str, float | None]
    recorded: dict[str, float | None]
    bytes: int
    last_seen: datetime | None


class NotConnectedRow(BaseModel):
    site_id: int
    name: str
    kecamatan: str | None
    kelurahan_code: str | None
    connectivity: str
    cameras: int
    never_seen: int = Field(description="Cameras that never sent a picture")
    reason_code: Literal["link_down", "never_seen"]
    reason: str
    since: datetime | None = Field(description="Earliest registration of its cameras")


class DiskOut(BaseModel):
    total_bytes: int | None
    used_bytes: int | None
    free_bytes: int
    min_free_bytes: int
    recordings_bytes: int = Field(description="Recordings of the cameras you can see")
    warning: str | None


class HealthOverviewOut(BaseModel):
    generated_at: datetime
    days: list[date]
    spans: list[str]
    counts: dict[str, int] = Field(description="Cameras per live state")
    cameras: list[CameraHealthRow]
    sites: list[SiteHealthRow]
    not_connected: list[NotConnectedRow]
    disk: DiskOut


def seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[float]:
    """end - start in seconds, in SQL (the two databases spell it differently)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Source:
    """A per-camera time series in the database: health samples or recorded segments."""

    name: str
    camera: Any
    time: Any
    seconds: Any
    size: Any


@dataclass
class _Series:
    """Per camera: seconds per local day (oldest first), over the last 24 h, bytes over the
    days, and the first instant seen in them."""

    days: dict[int, list[float]]
    last24: dict[int, float]
    bytes: dict[int, float]
    first: dict[int, datetime]


# A closed local day does not change (bar late uploads and retention), and summing 30 days of
# 10 s segments for 65 cameras reads ~17 million rows: each (camera, day) is summed once, one
# indexed range query per day, and kept for CLOSED_DAY_TTL. Only today and the last 24 h are
# read on every request.
CLOSED_DAY_TTL = 900.0
_closed: dict[tuple[str, str, int, date], tuple[float, float, datetime | None, float]] = {}


def _series(
    session: Session,
    src: _Source,
    ids: list[int],
    days: list[date],
    bounds: list[datetime],
    now: datetime,
) -> _Series:
    n = len(days)
    out = _Series({c: [0.0] * n for c in ids}, dict.fromkeys(ids, 0.0), dict.fromkeys(ids, 0.0), {})
    if not ids:
        return out
    db, clock = session.get_bind().url.render_as_string(), monotonic()
    if len(_closed) > 200_000:
        _closed.clear()
    cells: dict[tuple[int, int], tuple[float, float, datetime | None]] = {}
    missing: list[tuple[int, int]] = []
    for cid in ids:
        for i in range(n - 1):
            hit = _closed.get((db, src.name, cid, days[i]))
            if hit is not None and clock - hit[3] < CLOSED_DAY_TTL:
                cells[cid, i] = hit[:3]
            else:
                missing.append((cid, i))
    by_day: dict[int, list[int]] = {}
    for cid, i in missing:
        by_day.setdefault(i, []).append(cid)
    for i, cams in sorted(by_day.items()):
        # One indexed range per day: cheaper than one query bucketing 30 days with a CASE.
        rows = session.execute(
            select(src.camera, func.sum(src.seconds), func.sum(src.size), func.min(src.time))
            .where(src.camera.in_(cams), src.time >= bounds[i], src.time < bounds[i + 1])
            .group_by(src.camera)
        )
        got = {
            cid: (float(sec or 0), float(size or 0), _aware(first))
            for cid, sec, size, first in rows
        }
        for cid in cams:
            cells[cid, i] = got.get(cid, (0.0, 0.0, None))
            _closed[db, src.name, cid, days[i]] = (*cells[cid, i], clock)
    today, day_ago = bounds[-2], now - timedelta(hours=24)
    fresh = session.execute(
        select(
            src.camera,
            func.sum(case((src.time >= today, src.seconds), else_=0.0)),
            func.sum(case((src.time >= today, src.size), else_=0)),
            func.sum(case((src.time >= day_ago, src.seconds), else_=0.0)),
            func.min(case((src.time >= today, src.time), else_=None)),
        )
        .where(src.camera.in_(ids), src.time >= min(today, day_ago), src.time < now)
        .group_by(src.camera)
    )
    for cid, seconds, size, last24, first in fresh:
        cells[cid, n - 1] = (float(seconds or 0), float(size or 0), _aware(first))
        out.last24[cid] = float(last24 or 0)
    for (cid, i), (seconds, size, first) in cells.items():
        out.days[cid][i] = seconds
        out.bytes[cid] += size
        if first is not None:
            out.first[cid] = min(out.first.get(cid, first), first)
    return out


def _share(seconds: float, start: datetime, end: datetime) -> float | None:
    period = (end - start).total_seconds()
    if period <= 0:
        return None
    return round(min(100.0, 100.0 * seconds / period), 2)


def _day_shares(
    series: _Series, cid: int, bounds: list[datetime], installed: datetime, now: datetime
) -> list[float | None]:
    """Share of each local day since the camera was installed (today: until now)."""
    seconds = series.days[cid]
    return [
        _share(seconds[i], max(bounds[i], installed), min(bounds[i + 1], now))
        for i in range(len(bounds) - 1)
    ]


def _span_shares(
    series: _Series, cid: int, bounds: list[datetime], installed: datetime, now: datetime
) -> dict[str, float | None]:
    """24 h rolling; 7 d and 30 d are local days (today and the 6 or 29 before it)."""
    days = series.days[cid]
    return {
        "24h": _share(series.last24[cid], max(now - timedelta(hours=24), installed), now),
        "7d": _share(sum(days[-7:]), max(bounds[-8], installed), now),
        "30d": _share(sum(days), max(bounds[0], installed), now),
    }


def _disk(settings: Settings, recordings: int) -> DiskOut:
    status = disk_status(settings)
    probe = settings.recordings_dir
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    return DiskOut(
        total_bytes=usage.total,
        used_bytes=usage.used,
        free_bytes=status["free_bytes"],
        min_free_bytes=status["min_free_bytes"],
        recordings_bytes=recordings,
        warning=status["warning"],
    )


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 2) if known else None


def build_health(session: Session, settings: Settings, scope: Scope) -> HealthOverviewOut:
    now = utcnow()
    tz = _local(settings)
    today = now.astimezone(tz).date()
    days = [today - timedelta(days=HEALTH_DAYS - 1 - i) for i in range(HEALTH_DAYS)]
    bounds = [datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC) for d in days]
    bounds.append(bounds[-1] + timedelta(days=1))
    sites = visible_sites(session, scope)
    kec_names, _ = _names(session)
    cams = _cameras(session, [s.id for s in sites])
    ids = [c.id for c, _ in cams]
    # Health samples cover finished minutes: the one under way would read as downtime.
    sampled = now.replace(second=0, microsecond=0)
    up = _series(
        session,
        _Source(
            "uptime",
            HealthSample.camera_id,
            HealthSample.minute,
            HealthSample.online_seconds,
            literal_column("0"),
        ),
        ids,
        days,
        bounds,
        sampled,
    )
    duration = seconds_between(session, Segment.start, Segment.end)
    rec = _series(
        session,
        _Source("recorded", Segment.camera_id, Segment.start, duration, Segment.bytes),
        ids,
        days,
        bounds,
        now,
    )
    site_of = {s.id: s for s in sites}
    agents = site_agents(session, settings, list(site_of), now)
    camera_rows: list[CameraHealthRow] = []
    counts: dict[str, int] = {}
    for cam, st in cams:
        live = seen_through(live_state(cam, st, now), agents.get(cam.site_id))
        counts[live["state"]] = counts.get(live["state"], 0) + 1
        installed = min(
            [cam.created_at] + [x for x in (up.first.get(cam.id), rec.first.get(cam.id)) if x]
        )
        site = site_of[cam.site_id]
        camera_rows.append(
            CameraHealthRow(
                camera_id=cam.id,
                name=cam.name,
                site_id=cam.site_id,
                site_name=site.name,
                kecamatan=kec_names.get(site.kecamatan_code or ""),
                enabled=cam.enabled,
                state=live["state"],
                reason=live["reason"],
                reason_code=live["reason_code"],
                since=st.since if st else None,
                last_seen=st.last_packet_at if st else None,
                installed_at=installed,
                never_seen=cam.enabled
                and (st is None or st.last_packet_at is None)
                and not rec.bytes[cam.id],
                uptime=_span_shares(up, cam.id, bounds, installed, sampled),
                recorded=_span_shares(rec, cam.id, bounds, installed, now),
                bytes=int(rec.bytes[cam.id]),
                days_uptime=_day_shares(up, cam.id, bounds, installed, sampled),
                days_recorded=_day_shares(rec, cam.id, bounds, installed, now),
            )
        )
    per_site: dict[int, list[CameraHealthRow]] = {}
    for row in camera_rows:
        per_site.setdefault(row.site_id, []).append(row)
    site_rows: list[SiteHealthRow] = []
    missing: list[NotConnectedRow] = []
    for site in sites:
        rows = per_site.get(site.id, [])
        by_state: dict[str, int] = {}
        for r in rows:
            by_state[r.state] = by_state.get(r.state, 0) + 1
        site_rows.append(
            SiteHealthRow(
                site_id=site.id,
                name=site.name,
                slug=site.slug,
                kecamatan=kec_names.get(site.kecamatan_code or ""),
                kelurahan_code=site.kelurahan_code,
                connectivity=str(site.connectivity),
                cameras=len(rows),
                by_state=by_state,
                uptime={n: _mean([r.uptime[n] for r in rows if r.enabled]) for n in SPANS},
                recorded={n: _mean([r.recorded[n] for r in rows if r.enabled]) for n in SPANS},
                bytes=sum(r.bytes for r in rows),
                last_seen=max((r.last_seen for r in rows if r.last_seen), default=None),
            )
        )
        never = [r for r in rows if r.never_seen]
        if site.connectivity == Connectivity.NOT_CONNECTED or never:
            link_down = site.connectivity == Connectivity.NOT_CONNECTED
            missing.append(
                NotConnectedRow(
                    site_id=site.id,
                    name=site.name,
                    kecamatan=kec_names.get(site.kecamatan_code or ""),
                    kelurahan_code=site.kelurahan_code,
                    connectivity=str(site.connectivity),
                    cameras=len(rows),
                    never_seen=len(never),
                    reason_code="link_down" if link_down else "never_seen",
                    reason=REASONS["link_down"]
                    if link_down
                    else f"{len(never)} dari {len(rows)} kamera belum pernah mengirim gambar",
                    since=min((r.installed_at for r in rows), default=None),
                )
            )
    return HealthOverviewOut(
        generated_at=now,
        days=days,
        spans=list(SPANS),
        counts=counts,
        cameras=camera_rows,
        sites=site_rows,
        not_connected=missing,
        disk=_disk(settings, sum(r.bytes for r in camera_rows)),
    )


@router.get("/health", response_model=HealthOverviewOut)
def overview_health(request: Request, scope: Caller, session: DB) -> HealthOverviewOut:
    """Per camera and per site: state, uptime and recording completeness over 24 h / 7 d / 30 d
    and per day for 30 days, last seen, disk use; sites installed but not connected."""
    return build_health(session, runtime(request).settings, scope)


CSV_COLUMNS = (
    "kecamatan",
    "kode_kelurahan",
    "kantor",
    "konektivitas",
    "kamera",
    "kamera_belum_pernah_terlihat",
    "alasan",
    "terdaftar_sejak",
)


@router.get(
    "/not-connected.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def not_connected_csv(request: Request, scope: Caller, session: DB) -> Response:
    """ "Terpasang tapi belum terhubung" as CSV for the TIK evaluation (UTF-8 with BOM, so a
    spreadsheet opens the Indonesian text as it is); times in the city's zone."""
    settings = runtime(request).settings
    tz = _local(settings)
    report = build_health(session, settings, scope)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for r in report.not_connected:
        since = r.since.astimezone(tz).strftime("%Y-%m-%d %H.%M") if r.since else ""
        writer.writerow(
            [
                r.kecamatan or "",
                r.kelurahan_code or "",
                r.name,
                r.connectivity,
                r.cameras,
                r.never_seen,
                r.reason,
                f"{since} {settings.city.timezone_label}" if since else "",
            ]
        )
    name = f"belum-terhubung-{report.generated_at.astimezone(tz):%Y-%m-%d}.csv"
    return Response(
        buffer.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
