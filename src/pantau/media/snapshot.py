"""JPEG snapshots: the latest frame of each camera for the video wall, and frames from recordings.

The pipeline already decodes frames for analytics; writing the latest one as a small JPEG file lets
any number of wall screens poll it without touching the camera or the decoder again.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


class SnapshotError(Exception):
    """The recording has no decodable frame at the requested time."""


def encode_jpeg(bgr: np.ndarray, quality: int = 80) -> bytes:
    """BGR (OpenCV order, what the decoder hands the pipeline) to JPEG bytes."""
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"could not encode a {bgr.shape} frame as JPEG")
    return buf.tobytes()


def latest_path(snapshots_dir: Path, camera_id: int) -> Path:
    return snapshots_dir / "latest" / f"{camera_id}.jpg"


def write_latest(snapshots_dir: Path, camera_id: int, bgr: np.ndarray, quality: int = 80) -> Path:
    """Replace the camera's latest JPEG atomically, so a reader never sees half a file."""
    path = latest_path(snapshots_dir, camera_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = encode_jpeg(bgr, quality)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{camera_id}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def frame_at(segment_file: Path, segment_start: datetime, at: datetime) -> np.ndarray:
    """The first frame shown at or after `at` in a segment whose first frame is `segment_start`.

    The packets are read without decoding (cheap) to find the keyframe at or before the target;
    decoding starts there, so at most one GOP is decoded. MPEG-TS seeking is byte-based and can
    land after that keyframe, hence no container seek. Past the last frame, the last frame is
    returned.
    """
    offset = Fraction((at - segment_start) // timedelta(microseconds=1), 1_000_000)
    try:
        with av.open(str(segment_file)) as container:
            stream = container.streams.video[0]
            tb = stream.time_base or Fraction(1, 90000)
            packets = [p for p in container.demux(stream) if p.pts is not None]
            if not packets:
                raise SnapshotError(f"no video packets in {segment_file.name}")
            target = packets[0].pts + int(max(offset, Fraction(0)) / tb)
            keys = [i for i, p in enumerate(packets) if p.is_keyframe]
            if not keys:
                raise SnapshotError(f"no keyframe in {segment_file.name}")
            begin = max([i for i in keys if packets[i].pts <= target], default=keys[0])
            ctx = stream.codec_context
            last = None
            for packet in [*packets[begin:], None]:
                for frame in ctx.decode(packet):
                    if frame.pts is None:
                        continue
                    last = frame
                    if frame.pts >= target:
                        return frame.to_ndarray(format="bgr24")
    except (av.FFmpegError, OSError) as exc:
        raise SnapshotError(f"cannot decode {segment_file.name}: {exc}") from exc
    if last is None:
        raise SnapshotError(f"no decodable frame in {segment_file.name}")
    return last.to_ndarray(format="bgr24")
