"""Playback: the segment index, gaps, HLS playlists read back over real HTTP, signed segment URLs.

Real media throughout: clip720 (6 s, keyframe every second) cut by ffmpeg into three 2 s MPEG-TS
segments, indexed at t0, t0+2 s and t0+10 s, so the recording has a deliberate 6 s gap.
The helpers here are shared by the export, snapshot, retention and scope-matrix tests.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import av
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pantau.media.hls import build_playlist, gaps
from pantau.recordings import index
from pantau.recordings.urls import signer_for
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import AuditEntry, Camera, Segment, Site, SiteKind
from pantau.store.types import utcnow
from tests.support.live import LiveServer

KORUMBA, MANDONGA, KANDAI = "74.71.01.1006", "74.71.01.1005", "74.71.02.1009"
LAYOUT = (0, 2, 10)  # seconds after t0 at which the three 2 s segments start
SEG = timedelta(seconds=2)
FPS = 25


# --- shared helpers -----------------------------------------------------------------------


@dataclass
class Info:
    """Stand-in for the recorder's SegmentInfo: the index accepts anything with these fields."""

    camera_id: int
    start: datetime
    end: datetime
    path: str
    bytes: int
    keyframes: int = 2
    recovered: bool = False


@dataclass
class Recording:
    camera_id: int
    t0: datetime
    segments: list[Segment]
    files: list[Path]

    @property
    def end(self) -> datetime:
        return self.segments[-1].end


def ts_segments(clip: Path, media_dir: Path) -> list[Path]:
    """clip cut into 2 s MPEG-TS files by ffmpeg's segment muxer (stream copy), made once."""
    out = media_dir / "seg2s"
    files = sorted(out.glob("*.ts"))
    if len(files) == 3:
        return files
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            "ffmpeg", "-y", "-loglevel", "error", "-i", str(clip), "-c", "copy",
            "-f", "segment", "-segment_time", "2", "-segment_format", "mpegts",
            str(out / "s%03d.ts"),
        ],
        check=True,
    )  # fmt: skip
    files = sorted(out.glob("*.ts"))
    assert len(files) == 3, files
    return files


def site_id(rt: Runtime, kelurahan: str) -> int:
    with rt.sessions() as s:
        return s.scalars(
            select(Site.id)
            .where(Site.kelurahan_code == kelurahan, Site.kind == SiteKind.KANTOR_KELURAHAN)
            .order_by(Site.id)
        ).first()  # type: ignore[return-value]


def new_camera(rt: Runtime, kelurahan: str = KORUMBA) -> int:
    with transaction(rt.sessions) as s:
        cam = Camera(
            site_id=site_id(rt, kelurahan),
            name=f"rekam-{time.monotonic_ns()}",
            purpose="keamanan kantor",
            main_stream="rtsp://10.1.1.1/s",
        )
        s.add(cam)
        s.flush()
        return cam.id


def add_recording(
    rt: Runtime,
    camera_id: int,
    sources: list[Path],
    t0: datetime,
    layout: tuple[float, ...] = LAYOUT,
) -> Recording:
    """Copy the TS files into the recordings folder as the recorder names them, and index them."""
    segments, files = [], []
    with transaction(rt.sessions) as s:
        for src, offset in zip(sources, layout, strict=True):
            start = t0 + timedelta(seconds=offset)
            rel = f"{camera_id}/{start:%Y-%m-%d}/{start:%H%M%S}_{start.microsecond // 1000:03d}Z.ts"
            dest = rt.settings.recordings_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            info = Info(camera_id, start, start + SEG, rel, dest.stat().st_size)
            segments.append(index.add_segment(s, info))
            files.append(dest)
    return Recording(camera_id, t0, segments, files)


def recent_t0() -> datetime:
    """A whole second two hours ago: inside any retention, clear of "now"."""
    return (utcnow() - timedelta(hours=2)).replace(microsecond=0)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def audits(rt: Runtime, action: str, after: int = 0) -> list[AuditEntry]:
    with rt.sessions() as s:
        return list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == action, AuditEntry.id > after)
                .order_by(AuditEntry.id)
            )
        )


def last_audit_id(rt: Runtime) -> int:
    with rt.sessions() as s:
        return max(s.scalars(select(AuditEntry.id)).all(), default=0)


