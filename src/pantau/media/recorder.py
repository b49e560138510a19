"""Stream-copy a camera into keyframe-aligned MPEG-TS segments on disk (see docs/recording.md).

No re-encoding: packets go to disk as the camera sent them, so recording costs almost no CPU. Each
segment starts on a keyframe and decodes on its own. A segment is written as "<name>.ts.part" and
renamed when complete, so a crash leaves a recognisable partial file that recover() repairs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import NoReturn

import av
import av.error

from pantau.media.reader import PacketInfo

PART = ".part"
NAME = re.compile(r"^(\d{2})(\d{2})(\d{2})_(\d{3})Z\.ts$")
TS_PACKET = 188
FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class RecorderError(Exception):
    """Writing a segment failed; the partial file is gone and the recorder can start() again."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason  # "disk_full" | "io_error"
        self.message = message


@dataclass
class SegmentInfo:
    camera_id: int
    start: datetime  # UTC, first packet
    end: datetime  # UTC, first packet of the next segment (or last packet + its duration)
    path: str  # POSIX, relative to the recordings root
    bytes: int
    keyframes: int
    recovered: bool = False


def segment_path(camera_id: int, start: datetime) -> str:
    """ "<camera_id>/<YYYY-MM-DD>/<HHMMSS>_<ms>Z.ts" (UTC), relative to the recordings root."""
    t = start.astimezone(UTC)
    return f"{camera_id}/{t:%Y-%m-%d}/{t:%H%M%S}_{t.microsecond // 1000:03d}Z.ts"


def parse_segment_start(path: Path) -> datetime | None:
    """Start time encoded in a segment's directory and file name (".part" allowed), else None."""
    m = NAME.match(path.name.removesuffix(PART))
    if not m:
        return None
    try:
        day = datetime.strptime(path.parent.name, "%Y-%m-%d")
    except ValueError:
        return None
    hh, mm, ss, ms = (int(g) for g in m.groups())
    return day.replace(hour=hh, minute=mm, second=ss, microsecond=ms * 1000, tzinfo=UTC)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class _Open:
    """The segment being written."""

    container: av.container.OutputContainer
    stream: av.video.stream.VideoStream
    rel: str
    final: Path
    part: Path
    start: datetime
    last_at: datetime
    last_duration: timedelta
    keyframes: int = 0


