"""Clips from edge sites: footage an operator asks for, uploaded by the site's agent.

Recordings of an agent's site stay at the site (the hub has only their index, `edge_segment`).
An operator asks for a range; the request waits for the agent's next hello, which lists it;
the agent builds one MP4 from its segments and uploads it in chunks on its own schedule and
under its bandwidth cap. The hub writes a chunk only at the offset it already has, so an upload
cut anywhere (link down, agent or hub killed) resumes where the hub's file ends, and the whole
file is checked against the SHA-256 the agent computed before the clip is shown as ready.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.config.model import Settings
from pantau.edge import items as wire
from pantau.hub.pending import agent_rank
from pantau.media.export import sha256_file
from pantau.store.models import Agent, Camera, ClipRequest, EdgeSegment
from pantau.store.types import utcnow

PENDING, UPLOADING, READY, FAILED, CANCELLED, EXPIRED = (
    "pending",
    "uploading",
    "ready",
    "failed",
    "cancelled",
    "expired",
)
OPEN = (PENDING, UPLOADING)
MAX_CHUNK = 1024 * 1024
MAX_RESTARTS = 2  # a third checksum mismatch fails the clip instead of sending it again

_locks: dict[int, threading.Lock] = {}


def lock_for(clip_id: int) -> threading.Lock:
    """Held around a whole upload step, commit included: two requests for one clip (a retry
    while the first is still being handled) must not both append at the same offset. The row
    lock (FOR UPDATE) does the same across hub processes on PostgreSQL."""
    return _locks.setdefault(clip_id, threading.Lock())  # atomic: one lock per clip


class ClipRefused(Exception):
    """A request or an upload step the hub does not accept, with the HTTP status to answer."""

    def __init__(
        self, message: str, status: int = 422, field: str | None = None, offset: int | None = None
    ) -> None:
        super().__init__(message)
        self.message, self.status, self.field, self.offset = message, status, field, offset


# ---- operators --------------------------------------------------------------------------------


def site_agent(session: Session, site_id: int) -> Agent | None:
    """The site's current agent: not revoked, and the one the hub heard last — the same one
    the site's state and pending days are read from (hub.pending.site_agents)."""
    agents = session.scalars(
        select(Agent).where(Agent.site_id == site_id, Agent.revoked_at.is_(None))
    ).all()
    return max(agents, key=agent_rank, default=None)


