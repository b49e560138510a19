"""Live view for the video wall and the playback timeline (docs/live-view.md).

The wall comes from the latest analytics frame each worker already writes to disk
(`pantau.media.snapshot.write_latest`), so any number of wall screens cost no camera
connection and no decoding beyond a small, cached thumbnail per frame; the full view of one
camera decodes the segment the recorder is writing, again without a second camera connection:

- `GET /api/camera-groups`: the cameras in the caller's scope with state, offline-since,
  latest people count and frame time, and the wall's groups (per kecamatan, per site kind).
- `GET /api/cameras/{id}/thumb.jpg?w=`: the latest frame scaled down for a tile; ETag per
  frame, so a tile that asks again for an unchanged frame gets a body-less 304.
- `GET /api/cameras/{id}/live.mjpeg`: the full live view as multipart/x-mixed-replace, decoded
  from the segment the recorder is writing (up to 5 fps; the latest analytics frame when
  nothing is being recorded), audited once per view as `recording.live`.
- `GET /api/cameras/{id}/timeline`: a day's recording coverage and per-minute observations,
  columnar, for the playback timeline (a day is < 60 kB instead of ~1 MB of segment rows).
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import anyio
import av
import cv2
import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from pantau.accounts import audit
from pantau.config.model import Settings
from pantau.media.hls import gaps
from pantau.media.recorder import PART
from pantau.media.snapshot import encode_jpeg, latest_path
from pantau.recordings import exports as export_store
from pantau.recordings import index
from pantau.runtime import Runtime
from pantau.store.models import AuthSession, Camera, CameraState, Kecamatan, Observation, Site
from pantau.store.types import utcnow
from pantau.web.deps import DB, Caller, bearer_token, client_ip, runtime, token_hash
from pantau.web.errors import ApiError, Invalid
from pantau.web.routes.cameras import visible_camera
from pantau.web.routes.health import live_state

log = logging.getLogger(__name__)
router = APIRouter(tags=["live"])

PEOPLE_FRESH = timedelta(minutes=10)  # an older count is not "now" any more
MAX_TIMELINE = timedelta(days=7)
MERGE_TOLERANCE = timedelta(seconds=1)  # as pantau.media.hls.GAP_TOLERANCE
BOUNDARY = "pantauframe"
RESEND_SECONDS = 10.0  # an unchanged frame is sent again this often (keeps proxies open)
RECHECK_SECONDS = 60.0  # a live view ends within this long after its session does
FOLLOW_FRESH = 5.0  # a segment written to within this long is being recorded now
PROBE = {"probesize": "65536", "analyzeduration": "200000"}
THUMB_QUALITY = 70
THUMB_CACHE = 512


# --- response models -------------------------------------------------------------------------


class LiveCameraOut(BaseModel):
    id: int
    name: str
    site_id: int
    site_name: str
    site_kind: str
    kelurahan_code: str | None
    kecamatan_code: str | None
    kecamatan_name: str | None
    enabled: bool
    state: str
    reason: str | None
    reason_code: str | None
    since: datetime | None = Field(
        description="Since when the camera is in this state (for offline: since when it is "
        "down, or the worker's last report when no worker reports any more)"
    )
    people: int | None = Field(description="people_max of the newest observed minute")
    people_minute: datetime | None
    people_source: str | None = Field(description='"live", "backfill" or "sim" (pantau demo)')
    lights_on: bool | None
    frame_at: datetime | None = Field(description="When the latest frame was written")


class CameraGroupOut(BaseModel):
    id: str = Field(description='"all", "kecamatan:<code>" or "kind:<site kind>"')
    kind: str
    key: str | None
    name: str | None
    camera_ids: list[int]


class CameraGroupsOut(BaseModel):
    generated_at: datetime
    cameras: list[LiveCameraOut]
    groups: list[CameraGroupOut]


class SpanOut(BaseModel):
    start: datetime
    end: datetime


class MinutesOut(BaseModel):
    """Columns of the observed minutes; `offset` counts minutes from `first_minute`."""

    first_minute: datetime
    offset: list[int]
    people_max: list[int]
    people_mean: list[float]
    lights_on: list[bool | None]
    motion_pct: list[float]
    coverage_seconds: list[float]
    source: list[str]


class TimelineOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    camera_id: int
    camera: str
    site_name: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    recording: list[SpanOut]
    gaps: list[SpanOut]
    minutes: MinutesOut


# --- camera groups -------------------------------------------------------------------------


def _frame_time(settings: Settings, camera_id: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(
            latest_path(settings.snapshots_dir, camera_id).stat().st_mtime, UTC
        )
    except FileNotFoundError:
        return None


def _since(state: dict[str, Any], row: CameraState | None) -> datetime | None:
    if row is None:
        return None
    if state["reason_code"] == "no_worker":
        return row.last_packet_at or row.updated_at
    return row.since


@router.get("/api/camera-groups", response_model=CameraGroupsOut)
def camera_groups(request: Request, scope: Caller, session: DB) -> CameraGroupsOut:
    """The wall's cameras (caller's scope) with their live facts, and the groups to show."""
    settings = runtime(request).settings
    now = utcnow()
    query = (
        scope.filter_sites(select(Camera, Site, CameraState).join(Site))
        .outerjoin(CameraState, CameraState.camera_id == Camera.id)
        .order_by(Site.kecamatan_code, Site.name, Camera.name, Camera.id)
    )
    rows = session.execute(query).all()
    kecamatan = {
        code: name for code, name in session.execute(select(Kecamatan.code, Kecamatan.name))
    }
    latest: dict[int, tuple[datetime, int, bool | None, str]] = {}
    ids = [cam.id for cam, _, _ in rows]
    if ids:
        recent = session.execute(
            select(
                Observation.camera_id,
                Observation.minute,
                Observation.people_max,
                Observation.lights_on,
                Observation.source,
            )
            .where(Observation.minute >= now - PEOPLE_FRESH)
            .where(Observation.camera_id.in_(ids))
            .order_by(Observation.minute)
        )
        for cam_id, minute, people, lights, source in recent:
            latest[cam_id] = (minute, people, lights, source)
    cameras: list[LiveCameraOut] = []
    groups: dict[str, CameraGroupOut] = {}
    for cam, site, row in rows:
        state = live_state(cam, row, now)
        seen = latest.get(cam.id)
        cameras.append(
            LiveCameraOut(
                id=cam.id,
                name=cam.name,
                site_id=site.id,
                site_name=site.name,
                site_kind=site.kind.value,
                kelurahan_code=site.kelurahan_code,
                kecamatan_code=site.kecamatan_code,
                kecamatan_name=kecamatan.get(site.kecamatan_code or ""),
                enabled=cam.enabled,
                since=_since(state, row),
                people=seen[1] if seen else None,
                people_minute=seen[0] if seen else None,
                people_source=seen[3] if seen else None,
                lights_on=seen[2] if seen else None,
                frame_at=_frame_time(settings, cam.id),
                **state,
            )
        )
        keys = [("kind", site.kind.value, None)]
        if site.kecamatan_code:
            keys.insert(0, ("kecamatan", site.kecamatan_code, kecamatan.get(site.kecamatan_code)))
        for kind, key, name in keys:
            group = groups.setdefault(
                f"{kind}:{key}",
                CameraGroupOut(id=f"{kind}:{key}", kind=kind, key=key, name=name, camera_ids=[]),
            )
            group.camera_ids.append(cam.id)
    ordered = sorted(groups.values(), key=lambda g: (g.kind != "kind", g.name or "", g.id))
    everything = CameraGroupOut(
        id="all", kind="all", key=None, name=None, camera_ids=[c.id for c in cameras]
    )
    return CameraGroupsOut(generated_at=now, cameras=cameras, groups=[everything, *ordered])


# --- thumbnails ------------------------------------------------------------------------------


class ThumbCache:
    """Scaled frames keyed by (camera, width), valid while the latest file is unchanged.

    A frame is decoded at a reduced DCT scale (libjpeg's 1/2, 1/4, 1/8), so a 320 px thumbnail
    costs ~2 ms CPU for a 720p frame (~5 ms for 1080p), once per frame however many walls ask.
    """

    def __init__(self, size: int = THUMB_CACHE) -> None:
        self.items: OrderedDict[tuple[int, int], tuple[int, bytes]] = OrderedDict()
        self.size = size
        self.lock = threading.Lock()

    def get(self, path: Path, camera_id: int, width: int) -> tuple[int, bytes]:
        """(mtime_ns, JPEG bytes) of the camera's latest frame at most `width` pixels wide."""
        stamp = path.stat().st_mtime_ns
        key = (camera_id, width)
        with self.lock:
            hit = self.items.get(key)
            if hit and hit[0] == stamp:
                self.items.move_to_end(key)
                return hit
        data = path.read_bytes()
        stamp = path.stat().st_mtime_ns  # the file may have been replaced while we read it
        out = (stamp, scale_jpeg(data, width))
        with self.lock:
            self.items[key] = out
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return out


def jpeg_width(data: bytes) -> int | None:
    """The image width from a JPEG's frame header (SOFn), without decoding anything."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[i + 7 : i + 9], "big")
        i += 2 + length
    return None


REDUCED = (
    (8, cv2.IMREAD_REDUCED_COLOR_8),
    (4, cv2.IMREAD_REDUCED_COLOR_4),
    (2, cv2.IMREAD_REDUCED_COLOR_2),
)


def scale_jpeg(data: bytes, width: int) -> bytes:
    """The JPEG at most `width` wide (never enlarged), decoded at the smallest DCT scale that
    is still at least that wide; the original bytes when already small enough."""
    full = jpeg_width(data)
    if full is not None and full <= width:
        return data
    flag = next((f for k, f in REDUCED if full and full // k >= width), cv2.IMREAD_COLOR)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if img is None:
        raise ValueError("not a decodable JPEG")
    if img.shape[1] > width:
        height = max(1, round(img.shape[0] * width / img.shape[1]))
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
    return encode_jpeg(img, THUMB_QUALITY)


def thumb_cache(request: Request) -> ThumbCache:
    app = request.app
    if getattr(app.state, "thumb_cache", None) is None:
        app.state.thumb_cache = ThumbCache()
    return app.state.thumb_cache


def _no_frame(camera: Camera) -> ApiError:
    return ApiError(404, "not_found", f"no frame yet from camera {camera.id} ({camera.name})")


def _http_date(at: datetime) -> str:
    return at.strftime("%a, %d %b %Y %H:%M:%S GMT")


@router.get(
    "/api/cameras/{camera_id}/thumb.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 304: {"description": "Frame unchanged"}},
)
def thumbnail(
    camera_id: int,
    request: Request,
    scope: Caller,
    session: DB,
    w: Annotated[int, Query(ge=80, le=1920, description="Largest width in pixels")] = 320,
) -> Response:
    """The latest frame scaled for a wall tile. Send If-None-Match to get 304 when unchanged."""
    camera = visible_camera(session, scope, camera_id, "camera.snapshot")
    path = latest_path(runtime(request).settings.snapshots_dir, camera.id)

    def headers(stamp: int) -> dict[str, str]:
        taken = datetime.fromtimestamp(stamp / 1e9, UTC)
        return {
            "ETag": f'"{camera.id}-{stamp}-{w}"',
            "Cache-Control": "private, no-cache",
            "Last-Modified": _http_date(taken),
            "X-Frame-Time": export_store.utc_iso(taken),
        }

    try:
        unchanged = headers(path.stat().st_mtime_ns)
        if request.headers.get("if-none-match") == unchanged["ETag"]:
            return Response(status_code=304, headers=unchanged)  # nothing read, nothing scaled
        stamp, data = thumb_cache(request).get(path, camera.id, w)
    except FileNotFoundError:
        raise _no_frame(camera) from None
    except ValueError as exc:
        message = f"camera {camera.id}: latest frame unreadable ({exc})"
        raise ApiError(404, "not_found", message) from exc
    return Response(data, media_type="image/jpeg", headers=headers(stamp))


# --- MJPEG live view ---------------------------------------------------------------------


def open_views(request: Request) -> dict[int, int]:
    """Live views being streamed now, per camera (the count drops when a client goes away)."""
    app = request.app
    if getattr(app.state, "live_views", None) is None:
        app.state.live_views = {}
    return app.state.live_views


def _session_alive(rt: Runtime, hashed: str | None) -> bool:
    if hashed is None:
        return False
    with rt.sessions() as session:
        row = session.get(AuthSession, hashed)
        return bool(row and not row.revoked and row.expires_at > utcnow() and row.user.active)


def _part(data: bytes, taken: datetime) -> bytes:
    head = (
        "Content-Type: image/jpeg\r\n"
        f"Content-Length: {len(data)}\r\n"
        f"X-Frame-Time: {export_store.utc_iso(taken)}\r\n\r\n"
    )
    # The boundary follows each frame at once: browsers show a part when the next one starts.
    return head.encode() + data + f"\r\n--{BOUNDARY}\r\n".encode()


def recording_part(root: Path, camera_id: int) -> Path | None:
    """The segment the recorder is writing now (`*.ts.part`, written to within seconds)."""
    cam_dir = root / str(camera_id)
    try:
        days = sorted(d for d in cam_dir.iterdir() if d.is_dir())[-2:]
        parts = sorted(p for d in days for p in d.glob(f"*.ts{PART}"))
        if parts and time.time() - parts[-1].stat().st_mtime <= FOLLOW_FRESH:
            return parts[-1]
    except FileNotFoundError:
        pass
    return None


class _Growing(io.RawIOBase):
    """A file the recorder is still writing: read to its end, then wait for more, until the
    recorder closes it (renames the .part) or the viewer leaves."""

    def __init__(self, path: Path, stop: threading.Event) -> None:
        self.path, self.stop = path, stop
        self.fh = path.open("rb")
        self.caught_up = False

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        while True:
            n = self.fh.readinto(buf)
            if n:
                return n
            self.caught_up = True
            if self.stop.is_set() or not self.path.exists():
                return 0
            time.sleep(0.05)

    def close(self) -> None:
        self.fh.close()
        super().close()


def follow_recording(
    root: Path,
    camera_id: int,
    fps: float,
    width: int | None,
    stop: threading.Event,
    emit: Callable[[bytes, datetime], None],
) -> None:
    """Decode the segments as they are written and emit a JPEG at most `fps` times a second.

    Joining mid-segment, the frames already on disk are decoded (the picture needs them) but
    not sent; sending starts once the reader has caught up with the recorder. Returns when the
    viewer leaves or no segment is being written any more (the caller falls back to frames).
    """
    path = recording_part(root, camera_id)
    joined = False
    while path is not None and not stop.is_set():
        growing = _Growing(path, stop)
        growing.caught_up = joined  # the next segments are shown from their first frame
        joined = True
        last: float | None = None
        anchor: tuple[float, float] | None = None  # (monotonic, media seconds)
        try:
            # Small probe: a new segment starts with a keyframe and its parameters, and the
            # default probe (5 MB / 5 s) would hold the picture back for seconds.
            with av.open(growing, format="mpegts", options=PROBE) as container:
                for frame in container.decode(video=0):
                    if stop.is_set():
                        return
                    t = frame.time
                    if not growing.caught_up or t is None or (last and t - last < 0.99 / fps):
                        continue
                    last = t
                    # The recorder's muxer writes in bursts (~256 kB): pace the frames of a
                    # burst by their timestamps instead of sending them all at once.
                    now = time.monotonic()
                    due = anchor[0] + (t - anchor[1]) if anchor else now
                    if anchor is None or due < now - 1.0 or due > now + 2.0:
                        anchor, due = (now, t), now
                    if due > now:
                        stop.wait(due - now)
                    img = frame.to_ndarray(format="bgr24")
                    if width and img.shape[1] > width:
                        height = max(1, round(img.shape[0] * width / img.shape[1]))
                        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
                    emit(encode_jpeg(img, 80), utcnow())
        except (av.FFmpegError, OSError) as exc:
            log.warning("live view of camera %d: %s: %s", camera_id, path.name, exc)
        finally:
            growing.close()
        deadline = time.monotonic() + FOLLOW_FRESH
        following = path
        path = None
        while path is None and not stop.is_set() and time.monotonic() < deadline:
            nxt = recording_part(root, camera_id)
            if nxt is not None and nxt != following:
                path = nxt
            else:
                time.sleep(0.1)


def _offer_latest(queue: asyncio.Queue[Any], item: Any) -> None:
    """Keep the newest frames: a slow viewer skips frames instead of falling behind."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


@router.get(
    "/api/cameras/{camera_id}/live.mjpeg",
    response_class=StreamingResponse,
    responses={200: {"content": {f"multipart/x-mixed-replace; boundary={BOUNDARY}": {}}}},
)
async def live_view(
    camera_id: int,
    request: Request,
    scope: Caller,
    session: DB,
    fps: Annotated[float, Query(ge=0.2, le=5, description="How often to look for a new frame")] = 3,
    w: Annotated[int | None, Query(ge=160, le=1920, description="Scale frames down")] = None,
    max_seconds: Annotated[
        float | None, Query(gt=0, le=86400, description="End the stream after this long")
    ] = None,
) -> StreamingResponse:
    """The camera live as MJPEG (an <img> plays it), until the client goes away.

    While the recorder writes the camera's stream, its growing segment is decoded and a frame
    sent up to `fps` times a second (about a second behind the camera); otherwise the latest
    analytics frame is sent whenever a new one is written. Audited once per view as
    `recording.live`. The stream ends when the session ends.
    """
    rt = runtime(request)
    camera = visible_camera(session, scope, camera_id, "recording.live")
    path = latest_path(rt.settings.snapshots_dir, camera.id)
    if not path.exists():
        raise _no_frame(camera)
    started = utcnow()
    audit.record(
        session,
        scope,
        "recording.live",
        object_type="camera",
        object_id=camera.id,
        detail={
            "camera_id": camera.id,
            "camera": camera.name,
            "from": export_store.utc_iso(started),
            "from_local": export_store.local_label(started, rt.settings),
            "fps": fps,
            "source": "recording"
            if recording_part(rt.settings.recordings_dir, camera.id)
            else "frames",
        },
        ip=client_ip(request),
    )
    token = bearer_token(request)
    hashed = token_hash(token) if token else None
    cache = thumb_cache(request)
    views = open_views(request)
    cam_id = camera.id
    root = rt.settings.recordings_dir

    def read() -> tuple[int, bytes] | None:
        try:
            if w:
                return cache.get(path, cam_id, w)
            stamp = path.stat().st_mtime_ns
            return stamp, path.read_bytes()
        except (FileNotFoundError, ValueError):
            return None

    async def stream() -> AsyncIterator[bytes]:
        views[cam_id] = views.get(cam_id, 0) + 1
        loop = asyncio.get_running_loop()
        begin = loop.time()
        sent = 0
        checked = begin

        async def ended() -> bool:
            nonlocal checked
            now = loop.time()
            if await request.is_disconnected():
                return True
            if max_seconds is not None and now - begin >= max_seconds and sent:
                return True
            if now - checked >= RECHECK_SECONDS:
                checked = now
                return not await anyio.to_thread.run_sync(_session_alive, rt, hashed)
            return False

        stop = threading.Event()
        try:
            yield f"--{BOUNDARY}\r\n".encode()
            if recording_part(root, cam_id) is not None:
                # The recorder is writing: decode its segment as it grows, at up to `fps`.
                frames: asyncio.Queue[tuple[bytes, datetime]] = asyncio.Queue(maxsize=2)

                def emit(data: bytes, taken: datetime) -> None:
                    loop.call_soon_threadsafe(_offer_latest, frames, (data, taken))

                worker = threading.Thread(
                    target=follow_recording,
                    args=(root, cam_id, fps, w, stop, emit),
                    name=f"live-{cam_id}",
                    daemon=True,
                )
                worker.start()
                while not await ended():
                    try:
                        data, taken = await asyncio.wait_for(frames.get(), 1.0)
                    except TimeoutError:
                        if not worker.is_alive() and frames.empty():
                            break  # nothing is being recorded any more: latest frames below
                        continue
                    sent += 1
                    yield _part(data, taken)
                stop.set()
            last_stamp, last_sent = None, 0.0
            while not await ended():
                now = loop.time()
                got = await anyio.to_thread.run_sync(read)
                if got and (got[0] != last_stamp or now - last_sent >= RESEND_SECONDS):
                    last_stamp, last_sent = got[0], now
                    sent += 1
                    yield _part(got[1], datetime.fromtimestamp(got[0] / 1e9, UTC))
                await asyncio.sleep(1 / fps)
        finally:
            stop.set()
            views[cam_id] -= 1

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        stream(), media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}", headers=headers
    )


