"""Sprite bank: real people cut out of real footage, pasted into simulated camera frames.

The simulator's people must be real pixels so the real person detector is exercised, not a
drawing it was never trained on. `build_sprites.py` makes the bank once (walk cycles from the
OpenCV sample clip vtest.avi, standing people from two public-domain photos); this module loads
it and pastes sprites fast. Sprites are anonymous figures used for presence and counting tests
only (UU 27/2022); nothing here or downstream identifies anyone.

Conventions: a sprite frame is RGBA uint8 with the person's feet at the bottom centre; frames of
a track all have the same size, `native_height` px tall at source scale.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np

INDEX = "index.json"
HIT_RATE = "hit_rate.json"
# Per-frame hit rate that counts as "the detector sees this size". Even at its best size the
# detector finds ~90 % of these sprites per frame (the misses are single poses, spread over all
# tracks), so 0.85 means "on that plateau" within sampling noise; over the frames of a minute a
# person on the plateau is counted all but surely.
RELIABLE = 0.85
_FALLBACK_MIN_HEIGHT = 100  # used only if hit_rate.json is missing (before the bench ran)
MODES = ("full", "tiled", "tiled_2x1", "crop")


def default_path() -> Path:
    """The bank shipped inside the package (`pantau/sim/sprite_data/`)."""
    return Path(str(resources.files("pantau") / "sim" / "sprite_data"))


@dataclass
class SpriteTrack:
    """One person: a looping walk cycle, or a standing pose (often a single frame).

    `direction` is where a walker heads as the source camera saw it (left, right, towards, away;
    "none" for people standing still). `pose` is "full" (head to feet) or "upper" (head to
    waist, for someone seated behind a desk: paste it with y_feet on the desk's top edge).
    `speed` is the walker's ground speed in body heights per second, so a scene can move the
    sprite at the pace its legs show; `fps` is the cadence the cycle was filmed at.
    """

    id: str
    kind: str  # walk | stand
    frames: list[np.ndarray]  # RGBA uint8, all the same size
    direction: str
    native_height: int
    pose: str = "full"
    fps: float = 10.0
    speed: float = 0.0
    source: str = ""
    source_frames: list[int] = field(default_factory=list)


class SpriteBank:
    """All sprite tracks; load once (cached per folder) and share: frames are read-only."""

    _cache: ClassVar[dict[Path, SpriteBank]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, tracks: list[SpriteTrack]) -> None:
        self.tracks = tracks

    @classmethod
    def load(cls, path: Path | None = None) -> SpriteBank:
        """The bank in `path` (default: the package's sprite_data); raises FileNotFoundError."""
        folder = Path(path) if path is not None else default_path()
        key = folder.resolve()
        with cls._lock:
            bank = cls._cache.get(key)
            if bank is None:
                bank = cls._cache[key] = cls(_read_tracks(folder))
        return bank

    def walking(self) -> list[SpriteTrack]:
        return [t for t in self.tracks if t.kind == "walk"]

    def standing(self) -> list[SpriteTrack]:
        """Standing people, full-body and upper-body (see `SpriteTrack.pose`)."""
        return [t for t in self.tracks if t.kind == "stand"]

    def get(self, track_id: str) -> SpriteTrack:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise KeyError(f"no sprite track {track_id!r}")

    def frame(self, track: SpriteTrack, t: float, fps: float | None = None) -> np.ndarray:
        """The cycle's frame at time `t` seconds, looping.

        `fps` defaults to the rate the cycle was filmed at (10), which matches the legs to
        `track.speed`; pass another rate to walk faster or slower.
        """
        rate = track.fps if fps is None else fps
        if rate <= 0:
            raise ValueError(f"fps must be > 0, got {rate}")
        return track.frames[math.floor(t * rate) % len(track.frames)]


def _missing(folder: Path, what: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"sprite bank {folder}: {what}. The bank ships with the package "
        "(src/pantau/sim/sprite_data/); rebuild it with "
        "`python -m pantau.sim.build_sprites` (see its README.md)"
    )


def _read_tracks(folder: Path) -> list[SpriteTrack]:
    index_path = folder / INDEX
    if not index_path.is_file():
        raise _missing(folder, f"{INDEX} not found")
    try:
        doc = json.loads(index_path.read_text())
    except (OSError, ValueError) as exc:
        raise _missing(folder, f"{INDEX} unreadable ({exc})") from exc
    tracks = []
    for e in doc["tracks"]:
        file = folder / e["file"]
        strip = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
        if strip is None:
            raise _missing(folder, f"{e['file']} (track {e['id']}) not found or not an image")
        w, h = e["size"]
        n = e["frame_count"]
        if strip.shape != (h, w * n, 4):
            raise _missing(folder, f"{e['file']} is {strip.shape}, index says {n}x({h},{w},4)")
        rgba = cv2.cvtColor(strip, cv2.COLOR_BGRA2RGBA)
        frames = [np.ascontiguousarray(rgba[:, i * w : (i + 1) * w]) for i in range(n)]
        for f in frames:
            f.flags.writeable = False  # shared by every camera through the cache
        tracks.append(
            SpriteTrack(
                id=e["id"],
                kind=e["kind"],
                frames=frames,
                direction=e["direction"],
                native_height=e["native_height"],
                pose=e.get("pose", "full"),
                fps=float(e.get("fps", 10.0)),
                speed=float(e.get("speed", 0.0)),
                source=e.get("source", ""),
                source_frames=list(e.get("source_frames", [])),
            )
        )
    return tracks


def scaled(rgba: np.ndarray, height: int) -> np.ndarray:
    """`rgba` resized to `height` px tall, aspect kept (area filter down, linear up)."""
    if height < 1:
        raise ValueError(f"height must be >= 1, got {height}")
    h, w = rgba.shape[:2]
    if height == h:
        return rgba
    width = max(1, round(w * height / h))
    interp = cv2.INTER_AREA if height < h else cv2.INTER_LINEAR
    return cv2.resize(rgba, (width, height), interpolation=interp)


def paste(
    dst_bgr: np.ndarray, rgba: np.ndarray, x: int, y_feet: int, *, shade: float = 1.0
) -> tuple[int, int, int, int] | None:
    """Alpha-blend `rgba` into `dst_bgr` in place, feet (bottom centre) at (x, y_feet).

    Clipped to the frame; only the covered region is touched. `shade` < 1 darkens the person to
    match the room's light (> 1 brightens, clipped). Returns the visible person's box
    (x0, y0, x1, y1), x1/y1 exclusive, from pixels at least half opaque — the ground truth a
    detector should find — or None when nothing of the person is in the frame.
    """
    if dst_bgr.ndim != 3 or dst_bgr.shape[2] != 3 or dst_bgr.dtype != np.uint8:
        raise ValueError(f"dst must be HxWx3 uint8, got {dst_bgr.shape} {dst_bgr.dtype}")
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"sprite must be HxWx4 uint8, got {rgba.shape} {rgba.dtype}")
    if shade < 0:
        raise ValueError(f"shade must be >= 0, got {shade}")
    fh, fw = dst_bgr.shape[:2]
    h, w = rgba.shape[:2]
    sx0, sy0 = int(x) - w // 2, int(y_feet) - h
    x0, y0 = max(sx0, 0), max(sy0, 0)
    x1, y1 = min(sx0 + w, fw), min(sy0 + h, fh)
    if x0 >= x1 or y0 >= y1:
        return None
    src = rgba[y0 - sy0 : y1 - sy0, x0 - sx0 : x1 - sx0]
    alpha = src[..., 3]
    solid = alpha >= 128
    cols = np.flatnonzero(solid.any(axis=0))
    if cols.size == 0:
        return None
    rows = np.flatnonzero(solid.any(axis=1))
    # Saturating uint8 arithmetic in OpenCV: ~10x faster than float numpy on a sprite-sized ROI.
    a3 = cv2.cvtColor(alpha, cv2.COLOR_GRAY2BGR)
    person = cv2.multiply(cv2.cvtColor(src, cv2.COLOR_RGBA2BGR), a3, scale=shade / 255.0)
    roi = dst_bgr[y0:y1, x0:x1]
    behind = cv2.multiply(roi, cv2.bitwise_not(a3), scale=1 / 255.0)
    cv2.add(person, behind, dst=roi)
    return (x0 + int(cols[0]), y0 + int(rows[0]), x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1)


def hit_rates(path: Path | None = None) -> dict:
    """The measured detector hit rate by sprite height (see bench/sim_detector_hit_rate.py)."""
    file = (Path(path) if path is not None else default_path()) / HIT_RATE
    return json.loads(file.read_text())


def smallest_reliable(rows: list[dict], mode: str) -> int | None:
    """Smallest tested height from which every taller tested height reaches RELIABLE."""
    best = None
    for row in sorted(rows, key=lambda r: r["height"], reverse=True):
        if row[mode] < RELIABLE:
            break
        best = row["height"]
    return best


def min_reliable_height(mode: str = "crop", frame_height: int = 360) -> int | None:
    """Smallest person height (px) from which the detector's hit rate is >= RELIABLE, or None.

    Modes as measured by bench/sim_detector_hit_rate.py in 640x360 frames: "full" (one pass
    on the frame squeezed to 300x300), "tiled" (2x2), "tiled_2x1" (two square halves), "crop"
    (a square crop 2.5x the person's height around them, as motion-guided cropping gives).
    The frame-wide modes see the person relative to the frame, so their figure scales with
    `frame_height`; a crop is cut to the person's size, so that figure does not.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    try:
        table = hit_rates()
    except (OSError, ValueError):
        return _FALLBACK_MIN_HEIGHT
    best = smallest_reliable(table["rows"], mode)
    if best is None or mode == "crop":
        return best
    return math.ceil(best * frame_height / table["frame"][1])


# With a crop around the person (the pipeline's motion-guided path), the only mode that is
# reliable at small sizes; a single full-frame pass is reliable at no tested height in a 640x360
# frame. See docs/sprites.md.
MIN_RELIABLE_HEIGHT: int = min_reliable_height("crop") or _FALLBACK_MIN_HEIGHT
# The same for a single full-frame pass; None when no tested height is reliable.
MIN_RELIABLE_HEIGHT_FULL: int | None = min_reliable_height("full")
