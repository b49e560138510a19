"""SegmentRecorder and recover() with the real RTSP server, real files and a really full disk."""

from __future__ import annotations

import itertools
import os
import random
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from pantau.media.reader import StreamReader
from pantau.media.recorder import (
    RecorderError,
    SegmentInfo,
    SegmentRecorder,
    recover,
    segment_path,
)
from tests.support.media import make_clip, run
from tests.support.rtsp import RtspServer

T0 = datetime(2025, 3, 14, 23, 59, 58, tzinfo=UTC)
LAYOUT = re.compile(r"^(\d+)/(\d{4}-\d{2}-\d{2})/(\d{6})_(\d{3})Z\.ts$")


def check_segment(path: Path) -> tuple[int, int, bool]:
    """Decode a segment on its own: (frames, keyframes, first packet is a keyframe).

    FFmpeg must report no error at all while decoding it.
    """
    errors = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    ).stderr
    assert errors == "", f"{path.name}: {errors}"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert container.format.name == "mpegts"
        keys = [p.is_keyframe for p in container.demux(stream) if p.size]
        container.seek(0)
        frames = sum(1 for _ in container.decode(stream))
    return frames, sum(keys), keys[0]


def record_file(recorder: SegmentRecorder, clip: Path, start: datetime = T0) -> int:
    """Feed a whole file through the recorder (as fast as it reads); returns packets written."""
    n = 0
    with StreamReader(str(clip), live=False, start_time=start) as reader:
        recorder.start(reader.video_stream)
        for info in reader.packets():
            recorder.write(info)
            n += 1
    return n


