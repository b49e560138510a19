"""Motion on real CCTV footage and simulated offices: people move, noise and lights do not."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from pantau.sim.offices import SimConfig, make_scene, select_offices
from pantau.sim.profiles import OfficeSim
from pantau.vision.motion import MotionDetector, boxes_scaled, merge_boxes
from pantau.vision.zones import Zone, box_feet, box_in_zone, point_in_zone, zone_mask, zones_mask
from tests.support.media import pedestrians

WITA = ZoneInfo("Asia/Makassar")
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


# ---- shared with the light and tamper tests ------------------------------------------------------


@cache
def pedestrian_frames(cache_dir: Path) -> tuple[np.ndarray, ...]:
    """The real pedestrian clip at one frame per second (15 fps source), BGR 640x480."""
    cap = cv2.VideoCapture(str(pedestrians(cache_dir)))
    frames, i = [], 0
    while cap.grab():
        if i % 15 == 0:
            ok, frame = cap.retrieve()
            if ok:
                frames.append(frame)
        i += 1
    cap.release()
    assert len(frames) >= 60, f"decoded only {len(frames)} frames"
    return tuple(frames)


def grey320(bgr: np.ndarray) -> np.ndarray:
    """The analysis copy the pipeline hands to motion and light: grey, 320 px wide."""
    h = round(bgr.shape[0] * 320 / bgr.shape[1])
    small = cv2.resize(bgr, (320, h), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)


@cache
def sim_office(site: str = "kel-kambu"):
    """A simulated office without random events: (world, {view: scene})."""
    [office] = select_offices(
        SimConfig(offices=[OfficeSim(site=site, profile="punctual", random_events=False)])
    )
    scenes = {v: make_scene(office.seed, v, 640, 360) for v in ("interior", "entrance")}
    return office.world, scenes


def sim_frames(view: str, start: datetime, seconds: int, step: float = 1.0, site="kel-kambu"):
    """(at, bgr, truth boxes) of a simulated camera as the world plans it, one per `step` s."""
    world, scenes = sim_office(site)
    scene = scenes[view]
    for k in range(int(seconds / step)):
        at = start + timedelta(seconds=k * step)
        present, lights, tamper, _ = world.state_at(at, view)
        frame = scene.render(at, present, lights, tamper, frame_index=k)
        yield at, frame, [box for _, box in scene.people(at, present)]


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> tuple[np.ndarray, ...]:
    return pedestrian_frames(tmp_path_factory.getbasetemp() / "media")


# ---- real footage --------------------------------------------------------------------------------


def test_people_walking_give_motion_with_boxes_around_them(frames):
    greys = [grey320(f) for f in frames]
    # independent truth: what differs from the temporal median of the whole clip is people
    median = cv2.GaussianBlur(np.median(np.stack(greys), axis=0).astype(np.uint8), (5, 5), 0)
    det = MotionDetector()
    recall, precision, fractions = [], [], []
    for k, g in enumerate(greys):
        r = det.update(g, T0 + timedelta(seconds=k))
        assert not r.lighting_change
        assert r.size == (320, 240)
        if k < 8:
            continue
        fg = (cv2.absdiff(cv2.GaussianBlur(g, (5, 5), 0), median) > 30).astype(np.uint8)
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(fg)
        people = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= 60]
        boxed = np.zeros(fg.shape, bool)
        for x0, y0, x1, y1 in r.boxes:
            assert 0 <= x0 < x1 <= 320 and 0 <= y0 < y1 <= 240
            boxed[y0:y1, x0:x1] = True
        found = sum(boxed[labels == i].mean() > 0.5 for i in people)
        recall.append(found / len(people) if people else 1.0)
        real = sum(fg[y0:y1, x0:x1].sum() >= 20 for x0, y0, x1, y1 in r.boxes)
        precision.append(real / len(r.boxes) if r.boxes else 1.0)
        fractions.append(r.fraction)
    assert np.mean(recall) > 0.9, np.mean(recall)
    assert np.mean(precision) > 0.8, np.mean(precision)
    assert min(fractions) > 0.003 and max(fractions) < 0.15, (min(fractions), max(fractions))


@pytest.mark.parametrize("sigma", [6, 10])
def test_sensor_noise_on_a_static_scene_is_not_motion(frames, sigma):
    rng = np.random.default_rng(sigma)
    still = grey320(frames[0]).astype(np.float32)
    det = MotionDetector()
    for k in range(30):
        noisy = np.clip(still + rng.normal(0, sigma, still.shape), 0, 255).astype(np.uint8)
        r = det.update(noisy, T0 + timedelta(seconds=k))
        assert r.fraction < 0.0005 and not r.boxes and not r.lighting_change, (k, r)


def test_a_sudden_global_brightness_change_is_lighting_not_motion(frames):
    det = MotionDetector()
    for k in range(10):
        det.update(grey320(frames[k]), T0 + timedelta(seconds=k))
    dark = (grey320(frames[10]).astype(np.float32) * 0.3).astype(np.uint8)
    r = det.update(dark, T0 + timedelta(seconds=10))
    assert r.lighting_change and r.fraction == 0.0 and r.boxes == []
    # the background is re-seeded at once: people keep being found, no second event
    after = []
    for k in range(11, 25):
        r = det.update(
            (grey320(frames[k]).astype(np.float32) * 0.3).astype(np.uint8),
            T0 + timedelta(seconds=k),
        )
        assert not r.lighting_change
        after.append(r.fraction)
    assert 0 < max(after) < 0.1


def test_mask_keeps_motion_inside_the_watched_zone(frames):
    right = Zone("jalan", ((0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)))
    det = MotionDetector(mask=zone_mask(right, 320, 240))
    seen = 0
    for k in range(30):
        r = det.update(grey320(frames[k]), T0 + timedelta(seconds=k))
        for x0, _, _, _ in r.boxes:
            assert x0 >= 159
        seen += bool(r.boxes)
    assert seen > 15


# ---- simulated offices ---------------------------------------------------------------------------


def _overlap(a, b) -> float:
    """Share of box b covered by box a."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return ix * iy / max(1, (b[2] - b[0]) * (b[3] - b[1]))