class SegmentRecorder:
    """Cuts one camera's packets into segments. One connection = start(), write()..., finish()."""

    def __init__(
        self,
        root: Path,
        camera_id: int,
        *,
        segment_seconds: float = 10.0,
        max_seconds: float = 60.0,
        on_segment: Callable[[SegmentInfo], None] | None = None,
    ) -> None:
        if not 0 < segment_seconds <= max_seconds:
            raise ValueError("need 0 < segment_seconds <= max_seconds")
        self.root = Path(root)
        self.camera_id = camera_id
        self.segment_seconds = timedelta(seconds=segment_seconds)
        self.max_seconds = timedelta(seconds=max_seconds)
        self.on_segment = on_segment
        self.bytes_written = 0  # packet payload, for bitrate stats
        self.packets_skipped = 0  # before the first keyframe, without timestamps, or rejected
        self._template: av.video.stream.VideoStream | None = None
        self._seg: _Open | None = None
        self._last_dts: int | None = None  # output timeline of this connection (input time base)
        self._offset = 0  # shifts input timestamps to keep that timeline increasing
        self._frame = timedelta(seconds=0.04)

    def start(self, template: av.video.stream.VideoStream) -> None:
        """Begin a connection whose packets come from `template`'s stream."""
        try:
            self.finish()
        finally:
            self._template = template
            self._last_dts = None
            self._offset = 0
            rate = template.average_rate or template.guessed_rate
            self._frame = timedelta(seconds=float(1 / rate) if rate else 0.04)

    def write(self, info: PacketInfo) -> None:
        """Record one packet (stream copy); raises RecorderError when the disk fails."""
        if self._template is None:
            raise RuntimeError("SegmentRecorder.start() first")
        pkt = info.packet
        if pkt.size == 0:
            return
        dts = pkt.dts if pkt.dts is not None else pkt.pts
        if dts is None:  # e.g. the first RTSP packet: nowhere to put it on the timeline
            self.packets_skipped += 1
            return
        seg = self._seg
        if seg is None:
            if not info.keyframe:  # a recording (connection, or after an error) starts on one
                self.packets_skipped += 1
                return
            seg = self._open(info.at)
        else:
            length = info.at - seg.start
            if (info.keyframe and length >= self.segment_seconds) or length >= self.max_seconds:
                # Past max_seconds without a keyframe we cut anyway: a camera that (almost) never
                # sends one must not grow one endless file; the next segment then starts mid-GOP.
                self._close(end=info.at)
                seg = self._open(info.at)

        out = self._copy(pkt, dts)
        try:
            seg.container.mux(out)
        except OSError as exc:
            self._fail(exc, seg)
        except (av.error.ArgumentError, ValueError):
            self.packets_skipped += 1  # one packet the muxer will not take; keep the segment
            return
        self.bytes_written += pkt.size
        seg.keyframes += info.keyframe
        seg.last_at = info.at
        if pkt.duration:
            seg.last_duration = timedelta(seconds=float(pkt.duration * pkt.time_base))

    def _copy(self, pkt: av.Packet, dts: int) -> av.Packet:
        """A copy of the packet on this connection's increasing timeline.

        The caller's packet is left alone: muxing rebases timestamps in place and the same packet
        may still go to the decoder. Duplicate/backward dts (seen from real cameras) are nudged
        by one tick, larger jumps back (timestamp reset) shift the timeline so nothing is dropped.
        """
        pts = pkt.pts if pkt.pts is not None else dts
        shift = self._offset
        if self._last_dts is not None and dts + shift <= self._last_dts:
            back = self._last_dts - (dts + shift)
            tb = pkt.time_base or Fraction(1, 90000)
            if back * tb > 1:  # a reset, not jitter: continue one frame later
                frame = round(self._frame.total_seconds() / tb)
                self._offset = shift = self._last_dts + max(1, frame) - dts
            else:
                shift = self._last_dts + 1 - dts
        out = av.Packet(bytes(pkt))
        out.time_base = pkt.time_base
        out.dts = dts + shift
        out.pts = max(pts + shift, out.dts)
        out.duration = pkt.duration or 0
        out.is_keyframe = pkt.is_keyframe
        assert self._seg is not None
        out.stream = self._seg.stream
        self._last_dts = out.dts
        return out

    def finish(self) -> SegmentInfo | None:
        """Close the current segment (end of connection, shutdown); None if none was open."""
        seg = self._seg
        if seg is None:
            return None
        return self._close(end=seg.last_at + seg.last_duration)

    # -- files -------------------------------------------------------------------------------

    def _open(self, at: datetime) -> _Open:
        assert self._template is not None
        rel = segment_path(self.camera_id, at)
        final = self.root / rel
        while final.exists() or final.with_name(final.name + PART).exists():
            # same millisecond as an existing segment (clock re-anchored): never overwrite
            at_name = parse_segment_start(final)
            assert at_name is not None
            rel = segment_path(self.camera_id, at_name + timedelta(milliseconds=1))
            final = self.root / rel
        part = final.with_name(final.name + PART)
        container = None
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            container = av.open(str(part), "w", format="mpegts")
            stream = container.add_stream_from_template(self._template)
        except OSError as exc:
            if container is not None:
                self._discard(container, part)
            raise self._error(exc, part) from exc
        self._seg = _Open(container, stream, rel, final, part, at, at, self._frame)
        return self._seg

    def _close(self, end: datetime) -> SegmentInfo:
        seg = self._seg
        assert seg is not None
        try:
            seg.container.close()
            _fsync(seg.part)
            os.rename(seg.part, seg.final)
            _fsync(seg.final.parent)
            size = seg.final.stat().st_size
        except OSError as exc:
            self._fail(exc, seg)
        self._seg = None
        info = SegmentInfo(self.camera_id, seg.start, end, seg.rel, size, seg.keyframes)
        if self.on_segment is not None:
            self.on_segment(info)
        return info

    def _fail(self, exc: OSError, seg: _Open) -> NoReturn:
        """Drop the segment being written and raise; the next keyframe may start a new one."""
        self._seg = None
        self._discard(seg.container, seg.part)
        raise self._error(exc, seg.part) from exc

    @staticmethod
    def _discard(container: av.container.OutputContainer, part: Path) -> None:
        with contextlib.suppress(OSError, av.FFmpegError):  # the disk is failing already
            container.close()
        part.unlink(missing_ok=True)

    @staticmethod
    def _error(exc: OSError, path: Path) -> RecorderError:
        detail = exc.strerror or type(exc).__name__
        if exc.errno in FULL_ERRNOS:
            return RecorderError("disk_full", f"disk full writing {path}: {detail}")
        return RecorderError("io_error", f"cannot write {path}: {detail}")


