"""Simulated CCTV views of a kelurahan office: a pure function of time, presence and lights.

A :class:`Scene` is one camera of one office. Its room (or front yard) is built once from the
office seed as a handful of textured rectangles in metres, ray-cast once per pixel; lighting is
then only arithmetic on cached per-pixel layers (daylight through the windows, ceiling lamps, an
infrared illuminator for night mode), so a lighting state costs a few milliseconds and is cached.
Per frame the renderer only pastes real people (sprites cut from real footage), restores the
furniture in front of them, adds pre-generated sensor noise and the on-screen clock. Nothing here
reads the wall clock or global random state, so a day replays bit for bit.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from pantau.sim.plan import TamperKind, View, Visit

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive), as the detector reports
Tex = Callable[[np.ndarray, np.ndarray], np.ndarray]

DEFAULT_MIN_HEIGHT = 80.0  # px at 360 rows, if the sprite bank does not say
# The camera is aimed and zoomed so key places show people at least this tall (px at 360 rows,
# scaled with the frame), or the detector's reliable height if that is smaller. A room seen
# whole cannot show everyone taller than about a third of the frame, so this caps the design.
DESIGN_HEIGHT_CAP = 100.0
WALK_SPEED = (0.85, 1.2)  # m/s
DOOR_PAUSE = 2.0  # s standing in the doorway before walking in (and before leaving)
WALK_PHASE = (8.0, 15.0)  # s, the walk in after `enter` and the walk out before `leave`
IR_LUMA = 0.0045  # mean scene radiance below which the camera switches to infrared
MAX_GAIN = 24.0
NOISE_PAD = 48
CACHE_STATES = 8  # lighting states kept per camera (a live camera needs one or two)


# ---- small deterministic helpers ------------------------------------------------------------


def _hash(*parts: object) -> int:
    """A stable 64-bit hash (Python's hash() changes between processes)."""
    h = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "little")


def _unit(*parts: object) -> float:
    return (_hash(*parts) % 1_000_003) / 1_000_003


def _lin(rgb: Sequence[float]) -> np.ndarray:
    """sRGB 0..255 -> linear 0..1 (lighting is done in linear light)."""
    return (np.asarray(rgb, np.float32) / 255.0) ** 2.2


def _cellrand(ix: np.ndarray, iy: np.ndarray, salt: int) -> np.ndarray:
    """A random value in [0, 1) per integer cell (tiles, bricks), vectorised."""
    h = (ix.astype(np.int64) * 73856093) ^ (iy.astype(np.int64) * 19349663) ^ (salt * 83492791)
    h = (h ^ (h >> 13)) * 1274126177
    return ((h >> 7) & 0xFFFF).astype(np.float32) / 65536.0


