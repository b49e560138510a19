"""Light meter: brightness, lights on/off with hysteresis and debounce, zones, infrared."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from pantau.vision.light import LightMeter, is_monochrome
from pantau.vision.zones import Zone
from tests.test_vision_motion import grey320, pedestrian_frames, sim_frames, sim_office

WITA = ZoneInfo("Asia/Makassar")
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> tuple[np.ndarray, ...]:
    return pedestrian_frames(tmp_path_factory.getbasetemp() / "media")


def at(k: int) -> datetime:
    return T0 + timedelta(seconds=k)


def scene_at(grey: np.ndarray, level: float) -> np.ndarray:
    """A real scene (texture, people) with its mean brightness moved to `level`."""
    out = grey.astype(np.float32) * (level / max(float(grey.mean()), 1.0))
    return np.clip(out, 0, 255).astype(np.uint8)


def test_bright_is_on_and_dark_is_off(frames):
    g = grey320(frames[0])
    bright, dark = LightMeter(), LightMeter()
    for k in range(3):
        rb = bright.update(scene_at(g, 140), at(k))
        rd = dark.update(scene_at(g, 40), at(k))
    assert rb.lights_on and abs(rb.level - 140) < 3 and not rb.changed
    assert not rd.lights_on and abs(rd.level - 40) < 3
    assert rb.per_zone == {} and rb.infrared is None


def test_hysteresis_keeps_the_state_between_the_thresholds(frames):
    g = grey320(frames[0])
    meter = LightMeter(on_threshold=110, off_threshold=100, debounce=1)
    assert meter.update(scene_at(g, 130), at(0)).lights_on
    for k, level in enumerate([105, 102, 108, 101, 106], start=1):  # between: stays on
        r = meter.update(scene_at(g, level), at(k))
        assert r.lights_on and not r.changed, level
    r = meter.update(scene_at(g, 95), at(10))
    assert not r.lights_on and r.changed and r.since == at(10)
    for k, level in enumerate([101, 108, 104], start=11):  # between: stays off
        assert not meter.update(scene_at(g, level), at(k)).lights_on
    assert meter.update(scene_at(g, 115), at(20)).lights_on


def test_debounce_needs_a_few_frames_in_a_row(frames):
    g = grey320(frames[0])
    meter = LightMeter(debounce=3)
    assert meter.update(scene_at(g, 130), at(0)).lights_on
    # a person standing under the camera darkens two frames: no flip
    for k in (1, 2):
        assert meter.update(scene_at(g, 80), at(k)).lights_on
    assert meter.update(scene_at(g, 130), at(3)).lights_on
    # lights really off: flips on the third dark frame, dated from the first
    levels = [meter.update(scene_at(g, 60), at(k)) for k in (4, 5, 6, 7)]
    assert [r.lights_on for r in levels] == [True, True, False, False]
    assert [r.changed for r in levels] == [False, False, True, False]
    assert levels[2].since == at(4)


def test_zones_have_their_own_state_and_any_lit_zone_means_on():
    left = Zone("ruang depan", ((0, 0), (0.5, 0), (0.5, 1), (0, 1)))
    right = Zone("ruang belakang", ((0.5, 0), (1, 0), (1, 1), (0.5, 1)))
    meter = LightMeter(zones=[left, right], debounce=1)
    frame = np.full((180, 320), 40, np.uint8)
    r = meter.update(frame, at(0))
    assert not r.lights_on and set(r.per_zone) == {"ruang depan", "ruang belakang"}
    frame[:, 200:] = 160  # lights on in the back room only
    r = meter.update(frame, at(1))
    assert r.lights_on and r.changed and r.since == at(1)
    assert not r.per_zone["ruang depan"].lights_on
    assert r.per_zone["ruang belakang"].lights_on and r.per_zone["ruang belakang"].changed
    assert r.per_zone["ruang depan"].level == pytest.approx(40, abs=1)
    assert 40 < r.level < 160  # the level is over all zones together


def test_infrared_picture_is_off_unless_the_room_is_really_lit(frames):
    colour = frames[0]
    grey_bgr = cv2.cvtColor(cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    assert not is_monochrome(colour)
    assert is_monochrome(grey_bgr)
    # A grey that is not exactly neutral (an encoder writing chroma 127, a camera's tint) is
    # still the infrared picture: every pixel's channels differ by 3, but the tint is constant.
    tinted = np.clip(grey_bgr.astype(np.int16) + np.array([-1, 2, 0]), 0, 255).astype(np.uint8)
    assert is_monochrome(tinted)
    # A green EXIT sign in the infrared picture (1 % of it) leaves it infrared; a tenth of the
    # picture in colour does not.
    sign, wall = tinted.copy(), tinted.copy()
    h, w = sign.shape[:2]
    side = int((0.01 * h * w) ** 0.5)
    sign[10 : 10 + side, 10 : 10 + side] = (40, 200, 60)
    assert is_monochrome(sign)
    wall[: h // 10] = (40, 200, 60)
    assert not is_monochrome(wall)
    g = scene_at(grey320(colour), 125)  # bright enough for "on" in colour ...
    meter = LightMeter()
    r = meter.update(g, at(0), bgr=grey_bgr)
    assert r.infrared is True and not r.lights_on  # ... but it is the illuminator
    colour_meter = LightMeter()
    assert colour_meter.update(g, at(0), bgr=colour).lights_on
    assert meter.update(scene_at(g, 200), at(1), infrared=True).lights_on is False  # debounce
    for k in (2, 3):
        r = meter.update(scene_at(g, 200), at(k), infrared=True)
    assert r.lights_on


def test_simulated_offices_lights_follow_the_plan():
    """Each simulated service room at night, dawn, day, dusk, with the lights on and off."""
    checked = 0
    for site in ("kel-kambu", "kel-mandonga"):
        _, scenes = sim_office(site)
        scene = scenes["interior"]
        for hh, mm in ((2, 0), (6, 30), (9, 0), (12, 0), (16, 30), (18, 30), (21, 0)):
            for lights in (False, True):
                meter = LightMeter()
                when = datetime(2026, 11, 30, hh, mm, tzinfo=WITA)
                for k in range(4):
                    bgr = scene.render(when + timedelta(seconds=k), [], lights, frame_index=k)
                    r = meter.update(grey320(bgr), when + timedelta(seconds=k), bgr=bgr)
                assert r.lights_on == lights, (site, hh, mm, lights, r.level, r.infrared)
                checked += 1
    assert checked == 28


def test_simulated_morning_switch_is_seen_once_after_the_debounce():
    meter = LightMeter()
    flips = []
    start = datetime(2026, 11, 30, 7, 27, 0, tzinfo=WITA)  # planned switch: 07:27:31
    for when, bgr, _ in sim_frames("interior", start, 60):
        r = meter.update(grey320(bgr), when, bgr=bgr)
        if r.changed:
            flips.append((when, r.since, r.lights_on))
    assert len(flips) == 1, flips
    when, since, on = flips[0]
    assert on and since.astimezone(WITA).strftime("%H:%M:%S") == "07:27:32"
    assert (when - since).total_seconds() == 2  # the third lit frame


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="off_threshold < on_threshold"):
        LightMeter(on_threshold=90, off_threshold=100)
    with pytest.raises(ValueError, match="unique"):
        LightMeter(zones=[Zone("a", ((0, 0), (1, 0), (1, 1)))] * 2)
    with pytest.raises(ValueError, match=r"zone 'meja': point \(1\.2, 0\.5\) is outside"):
        Zone("meja", ((0.1, 0.1), (1.2, 0.5), (0.5, 0.9)))
    meter = LightMeter()
    with pytest.raises(ValueError, match=r"320 px wide.*got 640x360"):
        meter.update(np.zeros((360, 640), np.uint8), T0)
    with pytest.raises(ValueError, match=r"expected HxWx3 uint8 \(BGR\).*got shape 360x640"):
        is_monochrome(np.zeros((360, 640), np.uint8))
    # a new stream size only refits the zone masks; the state carries on
    zoned = LightMeter(zones=[Zone("a", ((0, 0), (1, 0), (1, 1), (0, 1)))], debounce=1)
    assert zoned.update(np.full((180, 320), 150, np.uint8), T0).lights_on
    r = zoned.update(np.full((240, 320), 150, np.uint8), at(1))
    assert r.lights_on and not r.changed


def test_cost_per_frame(frames):
    zones = [
        Zone("kiri", ((0, 0), (0.5, 0), (0.5, 1), (0, 1))),
        Zone("kanan", ((0.5, 0), (1, 0), (1, 1))),
    ]
    plain, zoned = LightMeter(), LightMeter(zones=zones)
    greys = [grey320(f) for f in frames[:40]]
    for name, meter, with_bgr in (
        ("whole frame", plain, False),
        ("2 zones + IR check", zoned, True),
    ):
        t = time.process_time()
        for k, g in enumerate(greys):
            meter.update(g, at(k), bgr=frames[k] if with_bgr else None)
        ms = (time.process_time() - t) * 1000 / len(greys)
        print(f"\nlight ({name}): {ms:.3f} ms CPU per 320x240 frame", end="")


def test_infrared_survives_the_h264_round_trip() -> None:
    """The simulator's night picture, encoded to H.264 (yuv420p) and decoded as a camera's
    would be, reads as infrared; its colour picture by day does not. (Decoded, the grey comes
    back with chroma 127: a constant tint, not colour.)"""
    import av

    _, scenes = sim_office("kel-mandonga")
    scene = scenes["interior"]
    night = scene.render(datetime(2026, 11, 30, 2, 0, tzinfo=WITA), [], False)
    day = scene.render(datetime(2026, 11, 30, 10, 0, tzinfo=WITA), [], True)
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = 640, 360, "yuv420p"
    codec.time_base = Fraction(1, 5)
    packets = []
    for k, bgr in enumerate((night, night, day, day)):
        frame = av.VideoFrame.from_ndarray(bgr, format="bgr24").reformat(format="yuv420p")
        frame.pts = k
        packets += codec.encode(frame)
    packets += codec.encode(None)
    decoder = av.CodecContext.create("h264", "r")
    decoded = [f.to_ndarray(format="bgr24") for p in packets for f in decoder.decode(p)]
    decoded += [f.to_ndarray(format="bgr24") for f in decoder.decode(None)]
    assert len(decoded) == 4
    assert [is_monochrome(f) for f in decoded] == [True, True, False, False]