def recorded_ranges(
    session: Session, camera_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The site's recording in [start, end) as merged ranges (segments touching or 2 s apart
    join), from the index the agent sent."""
    rows = session.execute(
        select(EdgeSegment.start, EdgeSegment.end)
        .where(EdgeSegment.camera_id == camera_id, EdgeSegment.start < end, EdgeSegment.end > start)
        .order_by(EdgeSegment.start)
    )
    out: list[tuple[datetime, datetime]] = []
    for s, e in rows:
        s, e = max(s, start), min(e, end)
        if out and s - out[-1][1] <= timedelta(seconds=2):
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def request_clip(
    session: Session,
    settings: Settings,
    camera: Camera,
    start: datetime,
    end: datetime,
    requested_by: str,
    user_id: int | None,
) -> ClipRequest:
    """A new pending request, after checking that the site can answer it at all."""
    if start >= end:
        raise ClipRefused("'from' must be before 'to'", field="from")
    limit = timedelta(minutes=settings.edge.clip_max_minutes)
    if end - start > limit:
        raise ClipRefused(
            f"range too long: at most {settings.edge.clip_max_minutes:g} minutes per clip "
            "(edge.clip_max_minutes); it crosses the site's slow link",
            field="to",
        )
    agent = site_agent(session, camera.site_id)
    if agent is None:
        raise ClipRefused(
            f"camera {camera.id} ({camera.name}) is not at a site served by an edge agent; "
            "its recordings are at the hub: play them or export them directly",
            field="camera_id",
        )
    if not recorded_ranges(session, camera.id, start, end):
        raise ClipRefused(
            f"the site has reported no recording of camera {camera.id} ({camera.name}) between "
            f"{wire.iso(start)} and {wire.iso(end)}",
            field="from",
        )
    now = utcnow()
    row = ClipRequest(
        camera_id=camera.id,
        start=start,
        end=end,
        requested_by=requested_by,
        user_id=user_id,
        state=PENDING,
        agent_id=agent.id,
        bytes_received=0,
        restarts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def part_file(settings: Settings, clip_id: int) -> Path:
    return settings.data_dir / "clips" / f"{clip_id}.mp4.part"


def clip_file(settings: Settings, clip: ClipRequest) -> Path | None:
    return settings.data_dir / clip.path if clip.path else None


def cancel(session: Session, settings: Settings, clip: ClipRequest) -> None:
    if clip.state not in OPEN:
        raise ClipRefused(f"clip {clip.id} is already {clip.state}", status=409, field="state")
    clip.state = CANCELLED
    clip.updated_at = clip.finished_at = utcnow()
    part_file(settings, clip.id).unlink(missing_ok=True)


def expire_clips(session: Session, settings: Settings, now: datetime) -> int:
    """Delete the hub's copies of footage past the recording retention period.

    A retrieved clip is a copy of a site's recording, so it may not outlive the recording
    (UU 27/2022: retention is enforced); a request still open for such footage can no longer be
    delivered either. The row stays, as `expired`, so the audit trail of who asked for what
    remains. Returns the number of clips expired."""
    limit = now - timedelta(days=settings.recording.retention_days)
    clips = session.scalars(
        select(ClipRequest).where(ClipRequest.end < limit, ClipRequest.state.in_((*OPEN, READY)))
    ).all()
    for clip in clips:
        part_file(settings, clip.id).unlink(missing_ok=True)
        if (final := clip_file(settings, clip)) is not None:
            final.unlink(missing_ok=True)
        clip.state, clip.path = EXPIRED, None
        clip.error = f"deleted: older than the {settings.recording.retention_days:g}-day retention"
        clip.updated_at = now
        clip.finished_at = clip.finished_at or now
    session.flush()
    return len(clips)


@dataclass
class Progress:
    percent: float | None
    eta_seconds: float | None
    rate_kbps: float | None
    agent_last_contact: datetime | None


def progress(session: Session, clip: ClipRequest) -> Progress:
    """How far the upload is and, at the agent's cap, how long the rest should take (an
    estimate: the link may be down for hours, which is why the last contact is shown too)."""
    agent = session.get(Agent, clip.agent_id) if clip.agent_id else None
    last = agent.last_contact_at if agent else None
    if clip.state == READY:
        return Progress(100.0, 0.0, clip.rate_kbps, last)
    if not clip.bytes_expected:
        return Progress(0.0 if clip.state in OPEN else None, None, clip.rate_kbps, last)
    pct = round(100.0 * clip.bytes_received / clip.bytes_expected, 1)
    rate = clip.rate_kbps
    if not rate and clip.started_at and clip.bytes_received:
        seconds = (utcnow() - clip.started_at).total_seconds()
        rate = clip.bytes_received * 8 / 1000 / seconds if seconds > 0 else None
    eta = None
    if rate and clip.state in OPEN:
        eta = round((clip.bytes_expected - clip.bytes_received) * 8 / 1000 / rate, 1)
    return Progress(pct, eta, rate, last)


# ---- agents -----------------------------------------------------------------------------------


def _wire(clip: ClipRequest) -> dict[str, Any]:
    return {
        "id": clip.id,
        "camera_id": clip.camera_id,
        "from": wire.iso(clip.start),
        "to": wire.iso(clip.end),
        "state": clip.state,
        "offset": clip.bytes_received,
        "sha256": clip.sha256,
    }


def pending_for(session: Session, agent: Agent) -> list[dict[str, Any]]:
    """Open requests for the cameras of the agent's site, oldest first (for the hello answer)."""
    rows = session.scalars(
        select(ClipRequest)
        .join(Camera, Camera.id == ClipRequest.camera_id)
        .where(Camera.site_id == agent.site_id, ClipRequest.state.in_(OPEN))
        .order_by(ClipRequest.id)
    )
    return [_wire(c) for c in rows]


def _agents_clip(session: Session, agent: Agent, clip_id: int) -> ClipRequest:
    clip = session.scalar(select(ClipRequest).where(ClipRequest.id == clip_id).with_for_update())
    if clip is None:
        raise ClipRefused(f"clip {clip_id} does not exist", status=404)
    camera = session.get(Camera, clip.camera_id)
    if camera is None or camera.site_id != agent.site_id:
        raise ClipRefused(f"clip {clip_id} is for a camera of another site", status=404)
    if clip.state not in OPEN:
        reason = f": {clip.error}" if clip.error else ""
        raise ClipRefused(f"clip {clip_id} is {clip.state}{reason}; stop", status=410)
    return clip


def _on_disk(settings: Settings, clip: ClipRequest) -> int:
    """The hub's offset: what the database says, never more than the file holds (a file
    shorter than the row can only come from a lost disk; it is then trusted)."""
    path = part_file(settings, clip.id)
    size = path.stat().st_size if path.exists() else 0
    if size < clip.bytes_received:
        clip.bytes_received = size
    return clip.bytes_received


