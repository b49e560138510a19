"""Which recorded segments to delete: by age, per-camera quota, total quota and free disk space.

Pure planning, no I/O: the caller lists segments and measures the disk, this decides. The rules, in
order, each oldest first:

1. age          - the segment ended more than `retention_days` ago;
2. camera_quota - the camera uses more than its quota;
3. total_quota  - all cameras together use more than the total quota;
4. disk_free    - the disk has less than `min_free_bytes` free (counting what 1-3 already free).

The planner is built from two lazy steps (`plan_camera`, `plan_global`) that stop as soon as
nothing more needs deleting, so the database side can feed them from cursors ordered by start
instead of loading millions of index rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar

Reason = Literal["age", "camera_quota", "total_quota", "disk_free"]


class SegLike(Protocol):
    @property
    def camera_id(self) -> int: ...

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    @property
    def bytes(self) -> int: ...


S = TypeVar("S", bound=SegLike)


def seg_key(seg: SegLike) -> tuple[int, datetime]:
    """A segment's identity: (camera, start) is unique in the index."""
    return (seg.camera_id, seg.start)


def cutoff(now: datetime, retention_days: float) -> datetime:
    return now - timedelta(days=retention_days)


def plan_camera(
    segments: Iterable[S],
    *,
    now: datetime,
    retention_days: float,
    camera_bytes: int,
    camera_quota_bytes: int | None,
) -> Iterator[tuple[S, Reason]]:
    """Deletions for one camera, from its segments oldest first and its total usage.

    Stops at the first segment that is neither too old nor needed to get under the quota.
    """
    limit = cutoff(now, retention_days)
    remaining = camera_bytes
    for seg in segments:
        if seg.end <= limit:
            reason: Reason = "age"
        elif camera_quota_bytes is not None and remaining > camera_quota_bytes:
            reason = "camera_quota"
        else:
            return
        remaining -= seg.bytes
        yield seg, reason


def plan_global(
    segments: Iterable[S],
    *,
    total_bytes: int,
    total_quota_bytes: int | None,
    free_bytes: int | None,
    min_free_bytes: int,
    skip: Callable[[S], bool] = lambda s: False,
) -> Iterator[tuple[S, Reason]]:
    """Deletions across all cameras, oldest first, for the total quota and then free space.

    `total_bytes` and `free_bytes` are measured after the per-camera deletions (or include what
    they will free); `skip` tells which segments those already took.
    """
    total_excess = total_bytes - total_quota_bytes if total_quota_bytes is not None else 0
    disk_short = min_free_bytes - free_bytes if free_bytes is not None else 0
    for seg in segments:
        if total_excess <= 0 and disk_short <= 0:
            return
        if skip(seg):
            continue
        reason: Reason = "total_quota" if total_excess > 0 else "disk_free"
        total_excess -= seg.bytes
        disk_short -= seg.bytes
        yield seg, reason


def plan(
    segments: list[S],
    *,
    now: datetime,
    retention_days: float,
    camera_quota_bytes: int | None = None,
    total_quota_bytes: int | None = None,
    free_bytes: int | None = None,
    min_free_bytes: int = 0,
) -> list[tuple[S, Reason]]:
    """Everything to delete from `segments` (the whole index), oldest first, with the reason."""
    ordered = sorted(segments, key=lambda s: (s.start, s.camera_id))
    by_camera: dict[int, list[S]] = defaultdict(list)
    for seg in ordered:
        by_camera[seg.camera_id].append(seg)
    chosen: dict[Hashable, tuple[S, Reason]] = {}
    for segs in by_camera.values():
        for seg, reason in plan_camera(
            segs,
            now=now,
            retention_days=retention_days,
            camera_bytes=sum(s.bytes for s in segs),
            camera_quota_bytes=camera_quota_bytes,
        ):
            chosen[seg_key(seg)] = (seg, reason)
    freed = sum(s.bytes for s, _ in chosen.values())
    total = sum(s.bytes for s in ordered) - freed
    for seg, reason in plan_global(
        ordered,
        total_bytes=total,
        total_quota_bytes=total_quota_bytes,
        free_bytes=None if free_bytes is None else free_bytes + freed,
        min_free_bytes=min_free_bytes,
        skip=lambda s: seg_key(s) in chosen,
    ):
        chosen[seg_key(seg)] = (seg, reason)
    return sorted(chosen.values(), key=lambda item: (item[0].start, item[0].camera_id))
