"""Stream time to wall-clock time, once per connection (see docs/time.md).

A camera's RTP/PTS timestamps start anywhere and wrap; its own clock may be wrong. We anchor the
first packet of a connection to the receiver's UTC clock and from then on advance by the stream's
own timestamps, which are smooth. Wall time is kept monotonic across a connection so a
backwards PTS jump (camera reboot mid-stream, wrap) never produces time going back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction


class StreamClock:
    """Maps packet timestamps (in `time_base` units) to aware UTC datetimes."""

    MAX_DRIFT = timedelta(seconds=10)

    def __init__(self, time_base: Fraction, anchor_wall: datetime) -> None:
        if anchor_wall.tzinfo is None:
            raise ValueError("anchor_wall must be time-zone aware")
        self.time_base = time_base
        self.anchor_wall = anchor_wall.astimezone(UTC)
        self.anchor_ts: int | None = None
        self.last: datetime | None = None
        self.jumps = 0

    def wall(self, ts: int | None, received: datetime | None = None) -> datetime:
        """UTC time of a packet.

        `received` (live streams only) is when the packet arrived; if the stream's own time runs
        more than MAX_DRIFT away from it (a PTS jump or wrap, a camera reboot), we re-anchor there.
        Files pass no `received`: their timestamps are trusted, but time never runs backwards.
        """
        if ts is None:
            return self.last or self.anchor_wall
        if self.anchor_ts is None:
            self.anchor_ts = ts
        at = self.anchor_wall + timedelta(seconds=float((ts - self.anchor_ts) * self.time_base))
        backwards = self.last is not None and at < self.last
        drifted = received is not None and abs(at - received) > self.MAX_DRIFT
        if backwards or drifted:
            self.jumps += 1
            base = received if received is not None else self.last
            assert base is not None
            if self.last is not None and base < self.last:
                base = self.last
            self.anchor_wall, self.anchor_ts = base, ts
            at = base
        self.last = at
        return at
