"""Clips from edge sites (docs/edge.md, "Clip retrieval").

People: request a range of a camera at an agent's site, follow its progress, play and
download it when it is ready, cancel it. Requesting and cancelling are for the control room
(admin, operator), like evidence exports; reading and playing follow the camera's scope, like
playback. Playing or downloading the file is audited as `recording.clip.playback`.

Agents, with their own key: announce the file they built (`begin`, answers the hub's offset),
send chunks at an offset (`PUT …/data?offset=N`), `finish` with the size and SHA-256, or say
they `cannot` (the footage is gone at the site).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from pantau.accounts import audit
from pantau.accounts.scope import Scope
from pantau.hub import agents as hub_agents
from pantau.hub import clips as hub
from pantau.hub.connectivity import agent_summary
from pantau.recordings import exports as export_store
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Agent, Camera, ClipRequest, Role, Site
from pantau.store.types import utcnow
from pantau.web.deps import DB, Caller, bearer_token, client_ip, runtime
from pantau.web.errors import ApiError, Forbidden, Invalid, NotFound
from pantau.web.errors import body as error_body
from pantau.web.routes.agents import AgentCaller, _agent_of
from pantau.web.routes.cameras import visible_camera
from pantau.web.routes.recordings import FromQuery, ToQuery, _aware, _range
from pantau.web.schemas import In

router = APIRouter(tags=["clips (edge)"])

REQUESTERS = frozenset({Role.ADMIN, Role.OPERATOR})


class ClipIn(In):
    camera_id: int
    start: datetime = Field(alias="from", description="ISO 8601; without a zone it is WITA")
    end: datetime = Field(alias="to")


class ClipOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    camera_id: int
    camera: str
    site_id: int
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    from_local: str
    to_local: str
    state: str = Field(
        description="pending, uploading, ready, failed, cancelled or expired (past retention)"
    )
    requested_by: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    bytes_expected: int | None
    bytes_received: int
    percent: float | None
    eta_seconds: float | None = Field(description="At the agent's upload cap, if the link holds")
    rate_kbps: float | None
    agent_last_contact: datetime | None = Field(description="When the site was last heard from")
    sha256: str | None
    clip_start: datetime | None = Field(description="First frame (a keyframe at or before from)")
    clip_end: datetime | None
    frames: int | None
    restarts: int
    error: str | None
    file: str | None = Field(description="MP4 (Range requests allowed) once ready")


def _out(session: Any, request: Request, clip: ClipRequest) -> ClipOut:
    settings = runtime(request).settings
    camera = session.get(Camera, clip.camera_id)
    p = hub.progress(session, clip)
    prefix = request.scope.get("root_path", "").rstrip("/")
    return ClipOut(
        id=clip.id,
        camera_id=clip.camera_id,
        camera=camera.name,
        site_id=camera.site_id,
        start=clip.start,
        end=clip.end,
        from_local=export_store.local_label(clip.start, settings),
        to_local=export_store.local_label(clip.end, settings),
        state=clip.state,
        requested_by=clip.requested_by,
        created_at=clip.created_at,
        updated_at=clip.updated_at,
        started_at=clip.started_at,
        finished_at=clip.finished_at,
        bytes_expected=clip.bytes_expected,
        bytes_received=clip.bytes_received,
        percent=p.percent,
        eta_seconds=p.eta_seconds,
        rate_kbps=p.rate_kbps,
        agent_last_contact=p.agent_last_contact,
        sha256=clip.sha256 if clip.state == hub.READY else None,
        clip_start=clip.clip_start,
        clip_end=clip.clip_end,
        frames=clip.frames,
        restarts=clip.restarts,
        error=clip.error,
        file=f"{prefix}/api/clips/{clip.id}/file" if clip.state == hub.READY else None,
    )


def _visible_clip(session: Any, scope: Scope, clip_id: int, action: str) -> ClipRequest:
    clip = session.get(ClipRequest, clip_id)
    if clip is None:
        raise NotFound("clip", clip_id)
    visible_camera(session, scope, clip.camera_id, action)
    return clip


def _detail(clip: ClipRequest) -> dict[str, Any]:
    return {
        "camera_id": clip.camera_id,
        "from": export_store.utc_iso(clip.start),
        "to": export_store.utc_iso(clip.end),
        "state": clip.state,
    }


# ---- people -----------------------------------------------------------------------------------


@router.post("/api/clips", response_model=ClipOut, status_code=201)
def create_clip(body: ClipIn, request: Request, scope: Caller, session: DB) -> ClipOut:
    """Ask the camera's site for a range of its recording (at most `edge.clip_max_minutes`).
    It waits for the site's next contact; follow it with GET /api/clips/{id}."""
    settings = runtime(request).settings
    camera = visible_camera(session, scope, body.camera_id, "clip.request")
    if scope.role not in REQUESTERS:
        raise Forbidden("clip.request", "camera", camera.id)
    start, end = _aware(body.start, settings), _aware(body.end, settings)
    try:
        clip = hub.request_clip(
            session, settings, camera, start, end, scope.username, scope.user_id
        )
    except hub.ClipRefused as exc:
        raise Invalid(exc.message, exc.field) from None
    audit.record(
        session,
        scope,
        "clip.request",
        object_type="clip",
        object_id=clip.id,
        detail=_detail(clip) | {"agent_id": clip.agent_id},
        ip=client_ip(request),
    )
    return _out(session, request, clip)


