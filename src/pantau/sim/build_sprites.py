"""Offline tool: cut real people out of real footage into the simulator's sprite bank.

    .venv/bin/python -m pantau.sim.build_sprites            # writes src/pantau/sim/sprite_data/

Run once by a developer; the output is committed. The simulated cameras paste these sprites so
that the real person detector sees real pixels of real people (a drawn stick figure would test
nothing). Walking people come from the OpenCV sample clip vtest.avi (a walkway seen from above):
a median background over the whole clip, a difference threshold and morphology give a foreground
mask; connected components are tracked across frames with IoU, and only clean stretches (one
person, clear of other people, frame edges and fixed occluders, steady size) become walk cycles.
Standing people come from two still photos cut out with GrabCut.

Without ../shared/media the inputs can be rebuilt from the registries (see sprite_data/README.md):
pass `--video vtest.avi` (the original works as well as the re-encoded MP4) and `--stills DIR`.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "sprite_data"
SHARED_MEDIA = HERE.parents[3] / "shared" / "media"

# Fixed things in vtest's view a walker can pass behind or in front of (x0, y0, x1, y1), in
# 640x480 pixels: the lamp post, its sign, the tripod and the four traffic cones. A cut-out
# overlapping one would carry a hole or a piece of it, so those frames are not used.
OCCLUDERS = [
    (346, 15, 368, 330),
    (340, 165, 375, 205),
    (378, 278, 442, 404),
    (28, 142, 42, 162),
    (133, 152, 152, 174),
    (240, 152, 258, 178),
    (364, 145, 380, 170),
]
WORK_SIZE = (640, 480)
MIN_RUN = 10  # frames (1 s at vtest's 10 fps) for a walk cycle
MAX_CYCLE = 20  # frames kept per walk cycle (2 s): about two strides, keeps the bank small
STAND_SPEED = 0.15  # body heights per second below which a track counts as standing


@dataclass
class Blob:
    frame: int
    box: tuple[int, int, int, int]  # x0, y0, x1, y1
    label: int
    area: int
    cx: float  # centroid x of the mask


@dataclass
class Track:
    blobs: list[Blob] = field(default_factory=list)
    clean: list[bool] = field(default_factory=list)
    open: bool = True
    missed: int = 0


def read_unique_frames(video: Path) -> tuple[list[np.ndarray], list[int], float]:
    """Decoded BGR frames at 640x480 without the duplicates a frame-rate conversion adds.

    The shared MP4 is vtest.avi (10 fps) re-encoded at 15 fps, so every third frame repeats the
    previous one; a walk cycle must step at the real cadence. Returns frames, their source frame
    numbers, and the real frame rate.
    """
    frames: list[np.ndarray] = []
    numbers: list[int] = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 10)
        prev = None
        for i, frame in enumerate(container.decode(stream)):
            img = frame.to_ndarray(format="bgr24")
            if img.shape[1::-1] != WORK_SIZE:
                img = cv2.resize(img, WORK_SIZE, interpolation=cv2.INTER_AREA)
            if prev is not None and cv2.absdiff(img, prev).mean() < 0.6:
                continue
            frames.append(img)
            numbers.append(i)
            prev = img
    # vtest.avi is 10 fps; the share of repeated frames gives it back from any re-encode
    return frames, numbers, float(round(rate * len(frames) / max(1, numbers[-1] + 1)))


def foreground(frame: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Binary mask (0/255) of what differs from the background: people, a little shadow."""
    diff = cv2.absdiff(cv2.GaussianBlur(frame, (3, 3), 0), background).max(axis=2)
    mask = (diff > 30).astype(np.uint8) * 255
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 9))
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)


def blobs_of(mask: np.ndarray, index: int) -> tuple[list[Blob], np.ndarray]:
    n, labels, stats, cents = cv2.connectedComponentsWithStats(mask)
    out = []
    for lab in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[lab])
        if area >= 120 and h >= 20:
            out.append(Blob(index, (x, y, x + w, y + h), lab, area, float(cents[lab][0])))
    return out, labels


def box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def grow(box: tuple[int, int, int, int], px: int) -> tuple[int, int, int, int]:
    return (box[0] - px, box[1] - px, box[2] + px, box[3] + px)


