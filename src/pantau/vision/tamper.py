"""Tamper: lens covered or black, defocused, camera moved, and video loss.

Pure and per camera: the detector learns references of the scene from the frames handed in and
judges time only by their capture times (`at`), so a person in front of the lens for a few
seconds never raises anything and a re-analysis of old footage gives the same answers.

Three measurements on a 160 px grey copy (numbers in docs/vision.md):

- **structure** — gradient *orientations* (doubled angle, so an edge whose contrast flips from
  day to night still matches), weighted by the square root of their strength, correlated with a
  reference over shifts of up to 7 % of the frame. Any lighting of the learned view (lights off,
  dusk, infrared) scores 0.5-0.95; another view, a wall or a cloth 0.0-0.25.
- **layout** — correlation of a 40 px blurred copy, compared in place. Near 1 only for the same
  view under the same light: it picks the reference "at the same lighting".
- **sharpness** — against that reference: gradient energy over variance (so brightness does not
  matter), and whether the reference blurred by 2 px fits the frame better than the reference
  itself (sensor noise is in neither, so infrared grain does not hide a blur).

Covered = dark, low contrast and no structure left, or a flat (black, "no video") frame: a
night-dark but sharp scene keeps its structure. Defocused = same layout as a reference at the
same lighting, but blurred. Moved = the structure matches no reference, or only displaced.

References: the first frames (at least `learn_frames` over `learn_seconds`), refreshed slowly
while the view matches; a new lighting that still shows the known structure becomes another
reference the same way. Nothing is learned while a condition is seen, so a tamper never becomes
the new normal; after an intended re-aim call `relearn()`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from pantau.vision.light import is_monochrome
from pantau.vision.zones import check_bgr, check_grey

BGR_WIDTH = 640
GREY_WIDTH = 320
ANALYSIS_WIDTH = 160

FLAT_STD = 3.0  # grey levels: a black, blue "no video" or capped frame
DARK_LEVEL = 60.0
LOW_CONTRAST = 16.0
NO_STRUCTURE = 0.3  # structure match below this: not the learned view
SAME_VIEW = 0.6  # structure match above this (with the same layout): the learned view
SAME_LIGHT = 0.9  # layout match at or above this: the same view under the same light
BLURRED = 0.6  # sharpness ratio below this (same view, same light): defocused
MAX_SHIFT = 0.03  # best match displaced by more than this fraction of the width: moved
SEARCH = 0.07  # structure match searched over shifts up to this fraction of the frame
COARSE_WIDTH = 40
LAYOUT_SEARCH = 0.03  # one pixel at 40 px: the layout is compared in place
SOFTER = 2.0  # px at 160: the reference blurred this much must not fit a sharp frame better
SOFTER_FITS = 0.005  # ... by more than this much correlation, or the frame is blurred
SHARP_ENOUGH = 0.8  # only frames at least this sharp (vs the reference) refresh it
LIGHTING_STRUCTURE = 0.5  # a new lighting keeps at least this much of the known structure


@dataclass(frozen=True, slots=True)
class Flag:
    """One tamper condition.

    `active`: seen for at least `min_seconds` of frame time, and the learned view not yet back
    for `clear_seconds`. `confidence`: strength of the evidence in the latest frame, 0..1
    (0 when the latest frame does not show it). `since`: capture time of the first frame of the
    current run (also while still pending), None when the condition is not seen.
    """

    active: bool = False
    confidence: float = 0.0
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class TamperScores:
    """The measurements behind the flags, for evidence and tuning."""

    brightness: float
    contrast: float
    structure: float
    layout: float
    sharpness: float
    softer: float
    shift: float
    infrared: bool | None
    references: int


@dataclass(frozen=True, slots=True)
class TamperResult:
    """The four conditions after one frame (`video_loss` is judged by `TamperDetector.check`)."""

    covered: Flag = field(default_factory=Flag)
    defocused: Flag = field(default_factory=Flag)
    moved: Flag = field(default_factory=Flag)
    video_loss: Flag = field(default_factory=Flag)
    learning: bool = False
    """No reference of the scene yet: only black/flat frames can be judged."""
    scores: TamperScores | None = None

    @property
    def any_active(self) -> bool:
        return any(f.active for f in (self.covered, self.defocused, self.moved, self.video_loss))


def video_loss(last_frame_at: datetime | None, now: datetime, timeout: float = 10.0) -> bool:
    """Whether more than `timeout` seconds of stream time passed without a frame.

    `now` is the pipeline's time at its tick, on the same clock as the frames' `at`;
    `last_frame_at` None = never had a frame.
    """
    if last_frame_at is None:
        return True
    return (now - last_frame_at).total_seconds() > timeout


class _Timer:
    """Turns a per-frame condition into a flag with a minimum duration and a clearing delay."""

    def __init__(self) -> None:
        self.onset: datetime | None = None
        self.active = False
        self.false_since: datetime | None = None

    def step(
        self, seen: bool, normal: bool, at: datetime, min_seconds: float, clear_seconds: float
    ) -> None:
        """`seen`: this frame shows the condition. `normal`: it shows the learned view. Neither
        (a lighting never learned, a blurred frame at night when only daylight is known): an
        active flag holds, a pending one starts over."""
        if seen:
            self.false_since = None
            if self.onset is None:
                self.onset = at
            if not self.active and (at - self.onset).total_seconds() >= min_seconds:
                self.active = True
            return
        if not self.active:
            self.onset = None
            return
        if not normal:
            return
        if self.false_since is None:
            self.false_since = at
        if (at - self.false_since).total_seconds() >= clear_seconds:
            self.reset()

    def reset(self) -> None:
        self.onset, self.active, self.false_since = None, False, None

    @property
    def pending(self) -> bool:
        return self.onset is not None

    def flag(self, confidence: float) -> Flag:
        return Flag(self.active, round(confidence, 3), self.onset)


class _View:
    """A grey analysis image and the descriptors derived from it."""

    __slots__ = ("coarse", "desc", "mean", "sharp", "small", "std")

    def __init__(self, small: np.ndarray) -> None:
        self.small = small
        self.mean = float(small.mean())
        self.std = float(small.std())
        soft = cv2.GaussianBlur(small, (0, 0), 1.0)
        gx = cv2.Sobel(soft, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(soft, cv2.CV_32F, 0, 1)
        mag = cv2.magnitude(gx, gy) + 1e-3
        scale = 1.0 / (mag * np.sqrt(mag))
        # doubled-angle orientation, weighted by sqrt(strength): sign-free, so edges that invert
        # with the lighting still match
        self.desc = cv2.merge([(gx * gx - gy * gy) * scale, 2.0 * gx * gy * scale])
        h, w = small.shape
        self.coarse = cv2.GaussianBlur(
            cv2.resize(
                small, (COARSE_WIDTH, _scaled(h, w, COARSE_WIDTH)), interpolation=cv2.INTER_AREA
            ),
            (0, 0),
            1.0,
        )
        sx = cv2.Sobel(small, cv2.CV_32F, 1, 0)
        sy = cv2.Sobel(small, cv2.CV_32F, 0, 1)
        self.sharp = float(cv2.mean(sx * sx + sy * sy)[0]) / max(self.std**2, 1.0)


class _Reference:
    """A learned look of the scene under one lighting (a running average of frames)."""

    def __init__(self, small: np.ndarray, infrared: bool | None, at: datetime) -> None:
        self.acc = small.astype(np.float32).copy()
        self.frames = 1
        self.infrared = infrared
        self.started = at
        self.used = at
        self._derive()

    def add(self, small: np.ndarray, weight: float, at: datetime) -> None:
        cv2.accumulateWeighted(small, self.acc, weight)
        self.frames += 1
        self.used = at
        self._derive()

    def _derive(self) -> None:
        self.view = _View(self.acc)
        self.soft = cv2.GaussianBlur(self.acc, (0, 0), SOFTER)

    def softer_fit(self, small: np.ndarray) -> float:
        """How much better the reference blurred by SOFTER px fits `small` than the reference
        itself (> 0: the frame is blurred). Sensor noise is in neither, so it cancels out."""
        sharp = cv2.matchTemplate(small, self.acc, cv2.TM_CCOEFF_NORMED)[0, 0]
        soft = cv2.matchTemplate(small, self.soft, cv2.TM_CCOEFF_NORMED)[0, 0]
        gain = float(soft - sharp)
        return gain if math.isfinite(gain) else 0.0


def _scaled(h: int, w: int, width: int) -> int:
    return max(8, round(h * width / w))


def _match(ref: np.ndarray, cur: np.ndarray, margin: float) -> tuple[float, float, float]:
    """Best normalised correlation of `cur` (its border trimmed by `margin`) inside `ref`, and
    the displacement (dx, dy) of that best match as fractions of the width."""
    h, w = cur.shape[:2]
    my, mx = max(1, round(h * margin)), max(1, round(w * margin))
    res = cv2.matchTemplate(ref, cur[my : h - my, mx : w - mx], cv2.TM_CCOEFF_NORMED)
    _, best, _, loc = cv2.minMaxLoc(res)
    if not math.isfinite(best):
        return 0.0, 0.0, 0.0
    return float(best), (loc[0] - mx) / w, (loc[1] - my) / w


class TamperDetector:
    """Per-camera tamper detector. Feed every analysed frame (BGR 640 px or grey 320 px wide).

    A condition becomes `active` after it has been seen for `min_seconds` of frame time and
    clears after it has not been seen for `clear_seconds`. Runs never bridge a gap of more than
    `max_gap_seconds` between frames (the camera was down: nobody saw what happened).
    """

    def __init__(
        self,
        min_seconds: float = 20.0,
        clear_seconds: float = 5.0,
        *,
        learn_frames: int = 5,
        learn_seconds: float = 30.0,
        max_references: int = 6,
        refresh_rate: float = 0.01,
        video_loss_seconds: float = 10.0,
        max_gap_seconds: float = 30.0,
        bgr_width: int | None = BGR_WIDTH,
        grey_width: int | None = GREY_WIDTH,
    ) -> None:
        if min_seconds < 0 or clear_seconds < 0:
            raise ValueError(
                f"min_seconds and clear_seconds must be >= 0, got {min_seconds}, {clear_seconds}"
            )
        if learn_frames < 1 or max_references < 1:
            raise ValueError(
                f"learn_frames and max_references must be >= 1, got {learn_frames}, "
                f"{max_references}"
            )
        if not 0.0 < refresh_rate < 1.0:
            raise ValueError(f"refresh_rate must be in (0, 1) per second, got {refresh_rate}")
        self.min_seconds = float(min_seconds)
        self.clear_seconds = float(clear_seconds)
        self.learn_frames = learn_frames
        self.learn_seconds = float(learn_seconds)
        self.max_references = max_references
        self.refresh_rate = refresh_rate
        self.video_loss_seconds = float(video_loss_seconds)
        self.max_gap_seconds = float(max_gap_seconds)
        self.bgr_width = bgr_width
        self.grey_width = grey_width
        self._timers = {k: _Timer() for k in ("covered", "defocused", "moved")}
        self.reset()

    # ---- state -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the learned scene and every pending or active condition."""
        self._shape: tuple[int, int] | None = None
        self._refs: list[_Reference] = []
        self._candidate: _Reference | None = None
        self._last_at: datetime | None = None
        self._last: TamperResult = TamperResult(learning=True)
        for t in self._timers.values():
            t.reset()

    def relearn(self) -> None:
        """Accept the current view as the scene (after an operator re-aimed the camera)."""
        shape, last_at = self._shape, self._last_at
        self.reset()
        self._shape, self._last_at = shape, last_at

    @property
    def last_frame_at(self) -> datetime | None:
        return self._last_at

    @property
    def references(self) -> int:
        return len(self._refs)

    # ---- frames ------------------------------------------------------------------------------

    def _small(self, frame: object) -> tuple[np.ndarray, bool | None]:
        if isinstance(frame, np.ndarray) and frame.ndim == 3:
            bgr = check_bgr(frame, self.bgr_width, "tamper: colour frame")
            h, w = bgr.shape[:2]
            size = (ANALYSIS_WIDTH, _scaled(h, w, ANALYSIS_WIDTH))
            small_bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
            small = cv2.cvtColor(small_bgr, cv2.COLOR_BGR2GRAY)
            return small.astype(np.float32), is_monochrome(small_bgr)
        grey = check_grey(frame, self.grey_width, "tamper: grey frame")
        h, w = grey.shape
        size = (ANALYSIS_WIDTH, _scaled(h, w, ANALYSIS_WIDTH))
        return cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.float32), None

    def update(self, frame: np.ndarray, at: datetime) -> TamperResult:
        """Judge one frame captured at `at` (BGR HxWx3 640 px wide, or grey HxW 320 px wide)."""
        small, infrared = self._small(frame)
        if self._shape != small.shape:  # first frame, or the stream changed resolution
            self.reset()
            self._shape = small.shape
        last, self._last_at = self._last_at, at
        if last is not None and (at < last or (at - last).total_seconds() > self.max_gap_seconds):
            for t in self._timers.values():  # a run does not bridge a gap (or a time jump)
                if not t.active:
                    t.reset()
        dt = 1.0 if last is None else min(max((at - last).total_seconds(), 0.0), 60.0)
        view = _View(small)

        flat = view.std < FLAT_STD
        if not self._refs:
            if flat:
                conf = {"covered": 1.0}
            else:
                conf = {}
                self._learn(small, infrared, at, view)
            result = self._judge(conf, not flat, at, None, learning=not self._refs)
            return result

        # which references share this lighting (layout), and is the structure still there?
        lit = (
            []
            if flat
            else [(self._coarse(r, view), r) for r in self._refs if _same_mode(r, infrared)]
        )
        lit.sort(key=lambda p: p[0], reverse=True)
        order = [r for _, r in lit] + [r for r in self._refs if not _same_mode(r, infrared)]
        structure, shift, matched = -1.0, 0.0, None
        if not flat:
            for ref in order:
                e, dx, dy = _match(ref.view.desc, view.desc, SEARCH)
                if e > structure:
                    structure, shift, matched = e, math.hypot(dx, dy), ref
                if e >= SAME_VIEW and math.hypot(dx, dy) <= MAX_SHIFT:
                    break
        layout, same_light = lit[0] if lit else (0.0, None)
        sharpness, softer = 1.0, 0.0
        if same_light is not None and layout >= SAME_LIGHT and not flat:
            sharpness = view.sharp / max(same_light.view.sharp, 1e-6)
            softer = same_light.softer_fit(small)

        conf: dict[str, float] = {}
        if flat:
            conf["covered"] = 1.0
        elif view.mean < DARK_LEVEL and view.std < LOW_CONTRAST and structure < NO_STRUCTURE:
            conf["covered"] = 0.5 + 0.5 * min(
                1 - structure / NO_STRUCTURE,
                1 - view.std / LOW_CONTRAST,
                1 - view.mean / DARK_LEVEL,
            )
        elif (
            layout >= SAME_LIGHT
            and shift <= MAX_SHIFT
            and (sharpness < BLURRED or softer > SOFTER_FITS)
        ):
            conf["defocused"] = 0.5 + 0.5 * min(1.0, max(1 - sharpness / BLURRED, softer / 0.05))
        elif structure < NO_STRUCTURE:
            conf["moved"] = 0.5 + 0.5 * (1 - max(structure, 0.0) / NO_STRUCTURE)
        elif shift > MAX_SHIFT:
            conf["moved"] = 0.5 + 0.5 * min(1.0, (shift - MAX_SHIFT) / MAX_SHIFT)

        calm = not conf and not any(t.pending for t in self._timers.values())
        if calm:
            good = (
                same_light is not None
                and layout >= SAME_LIGHT
                and matched is same_light
                and structure >= SAME_VIEW
                and shift <= MAX_SHIFT
                # never learn from a frame softer than the reference: a blur just short of the
                # threshold would otherwise blur the reference and creep past detection
                and sharpness >= SHARP_ENOUGH
                and softer < 0.0
            )
            if good:
                weight = 1.0 - (1.0 - self.refresh_rate) ** dt
                same_light.add(small, weight, at)  # type: ignore[union-attr]
                self._candidate = None
            elif layout < SAME_LIGHT and structure >= LIGHTING_STRUCTURE and shift <= MAX_SHIFT:
                self._learn(small, infrared, at, view)  # a new lighting of the known view
        else:
            self._candidate = None

        scores = TamperScores(
            brightness=round(view.mean, 2),
            contrast=round(view.std, 2),
            structure=round(structure, 3),
            layout=round(layout, 3),
            sharpness=round(sharpness, 3),
            softer=round(softer, 4),
            shift=round(shift, 4),
            infrared=infrared,
            references=len(self._refs),
        )
        # the learned view is plainly there: the evidence that lets an active flag clear
        normal = not conf and structure >= LIGHTING_STRUCTURE and shift <= MAX_SHIFT
        return self._judge(conf, normal, at, scores)

    def _coarse(self, ref: _Reference, view: _View) -> float:
        return _match(ref.view.coarse, view.coarse, LAYOUT_SEARCH)[0]

    def _learn(self, small: np.ndarray, infrared: bool | None, at: datetime, view: _View) -> None:
        """Grow the candidate reference with consistent frames; promote it once it has enough."""
        cand = self._candidate
        if cand is not None:
            layout = _match(cand.view.coarse, view.coarse, LAYOUT_SEARCH)[0]
            structure, dx, dy = _match(cand.view.desc, view.desc, SEARCH)
            same = (
                layout >= SAME_LIGHT
                and structure >= SAME_VIEW
                and math.hypot(dx, dy) <= MAX_SHIFT
                and _same_mode(cand, infrared)
            )
            if same:
                cand.add(small, 1.0 / (cand.frames + 1), at)
            else:
                cand = None
        if cand is None:
            cand = _Reference(small, infrared, at)
        self._candidate = cand
        held = (at - cand.started).total_seconds()
        if cand.frames >= self.learn_frames and held >= self.learn_seconds:
            self._refs.append(cand)
            self._candidate = None
            if len(self._refs) > self.max_references:
                self._refs.remove(min(self._refs, key=lambda r: r.used))

    def _judge(
        self,
        conf: dict[str, float],
        normal: bool,
        at: datetime,
        scores: TamperScores | None,
        learning: bool = False,
    ) -> TamperResult:
        flags = {}
        for name, timer in self._timers.items():
            timer.step(name in conf, normal, at, self.min_seconds, self.clear_seconds)
            flags[name] = timer.flag(conf.get(name, 0.0))
        self._last = TamperResult(
            covered=flags["covered"],
            defocused=flags["defocused"],
            moved=flags["moved"],
            video_loss=Flag(),
            learning=learning,
            scores=scores,
        )
        return self._last

    def check(self, now: datetime) -> TamperResult:
        """The latest result with `video_loss` judged at `now` (call from the pipeline's tick)."""
        lost = video_loss(self._last_at, now, self.video_loss_seconds)
        flag = Flag(True, 1.0, self._last_at) if lost else Flag()
        return TamperResult(
            covered=self._last.covered,
            defocused=self._last.defocused,
            moved=self._last.moved,
            video_loss=flag,
            learning=self._last.learning,
            scores=self._last.scores,
        )


def _same_mode(ref: _Reference, infrared: bool | None) -> bool:
    return ref.infrared is None or infrared is None or ref.infrared == infrared


__all__ = ["Flag", "TamperDetector", "TamperResult", "TamperScores", "video_loss"]