@router.get("/api/clips", response_model=list[ClipOut])
def list_clips(
    request: Request,
    scope: Caller,
    session: DB,
    camera_id: Annotated[int | None, Query()] = None,
    state: Annotated[str | None, Query(description="pending, uploading, ready, …")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ClipOut]:
    """Clip requests of the cameras in your scope, newest first."""
    q = select(ClipRequest).join(Camera, Camera.id == ClipRequest.camera_id).join(Site)
    if camera_id is not None:
        visible_camera(session, scope, camera_id, "clip.list")
        q = q.where(ClipRequest.camera_id == camera_id)
    else:
        q = scope.filter_sites(q)
    if state is not None:
        if state not in (hub.PENDING, hub.UPLOADING, hub.READY, hub.FAILED, hub.CANCELLED):
            raise Invalid(f"unknown state {state!r}", "state")
        q = q.where(ClipRequest.state == state)
    rows = session.scalars(q.order_by(ClipRequest.id.desc()).limit(limit))
    return [_out(session, request, c) for c in rows]


@router.get("/api/clips/availability")
def availability(
    request: Request,
    scope: Caller,
    session: DB,
    camera_id: Annotated[int, Query()],
    start: FromQuery = None,
    to: ToQuery = None,
) -> dict[str, Any]:
    """Whether the camera's footage is at an agent's site, that agent's link, and what the
    site has recorded in the range (default: the last 24 hours), from its segment index."""
    rt = runtime(request)
    camera = visible_camera(session, scope, camera_id, "clip.availability")
    lo, hi = _range(rt.settings, start, to, timedelta(days=2))
    agent = hub.site_agent(session, camera.site_id)
    link = None
    if agent is not None:
        summary = agent_summary(agent, rt.settings, utcnow())
        link = {k: summary[k] for k in ("id", "name", "state", "state_label", "last_contact_at")}
    return {
        "camera_id": camera.id,
        "from": lo,
        "to": hi,
        "agent": link,
        "max_minutes": rt.settings.edge.clip_max_minutes,
        "may_request": scope.role in REQUESTERS,
        "recorded": [
            {"from": a, "to": b} for a, b in hub.recorded_ranges(session, camera.id, lo, hi)
        ],
    }


@router.get("/api/clips/{clip_id}", response_model=ClipOut)
def get_clip(clip_id: int, request: Request, scope: Caller, session: DB) -> ClipOut:
    """State, progress (bytes, percent, ETA at the site's cap) and, once ready, the file."""
    return _out(session, request, _visible_clip(session, scope, clip_id, "clip.read"))


@router.post("/api/clips/{clip_id}/cancel", response_model=ClipOut)
def cancel_clip(clip_id: int, request: Request, scope: Caller, session: DB) -> ClipOut:
    """Stop a request that is still waiting or uploading; the site stops at its next chunk."""
    clip = _visible_clip(session, scope, clip_id, "clip.cancel")
    if scope.role not in REQUESTERS:
        raise Forbidden("clip.cancel", "clip", clip_id)
    with hub.lock_for(clip_id):  # not between a chunk's write and its commit
        session.refresh(clip, with_for_update=True)
        try:
            hub.cancel(session, runtime(request).settings, clip)
        except hub.ClipRefused as exc:
            raise ApiError(exc.status, "conflict", exc.message, exc.field) from None
        audit.record(
            session,
            scope,
            "clip.cancel",
            object_type="clip",
            object_id=clip.id,
            detail=_detail(clip) | {"bytes_received": clip.bytes_received},
            ip=client_ip(request),
        )
        session.flush()  # the row stays locked (FOR UPDATE) until the request's commit
    return _out(session, request, clip)


@router.get(
    "/api/clips/{clip_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}}, 206: {"content": {"video/mp4": {}}}},
)
def clip_file(
    clip_id: int,
    request: Request,
    scope: Caller,
    session: DB,
    download: Annotated[bool, Query(description="As an attachment")] = False,
) -> FileResponse:
    """The MP4 (byte ranges supported, so a video element can seek). Audited once per viewing:
    the request that starts at byte 0, not every range a player asks for while seeking."""
    settings = runtime(request).settings
    clip = _visible_clip(session, scope, clip_id, "recording.clip.playback")
    path = hub.clip_file(settings, clip)
    if clip.state == hub.EXPIRED:
        raise ApiError(410, "gone", f"clip {clip_id}: {clip.error}")
    if clip.state != hub.READY or path is None:
        raise ApiError(409, "conflict", f"clip {clip_id} is {clip.state}, not ready yet")
    if not path.is_file():
        raise ApiError(404, "not_found", f"clip {clip_id}: the file is missing on disk")
    ranged = request.headers.get("range", "").replace(" ", "")
    if not ranged or ranged.startswith("bytes=0-"):
        audit.record(
            session,
            scope,
            "recording.clip.playback",
            object_type="clip",
            object_id=clip.id,
            detail=_detail(clip) | {"sha256": clip.sha256, "download": download},
            ip=client_ip(request),
        )
    name = f"klip-{clip.id}-kamera-{clip.camera_id}-{clip.start:%Y%m%dT%H%M%SZ}.mp4"
    return FileResponse(
        path,
        media_type="video/mp4",
        filename=name if download else None,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-SHA256": clip.sha256 or ""},
    )


# ---- agents -----------------------------------------------------------------------------------


class BeginIn(BaseModel):
    bytes: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    clip_start: datetime | None = None
    clip_end: datetime | None = None
    frames: int | None = None
    rate_kbps: float | None = Field(default=None, ge=0, description="The agent's upload cap")


class FinishIn(BaseModel):
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class CannotIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


def _answer(clip: ClipRequest) -> dict[str, Any]:
    return {
        "id": clip.id,
        "state": clip.state,
        "offset": clip.bytes_received,
        "bytes_expected": clip.bytes_expected,
        "restarts": clip.restarts,
        "error": clip.error,
    }


def _refused(exc: hub.ClipRefused) -> JSONResponse:
    """The agent needs the hub's offset with a refusal, so it is part of the error body."""
    code = {404: "not_found", 409: "conflict", 410: "gone", 413: "too_large"}.get(
        exc.status, "invalid"
    )
    content = error_body(code, exc.message) | {"offset": exc.offset}
    return JSONResponse(content, status_code=exc.status)


def _step(
    rt: Runtime,
    agent_id: int,
    clip_id: int,
    fn: Any,
    *args: Any,
    audit_action: str | None = None,
    **kw: Any,
) -> dict[str, Any] | JSONResponse:
    """One upload step in its own transaction, under the clip's lock until committed. A clip
    that ends (ready or failed) is audited with the agent as the actor."""
    with hub.lock_for(clip_id):
        try:
            with transaction(rt.sessions) as session:
                agent = session.get(Agent, agent_id)
                assert agent is not None
                clip = fn(session, rt.settings, agent, clip_id, *args, **kw)
                answer = _answer(clip)
                if clip.state in (hub.READY, hub.FAILED) and audit_action:
                    audit.record(
                        session,
                        f"agent:{agent_id}",
                        audit_action,
                        object_type="clip",
                        object_id=clip.id,
                        detail=_detail(clip) | {"sha256": clip.sha256, "error": clip.error},
                    )
                return answer
        except hub.ClipRefused as exc:
            return _refused(exc)


@router.post("/api/agent/clips/{clip_id}/begin")
def agent_begin(clip_id: int, body: BeginIn, request: Request, agent: AgentCaller) -> Any:
    """Announce the built file; the answer's `offset` is where to send from (0 if the hub has
    another file for this clip, or nothing yet)."""
    rt = runtime(request)
    return _step(
        rt,
        agent.id,
        clip_id,
        hub.begin,
        nbytes=body.bytes,
        sha256=body.sha256,
        clip_start=body.clip_start,
        clip_end=body.clip_end,
        frames=body.frames,
        rate_kbps=body.rate_kbps,
    )


def _chunk(
    rt: Runtime, agent_id: int, clip_id: int, offset: int, data: bytes, seconds: float
) -> dict[str, Any] | JSONResponse:
    answer = _step(rt, agent_id, clip_id, hub.put_chunk, offset, data)
    with transaction(rt.sessions) as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        hub_agents.record_contact(
            session,
            agent,
            nbytes=len(data),
            transfer_seconds=seconds,
            keep_days=rt.settings.edge.contact_keep_days,
        )
    return answer


def _agent_id(request: Request) -> int:
    """Authenticated before the body is read, with no session held open while it arrives."""
    return _agent_of(runtime(request), bearer_token(request))


@router.put("/api/agent/clips/{clip_id}/data")
async def agent_chunk(
    clip_id: int,
    request: Request,
    agent_id: Annotated[int, Depends(_agent_id)],
    offset: Annotated[int, Query(ge=0, description="Byte offset of this chunk in the file")],
) -> Any:
    """A chunk of the file (raw bytes, at most 1 MiB). Written only at the hub's offset; a
    chunk the hub already has is accepted again; another offset gets 409 with the hub's."""
    rt = runtime(request)
    started = time.monotonic()
    chunks, size = [], 0
    try:
        async for piece in request.stream():
            size += len(piece)
            if size > hub.MAX_CHUNK:
                raise ApiError(413, "too_large", f"chunk larger than {hub.MAX_CHUNK} bytes")
            chunks.append(piece)
    except ClientDisconnect:
        raise ApiError(400, "invalid", "the chunk was cut off; nothing written") from None
    data = b"".join(chunks)
    declared = request.headers.get("content-length")
    if declared is not None and int(declared) != len(data):
        raise ApiError(400, "invalid", "the chunk was cut off; nothing written")
    seconds = time.monotonic() - started
    return await run_in_threadpool(_chunk, rt, agent_id, clip_id, offset, data, seconds)


@router.post("/api/agent/clips/{clip_id}/finish")
def agent_finish(clip_id: int, body: FinishIn, request: Request, agent: AgentCaller) -> Any:
    """All bytes sent: the hub checks size and SHA-256. `state` ready, or uploading again
    from offset 0 after a mismatch (failed after repeated mismatches)."""
    rt = runtime(request)
    return _step(
        rt, agent.id, clip_id, hub.finish, body.bytes, body.sha256, audit_action="clip.upload"
    )


@router.post("/api/agent/clips/{clip_id}/cannot")
def agent_cannot(clip_id: int, body: CannotIn, request: Request, agent: AgentCaller) -> Any:
    """The site cannot deliver the clip (footage no longer there); the operator sees why."""
    rt = runtime(request)
    return _step(rt, agent.id, clip_id, hub.cannot, body.reason, audit_action="clip.upload")
