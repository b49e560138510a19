"""Light: how bright the scene is, and whether the room lights are on (with hysteresis).

Pure and per camera: state comes only from the frames and their capture times. The level is the
mean grey value (0..255) of the frame or of each configured zone; the on/off state flips only
when the level has been past the far threshold for `debounce` frames in a row, so a person
walking under the camera or an exposure wobble does not toggle it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from pantau.vision.zones import Zone, check_bgr, check_grey, zone_mask

GREY_WIDTH = 320

# Calibrated on the simulated kelurahan service rooms (12 offices, a day each, 15 min steps):
# lights off by day 56-99 (windows only), lights on 110-129 (day or night); under infrared the
# illuminator alone gives 50-53. Real cameras meter differently: configure per camera (a zone on
# a wall lit mainly by the ceiling fittings separates on/off best).
ON_THRESHOLD = 108.0
OFF_THRESHOLD = 100.0
IR_ON_THRESHOLD = 170.0


def is_monochrome(bgr: np.ndarray, tolerance: float = 2.5) -> bool:
    """Whether a colour frame is really grey: the camera is in infrared (night) mode.

    What separates an infrared picture from a colour one is chroma that *varies* across the
    picture, not chroma that is exactly neutral: an encoder or a camera whose grey is a little
    off (chroma at 127 instead of 128 gives every pixel a channel spread of 3) still sends a
    grey picture. So the measure is how far the two chroma channels (YCrCb) stray from their
    medians, mean absolute deviation summed, on a copy at most 160 px wide (which also
    averages away compression noise): 0.05 for the simulator's infrared frames after H.264,
    8 or more for its colour frames from dawn to dusk. It grows with the coloured *area*, so a
    green EXIT sign or an LED in the infrared picture (1-2 % of it: 1.2-2.3) leaves it grey,
    where a standard deviation would already call it colour.
    """
    frame = check_bgr(bgr, None, "is_monochrome: colour frame")
    h, w = frame.shape[:2]
    if w > 160:
        frame = cv2.resize(frame, (160, max(1, round(h * 160 / w))), interpolation=cv2.INTER_AREA)
    ycc = cv2.cvtColor(frame, cv2.COLOR_BGR2YCrCb)
    deviation = 0.0
    for c in (ycc[..., 1], ycc[..., 2]):
        deviation += float(np.mean(np.abs(c.astype(np.int16) - int(np.median(c)))))
    return deviation < tolerance


@dataclass(frozen=True, slots=True)
class ZoneLight:
    level: float
    lights_on: bool
    changed: bool = False


@dataclass(frozen=True, slots=True)
class LightResult:
    """`level`: mean grey of the watched area (all zones together, or the whole frame)."""

    level: float
    lights_on: bool
    changed: bool
    infrared: bool | None = None
    since: datetime | None = None
    """When the current state began (first frame of the run that flipped it); None = from the
    start."""
    per_zone: dict[str, ZoneLight] = field(default_factory=dict)


class _Switch:
    """One on/off state with hysteresis and a debounce counted in frames."""

    def __init__(self, debounce: int) -> None:
        self.debounce = debounce
        self.state: bool | None = None
        self.since: datetime | None = None
        self._run = 0
        self._run_start: datetime | None = None

    def step(self, level: float, on: float, off: float, at: datetime) -> bool:
        """Feed one level; returns True when the state flipped on this frame."""
        if self.state is None:  # first frame: no history, take the nearer side
            self.state = level >= (on + off) / 2.0
            return False
        wants_flip = (level <= off) if self.state else (level >= on)
        if not wants_flip:
            self._run = 0
            return False
        if self._run == 0:
            self._run_start = at
        self._run += 1
        if self._run < self.debounce:
            return False
        self.state = not self.state
        self.since = self._run_start
        self._run = 0
        return True


class LightMeter:
    """Scene brightness and lights on/off, for the whole frame or per zone.

    With zones, `lights_on` is true when any zone's lights are on (an office with the lights on
    in one room is open) and `level` is the mean over all zones together. Under infrared
    (`bgr` given and grey, or `infrared=True`) the camera's own illuminator brightens the
    picture, so a zone counts as lit only above `ir_on_threshold`.
    """

    def __init__(
        self,
        on_threshold: float = ON_THRESHOLD,
        off_threshold: float = OFF_THRESHOLD,
        zones: Sequence[Zone] = (),
        *,
        debounce: int = 3,
        ir_on_threshold: float = IR_ON_THRESHOLD,
        width: int | None = GREY_WIDTH,
    ) -> None:
        if not 0.0 <= off_threshold < on_threshold <= 255.0:
            raise ValueError(
                "thresholds must satisfy 0 <= off_threshold < on_threshold <= 255, got "
                f"off={off_threshold}, on={on_threshold}"
            )
        if debounce < 1:
            raise ValueError(f"debounce must be >= 1 frame, got {debounce}")
        gap = on_threshold - off_threshold
        if not gap <= ir_on_threshold <= 255.0:
            raise ValueError(f"ir_on_threshold must be in [{gap}, 255], got {ir_on_threshold}")
        names = [z.name for z in zones]
        if len(set(names)) != len(names):
            raise ValueError(f"zone names must be unique, got {names}")
        self.on_threshold = float(on_threshold)
        self.off_threshold = float(off_threshold)
        self.ir_on_threshold = float(ir_on_threshold)
        self.zones = tuple(zones)
        self.debounce = debounce
        self.width = width
        self._shape: tuple[int, int] | None = None
        self._masks: dict[str, np.ndarray] = {}
        self._union: np.ndarray | None = None
        self._whole = _Switch(debounce)
        self._per_zone = {z.name: _Switch(debounce) for z in self.zones}

    def _fit(self, h: int, w: int) -> None:
        # A new stream size only changes the masks; the states carry on (same room, same lights).
        self._shape = (h, w)
        self._masks = {z.name: zone_mask(z, w, h).astype(np.uint8) * 255 for z in self.zones}
        empty = [name for name, m in self._masks.items() if not m.any()]
        if empty:
            raise ValueError(f"zone(s) {', '.join(empty)} cover no pixel of a {w}x{h} frame")
        self._union = None
        for m in self._masks.values():
            self._union = m if self._union is None else cv2.bitwise_or(self._union, m)

    def update(
        self,
        grey: np.ndarray,
        at: datetime,
        *,
        bgr: np.ndarray | None = None,
        infrared: bool | None = None,
    ) -> LightResult:
        """Feed one frame captured at `at`. `bgr` (any size) lets the meter see infrared mode."""
        frame = check_grey(grey, self.width, "light: grey frame")
        if infrared is None and bgr is not None:
            infrared = is_monochrome(bgr)
        h, w = frame.shape
        if self._shape != (h, w):
            self._fit(h, w)
        on, off = self.on_threshold, self.off_threshold
        if infrared:
            on, off = self.ir_on_threshold, self.ir_on_threshold - (on - off)

        per_zone: dict[str, ZoneLight] = {}
        for z in self.zones:
            level = float(cv2.mean(frame, mask=self._masks[z.name])[0])
            sw = self._per_zone[z.name]
            flipped = sw.step(level, on, off, at)
            per_zone[z.name] = ZoneLight(level, bool(sw.state), flipped)

        level = float(cv2.mean(frame, mask=self._union)[0])
        if self.zones:
            before = self._whole.state
            lit = any(zl.lights_on for zl in per_zone.values())
            changed = before is not None and lit != before
            if changed:
                runs = [self._per_zone[n].since for n, zl in per_zone.items() if zl.changed]
                self._whole.since = min((t for t in runs if t is not None), default=at)
            self._whole.state = lit
        else:
            changed = self._whole.step(level, on, off, at)
        return LightResult(
            level,
            bool(self._whole.state),
            changed,
            infrared,
            self._whole.since,
            per_zone,
        )


__all__ = ["LightMeter", "LightResult", "ZoneLight", "is_monochrome"]
