"""Simulated CCTV scenes: pure, deterministic frames with real people and honest ground truth."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from pantau.sim.plan import Visit
from pantau.sim.render import contact_sheet
from pantau.sim.scene import Scene, daylight, design_height, min_reliable_height

WITA = ZoneInfo("Asia/Makassar")
DAY = (2026, 11, 30)
SHEET = Path(__file__).resolve().parents[1] / "docs" / "img" / "sim-contact-sheet.png"


def local(h: int, m: int = 0, s: int = 0) -> datetime:
    return datetime(*DAY, h, m, s, tzinfo=WITA)


def visit(
    name: str,
    role: str,
    spot: str,
    enter: datetime,
    minutes: float,
    index: int = 0,
    views: tuple[str, ...] = ("entrance", "interior"),
) -> Visit:
    return Visit(
        f"kel-test/2026-11-30/{name}",
        role,
        enter,  # type: ignore[arg-type]
        enter + timedelta(minutes=minutes),
        spot,
        index,
        views,
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def room() -> Scene:
    return Scene(1, "interior")


@pytest.fixture(scope="module")
def yard() -> Scene:
    return Scene(1, "entrance")


def luma(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)


def sharpness(frame: np.ndarray) -> float:
    """Laplacian variance at half size, where sensor noise no longer dominates."""
    g = luma(body(frame))
    half = cv2.resize(g, (g.shape[1] // 2, g.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(half, cv2.CV_32F).var())


def body(frame: np.ndarray) -> np.ndarray:
    """The frame without the clock and camera-name overlay rows."""
    h = frame.shape[0]
    return frame[h // 12 : h - h // 12]


def test_two_seeds_give_two_different_offices():
    for view in ("interior", "entrance"):
        a = Scene(1, view).render(local(10), [], False)
        b = Scene(2, view).render(local(10), [], False)
        assert a.shape == b.shape == (360, 640, 3)
        assert np.abs(a.astype(int) - b.astype(int)).mean() > 20, view


def test_same_inputs_give_the_same_frame(room):
    staff = [visit("staff-1", "staff", "desk", local(7, 30), 480, 1)]
    a = room.render(local(9, 12, 5), staff, True, frame_index=17)
    b = Scene(1, "interior").render(local(9, 12, 5), staff, True, frame_index=17)  # fresh caches
    assert np.array_equal(a, b)
    c = room.render(local(9, 12, 5), staff, True, frame_index=18)
    assert not np.array_equal(a, c)  # sensor noise moves from frame to frame
    assert np.abs(a.astype(int) - c.astype(int)).mean() < 6  # ... but only the noise


def test_daylight_follows_the_clock_in_kendari():
    levels = {h: daylight(local(h), 1, WITA).level for h in (2, 5, 6, 7, 12, 18, 19, 23)}
    assert levels[2] == levels[23] == levels[5] == 0.0
    assert levels[19] == 0.0
    assert 0 < levels[6] < levels[7] < levels[12]
    assert levels[18] > 0  # dusk is ~18.15 WITA
    assert daylight(local(5, 50), 1, WITA).level > 0  # dawn is ~05.45 WITA


def test_noon_is_much_brighter_than_two_at_night(room, yard):
    for scene in (room, yard):
        noon = luma(scene.render(local(12), [], False)).mean()
        night = luma(scene.render(local(2), [], False)).mean()
        assert noon > 1.5 * night, (scene.view, noon, night)


def test_lights_on_at_night_light_the_room(room):
    on = room.render(local(21), [], True)
    off = room.render(local(21), [], False)
    assert luma(on).mean() > 1.6 * luma(off).mean()
    spread = on.max(axis=2).astype(int) - on.min(axis=2)
    assert spread.mean() > 6  # in colour, not the infrared picture


def test_dark_without_lights_is_the_grey_infrared_picture(room, yard):
    guard = [visit("guard", "guard", "walkthrough", local(1, 50), 30)]
    for scene in (room, yard):
        frame = scene.render(local(2), guard, False, frame_index=3)
        spread = frame.max(axis=2).astype(int) - frame.min(axis=2)
        assert spread.mean() < 0.5 and spread.max() <= 3, scene.view
        # the illuminator lights the middle more than the corners
        g = luma(frame)
        h, w = g.shape
        assert g[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].mean() > g[: h // 4, : w // 4].mean()


def test_a_visit_walks_in_stays_and_leaves(room):
    v = visit("visitor-1", "visitor", "counter", local(10), 12, 1)
    empty = {}

    def changed(at: datetime, k: int) -> tuple[np.ndarray, list]:
        if k not in empty:
            empty[k] = room.render(at, [], True, frame_index=k)
        frame = room.render(at, [v], True, frame_index=k)
        diff = np.abs(frame.astype(int) - empty[k].astype(int)).max(axis=2)
        return diff, room.people(at, [v])

    door_x, door_z = room.key_points()["door"][0]
    du, dv = room.floor_to_pixel(door_x, door_z)
    # two seconds in: standing in the doorway
    diff, people = changed(v.enter + timedelta(seconds=2), 1)
    assert len(people) == 1
    x0, y0, x1, y1 = people[0][1]
    assert x0 - 5 <= du <= x1 + 5 and abs(y1 - dv) < 0.1 * room.height
    assert (diff[y0:y1, x0:x1] > 20).mean() > 0.3  # real sprite pixels, not a shade of the floor
    # mid-visit: at the counter, inside the room, not at the door
    diff, people = changed(v.enter + timedelta(minutes=6), 2)
    assert len(people) == 1
    sx, sz = room.key_points()["counter"][1]
    su, sv = room.floor_to_pixel(sx, sz)
    x0, y0, x1, y1 = people[0][1]
    assert x0 - 3 <= su <= x1 + 3 and abs(y1 - sv) < 4
    assert abs(su - du) > 40
    # after leaving: gone, the frame is the empty room bit for bit
    at = v.leave + timedelta(seconds=1)
    assert np.array_equal(
        room.render(at, [v], True, frame_index=3), room.render(at, [], True, frame_index=3)
    )
    assert room.people(at, [v]) == []
    # the last seconds: walking out, back near the door
    _, people = changed(v.leave - timedelta(seconds=1), 4)
    x0, y0, x1, y1 = people[0][1]
    assert x0 - 5 <= du <= x1 + 5


def test_people_boxes_are_where_the_pixels_changed():
    start = local(9)
    crowd = [
        visit("staff-1", "staff", "counter", start - timedelta(hours=1), 300, 0),
        visit("staff-2", "staff", "desk", start - timedelta(hours=1), 300, 1),
        visit("visitor-1", "visitor", "visitor_chair", start - timedelta(minutes=3), 10, 0),
        visit("visitor-2", "visitor", "counter", start - timedelta(seconds=6), 10, 2),
        visit("cleaner", "cleaner", "wander", start - timedelta(minutes=5), 20),
    ]
    for seed in (1, 2, 3):
        for view in ("interior", "entrance"):
            scene = Scene(seed, view)
            for dt in (0, 4, 9, 95):
                at = start + timedelta(seconds=dt)
                frame = scene.render(at, crowd, True, frame_index=dt)
                empty = scene.render(at, [], True, frame_index=dt)
                diff = np.abs(frame.astype(int) - empty.astype(int)).max(axis=2) > 24
                boxes = [b for _, b in scene.people(at, crowd)]
                inside = np.zeros_like(diff)
                for x0, y0, x1, y1 in boxes:
                    inside[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = True
                    assert diff[y0:y1, x0:x1].mean() > 0.15, (seed, view, dt)
                assert not (diff & ~inside).any(), (seed, view, dt)
                if view == "interior":
                    assert len(boxes) >= 3


def test_people_where_they_spend_time_are_big_enough_for_the_detector():
    """Door, desks, counter and chairs show a short (1.55 m) person at a detectable size."""
    need = design_height(360)
    print(
        f"\nMIN_RELIABLE_HEIGHT -> {min_reliable_height(360):.0f} px; scenes guarantee "
        f"{need:.0f} px at 640x360"
    )
    worst = []
    for seed in range(1, 11):
        scene = Scene(seed, "interior")
        for name, points in scene.key_points().items():
            for x, z in points:
                h = scene.person_height(x, z, 1.55)
                worst.append(h)
                assert h >= need, (seed, name, h)
                if name != "counter":
                    assert scene.visible_fraction(x, z, 1.55) >= 0.6, (seed, name)
        yard = Scene(seed, "entrance")
        x, z = yard.key_points()["door"][0]
        assert yard.person_height(x, z, 1.55) >= need, seed
    print(f"smallest person at a key place: {min(worst):.0f} px")


def test_a_person_behind_the_counter_keeps_the_upper_body_visible(room):
    staff = visit("staff-1", "staff", "counter", local(7, 30), 480, 0)
    at = local(10)
    [(_, (_, y0, _, y1))] = room.people(at, [staff])
    x, z = room.key_points()["counter_staff"][0]
    full = room.person_height(x, z, 1.55)
    assert (y1 - y0) >= 0.55 * full  # the counter hides the legs, not the person


def test_entrance_shows_arrival_and_departure_only(yard):
    v = visit("staff-2", "staff", "desk", local(7, 40), 480, 1)
    assert len(yard.people(v.enter + timedelta(seconds=4), [v])) == 1  # crossing the yard
    assert yard.people(v.enter + timedelta(hours=2), [v]) == []  # indoors
    assert len(yard.people(v.leave - timedelta(seconds=4), [v])) == 1  # going home
    inside_only = visit("staff-3", "staff", "desk", local(7, 40), 480, 2, views=("interior",))
    assert yard.people(inside_only.enter + timedelta(seconds=4), [inside_only]) == []


@pytest.mark.parametrize("size", [(1280, 720), (960, 540)])
def test_other_resolutions_scale_the_same_scene(size):
    w, h = size
    big = Scene(2, "interior", w, h)
    small = Scene(2, "interior")
    v = visit("staff-1", "staff", "desk", local(7, 30), 480, 1)
    frame = big.render(local(10), [v], True)
    assert frame.shape == (h, w, 3) and frame.dtype == np.uint8
    [(_, (_, y0, _, y1))] = big.people(local(10), [v])
    [(_, (_, b0, _, b1))] = small.people(local(10), [v])
    assert abs((y1 - y0) / h - (b1 - b0) / 360) < 0.03
    thumb = cv2.resize(frame, (640, 360), interpolation=cv2.INTER_AREA)
    ref = small.render(local(10), [v], True)
    assert np.abs(luma(thumb) - luma(ref)).mean() < 12  # same room, same framing


def test_tamper_changes_the_picture_as_intended(room, yard):
    at = local(10)
    staff = [visit("staff-1", "staff", "desk", local(7, 30), 480, 1)]
    for scene in (room, yard):
        normal = scene.render(at, staff, True)
        cover = scene.render(at, staff, True, "cover")
        assert luma(body(cover)).mean() < 45 and luma(body(cover)).std() < 15

        defocus = scene.render(at, staff, True, "defocus")
        sharp, blurred = sharpness(normal), sharpness(defocus)
        assert blurred < 0.1 * sharp, (blurred, sharp)

        wall = scene.render(at, staff, True, "wall")
        a, b = luma(body(normal)), luma(body(wall))
        corr = np.corrcoef(
            cv2.Sobel(a, cv2.CV_32F, 1, 0).ravel(), cv2.Sobel(b, cv2.CV_32F, 1, 0).ravel()
        )[0, 1]
        assert abs(corr) < 0.2  # none of the scene's edges are left
        assert scene.people(at, staff) or scene is yard  # truth: who is there, seen or not

        black = scene.render(at, staff, True, "blackout")
        assert black.max() == 0
        night_cover = scene.render(local(2), [], False, "cover")
        assert luma(body(night_cover)).mean() < 45


def test_render_time_at_640x360_with_three_people(room):
    people = [
        visit("staff-1", "staff", "counter", local(7, 30), 480, 0),
        visit("staff-2", "staff", "desk", local(7, 30), 480, 1),
        visit("visitor-1", "visitor", "counter", local(9, 59, 50), 15, 1),
    ]
    room.render(local(10), people, True)  # lighting state cached, as in a running camera
    times = []
    for k in range(60):
        t0 = time.perf_counter()
        room.render(local(10) + timedelta(seconds=k / 10), people, True, frame_index=k)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"\nrender 640x360, 3 people: median {statistics.median(times):.2f} ms/frame")


def example_day(scene: Scene, at: datetime) -> tuple[list[Visit], bool, None]:
    """A plausible office day for the contact sheet (the real planner is pantau.sim.world)."""
    d = at.astimezone(WITA)
    base = datetime(d.year, d.month, d.day, tzinfo=WITA)

    def t(h: float) -> datetime:
        return base + timedelta(hours=h)

    visits = [
        Visit("x/cleaner", "cleaner", t(6.4), t(6.9), "wander"),
        Visit("x/staff-1", "staff", t(7.45), t(16.1), "counter", 0),
        Visit("x/staff-2", "staff", t(7.6), t(16.0), "desk", 1),
        Visit("x/staff-3", "staff", t(7.9), t(15.9), "desk", 2),
        Visit("x/visitor-1", "visitor", t(9.45), t(9.6), "counter", 1),
        Visit("x/visitor-2", "visitor", t(9.4), t(9.7), "visitor_chair", 0),
        Visit("x/visitor-3", "visitor", t(12.45), t(12.55), "counter", 2),
        Visit("x/visitor-4", "visitor", t(14.45), t(14.6), "visitor_chair", 2),
        Visit("x/guard", "guard", t(20.9), t(23.5), "walkthrough", views=("entrance",)),
    ]
    lights = t(7.5) <= at < t(16.05) or t(17.9) <= at < t(21.6)
    return [v for v in visits if v.enter <= at < v.leave], lights, None


def test_contact_sheet_of_a_simulated_day():
    scenes = [Scene(s, v) for s in (1, 2) for v in ("interior", "entrance")]
    times = [local(5) + timedelta(minutes=90 * k) for k in range(13)]  # 05.00 .. 23.00
    sheet = contact_sheet(scenes, times, example_day, thumb_width=256)
    assert sheet.ndim == 3 and sheet.shape[1] >= 13 * 256
    SHEET.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(SHEET), sheet)