def test_records_rtsp_into_keyframe_aligned_segments(
    rtsp_server: Callable[..., RtspServer], tmp_path: Path
) -> None:
    server = rtsp_server()
    segments: list[SegmentInfo] = []
    recorder = SegmentRecorder(tmp_path, 42, segment_seconds=10, on_segment=segments.append)
    payload = 0
    with StreamReader(server.url("cam1")) as reader:
        recorder.start(reader.video_stream)
        deadline = time.monotonic() + 22
        for info in reader.packets():
            recorder.write(info)
            payload += info.size
            if time.monotonic() > deadline:
                break
        last = recorder.finish()
    assert recorder.finish() is None  # nothing open any more

    assert len(segments) == 3 and last == segments[-1]
    assert [round((s.end - s.start).total_seconds()) for s in segments[:2]] == [10, 10]
    assert 0 < (segments[2].end - segments[2].start).total_seconds() < 3
    for a, b in itertools.pairwise(segments):
        assert a.end == b.start  # contiguous: no gap, no overlap
    assert abs(datetime.now(UTC) - segments[-1].end) < timedelta(seconds=5)
    assert list(tmp_path.rglob("*.part")) == []
    assert 0 < recorder.bytes_written <= payload

    for seg in segments:
        assert seg.start.tzinfo is not None and seg.start.utcoffset() == timedelta(0)
        assert LAYOUT.match(seg.path) and seg.path == segment_path(42, seg.start)
        m = LAYOUT.match(seg.path)
        assert m and m.group(2) == f"{seg.start:%Y-%m-%d}"
        path = tmp_path / seg.path
        assert seg.bytes == path.stat().st_size > 0
        frames, keyframes, starts_on_key = check_segment(path)
        assert starts_on_key and keyframes == seg.keyframes
        assert frames == pytest.approx(25 * (seg.end - seg.start).total_seconds(), abs=2)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recover_repairs_a_cut_segment_and_discards_empty_ones(
    clip720: Path, tmp_path: Path, seed: int
) -> None:
    # Record a file, and "pull the plug" near the end: copy what the .part holds on disk.
    recorder = SegmentRecorder(tmp_path, 5, segment_seconds=30)
    with StreamReader(str(clip720), live=False, start_time=T0) as reader:
        recorder.start(reader.video_stream)
        for info in reader.packets():
            recorder.write(info)
        (live_part,) = tmp_path.rglob("*.ts.part")
        on_disk = live_part.read_bytes()
        finished = recorder.finish()
    assert finished is not None and len(on_disk) > 1_000_000

    crashed_at = datetime(2025, 3, 15, 8, 0, 0, 250_000, tzinfo=UTC)
    crashed = tmp_path / (segment_path(5, crashed_at) + ".part")
    crashed.parent.mkdir(parents=True)
    cut = random.Random(seed).randrange(len(on_disk) // 3, len(on_disk))
    crashed.write_bytes(on_disk[:cut])
    empty = tmp_path / (segment_path(5, crashed_at + timedelta(seconds=10)) + ".part")
    empty.touch()
    noise = tmp_path / (segment_path(5, crashed_at + timedelta(seconds=20)) + ".part")
    noise.write_bytes(random.Random(seed).randbytes(50_000))

    done = recover(tmp_path, 5)

    assert [(r.path, r.action) for r in done] == [
        (crashed.relative_to(tmp_path).as_posix(), "repaired"),
        (empty.relative_to(tmp_path).as_posix(), "discarded"),
        (noise.relative_to(tmp_path).as_posix(), "discarded"),
    ]
    assert list(tmp_path.rglob("*.part")) == []
    seg = done[0].segment
    assert seg is not None and seg.recovered and seg.camera_id == 5
    assert seg.path == segment_path(5, crashed_at) and seg.start == crashed_at
    path = tmp_path / seg.path
    assert seg.bytes == path.stat().st_size <= cut
    frames, keyframes, starts_on_key = check_segment(path)  # decodes without a single error
    assert starts_on_key and keyframes == seg.keyframes >= 1
    assert seg.end - seg.start == timedelta(seconds=frames / 25)
    assert frames >= 25 * 6 * (len(on_disk) // 3) // len(on_disk) - 25
    assert (done[1].segment, done[2].segment) == (None, None)
    assert check_segment(tmp_path / finished.path)[0] == 150  # the finished one is untouched


def test_nothing_to_recover(tmp_path: Path) -> None:
    assert recover(tmp_path, 1) == []


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB file system (tmpfs), so writes fail with ENOSPC like a full disk."""
    if os.geteuid() != 0:
        pytest.fail("the disk-full test mounts a real tmpfs and needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_disk_full_discards_the_partial_segment_and_recovers(
    clip720: Path, tiny_disk: Path
) -> None:
    segments: list[SegmentInfo] = []
    recorder = SegmentRecorder(tiny_disk, 3, segment_seconds=1, on_segment=segments.append)
    with pytest.raises(RecorderError) as caught:
        record_file(recorder, clip720)
    error = caught.value
    assert error.reason == "disk_full"
    assert str(tiny_disk / "3") in error.message and ".ts.part" in error.message
    assert list(tiny_disk.rglob("*.part")) == []
    assert 1 <= len(segments) <= 4  # 1 MB holds a few 1 s segments at 2 Mbit/s
    for seg in segments:
        check_segment(tiny_disk / seg.path)

    # The operator (retention) frees space; the same recorder carries on.
    for seg in segments:
        (tiny_disk / seg.path).unlink()
    short = make_clip(tiny_disk.parent / "short.mp4", seconds=2)
    segments.clear()
    record_file(recorder, short, start=T0 + timedelta(minutes=5))
    final = recorder.finish()
    assert final is not None and segments[-1] == final and len(segments) == 2
    assert sum(check_segment(tiny_disk / s.path)[0] for s in segments) == 50


@pytest.mark.parametrize(
    ("codec", "encoder", "sets"), [("h264", "libx264", "7|8"), ("hevc", "libx265", "32|33|34")]
)
def test_each_segment_decodes_alone_when_parameter_sets_come_once(
    tmp_path: Path, codec: str, encoder: str, sets: str
) -> None:
    """Many cameras send SPS/PPS (VPS) once, or only in the SDP: every segment must still play."""
    raw = tmp_path / f"every.{codec}"
    run(
        [
            "ffmpeg",
            "-y",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25",
            "-t",
            "3",
            "-c:v",
            encoder,
            "-g",
            "25",
            "-bf",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-f",
            codec,
            str(raw),
        ]
    )
    stripped = tmp_path / f"none.{codec}"
    run(
        [
            "ffmpeg",
            "-y",
            "-loglevel",
            "error",
            "-i",
            str(raw),
            "-c",
            "copy",
            "-bsf:v",
            f"filter_units=remove_types={sets}",
            "-f",
            codec,
            str(stripped),
        ]
    )
    with av.open(str(raw)) as container:  # the parameter sets, as the SDP would carry them
        headers = container.streams.video[0].codec_context.extradata
    once = tmp_path / f"once.{codec}"
    once.write_bytes(headers + stripped.read_bytes())

    segments: list[SegmentInfo] = []
    recorder = SegmentRecorder(tmp_path / "rec", 6, segment_seconds=1, on_segment=segments.append)
    record_file(recorder, once)
    recorder.finish()
    assert len(segments) == 3
    for seg in segments:
        assert check_segment(tmp_path / "rec" / seg.path) == (25, 1, True)


def test_bad_timestamps_are_nudged_not_dropped(clip720: Path, tmp_path: Path) -> None:
    """Duplicate dts (seen from real cameras) and a timestamp reset must not lose a frame."""
    recorder = SegmentRecorder(tmp_path, 8, segment_seconds=60)
    with StreamReader(str(clip720), live=False, start_time=T0) as reader:
        recorder.start(reader.video_stream)
        previous = None
        for i, info in enumerate(reader.packets()):
            pkt = info.packet
            if i % 10 == 5 and previous is not None:  # same timestamp as the frame before
                pkt.pts = pkt.dts = previous
            if i >= 100:  # the camera's timestamps restart
                pkt.pts = pkt.dts = (pkt.dts or 0) - 4 * 12800
            previous = pkt.dts
            recorder.write(info)
        seg = recorder.finish()
    assert seg is not None and recorder.packets_skipped == 0
    with av.open(str(tmp_path / seg.path)) as container:
        dts = [p.dts for p in container.demux(video=0) if p.size]
    assert len(dts) == 150
    assert all(b > a for a, b in itertools.pairwise(dts))


def test_cuts_only_on_keyframes_unless_past_max_seconds(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "longgop.mp4", seconds=6, gop=100)  # keyframes at 0 s and 4 s
    segments: list[SegmentInfo] = []
    recorder = SegmentRecorder(
        tmp_path / "rec", 4, segment_seconds=1, max_seconds=2.5, on_segment=segments.append
    )
    record_file(recorder, clip)
    recorder.finish()
    spans = [((s.start - T0).total_seconds(), (s.end - T0).total_seconds()) for s in segments]
    assert spans == [(0, 2.52), (2.52, 4), (4, 6)]  # forced at 2.5 s (+1 frame), then keyframe
    assert [s.keyframes for s in segments] == [1, 0, 1]


def test_write_before_start_is_a_bug(tmp_path: Path) -> None:
    recorder = SegmentRecorder(tmp_path, 1)
    with pytest.raises(RuntimeError):
        recorder.write(None)  # type: ignore[arg-type]
