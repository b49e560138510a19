"""Test media: short H.264 clips made with ffmpeg, and the real pedestrian footage.

The pedestrian clip comes from ../shared/media when present; otherwise it is rebuilt from the
registry source its README names (Debian's opencv-doc, vtest.avi), so a fresh machine works too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SHARED = Path(
    os.environ.get("PANTAU_SHARED_MEDIA")
    or Path(__file__).resolve().parents[3] / "shared" / "media"
)


def run(cmd: list[str], cwd: str | None = None) -> None:
    """Run a tool; on failure the error carries its stderr (not just the exit status)."""
    done = subprocess.run(cmd, capture_output=True, cwd=cwd)
    if done.returncode != 0:
        raise RuntimeError(
            f"{cmd[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-800:]}"
        )


def make_clip(
    path: Path,
    *,
    seconds: float = 6,
    size: str = "1280x720",
    fps: int = 25,
    gop: int = 25,
    bitrate: str = "2M",
    pattern: str = "testsrc2",
) -> Path:
    """An H.264 MP4 (no B-frames, fixed GOP) of a moving test pattern with a clock."""
    run(
        [
            "ffmpeg",
            "-y",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"{pattern}=size={size}:rate={fps}",
            "-t",
            str(seconds),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-bf",
            "0",
            "-g",
            str(gop),
            "-keyint_min",
            str(gop),
            "-sc_threshold",
            "0",
            "-b:v",
            bitrate,
            "-pix_fmt",
            "yuv420p",
            str(path),
        ]
    )
    return path


def to_annexb(mp4: Path, out: Path) -> Path:
    """The raw .h264 byte stream the RTSP test server loops."""
    run(
        [
            "ffmpeg",
            "-y",
            "-loglevel",
            "error",
            "-i",
            str(mp4),
            "-c",
            "copy",
            "-bsf:v",
            "h264_mp4toannexb",
            "-f",
            "h264",
            str(out),
        ]
    )
    return out


def pedestrians(cache: Path) -> Path:
    """pedestrians-vtest-640x480.mp4 from shared/, or rebuilt from Debian's opencv-doc."""
    shared = SHARED / "pedestrians-vtest-640x480.mp4"
    if shared.exists():
        return shared
    out = cache / "pedestrians-vtest-640x480.mp4"
    if out.exists():
        return out
    last: Exception | None = None
    for _ in range(3):  # the registry or a busy machine can fail once; the result is atomic
        try:
            with tempfile.TemporaryDirectory() as tmp:
                run(["apt-get", "download", "opencv-doc"], cwd=tmp)
                deb = next(Path(tmp).glob("opencv-doc_*.deb"))
                run(["dpkg-deb", "-x", str(deb), str(Path(tmp) / "x")])
                avi = next((Path(tmp) / "x").rglob("vtest.avi"))
                part = Path(tmp) / "out.mp4"
                run(
                    [
                        "ffmpeg",
                        "-y",
                        "-loglevel",
                        "error",
                        "-i",
                        str(avi),
                        "-vf",
                        "scale=640:-2",
                        "-c:v",
                        "libx264",
                        "-preset",
                        "veryfast",
                        "-bf",
                        "0",
                        "-g",
                        "30",
                        "-r",
                        "15",
                        "-b:v",
                        "800k",
                        str(part),
                    ]
                )
                cache.mkdir(parents=True, exist_ok=True)
                shutil.move(str(part), out)
            return out
        except (RuntimeError, StopIteration, OSError) as exc:
            last = exc
    raise RuntimeError(f"could not rebuild the pedestrian clip from opencv-doc: {last}")


def have_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None
