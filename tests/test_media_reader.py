"""StreamReader against the real GStreamer RTSP server and real files (no mocks of PyAV)."""

from __future__ import annotations

import itertools
import random
import shutil
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import av.error
import pytest

from pantau.media.reader import (
    REASONS,
    PacketInfo,
    SampledFrame,
    StreamFailure,
    StreamReader,
    classify,
    redact,
)
from tests.support.media import make_clip, pedestrians, run, to_annexb
from tests.support.rtsp import RtspServer

USER, PASSWORD = "operator", "s3cret-Kdi!"
T0 = datetime(2025, 3, 14, 23, 59, 58, tzinfo=UTC)


def read_for(reader: StreamReader, seconds: float) -> tuple[list[PacketInfo], list[SampledFrame]]:
    """Packets and samples for `seconds` of wall time (live) or the whole file."""
    packets: list[PacketInfo] = []
    frames: list[SampledFrame] = []
    deadline = time.monotonic() + seconds
    for info in reader.packets():
        packets.append(info)
        frame = reader.sample(info)
        if frame is not None:
            frames.append(frame)
        if time.monotonic() > deadline:
            break
    return packets, frames


def failure_of(reader: StreamReader, seconds: float = 15) -> tuple[StreamFailure, float]:
    """Open and read until the reader fails; the failure and seconds since the last packet."""
    last = time.monotonic()
    with pytest.raises(StreamFailure) as caught:
        reader.open()
        deadline = time.monotonic() + seconds
        for _ in reader.packets():
            last = time.monotonic()
            assert last < deadline, "reader did not fail"
    reader.close()
    return caught.value, time.monotonic() - last


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- live RTSP ---------------------------------------------------------------------------------


def test_rtsp_packets_are_utc_now_monotonic_25fps(rtsp_server: Callable[..., RtspServer]) -> None:
    server = rtsp_server()
    with StreamReader(server.url("cam1"), transport="tcp") as reader:
        assert (reader.codec_name, reader.width, reader.height) == ("h264", 1280, 720)
        assert reader.expected_fps == pytest.approx(25)
        packets, _ = read_for(reader, 2.5)
    times = [p.at for p in packets]
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)
    assert times == sorted(times)
    now = datetime.now(UTC)
    assert now - timedelta(seconds=5) < times[0] <= times[-1] < now + timedelta(seconds=1)
    span = (times[-1] - times[0]).total_seconds()
    assert span >= 2
    assert (len(packets) - 1) / span == pytest.approx(25, abs=2)
    assert sum(p.keyframe for p in packets) >= 2
    assert all(p.size == p.packet.size > 0 for p in packets)


def test_rtsp_over_udp(rtsp_server: Callable[..., RtspServer]) -> None:
    """UDP is selectable for cameras on a clean LAN (TCP is the default: it survives NAT/4G)."""
    server = rtsp_server()
    with StreamReader(server.url("cam1"), transport="udp") as reader:
        packets, frames = read_for(reader, 2.5)
    assert len(packets) >= 40 and frames


def test_http_stream(clip720: Path, tmp_path: Path) -> None:
    """Cameras that only offer HTTP (MPEG-TS over HTTP) are read the same way."""
    import functools
    import http.server
    import threading

    ts = tmp_path / "live.ts"
    run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(clip720), "-c", "copy", str(ts)])
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/live.ts"
        packets, frames = [], []
        with StreamReader(url, live=True) as reader:
            assert reader.codec_name == "h264"
            with pytest.raises(StreamFailure) as ended:  # a served file ends, like a camera hang-up
                for info in reader.packets():
                    packets.append(info)
                    if (frame := reader.sample(info)) is not None:
                        frames.append(frame)
    finally:
        httpd.shutdown()
    assert ended.value.reason == "ended"
    assert len(packets) >= 140 and len(frames) >= 5  # 6 s at 25 fps, one keyframe a second
    times = [p.at for p in packets]
    assert times == sorted(times)


def test_keyframe_sampling_one_per_second(rtsp_server: Callable[..., RtspServer]) -> None:
    server = rtsp_server()
    with StreamReader(server.url("cam1"), sample="keyframes") as reader:
        _, frames = read_for(reader, 3.5)
        assert reader.decode_errors == 0
    assert 3 <= len(frames) <= 4
    for frame in frames:
        assert frame.bgr.shape == (360, 640, 3) and frame.bgr.dtype.name == "uint8"
        assert frame.grey.shape == (180, 320) and frame.grey.dtype.name == "uint8"
        assert frame.keyframe and (frame.source_width, frame.source_height) == (1280, 720)
        assert frame.bgr.std() > 10  # a picture, not a blank buffer
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(frames)]
    assert gaps == pytest.approx([1.0] * len(gaps), abs=0.05)


