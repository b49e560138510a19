"""Frames to per-minute observations, on simulated office scenes with real people pixels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import cv2
import pytest

from pantau.media.reader import SampledFrame
from pantau.pipeline.observe import CameraAnalyzer, MinuteAggregator
from pantau.sim.offices import SimConfig, make_scene, select_offices
from pantau.sim.profiles import OfficeSim
from pantau.vision.detector import PersonDetector
from pantau.vision.zones import Zone

WITA = ZoneInfo("Asia/Makassar")


@pytest.fixture(scope="module")
def detector() -> PersonDetector:
    return PersonDetector(threads=1)


def frames(world, scene, start: datetime, minutes: int, every: float = 2.0):
    t = start
    k = 0
    while t < start + timedelta(minutes=minutes):
        present, lights, tamper, _ = world.state_at(t, scene.view)
        bgr = scene.render(t, present, lights, tamper, frame_index=k)
        grey = cv2.resize(
            cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), (320, 180), interpolation=cv2.INTER_AREA
        )
        yield (
            SampledFrame(
                at=t, bgr=bgr, grey=grey, keyframe=True, source_width=640, source_height=360
            ),
            present,
            lights,
        )
        t += timedelta(seconds=every)
        k += 1


def run_minutes(detector, start: datetime, minutes: int, zones=()):
    [office] = select_offices(
        SimConfig(offices=[OfficeSim(site="kel-mandonga", profile="punctual", random_events=False)])
    )
    scene = make_scene(office.seed, "interior", 640, 360)
    analyzer = CameraAnalyzer(detector, zones)
    agg = MinuteAggregator(camera_id=7)
    rows, truth = [], {}
    for frame, present, lights in frames(office.world, scene, start, minutes):
        rows += agg.add(analyzer.process(frame))
        truth.setdefault(frame.at.replace(second=0, microsecond=0), []).append(
            (len(present), lights)
        )
    rows += agg.flush()
    return rows, truth


def test_staffed_office_minutes_count_people_and_lights(detector):
    start = datetime(2026, 11, 23, 10, 30, tzinfo=WITA).astimezone(UTC)
    zones = [Zone("seluruh ruangan", ((0, 0), (1, 0), (1, 1), (0, 1)))]
    rows, truth = run_minutes(detector, start, 3, zones)
    assert [r["minute"] for r in rows] == sorted(truth)
    for row in rows:
        present = max(n for n, _ in truth[row["minute"]])
        assert present >= 2
        assert row["people_max"] >= 1, row
        assert row["people_max"] <= present + 1
        assert row["lights_on"] is True and row["ir_mode"] is False
        assert row["zones"]["seluruh ruangan"]["max"] == row["people_max"]
        assert 55 <= row["coverage_seconds"] <= 60 and row["samples"] == 30
        assert row["camera_id"] == 7 and row["source"] == "live"


def test_empty_office_at_night_is_dark_and_empty(detector):
    start = datetime(2026, 11, 23, 2, 30, tzinfo=WITA).astimezone(UTC)
    rows, truth = run_minutes(detector, start, 2)
    assert all(n == 0 for v in truth.values() for n, _ in v)
    for row in rows:
        assert row["people_max"] == 0
        assert row["lights_on"] is False and row["ir_mode"] is True
        assert row["tamper"] == {}


def test_rows_are_keyed_by_minute_so_rewriting_is_idempotent(detector):
    start = datetime(2026, 11, 23, 10, 30, 20, tzinfo=WITA).astimezone(UTC)
    first, _ = run_minutes(detector, start, 1)
    again, _ = run_minutes(detector, start, 1)
    assert [(r["camera_id"], r["minute"]) for r in first] == [
        (r["camera_id"], r["minute"]) for r in again
    ]
    assert first == again  # deterministic: same frames, same facts
