"""Frames to facts to per-minute observations: the one path live cameras and backfill share.

`CameraAnalyzer` runs the pure vision functions on each sampled frame and decides when the
(expensive) person detector runs: on motion, on a lighting change, and on a slow heartbeat so
that people sitting still are still counted. `MinuteAggregator` folds frame facts into one row
per camera per minute, keyed by (camera, minute) so writing a minute twice changes nothing.
Time comes only from the frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from statistics import median
from typing import Any

import cv2
import numpy as np

from pantau.media.reader import SampledFrame
from pantau.vision.detector import PersonDetector, iou
from pantau.vision.light import LightMeter, is_monochrome
from pantau.vision.motion import MotionDetector, MotionResult
from pantau.vision.tamper import TamperDetector
from pantau.vision.zones import Zone, box_in_zone, check_bgr, check_grey

TAMPER_KINDS = ("covered", "defocused", "moved", "video_loss")


Box = tuple[int, int, int, int]


@dataclass
class FrameFacts:
    at: datetime
    people: int
    zone_people: dict[str, int]
    boxes: list[Box]
    detector_ran: bool
    motion: float
    lighting_change: bool
    light_level: float
    lights_on: bool | None
    ir: bool
    tamper: dict[str, float]  # active tamper kinds -> confidence
    look: str = ""  # why the detector looked: full, heartbeat, motion, settle ("" = it did not)


@dataclass
class AnalyzerSettings:
    """When the detector looks (docs/analytics-schedule.md explains each number)."""

    heartbeat_seconds: float = 60.0  # recount a room where people were seen (they sit still)
    empty_heartbeat_seconds: float = 300.0  # look again at a room seen empty and quiet
    motion_trigger: float = 0.002  # fraction of the frame
    motion_look_seconds: float = 2.0  # at most one motion look this often (frame time)
    explained_overlap: float = 0.6  # motion box share inside a known person: not news
    person_margin: float = 0.25  # grow known person boxes by this much of their size
    wide_motion: float = 0.35  # motion spanning more of the frame: look at all of it
    crop_padding: float = 0.6
    barren_seconds: float = 30.0  # motion where a look just found nobody is not looked at again
    persist_seconds: float = 600.0  # a lit, unchanged person the detector lost stays counted
    persist_similarity: float = (
        0.8  # ... while their patch correlates this well with the last sighting
    )
    # Once the room has been seen lit and empty, a lost person stays counted for longer, while
    # their place still differs from that picture: the background coming back proves that they
    # left, which "unchanged since the last sighting" cannot (docs/analytics-schedule.md).
    empty_persist_seconds: float = 5400.0
    empty_similarity: float = 0.85  # place vs empty room: at or above this, it is empty again
    empty_quiet_seconds: float = 600.0  # "empty" = nobody counted this long, over 2+ full looks
    # A person lost while the room keeps moving is still there, walking or working where the
    # model cannot find them (the cleaner behind the counter, lamps off): the last one seen is
    # carried while motion goes on, for at most this long after their last sighting, in
    # colour pictures only (docs/analytics-schedule.md, "People the detector loses").
    moving_carry_seconds: float = 600.0
    moving_motion: float = 0.001  # a frame with this much motion (fraction of it) is moving
    moving_memory_seconds: float = 5.0  # ... and the room counts as moving this long after


BGR_WIDTH, GREY_WIDTH = 640, 320  # the widths the vision functions are tuned for


def _to_width(img: np.ndarray, width: int) -> np.ndarray:
    h, w = img.shape[:2]
    if w == width:
        return img
    size = (width, max(16, round(h * width / w)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA if w > width else cv2.INTER_LINEAR)


def normalised(frame: SampledFrame) -> SampledFrame:
    """Check a frame, then bring it to the widths the vision functions are tuned for.

    The reader never upscales (a 320x240 sub-stream stays 320 px wide) and a stream may
    change resolution mid-way; resizing here keeps such cameras analysed instead of every
    frame failing. A frame that is not BGR + grey of one picture is refused with its field.
    """
    bgr = check_bgr(frame.bgr, None, "frame.bgr")
    grey = check_grey(frame.grey, None, "frame.grey")
    (h, w), (gh, gw) = bgr.shape[:2], grey.shape
    if abs(gh / gw - h / w) > 0.05:
        raise ValueError(f"frame.grey: got {gw}x{gh}, not the same picture as frame.bgr ({w}x{h})")
    if w == BGR_WIDTH and gw == GREY_WIDTH:
        return frame
    return replace(frame, bgr=_to_width(bgr, BGR_WIDTH), grey=_to_width(grey, GREY_WIDTH))


@dataclass
class _Person:
    box: Box
    patch: np.ndarray  # grey pixels of the box when the detector last confirmed them
    confirmed: datetime
    moving: bool = False  # counted by the moving carry, not by a sighting or a still place


def _patch(grey: np.ndarray, box: Box, scale: float) -> np.ndarray:
    h, w = grey.shape[:2]
    x0, y0 = max(0, int(box[0] * scale)), max(0, int(box[1] * scale))
    x1, y1 = min(w, int(box[2] * scale) + 1), min(h, int(box[3] * scale) + 1)
    return grey[y0:y1, x0:x1].astype(np.float32)


def _similar(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised correlation of two patches of one box (-1..1); 0 when either is flat."""
    if a.shape != b.shape or min(a.shape) < 4:
        return 0.0
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-6 else 0.0