def test_fps_sampling_two_per_second(rtsp_server: Callable[..., RtspServer]) -> None:
    server = rtsp_server()
    with StreamReader(server.url("cam1"), sample="fps", sample_fps=2) as reader:
        _, frames = read_for(reader, 3.2)
    assert 5 <= len(frames) <= 7
    assert any(not f.keyframe for f in frames)  # not just the keyframes
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(frames)]
    assert all(0.44 <= g <= 0.56 for g in gaps), gaps


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_bad_credentials_are_auth_failed(
    rtsp_server: Callable[..., RtspServer], password: str | None
) -> None:
    server = rtsp_server(user=USER, password=PASSWORD)
    url = server.url("cam1", USER, password) if password else server.url("cam1")
    failure, _ = failure_of(StreamReader(url, open_timeout=5))
    assert failure.reason == "auth_failed"
    assert "127.0.0.1" in failure.message and PASSWORD not in failure.message
    if password:
        assert password not in failure.message and password not in str(failure)
        assert "***" in failure.message
    # and the right ones work
    with StreamReader(server.url("cam1", USER, PASSWORD)) as reader:
        assert next(iter(reader.packets())).size > 0


def test_closed_port_is_unreachable_quickly() -> None:
    started = time.monotonic()
    failure, _ = failure_of(StreamReader(f"rtsp://admin:{PASSWORD}@127.0.0.1:{free_port()}/cam1"))
    assert failure.reason == "unreachable"
    assert time.monotonic() - started < 2
    assert PASSWORD not in failure.message and "admin:***@127.0.0.1" in failure.message


def test_unknown_path_is_not_found(rtsp_server: Callable[..., RtspServer]) -> None:
    server = rtsp_server()
    failure, _ = failure_of(StreamReader(server.url("no-such-camera")))
    assert failure.reason == "not_found"
    assert "no-such-camera" in failure.message


def test_stall_is_detected(rtsp_server: Callable[..., RtspServer]) -> None:
    server = rtsp_server()
    reader = StreamReader(server.url("cam1"), stall_timeout=2)
    reader.open()
    packets = reader.packets()
    for _ in range(10):
        next(packets)
    server.stall("cam1")  # the server still flushes ~2 s it had queued, then goes silent
    started = time.monotonic()
    last = started
    with pytest.raises(StreamFailure) as caught:
        for _ in packets:
            last = time.monotonic()
            assert last - started < 10, "stall not detected"
    reader.close()
    assert caught.value.reason == "stalled"
    assert "2 s" in caught.value.message
    assert 1.8 <= time.monotonic() - last < 3.5  # stall_timeout after the last packet


def test_server_killed_mid_read_fails_fast(rtsp_server: Callable[..., RtspServer]) -> None:
    server = rtsp_server()
    reader = StreamReader(server.url("cam1"), stall_timeout=3)
    reader.open()
    packets = reader.packets()
    for _ in range(10):
        next(packets)
    server.kill()
    started = time.monotonic()
    with pytest.raises(StreamFailure) as caught:
        for _ in packets:
            assert time.monotonic() - started < 10, "kill not noticed"
    reader.close()
    assert caught.value.reason in ("ended", "stalled", "unreachable")
    assert time.monotonic() - started < 4


# -- files -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def odd_files(media_dir: Path) -> dict[str, Path]:
    """Things that are not an H.264/H.265 camera: text, a PNG, audio only, MJPEG video."""
    text = media_dir / "notes.txt"
    text.write_text("this is not a video\n" * 200)
    png, wav, mjpeg = media_dir / "still.png", media_dir / "tone.wav", media_dir / "old.avi"
    lavfi = ["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i"]
    run([*lavfi, "testsrc2=size=64x48", "-frames:v", "1", str(png)])
    run([*lavfi, "sine=duration=0.5", str(wav)])
    run([*lavfi, "testsrc2=size=64x48:rate=5", "-t", "1", "-c:v", "mjpeg", str(mjpeg)])
    return {"text": text, "png": png, "wav": wav, "mjpeg": mjpeg}


@pytest.mark.parametrize(
    ("kind", "reason", "words"),
    [
        ("text", "not_video", "not video"),
        ("png", "not_video", "still image"),
        ("wav", "not_video", "no video stream"),
        ("mjpeg", "unsupported_codec", "camera sends mjpeg; Pantau records H.264/H.265"),
    ],
)
def test_files_that_are_not_camera_video(
    odd_files: dict[str, Path], kind: str, reason: str, words: str
) -> None:
    url = odd_files[kind].as_uri() if kind == "png" else str(odd_files[kind])  # file:// too
    failure, _ = failure_of(StreamReader(url, live=False, start_time=T0))
    assert (failure.reason, words in failure.message) == (reason, True), failure.message
    assert odd_files[kind].name in failure.message


def test_file_times_are_start_time_plus_offset(clip720: Path) -> None:
    with StreamReader(clip720.as_uri(), live=False, start_time=T0) as reader:
        packets, frames = read_for(reader, 60)
    assert len(packets) == 150  # 6 s at 25 fps, read as fast as possible, none lost
    assert [p.at for p in packets] == [T0 + timedelta(seconds=i / 25) for i in range(150)]
    assert [f.at for f in frames] == [T0 + timedelta(seconds=s) for s in range(6)]


