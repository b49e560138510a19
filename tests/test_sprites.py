"""The sprite bank: real people as RGBA walk cycles, pasted fast and seen by the real detector."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from pantau.sim import sprites
from pantau.sim.sprites import SpriteBank, SpriteTrack, paste, scaled
from pantau.vision.detector import PersonDetector, iou


@pytest.fixture(scope="module")
def bank() -> SpriteBank:
    return SpriteBank.load()


def test_bank_has_enough_clean_walk_cycles(bank: SpriteBank) -> None:
    walks = bank.walking()
    assert len([t for t in walks if len(t.frames) >= 8]) >= 12
    assert {t.direction for t in walks} >= {"left", "right"}
    stands = bank.standing()
    assert len(stands) >= 3
    assert {"full", "upper"} <= {t.pose for t in stands}
    assert {t.kind for t in bank.tracks} == {"walk", "stand"}
    assert len({t.id for t in bank.tracks}) == len(bank.tracks)


def test_frames_are_rgba_with_feet_at_the_bottom_centre(bank: SpriteBank) -> None:
    for t in bank.tracks:
        shape = t.frames[0].shape
        tops = []
        assert shape[0] == t.native_height and shape[2] == 4
        for f in t.frames:
            assert f.dtype == np.uint8 and f.shape == shape
            alpha = f[..., 3]
            assert alpha.max() == 255 and alpha.min() == 0
            assert ((alpha > 0) & (alpha < 255)).any(), f"{t.id}: alpha edge not softened"
            solid = alpha >= 128
            rows = np.flatnonzero(solid.any(axis=1))
            assert rows[-1] >= shape[0] - 3, f"{t.id}: feet not at the bottom"
            tops.append(rows[0])
            assert rows[0] <= 0.2 * shape[0], f"{t.id}: head far below the top"
            cx = np.nonzero(solid)[1].mean()
            assert abs(cx - shape[1] / 2) < 0.15 * shape[1], f"{t.id}: body off centre"
        assert min(tops) <= 3, f"{t.id}: no frame reaches the top"


def test_walkers_carry_gait_metadata(bank: SpriteBank) -> None:
    for t in bank.walking():
        assert t.fps == 10.0
        assert 0.1 < t.speed < 2.0  # body heights per second
        assert t.source.startswith("vtest:") and len(t.source_frames) == len(t.frames)


def test_bank_is_small_and_documented() -> None:
    folder = sprites.default_path()
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total <= 3_300_000
    readme = (folder / "README.md").read_text()
    for words in ("vtest.avi", "opencv-doc", "person.jpg", "astronaut", "public domain"):
        assert words in readme
    index = json.loads((folder / "index.json").read_text())
    assert len(index["tracks"]) == len(SpriteBank.load().tracks)


def test_load_is_cached_and_frames_are_read_only(bank: SpriteBank) -> None:
    assert SpriteBank.load() is bank
    assert SpriteBank.load(sprites.default_path()) is bank
    with pytest.raises(ValueError):
        bank.tracks[0].frames[0][0, 0, 0] = 1


def test_missing_bank_says_how_to_rebuild(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="build_sprites"):
        SpriteBank.load(tmp_path)
    (tmp_path / "index.json").write_text(
        json.dumps(
            {
                "tracks": [
                    {
                        "id": "walk-00",
                        "file": "walk-00.png",
                        "kind": "walk",
                        "direction": "left",
                        "frame_count": 2,
                        "native_height": 10,
                        "size": [4, 10],
                    }
                ]
            }
        )
    )
    with pytest.raises(FileNotFoundError, match=r"walk-00\.png"):
        SpriteBank.load(tmp_path)


def test_frame_loops_at_the_filmed_rate(bank: SpriteBank) -> None:
    t = max(bank.walking(), key=lambda t: len(t.frames))
    n = len(t.frames)
    assert bank.frame(t, 0.0) is t.frames[0]
    assert bank.frame(t, 0.15) is t.frames[1]  # 10 fps
    assert bank.frame(t, 0.15, fps=5.0) is t.frames[0]
    assert bank.frame(t, 0.05 + n / t.fps) is t.frames[0]  # looped
    assert bank.frame(t, -0.05) is t.frames[-1]
    seen = {id(bank.frame(t, k / 10)) for k in range(3 * n)}
    assert len(seen) == n
    with pytest.raises(ValueError):
        bank.frame(t, 1.0, fps=0)


def test_scaled_keeps_aspect_and_uses_the_right_filter(bank: SpriteBank) -> None:
    f = bank.walking()[0].frames[0]
    h, w = f.shape[:2]
    down = scaled(f, h // 2)
    assert down.shape[0] == h // 2 and abs(down.shape[1] - w / 2) <= 1
    assert np.array_equal(down, cv2.resize(f, down.shape[1::-1], interpolation=cv2.INTER_AREA))
    up = scaled(f, 200)
    assert up.shape[0] == 200
    assert np.array_equal(up, cv2.resize(f, up.shape[1::-1], interpolation=cv2.INTER_LINEAR))
    assert scaled(f, h) is f
    with pytest.raises(ValueError):
        scaled(f, 0)


def _sprite() -> np.ndarray:
    """A 20x10 sprite: opaque red body (RGB) over a transparent margin, soft at one column."""
    s = np.zeros((20, 10, 4), np.uint8)
    s[:, 2:8] = (255, 0, 0, 255)
    s[:, 8] = (255, 0, 0, 128)
    return s


def test_paste_blends_only_the_roi_with_feet_at_the_point() -> None:
    dst = np.full((100, 200, 3), 50, np.uint8)
    before = dst.copy()
    box = paste(dst, _sprite(), 100, 80)
    # sprite spans x 95..104, y 60..79; opaque body x 97..102 plus the half-opaque column 103
    assert box == (97, 60, 104, 80)
    assert tuple(dst[70, 98]) == (0, 0, 255)  # red in BGR
    assert abs(int(dst[70, 103, 2]) - (50 + 255) // 2) <= 1  # half blended
    assert tuple(dst[70, 96]) == (50, 50, 50)  # transparent margin untouched
    changed = np.argwhere((dst != before).any(axis=2))
    assert changed[:, 0].min() >= 60 and changed[:, 0].max() <= 79
    assert changed[:, 1].min() >= 95 and changed[:, 1].max() <= 104


def test_paste_clips_and_reports_off_frame() -> None:
    dst = np.zeros((100, 200, 3), np.uint8)
    assert paste(dst, _sprite(), 1, 10) == (0, 0, 5, 10)  # clipped left and top
    assert paste(dst, _sprite(), 199, 105) == (196, 85, 200, 100)  # clipped right and bottom
    assert paste(dst, _sprite(), -50, 50) is None
    assert paste(dst, _sprite(), 100, 0) is None
    assert paste(dst, _sprite(), 100, 500) is None
    assert paste(dst, _sprite(), 95, 50) == (92, 30, 99, 50)


def test_paste_shade_darkens() -> None:
    a = np.zeros((100, 200, 3), np.uint8)
    b = a.copy()
    paste(a, _sprite(), 100, 80)
    paste(b, _sprite(), 100, 80, shade=0.5)
    assert int(b[70, 98, 2]) == 128 and int(a[70, 98, 2]) == 255
    with pytest.raises(ValueError):
        paste(a, _sprite(), 100, 80, shade=-1)
    with pytest.raises(ValueError):
        paste(a.astype(np.float32), _sprite(), 100, 80)


def test_paste_is_fast(bank: SpriteBank) -> None:
    frame = np.zeros((720, 1280, 3), np.uint8)
    sprite = scaled(bank.walking()[0].frames[0], 200)
    paste(frame, sprite, 640, 600)
    t0 = time.perf_counter()
    for _ in range(200):
        paste(frame, sprite, 640, 600, shade=0.8)
    assert (time.perf_counter() - t0) / 200 < 0.002


def test_hit_rate_table_and_min_reliable_height() -> None:
    table = sprites.hit_rates()
    heights = [r["height"] for r in table["rows"]]
    assert heights == [40, 60, 80, 100, 130, 160, 200]
    assert table["frame"] == [640, 360]
    assert sprites.MIN_RELIABLE_HEIGHT in heights
    crop = {r["height"]: r["crop"] for r in table["rows"]}
    assert all(crop[h] >= sprites.RELIABLE for h in heights if h >= sprites.MIN_RELIABLE_HEIGHT)
    assert sprites.min_reliable_height("crop") == sprites.MIN_RELIABLE_HEIGHT
    full = sprites.min_reliable_height("full")
    assert full is None or full in heights
    with pytest.raises(ValueError):
        sprites.min_reliable_height("sideways")


def test_the_detector_sees_pasted_sprites(bank: SpriteBank) -> None:
    """The point of the bank: real pixels the real detector finds (crop mode, good size)."""
    det = PersonDetector()
    rng = np.random.default_rng(7)
    tracks: list[SpriteTrack] = bank.walking()[::4] + bank.standing()[:2]
    hits = 0
    for t in tracks:
        frame = np.empty((360, 640, 3), np.uint8)
        frame[:200] = (170, 200, 225)  # wall
        frame[200:] = (120, 130, 140)  # floor
        box = paste(frame, scaled(t.frames[0], 120), int(rng.integers(100, 540)), 330)
        assert box is not None
        side = 300
        cx = (box[0] + box[2]) // 2
        roi = (max(0, cx - side // 2), 30, max(0, cx - side // 2) + side, 330)
        hits += any(iou(d.box, box) >= 0.4 for d in det.detect(frame, roi=roi))
    assert hits >= 0.8 * len(tracks)