def _square_tiles(w: float, h: float, full: bool = False) -> tuple[int, int]:
    """Columns x rows that cut a w x h area into near-square views: each view is squeezed to
    the model's 300x300 input, and a squeezed person is found less often. A whole 4:3 frame
    is cut 2 x 2 as well: in one pass its people are too small (docs/real-footage.md)."""
    cols = 2 if w >= 1.5 * h else 1
    rows = 2 if h >= 1.5 * w else 1
    if full and cols == rows == 1 and min(w, h) >= 400:
        return 2, 2
    return cols, rows


def _grow(box: Box, margin: float, scale: float = 1.0) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (v * scale for v in box)
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    return (x0 - mx, y0 - my, x1 + mx, y1 + my)


def _inside_share(inner: Box, outer: tuple[float, float, float, float]) -> float:
    ix = min(inner[2], outer[2]) - max(inner[0], outer[0])
    iy = min(inner[3], outer[3]) - max(inner[1], outer[1])
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return 0.0 if ix <= 0 or iy <= 0 or area <= 0 else ix * iy / area


class CameraAnalyzer:
    """Per-camera state around pure vision functions; one per camera, fed frame by frame.

    The person detector is most of the cost (one pass ≈ 60 frames of motion analysis), so it
    looks only when the answer may have changed: a *full* look (the frame as two square
    halves) at start, after a lighting change or a tamper, and on a heartbeat — every minute
    while people are in view, every five minutes in a quiet empty room; a *motion* look (one
    pass on a crop around it) when something moves that the known people do not explain;
    and a *settle* look where motion just stopped, because a newcomer who sat down is easier
    to find standing still. Between looks the last count stands.
    """

    def __init__(
        self,
        detector: PersonDetector | None,
        zones: Sequence[Zone] = (),
        settings: AnalyzerSettings | None = None,
        motion_mask: np.ndarray | None = None,
    ) -> None:
        self.detector = detector
        self.zones = list(zones)
        self.settings = settings or AnalyzerSettings()
        self.motion = MotionDetector(mask=motion_mask)
        self.light = LightMeter()
        self.tamper = TamperDetector()
        self._last_full: datetime | None = None
        self._last_motion_look: datetime | None = None
        self._pending_region: Box | None = None  # unexplained motion not yet looked at
        self._seen: list[_Person] = []
        self._last_at: datetime | None = None
        self._barren: list[tuple[Box, datetime]] = []  # (frame pixels, until): looked, nobody
        self._empty: np.ndarray | None = None  # grey picture of the room lit with nobody in it
        self._someone_at: datetime | None = None  # when anyone was last counted
        self._empty_looks = 0  # lit full looks in a row that found and carried nobody
        self._moving_at: datetime | None = None  # last colour frame with motion
        self._lost: _Person | None = None  # the last person seen, while a carry may bring them back
        self.detector_runs = 0

    @property
    def last_at(self) -> datetime | None:
        """Capture time of the last frame processed."""
        return self._last_at

    @property
    def _people(self) -> list[Box]:
        return [p.box for p in self._seen]

    # ---- when to look -------------------------------------------------------------------

    def _unexplained(self, boxes: Sequence[Box], scale: float, at: datetime) -> list[Box]:
        """Motion that may be news: not a known person moving, and not inside a place looked
        at moments ago where the detector found nobody (a curtain, a screen, a person it
        cannot see — looking again every frame would find nobody again, at full price)."""
        self._barren = [(r, until) for r, until in self._barren if at < until]
        known = [_grow(p, self.settings.person_margin, scale) for p in self._people]
        known += [(r[0] * scale, r[1] * scale, r[2] * scale, r[3] * scale) for r, _ in self._barren]
        return [
            b
            for b in boxes
            if not any(_inside_share(b, k) >= self.settings.explained_overlap for k in known)
        ]

    def _plan(self, frame: SampledFrame, motion: MotionResult) -> tuple[str, Box | None]:
        s = self.settings
        at = frame.at
        gap = self._last_at is not None and (
            at < self._last_at or (at - self._last_at).total_seconds() >= s.heartbeat_seconds
        )
        if motion.lighting_change or self._last_full is None or at < self._last_full or gap:
            return "full", None  # also after a gap: nothing follows from the frame before
        beat = s.heartbeat_seconds if self._people else s.empty_heartbeat_seconds
        if (at - self._last_full).total_seconds() >= beat or (
            any(p.moving for p in self._seen) and not self._moving(at)
        ):
            return "heartbeat", None
        gh, gw = frame.grey.shape[:2]
        h, w = frame.bgr.shape[:2]
        news = (
            self._unexplained(motion.boxes, gw / w, at)
            if motion.fraction >= s.motion_trigger
            else []
        )
        if news:
            x0, y0 = min(b[0] for b in news), min(b[1] for b in news)
            x1, y1 = max(b[2] for b in news), max(b[3] for b in news)
            region = self._pending_region
            if region is not None:
                x0, y0 = min(x0, region[0]), min(y0, region[1])
                x1, y1 = max(x1, region[2]), max(y1, region[3])
            self._pending_region = (x0, y0, x1, y1)
            last = self._last_motion_look
            if last is not None and 0 <= (at - last).total_seconds() < s.motion_look_seconds:
                return "", None
            return "motion", self._take_region(gw, gh, w, h)
        if self._pending_region is not None:  # motion stopped before it was looked at
            return "settle", self._take_region(gw, gh, w, h)
        return "", None

    def _take_region(self, gw: int, gh: int, w: int, h: int) -> Box | None:
        """The pending motion region in frame pixels, padded; None when it is most of the
        frame (then the whole frame is looked at)."""
        assert self._pending_region is not None
        gx0, gy0, gx1, gy1 = self._pending_region
        self._pending_region = None
        sx, sy = w / gw, h / gh
        x0, y0, x1, y1 = gx0 * sx, gy0 * sy, gx1 * sx, gy1 * sy
        if (x1 - x0) * (y1 - y0) >= self.settings.wide_motion * w * h:
            return None
        pad = self.settings.crop_padding
        px, py = (x1 - x0) * pad + 16, (y1 - y0) * pad + 16
        return (
            max(0, int(x0 - px)),
            max(0, int(y0 - py)),
            min(w, int(x1 + px)),
            min(h, int(y1 + py)),
        )

    # ---- looking --------------------------------------------------------------------------

    def _look_full(self, bgr: np.ndarray) -> list[Box]:
        """The frame as two overlapping square halves when it is wide: the model finds people
        well only when they fill a good part of its 300x300 input (docs/sprites.md)."""
        assert self.detector is not None
        h, w = bgr.shape[:2]
        tiles = _square_tiles(w, h, full=True)
        found = self.detector.detect_tiled(bgr, tiles=tiles, overlap=0.25, whole=False)
        self.detector_runs += tiles[0] * tiles[1]
        return [d.box for d in found]

    def _look_region(self, bgr: np.ndarray, roi: Box) -> list[Box]:
        """Re-count inside `roi` only; people seen elsewhere before are kept."""
        assert self.detector is not None
        x0, y0, x1, y1 = roi
        tiles = _square_tiles(x1 - x0, y1 - y0)
        self.detector_runs += tiles[0] * tiles[1]
        if tiles == (1, 1):
            return [d.box for d in self.detector.detect(bgr, roi=roi)]
        found = self.detector.detect_tiled(
            bgr[y0:y1, x0:x1], tiles=tiles, overlap=0.25, whole=False
        )
        return [(b.x0 + x0, b.y0 + y0, b.x1 + x0, b.y1 + y0) for b in found]

    def _update(
        self, found: list[Box], frame: SampledFrame, roi: Box | None, lit: bool
    ) -> list[_Person]:
        """The people after a look at `roi` (None = everywhere) that found `found`.

        Someone the detector found before but not now stays counted if the room is lit, their
        pixels still look the same and the last sighting is recent: the model misses a seated,
        half-hidden person in many frames (docs/analytics-schedule.md) while nothing about
        them changed. Failing that, the last one seen stays while the picture keeps moving
        (the moving carry: colour pictures only, lamps on or off). Under infrared neither
        applies: the count there rests on fresh detections (and the incident rules on motion
        in the dark, `incidents.rules`).
        """
        grey = frame.grey
        scale = grey.shape[1] / frame.bgr.shape[1]
        out = [_Person(b, _patch(grey, b, scale), frame.at) for b in found]
        for p in self._seen:
            cx, cy = (p.box[0] + p.box[2]) / 2, (p.box[1] + p.box[3]) / 2
            looked = roi is None or (roi[0] <= cx < roi[2] and roi[1] <= cy < roi[3])
            if any(iou(p.box, b) >= 0.3 for b in found):
                continue  # found again: the fresh sighting replaces it
            if not looked:
                out.append(p)
            elif lit and self._still_there(p, grey, scale, frame.at):
                out.append(replace(p, moving=False))  # kept by their place, not by motion
        if out:
            self._lost = None
        else:  # the last one seen, kept for a while: they may be moving where the model is blind
            lost = max(self._seen, key=lambda p: p.confirmed, default=self._lost)
            recent = lost is not None and (
                (frame.at - lost.confirmed).total_seconds() <= self.settings.moving_carry_seconds
            )
            self._lost = lost if recent else None
            if self._lost is not None and self._moving(frame.at):
                out.append(replace(self._lost, moving=True))
        if out:
            self._someone_at, self._empty_looks = frame.at, 0
        elif roi is None:
            self._empty_looks = self._empty_looks + 1 if lit else 0
            quiet = self._someone_at is None or (
                (frame.at - self._someone_at).total_seconds() >= self.settings.empty_quiet_seconds
            )
            if self._empty_looks >= 2 and quiet:  # one look that missed everyone is not empty
                self._empty = grey.astype(np.float32)
        return out

    def _moving(self, at: datetime) -> bool:
        """Whether the room moved lately; a room that stopped moving lets a lost person go."""
        if self._moving_at is None:
            return False
        return 0 <= (at - self._moving_at).total_seconds() <= self.settings.moving_memory_seconds

    def _still_there(self, p: _Person, grey: np.ndarray, scale: float, at: datetime) -> bool:
        s = self.settings
        age = (at - p.confirmed).total_seconds()
        now = _patch(grey, p.box, scale)
        if age <= s.persist_seconds and _similar(now, p.patch) >= s.persist_similarity:
            return True
        if self._empty is None or self._empty.shape != grey.shape:
            return False
        place = _patch(self._empty, p.box, scale)
        return age <= s.empty_persist_seconds and _similar(now, place) < s.empty_similarity

    def process(self, frame: SampledFrame) -> FrameFacts:
        frame = normalised(frame)
        at = frame.at
        motion = self.motion.update(frame.grey, at)
        tamper = self.tamper.update(frame.bgr, at)
        ir = tamper.scores.infrared if tamper.scores is not None else None
        if ir is None:
            ir = bool(is_monochrome(frame.bgr))
        light = self.light.update(frame.grey, at, bgr=frame.bgr, infrared=ir)
        if ir:
            self._moving_at = None  # at night only fresh detections count
        elif motion.fraction >= self.settings.moving_motion and not motion.lighting_change:
            self._moving_at = at
        active = {
            kind: flag.confidence
            for kind in TAMPER_KINDS
            if (flag := getattr(tamper, kind, None)) is not None and flag.active
        }
        look = ""
        if active:
            self._seen = []  # a covered or turned camera sees nobody; tamper is the fact
            self._lost = None
            self._empty = None  # and the room it saw empty may no longer be the one in view
            self._last_full = None  # look at everything once the view is back
            self._pending_region = None
        elif self.detector is not None:
            look, roi = self._plan(frame, motion)
            if look in ("full", "heartbeat") or (look and roi is None):
                lit = light.lights_on is True and not ir
                self._seen = self._update(self._look_full(frame.bgr), frame, None, lit)
                self._last_full = at
                self._pending_region = None
                self._barren = []
            elif look:
                assert roi is not None
                lit = light.lights_on is True and not ir
                found = self._look_region(frame.bgr, roi)
                if not found:
                    self._barren.append((roi, at + timedelta(seconds=self.settings.barren_seconds)))
                self._seen = self._update(found, frame, roi, lit)
            if look == "motion":
                self._last_motion_look = at
        self._last_at = at
        h, w = frame.bgr.shape[:2]
        zone_people = {
            z.name: sum(1 for b in self._people if box_in_zone(z, b, w, h)) for z in self.zones
        }
        return FrameFacts(
            at=at,
            people=len(self._people),
            zone_people=zone_people,
            boxes=list(self._people),
            detector_ran=bool(look),
            motion=float(motion.fraction),
            lighting_change=bool(motion.lighting_change),
            light_level=float(light.level),
            lights_on=light.lights_on,
            ir=bool(ir),
            tamper=active,
            look=look,
        )


