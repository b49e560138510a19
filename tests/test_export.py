"""Clip export: remux without re-encoding, SHA-256 and manifest, refusals with reasons, audit."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import av
import pytest
from fastapi.testclient import TestClient

from pantau.media.export import ClipPart, ExportError, export_clip, sha256_file
from pantau.recordings import index
from pantau.runtime import Runtime
from pantau.store.models import Export
from tests.test_playback import (
    FPS,
    KORUMBA,
    MANDONGA,
    SEG,
    Recording,
    T,
    add_recording,
    audits,
    iso,
    last_audit_id,
    make_recording,
    new_camera,
    recent_t0,
    ts_segments,
)

S = timedelta(seconds=1)


@pytest.fixture
def recording(shared_runtime: Runtime, clip720: Path, media_dir: Path) -> Recording:
    return make_recording(shared_runtime, clip720, media_dir)


def parts_at(files: list[Path], layout: tuple[float, ...] = (0, 2, 10)) -> list[ClipPart]:
    return [ClipPart(f, T + S * o, T + S * o + SEG) for f, o in zip(files, layout, strict=True)]


def probe(path: Path) -> tuple[int, float, str]:
    """(frames decoded, duration in s, codec) of an MP4 as a player sees it."""
    with av.open(str(path)) as c:
        assert c.format.name.startswith("mov,mp4")
        stream = c.streams.video[0]
        frames = sum(1 for _ in c.decode(stream))
        return frames, float(c.duration or 0) / 1e6, stream.codec_context.name


# --- media.export (files only) --------------------------------------------------------------


def test_export_starts_on_keyframe_before_start(
    clip720: Path, media_dir: Path, tmp_path: Path
) -> None:
    files = ts_segments(clip720, media_dir)
    # 0.5 s into the first segment: the keyframe before is its first frame (GOP = 1 s)
    result = export_clip(parts_at(files), T + S / 2, T + S * 3, tmp_path / "a.mp4")
    assert result.first_pts_time == T
    assert result.frames == 3 * FPS  # 0..3 s
    assert abs((result.last_time - T).total_seconds() - 3) < 0.05
    frames, duration, codec = probe(result.path)
    assert (frames, codec) == (3 * FPS, "h264")
    assert abs(duration - 3) < 0.1
    # 1.5 s: the keyframe at 1.0 s
    later = export_clip(parts_at(files), T + S * 1.5, T + S * 3, tmp_path / "b.mp4")
    assert later.first_pts_time == T + S and later.frames == 2 * FPS


def test_export_across_segments_and_gap_keeps_wall_time(
    clip720: Path, media_dir: Path, tmp_path: Path
) -> None:
    files = ts_segments(clip720, media_dir)
    result = export_clip(parts_at(files), T, T + S * 12, tmp_path / "all.mp4")
    assert result.frames == 150 and len(result.used) == 3
    frames, duration, _ = probe(result.path)
    assert frames == 150
    assert abs(duration - 12) < 0.1  # 4 s recorded, 6 s gap, 2 s recorded: wall time kept
    with av.open(str(result.path)) as c:
        times = [p.pts * p.time_base for p in c.demux(video=0) if p.pts is not None]
    assert times == sorted(times) and float(times[0]) == 0.0
    assert float(times[100]) == pytest.approx(10.0, abs=0.01)  # first frame after the gap
    assert result.sha256 == sha256_file(result.path)
    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert result.bytes == result.path.stat().st_size
    assert not list(tmp_path.glob("*.part"))


def test_export_skips_unreadable_part_and_refuses_nothing(
    clip720: Path, media_dir: Path, tmp_path: Path
) -> None:
    files = ts_segments(clip720, media_dir)
    broken = parts_at(files)
    broken[1] = ClipPart(tmp_path / "gone.ts", broken[1].start, broken[1].end)
    result = export_clip(broken, T, T + S * 12, tmp_path / "c.mp4")
    assert result.frames == 100 and [p.path.name for p, _ in result.skipped] == ["gone.ts"]
    with pytest.raises(ExportError):
        export_clip(parts_at(files), T + S * 20, T + S * 30, tmp_path / "d.mp4")
    assert not (tmp_path / "d.mp4").exists() and not list(tmp_path.glob("*.part"))


def test_export_hevc_is_tagged_for_apple_players(tmp_path: Path) -> None:
    ts = tmp_path / "h265.ts"
    subprocess.run(
        ["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
         "-t", "2", "-c:v", "libx265", "-x265-params", "log-level=error", "-g", "25", "-bf", "0",
         "-f", "mpegts", str(ts)],
        check=True,
    )  # fmt: skip
    result = export_clip([ClipPart(ts, T, T + SEG)], T, T + SEG, tmp_path / "h.mp4")
    assert result.codec == "hevc" and result.frames == 2 * FPS
    with av.open(str(result.path)) as c:
        assert c.streams.video[0].codec_context.codec_tag == "hvc1"
        assert sum(1 for _ in c.decode(video=0)) == 2 * FPS


# --- API ------------------------------------------------------------------------------------


def export(
    client: TestClient, headers: dict[str, str], camera_id: int, start: object, end: object
) -> object:
    return client.post(
        f"/api/cameras/{camera_id}/exports", json={"from": start, "to": end}, headers=headers
    )


def test_operator_exports_a_verifiable_clip(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    shared_runtime: Runtime,
    recording: Recording,
) -> None:
    t0 = recording.t0
    before = last_audit_id(shared_runtime)
    r = export(client, auth("operator"), recording.camera_id, iso(t0 + S / 2), iso(t0 + S * 11))
    assert r.status_code == 201, r.text
    body = r.json()
    m = body["manifest"]
    assert body["sha256"] == m["file"]["sha256"] and len(body["sha256"]) == 64
    assert m["camera"]["id"] == recording.camera_id
    assert m["site"]["code"] == KORUMBA and "Korumba" in m["site"]["name"]
    assert m["exported_by"] == {"username": "operator", "role": "operator"}
    assert m["requested"]["start_utc"] == iso(t0 + S / 2)
    assert m["actual"]["start_utc"] == iso(t0)  # the keyframe before the requested start
    local = (t0 + timedelta(hours=8)).strftime("%Y-%m-%d %H.%M.%S")
    assert m["actual"]["start_local"] == f"{local} WITA"
    assert m["exported_at_local"].endswith(" WITA") and m["exported_at_utc"].endswith("Z")
    assert [g["seconds"] for g in m["gaps"]] == [6.0]
    assert len(m["segments"]) == 3 and m["file"]["video"]["frames"] == 125  # 0-4 s, 10-11 s
    assert m["pantau_version"] and m["file"]["name"].endswith("WITA.mp4")

    clip = client.get(body["download"]["clip"], headers=auth("operator"))
    assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
    assert hashlib.sha256(clip.content).hexdigest() == body["sha256"]
    saved = shared_runtime.settings.exports_dir / body["id"] / m["file"]["name"]
    assert saved.read_bytes() == clip.content
    frames, duration, _ = probe(saved)
    assert frames == 125 and abs(duration - 11) < 0.1

    again = client.get(body["download"]["manifest"], headers=auth("pimpinan"))
    assert again.status_code == 200 and again.json() == m
    assert (
        client.get(f"/api/exports/{body['id']}", headers=auth("lurah")).json()["sha256"]
        == (body["sha256"])
    )
    with shared_runtime.sessions() as s:
        row = s.get(Export, body["id"])
        assert row is not None and row.sha256 == body["sha256"] and row.requested_by == "operator"

    made = audits(shared_runtime, "recording.export", before)
    assert [(a.actor, a.outcome, a.object_id) for a in made] == [
        ("operator", "ok", str(recording.camera_id))
    ]
    assert made[0].detail["export_id"] == body["id"]
    assert made[0].detail["from"] == iso(t0 + S / 2) and made[0].detail["to"] == iso(t0 + S * 11)
    downloads = audits(shared_runtime, "recording.export.download", before)
    assert [(a.actor, a.detail["file"]) for a in downloads] == [
        ("operator", "clip"),
        ("pimpinan", "manifest"),
    ]


def test_export_refusals_say_why(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    recording: Recording,
) -> None:
    t0, cam, h = recording.t0, recording.camera_id, auth("admin")
    r = export(client, h, cam, iso(t0 + S * 5), iso(t0 + S * 9))  # inside the gap
    assert r.status_code == 422
    msg = r.json()["message"]
    assert msg.startswith(f"no recording for camera {cam} (")
    assert "WITA" in msg and "oldest recording: " in msg and "retention 30 days" in msg

    old = t0 - timedelta(days=45)
    r = export(client, h, cam, iso(old), iso(old + timedelta(minutes=10)))
    assert r.status_code == 422
    assert "beyond the retention period of 30 days" in r.json()["message"]

    r = export(client, h, cam, iso(t0), iso(t0 + timedelta(hours=7)))
    assert r.status_code == 422 and "at most 6 hours" in r.json()["message"]
    r = export(client, h, cam, iso(t0), iso(t0))
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "from"
    r = export(client, h, cam, "yesterday", iso(t0))
    assert r.status_code == 422 and r.json()["error"] == "validation_error"
    assert export(client, h, 999_999, iso(t0), iso(t0 + S)).status_code == 404


def test_export_of_deleted_files_is_no_recording(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    shared_runtime: Runtime,
    recording: Recording,
) -> None:
    for f in recording.files[:2]:
        f.unlink()
    t0 = recording.t0
    r = export(client, auth("admin"), recording.camera_id, iso(t0), iso(t0 + S * 4))
    assert r.status_code == 422 and "no recording" in r.json()["message"]
    with shared_runtime.sessions() as s:  # the index forgot them, though the request failed
        left = index.segments_between(s, recording.camera_id, t0, t0 + S * 20)
        assert [x.id for x in left] == [recording.segments[2].id]


def test_who_may_export(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    shared_runtime: Runtime,
    clip720: Path,
    media_dir: Path,
) -> None:
    files = ts_segments(clip720, media_dir)
    own = add_recording(shared_runtime, new_camera(shared_runtime, KORUMBA), files, recent_t0())
    other = add_recording(shared_runtime, new_camera(shared_runtime, MANDONGA), files, recent_t0())
    before = last_audit_id(shared_runtime)
    span = (iso(own.t0), iso(own.t0 + S * 2))
    r = export(client, auth("lurah"), other.camera_id, *span)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    for role in ("lurah", "camat", "pimpinan"):  # read-only roles, even for their own camera
        assert export(client, auth(role), own.camera_id, *span).status_code == 403, role
    denied = audits(shared_runtime, "recording.export", before)
    assert [(a.actor, a.outcome, a.object_id) for a in denied] == [
        ("lurah", "denied", str(other.camera_id)),
        ("lurah", "denied", str(own.camera_id)),
        ("camat", "denied", str(own.camera_id)),
        ("pimpinan", "denied", str(own.camera_id)),
    ]
    assert denied[0].detail["path"] == f"/api/cameras/{other.camera_id}/exports"
    ok = export(client, auth("operator"), other.camera_id, *span)
    assert ok.status_code == 201, ok.text
    # and a lurah cannot read an export of another kelurahan's camera either
    r = client.get(f"/api/exports/{ok.json()['id']}/clip.mp4", headers=auth("lurah"))
    assert r.status_code == 403
