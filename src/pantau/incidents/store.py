"""Incidents in the database: idempotent upsert of rule output, and evaluation of one camera."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.config.model import Settings
from pantau.incidents.rules import IncidentSpec, detect, offline_incidents
from pantau.media.snapshot import latest_path
from pantau.registry.calendar import DaySchedule
from pantau.registry.schedule import site_day
from pantau.store.models import Camera, HealthSample, Incident, Observation

SnapshotFor = Callable[[IncidentSpec], str | None]


def upsert_incidents(
    session: Session, specs: Iterable[IncidentSpec], snapshot_for: SnapshotFor | None = None
) -> list[Incident]:
    """Insert new incidents, extend known ones. Idempotent by the stable ID.

    Only the facts (end, detail) are updated; the workflow state a person set is never
    touched, so a resolved incident stays resolved however often the day is re-analysed.
    `snapshot_for` is called once, when an incident is first created (evidence).
    """
    out = []
    for spec in specs:
        row = session.get(Incident, spec.id)
        if row is None:
            row = Incident(
                id=spec.id,
                camera_id=spec.camera_id,
                kind=spec.kind,
                start=spec.start,
                end=spec.end,
                state="new",
                detail=dict(spec.detail),
                snapshot_path=snapshot_for(spec) if snapshot_for else None,
            )
            session.add(row)
        else:
            if row.end is not None and (spec.end is None or spec.end > row.end):
                row.end = spec.end
            if row.detail != spec.detail:
                row.detail = dict(spec.detail)
        out.append(row)
    session.flush()
    return out


def evidence_copier(settings: Settings, camera_id: int) -> SnapshotFor:
    """Copy the camera's latest JPEG to data_dir/incidents/<id>.jpg; path relative to data_dir."""

    def copy(spec: IncidentSpec) -> str | None:
        src = latest_path(settings.snapshots_dir, camera_id)
        if not src.is_file():
            return None
        rel = f"incidents/{spec.id}.jpg"
        dest = settings.data_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(src, dest)
        except FileNotFoundError:  # replaced by the pipeline between the check and the copy
            return None
        return rel

    return copy


def evaluate_camera(
    session: Session,
    settings: Settings,
    camera_id: int,
    since: datetime,
    until: datetime,
    allowed: Callable[[datetime], bool] | None = None,
) -> list[Incident]:
    """Run the rules over [since, until) of one camera against its site's calendar."""
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise ValueError(f"camera {camera_id} does not exist")
    tz = ZoneInfo(settings.city.timezone)
    days: dict[date, DaySchedule] = {}

    def scheduled(minute: datetime) -> bool:
        local = minute.astimezone(tz)
        day = days.get(local.date())
        if day is None:
            day = days[local.date()] = site_day(session, camera.site, local.date())
        if not day.working or day.opens is None or day.closes is None:
            return False
        return day.opens <= local.time().replace(tzinfo=None) < day.closes

    observations = list(
        session.scalars(
            select(Observation)
            .where(Observation.camera_id == camera_id)
            .where(Observation.minute >= since, Observation.minute < until)
            .order_by(Observation.minute)
        )
    )
    samples = list(
        session.scalars(
            select(HealthSample)
            .where(HealthSample.camera_id == camera_id)
            .where(HealthSample.minute >= since, HealthSample.minute < until)
            .order_by(HealthSample.minute)
        )
    )
    specs = detect(observations, scheduled=scheduled, allowed=allowed or (lambda _: False))
    specs += offline_incidents(samples)
    return upsert_incidents(session, specs, evidence_copier(settings, camera_id))
