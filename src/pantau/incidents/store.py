"""Incidents in the database: idempotent upsert of rule output, and evaluation of one camera."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pantau.config.model import Settings
from pantau.incidents.evidence import Evidence, EvidenceFor, Footage, evidence_taker
from pantau.incidents.hours import Hours, expected_predicate, working_hours
from pantau.incidents.rules import IncidentSpec, detect, offline_incidents
from pantau.incidents.windows import allowed_predicate, stored_windows
from pantau.registry.schedule import site_day
from pantau.store.models import Camera, HealthSample, Incident, Observation

# Observations read before the window, so a run that began just before it keeps its start
# (and so its id) instead of starting anew at the window's edge.
CONTEXT = timedelta(minutes=15)
# How far back an incident still open (or ending) at the window's start pulls the window, so
# a long outage or a covered lens stays one incident. Past this, it is cut at the window.
MAX_EXTEND = timedelta(days=7)
GAP = timedelta(minutes=2)  # the longest gap a rule bridges
MINUTE = timedelta(minutes=1)


def _detail(spec: IncidentSpec, evidence: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(spec.detail)
    if evidence is not None:
        out["evidence"] = evidence
    return out


def upsert_incidents(
    session: Session, specs: Sequence[IncidentSpec], evidence: EvidenceFor | None = None
) -> list[Incident]:
    """Insert new incidents, extend known ones. Idempotent by the stable ID.

    Only the facts (end, detail) are updated; the workflow state a person set is never
    touched, so a resolved incident stays resolved however often the day is re-analysed.
    An incident closes when a window sees its condition stop, and reopens only when a window
    sees it go on past its recorded end (a window that merely ends earlier changes nothing).
    `evidence` is called when an incident is created, and again while it has no picture (the
    recording of the moment may be indexed only after the first evaluation).
    """
    out = []
    for spec in specs:
        row = session.get(Incident, spec.id)
        if row is None:
            ev: Evidence | None = evidence(spec) if evidence else None
            row = Incident(
                id=spec.id,
                camera_id=spec.camera_id,
                kind=spec.kind,
                start=spec.start,
                end=spec.end,
                state="new",
                detail=_detail(spec, ev.detail() if ev else None),
                snapshot_path=ev.path if ev else None,
            )
            session.add(row)
            out.append(row)
            continue
        partial = False  # the window ended before the known end: it saw less, keep the facts
        if spec.end is not None:
            if row.end is None or spec.end > row.end:
                row.end = spec.end
        elif row.end is not None:
            if spec.last is None or spec.last >= row.end:
                row.end = None  # it went on past the recorded end
            else:
                partial = spec.last < row.end - MINUTE
        known = (row.detail or {}).get("evidence")
        if row.snapshot_path is None and evidence is not None:
            ev = evidence(spec)
            if ev.path is not None:
                row.snapshot_path = ev.path
            if ev.path is not None or known is None:
                known = ev.detail()
        detail = dict(row.detail or {}) if partial else _detail(spec, known)
        if known is not None:
            detail["evidence"] = known
        if row.detail != detail:
            row.detail = detail
        out.append(row)
    session.flush()
    return out


def _scheduled(session: Session, camera: Camera, settings: Settings) -> Callable[[datetime], bool]:
    def hours_of(day: date) -> Hours | None:
        return working_hours(site_day(session, camera.site, day))

    return expected_predicate(
        hours_of, settings.city.timezone, settings.analytics.intrusion_margins.margins()
    )


def _window_start(session: Session, camera_id: int, since: datetime) -> datetime:
    """`since` minus the context, or earlier if a known incident runs across it."""
    start = since - CONTEXT
    earliest = session.scalar(
        select(Incident.start)
        .where(Incident.camera_id == camera_id, Incident.start < start)
        .where(or_(Incident.end.is_(None), Incident.end >= start - GAP))
        .order_by(Incident.start)
        .limit(1)
    )
    if earliest is not None:
        start = max(min(start, earliest), since - MAX_EXTEND)
    return start


def evaluate_camera(
    session: Session,
    settings: Settings,
    camera_id: int,
    since: datetime,
    until: datetime,
    allowed: Callable[[datetime], bool] | None = None,
    footage: Sequence[Footage] = (),
    *,
    read_until: datetime | None = None,
) -> list[Incident]:
    """Run the rules over [since, until) of one camera against its site's calendar.

    `allowed` defaults to the site's allowed windows. Observations a little before `since`
    (and back to the start of any incident still running there) are read as context, and
    the incidents whose run touches [since, until) are stored. Re-running any range gives
    the same ids, so late observations just extend incidents. `read_until` reads data past
    `until` as context (a run going on past the range is not cut at its end).
    """
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise ValueError(f"camera {camera_id} does not exist")
    if allowed is None:
        allowed = allowed_predicate(
            stored_windows(camera.site.allowed_windows), settings.city.timezone
        )
    start = _window_start(session, camera_id, since)
    end = max(until, read_until or until)
    observations = session.execute(
        select(
            Observation.camera_id,
            Observation.minute,
            Observation.people_max,
            Observation.tamper,
            Observation.motion_pct,
            Observation.ir_mode,
        )
        .where(Observation.camera_id == camera_id)
        .where(Observation.minute >= start, Observation.minute < end)
        .order_by(Observation.minute)
    ).all()
    samples = session.execute(
        select(HealthSample.camera_id, HealthSample.minute, HealthSample.state)
        .where(HealthSample.camera_id == camera_id)
        .where(HealthSample.minute >= start, HealthSample.minute < end)
        .order_by(HealthSample.minute)
    ).all()
    specs = detect(
        observations,
        scheduled=_scheduled(session, camera, settings),
        allowed=allowed,
        dark_motion_pct=settings.analytics.dark_motion_pct,
    )
    specs += offline_incidents(samples)
    specs = [s for s in specs if s.start < until and (s.last or s.start) >= since - GAP]
    return upsert_incidents(session, specs, evidence_taker(session, settings, camera_id, footage))


def evaluate_range(
    session: Session,
    settings: Settings,
    camera_id: int,
    since: datetime,
    until: datetime,
    footage: Sequence[Footage] = (),
) -> list[Incident]:
    """Incidents of a range just analysed (`pantau analyze`): evidence from `footage` too.

    Observations up to `CONTEXT` after `until` are read as well, so a visit that goes on past
    the analysed range is closed (or kept open) as the data says, not cut at the range's end.
    The caller commits. `footage` is the files analysed (`Footage(path, start, seconds)`):
    their frames are the evidence when the hub has no recording of the moment.
    """
    return evaluate_camera(
        session, settings, camera_id, since, until, footage=footage, read_until=until + CONTEXT
    )