def person_shaped(b: Blob, others: list[Blob], ground: np.ndarray | None = None) -> bool:
    """One whole person, alone: upright shape, not at an edge, clear of occluders and others.

    `ground` (height = a * feet_y + b, fitted over the clip) rejects what shape alone lets
    through: two people one behind the other (too tall for where the feet are), or a person
    cut short by a mask hole (too short).
    """
    x0, y0, x1, y1 = b.box
    w, h = x1 - x0, y1 - y0
    if not (40 <= h <= 160 and 1.7 <= h / w <= 4.5):
        return False
    if ground is not None:
        expected = float(np.polyval(ground, y1))
        if not (0.85 <= h / expected <= 1.12 and w <= 0.55 * expected):
            return False
    if b.area < 0.35 * w * h:
        return False
    if x0 <= 3 or y0 <= 3 or x1 >= WORK_SIZE[0] - 3 or y1 >= WORK_SIZE[1] - 3:
        return False
    if any(box_iou(grow(b.box, 2), occ) > 0 for occ in OCCLUDERS):
        return False
    return not any(o is not b and box_iou(grow(b.box, 8), o.box) > 0 for o in others)


def fit_ground(all_blobs: list[list[Blob]]) -> np.ndarray:
    """Person height as a linear function of feet y (the walkway is a tilted plane)."""
    pts = [
        (b.box[3], b.box[3] - b.box[1])
        for blobs in all_blobs
        for b in blobs
        if person_shaped(b, blobs)
    ]
    y, h = np.array(pts, float).T
    fit = np.polyfit(y, h, 1)
    for _ in range(3):  # refit without merged pairs and fragments
        keep = np.abs(h / np.polyval(fit, y) - 1) < 0.12
        fit = np.polyfit(y[keep], h[keep], 1)
    return fit


def track(all_blobs: list[list[Blob]], ground: np.ndarray) -> list[Track]:
    """Greedy IoU tracker; a merge or split of blobs ends the tracks involved (not clean)."""
    tracks: list[Track] = []
    for blobs in all_blobs:
        live = [t for t in tracks if t.open]
        links: dict[int, list[int]] = {}  # blob index -> live track indices
        back: dict[int, list[int]] = {}  # live track index -> blob indices
        for ti, t in enumerate(live):
            last = t.blobs[-1].box
            for bi, b in enumerate(blobs):
                if box_iou(last, b.box) > 0.25:
                    links.setdefault(bi, []).append(ti)
                    back.setdefault(ti, []).append(bi)
        for ti, t in enumerate(live):
            mine = back.get(ti, [])
            if len(mine) == 1 and len(links[mine[0]]) == 1:
                b = blobs[mine[0]]
                t.blobs.append(b)
                t.clean.append(person_shaped(b, blobs, ground))
                t.missed = 0
            elif not mine:
                t.missed += 1
                t.open = t.missed <= 2
            else:
                t.open = False  # split or merged: identity no longer certain
        for bi, b in enumerate(blobs):
            if bi not in links:
                tracks.append(Track([b], [person_shaped(b, blobs, ground)]))
            elif len(links[bi]) > 1:
                tracks.append(Track([b], [False]))
    return tracks


def clean_runs(t: Track) -> list[list[Blob]]:
    """Consecutive clean frames whose height stays within 15 % of the run's trend."""
    runs: list[list[Blob]] = []
    cur: list[Blob] = []
    for b, ok in zip(t.blobs, t.clean, strict=True):
        contiguous = bool(cur) and b.frame == cur[-1].frame + 1
        if ok and (not cur or contiguous):
            cur.append(b)
            continue
        if len(cur) >= MIN_RUN:
            runs.append(cur)
        cur = [b] if ok else []
    if len(cur) >= MIN_RUN:
        runs.append(cur)
    steady = []
    for run in runs:
        h = np.array([b.box[3] - b.box[1] for b in run], float)
        trend = np.polyval(np.polyfit(np.arange(len(h)), h, 1), np.arange(len(h)))
        ok = np.abs(h / trend - 1) < 0.15
        # keep the longest stretch of steady frames
        best, start = (0, 0), None
        for i, good in enumerate([*ok, False]):
            if good and start is None:
                start = i
            elif not good and start is not None:
                best = max(best, (i - start, start))
                start = None
        if best[0] >= MIN_RUN:
            steady.append(run[best[1] : best[1] + best[0]])
    return steady


def norm_mask(mask: np.ndarray) -> np.ndarray:
    """A mask resized to 24x64 for comparing poses across frames."""
    return cv2.resize(mask.astype(np.float32), (24, 64), interpolation=cv2.INTER_AREA)