def _truncate(settings: Settings, clip: ClipRequest) -> None:
    path = part_file(settings, clip.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb"):
        pass
    clip.bytes_received = 0


def begin(
    session: Session,
    settings: Settings,
    agent: Agent,
    clip_id: int,
    *,
    nbytes: int,
    sha256: str,
    clip_start: datetime | None,
    clip_end: datetime | None,
    frames: int | None,
    rate_kbps: float | None,
) -> ClipRequest:
    """The agent announces the file it built (size, hash); the answer carries the offset to
    send from. A different file than the one being received starts over from 0."""
    clip = _agents_clip(session, agent, clip_id)
    same = clip.sha256 == sha256 and clip.bytes_expected == nbytes
    if clip.state == PENDING or not same:
        if clip.state == UPLOADING:
            clip.restarts += 1
        _truncate(settings, clip)
    else:
        _on_disk(settings, clip)
    now = utcnow()
    clip.state = UPLOADING
    clip.agent_id = agent.id
    clip.bytes_expected, clip.sha256 = nbytes, sha256
    clip.clip_start, clip.clip_end, clip.frames = clip_start, clip_end, frames
    clip.rate_kbps = rate_kbps or None
    clip.started_at = clip.started_at or now
    clip.updated_at = now
    session.flush()
    return clip


def put_chunk(
    session: Session, settings: Settings, agent: Agent, clip_id: int, offset: int, data: bytes
) -> ClipRequest:
    """Write `data` at `offset` if that is where the hub's file ends. A chunk the hub already
    has (sent again after a lost answer) is accepted without writing; any other offset is
    refused with the hub's, so the agent continues from there."""
    if len(data) > MAX_CHUNK:
        raise ClipRefused(f"chunk larger than {MAX_CHUNK} bytes", status=413)
    clip = _agents_clip(session, agent, clip_id)
    if clip.state != UPLOADING or clip.bytes_expected is None:
        raise ClipRefused(f"clip {clip_id}: announce the file first (begin)", status=409, offset=0)
    have = _on_disk(settings, clip)
    end = offset + len(data)
    if offset < have and end <= have:
        return clip  # already here
    if offset != have:
        raise ClipRefused(
            f"clip {clip_id}: the hub has {have} bytes; send from there, not from {offset}",
            status=409,
            offset=have,
        )
    if end > clip.bytes_expected:
        raise ClipRefused(
            f"clip {clip_id}: {end} bytes is more than the {clip.bytes_expected} announced",
            status=422,
            offset=have,
        )
    path = part_file(settings, clip.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        os.lseek(fd, offset, os.SEEK_SET)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.ftruncate(fd, end)  # bytes past the offset from a write never committed
        os.fsync(fd)
    finally:
        os.close(fd)
    clip.bytes_received = end
    clip.updated_at = utcnow()
    session.flush()
    return clip


def finish(
    session: Session, settings: Settings, agent: Agent, clip_id: int, nbytes: int, sha256: str
) -> ClipRequest:
    """Check the whole file against the agent's hash. Ready if it matches; otherwise the bytes
    are thrown away and the upload starts over, and after MAX_RESTARTS the clip fails."""
    clip = _agents_clip(session, agent, clip_id)
    have = _on_disk(settings, clip)
    if clip.state != UPLOADING or have != nbytes or clip.bytes_expected != nbytes:
        raise ClipRefused(
            f"clip {clip_id}: the hub has {have} of {clip.bytes_expected} bytes, "
            f"not {nbytes}; send the rest first",
            status=409,
            offset=have,
        )
    part = part_file(settings, clip.id)
    actual = sha256_file(part)
    now = utcnow()
    clip.updated_at = now
    if actual != sha256 or actual != clip.sha256:
        why = f"SHA-256 of the received file is {actual}, the agent's is {sha256}"
        if clip.restarts >= MAX_RESTARTS:
            clip.state, clip.error, clip.finished_at = FAILED, why, now
            part.unlink(missing_ok=True)
        else:
            clip.restarts += 1
            clip.error = f"{why}; receiving it again"
            _truncate(settings, clip)
        session.flush()
        return clip
    final = part.with_name(f"{clip.id}.mp4")
    part.replace(final)
    clip.state, clip.finished_at, clip.error = READY, now, None
    clip.path = str(final.relative_to(settings.data_dir))
    session.flush()
    return clip


def cannot(
    session: Session, settings: Settings, agent: Agent, clip_id: int, reason: str
) -> ClipRequest:
    """The site cannot deliver (footage deleted by local retention, unreadable)."""
    clip = _agents_clip(session, agent, clip_id)
    now = utcnow()
    clip.state, clip.error = FAILED, f"the site cannot deliver it: {reason}"
    clip.updated_at = clip.finished_at = now
    part_file(settings, clip.id).unlink(missing_ok=True)
    session.flush()
    return clip
