"""Test media: short H.264 clips made with ffmpeg, and the real pedestrian footage.

The pedestrian clip comes from ../shared/media when present; otherwise it is rebuilt from the
registry source its README names (Debian's opencv-doc, vtest.avi), so a fresh machine works too.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared" / "media"


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


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
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["apt-get", "download", "opencv-doc"], cwd=tmp, check=True, capture_output=True
        )
        deb = next(Path(tmp).glob("opencv-doc_*.deb"))
        run(["dpkg-deb", "-x", str(deb), str(Path(tmp) / "x")])
        avi = next((Path(tmp) / "x").rglob("vtest.avi"))
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
                str(out),
            ]
        )
    return out


def have_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None
