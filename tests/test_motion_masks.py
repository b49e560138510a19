"""Motion masks drawn on the admin page: not counted as zones, and motion under them ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from pantau.config.model import Settings
from pantau.pipeline.camera import CameraSpec, make_analyzer, watched_mask
from pantau.vision.motion import MotionDetector
from pantau.vision.zones import Zone

LEFT_HALF = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))
SERVICE = ((0.5, 0.2), (1.0, 0.2), (1.0, 1.0), (0.5, 1.0))
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def spec(*zones: tuple[str, tuple[tuple[float, float], ...]]) -> CameraSpec:
    return CameraSpec(id=1, name="c", url="rtsp://127.0.0.1/x", zones=zones)


def test_masks_are_not_zones_and_reach_the_motion_detector() -> None:
    analyzer = make_analyzer(
        spec(("area layanan", SERVICE), ("masker:televisi", LEFT_HALF)), Settings()
    )
    assert analyzer is not None
    assert [z.name for z in analyzer.zones] == ["area layanan"]
    plain = make_analyzer(spec(("area layanan", SERVICE)), Settings())
    assert plain is not None and plain.motion._mask_given is None
    assert analyzer.motion._mask_given is not None


def test_a_mask_over_everything_is_ignored_not_fatal() -> None:
    assert watched_mask([Zone("masker:semua", ((0, 0), (1, 0), (1, 1), (0, 1)))]) is None


def moving_square(x: int, step: int) -> np.ndarray:
    frame = np.full((180, 320), 90, np.uint8)
    frame[60:120, x + 4 * step : x + 4 * step + 40] = 230
    return frame


def fractions(detector: MotionDetector, x: int) -> list[float]:
    out = []
    for step in range(12):
        out.append(detector.update(moving_square(x, step), T0 + timedelta(seconds=step)).fraction)
    return out


def test_motion_under_a_mask_does_not_count_and_elsewhere_does() -> None:
    mask = watched_mask([Zone("masker:kiri", LEFT_HALF)])
    left_masked = fractions(MotionDetector(mask=mask), x=20)
    left_open = fractions(MotionDetector(), x=20)
    right_masked = fractions(MotionDetector(mask=mask), x=200)
    assert max(left_open[2:]) > 0.01
    assert max(left_masked[2:]) == 0.0
    assert max(right_masked[2:]) > 0.01