@dataclass
class Recovery:
    path: str  # relative to the recordings root, as found (".ts.part")
    action: str  # "repaired" | "discarded"
    detail: str
    segment: SegmentInfo | None


def recover(root: Path, camera_id: int) -> list[Recovery]:
    """Finish or remove the ".ts.part" files a crash or power cut left for this camera.

    Run at worker start, before recording. A readable file with a keyframe keeps every whole
    frame and becomes a normal segment (recovered=True); anything else is deleted.
    """
    root = Path(root)
    done = []
    for part in sorted((root / str(camera_id)).rglob(f"*.ts{PART}")):
        rel = part.relative_to(root).as_posix()
        try:
            segment, detail = _repair(root, camera_id, part)
        except (OSError, av.FFmpegError) as exc:
            segment, detail = None, f"unreadable: {getattr(exc, 'strerror', None) or exc}"
        if segment is None:
            part.unlink(missing_ok=True)
            done.append(Recovery(rel, "discarded", detail, None))
        else:
            done.append(Recovery(rel, "repaired", detail, segment))
    return done


def _repair(root: Path, camera_id: int, part: Path) -> tuple[SegmentInfo | None, str]:
    start = parse_segment_start(part)
    if start is None:
        return None, "name does not encode a start time"
    final = part.with_name(part.name.removesuffix(PART))
    if final.exists():
        return None, f"{final.name} already exists"
    size = part.stat().st_size
    if size == 0:
        return None, "empty"
    # (byte position, dts, duration, keyframe) of every video packet
    packets: list[tuple[int, int, int, bool]] = []
    with av.open(str(part), format="mpegts") as container:
        if not container.streams.video:
            return None, "no video stream"
        stream = container.streams.video[0]
        tb = stream.time_base or Fraction(1, 90000)
        try:
            for pkt in container.demux(stream):
                if pkt.size and pkt.pos is not None and pkt.dts is not None:
                    packets.append((pkt.pos, pkt.dts, pkt.duration or 0, pkt.is_keyframe))
        except av.FFmpegError:
            pass  # damaged tail: keep what came before
    # A video PES carries no length, so a frame cut short by the crash looks like a whole one:
    # drop the last frame (40 ms) and cut the file where it began, on a TS packet boundary.
    whole = packets[:-1]
    if not any(key for _, _, _, key in whole):
        return None, "no complete keyframe"
    cut = packets[-1][0]
    cut -= cut % TS_PACKET
    with open(part, "r+b") as f:
        f.truncate(cut)
        os.fsync(f.fileno())
    os.rename(part, final)
    first, last = whole[0], whole[-1]
    duration = last[2] or round(0.04 / tb)
    end = start + timedelta(seconds=float((last[1] - first[1] + duration) * tb))
    keyframes = sum(key for _, _, _, key in whole)
    segment = SegmentInfo(
        camera_id,
        start,
        end,
        final.relative_to(root).as_posix(),
        cut,
        keyframes,
        recovered=True,
    )
    return segment, f"kept {len(whole)} frames ({size - cut} bytes cut)"