# --- timeline ------------------------------------------------------------------------------


def _aware(at: datetime, settings: Settings) -> datetime:
    """A time without a zone is city time (WITA), as in routes/recordings.py."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(settings.city.timezone))
    return at.astimezone(UTC)


def merged(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Touching or overlapping spans (within a second) as one run of recording."""
    out: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if out and start - out[-1][1] <= MERGE_TOLERANCE:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


@router.get("/api/cameras/{camera_id}/timeline", response_model=TimelineOut)
def timeline(
    camera_id: int,
    request: Request,
    scope: Caller,
    session: DB,
    start: Annotated[
        datetime | None,
        Query(alias="from", description="ISO 8601; without a zone it is city time (WITA)"),
    ] = None,
    to: Annotated[datetime | None, Query(description="ISO 8601; default now")] = None,
) -> TimelineOut:
    """Recording runs, gaps and per-minute observations (people, lights) of a range (≤ 7 days).

    Counts only, no footage: not audited, like the recordings list.
    """
    settings = runtime(request).settings
    camera = visible_camera(session, scope, camera_id, "camera.timeline")
    hi = _aware(to, settings) if to else utcnow()
    lo = _aware(start, settings) if start else hi - timedelta(hours=24)
    if lo >= hi:
        raise Invalid("'from' must be before 'to'", "from")
    if hi - lo > MAX_TIMELINE:
        raise Invalid("range too long: at most 7 days", "to")
    segs = index.segments_between(session, camera.id, lo, hi)
    runs = merged([(max(s.start, lo), min(s.end, hi)) for s in segs])
    first = lo.replace(second=0, microsecond=0)
    rows = session.execute(
        select(
            Observation.minute,
            Observation.people_max,
            Observation.people_mean,
            Observation.lights_on,
            Observation.motion_pct,
            Observation.coverage_seconds,
            Observation.source,
        )
        .where(Observation.camera_id == camera.id)
        .where(Observation.minute >= first, Observation.minute < hi)
        .order_by(Observation.minute)
    ).all()
    minutes = MinutesOut(
        first_minute=first,
        offset=[round((r.minute - first).total_seconds() / 60) for r in rows],
        people_max=[r.people_max for r in rows],
        people_mean=[round(r.people_mean, 2) for r in rows],
        lights_on=[r.lights_on for r in rows],
        motion_pct=[round(r.motion_pct, 2) for r in rows],
        coverage_seconds=[round(r.coverage_seconds, 1) for r in rows],
        source=[r.source for r in rows],
    )
    return TimelineOut(
        camera_id=camera.id,
        camera=camera.name,
        site_name=camera.site.name,
        start=lo,
        end=hi,
        recording=[SpanOut(start=a, end=b) for a, b in runs],
        gaps=[SpanOut(start=a, end=b) for a, b in gaps(segs, lo, hi)],
        minutes=minutes,
    )
