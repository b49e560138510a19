"""Evidence clips: recorded segments remuxed into one MP4 (no re-encode), with a SHA-256.

Stream copy keeps the camera's own pictures bit for bit, which is what makes a clip usable as
evidence, and it is fast. The price: a clip can only start on a keyframe, so it starts at the
keyframe at or before the requested time, and the manifest records that actual start.

Timing: each MPEG-TS segment keeps the timestamps the camera gave it, which need not continue from
one file to the next (reconnects, recorder restarts). The clip's timeline is therefore rebuilt
from wall time: a packet's time in the MP4 is its wall-clock time minus the clip's actual start,
so a position in the clip maps straight to a time of day, and a gap in the recording stays a gap
(the last frame before it stays on screen) instead of being silently spliced shut.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av

log = logging.getLogger(__name__)

CLIP_TIME_BASE = Fraction(1, 90000)


class ExportError(Exception):
    """Nothing could be exported (no readable video in the range)."""


@dataclass(frozen=True)
class ClipPart:
    """One recorded file and the wall-clock time of its first packet."""

    path: Path
    start: datetime
    end: datetime


@dataclass
class ClipResult:
    path: Path
    bytes: int
    sha256: str
    first_pts_time: datetime  # wall time of the first frame in the clip (a keyframe)
    last_time: datetime  # wall time at which the last frame ends
    frames: int
    codec: str = ""
    width: int = 0
    height: int = 0
    used: list[ClipPart] = field(default_factory=list)
    skipped: list[tuple[ClipPart, str]] = field(default_factory=list)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256, read in chunks so a multi-gigabyte clip never sits in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class _Packet:
    packet: av.Packet
    wall: datetime  # when this frame is shown
    duration: timedelta


def _packets(
    container: av.container.InputContainer, stream: av.VideoStream, part: ClipPart
) -> Iterator[_Packet]:
    """Video packets of one file with their wall-clock times (decode order)."""
    tb = stream.time_base or CLIP_TIME_BASE
    rate = stream.average_rate or stream.guessed_rate
    default = timedelta(seconds=float(1 / rate)) if rate else timedelta(milliseconds=40)
    first: int | None = None
    for packet in container.demux(stream):
        if packet.dts is None or packet.pts is None:
            continue  # the demuxer's flush packet, or a packet without timing
        if first is None:
            first = packet.pts
        wall = part.start + timedelta(seconds=float((packet.pts - first) * tb))
        dur = timedelta(seconds=float(packet.duration * tb)) if packet.duration else default
        yield _Packet(packet, wall, dur)


def _from_keyframe(items: list[_Packet], start: datetime) -> list[_Packet]:
    """From the last keyframe at or before `start`, else from the first keyframe."""
    keys = [i for i, item in enumerate(items) if item.packet.is_keyframe]
    if not keys:
        return []
    before = [i for i in keys if items[i].wall <= start]
    return items[before[-1] if before else keys[0] :]


def export_clip(
    parts: Sequence[ClipPart], start: datetime, end: datetime, out_path: Path
) -> ClipResult:
    """Remux the video of `parts` (ordered by start) between `start` and `end` into one MP4.

    A part that cannot be read (deleted, truncated) is skipped and reported, not fatal: the rest
    of the evidence is still worth having. Audio is not exported (the recorder keeps video only).
    """
    parts = sorted(parts, key=lambda p: p.start)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    result = ClipResult(
        path=out_path, bytes=0, sha256="", first_pts_time=start, last_time=start, frames=0
    )
    output = av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"})
    out_stream = None
    origin: datetime | None = None
    last_dts = -1
    try:
        for part in parts:
            if part.end <= start or part.start >= end:
                continue
            try:
                # the input stays open while its packets are muxed: they and the stream
                # template point into its memory
                with av.open(str(part.path)) as container:
                    in_stream = container.streams.video[0]
                    items: Iterable[_Packet] = _packets(container, in_stream, part)
                    if origin is None:
                        items = _from_keyframe(list(items), start)
                    tb = in_stream.time_base or CLIP_TIME_BASE
                    shift = 0  # ticks added to this part so decode order never goes backwards
                    wrote = False
                    for item in items:
                        if item.wall >= end:
                            break
                        if out_stream is None:
                            out_stream = output.add_stream_from_template(in_stream)
                            ctx = in_stream.codec_context
                            if ctx.name == "hevc":  # QuickTime and iOS open only "hvc1" H.265
                                out_stream.codec_context.codec_tag = "hvc1"
                            result.codec, result.width = ctx.name, ctx.width
                            result.height = ctx.height
                        if origin is None:
                            origin = item.wall
                            result.first_pts_time = origin
                        p = item.packet
                        pts = _ticks(item.wall - origin)
                        dts = pts - round((p.pts - p.dts) * tb / CLIP_TIME_BASE)
                        if not wrote and dts + shift <= last_dts:
                            shift = last_dts + 1 - dts
                        p.pts, p.dts = pts + shift, dts + shift
                        p.time_base = CLIP_TIME_BASE
                        p.duration = _ticks(item.duration)
                        p.stream = out_stream
                        output.mux(p)
                        last_dts = p.dts
                        result.frames += 1
                        result.last_time = max(result.last_time, item.wall + item.duration)
                        wrote = True
                if wrote:
                    result.used.append(part)
            except (av.FFmpegError, OSError, IndexError) as exc:
                log.warning("export: skipping %s: %s", part.path, exc)
                result.skipped.append((part, str(exc)))
    finally:
        try:
            output.close()
        except av.FFmpegError:
            if result.frames:
                raise
    if not result.frames:
        tmp.unlink(missing_ok=True)
        raise ExportError("no readable video in the requested range")
    tmp.replace(out_path)
    result.bytes = out_path.stat().st_size
    result.sha256 = sha256_file(out_path)
    return result


def _ticks(delta: timedelta) -> int:
    return round(Fraction(delta // timedelta(microseconds=1), 1_000_000) / CLIP_TIME_BASE)
