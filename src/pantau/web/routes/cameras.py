"""Cameras. Passwords go in, never come out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.accounts import audit
from pantau.accounts.scope import Scope
from pantau.registry.cameras import CameraError, apply_camera
from pantau.registry.secrets import split_credentials
from pantau.store.models import Camera, Site
from pantau.web.deps import DB, Admin, Caller, client_ip, runtime
from pantau.web.errors import Conflict, Forbidden, Invalid, NotFound
from pantau.web.routes.sites import visible_site
from pantau.web.schemas import CameraIn, CameraOut, CameraPatch

router = APIRouter(prefix="/api/cameras", tags=["cameras"])

SECRET_FIELDS = {"password"}
URL_FIELDS = {"main_stream", "sub_stream"}


def camera_out(camera: Camera) -> CameraOut:
    return CameraOut(
        id=camera.id,
        site_id=camera.site_id,
        name=camera.name,
        purpose=camera.purpose,
        main_stream=camera.main_stream,
        sub_stream=camera.sub_stream,
        username=camera.username,
        has_password=camera.password_enc is not None,
        enabled=camera.enabled,
        zones=camera.zones or [],
    )


def visible_camera(session: Session, scope: Scope, camera_id: int, action: str) -> Camera:
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound("camera", camera_id)
    if not scope.can_see_site(camera.site):
        raise Forbidden(action, "camera", camera_id)
    return camera


def _redacted(fields: dict) -> dict:
    """Audit detail without secrets: the password field and any password inside a stream URL."""
    out = {}
    for key, value in fields.items():
        if key in SECRET_FIELDS and value:
            value = "***"
        elif key in URL_FIELDS and isinstance(value, str) and value:
            try:
                value = split_credentials(value)[0]
            except ValueError:  # unparseable URL: keep nothing of it rather than risk a secret
                value = "<unparseable URL>"
        out[key] = value
    return out


def _unique_name(session: Session, site_id: int, name: str, exclude: int | None = None) -> None:
    other = session.scalar(select(Camera).where(Camera.site_id == site_id, Camera.name == name))
    if other is not None and other.id != exclude:
        raise Conflict(f"site {site_id} already has a camera named {name!r}", "name")


@router.get("", response_model=list[CameraOut])
def list_cameras(
    scope: Caller, session: DB, site_id: Annotated[int | None, Query()] = None
) -> list[CameraOut]:
    query = scope.filter_sites(select(Camera).join(Site)).order_by(Camera.site_id, Camera.id)
    if site_id is not None:
        visible_site(session, scope, site_id, "camera.list")
        query = query.where(Camera.site_id == site_id)
    return [camera_out(c) for c in session.scalars(query)]


@router.get("/{camera_id}", response_model=CameraOut)
def get_camera(camera_id: int, scope: Caller, session: DB) -> CameraOut:
    return camera_out(visible_camera(session, scope, camera_id, "camera.read"))


@router.post("", response_model=CameraOut, status_code=201)
def create_camera(body: CameraIn, request: Request, scope: Admin, session: DB) -> CameraOut:
    site = session.get(Site, body.site_id)
    if site is None:
        raise Invalid(f"site {body.site_id} does not exist", "site_id")
    _unique_name(session, site.id, body.name)
    camera = Camera(site=site, name=body.name, purpose=body.purpose, main_stream="")
    fields = body.model_dump(exclude={"site_id"})
    if body.password is None:
        fields.pop("password")
    try:
        apply_camera(camera, runtime(request).secrets, fields=fields)
    except CameraError as exc:
        raise Invalid(str(exc), exc.field) from exc
    session.add(camera)
    session.flush()
    audit.record(
        session,
        scope,
        "camera.create",
        object_type="camera",
        object_id=camera.id,
        detail=_redacted(body.model_dump(mode="json")),
        ip=client_ip(request),
    )
    return camera_out(camera)


@router.patch("/{camera_id}", response_model=CameraOut)
def update_camera(
    camera_id: int, body: CameraPatch, request: Request, scope: Admin, session: DB
) -> CameraOut:
    camera = visible_camera(session, scope, camera_id, "camera.update")
    fields = body.model_dump(exclude_unset=True)
    if fields.get("name"):
        _unique_name(session, camera.site_id, fields["name"], exclude=camera.id)
    try:
        apply_camera(camera, runtime(request).secrets, fields=fields)
    except CameraError as exc:
        raise Invalid(str(exc), exc.field) from exc
    session.flush()
    audit.record(
        session,
        scope,
        "camera.update",
        object_type="camera",
        object_id=camera.id,
        detail=_redacted(body.model_dump(mode="json", exclude_unset=True)),
        ip=client_ip(request),
    )
    return camera_out(camera)


@router.delete("/{camera_id}", status_code=204)
def delete_camera(camera_id: int, request: Request, scope: Admin, session: DB) -> None:
    camera = visible_camera(session, scope, camera_id, "camera.delete")
    audit.record(
        session,
        scope,
        "camera.delete",
        object_type="camera",
        object_id=camera.id,
        detail={"name": camera.name, "site_id": camera.site_id},
        ip=client_ip(request),
    )
    session.delete(camera)
