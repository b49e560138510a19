"""The evidence frame of an incident: the picture at the moment it is about, or none at all.

An evaluation may run long after the event (a backfill, a carried disk, a hub that was down),
so the camera's *latest* snapshot is usually the wrong picture. The frame is taken, in order:
from the camera's recordings around the evidence minute, from footage files handed in by the
caller (the files `pantau analyze` just read), and only then from the latest snapshot — and
that one only if it was written within a couple of minutes of the evidence moment (its file
time says when). Otherwise no picture is stored, and the incident says why: a missing picture
is honest, a picture of the wrong moment is misleading evidence.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from sqlalchemy.orm import Session

from pantau.config.model import Settings
from pantau.incidents.rules import IncidentSpec
from pantau.media.snapshot import SnapshotError, encode_jpeg, frame_at, latest_path
from pantau.recordings import index

log = logging.getLogger(__name__)

# The latest snapshot stands in for the moment only if it was written this close to it.
LATEST_TOLERANCE = timedelta(minutes=2)
# Minutes are whole: the middle of the evidence minute is the best guess of "the moment".
MOMENT_OFFSET = timedelta(seconds=30)
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Footage:
    """A video file whose first frame was captured at `start` (e.g. a file `analyze` read)."""

    path: Path
    start: datetime
    seconds: float | None = None  # None: read from the container


@dataclass(frozen=True)
class Evidence:
    """What was stored for an incident: `path` relative to data_dir, or None with a reason."""

    path: str | None
    at: datetime
    source: str | None  # "recording" | "footage" | "latest" | None
    reason: str | None = None  # why there is no picture (machine-readable)
    note: str = ""  # the same for a person, Bahasa Indonesia

    def detail(self) -> dict[str, Any]:
        return {
            "at": self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "source": self.source,
            "reason": self.reason,
            "note": self.note,
        }


EvidenceFor = Callable[[IncidentSpec], Evidence]


def moment(spec: IncidentSpec) -> datetime:
    return spec.evidence_minute.replace(second=0, microsecond=0) + MOMENT_OFFSET


def _write(settings: Settings, incident: str, jpeg: bytes) -> str:
    rel = f"incidents/{incident}.jpg"
    dest = settings.data_dir / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{incident}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(jpeg)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel


def _from_recordings(
    session: Session, settings: Settings, camera_id: int, at: datetime
) -> bytes | None:
    """A frame of the evidence minute from the recordings, as close to `at` as they allow."""
    minute = at.replace(second=0, microsecond=0)
    segments = index.segments_between(session, camera_id, minute, minute + MINUTE)
    root = settings.recordings_dir
    for seg in sorted(segments, key=lambda s: _distance(s.start, s.end, at)):
        if not index.has_file(root, seg):
            continue
        want = min(max(at, seg.start), seg.end - timedelta(milliseconds=1))
        try:
            return encode_jpeg(frame_at(index.file_of(root, seg), seg.start, want), 90)
        except SnapshotError as exc:
            log.warning("camera %d: evidence frame from %s: %s", camera_id, seg.path, exc)
    return None


def _distance(start: datetime, end: datetime, at: datetime) -> timedelta:
    if start <= at < end:
        return timedelta(0)
    return min(abs(at - start), abs(at - end))


def _duration(path: Path) -> float | None:
    try:
        with av.open(str(path)) as container:
            if container.duration:
                return container.duration / 1_000_000
            stream = container.streams.video[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
    except (av.FFmpegError, OSError, IndexError):
        return None
    return None


def _seek_frame(path: Path, start: datetime, at: datetime) -> np.ndarray:
    """The first frame at or after `at` in a long file, by seeking instead of reading it all.

    `frame_at` demuxes the whole file, right for 10 s segments but not for a day-long file
    from a carried disk. MP4/MKV seek reliably to the keyframe before the target; MPEG-TS
    does not (byte-based), so .ts files go through `frame_at`.
    """
    if path.suffix.lower() == ".ts":
        return frame_at(path, start, at)
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            tb = stream.time_base or Fraction(1, 90000)
            first = stream.start_time or 0
            offset = Fraction((at - start) // timedelta(microseconds=1), 1_000_000)
            target = first + int(max(offset, Fraction(0)) / tb)
            container.seek(target, stream=stream, backward=True, any_frame=False)
            last = None
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                last = frame
                if frame.pts >= target:
                    return frame.to_ndarray(format="bgr24")
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise SnapshotError(f"cannot decode {path.name}: {exc}") from exc
    if last is None:
        raise SnapshotError(f"no decodable frame in {path.name}")
    return last.to_ndarray(format="bgr24")


def footage_span(footage: Sequence[Footage]) -> tuple[datetime, datetime]:
    """[first frame, end of the last file): the range an analysis of these files covered."""
    if not footage:
        raise ValueError("no footage files")
    ends = []
    for item in footage:
        seconds = item.seconds if item.seconds is not None else _duration(item.path)
        ends.append(item.start + timedelta(seconds=seconds or 0))
    return min(f.start for f in footage), max(ends)


def _from_footage(footage: Sequence[Footage], at: datetime) -> bytes | None:
    for item in footage:
        seconds = item.seconds if item.seconds is not None else _duration(item.path)
        if seconds is None or not item.start <= at < item.start + timedelta(seconds=seconds):
            continue
        try:
            return encode_jpeg(_seek_frame(item.path, item.start, at), 90)
        except SnapshotError as exc:
            log.warning("evidence frame from %s: %s", item.path, exc)
    return None


def _latest_if_recent(settings: Settings, camera_id: int, at: datetime) -> bytes | None:
    src = latest_path(settings.snapshots_dir, camera_id)
    try:
        written = datetime.fromtimestamp(src.stat().st_mtime, UTC)
        if abs(written - at) > LATEST_TOLERANCE:
            return None
        return src.read_bytes()
    except FileNotFoundError:  # none yet, or replaced by the pipeline between stat and read
        return None


def evidence_taker(
    session: Session,
    settings: Settings,
    camera_id: int,
    footage: Sequence[Footage] = (),
) -> EvidenceFor:
    """`take(spec) -> Evidence` for one camera's incidents (see the module docstring)."""

    def take(spec: IncidentSpec) -> Evidence:
        at = moment(spec)
        for source, grab in (
            ("recording", lambda: _from_recordings(session, settings, camera_id, at)),
            ("footage", lambda: _from_footage(footage, at)),
            ("latest", lambda: _latest_if_recent(settings, camera_id, at)),
        ):
            jpeg = grab()
            if jpeg:
                return Evidence(_write(settings, spec.id, jpeg), at, source)
        if spec.kind == "camera_offline":
            reason = "camera_offline"
            note = "Kamera offline: tidak ada gambar pada saat kejadian."
        else:
            reason = "no_frame_at_time"
            note = (
                "Tidak ada rekaman pada saat kejadian; foto terbaru kamera tidak dipakai "
                "karena bukan dari saat itu."
            )
        return Evidence(None, at, None, reason, note)

    return take
