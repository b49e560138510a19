"""Retention against the real disk and index: delete what `media.retention` plans, oldest first.

The pipeline runs `enforce` every `recording.retention_interval_seconds` (and at once when a
write fails for lack of space); admins can run it from the API. A disk that stays too full is a
warning in the report and the log, never an exception: recording continues into the space the
oldest segments leave behind.
"""

from __future__ import annotations

import itertools
import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, sessionmaker

from pantau.config.model import Settings
from pantau.media import retention as planner
from pantau.recordings.index import file_of
from pantau.store.db import transaction
from pantau.store.models import Segment
from pantau.store.types import utcnow

log = logging.getLogger(__name__)

GB = 1024**3
CHUNK = 2000  # deletions per transaction: bounded memory, and the recorder is never blocked long

DiskFree = Callable[[Path], int]
REASONS = ("age", "camera_quota", "total_quota", "disk_free")


class HasStore(Protocol):
    """A Runtime, or anything with the same two attributes."""

    settings: Settings
    sessions: sessionmaker[Session]


@dataclass
class RetentionReport:
    started_at: datetime
    deleted: int = 0
    bytes_freed: int = 0
    by_reason: dict[str, dict[str, int]] = field(default_factory=dict)
    already_missing: int = 0  # rows whose file was already gone (removed, 0 bytes freed)
    failed: list[str] = field(default_factory=list)  # files that could not be deleted
    free_bytes_before: int = 0
    free_bytes_after: int = 0
    min_free_bytes: int = 0
    warning: str | None = None

    def __str__(self) -> str:
        reasons = ", ".join(
            f"{k} {self.by_reason[k]['segments']}" for k in REASONS if k in self.by_reason
        )
        text = f"deleted {self.deleted} segments ({self.bytes_freed / 1e6:.1f} MB"
        text += f"; {reasons})" if reasons else ")"
        if self.already_missing:
            text += f", {self.already_missing} index rows without a file removed"
        if self.failed:
            text += f", {len(self.failed)} files could not be deleted"
        text += f", {self.free_bytes_after / GB:.1f} GB free"
        return text + (f"; WARNING: {self.warning}" if self.warning else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(),
            "deleted": self.deleted,
            "bytes_freed": self.bytes_freed,
            "by_reason": self.by_reason,
            "already_missing": self.already_missing,
            "failed": self.failed[:50],
            "free_bytes_before": self.free_bytes_before,
            "free_bytes_after": self.free_bytes_after,
            "min_free_bytes": self.min_free_bytes,
            "warning": self.warning,
        }


_last: RetentionReport | None = None


def last_report() -> RetentionReport | None:
    """The most recent run in this process (for the health endpoint)."""
    return _last


