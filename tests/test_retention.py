"""Retention: the pure planner (age, quotas, free space; oldest first), enforcement on disk + DB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy import select

from pantau.media.retention import plan
from pantau.recordings import retention
from pantau.recordings.index import add_segment
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Segment
from tests.test_playback import Info, audits, last_audit_id, new_camera

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
H = timedelta(hours=1)
MB = 1_000_000


def seg(camera: int, hours_ago: float, size: int = MB) -> SimpleNamespace:
    start = NOW - H * hours_ago
    return SimpleNamespace(camera_id=camera, start=start, end=start + H / 6, bytes=size)


def label(planned: list) -> list[tuple[int, float, str]]:
    return [(s.camera_id, round((NOW - s.start) / H, 2), why) for s, why in planned]


# --- planner ------------------------------------------------------------------------------


def test_plan_by_age_only_deletes_what_ended_before_the_cutoff() -> None:
    segs = [seg(1, 24 * 31), seg(1, 24 * 30 + 0.1), seg(1, 24 * 30), seg(2, 24 * 40), seg(2, 1)]
    planned = plan(segs, now=NOW, retention_days=30)
    # 30 days + 0.1 h ago ended 30 days - 0.07 h ago: still inside retention
    assert label(planned) == [(2, 960.0, "age"), (1, 744.0, "age")]


def test_plan_camera_quota_takes_the_oldest_of_that_camera() -> None:
    segs = [seg(1, h) for h in (5, 4, 3, 2, 1)] + [seg(2, h) for h in (9, 8)]
    planned = plan(segs, now=NOW, retention_days=30, camera_quota_bytes=3 * MB)
    assert label(planned) == [(1, 5.0, "camera_quota"), (1, 4.0, "camera_quota")]


def test_plan_total_quota_takes_the_oldest_overall() -> None:
    segs = [seg(1, h) for h in (5, 3, 1)] + [seg(2, h) for h in (6, 4, 2)]
    planned = plan(segs, now=NOW, retention_days=30, total_quota_bytes=4 * MB)
    assert label(planned) == [(2, 6.0, "total_quota"), (1, 5.0, "total_quota")]


def test_plan_disk_free_counts_what_other_rules_free() -> None:
    segs = [seg(1, 24 * 31, 2 * MB)] + [seg(1, h) for h in (5, 3, 1)] + [seg(2, h) for h in (4, 2)]
    planned = plan(segs, now=NOW, retention_days=30, free_bytes=10 * MB, min_free_bytes=14 * MB + 1)
    # 4 MB short: the expired 2 MB segment, then the oldest 1 MB ones until short <= 0
    assert label(planned) == [
        (1, 744.0, "age"),
        (1, 5.0, "disk_free"),
        (2, 4.0, "disk_free"),
        (1, 3.0, "disk_free"),
    ]
    assert plan(segs, now=NOW, retention_days=30, free_bytes=10 * MB, min_free_bytes=MB) == [
        (segs[0], "age")
    ]


def test_plan_combined_rules_stay_oldest_first_and_never_repeat() -> None:
    segs = [seg(c, h) for c in (1, 2, 3) for h in (800, 7, 6, 5, 4, 3, 2, 1)]
    planned = plan(
        segs,
        now=NOW,
        retention_days=30,
        camera_quota_bytes=6 * MB,
        total_quota_bytes=15 * MB,
        free_bytes=0,
        min_free_bytes=2 * MB,
    )
    starts = [s.start for s, _ in planned]
    assert starts == sorted(starts) and len({id(s) for s, _ in planned}) == len(planned)
    reasons = [why for _, why in planned]
    assert reasons.count("age") == 3 and reasons.count("camera_quota") == 3
    # 24 MB -> 18 after age and camera quota; the total quota (15) takes the 3 oldest left; the
    # 6 MB those two rules free already cover the 2 MB the disk needs
    assert reasons.count("total_quota") == 3
    assert reasons.count("disk_free") == 0
    assert plan([], now=NOW, retention_days=1, free_bytes=0, min_free_bytes=MB) == []


# --- enforce on real files and the index --------------------------------------------------


def _store(rt: Runtime, **recording: object) -> SimpleNamespace:
    settings = rt.settings.model_copy(deep=True)
    for key, value in recording.items():
        setattr(settings.recording, key, value)
    return SimpleNamespace(settings=settings, sessions=rt.sessions)


def _fill(rt: Runtime, camera: int, hours_ago: list[float], size: int) -> list[Path]:
    files = []
    with transaction(rt.sessions) as s:
        for h in hours_ago:
            start = NOW - H * h
            rel = f"{camera}/{start:%Y-%m-%d}/{start:%H%M%S}_000Z.ts"
            path = rt.settings.recordings_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\x47" * size)
            add_segment(s, Info(camera, start, start + H / 6, rel, size))
            files.append(path)
    return files


def _left(rt: Runtime, camera: int) -> list[float]:
    with rt.sessions() as s:
        rows = s.scalars(select(Segment).where(Segment.camera_id == camera).order_by(Segment.start))
        return [round((NOW - r.start) / H, 2) for r in rows]


def test_enforce_deletes_files_and_rows_and_warns(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    a, b = new_camera(rt), new_camera(rt)
    size = 10_000
    old_a = _fill(rt, a, [24 * 10, 24 * 9], size)  # beyond a 7-day retention
    new_a = _fill(rt, a, [6, 5, 4, 3, 2, 1], size)
    new_b = _fill(rt, b, [7, 0.5], size)
    old_a[1].unlink()  # gone behind the index's back: row removed, nothing freed
    gb = 1024**3
    store = _store(rt, retention_days=7, camera_quota_gb=4 * size / gb, min_free_gb=1.0)
    fake_free = gb - 5 * size  # 50 kB short of the minimum
    report = retention.enforce(store, NOW, free=lambda _: fake_free)

    # age: both expired rows (one file already gone: row removed, nothing freed); camera quota:
    # camera a down to 40 kB; disk: the oldest left overall until 50 kB were really freed
    assert report.by_reason == {
        "age": {"segments": 1, "bytes": size},
        "camera_quota": {"segments": 2, "bytes": 2 * size},
        "disk_free": {"segments": 2, "bytes": 2 * size},
    }
    assert report.deleted == 5 and report.bytes_freed == 5 * size
    assert report.already_missing == 1 and report.failed == []
    assert _left(rt, a) == [3.0, 2.0, 1.0]
    assert _left(rt, b) == [0.5]
    assert not any(f.exists() for f in [*old_a, *new_a[:3], new_b[0]])
    assert all(f.exists() for f in [*new_a[3:], new_b[1]])
    assert not (rt.settings.recordings_dir / str(a) / f"{NOW - H * 240:%Y-%m-%d}").exists()
    assert report.free_bytes_before == report.free_bytes_after == fake_free
    assert report.warning and "nearly full" in report.warning and "1.0 GB" in report.warning
    assert retention.last_report() is report
    assert str(report).startswith("deleted 5 segments (0.1 MB; age 1, camera_quota 2, disk_free 2)")
    assert "1 index rows without a file removed" in str(report) and "WARNING" in str(report)
    status = retention.disk_status(store.settings, free=lambda _: fake_free)
    assert status["min_free_bytes"] == gb and status["warning"] == report.warning

    again = retention.enforce(store, NOW, free=lambda _: gb * 5)
    assert again.deleted == 0 and again.warning is None


def test_retention_api_is_admin_only_and_audited(
    client: TestClient, auth: Callable[[str], dict[str, str]], shared_runtime: Runtime
) -> None:
    before = last_audit_id(shared_runtime)
    assert client.post("/api/recordings/retention", headers=auth("operator")).status_code == 403
    r = client.post("/api/recordings/retention", headers=auth("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"deleted", "bytes_freed", "by_reason", "warning", "free_bytes_after"} <= set(body)
    rows = audits(shared_runtime, "recording.retention", before)
    assert [(x.actor, x.outcome) for x in rows] == [("admin", "ok")]
    assert rows[0].detail["deleted"] == body["deleted"]
    denied = audits(shared_runtime, "POST /api/recordings/retention", before)
    assert [(x.actor, x.outcome) for x in denied] == [("operator", "denied")]


def test_health_endpoint_warns_when_the_recordings_disk_is_nearly_full(
    make_settings, backend
) -> None:
    from fastapi.testclient import TestClient

    from pantau.runtime import open_runtime
    from pantau.web.app import create_app

    base = make_settings(backend)
    settings = base.model_copy(
        update={"recording": base.recording.model_copy(update={"min_free_gb": 10**7})}
    )
    rt = open_runtime(settings)
    try:
        body = TestClient(create_app(rt)).get("/api/health").json()
    finally:
        rt.close()
    assert body["disk"]["free_bytes"] < body["disk"]["min_free_bytes"]
    assert any("nearly full" in w for w in body["warnings"])