def make_recording(rt: Runtime, clip: Path, media_dir: Path) -> Recording:
    """A new Korumba camera with three indexed segments and a 6 s gap."""
    return add_recording(rt, new_camera(rt), ts_segments(clip, media_dir), recent_t0())


@pytest.fixture
def recording(shared_runtime: Runtime, clip720: Path, media_dir: Path) -> Recording:
    return make_recording(shared_runtime, clip720, media_dir)


# --- pure: gaps and playlist text -----------------------------------------------------------


def _span(start: datetime, seconds: float) -> SimpleNamespace:
    return SimpleNamespace(start=start, end=start + timedelta(seconds=seconds))


T = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)


def test_gaps_finds_holes_and_ignores_jitter() -> None:
    segs = [_span(T, 10), _span(T + timedelta(seconds=10.4), 10), _span(T + SEG * 20, 5)]
    found = gaps(segs, T - timedelta(seconds=5), T + timedelta(seconds=60))
    assert found == [
        (T - timedelta(seconds=5), T),  # before the first segment
        (T + timedelta(seconds=20.4), T + timedelta(seconds=40)),  # the hole
        (T + timedelta(seconds=45), T + timedelta(seconds=60)),  # after the last
    ]
    assert gaps(segs, T, T + timedelta(seconds=20)) == []  # 0.4 s jitter is not a gap
    assert gaps([], T, T + SEG) == [(T, T + SEG)]
    # overlapping segments do not invent gaps
    assert gaps([_span(T, 10), _span(T + timedelta(seconds=5), 10)], T, T + SEG * 7) == []


def test_playlist_text_marks_gaps_and_times() -> None:
    segs = [_span(T, 2), _span(T + SEG, 2), _span(T + timedelta(seconds=10), 2.5)]
    text = build_playlist(segs, lambda s: f"/s/{s.start:%S}.ts", start=T, end=T + SEG * 10)
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines and "#EXT-X-VERSION:3" in lines
    assert "#EXT-X-TARGETDURATION:3" in lines  # ceil of the longest segment
    assert lines[-1] == "#EXT-X-ENDLIST"
    pdt = [line for line in lines if line.startswith("#EXT-X-PROGRAM-DATE-TIME:")]
    assert pdt == [
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-29T00:00:00.000Z",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-29T00:00:02.000Z",
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-29T00:00:10.000Z",
    ]
    assert lines.count("#EXT-X-DISCONTINUITY") == 1
    disc = lines.index("#EXT-X-DISCONTINUITY")
    assert lines[disc + 1] == pdt[2]  # right before the segment after the gap
    assert "#EXTINF:2.500," in lines
    # a start inside the first segment asks the player to begin there
    later = build_playlist(segs, lambda s: "x.ts", start=T + timedelta(seconds=1.5))
    assert "#EXT-X-START:TIME-OFFSET=1.500,PRECISE=YES" in later


# --- index ------------------------------------------------------------------------------------


def test_add_segment_is_idempotent(fresh_runtime: Runtime) -> None:
    cam = new_camera(fresh_runtime)
    info = Info(cam, T, T + SEG, f"{cam}/2026-11-29/000000_000Z.ts", 1000)
    with transaction(fresh_runtime.sessions) as s:
        first = index.add_segment(s, info).id
    with transaction(fresh_runtime.sessions) as s:
        again = index.add_segment(s, Info(cam, T, T + SEG * 2, info.path, 2000, recovered=True))
        assert again.id == first
    with fresh_runtime.sessions() as s:
        rows = s.scalars(select(Segment).where(Segment.camera_id == cam)).all()
        assert len(rows) == 1 and rows[0].bytes == 2000 and rows[0].recovered
        assert index.segments_between(s, cam, T + SEG, T + SEG * 3)[0].id == first
        assert index.segments_between(s, cam, T + SEG * 2, T + SEG * 3) == []


# --- API ----------------------------------------------------------------------------------------


