"""Evidence exports: a camera's recording for a time range as MP4 + manifest, stored and indexed.

Files: `<exports_dir>/<export id>/<site>_<camera>_<local start>.mp4` and `manifest.json` beside
it. The manifest says what the clip is (camera, site, requested and actual range in WITA and UTC,
who exported it and when, the segments used, the gaps) and carries the clip's SHA-256, so a copy
handed to the police can be checked against it years later.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from pantau import __version__
from pantau.accounts.scope import Scope
from pantau.config.model import Settings
from pantau.media.export import ClipPart, ExportError, export_clip
from pantau.media.hls import gaps
from pantau.recordings.index import file_of, has_file, oldest_start, segments_between
from pantau.store.models import Camera, Export
from pantau.store.types import utcnow

MAX_EXPORT = timedelta(hours=6)


class ExportRefused(Exception):
    """The request cannot be exported; the message says why in the user's terms."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def local_label(at: datetime, settings: Settings, *, seconds: bool = True) -> str:
    """ "2026-11-29 07.30.05 WITA": Indonesian clock style in the city's zone."""
    local = at.astimezone(ZoneInfo(settings.city.timezone))
    clock = f"{local:%H.%M.%S}" if seconds else f"{local:%H.%M}"
    return f"{local:%Y-%m-%d} {clock} {settings.city.timezone_label}"


def utc_iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "camera"


def _times(start: datetime, end: datetime, settings: Settings) -> dict[str, str]:
    return {
        "start_utc": utc_iso(start),
        "end_utc": utc_iso(end),
        "start_local": local_label(start, settings),
        "end_local": local_label(end, settings),
    }


def no_recording_message(
    session: Session,
    settings: Settings,
    camera: Camera,
    start: datetime,
    end: datetime,
    now: datetime,
) -> str:
    """Why there is nothing to show: beyond retention, or simply no recording in the range."""
    days = settings.recording.retention_days
    oldest = oldest_start(session, camera.id)
    oldest_text = local_label(oldest, settings) if oldest else "none"
    span = f"{local_label(start, settings)} and {local_label(end, settings)}"
    if end <= now - timedelta(days=days):
        return (
            f"camera {camera.id} ({camera.name}): {span} is beyond the retention period of "
            f"{days:g} days; recordings older than that are deleted "
            f"(oldest recording: {oldest_text})"
        )
    return (
        f"no recording for camera {camera.id} ({camera.name}) between {span} "
        f"(oldest recording: {oldest_text}, retention {days:g} days)"
    )


def create_export(
    session: Session,
    settings: Settings,
    camera: Camera,
    start: datetime,
    end: datetime,
    *,
    requested_by: Scope,
    now: datetime | None = None,
    max_span: timedelta = MAX_EXPORT,
) -> Export:
    """Remux the range into a new export folder, write its manifest and add the Export row.

    Runs synchronously: remuxing is I/O-bound and a 6 h clip of a 2 Mbit/s camera takes seconds
    to a minute. Files of an export whose row does not commit are left for a cleanup to remove.
    """
    now = now or utcnow()
    if start >= end:
        raise ExportRefused("'from' must be before 'to'", "from")
    if end - start > max_span:
        hours = max_span.total_seconds() / 3600
        raise ExportRefused(f"an export may cover at most {hours:g} hours; split the range", "to")
    root = settings.recordings_dir
    present = [s for s in segments_between(session, camera.id, start, end) if has_file(root, s)]
    if not present:
        raise ExportRefused(no_recording_message(session, settings, camera, start, end, now))

    export_id = str(uuid.uuid4())
    site = camera.site
    folder = settings.exports_dir / export_id
    local_start = start.astimezone(ZoneInfo(settings.city.timezone))
    name = (
        f"{_slug(site.slug)}_{_slug(camera.name)}_{local_start:%Y%m%d-%H%M%S}"
        f"{settings.city.timezone_label}.mp4"
    )
    parts = [ClipPart(file_of(root, s), s.start, s.end) for s in present]
    try:
        clip = export_clip(parts, start, end, folder / name)
    except ExportError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ExportRefused(
            f"camera {camera.id} ({camera.name}): {exc} between "
            f"{local_label(start, settings)} and {local_label(end, settings)}"
        ) from exc
    used = {p.path for p in clip.used}
    manifest: dict[str, Any] = {
        "pantau_version": __version__,
        "export_id": export_id,
        "camera": {"id": camera.id, "name": camera.name, "purpose": camera.purpose},
        "site": {
            "id": site.id,
            "name": site.name,
            "slug": site.slug,
            "code": site.kelurahan_code or site.kecamatan_code,
            "kelurahan_code": site.kelurahan_code,
            "kecamatan_code": site.kecamatan_code,
        },
        "timezone": settings.city.timezone,
        "requested": _times(start, end, settings),
        "actual": _times(clip.first_pts_time, clip.last_time, settings),
        "exported_by": {"username": requested_by.username, "role": requested_by.role.value},
        "exported_at_utc": utc_iso(now),
        "exported_at_local": local_label(now, settings),
        "file": {
            "name": name,
            "bytes": clip.bytes,
            "sha256": clip.sha256,
            "container": "mp4",
            "video": {
                "codec": clip.codec,
                "width": clip.width,
                "height": clip.height,
                "frames": clip.frames,
            },
        },
        "method": (
            "stream copy from the recorded MPEG-TS segments, no re-encoding; the clip starts at "
            "the keyframe at or before the requested start; clip time t is actual.start_utc + t, "
            "so gaps in the recording stay gaps (the last frame before a gap stays on screen)"
        ),
        "segments": [
            {"file": s.path, "bytes": s.bytes, **_times(s.start, s.end, settings)}
            for s in present
            if file_of(root, s) in used
        ],
        "skipped_segments": [
            {"file": str(p.path.relative_to(root.resolve())), "reason": why}
            for p, why in clip.skipped
        ],
        "gaps": [
            {**_times(a, b, settings), "seconds": round((b - a).total_seconds(), 3)}
            for a, b in gaps(present, start, end)
        ],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    row = Export(
        id=export_id,
        camera_id=camera.id,
        start=start,
        end=end,
        requested_by=requested_by.username,
        created_at=now,
        path=f"{export_id}/{name}",
        bytes=clip.bytes,
        sha256=clip.sha256,
        manifest=manifest,
    )
    session.add(row)
    session.flush()
    return row


def clip_file(settings: Settings, export: Export) -> Path:
    return settings.exports_dir / export.path


def manifest_file(settings: Settings, export: Export) -> Path:
    return settings.exports_dir / export.id / "manifest.json"
