"""Recordings: segment lists, HLS playback, evidence exports, snapshots, retention.

Who may do what (see docs/playback.md): everyone may list, play back and take snapshots of the
cameras in their scope; only the control room (admin, operator) may create exports; only admin
may run retention by hand. Every playback, snapshot from a recording, export and export download
is written to the audit log with the camera and the time range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from pantau.accounts import audit
from pantau.accounts.scope import Scope
from pantau.config.model import Settings
from pantau.media.hls import build_playlist, gaps
from pantau.media.snapshot import SnapshotError, encode_jpeg, frame_at, latest_path
from pantau.recordings import exports as export_store
from pantau.recordings import index
from pantau.recordings.retention import enforce
from pantau.recordings.urls import signer_for
from pantau.store.db import transaction
from pantau.store.models import Camera, Export, Role, Segment
from pantau.store.types import utcnow
from pantau.web.deps import DB, Admin, Caller, client_ip, runtime
from pantau.web.errors import ApiError, Forbidden, Invalid, NotFound
from pantau.web.routes.cameras import visible_camera
from pantau.web.schemas import In

router = APIRouter(tags=["recordings"])

DEFAULT_SPAN = timedelta(hours=24)
MAX_LIST_SPAN = timedelta(days=31)
MAX_PLAYLIST_SPAN = timedelta(hours=24)
EXPORTERS = frozenset({Role.ADMIN, Role.OPERATOR})

FromQuery = Annotated[
    datetime | None,
    Query(alias="from", description="ISO 8601; without a zone it is city time (WITA)"),
]
ToQuery = Annotated[
    datetime | None, Query(description="ISO 8601; without a zone it is city time (WITA)")
]


class SegmentOut(BaseModel):
    id: int
    start: datetime
    end: datetime
    bytes: int


class GapOut(BaseModel):
    start: datetime
    end: datetime
    seconds: float


class RecordingsOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    camera_id: int
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    oldest: datetime | None = Field(description="Start of the camera's oldest stored segment")
    retention_days: float
    segments: list[SegmentOut]
    gaps: list[GapOut]


class ExportIn(In):
    start: datetime = Field(alias="from", description="ISO 8601; without a zone it is WITA")
    end: datetime = Field(alias="to")


class ExportOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    camera_id: int
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    requested_by: str
    created_at: datetime
    bytes: int
    sha256: str
    download: dict[str, str]
    manifest: dict[str, Any]


class RetentionOut(BaseModel):
    started_at: datetime
    deleted: int
    bytes_freed: int
    by_reason: dict[str, dict[str, int]]
    already_missing: int
    failed: list[str]
    free_bytes_before: int
    free_bytes_after: int
    min_free_bytes: int
    warning: str | None


# --- helpers ------------------------------------------------------------------------------


def _aware(at: datetime, settings: Settings) -> datetime:
    """A time without a zone is the city's local time (what a control-room user types)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(settings.city.timezone))
    return at.astimezone(UTC)


def _range(
    settings: Settings, start: datetime | None, end: datetime | None, limit: timedelta
) -> tuple[datetime, datetime]:
    end = _aware(end, settings) if end else utcnow()
    start = _aware(start, settings) if start else end - DEFAULT_SPAN
    if start >= end:
        raise Invalid("'from' must be before 'to'", "from")
    if end - start > limit:
        raise Invalid(f"range too long: at most {limit.total_seconds() / 3600:g} hours", "to")
    return start, end


def _range_detail(camera: Camera, start: datetime, end: datetime, s: Settings) -> dict[str, Any]:
    return {
        "camera_id": camera.id,
        "camera": camera.name,
        "from": export_store.utc_iso(start),
        "to": export_store.utc_iso(end),
        "from_local": export_store.local_label(start, s),
        "to_local": export_store.local_label(end, s),
    }


def _prune_missing(request: Request, camera_id: int, start: datetime, end: datetime) -> int:
    """Drop index rows whose file is gone, committed on its own (the request may still fail)."""
    rt = runtime(request)
    with transaction(rt.sessions) as session:
        segs = index.segments_between(session, camera_id, start, end)
        return len(index.verify(session, rt.settings.recordings_dir, segments=segs))


