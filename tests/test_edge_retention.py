"""The agent's own retention: the hub's rules applied to the recordings folder at the site."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pantau.config.model import RecordingConfig
from pantau.edge import items as wire
from pantau.edge.outbox import Outbox
from pantau.edge.retention import enforce_local, local_segments
from pantau.edge.sink import OutboxSink
from pantau.media.recorder import SegmentInfo, segment_path
from pantau.recordings.retention import GB

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
PLENTY = 500 * GB


def write_segment(root: Path, camera: int, start: datetime, size: int, seconds: float = 10) -> Path:
    path = root / segment_path(camera, start)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    end = (start + timedelta(seconds=seconds)).timestamp()
    os.utime(path, (end, end))
    return path


def test_segments_are_read_from_their_names_and_files(tmp_path: Path) -> None:
    a = write_segment(tmp_path, 3, NOW - timedelta(minutes=5), 100, seconds=60)
    b = write_segment(tmp_path, 3, NOW - timedelta(minutes=4, seconds=30), 200)
    write_segment(tmp_path, 4, NOW - timedelta(minutes=6), 50)
    (tmp_path / "3" / "notes.txt").write_text("not a segment")
    (a.parent / "120000_000Z.ts.part").write_bytes(b"\0" * 10)
    segs = local_segments(tmp_path, 3)
    assert [s.file for s in segs] == [a, b]
    # The first file was written until 60 s after its start, but the next one began after 30 s.
    assert segs[0].end == NOW - timedelta(minutes=4, seconds=30)
    assert segs[1].end == NOW - timedelta(minutes=4, seconds=20)
    assert [s.bytes for s in segs] == [100, 200]
    assert [s.camera_id for s in local_segments(tmp_path)] == [4, 3, 3]


def test_old_segments_go_and_the_newest_stays(tmp_path: Path) -> None:
    old = [write_segment(tmp_path, 1, NOW - timedelta(days=40, minutes=i), 10) for i in range(3)]
    keep = write_segment(tmp_path, 1, NOW - timedelta(days=2), 10)
    # A camera that stopped recording long ago keeps its very last segment: the newest is never
    # deleted by age, whatever its age (it may still be growing on a slow camera).
    last = write_segment(tmp_path, 2, NOW - timedelta(days=50), 10)
    done = enforce_local(tmp_path, RecordingConfig(retention_days=30), NOW, free=lambda p: PLENTY)
    assert done.deleted == 3 and done.bytes_freed == 30
    assert not any(p.exists() for p in old)
    assert not old[0].parent.exists(), "the emptied day folder is removed"
    assert keep.exists() and last.exists()


def test_quota_and_full_disk_free_the_oldest_first(tmp_path: Path) -> None:
    segs = [write_segment(tmp_path, 1, NOW - timedelta(hours=10 - i), 1000) for i in range(10)]
    policy = RecordingConfig(retention_days=30, camera_quota_gb=3500 / GB, min_free_gb=0)
    done = enforce_local(tmp_path, policy, NOW, free=lambda p: PLENTY)
    assert done.deleted == 7
    assert [p.exists() for p in segs] == [False] * 7 + [True] * 3

    more = [write_segment(tmp_path, 2, NOW - timedelta(hours=20 - i), 1000) for i in range(4)]
    policy = RecordingConfig(retention_days=30, min_free_gb=5000 / GB)
    done = enforce_local(tmp_path, policy, NOW, free=lambda p: 2500)
    # 2,500 bytes short of the minimum: the three oldest files of either camera, by start time.
    assert done.deleted == 3
    assert [p.exists() for p in more] == [False, False, False, True]


def test_a_full_disk_at_a_camera_runs_retention_at_once(tmp_path: Path) -> None:
    calls: list[str] = []
    box = Outbox(tmp_path / "outbox.db")
    try:
        sink = OutboxSink(box, on_disk_full=lambda: calls.append("retention"))
        sink.disk_full(1, "no space left on device")
        assert calls == ["retention"]
    finally:
        box.close()


def test_deleted_segments_leave_the_hubs_index_through_the_outbox(tmp_path: Path) -> None:
    """The hub offers a site's footage for clip requests from the index the agent sent; what
    local retention deletes must leave that index too, or a request would ask for nothing."""
    root, box = tmp_path / "rec", Outbox(tmp_path / "outbox.db")
    try:
        sink = OutboxSink(box)
        # The stream clock has microseconds; the file name (what retention reads) milliseconds.
        starts = [NOW - timedelta(days=40, minutes=i, microseconds=123456) for i in (2, 1)]
        starts.append(NOW)
        for start in starts:
            path = write_segment(root, 1, start, 10)
            info = SegmentInfo(
                1, start, start + timedelta(seconds=10), segment_path(1, start), 10, 1
            )
            assert path == root / info.path
            sink.segment(1, info)
        done = enforce_local(
            root,
            RecordingConfig(retention_days=30),
            NOW,
            free=lambda p: PLENTY,
            on_deleted=lambda gone: sink.segments_gone([(s.camera_id, s.start) for s in gone]),
        )
        assert done.deleted == 2
        items = {p.key: p.wire()["data"] for p in box.items_since(None)}
        assert len(items) == 3, "each tombstone replaced the index row of its segment"
        for start in starts[:2]:
            named = start.replace(microsecond=start.microsecond // 1000 * 1000)
            assert items[wire.segment_key(1, named)] == {
                "camera_id": 1, "start": wire.iso(named), "deleted": True,
            }  # fmt: skip
        assert "deleted" not in items[wire.segment_key(1, NOW)]
    finally:
        box.close()


def test_a_failing_outbox_does_not_stop_retention(tmp_path: Path) -> None:
    old = [write_segment(tmp_path, 1, NOW - timedelta(days=40, minutes=i), 10) for i in range(3)]
    write_segment(tmp_path, 1, NOW, 10)

    def full(_gone: list) -> None:
        raise OSError("database or disk is full")

    done = enforce_local(
        tmp_path, RecordingConfig(retention_days=30), NOW, free=lambda p: PLENTY, on_deleted=full
    )
    assert done.deleted == 3 and not any(p.exists() for p in old)
