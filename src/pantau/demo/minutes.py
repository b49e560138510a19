"""The simulator's plan of an office turned into what a perfect camera pipeline would store.

`World.day()` says who was in the room when, when the lights were on, when the lens was
covered and when the camera or the whole site was down. `camera_minutes` folds that into one
row per minute, as the live workers write them: people counted (max and mean), lights, light
level, IR, tamper flags, seconds of video seen; and the health sample of the same minute.
Vectorised over the minutes (numpy), so a month of 65 offices takes seconds, not the hours a
rendered-and-analysed month would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from pantau.sim.world import World

MINUTE = timedelta(minutes=1)
# The simulator's tamper kinds as the vision code names them (pantau.pipeline.observe).
TAMPER_FLAGS = {
    "cover": "covered",
    "wall": "moved",
    "defocus": "defocused",
    "blackout": "video_loss",
}
REASON_SITE = "kamera tidak dapat dihubungi (host/port tidak menjawab) — simulasi"
REASON_CAMERA = "tidak ada data video (stream macet) — simulasi"


@dataclass
class CameraMinutes:
    """Per-minute facts of one camera over [start, start + n minutes)."""

    start: datetime
    n: int
    people_max: np.ndarray  # int
    people_mean: np.ndarray  # float
    lights_on: np.ndarray  # bool
    light_level: np.ndarray  # float
    ir_mode: np.ndarray  # bool
    tamper: list[str | None]  # tamper flag name per minute
    coverage: np.ndarray  # seconds of video in the minute (0..60)
    offline_reason: list[str | None]  # why there was no video, per minute

    def minute(self, i: int) -> datetime:
        return self.start + i * MINUTE


def _seconds(acc: np.ndarray, start: datetime, a: datetime, b: datetime) -> tuple[int, int]:
    """Add the seconds [a, b) covers of each minute to `acc`; returns the minute range hit."""
    n = acc.shape[0]
    s = max(0.0, (a - start).total_seconds())
    e = min(n * 60.0, (b - start).total_seconds())
    if e <= s:
        return 0, 0
    i0, i1 = int(s // 60), int(-(-e // 60))
    acc[i0:i1] += 60.0
    acc[i0] -= s - i0 * 60.0
    acc[i1 - 1] -= i1 * 60.0 - e
    return i0, i1


def camera_minutes(world: World, view: str, start: datetime, n: int) -> CameraMinutes:
    """Fold the world's plans of every local day touching [start, start + n min) into minutes."""
    end = start + n * MINUTE
    first = (start.astimezone(world.zone) - timedelta(days=1)).date()
    last = end.astimezone(world.zone).date()
    plans = [world.day(first + timedelta(days=k))[0] for k in range((last - first).days + 1)]

    people = np.zeros(n, dtype=np.int64)
    occupied = np.zeros(n)
    lit = np.zeros(n)
    covered = np.zeros(n)
    site_down = np.zeros(n)
    cam_down = np.zeros(n)
    tamper: list[str | None] = [None] * n
    for plan in plans:
        for v in plan.visits:
            if view in v.views:
                i0, i1 = _seconds(occupied, start, v.enter, v.leave)
                people[i0:i1] += 1
        for i in plan.lights:
            _seconds(lit, start, i.start, i.end)
        for i in plan.tamper:
            if i.view in (None, view):
                before = covered.copy()
                i0, i1 = _seconds(covered, start, i.start, i.end)
                flag = TAMPER_FLAGS.get(i.kind, "covered")
                for k in range(i0, i1):
                    if covered[k] - before[k] >= 30:
                        tamper[k] = flag
        for i in plan.outages:
            if i.view in (None, view):
                _seconds(site_down if i.view is None else cam_down, start, i.start, i.end)

    down = np.minimum(60.0, site_down + cam_down)
    coverage = np.round(60.0 - down, 1)
    flagged = np.array([t is not None for t in tamper], dtype=bool)
    people = np.where(flagged, 0, people)  # a covered or turned camera sees nobody
    lights_on = lit >= 30
    local = start.astimezone(world.zone)
    hours = ((local.hour * 60 + local.minute + np.arange(n)) % 1440) // 60
    daylight = (hours >= 6) & (hours < 18)
    light_level = np.where(lights_on, 168.0, np.where(daylight, 74.0, 9.0))
    light_level = np.where(flagged, 3.0, light_level)
    reasons: list[str | None] = [None] * n
    for k in np.flatnonzero(down >= 30):
        reasons[k] = REASON_SITE if site_down[k] >= cam_down[k] else REASON_CAMERA
    return CameraMinutes(
        start=start,
        n=n,
        people_max=people,
        people_mean=np.where(flagged, 0.0, np.round(occupied / 60.0, 3)),
        lights_on=lights_on,
        light_level=light_level,
        ir_mode=~lights_on & ~daylight,
        tamper=tamper,
        coverage=coverage,
        offline_reason=reasons,
    )