def test_recordings_list_shows_segments_and_gaps(
    client: TestClient, auth: Callable[[str], dict[str, str]], recording: Recording
) -> None:
    t0 = recording.t0
    r = client.get(
        f"/api/cameras/{recording.camera_id}/recordings",
        params={"from": iso(t0 - SEG), "to": iso(t0 + timedelta(seconds=14))},
        headers=auth("lurah"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["id"] for s in body["segments"]] == [s.id for s in recording.segments]
    assert body["retention_days"] == 30 and body["oldest"].startswith(iso(t0)[:19])
    assert [(g["start"][:19], g["seconds"]) for g in body["gaps"]] == [
        (iso(t0 - SEG)[:19], 2.0),
        (iso(t0 + timedelta(seconds=4))[:19], 6.0),
        (iso(t0 + timedelta(seconds=12))[:19], 2.0),
    ]
    # naive times are WITA (UTC+8)
    local = (t0 + timedelta(hours=8)).replace(tzinfo=None)
    r = client.get(
        f"/api/cameras/{recording.camera_id}/recordings",
        params={"from": local.isoformat(), "to": (local + SEG).isoformat()},
        headers=auth("lurah"),
    )
    assert [s["id"] for s in r.json()["segments"]] == [recording.segments[0].id]
    bad = client.get(
        f"/api/cameras/{recording.camera_id}/recordings",
        params={"from": iso(t0), "to": iso(t0 - SEG)},
        headers=auth("admin"),
    )
    assert bad.status_code == 422 and "before" in bad.json()["message"]


@pytest.fixture(scope="module")
def live(shared_runtime: Runtime) -> Iterator[LiveServer]:
    with LiveServer(shared_runtime) as server:
        yield server


def test_playlist_plays_over_http_with_pyav_and_ffprobe(
    live: LiveServer,
    shared_runtime: Runtime,
    tokens: dict[str, str],
    recording: Recording,
) -> None:
    t0 = recording.t0
    before = last_audit_id(shared_runtime)
    query = f"from={iso(t0)}&to={iso(t0 + timedelta(seconds=12))}"
    url = live.url(f"/api/cameras/{recording.camera_id}/playlist.m3u8?{query}")
    header = f"Authorization: Bearer {tokens['operator']}\r\n"

    r = httpx.get(url, headers={"Authorization": f"Bearer {tokens['operator']}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    lines = r.text.splitlines()
    uris = [line for line in lines if line.startswith("/api/segments/")]
    assert [u.split(".ts")[0] for u in uris] == [
        f"/api/segments/{s.id}" for s in recording.segments
    ]
    disc = lines.index("#EXT-X-DISCONTINUITY")
    assert lines[disc + 3] == uris[2]  # the gap comes right before the third segment
    assert all("exp=" in u and "sig=" in u for u in uris)

    with av.open(url, options={"headers": header}) as container:
        frames = [f.time for f in container.decode(video=0)]
    assert len(frames) == 3 * 2 * FPS
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-headers", header, "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames,codec_name", "-of", "csv=p=0", url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().splitlines()[0] == f"h264,{3 * 2 * FPS}"

    rows = audits(shared_runtime, "recording.playback", before)
    assert rows and all(row.actor == "operator" for row in rows)
    detail = rows[-1].detail
    assert rows[-1].object_id == str(recording.camera_id)
    assert detail["from"].startswith(iso(t0)[:19]) and detail["segments"] == 3
    assert detail["from_local"].endswith("WITA") and "." in detail["from_local"].split()[1]


def test_playlist_denied_outside_scope_and_audited(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    shared_runtime: Runtime,
    clip720: Path,
    media_dir: Path,
) -> None:
    cam = new_camera(shared_runtime, KANDAI)
    rec = add_recording(shared_runtime, cam, ts_segments(clip720, media_dir), recent_t0())
    before = last_audit_id(shared_runtime)
    params = {"from": iso(rec.t0), "to": iso(rec.end)}
    for role in ("lurah", "camat"):
        r = client.get(f"/api/cameras/{cam}/playlist.m3u8", params=params, headers=auth(role))
        assert r.status_code == 403, r.text
    denied = audits(shared_runtime, "recording.playback", before)
    assert [(a.actor, a.outcome, a.object_id) for a in denied] == [
        ("lurah", "denied", str(cam)),
        ("camat", "denied", str(cam)),
    ]
    ok = client.get(f"/api/cameras/{cam}/playlist.m3u8", params=params, headers=auth("pimpinan"))
    assert ok.status_code == 200


def test_no_recording_in_range_is_404_with_reason(
    client: TestClient, auth: Callable[[str], dict[str, str]], recording: Recording
) -> None:
    later = recording.t0 + timedelta(minutes=30)
    r = client.get(
        f"/api/cameras/{recording.camera_id}/playlist.m3u8",
        params={"from": iso(later), "to": iso(later + timedelta(minutes=5))},
        headers=auth("admin"),
    )
    assert r.status_code == 404
    message = r.json()["message"]
    assert message.startswith(f"no recording for camera {recording.camera_id}")
    assert "WITA" in message and "oldest recording" in message and "retention 30 days" in message


def test_segment_deleted_behind_the_index(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    shared_runtime: Runtime,
    recording: Recording,
) -> None:
    rt = shared_runtime
    params = {"from": iso(recording.t0), "to": iso(recording.end)}
    url = f"/api/cameras/{recording.camera_id}/playlist.m3u8"
    first = client.get(url, params=params, headers=auth("admin")).text
    signed = [line for line in first.splitlines() if line.startswith("/api/segments/")]

    # the middle file disappears: the playlist skips it (a gap now), the index forgets it
    recording.files[1].unlink()
    text = client.get(url, params=params, headers=auth("admin")).text
    uris = [line for line in text.splitlines() if line.startswith("/api/segments/")]
    assert len(uris) == 2 and f"/api/segments/{recording.segments[1].id}.ts" not in text
    assert text.count("#EXT-X-DISCONTINUITY") == 1
    with rt.sessions() as s:
        assert s.get(Segment, recording.segments[1].id) is None

    # the last file disappears while a player holds the old playlist: 404, row removed
    recording.files[2].unlink()
    r = client.get(signed[2])
    assert r.status_code == 404 and "missing on disk" in r.json()["message"]
    with rt.sessions() as s:
        assert s.get(Segment, recording.segments[2].id) is None
    assert client.get(signed[0]).status_code == 200

    # verify() finds and removes the rest of what is gone, and says so
    recording.files[0].unlink()
    with transaction(rt.sessions) as s:
        missing = index.verify(s, rt.settings.recordings_dir, camera_id=recording.camera_id)
    assert [m.id for m in missing] == [recording.segments[0].id]
    assert missing[0].path == recording.segments[0].path
    with transaction(rt.sessions) as s:
        assert index.verify(s, rt.settings.recordings_dir, camera_id=recording.camera_id) == []


def test_segment_urls_need_a_valid_signature(
    client: TestClient, shared_runtime: Runtime, recording: Recording
) -> None:
    seg = recording.segments[0]
    signer = signer_for(shared_runtime.settings.data_dir)
    exp, sig = signer.sign(seg.id, utcnow())
    ok = client.get(f"/api/segments/{seg.id}.ts?exp={exp}&sig={sig}")
    assert ok.status_code == 200 and ok.headers["content-type"] == "video/mp2t"
    assert ok.content == recording.files[0].read_bytes()

    before = last_audit_id(shared_runtime)
    assert client.get(f"/api/segments/{seg.id}.ts").status_code == 401
    other = recording.segments[1].id
    cases = {
        "tampered": f"/api/segments/{seg.id}.ts?exp={exp}&sig={'0' * 64}",
        "other segment": f"/api/segments/{other}.ts?exp={exp}&sig={sig}",
        "longer expiry": f"/api/segments/{seg.id}.ts?exp={exp + 3600}&sig={sig}",
    }
    for name, url in cases.items():
        r = client.get(url)
        assert r.status_code == 403, name
        assert "bad signature" in r.json()["message"], name
    old_exp, old_sig = signer.sign(seg.id, utcnow() - timedelta(hours=7))
    r = client.get(f"/api/segments/{seg.id}.ts?exp={old_exp}&sig={old_sig}")
    assert r.status_code == 403 and "expired" in r.json()["message"]
    denied = audits(shared_runtime, "recording.segment", before)
    assert len(denied) == 4 and {a.outcome for a in denied} == {"denied"}
    key = shared_runtime.settings.data_dir / "url.key"
    assert key.stat().st_mode & 0o777 == 0o600
