"""Motion: which part of a small grey frame differs from a slowly learned background.

Pure and per camera: the background is learned only from the frames and the capture times
handed in (`at`), never from the clock, so a file analysed at 500x gives the answers a live
camera gave. A sudden global change (lights switched, the camera flipping to infrared, an
exposure jump) is reported as a lighting event, not as motion, and the background is re-seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from pantau.vision.zones import Box, check_grey, fit_mask

GREY_WIDTH = 320


@dataclass(frozen=True, slots=True)
class MotionResult:
    """Moving fraction of the watched area and the boxes of moving blobs (grey-frame pixels)."""

    fraction: float
    boxes: list[Box] = field(default_factory=list)
    lighting_change: bool = False
    """The whole picture jumped (fraction is 0 then), or lamps changed >= `local_light` of it."""
    size: tuple[int, int] = (0, 0)
    """(width, height) of the frame the boxes are in, for `boxes_scaled`."""


class MotionDetector:
    """Running-average background subtraction on a ~320 px grey frame, one per camera.

    `learn_rate` is the share of the background replaced per second of frame time, so the
    model behaves the same at 1 fps or one keyframe every 4 s. Pixels that are moving learn
    `learn_rate * foreground_rate` (someone who sits down fades into the background in minutes,
    not seconds). The difference threshold adapts to the frame's own noise (never below
    `threshold`), which is what keeps sensor and infrared noise out.
    """

    def __init__(
        self,
        mask: np.ndarray | None = None,
        learn_rate: float = 0.05,
        threshold: float = 18.0,
        min_area_fraction: float = 0.0008,
        *,
        width: int | None = GREY_WIDTH,
        merge_distance: int = 8,
        foreground_rate: float = 0.25,
        noise_factor: float = 5.0,
        lighting_jump: float = 0.2,
        global_fraction: float = 0.6,
        seed_frames: int = 7,
        relit_correlation: float = 0.95,
        static_seconds: float = 10.0,
        local_light: float = 0.02,
    ) -> None:
        if not 0.0 < learn_rate < 1.0:
            raise ValueError(f"learn_rate must be in (0, 1) per second, got {learn_rate}")
        if threshold <= 0:
            raise ValueError(f"threshold must be > 0 grey levels, got {threshold}")
        if not 0.0 <= min_area_fraction < 1.0:
            raise ValueError(f"min_area_fraction must be in [0, 1), got {min_area_fraction}")
        if not 0.0 < global_fraction <= 1.0:
            raise ValueError(f"global_fraction must be in (0, 1], got {global_fraction}")
        self.learn_rate = learn_rate
        self.threshold = float(threshold)
        self.min_area_fraction = min_area_fraction
        self.width = width
        self.merge_distance = max(0, int(merge_distance))
        self.foreground_rate = foreground_rate
        self.noise_factor = noise_factor
        self.lighting_jump = lighting_jump
        self.global_fraction = global_fraction
        self.seed_frames = max(1, int(seed_frames))
        self.relit_correlation = relit_correlation
        self.static_seconds = static_seconds
        self.local_light = local_light
        self._mask_given = None if mask is None else np.asarray(mask).astype(bool)
        if self._mask_given is not None:
            fit_mask(self._mask_given, *self._mask_given.shape[::-1])  # refuse an empty mask
        self._blur = (5, 5)
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self._grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
        self.reset()

    def reset(self) -> None:
        """Forget the background (the next frame seeds a new one)."""
        self._bg: np.ndarray | None = None
        self._shape: tuple[int, int] | None = None
        self._mask: np.ndarray | None = None
        self._mask_u8: np.ndarray | None = None
        self._last_at: datetime | None = None
        self._stack: list[np.ndarray] = []  # frames since the background was (re)seeded
        self._prev: np.ndarray | None = None
        self._still: np.ndarray | None = None  # seconds each changed pixel has held still

    def _start(self, shape: tuple[int, int]) -> None:
        h, w = shape
        self.reset()
        self._shape = shape
        self._mask = fit_mask(self._mask_given, w, h, "motion mask")
        self._mask_u8 = None if self._mask is None else self._mask.astype(np.uint8) * 255

    def update(self, grey: np.ndarray, at: datetime) -> MotionResult:
        """Feed one frame captured at `at`; returns the motion in it."""
        frame = check_grey(grey, self.width, "motion: grey frame")
        h, w = frame.shape
        if self._shape != (h, w):  # first frame, or the stream changed resolution
            self._start((h, w))
        blurred = cv2.GaussianBlur(frame, self._blur, 0).astype(np.float32)
        last, self._last_at = self._last_at, at
        if self._bg is None or last is None or at < last:  # seed (also when time went back)
            self._seed(blurred)
            return MotionResult(0.0, [], False, (w, h))
        dt = max((at - last).total_seconds(), 0.04)
        alpha = 1.0 - (1.0 - self.learn_rate) ** dt
        seeding = len(self._stack) < self.seed_frames
        if seeding:
            # The background starts as the per-pixel median of the first frames: a person who
            # walks through the seed frame leaves no ghost, and the exposure settling after a
            # lighting switch is absorbed.
            self._stack.append(blurred)
            self._bg = np.median(np.stack(self._stack), axis=0).astype(np.float32)

        sample = (slice(None, None, 4), slice(None, None, 4))
        watched = None if self._mask is None else self._mask[sample]
        med_now = _median(blurred[sample], watched)
        med_bg = _median(self._bg[sample], watched)
        if abs(med_now - med_bg) > max(12.0, self.lighting_jump * max(med_now, med_bg)):
            return self._lighting(blurred, w, h)

        # small exposure drifts (a person entering changes the auto-exposure) are divided out
        gain = float(np.clip((med_now + 1.0) / (med_bg + 1.0), 0.8, 1.25))
        diff = cv2.absdiff(blurred, self._bg * gain if gain != 1.0 else self._bg)
        noise = _median(diff[sample], watched) / 0.6745
        thr = max(self.threshold, self.noise_factor * noise)
        fg = cv2.threshold(diff, thr, 255, cv2.THRESH_BINARY)[1].astype(np.uint8)
        if self._mask_u8 is not None:
            fg = cv2.bitwise_and(fg, self._mask_u8)
        area = float(np.count_nonzero(self._mask)) if self._mask is not None else float(h * w)
        if np.count_nonzero(fg) > self.global_fraction * area:
            return self._lighting(blurred, w, h)

        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, self._open)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        min_px = max(4.0, self.min_area_fraction * area)
        moving = 0.0
        lit = 0.0
        found: list[Box] = []
        for i in range(1, n):
            px = float(stats[i, cv2.CC_STAT_AREA])
            if px < min_px:
                continue
            x, y = int(stats[i, cv2.CC_STAT_LEFT]), int(stats[i, cv2.CC_STAT_TOP])
            box = (
                x,
                y,
                x + int(stats[i, cv2.CC_STAT_WIDTH]),
                y + int(stats[i, cv2.CC_STAT_HEIGHT]),
            )
            relit = None if seeding else self._relit(blurred, box, labels, i)
            if relit is not None:
                # a lamp switched on or off here: same texture, other brightness -> learn it now
                x0, y0, x1, y1 = box
                self._bg[y0:y1, x0:x1][relit] = blurred[y0:y1, x0:x1][relit]
                fg[y0:y1, x0:x1][relit] = 0
                lit += px
                continue
            moving += px
            found.append(box)
        boxes = merge_boxes(found, self.merge_distance)

        if not seeding:
            # learn: the background at full rate, the moving part (grown a little) slower
            moving_mask = cv2.dilate(fg, self._grow)
            cv2.accumulateWeighted(blurred, self._bg, alpha, mask=cv2.bitwise_not(moving_mask))
            cv2.accumulateWeighted(
                blurred, self._bg, alpha * self.foreground_rate, mask=moving_mask
            )
            self._absorb_still(blurred, moving_mask, thr, dt)
        self._prev = blurred
        return MotionResult(moving / area, boxes, lit >= self.local_light * area, (w, h))

    def _relit(
        self, blurred: np.ndarray, box: Box, labels: np.ndarray, label: int
    ) -> np.ndarray | None:
        """The region's mask (within `box`) if a changed region kept its texture (a lamp,
        sunlight through a door) rather than gaining an object: over the changed pixels, now and
        background correlate up to gain and offset. A person over the floor fails: the floor
        under them had little texture of its own, or not theirs."""
        x0, y0, x1, y1 = box
        inside = labels[y0:y1, x0:x1] == label
        if np.count_nonzero(inside) < 0.005 * labels.size:  # lamps light large areas
            return None
        now = blurred[y0:y1, x0:x1][inside]
        before = self._bg[y0:y1, x0:x1][inside]
        if float(before.std()) < 6.0 or float(now.std()) < 6.0:
            return None  # a flat patch has no texture to compare
        ncc = float(np.corrcoef(now, before)[0, 1])
        return inside if ncc >= self.relit_correlation else None

    def _absorb_still(self, blurred: np.ndarray, moving: np.ndarray, thr: float, dt: float) -> None:
        """Changed pixels that have not changed between frames for `static_seconds` (a window lit
        from inside, a parked cart, someone asleep at a desk) become background: they are no
        longer *moving*."""
        if self._prev is None or self._still is None:
            self._still = np.zeros(blurred.shape, np.float32)
            return
        steady = cv2.absdiff(blurred, self._prev) < thr * 0.5
        held = steady & (moving > 0)
        self._still[held] += dt
        self._still[~held] = 0.0
        done = self._still >= self.static_seconds
        if done.any():
            self._bg[done] = blurred[done]
            self._still[done] = 0.0

    def _seed(self, blurred: np.ndarray) -> None:
        self._bg = blurred
        self._stack = [blurred]
        self._prev = blurred
        self._still = None

    def _lighting(self, blurred: np.ndarray, w: int, h: int) -> MotionResult:
        self._seed(blurred)
        return MotionResult(0.0, [], True, (w, h))


def _median(values: np.ndarray, mask: np.ndarray | None) -> float:
    return float(np.median(values if mask is None else values[mask]))


def merge_boxes(boxes: Sequence[Box], distance: int) -> list[Box]:
    """Union boxes that overlap or lie within `distance` px of each other (a person's head,
    torso and legs often come apart in the difference image). Largest first."""
    out: list[Box] = [(int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in boxes]
    merged = True
    while merged and len(out) > 1:
        merged = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                a, b = out[i], out[j]
                if (
                    a[0] - distance <= b[2]
                    and b[0] - distance <= a[2]
                    and a[1] - distance <= b[3]
                    and b[1] - distance <= a[3]
                ):
                    out[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del out[j]
                    merged = True
                    break
            if merged:
                break
    return sorted(out, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)


def boxes_scaled(
    boxes: Sequence[Box],
    from_size: tuple[int, int],
    to_size: tuple[int, int],
    pad: float = 0.0,
) -> list[Box]:
    """Boxes from a (width, height) frame mapped onto another size of the same picture.

    `pad` grows each box by that fraction of its size on every side (clipped to the frame), so
    the pipeline can crop the 640 px frame around motion with some context for the detector.
    """
    fw, fh = from_size
    tw, th = to_size
    if min(fw, fh, tw, th) <= 0:
        raise ValueError(f"sizes must be positive, got {from_size} -> {to_size}")
    sx, sy = tw / fw, th / fh
    out: list[Box] = []
    for x0, y0, x1, y1 in boxes:
        px, py = (x1 - x0) * pad, (y1 - y0) * pad
        out.append(
            (
                max(0, int(np.floor((x0 - px) * sx))),
                max(0, int(np.floor((y0 - py) * sy))),
                min(tw, int(np.ceil((x1 + px) * sx))),
                min(th, int(np.ceil((y1 + py) * sy))),
            )
        )
    return out


__all__ = ["GREY_WIDTH", "MotionDetector", "MotionResult", "boxes_scaled", "merge_boxes"]