@dataclass
class _Minute:
    minute: datetime
    facts: list[FrameFacts] = field(default_factory=list)


class MinuteAggregator:
    """Frame facts -> one observation row per minute (dicts shaped like store.Observation)."""

    def __init__(
        self,
        camera_id: int,
        source: str = "live",
        default_interval: float = 1.0,
        max_gap: float = 10.0,
    ) -> None:
        self.camera_id = camera_id
        self.source = source
        self.default_interval = default_interval
        self.max_gap = max_gap
        self._current: _Minute | None = None
        self._last_at: datetime | None = None
        self._gaps: list[float] = []

    def add(self, facts: FrameFacts) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        minute = facts.at.replace(second=0, microsecond=0)
        if self._last_at is not None:
            gap = (facts.at - self._last_at).total_seconds()
            if 0 < gap <= self.max_gap:
                self._gaps = [*self._gaps[-29:], gap]
        self._last_at = facts.at
        if self._current is not None and minute != self._current.minute:
            out.append(self._row(self._current))
            self._current = None
        if self._current is None:
            self._current = _Minute(minute)
        self._current.facts.append(facts)
        return out

    def flush(self) -> list[dict[str, Any]]:
        if self._current is None:
            return []
        row = self._row(self._current)
        self._current = None
        return [row]

    def _interval(self) -> float:
        return median(self._gaps) if self._gaps else self.default_interval

    def _row(self, m: _Minute) -> dict[str, Any]:
        facts = m.facts
        people = [f.people for f in facts]
        zone_names = sorted({z for f in facts for z in f.zone_people})
        zones = {
            z: {
                "max": max(f.zone_people.get(z, 0) for f in facts),
                "mean": round(float(np.mean([f.zone_people.get(z, 0) for f in facts])), 3),
            }
            for z in zone_names
        }
        tamper: dict[str, float] = {}
        for f in facts:
            for kind, conf in f.tamper.items():
                tamper[kind] = max(tamper.get(kind, 0.0), round(conf, 3))
        lights = [f.lights_on for f in facts if f.lights_on is not None]
        return {
            "camera_id": self.camera_id,
            "minute": m.minute,
            "people_max": max(people),
            "people_mean": round(float(np.mean(people)), 3),
            "zones": zones,
            "motion_pct": round(100.0 * float(np.mean([f.motion for f in facts])), 3),
            "light_level": round(float(np.mean([f.light_level for f in facts])), 2),
            "lights_on": (sum(lights) * 2 >= len(lights)) if lights else None,
            "ir_mode": sum(f.ir for f in facts) * 2 > len(facts),
            "tamper": tamper,
            "coverage_seconds": round(min(60.0, len(facts) * self._interval()), 2),
            "samples": len(facts),
            "detector_runs": sum(f.detector_ran for f in facts),
            "source": self.source,
        }
