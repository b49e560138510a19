"""Incidents: list and inspect (everyone, within scope); acknowledge, assign and resolve
(control room: admin and operator). Every write and every refusal is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.accounts import audit
from pantau.accounts.scope import Scope
from pantau.store.models import Camera, Incident, Role, Site
from pantau.store.types import utcnow
from pantau.web.deps import DB, Caller, client_ip, current_scope, runtime
from pantau.web.errors import ApiError, Conflict, Forbidden, NotFound
from pantau.web.routes.cameras import visible_camera

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

STATES = ("new", "acknowledged", "resolved")
CONTROL_ROOM = frozenset({Role.ADMIN, Role.OPERATOR})


class IncidentOut(BaseModel):
    id: str
    camera_id: int
    site_id: int
    kind: str
    start: datetime
    end: datetime | None
    state: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    note: str | None
    assignee: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    has_snapshot: bool
    detail: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class AckIn(BaseModel):
    note: str = Field(min_length=3, max_length=2000, description="What was seen or done")


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=120)


class ResolveIn(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


def control_room(request: Request, scope: Annotated[Scope, Depends(current_scope)]) -> Scope:
    """Only the control room works incidents; regional roles and pimpinan only read them."""
    if scope.role not in CONTROL_ROOM:
        raise Forbidden(
            f"{request.method} {request.url.path}",
            "incident",
            request.path_params.get("incident_id"),
        )
    return scope


ControlRoom = Annotated[Scope, Depends(control_room)]


def incident_out(row: Incident) -> IncidentOut:
    return IncidentOut(
        id=row.id,
        camera_id=row.camera_id,
        site_id=row.camera.site_id,
        kind=row.kind,
        start=row.start,
        end=row.end,
        state=row.state,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        note=row.note,
        assignee=row.assignee,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        has_snapshot=row.snapshot_path is not None,
        detail=row.detail or {},
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def visible_incident(session: Session, scope: Scope, incident_id: str, action: str) -> Incident:
    row = session.get(Incident, incident_id)
    if row is None:
        raise NotFound("incident", incident_id)
    if not scope.can_see_site(row.camera.site):
        raise Forbidden(action, "incident", incident_id)
    return row


@router.get("", response_model=list[IncidentOut])
def list_incidents(
    scope: Caller,
    session: DB,
    state: Annotated[str | None, Query(pattern="^(new|acknowledged|resolved)$")] = None,
    kind: Annotated[str | None, Query()] = None,
    camera_id: Annotated[int | None, Query()] = None,
    since: Annotated[datetime | None, Query(description="Incidents starting at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[IncidentOut]:
    """Newest first, only cameras of sites in the caller's scope."""
    query = scope.filter_sites(select(Incident).join(Camera).join(Site))
    if camera_id is not None:
        visible_camera(session, scope, camera_id, "incident.list")
        query = query.where(Incident.camera_id == camera_id)
    if state:
        query = query.where(Incident.state == state)
    if kind:
        query = query.where(Incident.kind == kind)
    if since is not None:
        if since.tzinfo is None:
            raise ApiError(422, "invalid", "since needs a time zone (e.g. Z or +08:00)", "since")
        query = query.where(Incident.start >= since)
    query = query.order_by(Incident.start.desc(), Incident.id).limit(limit)
    return [incident_out(row) for row in session.scalars(query)]


@router.get("/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: str, scope: Caller, session: DB) -> IncidentOut:
    return incident_out(visible_incident(session, scope, incident_id, "incident.read"))


@router.get(
    "/{incident_id}/snapshot.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def incident_snapshot(incident_id: str, request: Request, scope: Caller, session: DB) -> Response:
    """The frame of the incident's moment (evidence, not the live view); `detail.evidence`
    says where it came from, or why there is none."""
    row = visible_incident(session, scope, incident_id, "incident.snapshot")
    if row.snapshot_path is None:
        why = ((row.detail or {}).get("evidence") or {}).get("note")
        message = f"incident {incident_id} has no snapshot"
        raise ApiError(404, "not_found", f"{message}: {why}" if why else message)
    try:
        data = (runtime(request).settings.data_dir / row.snapshot_path).read_bytes()
    except FileNotFoundError:
        raise ApiError(404, "not_found", f"snapshot of incident {incident_id} is gone") from None
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private"})


def _audit(
    session: Session, scope: Scope, request: Request, action: str, row: Incident, **detail: Any
) -> None:
    audit.record(
        session,
        scope,
        action,
        object_type="incident",
        object_id=row.id,
        detail={"camera_id": row.camera_id, "kind": row.kind, "state": row.state, **detail},
        ip=client_ip(request),
    )


@router.post("/{incident_id}/acknowledge", response_model=IncidentOut)
def acknowledge(
    incident_id: str, body: AckIn, request: Request, scope: ControlRoom, session: DB
) -> IncidentOut:
    """Someone has looked at it; the note says what they saw or did."""
    row = visible_incident(session, scope, incident_id, "incident.acknowledge")
    if row.state != "new":
        raise Conflict(f"incident {incident_id} is already {row.state}", "state")
    row.state = "acknowledged"
    row.acknowledged_by = scope.username
    row.acknowledged_at = utcnow()
    row.note = body.note.strip()
    session.flush()
    _audit(session, scope, request, "incident.acknowledge", row, note=row.note)
    return incident_out(row)


@router.post("/{incident_id}/assign", response_model=IncidentOut)
def assign(
    incident_id: str, body: AssignIn, request: Request, scope: ControlRoom, session: DB
) -> IncidentOut:
    row = visible_incident(session, scope, incident_id, "incident.assign")
    if row.state == "resolved":
        raise Conflict(f"incident {incident_id} is already resolved", "state")
    previous = row.assignee
    row.assignee = body.assignee.strip()
    session.flush()
    _audit(
        session, scope, request, "incident.assign", row, assignee=row.assignee, previous=previous
    )
    return incident_out(row)


@router.post("/{incident_id}/resolve", response_model=IncidentOut)
def resolve(
    incident_id: str, body: ResolveIn, request: Request, scope: ControlRoom, session: DB
) -> IncidentOut:
    """Closed for good: re-analysis never reopens it. Resolving twice is a conflict."""
    row = visible_incident(session, scope, incident_id, "incident.resolve")
    if row.state == "resolved":
        raise Conflict(f"incident {incident_id} is already resolved", "state")
    row.state = "resolved"
    row.resolved_by = scope.username
    row.resolved_at = utcnow()
    note = (body.note or "").strip()
    if note:  # keep the acknowledgement note; the audit log has each note on its own
        row.note = f"{row.note}\n{note}" if row.note else note
    session.flush()
    _audit(session, scope, request, "incident.resolve", row, note=note or None)
    return incident_out(row)
