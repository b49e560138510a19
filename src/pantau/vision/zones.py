"""Zones (polygons in normalised frame coordinates) and the frame checks the detectors share.

Zones are stored normalised (0..1) so one definition fits every stream of a camera (main, sub,
a 320 px analysis copy); they become pixel masks only here, at the size of the frame in hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[int, int, int, int]
"""(x0, y0, x1, y1) in pixels, x1/y1 exclusive."""


@dataclass(frozen=True, slots=True)
class Zone:
    """A named polygon, points as (x, y) fractions of the frame's width and height."""

    name: str
    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        name = self.name.strip() if isinstance(self.name, str) else ""
        if not name:
            raise ValueError(f"a zone needs a name, got {self.name!r}")
        pts = tuple((float(x), float(y)) for x, y in self.points)
        if len(pts) < 3:
            raise ValueError(f"zone {name!r} needs at least three points, got {len(pts)}")
        for x, y in pts:
            if not (np.isfinite(x) and np.isfinite(y) and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(
                    f"zone {name!r}: point ({x}, {y}) is outside the frame "
                    "(coordinates are fractions of width and height, 0..1)"
                )
        area = abs(cv2.contourArea(np.array(pts, np.float32)))
        if area <= 0.0:
            raise ValueError(f"zone {name!r} has no area (its points are on one line)")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "points", pts)

    @classmethod
    def from_config(cls, data: dict) -> Zone:
        """From the registry / config form `{"name": ..., "points": [[x, y], ...]}`."""
        return cls(str(data.get("name", "")), tuple(tuple(p) for p in data.get("points", ())))


def _pixels(zone: Zone, width: int, height: int) -> np.ndarray:
    # A point at 1.0 is the last pixel, not one past it.
    pts = np.array(zone.points, np.float64) * [width - 1, height - 1]
    return np.round(pts).astype(np.int32)


def zone_mask(zone: Zone, width: int, height: int) -> np.ndarray:
    """Boolean HxW mask of the pixels inside `zone` for a frame of this size."""
    if width < 1 or height < 1:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [_pixels(zone, width, height)], 1)
    return mask.astype(bool)


def zones_mask(zones: Iterable[Zone], width: int, height: int) -> np.ndarray | None:
    """Union of the zones' masks, or None (= whole frame) when there are no zones."""
    out: np.ndarray | None = None
    for z in zones:
        m = zone_mask(z, width, height)
        out = m if out is None else out | m
    return out


def point_in_zone(zone: Zone, x: float, y: float, width: int, height: int) -> bool:
    """Whether pixel (x, y) of a width x height frame lies inside (or on the edge of) `zone`."""
    poly = _pixels(zone, width, height).astype(np.float32)
    return cv2.pointPolygonTest(poly, (float(x), float(y)), False) >= 0


def box_in_zone(zone: Zone, box: Sequence[float], width: int, height: int) -> bool:
    """Whether the feet (bottom-centre) of a person box in a width x height frame are in `zone`."""
    x, y = box_feet(box)
    return point_in_zone(zone, x, y, width, height)


def box_feet(box: Sequence[float]) -> tuple[float, float]:
    """Bottom-centre of a box: where a standing person touches the floor.

    Zones are drawn on the floor, so the feet decide which zone someone is in; the box's
    centre would put a person standing behind a counter into the zone in front of it.
    """
    x0, _, x1, y1 = box
    return ((x0 + x1) / 2.0, max(float(y1) - 1.0, 0.0))


def check_grey(frame: object, width: int | None, what: str = "grey frame") -> np.ndarray:
    """`frame` as an HxW uint8 array of the expected width, or a ValueError saying why not."""
    return _check(frame, width, 2, what)


def check_bgr(frame: object, width: int | None, what: str = "colour frame") -> np.ndarray:
    """`frame` as an HxWx3 uint8 BGR array of the expected width, or a ValueError."""
    return _check(frame, width, 3, what)


def _check(frame: object, width: int | None, ndim: int, what: str) -> np.ndarray:
    want = "HxW uint8" if ndim == 2 else "HxWx3 uint8 (BGR)"
    if width:
        want += f", {width} px wide"
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"{what}: expected a numpy array {want}, got {type(frame).__name__}")
    shape = "x".join(str(s) for s in frame.shape)
    if ndim == 2 and frame.ndim == 3 and frame.shape[2] in (1, 3, 4):
        raise ValueError(
            f"{what}: expected one channel ({want}), got {shape} — convert with "
            "cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)"
        )
    if frame.ndim != ndim or (ndim == 3 and frame.shape[2] != 3):
        raise ValueError(f"{what}: expected {want}, got shape {shape}")
    if frame.dtype != np.uint8:
        raise ValueError(f"{what}: expected dtype uint8 ({want}), got {frame.dtype}")
    h, w = frame.shape[:2]
    if width and w != width:
        raise ValueError(f"{what}: expected {want}, got {w}x{h} (resize before analysis)")
    if h < 16 or w < 16:
        raise ValueError(f"{what}: expected {want}, got a {w}x{h} frame (too small)")
    if not (w / 4 <= h <= w * 2):
        raise ValueError(f"{what}: expected {want}, got {w}x{h} (implausible aspect ratio)")
    return frame


def fit_mask(
    mask: np.ndarray | None, width: int, height: int, what: str = "mask"
) -> np.ndarray | None:
    """A boolean mask at this frame size (nearest-neighbour resize when the stream changed size).

    Masks usually come from normalised zones, so scaling them with the frame keeps their meaning.
    """
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"{what}: expected a 2-D HxW array, got shape {m.shape}")
    if m.shape != (height, width):
        m = cv2.resize(m.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
    m = m.astype(bool)
    if not m.any():
        raise ValueError(f"{what}: selects no pixels")
    return m


__all__ = [
    "Box",
    "Zone",
    "box_feet",
    "box_in_zone",
    "check_bgr",
    "check_grey",
    "fit_mask",
    "point_in_zone",
    "zone_mask",
    "zones_mask",
]
