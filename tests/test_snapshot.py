"""Snapshots: the latest frame for the video wall, and frames taken from recordings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from pantau.media.snapshot import encode_jpeg, frame_at, latest_path, write_latest
from pantau.runtime import Runtime
from tests.test_playback import (
    KANDAI,
    Recording,
    T,
    audits,
    iso,
    last_audit_id,
    make_recording,
    new_camera,
    ts_segments,
)

S = timedelta(seconds=1)


@pytest.fixture
def recording(shared_runtime: Runtime, clip720: Path, media_dir: Path) -> Recording:
    return make_recording(shared_runtime, clip720, media_dir)


def decode(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None, "not a JPEG"
    return img


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def test_encode_and_write_latest_atomically(tmp_path: Path) -> None:
    img = np.zeros((48, 64, 3), np.uint8)
    img[:, 32:] = (0, 0, 255)
    back = decode(encode_jpeg(img))
    assert back.shape == img.shape and back[24, 48, 2] > 200 and back[24, 10, 2] < 30
    path = write_latest(tmp_path, 7, img)
    assert path == latest_path(tmp_path, 7) == tmp_path / "latest" / "7.jpg"
    write_latest(tmp_path, 7, np.full((48, 64, 3), 255, np.uint8))  # replaced in place
    assert decode(path.read_bytes()).mean() > 250
    assert sorted(p.name for p in path.parent.iterdir()) == ["7.jpg"]  # no temp files left


def test_frame_at_matches_sequential_decoding(clip720: Path, media_dir: Path) -> None:
    files = ts_segments(clip720, media_dir)
    reference = frames_of(files[0])  # 50 frames, keyframes at 0 and 25
    for seconds, index in ((0, 0), (1.0, 25), (1.48, 37), (1.5, 38), (0.98, 25), (1.99, 49)):
        got = frame_at(files[0], T, T + S * seconds)
        assert np.array_equal(got, reference[index]), (seconds, index)
    assert np.array_equal(frame_at(files[0], T, T + S * 5), reference[-1])  # past the end


def test_latest_snapshot_for_the_wall(
    client: TestClient, auth: Callable[[str], dict[str, str]], shared_runtime: Runtime
) -> None:
    cam = new_camera(shared_runtime)
    url = f"/api/cameras/{cam}/snapshot.jpg"
    r = client.get(url, headers=auth("lurah"))
    assert r.status_code == 404
    assert r.json()["message"].startswith(f"no frame yet from camera {cam}")
    img = np.random.default_rng(1).integers(0, 255, (72, 128, 3), dtype=np.uint8)
    write_latest(shared_runtime.settings.snapshots_dir, cam, img)
    r = client.get(url, headers=auth("lurah"))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.headers["cache-control"] == "no-store" and "last-modified" in r.headers
    assert decode(r.content).shape == (72, 128, 3)
    far = new_camera(shared_runtime, KANDAI)
    write_latest(shared_runtime.settings.snapshots_dir, far, img)
    assert client.get(f"/api/cameras/{far}/snapshot.jpg", headers=auth("lurah")).status_code == 403


def test_snapshot_at_time_from_recordings(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    shared_runtime: Runtime,
    recording: Recording,
) -> None:
    cam, t0 = recording.camera_id, recording.t0
    url = f"/api/cameras/{cam}/snapshot.jpg"
    before = last_audit_id(shared_runtime)
    first = client.get(url, params={"at": iso(t0 + S / 2)}, headers=auth("camat"))
    second = client.get(url, params={"at": iso(t0 + S * 10.5)}, headers=auth("camat"))
    assert first.status_code == second.status_code == 200, first.text
    a, b = decode(first.content), decode(second.content)
    assert a.shape == b.shape == (720, 1280, 3)
    # each is (up to JPEG loss) the frame recorded at that moment, and they differ
    expect_a, expect_b = frames_of(recording.files[0])[13], frames_of(recording.files[2])[13]
    assert diff(a, expect_a) < 2 and diff(b, expect_b) < 2
    assert diff(a, b) > 3 * max(diff(a, expect_a), diff(b, expect_b))
    rows = audits(shared_runtime, "recording.snapshot", before)
    assert [(r.actor, r.object_id) for r in rows] == [("camat", str(cam))] * 2
    assert rows[0].detail["at"] == iso(t0 + S / 2) and rows[0].detail["at_local"].endswith("WITA")

    gap = client.get(url, params={"at": iso(t0 + S * 6)}, headers=auth("camat"))
    assert gap.status_code == 404 and gap.json()["message"].startswith("no recording at ")
    assert "WITA" in gap.json()["message"]


@pytest.mark.parametrize("offset", [0.0, 1.96])
def test_snapshot_at_segment_edges(
    client: TestClient, auth: Callable[[str], dict[str, str]], recording: Recording, offset: float
) -> None:
    r = client.get(
        f"/api/cameras/{recording.camera_id}/snapshot.jpg",
        params={"at": iso(recording.t0 + S * (2 + offset))},
        headers=auth("operator"),
    )
    assert r.status_code == 200
    decode(r.content)
