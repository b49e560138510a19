"""A person the detector loses stays counted while their place differs from the empty room.

Real detector, simulated office with real people pixels. "Lost" is made the way the detector
really loses people in the accuracy runs (docs/accuracy.md): the same people, drawn dark and
blurred, so the model no longer finds them while they are plainly there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from pantau.media.reader import SampledFrame
from pantau.pipeline.observe import CameraAnalyzer
from pantau.sim.offices import SimConfig, make_scene, select_offices
from pantau.sim.profiles import OfficeSim
from pantau.vision.detector import PersonDetector

WITA = ZoneInfo("Asia/Makassar")
SEEN = datetime(2026, 11, 23, 10, 30, tzinfo=WITA).astimezone(UTC)
STEP = timedelta(seconds=5)


@pytest.fixture(scope="module")
def office():
    [office] = select_offices(
        SimConfig(offices=[OfficeSim(site="kel-mandonga", profile="punctual", random_events=False)])
    )
    scene = make_scene(office.seed, "interior", 640, 360)
    present, lights, _, _ = office.world.state_at(SEEN, "interior")
    assert present and lights
    return scene, present


def _frame(at: datetime, bgr: np.ndarray) -> SampledFrame:
    grey = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), (320, 180), cv2.INTER_AREA)
    return SampledFrame(
        at=at, bgr=bgr, grey=grey, keyframe=True, source_width=640, source_height=360
    )


def _hidden(scene, present, k: int) -> np.ndarray:
    """The room with its people drawn dark and blurred: there, but not found by the model."""
    bgr = scene.render(SEEN, present, True, frame_index=k)
    for _, (x0, y0, x1, y1) in scene.people(SEEN, present):
        part = bgr[y0:y1, x0:x1]
        bgr[y0:y1, x0:x1] = (cv2.GaussianBlur(part, (0, 0), 6) * 0.45).astype(np.uint8)
    return bgr


def _run(analyzer, at, minutes: float, make) -> tuple[list[int], datetime]:
    counts = []
    end = at + timedelta(minutes=minutes)
    k = 0
    while at < end:
        counts.append(analyzer.process(_frame(at, make(k))).people)
        at += STEP
        k += 1
    return counts, at


def test_a_lost_person_stays_counted_until_the_empty_room_comes_back(office) -> None:
    scene, present = office
    analyzer = CameraAnalyzer(PersonDetector(threads=1))
    at = SEEN - timedelta(minutes=15)
    # Lit and empty for six minutes: two full looks find nobody, so this is the empty room.
    empty, at = _run(analyzer, at, 6, lambda k: scene.render(SEEN, [], True, frame_index=k))
    assert set(empty) == {0}
    seen, at = _run(analyzer, at, 6, lambda k: scene.render(SEEN, present, True, frame_index=k))
    assert seen[-1] >= 1
    runs = analyzer.detector_runs
    lost, at = _run(analyzer, at, 25, lambda k: _hidden(scene, present, k))
    # Their places never looked like the empty room: still counted after 25 minutes, well past
    # the 10 minutes an unchanged person is kept without an empty picture ...
    assert min(lost) >= 1, lost
    # ... while the detector looked (heartbeat, two halves) once a minute and found nobody.
    assert analyzer.detector_runs - runs >= 2 * 20
    gone, _ = _run(analyzer, at, 3, lambda k: scene.render(SEEN, [], True, frame_index=k))
    # They left: at the next look (a minute at most) the background is back and nobody counts.
    assert gone[-1] == 0 and gone.index(0) <= 60 / STEP.total_seconds() + 1, gone


def test_without_an_empty_picture_a_changed_lost_person_is_not_carried(office) -> None:
    scene, present = office
    analyzer = CameraAnalyzer(PersonDetector(threads=1))
    seen, at = _run(analyzer, SEEN, 1, lambda k: scene.render(SEEN, present, True, frame_index=k))
    assert seen[-1] >= 1
    lost, _ = _run(analyzer, at, 3, lambda k: _hidden(scene, present, k))
    # Never seen empty: only "unchanged since the last sighting" may carry a person, and
    # darkened, blurred pixels are not unchanged.
    assert lost[-1] == 0, lost