def _prefix(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _visible_export(session: Session, scope: Scope, export_id: str, action: str) -> Export:
    row = session.get(Export, export_id)
    if row is None:
        raise NotFound("export", export_id)
    visible_camera(session, scope, row.camera_id, action)
    return row


def _export_out(request: Request, row: Export) -> ExportOut:
    base = f"{_prefix(request)}/api/exports/{row.id}"
    return ExportOut(
        id=row.id,
        camera_id=row.camera_id,
        start=row.start,
        end=row.end,
        requested_by=row.requested_by,
        created_at=row.created_at,
        bytes=row.bytes,
        sha256=row.sha256,
        download={"clip": f"{base}/clip.mp4", "manifest": f"{base}/manifest.json"},
        manifest=row.manifest,
    )


# --- segment index and playback -----------------------------------------------------------


@router.get("/api/cameras/{camera_id}/recordings", response_model=RecordingsOut)
def list_recordings(
    camera_id: int,
    request: Request,
    scope: Caller,
    session: DB,
    start: FromQuery = None,
    to: ToQuery = None,
) -> RecordingsOut:
    """Stored segments and the gaps between them (default: the last 24 hours)."""
    settings = runtime(request).settings
    camera = visible_camera(session, scope, camera_id, "recording.list")
    lo, hi = _range(settings, start, to, MAX_LIST_SPAN)
    segs = index.segments_between(session, camera.id, lo, hi)
    return RecordingsOut(
        camera_id=camera.id,
        start=lo,
        end=hi,
        oldest=index.oldest_start(session, camera.id),
        retention_days=settings.recording.retention_days,
        segments=[SegmentOut(id=s.id, start=s.start, end=s.end, bytes=s.bytes) for s in segs],
        gaps=[
            GapOut(start=a, end=b, seconds=round((b - a).total_seconds(), 3))
            for a, b in gaps(segs, lo, hi)
        ],
    )


@router.get(
    "/api/cameras/{camera_id}/playlist.m3u8",
    response_class=Response,
    responses={200: {"content": {"application/vnd.apple.mpegurl": {}}}},
)
def playlist(
    camera_id: int,
    request: Request,
    scope: Caller,
    session: DB,
    start: FromQuery = None,
    to: ToQuery = None,
) -> Response:
    """HLS VOD playlist of the range (default: last 24 h); gaps are marked as discontinuities.

    Segment URLs are signed and expire (6 h), so players need no auth header to fetch them.
    """
    rt = runtime(request)
    settings = rt.settings
    camera = visible_camera(session, scope, camera_id, "recording.playback")
    lo, hi = _range(settings, start, to, MAX_PLAYLIST_SPAN)
    missing = _prune_missing(request, camera.id, lo, hi)  # vanished files become gaps
    present = index.segments_between(session, camera.id, lo, hi)
    now = utcnow()
    if not present:
        message = export_store.no_recording_message(session, settings, camera, lo, hi, now)
        raise ApiError(404, "not_found", message)
    signer = signer_for(settings.data_dir)
    prefix = _prefix(request)

    def uri(seg: Segment) -> str:
        exp, sig = signer.sign(seg.id, now)
        return f"{prefix}/api/segments/{seg.id}.ts?exp={exp}&sig={sig}"

    text = build_playlist(present, uri, start=lo, end=hi)
    audit.record(
        session,
        scope,
        "recording.playback",
        object_type="camera",
        object_id=camera.id,
        detail=_range_detail(camera, lo, hi, settings)
        | {"segments": len(present), "missing_files": missing},
        ip=client_ip(request),
    )
    return Response(
        text,
        media_type="application/vnd.apple.mpegurl",
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/api/segments/{segment_id}.ts",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp2t": {}}}},
)
def segment_file(
    segment_id: int,
    request: Request,
    session: DB,
    exp: Annotated[int | None, Query()] = None,
    sig: Annotated[str | None, Query()] = None,
) -> FileResponse:
    """One recorded MPEG-TS segment, by the signed URL from a playlist (no session needed)."""
    if exp is None or not sig:
        raise ApiError(
            401,
            "unauthorized",
            "segment links must be signed: take them from the camera's playlist.m3u8",
        )
    rt = runtime(request)
    why = signer_for(rt.settings.data_dir).check(segment_id, exp, sig, utcnow())
    if why:
        denied = Forbidden("recording.segment", "segment", segment_id)
        denied.message = f"segment {segment_id}: {why}"
        raise denied
    seg = session.get(Segment, segment_id)
    if seg is None:
        raise NotFound("segment", segment_id)
    root = rt.settings.recordings_dir
    if not index.has_file(root, seg):
        with transaction(rt.sessions) as own:
            stale = own.get(Segment, segment_id)
            index.verify(own, root, segments=[stale] if stale else [])
        raise ApiError(
            404,
            "not_found",
            f"segment {segment_id} of camera {seg.camera_id}: the file is missing on disk; "
            "it was removed from the index",
        )
    return FileResponse(
        index.file_of(root, seg),
        media_type="video/mp2t",
        headers={"Cache-Control": "private, max-age=3600"},
    )


# --- exports ------------------------------------------------------------------------------


@router.post("/api/cameras/{camera_id}/exports", response_model=ExportOut, status_code=201)
def create_export(
    camera_id: int, body: ExportIn, request: Request, scope: Caller, session: DB
) -> ExportOut:
    """Export the range as one MP4 (stream copy) with a manifest and its SHA-256.

    Admin and operator only; at most 6 hours per export.
    """
    rt = runtime(request)
    settings = rt.settings
    camera = visible_camera(session, scope, camera_id, "recording.export")
    if scope.role not in EXPORTERS:
        raise Forbidden("recording.export", "camera", camera_id)
    start, end = _aware(body.start, settings), _aware(body.end, settings)
    if start < end:
        _prune_missing(request, camera.id, start, end)
    try:
        row = export_store.create_export(session, settings, camera, start, end, requested_by=scope)
    except export_store.ExportRefused as exc:
        raise Invalid(exc.message, exc.field) from exc
    audit.record(
        session,
        scope,
        "recording.export",
        object_type="camera",
        object_id=camera.id,
        detail=_range_detail(camera, start, end, settings)
        | {"export_id": row.id, "sha256": row.sha256, "bytes": row.bytes},
        ip=client_ip(request),
    )
    return _export_out(request, row)


