"""The segment index: which recorded file covers which camera and time.

The recorder adds a row per closed segment; playback, export, snapshots and retention read it.
Files can disappear behind the index's back (an operator clearing a disk, a failed disk), so
readers check and `verify` drops rows whose file is gone instead of serving broken playlists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from pantau.store.models import Segment

log = logging.getLogger(__name__)

# Longest segment the range queries look back for. The recorder rotates every 2-60 s; this bound
# lets `start` (indexed) narrow the scan instead of reading every row with an early `end`.
MAX_SEGMENT_SPAN = timedelta(hours=1)


class SegmentLike(Protocol):
    """What the recorder reports for a closed segment (its `SegmentInfo` has these fields)."""

    camera_id: int
    start: datetime
    end: datetime
    path: str  # relative to the recordings root: "<camera_id>/<YYYY-MM-DD>/<HHMMSS>_<ms>Z.ts"
    bytes: int
    keyframes: int
    recovered: bool


@dataclass(frozen=True)
class MissingSegment:
    """An index row whose file was gone; the row has been removed."""

    id: int
    camera_id: int
    start: datetime
    end: datetime
    path: str


def add_segment(session: Session, info: SegmentLike) -> Segment:
    """Index a closed segment; adding the same camera and start again updates, never duplicates.

    INSERT .. ON CONFLICT DO NOTHING instead of check-then-insert, so two processes (a recorder
    and a recovery scan) racing on the same file cannot fail each other.
    """
    values = {
        "camera_id": info.camera_id,
        "start": info.start,
        "end": info.end,
        "path": str(info.path),
        "bytes": int(info.bytes),
        "keyframes": int(getattr(info, "keyframes", 0) or 0),
        "recovered": bool(getattr(info, "recovered", False)),
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Segment)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["camera_id", "start"])
    )
    row = session.scalars(
        select(Segment).where(Segment.camera_id == info.camera_id, Segment.start == info.start)
    ).one()
    for key, value in values.items():  # same file reported again (e.g. after recovery): refresh
        if getattr(row, key) != value:
            setattr(row, key, value)
    session.flush()
    return row


def segments_between(
    session: Session, camera_id: int, start: datetime, end: datetime
) -> list[Segment]:
    """Segments of a camera that overlap [start, end), ordered by start."""
    query = (
        select(Segment)
        .where(
            Segment.camera_id == camera_id,
            Segment.start < end,
            Segment.start > start - MAX_SEGMENT_SPAN,
            Segment.end > start,
        )
        .order_by(Segment.start)
    )
    return list(session.scalars(query))


def segment_at(session: Session, camera_id: int, at: datetime) -> Segment | None:
    """The segment whose time covers `at`, if any."""
    found = segments_between(session, camera_id, at, at + timedelta(microseconds=1))
    return found[-1] if found else None


def oldest_start(session: Session, camera_id: int) -> datetime | None:
    return session.scalar(select(func.min(Segment.start)).where(Segment.camera_id == camera_id))


def file_of(root: Path, segment: SegmentLike) -> Path:
    """The file of a segment; refuses a stored path that points outside the recordings root."""
    path = (root / segment.path).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"segment path {segment.path!r} is outside the recordings folder")
    return path


def has_file(root: Path, segment: SegmentLike) -> bool:
    """Whether the segment's file is on disk (False for a path outside the root)."""
    try:
        return file_of(root, segment).is_file()
    except ValueError:
        return False


def verify(
    session: Session,
    root: Path,
    camera_id: int | None = None,
    segments: list[Segment] | None = None,
) -> list[MissingSegment]:
    """Remove index rows whose file no longer exists; return what was removed.

    Checks `segments` if given (a playlist's or an export's rows), else every row of the camera
    (or of all cameras), streamed so a large index is never held in memory.
    """
    if segments is None:
        query = select(Segment).order_by(Segment.camera_id, Segment.start)
        if camera_id is not None:
            query = query.where(Segment.camera_id == camera_id)
        candidates = session.scalars(query.execution_options(yield_per=1000))
    else:
        candidates = segments  # type: ignore[assignment]
    missing = [
        MissingSegment(s.id, s.camera_id, s.start, s.end, s.path)
        for s in candidates
        if not has_file(root, s)
    ]
    for m in missing:
        log.warning(
            "camera %d: segment %s (%s) is missing on disk; removed from the index",
            m.camera_id,
            m.path,
            m.start.isoformat(),
        )
    ids = [m.id for m in missing]
    for i in range(0, len(ids), 500):
        session.execute(
            delete(Segment).where(Segment.id.in_(ids[i : i + 500])),
            execution_options={"synchronize_session": "fetch"},
        )
    return missing
