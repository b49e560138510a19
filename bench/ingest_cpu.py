"""Benchmark: CPU per camera for recording (stream copy) and for recording + keyframe sampling.

    .venv/bin/python bench/ingest_cpu.py --cameras 8 --seconds 60

Serves N copies of a 1280x720, 25 fps, ~2 Mbit/s H.264 clip from the real RTSP test server
(GStreamer, one mount per camera), runs N supervised camera workers in this process exactly as
`pantau serve` does (reader → recorder → sampler → sink), and reports this process's CPU time
divided by wall time and by camera. The RTSP server's own CPU is reported separately. For
reference it also measures `ffmpeg -c copy` recording the same N streams.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pantau.config.model import Settings
from pantau.media.recorder import Recovery, SegmentInfo
from pantau.pipeline.camera import CameraSpec, CameraWorker
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer


class CountingSink:
    """Counts what a worker produces; stands in for the database so only ingest is measured."""

    def __init__(self) -> None:
        self.segments = 0
        self.frames = 0
        self.bytes = 0

    def segment(self, camera_id: int, info: SegmentInfo) -> None:
        self.segments += 1
        self.bytes += info.bytes

    def recovered(self, camera_id: int, results: list[Recovery]) -> None:
        pass

    def health(self, camera_id, samples) -> None:
        pass

    def state(self, camera_id, tracker, extra) -> None:
        pass

    def frame(self, camera_id, frame) -> None:
        self.frames += 1

    def disk_full(self, camera_id, message) -> None:
        raise SystemExit(f"disk full during benchmark: {message}")

    def observations(self, camera_id, rows) -> None:
        pass


def cpu_seconds(pid: int | None = None) -> float:
    if pid is None:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return ru.ru_utime + ru.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / 100.0


def run_workers(urls: list[str], data: Path, seconds: float, sample: str) -> dict[str, float]:
    settings = Settings.model_validate(
        {
            "data_dir": str(data),
            "ingest": {"sample": sample},
            "recording": {"segment_seconds": 10},
            "analytics": {"enabled": False},  # ingest only; analytics has its own benchmark
        }
    )
    sink = CountingSink()
    workers = [
        CameraWorker(CameraSpec(id=i + 1, name=f"bench{i + 1}", url=url), settings, sink)
        for i, url in enumerate(urls)
    ]
    for w in workers:
        w.start()
    time.sleep(5)  # connect and settle
    c0, t0, f0 = cpu_seconds(), time.monotonic(), sink.frames
    time.sleep(seconds)
    c1, t1, f1 = cpu_seconds(), time.monotonic(), sink.frames
    for w in workers:
        w.stop()
    for w in workers:
        w.join(15)
    wall = t1 - t0
    cpu_pct = 100.0 * (c1 - c0) / wall
    return {
        "cpu_percent_total": cpu_pct,
        "cpu_percent_per_camera": cpu_pct / len(urls),
        "sampled_fps_per_camera": (f1 - f0) / wall / len(urls),
        "segments": sink.segments,
    }


def run_ffmpeg_copy(urls: list[str], out: Path, seconds: float) -> float:
    procs = [
        subprocess.Popen(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-rtsp_transport",
                "tcp",
                "-i",
                url,
                "-c",
                "copy",
                "-f",
                "segment",
                "-segment_time",
                "10",
                "-segment_format",
                "mpegts",
                str(out / f"ff{i}_%03d.ts"),
            ],
            stdin=subprocess.DEVNULL,
        )
        for i, url in enumerate(urls)
    ]
    time.sleep(5)
    c0 = sum(cpu_seconds(p.pid) for p in procs)
    t0 = time.monotonic()
    time.sleep(seconds)
    c1 = sum(cpu_seconds(p.pid) for p in procs)
    wall = time.monotonic() - t0
    for p in procs:
        p.terminate()
        p.wait(5)
    return 100.0 * (c1 - c0) / wall / len(urls)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cameras", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--skip-ffmpeg", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pantau-bench-"))
    try:
        clip = make_clip(
            work / "clip.mp4", seconds=60, size="1280x720", fps=25, gop=50, bitrate="2M"
        )
        h264 = to_annexb(clip, work / "clip.h264")
        mounts = {f"cam{i + 1}": h264 for i in range(args.cameras)}
        with RtspServer(mounts) as server:
            urls = [server.url(name) for name in mounts]
            results = {}
            for mode, sample in (("record", "off"), ("record+keyframes", "keyframes")):
                s0, t0 = cpu_seconds(server.proc.pid), time.monotonic()
                r = run_workers(urls, work / mode, args.seconds, sample)
                srv = 100.0 * (cpu_seconds(server.proc.pid) - s0) / (time.monotonic() - t0)
                results[mode] = r
                print(
                    f"{mode:18s} {args.cameras} cameras 720p25 ~2 Mbit/s: "
                    f"{r['cpu_percent_per_camera']:.2f} % of a core per camera "
                    f"({r['cpu_percent_total']:.1f} % total), "
                    f"sampled {r['sampled_fps_per_camera']:.2f} frames/s per camera, "
                    f"{r['segments']} segments; RTSP server {srv:.1f} %",
                    flush=True,
                )
            if not args.skip_ffmpeg:
                (work / "ff").mkdir()
                ff = run_ffmpeg_copy(urls, work / "ff", args.seconds)
                print(
                    f"{'ffmpeg -c copy':18s} {args.cameras} cameras: "
                    f"{ff:.2f} % of a core per camera"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
