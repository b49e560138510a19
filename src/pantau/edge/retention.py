"""Retention of the recordings kept at an edge site, from the files themselves.

The hub enforces retention from its segment index; an agent has no such index of its own (its
segment rows leave through the outbox), so it reads the recordings folder: a segment's camera and
start are in its path (`media.recorder.segment_path`), its size and end in the file's metadata.
The rules are the hub's (`media.retention.plan`: age, camera quota, total quota, free disk), so a
site keeps what the city's retention policy says and a full disk frees the oldest first.

Files still being written (`.part`) and each camera's newest segment are never touched.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pantau.config.model import RecordingConfig
from pantau.media import retention as planner
from pantau.media.recorder import parse_segment_start
from pantau.recordings.retention import GB, disk_free

log = logging.getLogger(__name__)

LONGEST = timedelta(minutes=2)  # recording.segment_seconds is at most 60


@dataclass(frozen=True)
class LocalSegment:
    camera_id: int
    start: datetime
    end: datetime
    bytes: int
    file: Path


def local_segments(
    root: Path, camera_id: int | None = None, days: tuple[date, date] | None = None
) -> list[LocalSegment]:
    """Finished segments under `root`, oldest first (of one camera, and UTC day folders within
    `days`, if given: a clip needs minutes, not a month of files).

    A segment ends when its file was last written, but never after the next segment starts,
    nor later than `LONGEST` after its own start (a copied file has the copy's time).
    """
    cams = [root / str(camera_id)] if camera_id is not None else sorted(root.glob("*"))
    found: list[LocalSegment] = []
    for cam_dir in cams:
        if not cam_dir.is_dir() or not cam_dir.name.isdigit():
            continue
        if days is None:
            files = list(cam_dir.glob("*/*.ts"))
        else:
            count = (days[1] - days[0]).days + 1
            folders = (cam_dir / (days[0] + timedelta(days=i)).isoformat() for i in range(count))
            files = [f for folder in folders for f in folder.glob("*.ts")]
        named = sorted((start, f) for f in files if (start := parse_segment_start(f)) is not None)
        for i, (start, f) in enumerate(named):
            try:
                st = f.stat()
            except FileNotFoundError:
                continue
            end = min(datetime.fromtimestamp(st.st_mtime, UTC), start + LONGEST)
            if i + 1 < len(named):
                end = min(end, named[i + 1][0])
            found.append(LocalSegment(int(cam_dir.name), start, max(end, start), st.st_size, f))
    return sorted(found, key=lambda s: (s.start, s.camera_id))


def _bytes(gb: float | None) -> int | None:
    return None if gb is None else int(gb * GB)


@dataclass
class LocalRetention:
    deleted: int = 0
    bytes_freed: int = 0
    failed: int = 0


def enforce_local(
    root: Path,
    policy: RecordingConfig,
    now: datetime | None = None,
    free: Callable[[Path], int] = disk_free,
    on_deleted: Callable[[list[LocalSegment]], object] | None = None,
) -> LocalRetention:
    """Delete what the retention policy says, oldest first; empty day folders go too.
    `on_deleted` hears of the segments gone, once, at the end (the agent tells the hub's
    segment index); if it fails, the files are gone all the same and the failure is logged."""
    segments = local_segments(root)
    newest = {s.camera_id: s for s in segments}
    plan = planner.plan(
        segments,
        now=now or datetime.now(UTC),
        retention_days=policy.retention_days,
        camera_quota_bytes=_bytes(policy.camera_quota_gb),
        total_quota_bytes=_bytes(policy.total_quota_gb),
        free_bytes=free(root),
        min_free_bytes=_bytes(policy.min_free_gb) or 0,
    )
    done = LocalRetention()
    gone: list[LocalSegment] = []
    for seg, reason in plan:
        if newest[seg.camera_id] is seg:
            continue
        try:
            seg.file.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not delete %s (%s): %s", seg.file, reason, exc)
            done.failed += 1
            continue
        done.deleted += 1
        done.bytes_freed += seg.bytes
        gone.append(seg)
        with contextlib.suppress(OSError):  # the day folder still holds other segments
            seg.file.parent.rmdir()
    if gone and on_deleted is not None:
        try:
            on_deleted(gone)
        except Exception:  # a full or locked outbox must not stop retention freeing the disk
            log.exception("could not queue %d deleted segments for the hub's index", len(gone))
    if done.deleted:
        log.info(
            "local retention: deleted %d segments (%.1f MB)", done.deleted, done.bytes_freed / 1e6
        )
    return done