@router.get("/api/exports/{export_id}", response_model=ExportOut)
def get_export(export_id: str, request: Request, scope: Caller, session: DB) -> ExportOut:
    """An export's manifest and download links (visible to whoever may see its camera)."""
    row = _visible_export(session, scope, export_id, "recording.export.read")
    return _export_out(request, row)


def _download(
    export_id: str, what: str, request: Request, scope: Scope, session: Session
) -> FileResponse:
    settings = runtime(request).settings
    row = _visible_export(session, scope, export_id, "recording.export.download")
    if what == "clip":
        path, media = export_store.clip_file(settings, row), "video/mp4"
        name = path.name
    else:
        path, media = export_store.manifest_file(settings, row), "application/json"
        name = f"{export_store.clip_file(settings, row).stem}.manifest.json"
    if not path.is_file():
        raise ApiError(404, "not_found", f"export {export_id}: the {what} file is missing on disk")
    audit.record(
        session,
        scope,
        "recording.export.download",
        object_type="export",
        object_id=row.id,
        detail={
            "file": what,
            "camera_id": row.camera_id,
            "from": export_store.utc_iso(row.start),
            "to": export_store.utc_iso(row.end),
            "sha256": row.sha256,
        },
        ip=client_ip(request),
    )
    return FileResponse(path, media_type=media, filename=name)


@router.get(
    "/api/exports/{export_id}/clip.mp4",
    response_class=FileResponse,
    responses={200: {"content": {"video/mp4": {}}}},
)
def download_clip(export_id: str, request: Request, scope: Caller, session: DB) -> FileResponse:
    return _download(export_id, "clip", request, scope, session)


@router.get(
    "/api/exports/{export_id}/manifest.json",
    response_class=FileResponse,
    responses={200: {"content": {"application/json": {}}}},
)
def download_manifest(export_id: str, request: Request, scope: Caller, session: DB) -> FileResponse:
    return _download(export_id, "manifest", request, scope, session)


# --- snapshots ------------------------------------------------------------------------------


@router.get(
    "/api/cameras/{camera_id}/snapshot.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def snapshot(
    camera_id: int,
    request: Request,
    scope: Caller,
    session: DB,
    at: Annotated[
        datetime | None,
        Query(description="A moment in the recordings (ISO 8601, WITA if no zone); else live"),
    ] = None,
) -> Response:
    """The camera's latest frame as JPEG (video wall), or the frame recorded at `at` (audited)."""
    rt = runtime(request)
    settings = rt.settings
    camera = visible_camera(
        session, scope, camera_id, "recording.snapshot" if at else "camera.snapshot"
    )
    if at is None:
        path = latest_path(settings.snapshots_dir, camera.id)
        try:
            data = path.read_bytes()  # whole file: the pipeline replaces it while we read
            modified = path.stat().st_mtime
        except FileNotFoundError:
            raise ApiError(
                404, "not_found", f"no frame yet from camera {camera.id} ({camera.name})"
            ) from None
        stamp = datetime.fromtimestamp(modified, UTC)
        return Response(
            data,
            media_type="image/jpeg",
            headers={
                "Cache-Control": "no-store",
                "Last-Modified": stamp.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            },
        )
    when = _aware(at, settings)
    _prune_missing(request, camera.id, when, when + timedelta(microseconds=1))
    seg = index.segment_at(session, camera.id, when)
    label = export_store.local_label(when, settings)
    if seg is None or not index.has_file(settings.recordings_dir, seg):
        raise ApiError(
            404, "not_found", f"no recording at {label} for camera {camera.id} ({camera.name})"
        )
    try:
        frame = frame_at(index.file_of(settings.recordings_dir, seg), seg.start, when)
    except SnapshotError as exc:
        raise ApiError(404, "not_found", f"no decodable frame at {label}: {exc}") from exc
    audit.record(
        session,
        scope,
        "recording.snapshot",
        object_type="camera",
        object_id=camera.id,
        detail={
            "camera_id": camera.id,
            "camera": camera.name,
            "at": export_store.utc_iso(when),
            "at_local": label,
            "segment_id": seg.id,
        },
        ip=client_ip(request),
    )
    return Response(encode_jpeg(frame, 90), media_type="image/jpeg")


# --- retention ------------------------------------------------------------------------------


@router.post("/api/recordings/retention", response_model=RetentionOut)
def run_retention(request: Request, scope: Admin, session: DB) -> RetentionOut:
    """Apply retention now (it also runs on its own every few minutes); admin only."""
    report = enforce(runtime(request))
    audit.record(
        session,
        scope,
        "recording.retention",
        object_type="recording",
        detail=report.as_dict(),
        ip=client_ip(request),
    )
    return RetentionOut.model_validate(report.as_dict())