def best_cycle(masks: list[np.ndarray]) -> tuple[int, int]:
    """(start, length) of the stretch whose last pose leads most smoothly back to its first.

    A looped walk cycle jumps between its last and first frame; choosing the loop at a repeat
    of the gait (about one stride, ~1 s) hides the seam.
    """
    n = len(masks)
    small = [norm_mask(m) for m in masks]
    best = (1e9, 0, min(n, MAX_CYCLE))
    for s in range(n):
        for length in range(8, min(MAX_CYCLE, n - s) + 1):
            end = s + length  # frame `end` would follow frame end-1; compare it with frame s
            if end >= n:
                break
            cost = float(np.abs(small[s] - small[end]).mean()) - 0.002 * length
            best = min(best, (cost, s, length))
    return best[1], best[2]


def soft_alpha(mask: np.ndarray) -> np.ndarray:
    """Hard mask -> alpha with a one-pixel feathered edge (no cut-out halo)."""
    m = cv2.erode(mask, np.ones((2, 2), np.uint8))
    return cv2.GaussianBlur(m, (3, 3), 0)


def bleed(rgba: np.ndarray, px: int = 2) -> np.ndarray:
    """Zero the colour of transparent pixels, except a `px` band given the nearest body colour.

    Resizing an RGBA sprite mixes each edge pixel with its transparent neighbours; if those are
    black the scaled sprite gets a dark outline, which is an edge no real camera sees.
    """
    rgb = rgba[..., :3].astype(np.float32)
    known = (rgba[..., 3] > 0).astype(np.float32)
    for _ in range(px):
        total = cv2.blur(rgb * known[..., None], (3, 3))
        count = cv2.blur(known, (3, 3))
        new = (count > 0) & (known == 0)
        rgb[new] = total[new] / count[new][:, None]
        known[new] = 1
    rgb[known == 0] = 0
    out = rgba.copy()
    out[..., :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    return out


def clean_mask(mask: np.ndarray) -> np.ndarray:
    """The body alone: thin bridges cut, specks (noise, a bit of cone) dropped."""
    opened = cv2.morphologyEx(
        mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    )
    n, lab, stats, _ = cv2.connectedComponentsWithStats(opened)
    if n <= 1:
        return mask
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return np.where(lab == biggest, 255, 0).astype(np.uint8)


def cut_run(
    run: list[Blob], frames: list[np.ndarray], labels: list[np.ndarray]
) -> tuple[np.ndarray, list[int]]:
    """The run's frames as one RGBA array [n, H, W, 4], feet at the bottom centre of each frame.

    Each frame is scaled to the run's median height along a linear trend, so a person walking
    towards the camera does not grow inside the loop; the horizontal anchor is the mask's
    centroid, so swinging arms and legs do not shift the body.
    """
    bodies = []
    for b in run:
        x0, y0, x1, y1 = b.box
        mask = clean_mask(
            np.where(labels[b.frame][y0:y1, x0:x1] == b.label, 255, 0).astype(np.uint8)
        )
        ys, xs = np.nonzero(mask)
        tx0, ty0, tx1, ty1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        rgb = cv2.cvtColor(
            frames[b.frame][y0 + ty0 : y0 + ty1, x0 + tx0 : x0 + tx1], cv2.COLOR_BGR2RGB
        )
        bodies.append((np.dstack([rgb, mask[ty0:ty1, tx0:tx1]]), float(xs.mean()) - tx0))
    heights = np.array([rgba.shape[0] for rgba, _ in bodies], float)
    idx = np.arange(len(run))
    trend = np.polyval(np.polyfit(idx, heights, 1), idx)
    native = float(np.median(heights))
    cuts = []
    for (rgba, cx), th in zip(bodies, trend, strict=True):
        scale = native / th
        w, h = max(1, round(rgba.shape[1] * scale)), max(1, round(rgba.shape[0] * scale))
        cuts.append((cv2.resize(rgba, (w, h), interpolation=cv2.INTER_AREA), cx * scale))
    height = max(c.shape[0] for c, _ in cuts)
    half = max(max(a, c.shape[1] - a) for c, a in cuts)
    width = int(np.ceil(half)) * 2 + 2
    out = np.zeros((len(cuts), height, width, 4), np.uint8)
    for i, (c, a) in enumerate(cuts):
        left = round(width / 2 - a)
        out[i, height - c.shape[0] :, left : left + c.shape[1]] = c
    out[..., 3] = np.stack([soft_alpha(f[..., 3]) for f in out])
    out = np.stack([bleed(f) for f in out])
    return out, [b.frame for b in run]


def direction(run: list[Blob]) -> str:
    """Where the walker heads as seen by the camera: left/right, towards (down)/away (up)."""
    first, last = run[0], run[-1]
    dx = last.cx - first.cx
    dy = last.box[3] - first.box[3]
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "towards" if dy > 0 else "away"


def speed(run: list[Blob], fps: float) -> float:
    """Ground speed in body heights per second (feet point), so the scene can match the gait."""
    first, last = run[0], run[-1]
    dist = np.hypot(last.cx - first.cx, last.box[3] - first.box[3])
    h = float(np.median([b.box[3] - b.box[1] for b in run]))
    return float(dist / h / ((len(run) - 1) / fps))


def walkers(video: Path) -> list[dict]:
    frames, numbers, fps = read_unique_frames(video)
    print(f"{video.name}: {len(frames)} distinct frames, {fps:.1f} fps", file=sys.stderr)
    background = np.median(np.stack(frames[::3]), axis=0).astype(np.uint8)
    per_frame, labels = [], []
    for i, f in enumerate(frames):
        blobs, lab = blobs_of(foreground(f, background), i)
        per_frame.append(blobs)
        labels.append(lab)
    ground = fit_ground(per_frame)
    print(f"person height ~ {ground[0]:.3f} * feet_y + {ground[1]:.1f} px", file=sys.stderr)
    out = []
    for t in track(per_frame, ground):
        for run in clean_runs(t):
            masks = [
                (labels[b.frame][b.box[1] : b.box[3], b.box[0] : b.box[2]] == b.label) for b in run
            ]
            s, length = best_cycle([m.astype(np.uint8) for m in masks])
            cycle = run[s : s + length]
            rgba, used = cut_run(cycle, frames, labels)
            v = speed(run, fps)
            out.append(
                {
                    "kind": "stand" if v < STAND_SPEED else "walk",
                    "direction": direction(run) if v >= STAND_SPEED else "none",
                    "frames": rgba,
                    "native_height": rgba.shape[1],
                    "fps": round(fps, 2),
                    "speed": round(v, 3),
                    "pose": "full",
                    "source": f"vtest:{video.name}",
                    "source_frames": [numbers[i] for i in used],
                }
            )
    out.sort(key=lambda d: d["source_frames"][0])
    return out


# GrabCut hints per still photo: the rectangle around the person (x0, y0, x1, y1), regions known
# to be background or person: ("box", x0, y0, x1, y1) or ("ellipse", cx, cy, rx, ry).
STILLS = {
    "person.jpg": {
        "rect": (178, 92, 282, 386),
        "background": [("box", 150, 255, 202, 350)],  # the dog's head beside her legs
        # her brown boots match the dry grass; without this hint GrabCut leaves them out
        "foreground": [("box", 212, 328, 241, 363)],
        "pose": "full",
        "direction": "away",  # seen from behind
        "source": "darknet:person.jpg",
    },
    "astronaut.png": {
        "rect": (8, 8, 372, 511),
        "background": [("ellipse", 395, 445, 122, 122)],  # the helmet she holds
        # her face, and the black collar ring that looks like the black helmet
        "foreground": [("box", 185, 60, 265, 150), ("ellipse", 210, 222, 92, 66)],
        "pose": "upper",
        "max_height": 240,  # meant for a desk in a 360-720 px frame; keeps the bank small
        "direction": "towards",
        "source": "skimage:astronaut.png",
    },
}


def _paint(mask: np.ndarray, regions: list[tuple], value: int) -> None:
    for shape, *v in regions:
        if shape == "ellipse":
            cv2.ellipse(mask, (v[0], v[1]), (v[2], v[3]), 0, 0, 360, value, -1)
        else:
            mask[v[1] : v[3], v[0] : v[2]] = value


def still(path: Path, spec: dict) -> dict:
    """One standing sprite cut from a photo with GrabCut started from a rectangle."""
    img = cv2.imread(str(path))
    if img is None:
        raise SystemExit(f"cannot read {path}")
    x0, y0, x1, y1 = spec["rect"]
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[y0:y1, x0:x1] = cv2.GC_PR_FGD
    _paint(mask, spec["background"], cv2.GC_BGD)
    _paint(mask, spec["foreground"], cv2.GC_FGD)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(img, mask, None, bgd, fgd, 6, cv2.GC_INIT_WITH_MASK)
    fg = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    # Keep the large parts (a dark collar can split head from body), drop specks.
    _, lab, stats, _ = cv2.connectedComponentsWithStats(fg)
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = 1 + np.flatnonzero(areas >= 0.1 * areas.max())
    fg = np.where(np.isin(lab, big), 255, 0).astype(np.uint8)
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    ys, xs = np.nonzero(fg)
    cy0, cy1, cx0, cx1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgb = cv2.cvtColor(img[cy0:cy1, cx0:cx1], cv2.COLOR_BGR2RGB)
    alpha = cv2.GaussianBlur(cv2.erode(fg[cy0:cy1, cx0:cx1], np.ones((3, 3), np.uint8)), (5, 5), 0)
    # Centre on the body's centroid so paste(x=...) puts the person, not the box, at x.
    cx = float(xs.mean()) - cx0
    half = int(np.ceil(max(cx, (cx1 - cx0) - cx))) + 1
    width = 2 * half
    rgba = np.zeros((cy1 - cy0, width, 4), np.uint8)
    left = round(half - cx)
    rgba[:, left : left + (cx1 - cx0), :3] = rgb
    rgba[:, left : left + (cx1 - cx0), 3] = alpha
    rgba = bleed(rgba)
    if rgba.shape[0] > spec.get("max_height", 10**6):
        h = spec["max_height"]
        w = round(rgba.shape[1] * h / rgba.shape[0]) // 2 * 2
        rgba = cv2.resize(rgba, (w, h), interpolation=cv2.INTER_AREA)
    return {
        "kind": "stand",
        "direction": spec["direction"],
        "frames": rgba[None],
        "native_height": rgba.shape[0],
        "fps": 1.0,
        "speed": 0.0,
        "pose": spec["pose"],
        "source": spec["source"],
        "source_frames": [0],
    }


def write_bank(tracks: list[dict], out: Path) -> int:
    """One RGBA PNG strip per track (frames side by side) + index.json; returns bytes written.

    PNG's per-row prediction packs these photographic cut-outs ~20 % smaller than a compressed
    .npz, and a strip can be looked at in any image viewer or in a code review.
    """
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    index, size = [], 0
    for i, t in enumerate(tracks):
        tid = f"{t['kind']}-{i:02d}"
        frames = t["frames"]
        strip = cv2.cvtColor(np.hstack(list(frames)), cv2.COLOR_RGBA2BGRA)
        path = out / f"{tid}.png"
        cv2.imwrite(str(path), strip, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        size += path.stat().st_size
        index.append(
            {
                "id": tid,
                "file": path.name,
                "kind": t["kind"],
                "pose": t["pose"],
                "direction": t["direction"],
                "frame_count": int(frames.shape[0]),
                "native_height": int(t["native_height"]),
                "size": [int(frames.shape[2]), int(frames.shape[1])],
                "fps": t["fps"],
                "speed": t["speed"],
                "source": t["source"],
                "source_frames": t["source_frames"],
            }
        )
    doc = {
        "format": 1,
        "about": (
            "RGBA PNG strips, frame i at x = i * size[0]; feet at the bottom centre of each "
            "frame; native_height = frame height in px at source scale. See README.md."
        ),
        "tracks": index,
    }
    (out / "index.json").write_text(json.dumps(doc, indent=1) + "\n")
    return size + (out / "index.json").stat().st_size


def contact_sheet(tracks: list[dict], path: Path) -> None:
    """A PNG of every track's first frames over grey, for eyeballing the cut-outs."""
    tiles = []
    for t in tracks:
        row = []
        for f in t["frames"][:6]:
            f = cv2.resize(f, (max(1, round(f.shape[1] * 100 / f.shape[0])), 100))
            a = f[..., 3:4].astype(np.float32) / 255
            row.append((f[..., :3] * a + 128 * (1 - a)).astype(np.uint8))
        tiles.append(np.hstack(row))
    width = max(t.shape[1] for t in tiles)
    sheet = np.vstack([np.pad(t, ((2, 2), (0, width - t.shape[1]), (0, 0))) for t in tiles])
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video", type=Path, default=SHARED_MEDIA / "pedestrians-vtest-640x480.mp4")
    ap.add_argument("--stills", type=Path, default=SHARED_MEDIA, help="folder with the photos")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--sheet", type=Path, help="also write a contact sheet PNG here")
    args = ap.parse_args(argv)
    if not args.video.exists():
        raise SystemExit(f"{args.video} not found; see {OUT / 'README.md'} to rebuild it")
    tracks = walkers(args.video)
    tracks += [still(args.stills / name, spec) for name, spec in STILLS.items()]
    size = write_bank(tracks, args.out)
    if args.sheet:
        contact_sheet(tracks, args.sheet)
    kinds = {k: sum(t["kind"] == k for t in tracks) for k in ("walk", "stand")}
    frames = sum(len(t["frames"]) for t in tracks)
    print(f"{len(tracks)} tracks {kinds}, {frames} frames, {size:,} bytes -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