def disk_free(path: Path) -> int:
    """Free bytes on the file system holding `path` (or its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def disk_warning(free: int, min_free: int) -> str | None:
    if free >= min_free:
        return None
    return (
        f"recordings disk nearly full: {free / GB:.1f} GB free, below the minimum of "
        f"{min_free / GB:.1f} GB even after deleting the oldest recordings; recording continues "
        "but free space or a lower retention is needed"
    )


def disk_status(settings: Settings, *, free: DiskFree = disk_free) -> dict[str, Any]:
    """Free space of the recordings disk against the minimum, for a health check to show.

    Measured on the spot (one statvfs), so it is right in any process, unlike `last_report`.
    """
    min_free = _gb(settings.recording.min_free_gb) or 0
    now_free = free(settings.recordings_dir)
    return {
        "free_bytes": now_free,
        "min_free_bytes": min_free,
        "warning": disk_warning(now_free, min_free),
    }


def _gb(value: float | None) -> int | None:
    return None if value is None else int(value * GB)


_COLUMNS = (Segment.id, Segment.camera_id, Segment.start, Segment.end, Segment.bytes, Segment.path)


def _stream(session: Session, *where: Any) -> Iterator[Row]:
    """Index rows oldest first, fetched in batches (a server-side cursor on PostgreSQL)."""
    query = select(*_COLUMNS).where(*where).order_by(Segment.start, Segment.camera_id)
    result = session.execute(query.execution_options(yield_per=500))
    try:
        yield from result
    finally:
        result.close()


def _plan_chunk(
    session: Session, settings: Settings, now: datetime, free_est: int, failed: set[int]
) -> list[tuple[Row, str]]:
    """Up to CHUNK deletions, oldest first per rule, from the index as it is now."""
    rec = settings.recording
    limit = planner.cutoff(now, rec.retention_days)
    camera_quota = _gb(rec.camera_quota_gb)
    usage = session.execute(
        select(Segment.camera_id, func.sum(Segment.bytes), func.min(Segment.end)).group_by(
            Segment.camera_id
        )
    ).all()
    chosen: dict[int, tuple[Row, str]] = {}
    for camera_id, used, oldest_end in usage:
        if len(chosen) >= CHUNK:
            break
        over = camera_quota is not None and used > camera_quota
        if oldest_end > limit and not over:
            continue
        rows = _stream(session, Segment.camera_id == camera_id)
        steps = planner.plan_camera(
            rows,
            now=now,
            retention_days=rec.retention_days,
            camera_bytes=int(used),
            camera_quota_bytes=camera_quota,
        )
        for row, reason in itertools.islice(steps, CHUNK - len(chosen)):
            if row.id not in failed:
                chosen[row.id] = (row, reason)
        rows.close()
    total = sum(int(used) for _, used, _ in usage) - sum(r.bytes for r, _ in chosen.values())
    freed = sum(r.bytes for r, _ in chosen.values())
    if len(chosen) < CHUNK:
        rows = _stream(session)
        steps = planner.plan_global(
            rows,
            total_bytes=total,
            total_quota_bytes=_gb(rec.total_quota_gb),
            free_bytes=free_est + freed,
            min_free_bytes=_gb(rec.min_free_gb) or 0,
            skip=lambda r: r.id in chosen or r.id in failed,
        )
        for row, reason in itertools.islice(steps, CHUNK - len(chosen)):
            chosen[row.id] = (row, reason)
        rows.close()
    return sorted(chosen.values(), key=lambda item: item[0].start)


def _delete_file(root: Path, row: Row) -> bool | None:
    """True if deleted, None if it was already gone, False if it could not be deleted."""
    try:
        path = file_of(root, row)
        path.unlink()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.error("retention: cannot delete %s: %s", row.path, exc)
        return False
    for parent in (path.parent, path.parent.parent):  # empty day and camera folders
        if parent == root.resolve():
            break
        try:
            parent.rmdir()
        except OSError:
            break
    return True


def enforce(
    store: HasStore, now: datetime | None = None, *, free: DiskFree = disk_free
) -> RetentionReport:
    """Delete segment files and their rows by the retention rules; report what was freed.

    Free space is measured once before and once after: during the run it is estimated as
    "before + freed", so a file system that reports freed space late (or a test that fakes it)
    cannot make the run delete more than the rules ask for.
    """
    global _last
    settings = store.settings
    now = now or utcnow()
    root = settings.recordings_dir
    report = RetentionReport(
        started_at=now, min_free_bytes=_gb(settings.recording.min_free_gb) or 0
    )
    report.free_bytes_before = free(root)
    failed: set[int] = set()
    while True:
        with transaction(store.sessions) as session:
            plan = _plan_chunk(
                session, settings, now, report.free_bytes_before + report.bytes_freed, failed
            )
            removed: list[int] = []
            for row, reason in plan:
                outcome = _delete_file(root, row)
                if outcome is False:
                    failed.add(row.id)
                    report.failed.append(row.path)
                    continue
                removed.append(row.id)
                if outcome is None:
                    report.already_missing += 1
                    continue
                stats = report.by_reason.setdefault(reason, {"segments": 0, "bytes": 0})
                stats["segments"] += 1
                stats["bytes"] += row.bytes
                report.deleted += 1
                report.bytes_freed += row.bytes
            for i in range(0, len(removed), 500):
                session.execute(delete(Segment).where(Segment.id.in_(removed[i : i + 500])))
        if not removed:
            break
    report.free_bytes_after = free(root)
    report.warning = disk_warning(report.free_bytes_after, report.min_free_bytes)
    if report.deleted or report.already_missing:
        log.info("retention: %s", report)
    if report.warning:
        log.warning("retention: %s", report.warning)
    _last = report
    return report