def test_file_without_start_time_is_refused(clip720: Path) -> None:
    reader = StreamReader(str(clip720), live=False)
    with pytest.raises(StreamFailure) as caught:
        reader.open()
    assert caught.value.reason == "error"
    assert "no time information" in caught.value.message
    assert "start_time" in caught.value.message


def test_damaged_file_reads_past_the_damage(clip720: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.mp4"
    shutil.copy(clip720, damaged)
    size = damaged.stat().st_size
    with damaged.open("r+b") as f:  # 64 KB of noise in the middle of the frame data
        f.seek(size // 2)
        f.write(random.Random(7).randbytes(64 * 1024))
    with StreamReader(str(damaged), live=False, start_time=T0, sample="fps", sample_fps=5) as r:
        packets, frames = read_for(r, 60)
        damage = r.corrupt_packets + r.decode_errors
    assert damage > 0
    assert len(packets) == 150
    assert frames[-1].at >= T0 + timedelta(seconds=5.5)  # decoding recovered after the noise
    assert len(frames) >= 25


def test_resolution_change_mid_stream(clip720_h264: Path, tmp_path: Path) -> None:
    small = to_annexb(make_clip(tmp_path / "small.mp4", seconds=2, size="640x360"), tmp_path / "s")
    joined = tmp_path / "joined.h264"
    with joined.open("wb") as out:
        for part in (clip720_h264, small):
            out.write(part.read_bytes())
    with StreamReader(str(joined), live=False, start_time=T0) as reader:
        _, frames = read_for(reader, 60)
        assert (reader.width, reader.height) == (640, 360)
    sizes = [(f.source_width, f.source_height, f.bgr.shape, f.grey.shape) for f in frames]
    big = (1280, 720, (360, 640, 3), (180, 320))
    little = (640, 360, (360, 640, 3), (180, 320))  # already 640 wide: not rescaled
    assert sizes == [big] * 6 + [little] * 2
    assert frames[-1].at == T0 + timedelta(seconds=7)  # raw .h264 has no timestamps: 25 fps


def test_small_source_is_never_upscaled(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "tiny.mp4", seconds=1, size="320x240")
    with StreamReader(str(clip), live=False, start_time=T0) as reader:
        _, frames = read_for(reader, 60)
    assert frames[0].bgr.shape == (240, 320, 3) and frames[0].grey.shape == (120, 160)


# -- classification and redaction ----------------------------------------------------------------


def test_redact_hides_passwords() -> None:
    assert redact("rtsp://admin:p%40ss@10.0.0.5:554/s1") == "rtsp://admin:***@10.0.0.5:554/s1"
    assert (
        redact("rtsp://10.0.0.5/s1?user=a&password=x") == "rtsp://10.0.0.5/s1?user=a&password=***"
    )
    assert redact("/srv/import/cam.mp4") == "/srv/import/cam.mp4"


@pytest.mark.parametrize("password", ["pa#ss", "p@ss?x", "Rahasia#9?", "a b"])
def test_unescaped_passwords_are_hidden_in_urls_and_messages(password: str) -> None:
    url = f"rtsp://admin:{password}@10.0.0.5:554/s1"
    assert redact(url) == "rtsp://admin:***@10.0.0.5:554/s1"
    failure = classify(OSError(f"connect to {url} failed ({password})"), url)
    assert password not in str(failure) and "10.0.0.5" in str(failure)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (av.error.HTTPUnauthorizedError, "auth_failed"),
        (av.error.HTTPNotFoundError, "not_found"),
        (av.error.ConnectionRefusedError, "unreachable"),
        (av.error.InvalidDataError, "corrupt"),
        (av.error.TimeoutError, "stalled"),
        (av.error.ExitError, "stalled"),
        (av.error.OSError, "unreachable"),
        (RuntimeError, "error"),
    ],
)
def test_classify_never_leaks_the_password(exc: type[BaseException], reason: str) -> None:
    url = f"rtsp://admin:{PASSWORD}@10.0.0.5/s1"
    error = exc(1, f"message naming {url}", url) if exc is not RuntimeError else exc(url)
    failure = classify(error, url)
    assert failure.reason == reason and failure.reason in REASONS
    assert PASSWORD not in failure.message and PASSWORD not in str(failure)
    assert "10.0.0.5" in failure.message


def test_stream_failure_rejects_unknown_reasons() -> None:
    with pytest.raises(ValueError):
        StreamFailure("melted", "no")


def test_real_footage_keyframes(media_dir: Path) -> None:
    """The pedestrian clip (640x480, 15 fps, a keyframe every 2 s): real scenes, real encoder."""
    with StreamReader(str(pedestrians(media_dir)), live=False, start_time=T0) as reader:
        assert reader.expected_fps == pytest.approx(15)
        _, frames = read_for(reader, 60)
        assert reader.decode_errors == 0
    assert len(frames) == 40
    assert [f.at for f in frames] == [T0 + timedelta(seconds=2 * k) for k in range(40)]
    assert {(f.bgr.shape, f.grey.shape) for f in frames} == {((480, 640, 3), (240, 320))}
