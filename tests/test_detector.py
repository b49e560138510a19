"""The shipped person detector on real photographs and real CCTV footage.

Images come from ../shared/media when present; otherwise from the registry packages its README
names (Debian `darknet` for the darknet photos, the scikit-image wheel for astronaut/coffee), so
a fresh machine runs the same checks.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from pantau.vision.detector import (
    MODEL_NAME,
    Detection,
    ModelError,
    PersonDetector,
    default_model_path,
    iou,
)
from tests.support.media import SHARED, pedestrians

DARKNET = {"person.jpg", "dog.jpg", "horses.jpg"}
SKIMAGE = {"astronaut.png", "coffee.png"}


def _from_darknet(name: str, cache: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", "darknet"], cwd=tmp, check=True, capture_output=True)
        deb = next(Path(tmp).glob("darknet_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), f"{tmp}/x"], check=True, capture_output=True)
        for n in DARKNET:
            shutil.copy(next(Path(tmp, "x").rglob(f"data/{n}")), cache / n)
    return cache / name


def _from_skimage(name: str, cache: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
                tmp,
                "scikit-image",
            ],
            check=True,
            capture_output=True,
        )
        wheel = next(Path(tmp).glob("scikit_image-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            for n in SKIMAGE:
                (cache / n).write_bytes(zf.read(f"skimage/data/{n}"))
    return cache / name


@pytest.fixture(scope="session")
def image(media_dir: Path):
    """name -> BGR image, from shared/media or rebuilt from its registry package."""

    def load(name: str) -> np.ndarray:
        path = SHARED / name
        if not path.exists():
            path = media_dir / name
            if not path.exists():
                path = (_from_darknet if name in DARKNET else _from_skimage)(name, media_dir)
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        assert img is not None, path
        return img

    return load


@pytest.fixture(scope="session")
def detector() -> PersonDetector:
    return PersonDetector(threads=1)


@pytest.fixture(scope="session")
def walkway_frame(media_dir: Path) -> np.ndarray:
    """Frame 100 of the pedestrian clip: six people on the walkway, 55-90 px tall."""
    with av.open(str(pedestrians(media_dir))) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == 100:
                return f.to_ndarray(format="bgr24")
    raise AssertionError("clip shorter than 100 frames")


@pytest.mark.parametrize("name", ["person.jpg", "astronaut.png"])
def test_finds_the_person_in_photos(detector: PersonDetector, image, name: str) -> None:
    img = image(name)
    found = detector.detect(img)
    assert len(found) >= 1
    best = found[0]
    assert isinstance(best, Detection) and best.score >= 0.5
    h, w = img.shape[:2]
    assert 0 <= best.x0 < best.x1 <= w and 0 <= best.y0 < best.y1 <= h
    assert best.height > 0.5 * h  # the person fills most of the photo's height


def test_person_box_in_person_jpg(detector: PersonDetector, image) -> None:
    """The woman in the blue jacket stands at about x 185-275, y 100-380."""
    (d,) = detector.detect(image("person.jpg"))
    assert iou(d.box, (185, 100, 275, 380)) > 0.7


@pytest.mark.parametrize("name", ["dog.jpg", "coffee.png", "horses.jpg"])
def test_no_person_where_there_is_none(detector: PersonDetector, image, name: str) -> None:
    img = image(name)
    assert detector.detect(img) == []
    assert detector.detect_tiled(img) == []


def test_pedestrian_footage(detector: PersonDetector, walkway_frame: np.ndarray) -> None:
    full = detector.detect(walkway_frame)
    tiled = detector.detect_tiled(walkway_frame)
    assert len(full) >= 3
    assert len(tiled) >= len(full)
    for d in tiled:
        assert 0 <= d.x0 < d.x1 <= 640 and 0 <= d.y0 < d.y1 <= 480
        assert 40 <= d.height <= 120  # people on this walkway, not the lamp post
    scores = [d.score for d in tiled]
    assert scores == sorted(scores, reverse=True)


def test_roi_finds_small_people_and_reports_frame_pixels(
    detector: PersonDetector, walkway_frame: np.ndarray
) -> None:
    """The man at x~500 (86 px of 480) is missed full-frame but found in a crop around him."""
    man = (496, 182, 526, 268)
    assert not any(iou(d.box, man) > 0.5 for d in detector.detect(walkway_frame))
    roi = (440, 140, 580, 300)
    found = detector.detect(walkway_frame, roi=roi)
    assert any(iou(d.box, man) > 0.6 for d in found)
    for d in found:
        assert roi[0] <= d.x0 < d.x1 <= roi[2] and roi[1] <= d.y0 < d.y1 <= roi[3]


def test_tiled_does_not_double_count_a_large_person(detector: PersonDetector, image) -> None:
    assert len(detector.detect_tiled(image("person.jpg"))) == 1


def test_score_threshold(image) -> None:
    strict = PersonDetector(score_threshold=0.999)
    assert strict.detect(image("astronaut.png")) == []  # she scores ~0.93


def test_wrong_checksum_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / MODEL_NAME
    data = bytearray(default_model_path().read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelError) as err:
        PersonDetector(model_path=bad)
    assert str(bad) in str(err.value)
    assert "SHA-256" in str(err.value) and "models/README.md" in str(err.value)


def test_missing_model_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / MODEL_NAME
    with pytest.raises(ModelError) as err:
        PersonDetector(model_path=missing)
    assert str(missing) in str(err.value) and "not found" in str(err.value)


def test_shipped_model_is_the_known_one() -> None:
    assert default_model_path().is_file()
    PersonDetector(model_path=default_model_path())  # checksum verified


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (np.full((120, 160), 128, np.uint8), "HxWx3"),
        (np.zeros((120, 160, 4), np.uint8), "HxWx3"),
        (np.zeros((120, 160, 3), np.float32), "uint8"),
        ([[0, 0, 0]], "numpy array"),
    ],
)
def test_bad_input_is_a_value_error(detector: PersonDetector, frame, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        detector.detect(frame)
    with pytest.raises(ValueError, match=words):
        detector.detect_tiled(frame)


def test_bad_roi_and_options(detector: PersonDetector) -> None:
    frame = np.zeros((100, 100, 3), np.uint8)
    with pytest.raises(ValueError, match="empty"):
        detector.detect(frame, roi=(200, 200, 300, 300))
    with pytest.raises(ValueError, match="tiles"):
        detector.detect_tiled(frame, tiles=(0, 2))
    with pytest.raises(ValueError, match="threads"):
        PersonDetector(threads=0)


def test_blank_frame_has_nobody(detector: PersonDetector) -> None:
    assert detector.detect(np.full((360, 640, 3), 128, np.uint8)) == []
