"""Camera health: live state, per-minute history and uptime over any period."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pantau.store.models import Camera, CameraState, HealthSample, Site
from pantau.store.types import utcnow
from pantau.web.deps import DB, Caller
from pantau.web.errors import Invalid
from pantau.web.routes.cameras import visible_camera

router = APIRouter(prefix="/api", tags=["health"])

STALE_AFTER = timedelta(seconds=30)
PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


class CameraHealthOut(BaseModel):
    camera_id: int
    camera_name: str
    site_id: int
    site_name: str
    enabled: bool
    state: str
    reason: str | None
    reason_code: str | None
    since: datetime | None
    last_packet_at: datetime | None
    fps: float
    kbps: float
    width: int | None
    height: int | None
    codec: str | None
    reconnects: int
    worker: str | None
    updated_at: datetime | None
    uptime: dict[str, float | None]


class SampleOut(BaseModel):
    minute: datetime
    state: str
    online_seconds: float
    fps: float
    kbps: float
    reconnects: int
    reason: str | None


class CameraHistoryOut(BaseModel):
    camera: CameraHealthOut
    start: datetime
    end: datetime
    uptime_percent: float
    known_percent: float
    samples: list[SampleOut]


def uptime_percent(
    session: Session, camera_id: int, start: datetime, end: datetime
) -> dict[str, Any]:
    """Online seconds over the period; minutes without a sample count as down (and are reported)."""
    online, minutes = session.execute(
        select(func.coalesce(func.sum(HealthSample.online_seconds), 0.0), func.count())
        .where(HealthSample.camera_id == camera_id)
        .where(HealthSample.minute >= start, HealthSample.minute < end)
    ).one()
    period = (end - start).total_seconds()
    return {
        "uptime_percent": round(100.0 * float(online) / period, 2),
        "known_percent": round(100.0 * min(60.0 * minutes, period) / period, 2),
    }


def live_state(camera: Camera, row: CameraState | None, now: datetime) -> dict[str, Any]:
    """A state row nobody has refreshed lately means no worker is running for the camera."""
    if not camera.enabled:
        return {"state": "disabled", "reason": "kamera dinonaktifkan", "reason_code": "disabled"}
    if row is None:
        return {"state": "offline", "reason": "belum pernah terhubung", "reason_code": "never"}
    if now - row.updated_at > STALE_AFTER:
        return {
            "state": "offline",
            "reason": "perekam tidak melapor (proses perekam mati?)",
            "reason_code": "no_worker",
        }
    return {"state": row.state, "reason": row.reason, "reason_code": row.reason_code}


def camera_health(session: Session, camera: Camera, now: datetime) -> CameraHealthOut:
    row = session.get(CameraState, camera.id)
    return CameraHealthOut(
        camera_id=camera.id,
        camera_name=camera.name,
        site_id=camera.site_id,
        site_name=camera.site.name,
        enabled=camera.enabled,
        since=row.since if row else None,
        last_packet_at=row.last_packet_at if row else None,
        fps=row.fps if row else 0.0,
        kbps=row.kbps if row else 0.0,
        width=row.width if row else None,
        height=row.height if row else None,
        codec=row.codec if row else None,
        reconnects=row.reconnects if row else 0,
        worker=row.worker if row else None,
        updated_at=row.updated_at if row else None,
        uptime={
            name: uptime_percent(session, camera.id, now - span, now)["uptime_percent"]
            for name, span in PERIODS.items()
        },
        **live_state(camera, row, now),
    )


@router.get("/health/cameras", response_model=list[CameraHealthOut])
def list_camera_health(scope: Caller, session: DB) -> list[CameraHealthOut]:
    now = utcnow()
    query = scope.filter_sites(select(Camera).join(Site)).order_by(Camera.site_id, Camera.id)
    return [camera_health(session, cam, now) for cam in session.scalars(query)]


@router.get("/cameras/{camera_id}/health", response_model=CameraHistoryOut)
def get_camera_health(
    camera_id: int,
    scope: Caller,
    session: DB,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> CameraHistoryOut:
    camera = visible_camera(session, scope, camera_id, "camera.health")
    now = utcnow()
    end = end or now
    start = start or end - timedelta(hours=24)
    for name, value in (("from", start), ("to", end)):
        if value.tzinfo is None:
            raise Invalid(f"{name} needs a time zone (e.g. 2026-11-29T07:30:00+08:00)", name)
    if end <= start or end - start > timedelta(days=31):
        raise Invalid("the range must be positive and at most 31 days", "to")
    samples = session.scalars(
        select(HealthSample)
        .where(HealthSample.camera_id == camera.id)
        .where(HealthSample.minute >= start, HealthSample.minute < end)
        .order_by(HealthSample.minute)
    )
    up = uptime_percent(session, camera.id, start, end)
    return CameraHistoryOut(
        camera=camera_health(session, camera, now),
        start=start,
        end=end,
        samples=[SampleOut.model_validate(s, from_attributes=True) for s in samples],
        **up,
    )
