"""HLS VOD playlists over recorded MPEG-TS segments, and the gaps between them.

The recorder cuts a camera's stream into MPEG-TS files that HLS players can fetch as they are, so
playback needs no transcoding: a playlist is just text listing the segments. A hole in the
recording (camera offline, disk full) is marked with EXT-X-DISCONTINUITY and every segment carries
its wall-clock time (EXT-X-PROGRAM-DATE-TIME), so players show the jump instead of splicing the
two sides together as if nothing were missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

GAP_TOLERANCE = timedelta(seconds=1)


class Timed(Protocol):
    """Anything with a UTC start and end: a Segment row, a SegmentInfo, a test stand-in."""

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


S = TypeVar("S", bound=Timed)


def iso_ms(at: datetime) -> str:
    """UTC with milliseconds and "Z", the form EXT-X-PROGRAM-DATE-TIME and the API use."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def overlapping(segments: Iterable[S], start: datetime, end: datetime) -> list[S]:
    """Segments that share any time with [start, end), ordered by start."""
    return sorted((s for s in segments if s.start < end and s.end > start), key=lambda s: s.start)


def gaps(
    segments: Iterable[Timed],
    start: datetime,
    end: datetime,
    tolerance: timedelta = GAP_TOLERANCE,
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) no segment covers, longer than `tolerance`.

    Segment boundaries never line up to the microsecond (the next file starts at the next
    keyframe's wall time), so holes up to `tolerance` are treated as continuous recording.
    """
    missing: list[tuple[datetime, datetime]] = []
    cursor = start
    for seg in overlapping(segments, start, end):
        if seg.start - cursor > tolerance:
            missing.append((cursor, seg.start))
        cursor = max(cursor, seg.end)
    if end - cursor > tolerance:
        missing.append((cursor, end))
    return missing


def build_playlist(
    segments: Sequence[S],
    uri_for: Callable[[S], str],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    tolerance: timedelta = GAP_TOLERANCE,
) -> str:
    """An HLS VOD playlist of the segments overlapping [start, end).

    Whole segments are listed (a player cannot cut inside one); when `start` falls inside the first
    segment, EXT-X-START asks the player to begin at the requested moment. A segment that does not
    begin where the previous one ended (more than `tolerance` later) gets EXT-X-DISCONTINUITY,
    which also tells the player that the stream timestamps jump there.
    """
    lo = start or datetime.min.replace(tzinfo=UTC)
    hi = end or datetime.max.replace(tzinfo=UTC)
    chosen = overlapping(segments, lo, hi)
    durations = [max((s.end - s.start).total_seconds(), 0.001) for s in chosen]
    target = max((math.ceil(d) for d in durations), default=1)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
    ]
    if chosen and start is not None and start > chosen[0].start:
        offset = (start - chosen[0].start).total_seconds()
        lines.append(f"#EXT-X-START:TIME-OFFSET={offset:.3f},PRECISE=YES")
    previous: Timed | None = None
    for seg, duration in zip(chosen, durations, strict=True):
        if previous is not None and seg.start - previous.end > tolerance:
            lines.append("#EXT-X-DISCONTINUITY")
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{iso_ms(seg.start)}")
        lines.append(f"#EXTINF:{duration:.3f},")
        lines.append(uri_for(seg))
        previous = seg
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