@pytest.mark.parametrize(
    ("view", "start", "seconds"),
    [
        ("interior", datetime(2026, 11, 30, 7, 25, 0, tzinfo=WITA), 60),  # first staff arrive
        ("entrance", datetime(2026, 11, 30, 22, 0, 55, tzinfo=WITA), 90),  # guard, infrared
    ],
)
def test_simulated_people_are_boxed_and_empty_rooms_are_still(view, start, seconds):
    det = MotionDetector()
    hits = walking = 0
    before: list = []
    for k, (at, bgr, truth) in enumerate(sim_frames(view, start, seconds)):
        r = det.update(grey320(bgr), at)
        assert not r.lighting_change
        moving = [t for t in truth if not any(_overlap(t, b) > 0.9 for b in before)]
        before = truth
        if k < 8:
            continue
        if not truth:
            assert r.fraction < 0.002, (at, r)
            continue
        if not moving:  # someone standing still is not motion (the detector counts them)
            continue
        walking += 1
        boxes = boxes_scaled(r.boxes, r.size, (640, 360))
        # a box on the person (most of it inside their box); the pipeline pads it for the detector
        hits += any(_overlap(t, b) > 0.6 for b in boxes for t in moving)
    assert walking >= 10
    assert hits >= 0.8 * walking, (hits, walking)


def test_lights_switched_on_in_a_simulated_office_is_a_lighting_event():
    det = MotionDetector()
    events = []
    for at, bgr, _ in sim_frames("interior", datetime(2026, 11, 30, 7, 27, 0, tzinfo=WITA), 60):
        r = det.update(grey320(bgr), at)
        if r.lighting_change:
            events.append(at)
            assert r.fraction == 0.0
    # the plan switches the lights on at 07:27:31 WITA (asserted so the test stays meaningful)
    assert len(events) == 1, events
    assert events[0].astimezone(WITA).strftime("%H:%M:%S") == "07:27:32"


# ---- helpers and bad input -----------------------------------------------------------------------


def test_boxes_scaled_maps_pads_and_clips():
    assert boxes_scaled([(10, 20, 30, 60)], (320, 180), (640, 360)) == [(20, 40, 60, 120)]
    assert boxes_scaled([(0, 0, 20, 20)], (320, 180), (640, 360), pad=0.5) == [(0, 0, 60, 60)]
    assert boxes_scaled([(310, 170, 320, 180)], (320, 180), (640, 360), pad=1.0) == [
        (600, 320, 640, 360)
    ]
    with pytest.raises(ValueError, match="positive"):
        boxes_scaled([(0, 0, 1, 1)], (0, 180), (640, 360))


