"""Frames to facts to per-minute observations: the one path live cameras and backfill share.

`CameraAnalyzer` runs the pure vision functions on each sampled frame and decides when the
(expensive) person detector runs: on motion, on a lighting change, and on a slow heartbeat so
that people sitting still are still counted. `MinuteAggregator` folds frame facts into one row
per camera per minute, keyed by (camera, minute) so writing a minute twice changes nothing.
Time comes only from the frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

import numpy as np

from pantau.media.reader import SampledFrame
from pantau.vision.detector import PersonDetector, iou
from pantau.vision.light import LightMeter, is_monochrome
from pantau.vision.motion import MotionDetector
from pantau.vision.tamper import TamperDetector
from pantau.vision.zones import Zone, box_in_zone

TAMPER_KINDS = ("covered", "defocused", "moved", "video_loss")


@dataclass
class FrameFacts:
    at: datetime
    people: int
    zone_people: dict[str, int]
    boxes: list[tuple[int, int, int, int]]
    detector_ran: bool
    motion: float
    lighting_change: bool
    light_level: float
    lights_on: bool | None
    ir: bool
    tamper: dict[str, float]  # active tamper kinds -> confidence


@dataclass
class AnalyzerSettings:
    heartbeat_seconds: float = 60.0
    motion_trigger: float = 0.002  # fraction of the frame
    crop_when_smaller_than: float = 0.35  # also look closer when motion covers less than this
    crop_padding: float = 0.6


class CameraAnalyzer:
    """Per-camera state around pure vision functions; one per camera, fed frame by frame."""

    def __init__(
        self,
        detector: PersonDetector | None,
        zones: Sequence[Zone] = (),
        settings: AnalyzerSettings | None = None,
    ) -> None:
        self.detector = detector
        self.zones = list(zones)
        self.settings = settings or AnalyzerSettings()
        self.motion = MotionDetector()
        self.light = LightMeter()
        self.tamper = TamperDetector()
        self._last_detect: datetime | None = None
        self._last_heartbeat: datetime | None = None
        self._people: list[tuple[int, int, int, int]] = []
        self.detector_runs = 0

    def _detect(
        self, frame: SampledFrame, motion_boxes: list[tuple[int, int, int, int]], heartbeat: bool
    ) -> list[tuple[int, int, int, int]]:
        """Whole frame (as two square halves on the heartbeat, where people sitting still are
        found), plus a closer look around motion: the model finds people well only when they
        fill a good part of its 300x300 input (see docs/sprites.md)."""
        assert self.detector is not None
        bgr = frame.bgr
        h, w = bgr.shape[:2]
        if heartbeat and w > h:
            found = [d.box for d in self.detector.detect_tiled(bgr, tiles=(2, 1), overlap=0.25)]
            self.detector_runs += 3
        else:
            found = [d.box for d in self.detector.detect(bgr)]
            self.detector_runs += 1
        if motion_boxes:
            gh, gw = frame.grey.shape[:2]
            sx, sy = w / gw, h / gh
            x0 = min(b[0] for b in motion_boxes) * sx
            y0 = min(b[1] for b in motion_boxes) * sy
            x1 = max(b[2] for b in motion_boxes) * sx
            y1 = max(b[3] for b in motion_boxes) * sy
            if (x1 - x0) * (y1 - y0) < self.settings.crop_when_smaller_than * w * h:
                pad = self.settings.crop_padding
                px, py = (x1 - x0) * pad + 16, (y1 - y0) * pad + 16
                roi = (
                    max(0, int(x0 - px)),
                    max(0, int(y0 - py)),
                    min(w, int(x1 + px)),
                    min(h, int(y1 + py)),
                )
                self.detector_runs += 1
                for d in self.detector.detect(bgr, roi=roi):
                    if all(iou(d.box, f) < 0.4 for f in found):
                        found.append(d.box)
        return found

    def process(self, frame: SampledFrame) -> FrameFacts:
        at = frame.at
        motion = self.motion.update(frame.grey, at)
        ir = bool(is_monochrome(frame.bgr))
        light = self.light.update(frame.grey, at, bgr=frame.bgr, infrared=ir)
        tamper = self.tamper.update(frame.bgr, at)
        active = {
            kind: flag.confidence
            for kind in TAMPER_KINDS
            if (flag := getattr(tamper, kind, None)) is not None and flag.active
        }
        heartbeat = self._last_heartbeat is None or at - self._last_heartbeat >= timedelta(
            seconds=self.settings.heartbeat_seconds
        )
        due = (
            heartbeat or motion.fraction >= self.settings.motion_trigger or (motion.lighting_change)
        )
        ran = False
        if self.detector is not None and due and not active:
            self._people = self._detect(frame, list(motion.boxes), heartbeat)
            self._last_detect = at
            if heartbeat:
                self._last_heartbeat = at
            ran = True
        elif active:
            self._people = []  # a covered or turned camera sees nobody; tamper is the fact
        h, w = frame.bgr.shape[:2]
        zone_people = {
            z.name: sum(1 for b in self._people if box_in_zone(z, b, w, h)) for z in self.zones
        }
        return FrameFacts(
            at=at,
            people=len(self._people),
            zone_people=zone_people,
            boxes=list(self._people),
            detector_ran=ran,
            motion=float(motion.fraction),
            lighting_change=bool(motion.lighting_change),
            light_level=float(light.level),
            lights_on=light.lights_on,
            ir=ir,
            tamper=active,
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