class _Noise:
    """Smooth periodic value noise for plaster, wood grain, grass and foliage."""

    def __init__(self, seed: int, size: int = 128) -> None:
        self.grid = np.random.default_rng(seed).random((size, size), dtype=np.float32)
        self.size = size

    def __call__(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        x, y = np.asarray(u, np.float32), np.asarray(v, np.float32)
        x0, y0 = np.floor(x), np.floor(y)
        fx, fy = x - x0, y - y0
        fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
        s = self.size
        i0, j0 = x0.astype(np.int64) % s, y0.astype(np.int64) % s
        i1, j1 = (i0 + 1) % s, (j0 + 1) % s
        g = self.grid
        a = g[j0, i0] + (g[j0, i1] - g[j0, i0]) * fx
        b = g[j1, i0] + (g[j1, i1] - g[j1, i0]) * fx
        return a + (b - a) * fy

    def fbm(self, u: np.ndarray, v: np.ndarray, octaves: int = 3) -> np.ndarray:
        out = np.zeros(np.shape(u), np.float32)
        amp, total = 1.0, 0.0
        for k in range(octaves):
            f = 2.0**k
            out += amp * self(np.asarray(u) * f + 17.3 * k, np.asarray(v) * f + 5.1 * k)
            total += amp
            amp *= 0.5
        return out / total


# ---- daylight -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Daylight:
    """Outdoor light at one instant: level 0 (night) .. 1 (clear noon), warmth of low sun."""

    level: float
    warmth: float
    sun: tuple[float, float, float]  # unit vector towards the sun in scene coordinates


def daylight(at: datetime, seed: int, tz: ZoneInfo, facing: float = 0.0) -> Daylight:
    """Daylight in Kendari (4° S): civil dawn ~05.45, dusk ~18.15 WITA, clouds by seed and day.

    The sun rises around 06.00 and sets around 18.05 all year at this latitude, so a fixed
    curve is good enough; clouds are a slow, seeded wobble so each office and day differ.
    """
    local = at.astimezone(tz)
    h = local.hour + local.minute / 60 + local.second / 3600
    omega = (h - 12.0) / 12.1 * math.pi  # 0 at solar noon, ±π/2 at sunrise/sunset
    elev = math.cos(omega)  # ~sin(solar elevation)
    # Civil twilight: light grows from ~05.15; cameras leave infrared about 05.45 and return
    # to it about 18.15; full morning light after ~06.30.
    tw = min(1.0, max(0.0, (elev + 0.1) / 0.22))
    tw = tw * tw * (3 - 2 * tw)
    base = tw * (0.1 + 0.9 * max(0.0, elev) ** 0.7)
    day_key = local.date().isoformat()
    cloudiness = 0.15 + 0.55 * _unit("cloud", seed, day_key) ** 1.5
    t = h * 3600
    wobble = 0.0
    for k, period in enumerate((1500.0, 3700.0, 9100.0)):
        phase = 2 * math.pi * _unit("cloud-phase", seed, day_key, k)
        wobble += math.sin(2 * math.pi * t / period + phase) / (k + 1.5)
    clouds = 1.0 - cloudiness * (0.55 + 0.45 * math.tanh(1.5 * wobble))
    level = max(0.0, base * clouds)
    warmth = max(0.0, min(1.0, 1.0 - elev / 0.4)) if tw > 0 else 0.0
    # Sun direction: east-west arc tilted ~15° towards the south, rotated by the site's facing.
    decl = math.radians(15)
    west = (math.cos(facing), 0.0, math.sin(facing))
    south = (-math.sin(facing), 0.0, math.cos(facing))
    sv = [math.sin(omega) * west[i] + math.cos(omega) * math.sin(decl) * south[i] for i in range(3)]
    sv[1] += math.cos(omega) * math.cos(decl)
    n = math.sqrt(sum(c * c for c in sv)) or 1.0
    return Daylight(level, warmth, (sv[0] / n, sv[1] / n, sv[2] / n))


# ---- camera and geometry --------------------------------------------------------------------


class _Camera:
    """Pinhole camera: world X right, Y up, Z forward (metres); image u right, v down."""

    def __init__(
        self, pos: Sequence[float], target: Sequence[float], f: float, w: int, h: int
    ) -> None:
        self.pos = np.asarray(pos, np.float64)
        d = np.asarray(target, np.float64) - self.pos
        yaw = math.atan2(d[0], d[2])
        pitch = math.atan2(-d[1], math.hypot(d[0], d[2]))
        self.fw = np.array(
            [math.sin(yaw) * math.cos(pitch), -math.sin(pitch), math.cos(yaw) * math.cos(pitch)]
        )
        self.r = np.array([math.cos(yaw), 0.0, -math.sin(yaw)])
        self.d = np.cross(self.r, self.fw)
        self.f, self.w, self.h = f, w, h
        self.cx, self.cy = w / 2, h / 2

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rel = np.atleast_2d(pts) - self.pos
        z = rel @ self.fw
        zs = np.where(z > 1e-6, z, 1e-6)
        u = self.cx + self.f * (rel @ self.r) / zs
        v = self.cy + self.f * (rel @ self.d) / zs
        return np.stack([u, v], axis=1), z

    def rays(self) -> np.ndarray:
        u = (np.arange(self.w, dtype=np.float64) + 0.5 - self.cx) / self.f
        v = (np.arange(self.h, dtype=np.float64) + 0.5 - self.cy) / self.f
        uu, vv = np.meshgrid(u, v)
        return (
            self.fw[None, None] + uu[..., None] * self.r[None, None] + vv[..., None] * self.d
        ).astype(np.float64)


@dataclass
class _Quad:
    """A textured rectangle: origin + a*eu + b*ev for a, b in [0, 1]; texture in metres."""

    origin: np.ndarray
    eu: np.ndarray
    ev: np.ndarray
    tex: Tex
    emit_day: Tex | None = None  # radiance seen through it in daylight (glass, sky, doorway)
    emit_lamp: tuple[float, float, float] | None = None  # lamp fixture radiance when lights on
    emit_night: tuple[float, float, float] | None = None  # street lamp, always on after dusk
    ir: float = 1.0  # infrared reflectance relative to visible grey (foliage is bright in IR)
    occluder: bool = False  # hides people standing behind it
    shade: float = 1.0  # direct-sun factor (under the roof of a porch: sky light only)


def _quad(
    o: Sequence[float], eu: Sequence[float], ev: Sequence[float], tex: Tex, **kw: Any
) -> _Quad:
    return _Quad(np.asarray(o, float), np.asarray(eu, float), np.asarray(ev, float), tex, **kw)


def _box(
    x0: float,
    x1: float,
    y0: float,
    y1: float,
    z0: float,
    z1: float,
    tex: Tex,
    top: Tex | None = None,
    **kw: Any,
) -> list[_Quad]:
    """The six faces of an axis-aligned box (the ray caster keeps whichever is nearest)."""
    dx, dy, dz = x1 - x0, y1 - y0, z1 - z0
    t = top or tex
    return [
        _quad((x0, y1, z0), (dx, 0, 0), (0, 0, dz), t, **kw),  # top
        _quad((x0, y0, z0), (dx, 0, 0), (0, dy, 0), tex, **kw),  # front (z0)
        _quad((x0, y0, z1), (dx, 0, 0), (0, dy, 0), tex, **kw),  # back (z1)
        _quad((x0, y0, z0), (0, 0, dz), (0, dy, 0), tex, **kw),  # side x0
        _quad((x1, y0, z0), (0, 0, dz), (0, dy, 0), tex, **kw),  # side x1
    ]


@dataclass
class _Blob:
    """A lumpy sphere (tree canopy, potted plant) drawn as an impostor."""

    center: np.ndarray
    radius: float
    tex: Tex
    ir: float = 2.2
    occluder: bool = True


# ---- textures -------------------------------------------------------------------------------


def _t_solid(
    rgb: Sequence[float], noise: _Noise | None = None, amount: float = 0.05, scale: float = 3.0
) -> Tex:
    base = _lin(rgb)

    def tex(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        out = np.broadcast_to(base, (len(u), 3)).copy()
        if noise is not None:
            out *= (1 - amount + 2 * amount * noise.fbm(u * scale, v * scale))[:, None]
        return out

    return tex


def _t_tiles(
    rgb: Sequence[float],
    size: float,
    grout: Sequence[float],
    salt: int,
    noise: _Noise,
    vary: float = 0.06,
    gw: float = 0.006,
) -> Tex:
    base, g = _lin(rgb), _lin(grout)

    def tex(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        iu, iv = np.floor(u / size), np.floor(v / size)
        fu, fv = u / size - iu, v / size - iv
        r = _cellrand(iu, iv, salt)
        speck = noise.fbm(u * 25, v * 25, 2)
        c = base[None] * (1 - vary + 2 * vary * r[:, None]) * (0.94 + 0.12 * speck[:, None])
        edge = np.minimum(np.minimum(fu, 1 - fu), np.minimum(fv, 1 - fv)) * size
        return np.where((edge < gw)[:, None], g[None], c).astype(np.float32)

    return tex


def _t_wall(
    rgb: Sequence[float],
    noise: _Noise,
    dado: tuple[float, Sequence[float]] | None,
    skirting: Sequence[float] = (80, 70, 60),
) -> Tex:
    """Painted plaster; optionally a darker dado (or tiled band) up to a height; a skirting."""
    base, sk = _lin(rgb), _lin(skirting)
    dh, dc = (dado[0], _lin(dado[1])) if dado else (0.0, base)

    def tex(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        n = noise.fbm(u * 2.0, v * 2.0, 3)
        c = np.where((v < dh)[:, None], dc[None], base[None]) * (0.95 + 0.1 * n[:, None])
        c = np.where((np.abs(v - dh) < 0.012)[:, None] & (dh > 0), dc[None] * 0.7, c)
        return np.where((v < 0.09)[:, None], sk[None], c).astype(np.float32)

    return tex


def _t_wood(rgb: Sequence[float], noise: _Noise, along_v: bool = False) -> Tex:
    base = _lin(rgb)

    def tex(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        a, b = (v, u) if along_v else (u, v)
        grain = np.sin(b * 90 + 8 * noise.fbm(a * 0.8, b * 6, 2)) * 0.5 + 0.5
        return (base[None] * (0.85 + 0.2 * grain[:, None])).astype(np.float32)

    return tex


def _t_image(img_rgb: np.ndarray, w_m: float, h_m: float, flip_v: bool = True) -> Tex:
    """Samples an sRGB image stretched over w_m x h_m metres (v up, image rows down)."""
    lin = (img_rgb.astype(np.float32) / 255.0) ** 2.2
    ih, iw = lin.shape[:2]

    def tex(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        mx = (np.clip(u / w_m, 0, 1) * (iw - 1)).astype(np.float32)
        vv = 1 - v / h_m if flip_v else v / h_m
        my = (np.clip(vv, 0, 1) * (ih - 1)).astype(np.float32)
        n = len(mx)
        cols = 1024  # remap wants maps under 32767 rows and columns
        pad = (-n) % cols
        mx, my = np.pad(mx, (0, pad)), np.pad(my, (0, pad))
        out = cv2.remap(lin, mx.reshape(-1, cols), my.reshape(-1, cols), cv2.INTER_LINEAR)
        return out.reshape(-1, 3)[:n]

    return tex


def _text_image(
    lines: Sequence[str],
    size: tuple[int, int],
    bg: Sequence[int],
    fg: Sequence[int],
    border: Sequence[int] | None = None,
) -> np.ndarray:
    """A sign board or poster as an RGB image, text centred and fitted to the width."""
    w, h = size
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = bg
    if border is not None:
        t = max(2, h // 25)
        cv2.rectangle(img, (t, t), (w - t - 1, h - t - 1), tuple(int(c) for c in border), t)
    font = cv2.FONT_HERSHEY_DUPLEX
    n = len(lines)
    row_h = h / (n + 0.6)
    for i, text in enumerate(lines):
        (tw, th), _ = cv2.getTextSize(text, font, 1.0, 2)
        scale = min(0.86 * w / max(tw, 1), 0.55 * row_h / th)
        thick = max(1, round(scale * 1.6))
        (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
        y = int(row_h * (i + 0.8) + th / 2)
        cv2.putText(
            img,
            text,
            ((w - tw) // 2, y),
            font,
            scale,
            tuple(int(c) for c in fg),
            thick,
            cv2.LINE_AA,
        )
    return img


# ---- lighting state -------------------------------------------------------------------------


@dataclass
class _Entry:
    """A rendered background for one lighting state, plus what the per-frame path needs."""

    bgr: np.ndarray
    ir: bool
    sigma: float
    gain: float
    level: float
    lights: bool
    shade_cache: dict[tuple[int, int], float] = field(default_factory=dict)


@dataclass
class _Placement:
    actor_id: str
    rgba: np.ndarray
    x: int
    y_feet: int
    dist: float
    shade: float


# ---- sprites (the colleague's bank) ---------------------------------------------------------


def _sprites() -> Any:
    from pantau.sim import sprites

    return sprites


@functools.cache
def _default_bank() -> Any:
    return _sprites().SpriteBank.load()


def min_reliable_height(frame_height: int) -> float:
    """Smallest person height (px at 360 rows, scaled) the detector finds reliably on a whole
    frame (two square halves, as the analytics' heartbeat pass does).

    Motion-guided crops find people down to ~40 px, but a person sitting still gives no
    motion to crop around, so the scenes are designed for the whole-frame figure.
    """
    try:
        base = float(_sprites().min_reliable_height("tiled_2x1", 360) or DEFAULT_MIN_HEIGHT)
    except (ImportError, AttributeError, OSError, ValueError):
        base = DEFAULT_MIN_HEIGHT
    return base * frame_height / 360.0


def design_height(frame_height: int) -> float:
    """Person height (px) the scenes guarantee at desks, counter, chairs and door."""
    return min(min_reliable_height(frame_height), DESIGN_HEIGHT_CAP * frame_height / 360.0)


# ---- the scene ------------------------------------------------------------------------------


@dataclass
class _Layout:
    """Where people go, in floor metres (X, Z)."""

    door: tuple[float, float]  # standing in the doorway
    inside: tuple[float, float]  # first step inside
    spots: dict[str, list[tuple[float, float]]]
    wander: list[tuple[float, float]]
    loop: list[tuple[float, float]]
    zone: Callable[[tuple[float, float]], int]
    gate: dict[int, tuple[float, float]]  # zone -> point on its side of the passage
    hidden_spots: bool = False  # entrance view: at their spot people are indoors


class Scene:
    """One simulated camera: an office (by seed) seen from one view, rendered at any instant."""

    def __init__(
        self,
        seed: int,
        view: View,
        width: int = 640,
        height: int = 360,
        tz: str = "Asia/Makassar",
        *,
        name: str = "",
        camera_name: str | None = None,
        tz_label: str = "WITA",
        osd: bool = True,
        bank: Any = None,
    ) -> None:
        if view not in ("interior", "entrance"):
            raise ValueError(f"unknown view {view!r}; known: interior, entrance")
        self.seed, self.view, self.width, self.height = int(seed), view, int(width), int(height)
        self.zone = ZoneInfo(tz)
        self.tz_label = tz_label
        self.name = name.strip()
        self.osd = osd
        default_cam = "CAM01 R.PELAYANAN" if view == "interior" else "CAM02 HALAMAN DEPAN"
        self.camera_name = camera_name if camera_name is not None else default_cam
        self._bank = bank
        self._rng = np.random.default_rng([self.seed, 1 if view == "interior" else 2, 7])
        self.noise = _Noise(_hash("noise", seed, view) % 2**32)
        self.mirror = bool(_hash("mirror", seed, view) % 2)
        self.quads: list[_Quad] = []
        self.blobs: list[_Blob] = []
        self.windows: list[tuple[np.ndarray, np.ndarray, float]] = []  # centre, inward normal, area
        self.lamps: list[np.ndarray] = []
        self.street_lamps: list[np.ndarray] = []
        self.footprints: list[tuple[float, float, float, float]] = []  # x0, x1, z0, z1
        self.facing = 2 * math.pi * _unit("facing", seed)
        if view == "interior":
            self._build_interior()
        else:
            self._build_entrance()
        self._cast()
        if self._place_spots():  # places moved back from furniture: aim and cast again
            self._fit_camera(self._mounts, self._key_floor_points(), self._pref)
            self._cast()
        self._light_maps()
        # Many cameras run side by side: keep only what composing a lighting state needs, at
        # half precision (it is cast up when used; a frame is 8 bits anyway).
        for name in ("albedo", "emit_day", "emit_lamp", "emit_night", "normal"):
            setattr(self, name, getattr(self, name).astype(np.float16))
        del self.points, self.dist, self.irm
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._noise_tiles: dict[tuple[float, bool], tuple[np.ndarray, np.ndarray]] = {}
        self._wall: np.ndarray | None = None
        self._cloth: np.ndarray | None = None
        self._tracks: dict[str, tuple[Any, Any, float]] = {}

    # ---- building the interior ----------------------------------------------------------

    def _mx(self, x: float) -> float:
        return self.room_w - x if self.mirror else x

    def _xs(self, x0: float, x1: float) -> tuple[float, float]:
        a, b = self._mx(x0), self._mx(x1)
        return (a, b) if a <= b else (b, a)

    def _fbox(self, x0: float, x1: float, y0: float, *args: Any, **kw: Any) -> list[_Quad]:
        """A box; boxes standing on the floor also leave a contact shadow around them."""
        if y0 < 0.05:
            self.footprints.append((x0, x1, args[1], args[2]))
        return _box(x0, x1, y0, *args, **kw)

    def _build_interior(self) -> None:
        rng, nz = self._rng, self.noise
        W = self.room_w = float(rng.uniform(5.7, 6.5))
        D = self.room_d = float(rng.uniform(5.9, 6.5))
        Hc = float(rng.uniform(3.0, 3.4))
        wall_rgb = [
            (238, 229, 200),
            (206, 226, 198),
            (205, 222, 232),
            (236, 234, 226),
            (240, 224, 196),
            (232, 214, 214),
        ][int(rng.integers(6))]
        dado = None
        if rng.random() < 0.6:
            dado = (
                float(rng.uniform(0.9, 1.2)),
                [(150, 120, 90), (170, 180, 160), (120, 140, 160), (190, 170, 140)][
                    int(rng.integers(4))
                ],
            )
        floor_rgb = [
            (232, 228, 218),
            (214, 206, 190),
            (200, 200, 198),
            (226, 214, 196),
            (188, 176, 160),
        ][int(rng.integers(5))]
        tile = float(rng.choice([0.4, 0.5, 0.6]))
        wood_rgb = [(140, 92, 56), (120, 78, 48), (170, 120, 80), (96, 66, 44)][
            int(rng.integers(4))
        ]
        seat_rgb = [(40, 70, 150), (40, 40, 44), (120, 120, 126), (150, 40, 40)][
            int(rng.integers(4))
        ]
        frame_rgb = [(200, 200, 204), (90, 60, 40), (230, 230, 230)][int(rng.integers(3))]
        salt = self.seed
        wall = _t_wall(wall_rgb, nz, dado)
        mx, xs = self._mx, self._xs
        q = self.quads
        # Room shell: floor, ceiling, four walls (u along the wall, v up).
        q.append(
            _quad(
                (0, 0, 0),
                (W, 0, 0),
                (0, 0, D),
                _t_tiles(floor_rgb, tile, [c * 0.8 for c in floor_rgb], salt, nz),
            )
        )
        q.append(
            _quad(
                (0, Hc, 0),
                (W, 0, 0),
                (0, 0, D),
                _t_tiles((236, 236, 232), 0.6, (205, 205, 200), salt + 1, nz, 0.02, 0.008),
            )
        )
        q.append(_quad((0, 0, D), (W, 0, 0), (0, Hc, 0), wall))  # back wall
        q.append(_quad((0, 0, 0), (W, 0, 0), (0, Hc, 0), wall))  # front wall (behind the camera)
        q.append(_quad((0, 0, 0), (0, 0, D), (0, Hc, 0), wall))  # left wall
        q.append(_quad((W, 0, 0), (0, 0, D), (0, Hc, 0), wall))  # right wall

        # Service counter across the room; a gap at one end lets staff through.
        zc = self.zc = float(D - rng.uniform(2.95, 3.1))
        ch, cd = float(rng.uniform(0.92, 1.0)), 0.5
        gap_near_door = bool(rng.random() < 0.5)
        c0, c1 = (0.05, W - 1.05) if gap_near_door else (1.05, W - 0.05)
        gap_x = W - 0.55 if gap_near_door else 0.55
        counter_front = [(118, 84, 56), (214, 208, 196), (60, 90, 130), (150, 40, 40)][
            int(rng.integers(4))
        ]
        top = _t_wood(wood_rgb, nz)
        x0, x1 = xs(c0, c1)
        panel = (
            _t_wood(counter_front, nz, along_v=True)
            if rng.random() < 0.5
            else _t_solid(counter_front, nz, 0.04)
        )
        q += self._fbox(x0, x1, 0, ch, zc, zc + cd, panel, top=top, occluder=True)
        # Staff desks behind the counter (monitors to one side), staff sit facing the room.
        aisle_z = zc + cd + 0.75
        desk_z = zc + cd + 1.1
        n_desk = int(rng.integers(2, 4))
        span0, span1 = (0.4, W - 1.6) if gap_near_door else (1.3, W - 0.9)
        desk_xs = [span0 + (span1 - span0) * (i + 0.5) / n_desk for i in range(n_desk)]
        desk_w = min(1.2, (span1 - span0) / n_desk - 0.3)
        desk_spots: list[tuple[float, float]] = []
        for dxc in desk_xs:
            a, b = xs(dxc - desk_w / 2, dxc + desk_w / 2)
            q += self._fbox(
                a, b, 0, 0.76, desk_z, desk_z + 0.6, _t_wood(wood_rgb, nz), occluder=True
            )
            side = desk_w / 2 - 0.2
            m0, m1 = xs(dxc + side - 0.2, dxc + side + 0.18)
            q += self._fbox(
                m0,
                m1,
                0.77,
                1.1,
                desk_z + 0.2,
                desk_z + 0.24,
                _t_solid((30, 30, 34)),
                occluder=True,
            )
            desk_spots.append((mx(dxc - 0.1), desk_z + 1.05))
        # Binders shelf or steel cabinet in the back corner on the gap side.
        cab_x = W - 0.5 if gap_near_door else 0.5
        a, b = xs(cab_x - 0.4, cab_x + 0.4)
        tex = _t_solid((150, 152, 150), nz, 0.03) if rng.random() < 0.5 else self._binders()
        q += self._fbox(a, b, 0, 1.9, D - 0.4, D, tex, occluder=True)
        # Door in the right wall (visitor side), a doorway open to the bright yard.
        dw, dh = 1.4, 2.3
        dz0 = float(zc - 0.35 - dw - rng.uniform(0.0, 0.2))
        door_x = mx(W)
        inward = -1.0 if not self.mirror else 1.0
        outside = self._outside_tex(salt + 5)
        q.append(
            _quad(
                (door_x + 0.01 * inward, 0, dz0),
                (0, 0, dw),
                (0, dh, 0),
                _t_solid((0, 0, 0)),
                emit_day=outside,
                ir=0.1,
            )
        )
        trim = _t_wood(wood_rgb, nz, along_v=True)
        for zz in (dz0 - 0.08, dz0 + dw):
            q.append(_quad((door_x + 0.02 * inward, 0, zz), (0, 0, 0.08), (0, dh + 0.08, 0), trim))
        q.append(
            _quad((door_x + 0.02 * inward, dh, dz0 - 0.08), (0, 0, dw + 0.16), (0, 0.08, 0), trim)
        )
        self.windows.append(
            (np.array([door_x, 1.15, dz0 + dw / 2]), np.array([inward, 0.0, 0.0]), dw * dh * 0.8)
        )
        # Visitors' chairs: a row of linked steel seats facing the counter, door side.
        n_chair = int(rng.integers(3, 5))
        chair_z = zc - float(rng.uniform(1.55, 1.7))
        cx0 = W - 2.1 - (n_chair - 1) * 0.56
        chair_spots: list[tuple[float, float]] = []
        seat = _t_solid(seat_rgb, nz, 0.05)
        chrome = _t_solid((170, 172, 176), nz, 0.1)
        q += self._fbox(
            *xs(cx0 - 0.3, cx0 + (n_chair - 1) * 0.56 + 0.3),
            0.36,
            0.4,
            chair_z + 0.18,
            chair_z + 0.24,
            chrome,
        )
        for i in range(n_chair):
            cxm = cx0 + i * 0.56
            a, b = xs(cxm - 0.24, cxm + 0.24)
            q += self._fbox(a, b, 0.40, 0.46, chair_z, chair_z + 0.45, seat, occluder=False)
            q += self._fbox(a, b, 0.52, 0.84, chair_z - 0.03, chair_z + 0.01, seat, occluder=True)
            for lx in (cxm - 0.2, cxm + 0.17):
                l0, l1 = xs(lx, lx + 0.03)
                q += self._fbox(l0, l1, 0.0, 0.40, chair_z + 0.05, chair_z + 0.4, chrome)
                q += self._fbox(l0, l1, 0.40, 0.53, chair_z - 0.02, chair_z + 0.01, chrome)
            chair_spots.append((mx(cxm), chair_z + 0.3))
        # Windows in the back wall behind the staff (backlight, as in many real offices).
        n_win = int(rng.integers(2, 4))
        blinds = bool(rng.random() < 0.5)
        for i in range(n_win):
            wx = W * (i + 0.5) / n_win
            ww, wy0, wy1 = 1.2, 1.0, 2.3
            if abs(wx - cab_x) < 1.1:
                continue
            self._window((wx - ww / 2, wy0), ww, wy1 - wy0, frame_rgb, blinds, salt + 10 + i)
        # Garuda and two framed portraits above the windows, a clock, posters by the door.
        gx = W * float(rng.uniform(0.4, 0.6))
        self._wall_item(gx - 0.18, 2.5, 0.36, 0.42, self._garuda())
        for off in (-0.72, 0.36):
            self._wall_item(gx + off, 2.42, 0.34, 0.44, self._portrait(salt + int(off * 10)))
        self._wall_item(gx + 1.2 if gx < W / 2 else gx - 1.5, 2.5, 0.3, 0.3, self._clock())
        poster = _text_image(
            ["MAKLUMAT", "PELAYANAN"],
            (240, 170),
            (245, 245, 240),
            (30, 40, 120),
            border=(180, 30, 30),
        )
        pz = dz0 + dw + 0.15
        if pz + 0.5 < zc:
            self._side_item(pz, 1.4, min(0.7, zc - pz - 0.05), 0.55, poster)
        board = self._notice_board(salt)
        if dz0 > 1.3:
            self._side_item(max(0.2, dz0 - 1.25), 1.2, min(1.1, dz0 - 0.3), 0.8, board)
        # Ceiling lamps (fluorescent fittings).
        for i in range(2):
            for j in range(2):
                lx, lz = W * (i + 0.5) / 2, D * (j + 0.5) / 2
                q.append(
                    _quad(
                        (lx - 0.6, Hc - 0.03, lz - 0.15),
                        (1.2, 0, 0),
                        (0, 0, 0.3),
                        _t_solid((242, 242, 240)),
                        emit_lamp=(3.0, 3.0, 3.0),
                    )
                )
                self.lamps.append(np.array([lx, Hc - 0.1, lz]))
        # Where people go.
        door_pt = (mx(W - 0.12), dz0 + dw / 2)
        inside = (mx(W - 0.8), dz0 + dw / 2)
        front = zc - 0.42
        slots = [(mx(c0 + (c1 - c0) * (i + 0.5) / 3), front) for i in range(3)]
        staff_counter = [(s[0], aisle_z) for s in slots]
        gxm = mx(gap_x)
        gate = {0: (gxm, zc - 0.5), 1: (gxm, aisle_z)}
        wander = [
            (mx(float(x)), float(z))
            for x, z in [
                (c0 + 0.8 if gap_near_door else c0 + 0.3, front - 0.3),
                (W * 0.45, front - 0.2),
                (W * 0.6, front - 0.6),
                (c0 + 0.6, aisle_z),
                ((c0 + c1) / 2, aisle_z),
            ]
        ]
        far_aisle = (mx(c0 + 0.5 if gap_near_door else c1 - 0.5), aisle_z)
        loop = [
            inside,
            (mx(W * 0.4), front - 0.3),
            gate[0],
            gate[1],
            far_aisle,
            gate[1],
            gate[0],
            inside,
        ]

        def zone(p: tuple[float, float]) -> int:
            return 1 if p[1] > zc + 0.2 else 0

        self.layout = _Layout(
            door=door_pt,
            inside=inside,
            spots={
                "desk": desk_spots + staff_counter,
                "counter": slots,
                "counter_staff": staff_counter,
                "visitor_chair": chair_spots,
            },
            wander=wander,
            loop=loop,
            zone=zone,
            gate=gate,
        )
        self.chair_z = chair_z
        # Camera high in the front corner (or along the front wall), looking over the visitors
        # at the counter; aimed and zoomed so every place people spend time is large enough.
        ch_ = float(rng.uniform(2.65, 2.85))
        self._fit_camera(
            [
                (mx(0.3), ch_, 0.3),
                (mx(W * 0.25), ch_, 0.25),
                (mx(0.3), ch_, 0.9),
                (mx(W * 0.5), ch_, 0.25),
            ],
            self._key_floor_points(),
            pref=float(rng.uniform(1.2, 1.3)),
            context=[(mx(0.6), 2.6, D), (mx(W - 0.6), 2.6, D), (door_x, dh, dz0 + dw / 2)],
        )

    def _key_floor_points(self) -> list[tuple[float, float]]:
        lay = self.layout
        if lay.hidden_spots:
            return [self.front_door, self.porch, lay.inside]
        pts = [lay.door, lay.inside]
        for v in lay.spots.values():
            pts += v
        return pts

    def _fit_camera(
        self,
        candidates: list[tuple[float, float, float]],
        floor_pts: list[tuple[float, float]],
        pref: float,
        context: list[tuple[float, float, float]] | None = None,
    ) -> None:
        """Aim and zoom so all key places are in frame and a short person there is detectable.

        Tries the mounting points in order, first also keeping some context in view (the back
        wall, the sign board), and takes the first that works, else the best: what an installer
        does with a varifocal lens.
        """
        self._mounts, self._pref = candidates, pref
        if context is not None:
            self._context = context
        ctx = np.array(getattr(self, "_context", []), float).reshape(-1, 3)
        W, H = self.width, self.height
        need = design_height(H) * 1.08
        key = np.array([[x, y, z] for x, z in floor_pts for y in (0.0, 1.55, 1.75)])
        best: tuple[float, _Camera] | None = None
        for extra in (ctx, ctx[:0]):
            P = np.vstack([key, extra])
            for pos in candidates:
                C = np.asarray(pos, float)
                cam = _Camera(C, P.mean(axis=0), 1.0, W, H)
                ok = True
                for _ in range(6):
                    rel = P - C
                    z = rel @ cam.fw
                    if (z < 0.3).any():
                        ok = False
                        break
                    x, y = (rel @ cam.r) / z, (rel @ cam.d) / z
                    mid_x, mid_y = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
                    cam = _Camera(C, C + cam.fw + cam.r * mid_x + cam.d * mid_y, 1.0, W, H)
                if not ok:
                    continue
                rel = P - C
                z = rel @ cam.fw
                x, y = (rel @ cam.r) / z, (rel @ cam.d) / z
                f_fit = min(W / 2 * 0.97 / np.abs(x).max(), H / 2 * 0.95 / np.abs(y).max())
                ky = y[: len(key)]
                hs = ky[0::3] - ky[1::3]  # a 1.55 m person, at f = 1
                f_need = need / hs.min()
                score = f_fit / f_need
                f = float(min(f_fit, max(f_need, pref * H)))
                if best is None or score > best[0]:
                    best = (score, _Camera(C, C + cam.fw, f, W, H))
                if score >= 1.0:
                    break
            if best is not None and best[0] >= 1.0:
                break
        assert best is not None
        self.cam = best[1]

    def _window(
        self,
        pos: tuple[float, float],
        w: float,
        h: float,
        frame_rgb: Sequence[int],
        blinds: bool,
        salt: int,
    ) -> None:
        """A window in the back wall: glass showing the outside, an aluminium frame."""
        D, q = self.room_d, self.quads
        x0 = self._mx(pos[0] + w) if self.mirror else pos[0]
        outside = self._outside_tex(salt)
        if blinds:
            inner = outside

            def outside(u: np.ndarray, v: np.ndarray, inner: Tex = inner) -> np.ndarray:
                slat = (np.mod(u, 0.1) < 0.075)[:, None]
                return np.where(slat, inner(u, v) * 0.22 + 0.05, inner(u, v))

        fr = _t_solid(frame_rgb)
        glass_tex = _t_solid((200, 200, 196)) if blinds else _t_solid((0, 0, 0))
        q.append(
            _quad((x0, pos[1], D - 0.01), (w, 0, 0), (0, h, 0), glass_tex, emit_day=outside, ir=0.1)
        )
        t = 0.05
        for xx in (x0 - t, x0 + w / 2 - t / 2, x0 + w):
            q.append(_quad((xx, pos[1] - t, D - 0.02), (t, 0, 0), (0, h + 2 * t, 0), fr))
        for yy in (pos[1] - t, pos[1] + h, pos[1] + h * 0.7):
            q.append(_quad((x0, yy, D - 0.02), (w, 0, 0), (0, t, 0), fr))
        self.windows.append(
            (np.array([x0 + w / 2, pos[1] + h / 2, D]), np.array([0, 0, -1.0]), w * h)
        )

    def _wall_item(self, x: float, y: float, w: float, h: float, img: np.ndarray) -> None:
        """A picture on the back wall (left edge x in canonical coordinates)."""
        x0 = self._mx(x + w) if self.mirror else x
        tex = _t_image(img, w, h)
        self.quads.append(_quad((x0, y, self.room_d - 0.015), (w, 0, 0), (0, h, 0), tex))

    def _side_item(self, z: float, y: float, w: float, h: float, img: np.ndarray) -> None:
        """A picture on the door wall; u runs along +Z."""
        xw = self._mx(self.room_w) + (0.015 if self.mirror else -0.015)
        if not self.mirror:  # u runs right to left as seen from inside: flip to read
            img = img[:, ::-1]
        self.quads.append(_quad((xw, y, z), (0, 0, w), (0, h, 0), _t_image(img, w, h)))

    def _outside_tex(self, salt: int) -> Tex:
        """What a window or doorway shows in daylight: yard, muted trees, a neighbour, sky."""
        nz = _Noise(salt)
        sky, leaf = _lin((205, 222, 240)), _lin((110, 135, 95))
        ground, wall = _lin((190, 184, 170)), _lin((215, 205, 188))

        def tex(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            n = nz.fbm(u * 1.5, v * 1.5, 3)[:, None]
            vv = v[:, None]
            tree_line = 1.5 + 0.7 * n
            out = np.where(
                vv > tree_line, sky[None] * (1.0 + 0.15 * (vv - 1.5)), leaf[None] * (0.7 + 0.6 * n)
            )
            house = (nz(u * 0.5, 3.0) > 0.5)[:, None] & (vv < 1.6)
            out = np.where(house, wall[None] * (0.9 + 0.2 * n), out)
            out = np.where(vv < 0.45, ground[None] * (0.9 + 0.2 * n), out)
            return (out * 9.0).astype(np.float32)

        return tex

    def _binders(self) -> Tex:
        cols = np.array(
            [
                _lin(c)
                for c in [
                    (30, 60, 140),
                    (160, 30, 30),
                    (30, 110, 50),
                    (200, 170, 40),
                    (40, 40, 40),
                    (220, 220, 220),
                ]
            ]
        )
        shelf = _lin((120, 90, 60))

        def tex(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            row = np.floor(v / 0.38)
            fv = v / 0.38 - row
            idx = (_cellrand(np.floor(u / 0.07), row, 9) * len(cols)).astype(int)
            c = cols[idx] * (0.8 + 0.2 * _cellrand(np.floor(u / 0.07), row, 3))[:, None]
            return np.where(((fv < 0.1) | (fv > 0.85))[:, None], shelf[None], c).astype(np.float32)

        return tex

    @staticmethod
    def _garuda() -> np.ndarray:
        img = np.full((84, 72, 3), (235, 232, 220), np.uint8)
        gold = (196, 150, 40)
        cv2.ellipse(img, (36, 46), (30, 22), 0, 180, 360, gold, -1)
        cv2.ellipse(img, (36, 50), (10, 22), 0, 0, 360, gold, -1)
        cv2.rectangle(img, (28, 38), (44, 58), (180, 30, 30), -1)
        cv2.rectangle(img, (28, 48), (44, 58), (240, 240, 240), -1)
        cv2.circle(img, (36, 22), 6, gold, -1)
        cv2.rectangle(img, (0, 0), (71, 83), (120, 90, 30), 3)
        return img

    @staticmethod
    def _portrait(salt: int) -> np.ndarray:
        """A framed official portrait, abstracted: background, uniform, a soft head shape."""
        img = np.full((96, 72, 3), (150, 40, 40) if salt % 2 else (40, 60, 140), np.uint8)
        cv2.ellipse(img, (36, 96), (30, 30), 0, 180, 360, (40, 40, 46), -1)
        cv2.rectangle(img, (0, 0), (71, 95), (170, 130, 40), 4)
        return img

    @staticmethod
    def _clock() -> np.ndarray:
        img = np.full((60, 60, 3), (240, 240, 240), np.uint8)
        cv2.circle(img, (30, 30), 28, (30, 30, 30), 3)
        cv2.line(img, (30, 30), (30, 12), (20, 20, 20), 2)
        cv2.line(img, (30, 30), (42, 34), (20, 20, 20), 2)
        return img

    @staticmethod
    def _notice_board(salt: int) -> np.ndarray:
        rng = np.random.default_rng(salt)
        img = np.full((160, 220, 3), (170, 120, 70), np.uint8)
        cv2.rectangle(img, (0, 0), (219, 159), (90, 60, 30), 6)
        for _ in range(9):
            x, y = int(rng.integers(10, 170)), int(rng.integers(10, 110))
            c = (245, 245, 240) if rng.random() < 0.7 else (250, 240, 150)
            cv2.rectangle(img, (x, y), (x + 38, y + 48), c, -1)
            for k in range(4):
                cv2.line(img, (x + 4, y + 8 + 9 * k), (x + 32, y + 8 + 9 * k), (90, 90, 90), 1)
        return img

    # ---- building the entrance ----------------------------------------------------------

    def _build_entrance(self) -> None:
        rng, nz = self._rng, self.noise
        salt = self.seed + 1000
        q = self.quads
        yard_w = self.room_w = float(rng.uniform(12.0, 14.0))
        zf = self.room_d = float(rng.uniform(5.6, 6.4))  # facade line
        hw = float(rng.uniform(3.6, 4.0))
        mx, xs = self._mx, self._xs
        paint = [
            (236, 230, 206),
            (214, 232, 214),
            (226, 226, 222),
            (240, 222, 190),
            (210, 226, 236),
        ][int(rng.integers(5))]
        trim_rgb = [(40, 110, 60), (60, 70, 130), (150, 60, 40), (90, 90, 90)][int(rng.integers(4))]
        roof_rgb = [(170, 80, 50), (80, 80, 90), (40, 80, 120), (150, 50, 40)][int(rng.integers(4))]
        # Ground: road on the left, a curb, the yard paved with blocks, grass strips.
        road_x = 0.0
        paving = bool(rng.random() < 0.6)
        pave_rgb = [(150, 150, 146), (170, 130, 110), (160, 158, 150)][int(rng.integers(3))]

        def ground(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            x = u - 40.0  # quad origin is 40 m to the left
            xc = self.room_w - x if self.mirror else x
            out = np.empty((len(u), 3), np.float32)
            road = xc < road_x - 0.6
            curb = (xc >= road_x - 0.6) & (xc < road_x)
            yard = xc >= road_x
            n = nz.fbm(u * 2, v * 2, 3)
            asphalt = _lin((72, 72, 74))[None] * (0.85 + 0.3 * n[:, None])
            line = (np.abs(xc - (road_x - 4.0)) < 0.07) & (np.mod(v, 4.0) < 2.2)
            asphalt = np.where(line[:, None], _lin((220, 220, 210))[None], asphalt)
            out[road] = asphalt[road]
            out[curb] = (_lin((170, 170, 165))[None] * (0.8 + 0.3 * n[:, None]))[curb]
            if paving:
                bw, bh = 0.2, 0.1
                row = np.floor(v / bh)
                col = np.floor((u + 0.5 * bw * (row % 2)) / bw)
                r = _cellrand(col, row, salt)
                fu = (u + 0.5 * bw * (row % 2)) / bw - col
                fv = v / bh - row
                blk = _lin(pave_rgb)[None] * (0.8 + 0.3 * r[:, None]) * (0.9 + 0.2 * n[:, None])
                joint = (fu < 0.06) | (fv < 0.1)
                blk = np.where(joint[:, None], blk * 0.6, blk)
            else:
                blk = _lin((175, 172, 165))[None] * (0.85 + 0.25 * n[:, None])
                blk = np.where((np.mod(v, 3.0) < 0.02)[:, None], blk * 0.7, blk)
            grass = _lin((86, 128, 60))[None] * (0.6 + 0.8 * nz.fbm(u * 6, v * 6, 3)[:, None])
            strip = (xc > road_x) & (xc < road_x + 1.4) | (v - 40.0 > zf - 0.9)
            yard_c = np.where(strip[:, None], grass, blk)
            out[yard] = yard_c[yard]
            return out

        q.append(_quad((-40, 0, -40), (100, 0, 0), (0, 0, 100), ground))
        # Across the road: a row of houses and trees, far away (a backdrop).
        far_x = mx(road_x - 9.0)
        houses = self._houses(salt)
        q.append(_quad((far_x, 0, -10), (0, 0, 60), (0, 7, 0), _t_image(houses, 60, 7), ir=1.5))
        # Behind the building: a tree line.
        q.append(_quad((-40, 0, zf + 14), (100, 0, 0), (0, 9, 0), self._treeline(salt), ir=2.2))
        # The office: facade with door, windows, a porch roof along the front.
        bx0, bx1 = 1.8, yard_w - 0.3
        a, b = xs(bx0, bx1)
        q.append(
            _quad(
                (a, 0, zf),
                (b - a, 0, 0),
                (0, hw, 0),
                _t_wall(paint, nz, (0.8, [c * 0.8 for c in paint]), (90, 90, 90)),
            )
        )
        door_c = bx0 + (bx1 - bx0) * float(rng.uniform(0.58, 0.68))
        self._facade_opening(door_c - 0.85, 0.0, 1.7, 2.5, kind="door", trim=trim_rgb)
        for wx in (door_c - 3.6, door_c - 2.0, door_c + 1.6, door_c + 3.2):
            if bx0 + 0.4 < wx < bx1 - 1.6:
                self._facade_opening(wx, 1.0, 1.2, 1.4, kind="window", trim=trim_rgb)
        # Name on the fascia and a roof overhang with a porch over the door.
        eave = 1.4
        roof_tex = self._roof_tex(roof_rgb, salt)
        q.append(_quad((a, hw, zf - eave), (b - a, 0, 0), (0, 2.0, eave + 3.5), roof_tex, ir=0.8))
        fascia_img = _text_image(
            [f"KANTOR KELURAHAN {self.name.upper()}" if self.name else "KANTOR KELURAHAN"],
            (900, 60),
            (245, 245, 240),
            trim_rgb,
        )
        fascia = _t_image(fascia_img, b - a, 0.42)
        q.append(_quad((a, hw - 0.42, zf - eave), (b - a, 0, 0), (0, 0.42, 0), fascia))
        q.append(
            _quad(
                (a, hw - 0.42, zf - eave),
                (b - a, 0, 0),
                (0, 0, eave),
                _t_solid((220, 220, 215)),
                shade=0.35,
            )
        )  # soffit
        for cxp in (door_c - 2.4, door_c + 2.4, bx0 + 0.4, bx1 - 0.4):
            c0, c1 = xs(cxp - 0.15, cxp + 0.15)
            q += self._fbox(
                c0,
                c1,
                0,
                hw - 0.42,
                zf - eave + 0.1,
                zf - eave + 0.4,
                _t_solid((236, 236, 230), nz, 0.03),
                occluder=True,
            )
        # Porch floor (tiles) in front of the door.
        p0, p1 = xs(door_c - 2.6, door_c + 2.6)
        q.append(
            _quad(
                (p0, 0.02, zf - eave),
                (p1 - p0, 0, 0),
                (0, 0, eave),
                _t_tiles((200, 190, 176), 0.4, (150, 140, 130), salt, nz),
                shade=0.4,
            )
        )
        # Fence wall along the road with a gate opening.
        gate_z = float(rng.uniform(1.5, 3.0))
        fence = _t_solid((200, 200, 196), nz, 0.06)
        for z0, z1 in ((-6.0, gate_z), (gate_z + 3.2, zf + 1.0)):
            f0, f1 = xs(road_x, road_x + 0.2)
            q += self._fbox(f0, f1, 0, 0.9, z0, z1, fence, occluder=True)
        # Sign board near the gate, on two posts.
        sign_img = _text_image(
            [
                "PEMERINTAH KOTA KENDARI",
                "KANTOR KELURAHAN",
                self.name.upper() if self.name else "KELURAHAN",
            ],
            (420, 200),
            (20, 90, 60) if rng.random() < 0.5 else (30, 60, 130),
            (250, 250, 245),
            border=(240, 200, 40),
        )
        sx, sz = road_x + 1.0, gate_z + 4.4
        for dz in (-0.9, 0.9):
            p0, p1 = xs(sx, sx + 0.1)
            q += self._fbox(
                p0,
                p1,
                0,
                2.4,
                sz + dz - 0.05,
                sz + dz + 0.05,
                _t_solid((60, 60, 60)),
                occluder=True,
            )
        s0 = mx(sx + 0.12)
        # facing into the yard, readable from the camera's side
        z0, dz = (sz - 1.0, 2.0) if not self.mirror else (sz + 1.0, -2.0)
        q.append(
            _quad(
                (s0, 1.4, z0), (0, 0, dz), (0, 1.0, 0), _t_image(sign_img, 2.0, 1.0), occluder=True
            )
        )
        # Flag pole in the yard.
        fpx, fpz = road_x + 3.5, zf - 3.4
        p0, p1 = xs(fpx - 0.04, fpx + 0.04)
        q += self._fbox(
            p0, p1, 0, 6.5, fpz - 0.04, fpz + 0.04, _t_solid((220, 220, 220)), occluder=True
        )
        flag = np.zeros((60, 90, 3), np.uint8)
        flag[:30] = (200, 20, 30)
        flag[30:] = (245, 245, 245)
        f0 = mx(fpx + 0.05) if not self.mirror else mx(fpx + 0.05) - 1.35
        q.append(_quad((f0, 5.4, fpz), (1.35, 0, 0), (0, 0.9, 0), _t_image(flag, 1.35, 0.9)))
        q += self._fbox(
            *xs(fpx - 0.5, fpx + 0.5),
            0,
            0.25,
            fpz - 0.5,
            fpz + 0.5,
            _t_solid((190, 190, 186), nz, 0.06),
        )
        # Trees: one by the fence, maybe one at the far right corner; potted plants by the porch.
        leaf = self._leaf_tex(salt)
        for tx, tz, r, hgt in (
            (road_x + 1.0, zf - 1.0, 1.9, 4.2),
            (road_x + 1.1, gate_z - 1.2, 1.6, 3.9),
        ):
            if rng.random() < 0.85:
                t0, t1 = xs(tx - 0.13, tx + 0.13)
                bark = _t_wood((90, 70, 50), nz, True)
                q += self._fbox(t0, t1, 0, hgt, tz - 0.13, tz + 0.13, bark, occluder=True)
                self.blobs.append(_Blob(np.array([mx(tx), hgt + r * 0.45, tz]), r, leaf))
        for px in (door_c - 1.5, door_c + 1.5):
            p0, p1 = xs(px - 0.22, px + 0.22)
            q += self._fbox(
                p0, p1, 0, 0.45, zf - 0.75, zf - 0.31, _t_solid((120, 70, 50), nz), occluder=True
            )
            self.blobs.append(_Blob(np.array([mx(px), 0.85, zf - 0.53]), 0.45, leaf))
        # Street lamp at the road (lit after dusk) and a porch lamp by the door (the lights).
        lx, lz = road_x - 0.3, zf - 1.5
        l0, l1 = xs(lx - 0.06, lx + 0.06)
        q += self._fbox(
            l0, l1, 0, 6.0, lz - 0.06, lz + 0.06, _t_solid((110, 110, 110)), occluder=True
        )
        h0, h1 = xs(lx - 0.2, lx + 0.6)
        q += self._fbox(
            h0,
            h1,
            5.85,
            6.05,
            lz - 0.15,
            lz + 0.15,
            _t_solid((200, 200, 190)),
            emit_night=(4.0, 3.0, 1.6),
        )
        self.street_lamps.append(np.array([mx(lx + 0.3), 5.8, lz]))
        pl0, pl1 = xs(door_c - 0.15, door_c + 0.15)
        q += self._fbox(
            pl0,
            pl1,
            hw - 0.7,
            hw - 0.5,
            zf - eave + 0.4,
            zf - eave + 0.6,
            _t_solid((235, 235, 225)),
            emit_lamp=(5.0, 4.5, 3.6),
        )
        self.lamps.append(np.array([mx(door_c), hw - 0.75, zf - eave + 0.5]))
        self.zf, self.hw, self.eave = zf, hw, eave
        door_pt = (mx(door_c), zf - 0.05)
        inside = (mx(door_c), zf - 0.9)
        gate_pt = (mx(road_x + 0.6), gate_z + 1.6)
        gate3 = (gate_pt[0], 0.0, gate_pt[1])
        yard_mid = (mx(door_c - 1.0), zf - 3.0)
        wander = [
            (mx(x), z)
            for x, z in [
                (door_c - 2.0, zf - 2.2),
                (door_c + 1.0, zf - 2.5),
                (road_x + 2.5, gate_z + 1.5),
                (door_c, zf - 4.0),
                (yard_w - 3.0, zf - 3.0),
            ]
        ]
        loop = [
            yard_mid,
            inside,
            (mx(door_c + 3.0), zf - 2.0),
            (mx(yard_w - 3.0), zf - 4.5),
            (mx(road_x + 2.5), gate_z + 2.5),
            yard_mid,
        ]

        def zone(p: tuple[float, float]) -> int:
            return 0

        self.layout = _Layout(
            door=gate_pt,
            inside=yard_mid,
            spots={},
            wander=wander,
            loop=loop,
            zone=zone,
            gate={0: gate_pt},
            hidden_spots=True,
        )
        self.front_door = door_pt
        self.porch = inside
        # Camera on a pole or the fence at the near corner of the yard, looking at the door.
        ch_ = float(rng.uniform(3.2, 3.6))
        self._fit_camera(
            [
                (mx(yard_w - 0.3), ch_, float(rng.uniform(-0.4, 0.2))),
                (mx(yard_w - 0.3), ch_, 1.0),
                (mx(yard_w - 1.5), ch_, 1.5),
            ],
            [*self._key_floor_points(), yard_mid],
            pref=float(rng.uniform(1.1, 1.2)),
            context=[
                (mx(door_c), hw + 0.3, zf - eave),
                (mx(sx), 2.4, sz),
                (mx(fpx), 2.5, fpz),
                gate3,
            ],
        )

    def _facade_opening(
        self, x: float, y: float, w: float, h: float, kind: str, trim: Sequence[int]
    ) -> None:
        zf, q = self.room_d, self.quads
        a, b = self._xs(x, x + w)
        dark = _t_solid((30, 34, 40) if kind == "window" else (50, 40, 34))
        sky = _lin((120, 135, 150))

        def reflect(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            return (
                np.broadcast_to(sky * 0.35 * (0.7 + 0.3 * v / h)[:, None], (len(u), 3)).copy()
                if kind == "window"
                else np.zeros((len(u), 3), np.float32)
            )

        glow = (0.6, 0.55, 0.45) if kind == "window" else (0.45, 0.4, 0.34)
        q.append(
            _quad(
                (a, y, zf - 0.02),
                (b - a, 0, 0),
                (0, h, 0),
                dark,
                emit_day=reflect,
                emit_lamp=glow,
                ir=0.3,
            )
        )
        fr = _t_solid(trim)
        t = 0.07
        q.append(_quad((a - t, y + h, zf - 0.03), (b - a + 2 * t, 0, 0), (0, t, 0), fr))
        for xx in (a - t, b):
            q.append(_quad((xx, y, zf - 0.03), (t, 0, 0), (0, h, 0), fr))
        mid = (a + b) / 2
        q.append(_quad((mid - 0.025, y, zf - 0.03), (0.05, 0, 0), (0, h, 0), fr))
        if kind == "window":
            q.append(_quad((a - t, y - t, zf - 0.03), (b - a + 2 * t, 0, 0), (0, t, 0), fr))

    def _roof_tex(self, rgb: Sequence[int], salt: int) -> Tex:
        base = _lin(rgb)
        nz = self.noise

        def tex(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            row = np.floor(v / 0.33)
            r = _cellrand(np.floor(u / 0.3 + 0.5 * (row % 2)), row, salt)
            fv = v / 0.33 - row
            c = base[None] * (0.75 + 0.35 * r[:, None]) * (0.9 + 0.2 * nz(u * 3, v * 3)[:, None])
            return np.where((fv > 0.85)[:, None], c * 0.55, c).astype(np.float32)

        return tex

    def _leaf_tex(self, salt: int) -> Tex:
        nz = _Noise(salt + 3)
        dark, light = _lin((40, 80, 34)), _lin((110, 150, 60))

        def tex(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            n = nz.fbm(u * 9, v * 9, 3)[:, None]
            return (dark[None] * (1 - n) + light[None] * n).astype(np.float32)

        return tex

    def _treeline(self, salt: int) -> Tex:
        nz = _Noise(salt + 4)
        leaf = _lin((60, 100, 50))

        def tex(u: np.ndarray, v: np.ndarray) -> np.ndarray:
            top = 4.0 + 4.0 * nz.fbm(u * 0.25, 1.0, 3)
            n = nz.fbm(u * 2, v * 2, 3)[:, None]
            c = leaf[None] * (0.5 + 0.9 * n)
            # above the tree tops: transparent is not available, so show sky-coloured haze
            sky = np.broadcast_to(_lin((190, 210, 235)) * 2.2, (len(u), 3))
            return np.where((v > top)[:, None], sky, c).astype(np.float32)

        return tex

    def _houses(self, salt: int) -> np.ndarray:
        rng = np.random.default_rng(salt)
        img = np.zeros((140, 1200, 3), np.uint8)
        img[:] = (150, 190, 120)
        x = 0
        while x < 1200:
            w = int(rng.integers(70, 160))
            hgt = int(rng.integers(50, 80))
            col = tuple(int(c) for c in rng.integers(150, 240, 3))
            cv2.rectangle(img, (x, 140 - hgt), (x + w - 8, 139), col, -1)
            roof = tuple(int(rng.integers(lo, hi)) for lo, hi in ((90, 180), (40, 90), (30, 70)))
            pts = np.array([[x - 6, 140 - hgt], [x + w // 2, 140 - hgt - 28], [x + w, 140 - hgt]])
            cv2.fillConvexPoly(img, pts, roof)
            for k in range(2):
                wx = x + 12 + k * (w // 2)
                top = 140 - hgt
                cv2.rectangle(img, (wx, top + 18), (wx + 18, top + 40), (50, 50, 55), -1)
            x += w + int(rng.integers(10, 60))
            if rng.random() < 0.5:
                cx = x - 20
                cv2.circle(img, (cx, 50), int(rng.integers(25, 45)), (50, 90, 45), -1)
        return cv2.GaussianBlur(img, (3, 3), 0)

    # ---- ray casting (once per scene) ---------------------------------------------------

    def _cast(self) -> None:
        """Per pixel: nearest surface, its texture colour, normal, distance; done once."""
        cam, H, W = self.cam, self.height, self.width
        dirs = cam.rays()
        C = cam.pos
        depth = np.full((H, W), np.inf)
        qid = np.full((H, W), -1, np.int32)
        uu = np.zeros((H, W), np.float32)
        vv = np.zeros((H, W), np.float32)
        for i, qd in enumerate(self.quads):
            n = np.cross(qd.eu, qd.ev)
            nn = np.linalg.norm(n)
            if nn == 0:
                continue
            n = n / nn
            corners = np.array(
                [qd.origin, qd.origin + qd.eu, qd.origin + qd.ev, qd.origin + qd.eu + qd.ev]
            )
            uv, z = cam.project(corners)
            if (z > 0.05).all():
                x0 = int(max(0, math.floor(uv[:, 0].min()) - 1))
                x1 = int(min(W, math.ceil(uv[:, 0].max()) + 2))
                y0 = int(max(0, math.floor(uv[:, 1].min()) - 1))
                y1 = int(min(H, math.ceil(uv[:, 1].max()) + 2))
                if x0 >= x1 or y0 >= y1:
                    continue
            elif (z <= 0.05).all():
                continue
            else:
                x0, x1, y0, y1 = 0, W, 0, H
            d = dirs[y0:y1, x0:x1]
            denom = d @ n
            with np.errstate(divide="ignore", invalid="ignore"):
                t = ((qd.origin - C) @ n) / denom
            p = C + t[..., None] * d - qd.origin
            lu, lv = float(qd.eu @ qd.eu), float(qd.ev @ qd.ev)
            a = (p @ qd.eu) / lu
            b = (p @ qd.ev) / lv
            ok = (t > 1e-3) & (a >= 0) & (a <= 1) & (b >= 0) & (b <= 1) & (t < depth[y0:y1, x0:x1])
            ok &= np.isfinite(t)
            if not ok.any():
                continue
            depth[y0:y1, x0:x1][ok] = t[ok]
            qid[y0:y1, x0:x1][ok] = i
            uu[y0:y1, x0:x1][ok] = (a * math.sqrt(lu))[ok]
            vv[y0:y1, x0:x1][ok] = (b * math.sqrt(lv))[ok]
        albedo = np.zeros((H, W, 3), np.float32)
        emit_day = np.zeros((H, W, 3), np.float32)
        emit_lamp = np.zeros((H, W, 3), np.float32)
        emit_night = np.zeros((H, W, 3), np.float32)
        normal = np.zeros((H, W, 3), np.float32)
        irm = np.ones((H, W), np.float32)
        occ = np.zeros((H, W), bool)
        shade = np.ones((H, W), np.float32)
        for i, qd in enumerate(self.quads):
            m = qid == i
            if not m.any():
                continue
            u, v = uu[m], vv[m]
            albedo[m] = qd.tex(u, v)
            n = np.cross(qd.eu, qd.ev)
            n = n / np.linalg.norm(n)
            if (C - qd.origin) @ n < 0:
                n = -n
            normal[m] = n
            if qd.emit_day is not None:
                emit_day[m] = qd.emit_day(u, v)
            if qd.emit_lamp is not None:
                emit_lamp[m] = qd.emit_lamp
            if qd.emit_night is not None:
                emit_night[m] = qd.emit_night
            irm[m] = qd.ir
            occ[m] = qd.occluder
            shade[m] = qd.shade
        sky = qid < 0
        if sky.any():  # only outdoors: a gradient sky, whiter at the horizon
            up = np.clip(dirs[..., 1] / np.linalg.norm(dirs, axis=2), 0, 1)[sky]
            top, hor = _lin((120, 165, 225)), _lin((215, 228, 240))
            emit_day[sky] = (hor[None] * (1 - up[:, None]) + top[None] * up[:, None]) * 3.0
            irm[sky] = 0.0
        for blob in self.blobs:
            self._cast_blob(
                blob, dirs, depth, albedo, normal, irm, occ, emit_day, emit_lamp, emit_night, shade
            )
        pts = C + depth[..., None] * dirs
        pts[~np.isfinite(depth)] = C + 200 * dirs[~np.isfinite(depth)]
        horiz = np.hypot(pts[..., 0] - C[0], pts[..., 2] - C[2]).astype(np.float32)
        self.albedo, self.normal, self.irm, self.shade = albedo, normal, irm, shade
        self.emit_day, self.emit_lamp, self.emit_night = emit_day, emit_lamp, emit_night
        self.points = pts.astype(np.float32)
        self.dist = np.linalg.norm(pts - C, axis=2).astype(np.float32)
        self.occ_dist = np.where(occ, horiz, np.inf).astype(np.float32)

    def _cast_blob(
        self, blob: _Blob, dirs: np.ndarray, depth: np.ndarray, *layers: np.ndarray
    ) -> None:
        albedo, normal, irm, occ, emit_day, emit_lamp, emit_night, shade = layers
        cam = self.cam
        uv, z = cam.project(blob.center[None])
        if z[0] <= 0.1:
            return
        rp = cam.f * blob.radius / z[0] * 1.35
        x0, x1 = int(max(0, uv[0, 0] - rp)), int(min(self.width, uv[0, 0] + rp + 1))
        y0, y1 = int(max(0, uv[0, 1] - rp)), int(min(self.height, uv[0, 1] + rp + 1))
        if x0 >= x1 or y0 >= y1:
            return
        d = dirs[y0:y1, x0:x1]
        dn = d / np.linalg.norm(d, axis=2, keepdims=True)
        oc = blob.center - cam.pos
        tc = dn @ oc
        perp = np.sqrt(np.maximum(0, oc @ oc - tc**2))
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        lump = self.noise.fbm(xx / max(3.0, rp / 5), yy / max(3.0, rp / 5), 3)
        r = blob.radius * (0.7 + 0.55 * lump)
        inside = perp < r
        tt = tc - np.sqrt(np.maximum(0, r**2 - perp**2))
        tlin = tt / np.linalg.norm(d, axis=2)  # back to the ray parameter of `dirs`
        ok = inside & (tlin < depth[y0:y1, x0:x1]) & (tlin > 0)
        if not ok.any():
            return
        hit = cam.pos + tt[..., None] * dn
        nrm = hit - blob.center
        nrm /= np.linalg.norm(nrm, axis=2, keepdims=True) + 1e-9
        u = hit[..., 0] + hit[..., 2]
        v = hit[..., 1]
        depth[y0:y1, x0:x1][ok] = tlin[ok]
        albedo[y0:y1, x0:x1][ok] = blob.tex(u[ok], v[ok])
        normal[y0:y1, x0:x1][ok] = nrm[ok]
        irm[y0:y1, x0:x1][ok] = blob.ir
        occ[y0:y1, x0:x1][ok] = blob.occluder
        for layer in (emit_day, emit_lamp, emit_night):
            layer[y0:y1, x0:x1][ok] = 0
        shade[y0:y1, x0:x1][ok] = 0.8

    # ---- light maps (once per scene) ----------------------------------------------------

    def _irradiance(self, pts: np.ndarray, nrm: np.ndarray) -> tuple[np.ndarray, ...]:
        """Daylight (windows, or sky), lamp and street-lamp irradiance at points with normals."""
        shape = pts.shape[:-1]
        day = np.zeros(shape, np.float32)
        if self.view == "interior":
            for c, wn, area in self.windows:
                d = c - pts
                r2 = (d * d).sum(-1) + 0.15
                r = np.sqrt(r2)
                cos_s = np.clip(-(d @ wn) / r, 0, 1)
                cos_r = np.clip((d * nrm).sum(-1) / r, 0, 1)
                day += area * cos_s * (0.25 + cos_r) / (math.pi * r2 + area)
            day = day * 1.6 + 0.12
        else:
            day = 0.55 + 0.45 * np.clip(nrm[..., 1], -1, 1)
        lamp = np.zeros(shape, np.float32)
        for lp in self.lamps:
            d = lp - pts
            r2 = (d * d).sum(-1) + 0.2
            r = np.sqrt(r2)
            cos_r = np.clip((d * nrm).sum(-1) / r, 0, 1)
            down = np.clip(-d[..., 1] / r, 0, 1) if self.view == "interior" else 1.0
            lamp += (0.35 + cos_r) * (0.3 + down) / r2
        lamp = lamp * (2.4 if self.view == "interior" else 0.35)
        if self.view == "interior":
            lamp += 0.08 * len(self.lamps)
        street = np.zeros(shape, np.float32)
        for lp in self.street_lamps:
            d = lp - pts
            r2 = (d * d).sum(-1) + 1.0
            cos_r = np.clip((d * nrm).sum(-1) / np.sqrt(r2), 0, 1)
            street += 6.0 * (0.2 + cos_r) / r2
        return day.astype(np.float32), lamp.astype(np.float32), street.astype(np.float32)

    def _occlusion(self) -> np.ndarray:
        """Ambient occlusion: floor darker around furniture, rooms darker into the corners."""
        P = self.points
        x, y, z = P[..., 0], P[..., 1], P[..., 2]
        ao = np.ones(x.shape, np.float32)
        floor = np.abs(y) < 0.03
        for x0, x1, z0, z1 in self.footprints:
            dx = np.maximum(np.maximum(x0 - x, x - x1), 0)
            dz = np.maximum(np.maximum(z0 - z, z - z1), 0)
            d = np.hypot(dx, dz)
            ao *= np.where(floor, 1 - 0.45 * np.exp(-d / 0.12), 1.0).astype(np.float32)
        if self.view == "interior":
            W, D = self.room_w, self.room_d
            Hc = float(self.quads[1].origin[1])
            d = np.stack([x, W - x, y, Hc - y, z, D - z])
            d = np.where(d < 0.02, np.inf, d).min(axis=0)
            ao *= (1 - 0.35 * np.exp(-d / 0.35)).astype(np.float32)
        return ao

    def _light_maps(self) -> None:
        self.albedo *= self._occlusion()[..., None]
        self.l_day, self.l_lamp, self.l_street = self._irradiance(self.points, self.normal)
        # Infrared illuminator on the camera: falls off with distance, brightest in the middle.
        H, W = self.height, self.width
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        rr = ((xx - W / 2) / (W / 2)) ** 2 + ((yy - H / 2) / (H / 2)) ** 2
        self.vignette = (1.0 - 0.28 * rr).astype(np.float32)
        cosv = np.clip(
            -(self.normal * (self.points - self.cam.pos)).sum(-1) / (self.dist + 1e-6), 0.15, 1
        )
        self.ir_light = (
            np.exp(-1.4 * rr) * (0.4 + 0.6 * cosv) * 30.0 / (self.dist**1.5 + 6.0)
        ).astype(np.float32)
        grey = self.albedo @ np.array([0.3, 0.55, 0.15], np.float32)
        self.ir_albedo = np.clip(grey * self.irm + 0.03 * (self.irm > 0), 0, 1).astype(np.float32)

    # ---- lighting state -> cached background --------------------------------------------

    def _state(self, at: datetime, lights_on: bool) -> tuple[Daylight, tuple]:
        dl = daylight(at, self.seed, self.zone, self.facing)
        lq = round(math.log2(dl.level + 1e-3) * 12) / 12
        wq = round(dl.warmth * 5) / 5
        sun_slot = 0
        if self.view == "entrance":
            local = at.astimezone(self.zone)
            sun_slot = (local.hour * 60 + local.minute) // 20
        return dl, (lq, wq, sun_slot, bool(lights_on))

    def _entry(self, at: datetime, lights_on: bool) -> _Entry:
        dl, key = self._state(at, lights_on)
        hit = self._entries.get(key)
        if hit is not None:
            self._entries.move_to_end(key)
            return hit
        entry = self._compose(dl, key)
        self._entries[key] = entry
        if len(self._entries) > CACHE_STATES:
            self._entries.popitem(last=False)
        return entry

    def _tints(self, dl: Daylight) -> tuple[np.ndarray, np.ndarray]:
        warm = dl.warmth
        day_tint = np.array([1.0 + 0.25 * warm, 1.0 - 0.02 * warm, 0.97 - 0.35 * warm], np.float32)
        lamp_tint = (
            np.array([1.0, 0.97, 0.92], np.float32)
            if self.seed % 3
            else np.array([1.0, 0.88, 0.7], np.float32)
        )
        return day_tint, lamp_tint

    def _compose(self, dl: Daylight, key: tuple) -> _Entry:
        level = 2.0 ** key[0] - 1e-3 if key[0] > -9.9 else 0.0
        level = max(0.0, level)
        lights = key[3]
        day_tint, lamp_tint = self._tints(dl)
        lamp_k = 1.0 if lights else 0.0
        night = max(0.0, 1.0 - level / 0.03)
        if self.view == "interior":
            e = (level * self.l_day)[..., None] * day_tint + (lamp_k * self.l_lamp)[
                ..., None
            ] * lamp_tint
            e += 0.0004  # a little stray light from the street
        else:
            sun = np.array(dl.sun, np.float32)
            direct = np.clip(self.normal @ sun, 0, None) * self.shade * (sun[1] > 0)
            sky = level * (0.35 * self.l_day + 1.6 * direct * min(1.0, level * 1.5))
            e = sky[..., None] * day_tint
            e += (lamp_k * self.l_lamp)[..., None] * lamp_tint
            e += (night * self.l_street)[..., None] * np.array([1.0, 0.8, 0.55], np.float32)
            e += 0.0006
        rad = self.albedo * e
        rad += self.emit_day * (level * day_tint)
        rad += self.emit_lamp * lamp_k * lamp_tint
        rad += self.emit_night * night
        luma = float(np.clip(rad @ np.array([0.3, 0.55, 0.15], np.float32), 0, 2.0).mean())
        # The day/night switch meters the scene without the street lamp's pool (its own
        # sensor points at the sky, as on real cameras): outdoors at night is infrared.
        if self.view == "entrance":
            day_only = self.albedo * sky[..., None] * day_tint + self.emit_day * level
            meter = float(np.clip(day_only @ np.array([0.3, 0.55, 0.15], np.float32), 0, 2).mean())
        else:
            meter = luma
        if meter < IR_LUMA:
            return self._compose_ir(level, lights)
        gain = float(np.clip((0.3 / luma) ** 0.8, 0.2, MAX_GAIN))
        img = np.clip(rad * gain * self.vignette[..., None], 0, 1) ** (1 / 2.2)
        img = cv2.GaussianBlur(img, (0, 0), 0.6 * self.height / 360)
        bgr = (img[..., ::-1] * 255 + 0.5).astype(np.uint8)
        sigma = float(np.clip(round(2 * (1.3 + 9.0 * (gain / MAX_GAIN) ** 1.2)) / 2, 1.5, 10))
        return _Entry(np.ascontiguousarray(bgr), False, sigma, gain, level, lights)

    def _compose_ir(self, level: float, lights: bool) -> _Entry:
        """Night without lights: the camera's IR illuminator, grey, grainy, bright centre."""
        rad = self.ir_albedo * self.ir_light
        if lights:  # lamps still show as bright areas in the IR picture
            k = 0.15 if self.view == "interior" else 0.9
            rad = rad + (self.emit_lamp.mean(axis=2) * k) + self.ir_albedo * self.l_lamp * 0.05
        rad = rad + self.emit_night.mean(axis=2) * 0.3
        gain = float(0.035 / max(1e-4, float(np.median(rad))))
        gain = min(gain, 40.0)
        img = np.clip(rad * gain, 0, 1) ** (1 / 2.2) * 0.9
        img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), 0.9 * self.height / 360)
        grey = (img * 255 + 0.5).astype(np.uint8)
        bgr = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
        return _Entry(bgr, True, 9.0, gain, level, lights)

    def _noise(self, sigma: float, mono: bool) -> tuple[np.ndarray, np.ndarray]:
        key = (sigma, mono)
        tiles = self._noise_tiles.get(key)
        if tiles is None:
            rng = np.random.default_rng([self.seed, round(sigma * 2), int(mono), 11])
            shape = (self.height + NOISE_PAD, self.width + NOISE_PAD)
            if mono:
                n = rng.normal(0, sigma, shape).astype(np.float32)[..., None].repeat(3, axis=2)
            else:
                luma = rng.normal(0, sigma, shape).astype(np.float32)[..., None]
                chroma = rng.normal(0, sigma * 0.35, (*shape, 3)).astype(np.float32)
                n = luma + chroma
            pos = np.clip(n, 0, 255).astype(np.uint8)
            neg = np.clip(-n, 0, 255).astype(np.uint8)
            tiles = (pos, neg)
            self._noise_tiles[key] = tiles
        return tiles

    # ---- people -------------------------------------------------------------------------

    @property
    def bank(self) -> Any:
        if self._bank is None:
            self._bank = _default_bank()
        return self._bank

    def _track_for(self, actor_id: str) -> tuple[dict[str, Any], Any, float]:
        """The actor's walk cycles (by screen direction), standing track and body height.

        Fixed by a hash of the actor id, so the same person looks the same all day. Walk cycles
        are grouped as the source camera saw them: sideways (flipped to face the way the person
        goes), towards or away from the camera.
        """
        got = self._tracks.get(actor_id)
        if got is None:
            walking = [t for t in self.bank.walking() if getattr(t, "pose", "full") == "full"]
            standing = [t for t in self.bank.standing() if getattr(t, "pose", "full") == "full"]
            h = _hash("actor", actor_id)
            walks: dict[str, Any] = {}
            for kind in ("side", "towards", "away"):
                pool = [
                    t
                    for t in walking
                    if (t.direction in ("left", "right")) == (kind == "side")
                    and (kind == "side" or t.direction == kind)
                ] or walking
                walks[kind] = pool[h % len(pool)] if pool else None
            stand = standing[(h >> 16) % len(standing)] if standing else walks["side"]
            for kind in walks:
                walks[kind] = walks[kind] or stand
            body = 1.55 + 0.2 * _unit("height", actor_id)
            got = (walks, stand, body)
            self._tracks[actor_id] = got
        return got

    def _route(self, a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
        lay = self.layout
        za, zb = lay.zone(a), lay.zone(b)
        if za == zb:
            return [a, b]
        return [a, lay.gate[za], lay.gate[zb], b]

    def _spot(self, v: Visit) -> tuple[float, float] | None:
        lay = self.layout
        if lay.hidden_spots:
            return None
        key = v.spot
        if key == "counter" and v.role in ("staff", "guard", "cleaner"):
            key = "counter_staff"
        pts = lay.spots.get(key)
        if not pts:
            return None
        i = v.spot_index % len(pts)
        p = pts[i]
        if v.spot_index >= len(pts):  # more people than places: stand a little aside
            k = v.spot_index // len(pts)
            p = (p[0] + (0.45 if k % 2 else -0.45) * ((k + 1) // 2), p[1] - 0.05 * k)
        return p

    def _route_in(self, v: Visit) -> list[tuple[float, float]]:
        """From the door (interior) or the gate (entrance) to where the visit is spent."""
        lay = self.layout
        if lay.hidden_spots:  # entrance: across the yard to the office door
            if v.spot in ("wander", "walkthrough"):
                return [lay.door, lay.inside]
            return [lay.door, lay.inside, self.front_door]
        if v.spot == "walkthrough":
            return [lay.door, lay.loop[0]]
        if v.spot == "wander":
            return self._route(lay.door, lay.wander[_hash("w", v.actor_id, 0) % len(lay.wander)])
        spot = self._spot(v)
        return self._route(lay.door, spot if spot is not None else lay.inside)

    def _pose(self, v: Visit, at: datetime) -> tuple | None:
        """(X, Z, walking, world heading, clip seconds) at `at`, or None if not in view.

        Three phases, each a pure function of the time since `enter`: walk in from the door
        (a short pause in the doorway, then along the route), the middle (at the spot with a
        slight sway, wandering, or a patrol loop), and the walk out back to the door.
        """
        t = (at - v.enter).total_seconds()
        total = (v.leave - v.enter).total_seconds()
        if t < 0 or t >= total or self.view not in v.views:
            return None
        speed = WALK_SPEED[0] + (WALK_SPEED[1] - WALK_SPEED[0]) * _unit("speed", v.actor_id)
        route = self._route_in(v)
        length = _length(route)
        pause0 = 0.5 if self.layout.hidden_spots else DOOR_PAUSE
        phase = min(float(np.clip(length / speed + pause0, *WALK_PHASE)), total / 2)
        pause = max(min(pause0, 0.25 * phase), phase - length / speed)
        if t < phase:
            if t < pause:
                return (*route[0], False, _heading(route), t)
            s = (t - pause) * length / max(phase - pause, 1e-6)
            return _along(route, min(s, length), t)
        end_mid = total - phase
        if t < end_mid:
            return self._middle(v, t - phase, route[-1])
        # walk out, then a pause at the door before stepping out of view
        if self.layout.hidden_spots and v.spot not in ("wander", "walkthrough"):
            back = list(reversed(route))
        else:
            mid = self._middle(v, end_mid - phase, route[-1])
            here = (mid[0], mid[1]) if mid is not None else route[-1]
            back = self._route(here, self.layout.door)
        blen = _length(back)
        tt = t - end_mid
        s = tt * blen / max(phase - pause, 1e-6)
        if s >= blen:
            return (*back[-1], False, _heading(list(reversed(back))), t)
        return _along(back, s, t)

    def _middle(self, v: Visit, t: float, home: tuple[float, float]) -> tuple | None:
        lay = self.layout
        if v.spot == "walkthrough":
            loop_len = _length(lay.loop)
            speed = 0.7 + 0.2 * _unit("patrol", v.actor_id)
            return _along(lay.loop, math.fmod(t * speed, loop_len), t)
        if v.spot == "wander":
            return self._wander(v, t, home)
        if lay.hidden_spots:
            return None  # indoors, out of this camera's view
        sway = 0.03 * math.sin(2 * math.pi * t / (6.0 + 3 * _unit("sway", v.actor_id)))
        return (home[0] + sway, home[1], False, (0.0, -1.0), t)

    def _wander(self, v: Visit, t: float, home: tuple[float, float]) -> tuple:
        """Slow moves between a few points: a fixed 40 s rhythm, so any instant is O(1)."""
        lay = self.layout
        period = 40.0
        k = int(t // period)
        frac = t - k * period

        def point(i: int) -> tuple[float, float]:
            if i == 0:
                return home
            return lay.wander[_hash("w", v.actor_id, i) % len(lay.wander)]

        a, b = point(k), point(k + 1)
        path = self._route(a, b)
        length = _length(path)
        s = frac * 0.6
        if s >= length:
            return (b[0], b[1], False, (0.0, -1.0), t)
        return _along(path, s, t)

    def _placements(
        self, at: datetime, present: Sequence[Visit], entry: _Entry | None
    ) -> list[_Placement]:
        out: list[_Placement] = []
        if not present:
            return out
        cam = self.cam
        for v in present:
            pose = self._pose(v, at)
            if pose is None:
                continue
            x, z, walking, heading, clip_t = pose
            walks, stand, body = self._track_for(v.actor_id)
            y0 = 0.0
            pts = np.array(
                [[x, y0, z], [x, y0 + body, z], [x + heading[0] * 0.2, y0, z + heading[1] * 0.2]]
            )
            uv, zc = cam.project(pts)
            if zc[0] < 0.3:
                continue
            h_px = float(uv[0, 1] - uv[1, 1])
            if h_px < 4:
                continue
            dxs, dys = uv[2, 0] - uv[0, 0], uv[2, 1] - uv[0, 1]
            if walking:
                kind = "side" if abs(dxs) >= 0.6 * abs(dys) else ("towards" if dys > 0 else "away")
                track = walks[kind]
                # legs at the pace the feet move: the cycle's own speed is in body heights/s
                speed = WALK_SPEED[0] + (WALK_SPEED[1] - WALK_SPEED[0]) * _unit("speed", v.actor_id)
                own = float(getattr(track, "speed", 0.0) or 0.0)
                fps = float(np.clip(track.fps * (speed / body) / own, 5, 15)) if own > 0.1 else 10
            else:
                track = stand
                fps = 4.0
            if track is None:
                continue
            rgba = self.bank.frame(track, clip_t + _unit("clip", v.actor_id) * 10, fps=fps)
            native = float(getattr(track, "native_height", rgba.shape[0]) or rgba.shape[0])
            target = max(4, round(h_px * rgba.shape[0] / native))
            rgba = _sprites().scaled(rgba, target)
            direction = getattr(track, "direction", "none")
            if (
                walking
                and direction in ("left", "right")
                and ((dxs > 0 and direction == "left") or (dxs < 0 and direction == "right"))
            ) or (not walking and _hash("flip", v.actor_id) % 2):
                rgba = np.ascontiguousarray(rgba[:, ::-1])
            dist = math.hypot(x - cam.pos[0], z - cam.pos[2])
            shade = self._shade(entry, x, z) if entry is not None else 1.0
            out.append(
                _Placement(
                    v.actor_id, rgba, round(float(uv[0, 0])), round(float(uv[0, 1])), dist, shade
                )
            )
        out.sort(key=lambda p: -p.dist)
        return out

    def _shade(self, entry: _Entry, x: float, z: float) -> float:
        """How bright a person at (x, z) looks, relative to the footage they were cut from."""
        key = (round(x * 4), round(z * 4))
        got = entry.shade_cache.get(key)
        if got is not None:
            return got
        cam = self.cam
        p = np.array([[x, 1.1, z]], np.float32)
        n = np.array([cam.pos[0] - x, 0.0, cam.pos[2] - z], np.float32)
        n /= np.linalg.norm(n) + 1e-6
        dist = float(np.linalg.norm(p[0] - cam.pos))
        if entry.ir:
            e = 30.0 * 0.7 / (dist**1.5 + 6.0) * entry.gain * 0.35
        else:
            day, lamp, street = (a[0] for a in self._irradiance(p, n[None]))
            if self.view == "entrance":
                day = day * 1.3
            night = max(0.0, 1.0 - entry.level / 0.03)
            e = (
                (entry.level * day + (lamp if entry.lights else 0.0) + night * street)
                * entry.gain
                * 0.45
            )
        shade = float(np.clip(e ** (1 / 2.2), 0.08, 1.25))
        entry.shade_cache[key] = shade
        return shade

    def people(self, at: datetime, present: Sequence[Visit]) -> list[tuple[str, Box]]:
        """Ground truth: (actor_id, visible box) of each person the camera sees at `at`."""
        out = []
        for p in self._placements(at, present, None):
            box = self._visible_box(p)
            if box is not None:
                out.append((p.actor_id, box))
        return out

    def _rect(self, p: _Placement) -> Box:
        h, w = p.rgba.shape[:2]
        x0 = p.x - w // 2
        return (x0, p.y_feet - h, x0 + w, p.y_feet)

    def _visible_box(self, p: _Placement) -> Box | None:
        x0, y0, x1, y1 = self._rect(p)
        cx0, cy0 = max(0, x0), max(0, y0)
        cx1, cy1 = min(self.width, x1), min(self.height, y1)
        if cx0 >= cx1 or cy0 >= cy1:
            return None
        alpha = p.rgba[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0, 3] > 32
        alpha &= ~(self.occ_dist[cy0:cy1, cx0:cx1] < p.dist - 0.3)
        ys = np.flatnonzero(alpha.any(axis=1))
        xs = np.flatnonzero(alpha.any(axis=0))
        if len(ys) == 0:
            return None
        return (cx0 + int(xs[0]), cy0 + int(ys[0]), cx0 + int(xs[-1]) + 1, cy0 + int(ys[-1]) + 1)

    def _place_spots(self) -> bool:
        """Move places where furniture would hide more than 40 % of a person further back."""
        moved = False
        if self.layout.hidden_spots:
            return moved
        for name, pts in self.layout.spots.items():
            for i, (x, z) in enumerate(pts):
                z0 = z
                for _ in range(6):
                    if name == "counter" or self.visible_fraction(x, z, 1.55) >= 0.61:
                        break
                    z += 0.08
                z = min(z, self.room_d - 0.3)
                moved = moved or z != z0
                pts[i] = (x, z)
        return moved

    def visible_fraction(self, x: float, z: float, body: float = 1.6) -> float:
        """Share of a standing person's height at floor (x, z) not hidden by furniture."""
        uv, _ = self.cam.project(np.array([[x, 0, z], [x, body, z]]))
        u = round(float(uv[0, 0]))
        v0, v1 = round(float(uv[1, 1])), round(float(uv[0, 1]))
        if not (0 <= u < self.width) or v1 <= v0:
            return 0.0
        dist = math.hypot(x - self.cam.pos[0], z - self.cam.pos[2])
        col = self.occ_dist[max(0, v0) : min(self.height, v1), u]
        hidden = int((col < dist - 0.3).sum()) + max(0, v1 - self.height) + max(0, -v0)
        return 1.0 - hidden / (v1 - v0)

    def person_height(self, x: float, z: float, body: float = 1.6) -> float:
        """Pixel height of a person standing at floor point (x, z)."""
        uv, _ = self.cam.project(np.array([[x, 0, z], [x, body, z]]))
        return float(uv[0, 1] - uv[1, 1])

    def floor_to_pixel(self, x: float, z: float) -> tuple[float, float]:
        """Where the floor point (x, z) appears in the frame (u right, v down)."""
        uv, _ = self.cam.project(np.array([[x, 0.0, z]]))
        return float(uv[0, 0]), float(uv[0, 1])

    def key_points(self) -> dict[str, list[tuple[float, float]]]:
        """The places people spend time at (for checks and docs): door, desks, counter, chairs."""
        lay = self.layout
        if lay.hidden_spots:
            return {"door": [self.front_door], "gate": [lay.door]}
        return {"door": [lay.door], **{k: list(v) for k, v in lay.spots.items()}}

    # ---- frames -------------------------------------------------------------------------

    def render(
        self,
        at: datetime,
        present: Sequence[Visit],
        lights_on: bool,
        tamper: TamperKind | None = None,
        frame_index: int = 0,
    ) -> np.ndarray:
        """The camera's BGR frame at `at`; identical inputs give an identical frame."""
        if tamper == "blackout":
            return np.zeros((self.height, self.width, 3), np.uint8)
        entry = self._entry(at, lights_on)
        if tamper == "wall":
            frame = self._wall_frame(entry)
        else:
            frame = entry.bgr.copy()
            for p in self._placements(at, present, entry):
                self._paste(frame, entry, p)
        sigma, mono = entry.sigma, entry.ir
        if tamper == "cover":
            frame = self._cover_frame(frame)
            sigma = max(sigma, 6.0)
        elif tamper == "defocus":
            frame = self._defocus_frame(frame)
        pos, neg = self._noise(sigma, mono)
        k = frame_index
        dx, dy = (k * 37 + (k // 41) * 5) % NOISE_PAD, (k * 23 + (k // 29) * 7) % NOISE_PAD
        h, w = self.height, self.width
        cv2.add(frame, pos[dy : dy + h, dx : dx + w], dst=frame)
        cv2.subtract(frame, neg[dy : dy + h, dx : dx + w], dst=frame)
        if self.osd:
            self._overlay(frame, at)
        return frame

    def _paste(self, frame: np.ndarray, entry: _Entry, p: _Placement) -> None:
        if _sprites().paste(frame, p.rgba, p.x, p.y_feet, shade=p.shade) is None:
            return
        # the whole sprite rectangle: soft alpha edges reach beyond the returned box
        x0, y0, x1, y1 = self._rect(p)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(self.width, x1), min(self.height, y1)
        occ = self.occ_dist[y0:y1, x0:x1] < p.dist - 0.3
        if occ.any():
            frame[y0:y1, x0:x1][occ] = entry.bgr[y0:y1, x0:x1][occ]
        if entry.ir:
            region = frame[y0:y1, x0:x1]
            grey = cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
            region[:] = grey[..., None]

    def _overlay(self, frame: np.ndarray, at: datetime) -> None:
        """Camera OSD: date and time at the top left, the camera's name at the bottom right."""
        local = at.astimezone(self.zone)
        scale = 0.42 * self.height / 360
        th = max(1, round(self.height / 360))
        org = (round(8 * self.height / 360), round(18 * self.height / 360))
        self._text(frame, f"{local:%d-%m-%Y %H:%M:%S} {self.tz_label}", org, scale, th)
        if self.camera_name:
            (tw, _), _ = cv2.getTextSize(self.camera_name, cv2.FONT_HERSHEY_SIMPLEX, scale, th)
            org2 = (self.width - tw - org[0], self.height - round(9 * self.height / 360))
            self._text(frame, self.camera_name, org2, scale, th)

    @staticmethod
    def _text(frame: np.ndarray, text: str, org: tuple[int, int], scale: float, th: int) -> None:
        """White OSD text with a one-pixel shadow (a thicker outline would widen the glyphs)."""
        font = cv2.FONT_HERSHEY_SIMPLEX
        for dx, dy in ((1, 1), (-1, 1), (1, -1)):
            cv2.putText(
                frame, text, (org[0] + dx, org[1] + dy), font, scale, (0, 0, 0), th, cv2.LINE_AA
            )
        cv2.putText(frame, text, org, font, scale, (235, 235, 235), th, cv2.LINE_AA)

    # ---- tamper -------------------------------------------------------------------------

    def _soft(self, frame: np.ndarray, factor: int) -> np.ndarray:
        small = cv2.resize(
            frame,
            (max(1, self.width // factor), max(1, self.height // factor)),
            interpolation=cv2.INTER_AREA,
        )
        small = cv2.GaussianBlur(small, (0, 0), 1.6)
        return cv2.resize(small, (self.width, self.height), interpolation=cv2.INTER_LINEAR)

    def _defocus_frame(self, frame: np.ndarray) -> np.ndarray:
        """Sprayed or knocked out of focus: heavy blur and a milky haze."""
        soft = self._soft(frame, 12)
        return cv2.addWeighted(soft, 0.62, np.full_like(soft, 170), 0.38, 0)

    def _cover_frame(self, frame: np.ndarray) -> np.ndarray:
        """A cloth or bag over the lens: dark woven texture, a faint glow of the scene through."""
        if self._cloth is None:
            rng = np.random.default_rng([self.seed, 21])
            h, w = self.height, self.width
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            weave = 0.5 + 0.25 * np.sin(xx * 1.9) * np.sin(yy * 1.7)
            folds = self.noise.fbm(xx / (w / 3), yy / (h / 3), 3)
            col = rng.uniform(14, 30, 3).astype(np.float32)
            cloth = (
                col[None, None] * (0.6 + 0.5 * folds[..., None]) * (0.85 + 0.3 * weave[..., None])
            )
            self._cloth = np.clip(cloth, 0, 255).astype(np.uint8)
        glow = self._soft(frame, 24)
        return cv2.addWeighted(self._cloth, 1.0, glow, 0.1, 0)

    def _wall_frame(self, entry: _Entry) -> np.ndarray:
        """The camera knocked round to face a wall a hand's width away: plaster, no scene."""
        if self._wall is None:
            h, w = self.height, self.width
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            n = (
                self.noise.fbm(xx / 40.0, yy / 40.0, 4) * 0.6
                + self.noise.fbm(xx / 5.0, yy / 5.0, 2) * 0.4
            )
            col = self.albedo[self.height // 3, self.width // 2]
            base = np.array([0.55, 0.53, 0.48], np.float32) if self.view == "entrance" else col
            grad = 1.0 - 0.5 * (xx / w)  # light falls off across the wall
            self._wall = base[None, None] * (0.75 + 0.4 * n[..., None]) * grad[..., None]
        if entry.ir:
            img = np.clip(self._wall.mean(axis=2, keepdims=True) * 2.4, 0, 1).repeat(3, axis=2)
        else:
            e = 0.25 + 0.8 * min(1.0, entry.level * 2) + (0.6 if entry.lights else 0.0)
            img = np.clip(self._wall * e * min(entry.gain, 6.0) * 0.9, 0, 1)
        out = (img ** (1 / 2.2))[..., ::-1] * 255
        return np.ascontiguousarray(out.astype(np.uint8))


def _length(path: Sequence[tuple[float, float]]) -> float:
    return float(sum(math.dist(a, b) for a, b in itertools.pairwise(path)))


def _heading(path: Sequence[tuple[float, float]]) -> tuple[float, float]:
    for a, b in itertools.pairwise(path):
        seg = math.dist(a, b)
        if seg > 1e-9:
            return ((b[0] - a[0]) / seg, (b[1] - a[1]) / seg)
    return (0.0, -1.0)


def _along(path: Sequence[tuple[float, float]], s: float, t: float) -> tuple:
    """Position at distance s along a polyline: (X, Z, walking, heading, clip time)."""
    for a, b in itertools.pairwise(path):
        seg = math.dist(a, b)
        if seg <= 1e-9:
            continue
        if s <= seg:
            f = s / seg
            hx, hz = (b[0] - a[0]) / seg, (b[1] - a[1]) / seg
            return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, True, (hx, hz), t)
        s -= seg
    end = path[-1]
    return (end[0], end[1], False, (0.0, -1.0), t)