def test_merge_boxes_joins_the_parts_of_one_person():
    parts = [(100, 50, 110, 60), (101, 63, 112, 90), (200, 50, 210, 60)]
    assert merge_boxes(parts, 8) == [(100, 50, 112, 90), (200, 50, 210, 60)]


def test_zones_become_masks_at_any_frame_size_and_place_people_by_their_feet():
    counter = Zone.from_config({"name": "loket", "points": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]})
    for w, h in ((320, 180), (640, 360)):
        m = zone_mask(counter, w, h)
        assert m.shape == (h, w) and m.dtype == bool
        assert abs(m.mean() - 0.5) < 0.02 and m[-1, 0] and not m[0, -1]
    assert zones_mask([], 320, 180) is None
    assert zones_mask([counter, Zone("atas", ((0, 0), (1, 0), (1, 0.5)))], 320, 180).mean() > 0.7
    # someone standing behind the counter: head above the line, feet inside the zone
    person = (100, 40, 140, 150)
    assert box_feet(person) == (120.0, 149.0)
    assert box_in_zone(counter, person, 320, 180)
    assert not point_in_zone(counter, 120, 60, 320, 180)


def test_bad_zones_name_the_zone_and_the_point():
    with pytest.raises(ValueError, match=r"zone 'pintu': point \(0\.2, -0\.1\) is outside"):
        Zone("pintu", ((0.2, -0.1), (0.5, 0.5), (0.1, 0.9)))
    with pytest.raises(ValueError, match="zone 'garis' has no area"):
        Zone("garis", ((0, 0), (0.5, 0.5), (1, 1)))
    with pytest.raises(ValueError, match="at least three points"):
        Zone("x", ((0, 0), (1, 1)))
    with pytest.raises(ValueError, match="needs a name"):
        Zone(" ", ((0, 0), (1, 0), (1, 1)))


def test_wrong_frames_are_refused_with_what_was_expected():
    det = MotionDetector()
    grey = np.zeros((240, 320), np.uint8)
    with pytest.raises(ValueError, match=r"320 px wide.*got 640x480"):
        det.update(np.zeros((480, 640), np.uint8), T0)
    with pytest.raises(ValueError, match=r"one channel.*240x320x3.*COLOR_BGR2GRAY"):
        det.update(np.zeros((240, 320, 3), np.uint8), T0)
    with pytest.raises(ValueError, match=r"uint8.*float32"):
        det.update(grey.astype(np.float32), T0)
    with pytest.raises(ValueError, match=r"numpy array.*list"):
        det.update([[0] * 320] * 240, T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="selects no pixels"):
        MotionDetector(mask=np.zeros((240, 320), bool))


def test_a_resolution_change_mid_stream_resets_instead_of_crashing(frames):
    det = MotionDetector(mask=np.ones((240, 320), bool))
    for k in range(5):
        det.update(grey320(frames[k]), T0 + timedelta(seconds=k))
    wide = cv2.resize(grey320(frames[5]), (320, 180))  # the stream went 16:9
    r = det.update(wide, T0 + timedelta(seconds=5))
    assert r.fraction == 0.0 and r.size == (320, 180)
    for k in range(6, 12):
        r = det.update(cv2.resize(grey320(frames[k]), (320, 180)), T0 + timedelta(seconds=k))
    assert r.fraction > 0
    # time going backwards (a new file, a camera clock reset) re-seeds too
    assert det.update(wide, T0).fraction == 0.0


def test_cost_per_frame(frames):
    greys = [grey320(f) for f in frames[:40]]
    det = MotionDetector()
    for k, g in enumerate(greys[:8]):
        det.update(g, T0 + timedelta(seconds=k))
    t = time.process_time()
    for k, g in enumerate(greys[8:], start=8):  # CPU time: the machine may be busy
        det.update(g, T0 + timedelta(seconds=k))
    ms = (time.process_time() - t) * 1000 / (len(greys) - 8)
    print(f"\nmotion: {ms:.2f} ms CPU per 320x240 grey frame")
