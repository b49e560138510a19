"""Bad input from issue 5: each case ends in a clear error or is handled, and nothing is lost.

Covered elsewhere (not repeated here):
- a folder mixing cameras (simulator sidecars) and a file with no time information:
  tests/test_backfill.py::test_analyze_refuses_mixed_cameras_and_files_without_time
- a file without a start time given to the reader: tests/test_media_reader.py::
  test_file_without_start_time_is_refused; noise in a file and a resolution change seen by
  the reader itself: test_damaged_file_reads_past_the_damage, test_resolution_change_mid_stream
- a zone outside the frame in POST /api/cameras: tests/test_api.py::test_camera_bad_input
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pantau.cli import app
from pantau.media.reader import SampledFrame
from pantau.pipeline.backfill import ResumeLog, Source, analyze_source
from pantau.pipeline.observe import CameraAnalyzer, MinuteAggregator
from tests.support.media import run

T0 = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 22.00 WITA, a whole minute
MIN = timedelta(minutes=1)


# --- frames of the wrong size or colour format -------------------------------------------------


def _frame(bgr: np.ndarray, grey: np.ndarray, at: datetime) -> SampledFrame:
    return SampledFrame(at, bgr, grey, True, bgr.shape[1], bgr.shape[0])


def _good(at: datetime, width: int = 640, height: int = 360) -> SampledFrame:
    rng = np.random.default_rng(int(at.timestamp()))
    bgr = np.full((height, width, 3), 90, np.uint8)
    bgr[height // 3 :, : width // 2] = rng.integers(60, 200, (height - height // 3, width // 2, 3))
    grey = bgr[::2, ::2, 1].copy()
    return _frame(bgr, grey, at)


BAD_FRAMES: dict[str, tuple[Callable[[SampledFrame], SampledFrame], str]] = {
    "grey as colour": (lambda f: _frame(f.bgr[:, :, 0].copy(), f.grey, f.at), "HxWx3"),
    "BGRA": (
        lambda f: _frame(np.dstack([f.bgr, f.bgr[:, :, :1]]), f.grey, f.at),
        "HxWx3",
    ),
    "float pixels": (
        lambda f: _frame(f.bgr.astype(np.float32), f.grey.astype(np.float32), f.at),
        "uint8",
    ),
    "colour as grey": (lambda f: _frame(f.bgr, f.bgr[::2, ::2], f.at), "one channel"),
    "grey of another picture": (lambda f: _frame(f.bgr, f.grey[:50, :70], f.at), "70x50"),
}


@pytest.mark.parametrize("case", list(BAD_FRAMES))
def test_wrong_frame_format_is_a_clear_error_and_nothing_is_lost(case: str) -> None:
    """The analyzer names what is wrong; the frames around the bad one still count.

    (The live worker logs the error with the camera's name and goes on: pipeline/camera.py.)
    """
    broken, words = BAD_FRAMES[case]
    analyzer = CameraAnalyzer(None)
    agg = MinuteAggregator(1, source="backfill")
    rows: list[dict[str, Any]] = []
    times = [T0 + timedelta(seconds=10 * i) for i in range(12)]  # two minutes, 6 frames each
    for i, at in enumerate(times):
        frame = _good(at)
        if i == 5:
            with pytest.raises(ValueError) as caught:
                analyzer.process(broken(frame))
            assert words in str(caught.value), str(caught.value)
            assert "got" in str(caught.value)  # says what it was given
            continue
        rows += agg.add(analyzer.process(frame))
    rows += agg.flush()
    assert [(r["minute"], r["samples"]) for r in rows] == [(T0, 5), (T0 + MIN, 6)]


def test_frames_from_a_small_source_are_analysed() -> None:
    """A 320x240 sub-stream: the reader never upscales, so the grey frame is 160 px wide."""
    analyzer = CameraAnalyzer(None)
    facts = [analyzer.process(_good(T0 + timedelta(seconds=i), 320, 240)) for i in range(3)]
    assert [f.at for f in facts] == [T0 + timedelta(seconds=i) for i in range(3)]
    assert all(f.light_level > 0 for f in facts)


# --- files: a corrupt keyframe, a resolution change -----------------------------------------


def _ts_clip(path: Path, size: str, seconds: int, offset: float = 0.0) -> Path:
    """MPEG-TS like the recorder's: H.264, 5 fps, a keyframe every 2 s, no B-frames."""
    run(
        [
            "ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi",
            "-i", f"testsrc2=size={size}:rate=5", "-t", str(seconds),
            "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "10",
            "-keyint_min", "10", "-sc_threshold", "0", "-b:v", "300k", "-pix_fmt", "yuv420p",
            "-output_ts_offset", str(offset), "-f", "mpegts", str(path),
        ]
    )  # fmt: skip
    return path


def _analyse(path: Path, tmp: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    source = Source(path, T0, None, None)
    analyze_source(
        source, 1, CameraAnalyzer(None), rows.extend, ResumeLog(tmp / "resume"), sample_fps=1.0
    )
    return rows


def _keyframes(path: Path) -> list[tuple[float, int, int]]:
    """(seconds, byte offset, size) of each keyframe packet."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        first = None
        out = []
        for p in container.demux(stream):
            if p.pts is None:
                continue
            first = p.pts if first is None else first
            if p.is_keyframe and p.pos is not None:
                out.append((float((p.pts - first) * stream.time_base), p.pos, p.size))
    return out


@pytest.fixture(scope="module")
def clean_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _ts_clip(tmp_path_factory.mktemp("bad") / "clean.ts", "640x360", 180)


def test_corrupt_keyframe_mid_file_is_analysed_past(clean_clip: Path, tmp_path: Path) -> None:
    """Noise over the keyframe at 1.5 minutes: rows before and after it are all written."""
    damaged = tmp_path / "damaged.ts"
    data = bytearray(clean_clip.read_bytes())
    at, pos, size = min(_keyframes(clean_clip), key=lambda k: abs(k[0] - 90))
    assert 85 <= at <= 95 and size > 1000
    data[pos + 188 : pos + 188 + size] = random.Random(5).randbytes(size)
    damaged.write_bytes(bytes(data))

    clean = _analyse(clean_clip, tmp_path / "a")
    rows = _analyse(damaged, tmp_path / "b")
    assert [r["minute"] for r in clean] == [T0, T0 + MIN, T0 + 2 * MIN]
    assert [r["minute"] for r in rows] == [r["minute"] for r in clean]
    assert rows[0] == clean[0]  # before the damage: exactly as without it
    assert rows[2]["samples"] >= clean[2]["samples"] - 1  # after it: decoding recovered
    lost = sum(r["samples"] for r in clean) - sum(r["samples"] for r in rows)
    assert 0 <= lost <= 3  # at most the frames of the damaged keyframe's group


def test_resolution_change_mid_file_is_analysed_end_to_end(tmp_path: Path) -> None:
    """A camera switched from 640x360 to 320x240 after 70 s: both parts are analysed."""
    big = _ts_clip(tmp_path / "big.ts", "640x360", 70)
    small = _ts_clip(tmp_path / "small.ts", "320x240", 70, offset=70)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(big.read_bytes() + small.read_bytes())
    rows = _analyse(joined, tmp_path)
    assert [r["minute"] for r in rows] == [T0, T0 + MIN, T0 + 2 * MIN]
    # backfill decodes keyframes only: one every 2 s here, 70 in 140 s, give or take
    assert sum(r["samples"] for r in rows) >= 67
    assert rows[2]["samples"] >= 9  # 120-140 s: all from the 320x240 part


# --- `pantau analyze` paths: what tests/test_backfill.py does not cover yet ------------------


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., Any]:
    """Runs `pantau --config <tmp> ...`; the data folder shows whether anything was written."""
    data = tmp_path / "data"
    cfg = tmp_path / "pantau.yaml"
    cfg.write_text(f"data_dir: {data}\n")

    def invoke(*args: str) -> Any:
        out = CliRunner().invoke(app, ["--config", str(cfg), *args])
        out.data_dir = data
        return out

    return invoke


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x47" * 188)
    return path


def test_start_without_time_zone_is_refused(cli: Callable[..., Any], tmp_path: Path) -> None:
    clip = _touch(tmp_path / "kamera.mp4")
    out = cli("analyze", str(clip), "--camera", "1", "--start", "2026-11-30T07:00:00")
    assert out.exit_code != 0
    assert "time zone" in out.output and "+08:00" in out.output
    assert not out.data_dir.exists()  # refused before anything was opened or written


def test_start_is_for_one_file_only(cli: Callable[..., Any], tmp_path: Path) -> None:
    folder = tmp_path / "disk"
    _touch(folder / "a.mp4")
    _touch(folder / "b.mp4")
    out = cli("analyze", str(folder), "--camera", "1", "--start", "2026-11-30T07:00:00+08:00")
    assert out.exit_code != 0
    assert "no time information" in out.output and "single file" in out.output
    assert not out.data_dir.exists()


def test_recorder_segments_of_two_cameras_are_refused(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    """A copied recordings folder holding two cameras (<camera>/<date>/<time>Z.ts)."""
    disk = tmp_path / "recordings"
    _touch(disk / "7" / "2026-11-25" / "140000_000Z.ts")
    _touch(disk / "9" / "2026-11-25" / "140000_000Z.ts")
    out = cli("analyze", str(disk), "--camera", "7")
    assert out.exit_code != 0
    assert "several cameras" in out.output and "segment:7" in out.output
    assert "segment:9" in out.output and "--camera" in out.output
    assert not out.data_dir.exists()


def test_one_file_without_time_among_timed_ones_is_named(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    disk = tmp_path / "recordings"
    _touch(disk / "7" / "2026-11-25" / "140000_000Z.ts")
    stray = _touch(disk / "7" / "2026-11-25" / "salinan.ts")
    out = cli("analyze", str(disk), "--camera", "7")
    assert out.exit_code != 0
    assert "no time information" in out.output and stray.name in out.output
    assert not out.data_dir.exists()


# --- zones outside the frame through the cameras API ----------------------------------------


def test_zone_outside_the_frame_in_a_camera_update(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    """PATCH (POST is in test_api): 422 naming the zone, and the stored zones stay."""
    h = auth("admin")
    client.cookies.clear()
    sites = client.get("/api/sites?kecamatan=74.71.02", headers=h).json()
    zone = {"name": "loket", "points": [[0.1, 0.1], [0.6, 0.1], [0.6, 0.8]]}
    body = {
        "site_id": sites[0]["id"],
        "name": f"cam-{uuid.uuid4().hex[:8]}",
        "purpose": "keamanan kantor",
        "main_stream": "rtsp://10.1.2.3/stream",
        "zones": [zone],
    }
    cam = client.post("/api/cameras", json=body, headers=h)
    assert cam.status_code == 201, cam.text
    url = f"/api/cameras/{cam.json()['id']}"
    for zones in (
        [zone, {"name": "pintu", "points": [[0.5, 0.5], [1.2, 0.5], [0.9, 0.9]]}],
        [zone, {"name": "pintu", "points": [[120, 40], [600, 40], [600, 300]]}],  # pixels
        [zone, {"name": "pintu", "points": [[-0.1, 0.5], [0.5, 0.5], [0.3, 0.9]]}],
    ):
        r = client.patch(url, json={"zones": zones}, headers=h)
        assert r.status_code == 422, r.text
        fields = [f["field"] for f in r.json()["fields"]]
        assert fields == ["zones[1]"], r.json()
        assert "outside the frame" in r.json()["message"] and "0..1" in r.json()["message"]
    assert client.get(url, headers=h).json()["zones"] == [zone]
