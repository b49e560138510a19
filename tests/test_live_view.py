"""The live API behind the video wall and the playback timeline (routes/live.py), on SQLite
and PostgreSQL: camera groups with live facts, cached thumbnails with 304s, the MJPEG live
view over a real HTTP server (new frames, audit, end on disconnect and on logout), and a
day's timeline of recording runs and observed minutes."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from pantau.accounts.users import create_user
from pantau.media.recorder import segment_path
from pantau.media.snapshot import encode_jpeg, write_latest
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Camera, CameraState, Observation, Role, Site, SiteKind
from pantau.store.types import utcnow
from pantau.web.app import create_app
from pantau.web.routes import live
from tests.conftest import PASSWORD
from tests.support.live import LiveServer
from tests.support.media import run
from tests.test_playback import (
    KANDAI,
    KORUMBA,
    add_recording,
    audits,
    iso,
    last_audit_id,
    new_camera,
    recent_t0,
    ts_segments,
)

Auth = Callable[[str], dict[str, str]]


def picture(width: int = 1280, height: int = 720, value: int = 80) -> np.ndarray:
    img = np.full((height, width, 3), value, np.uint8)
    cv2.circle(img, (width // 2, height // 2), height // 4, (255, 255, 255), -1)
    return img


def park_camera(rt: Runtime) -> int:
    """A camera in a new public space (ruang publik) in Korumba."""
    with transaction(rt.sessions) as s:
        site = Site(
            slug=f"taman-{time.monotonic_ns()}",
            kind=SiteKind.RUANG_PUBLIK,
            name="Taman Kota",
            kelurahan_code=KORUMBA,
            kecamatan_code=KORUMBA[:8],
        )
        cam = Camera(site=site, name="Taman", purpose="ruang publik", main_stream="rtsp://x/y")
        s.add_all([site, cam])
        s.flush()
        return cam.id


def groups_of(client: TestClient, auth: Auth, role: str) -> dict:
    r = client.get("/api/camera-groups", headers=auth(role))
    assert r.status_code == 200, r.text
    return r.json()


# --- pure helpers --------------------------------------------------------------------------


def test_jpeg_width_and_scaling_never_enlarge() -> None:
    big = encode_jpeg(picture(1920, 1080))
    assert live.jpeg_width(big) == 1920
    small = live.scale_jpeg(big, 320)
    assert live.jpeg_width(small) == 320 and len(small) < len(big) / 5
    decoded = cv2.imdecode(np.frombuffer(small, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (180, 320, 3)
    tiny = encode_jpeg(picture(200, 100))
    assert live.scale_jpeg(tiny, 320) is tiny  # already small: the same bytes
    with pytest.raises(ValueError):
        live.scale_jpeg(b"\xff\xd8not a jpeg", 320)


def test_merged_runs_join_touching_segments() -> None:
    t = utcnow()
    s = timedelta(seconds=1)
    spans = [
        (t + 10 * s, t + 20 * s),
        (t, t + 10 * s),
        (t + 20.5 * s, t + 30 * s),
        (t + 40 * s, t + 50 * s),
    ]
    assert live.merged(spans) == [(t, t + 30 * s), (t + 40 * s, t + 50 * s)]


# --- camera groups ------------------------------------------------------------------------


def test_camera_groups_carry_state_people_and_since(
    client: TestClient, auth: Auth, shared_runtime: Runtime
) -> None:
    rt = shared_runtime
    now = utcnow()
    office = new_camera(rt, KORUMBA)
    down = new_camera(rt, KORUMBA)
    stale = new_camera(rt, KORUMBA)
    cam_park = park_camera(rt)
    other = new_camera(rt, KANDAI)
    write_latest(rt.settings.snapshots_dir, office, picture())
    down_since = (now - timedelta(hours=2)).replace(microsecond=0)
    last_report = (now - timedelta(minutes=7)).replace(microsecond=0)
    with transaction(rt.sessions) as s:
        s.add(CameraState(camera_id=office, state="online", since=now, updated_at=now))
        s.add(CameraState(camera_id=down, state="offline", since=down_since, updated_at=now))
        s.add(
            CameraState(
                camera_id=stale,
                state="online",
                since=now - timedelta(days=1),
                updated_at=last_report,
            )
        )
        minute = now.replace(second=0, microsecond=0)
        s.add(Observation(camera_id=office, minute=minute - timedelta(minutes=3), people_max=9))
        s.add(
            Observation(
                camera_id=office, minute=minute - timedelta(minutes=1), people_max=4, lights_on=True
            )
        )
        s.add(Observation(camera_id=down, minute=minute - timedelta(minutes=30), people_max=5))
        s.add(Observation(camera_id=stale, minute=minute, people_max=2, source="sim"))

    body = groups_of(client, auth, "operator")
    cams = {c["id"]: c for c in body["cameras"]}
    assert cams[office]["state"] == "online" and cams[office]["people"] == 4
    assert cams[office]["lights_on"] is True and cams[office]["frame_at"] is not None
    assert cams[office]["people_source"] == "live" and cams[stale]["people_source"] == "sim"
    assert cams[down]["state"] == "offline" and cams[down]["since"].startswith(iso(down_since)[:19])
    assert cams[down]["people"] is None, "a count from 30 minutes ago is not 'now'"
    assert cams[down]["frame_at"] is None
    # No worker reports any more: offline since its last report, not since it came online.
    assert cams[stale]["reason_code"] == "no_worker"
    assert cams[stale]["since"].startswith(iso(last_report)[:19])
    groups = {g["id"]: g for g in body["groups"]}
    assert body["groups"][0]["id"] == "all"
    assert {office, down, cam_park} <= set(groups["kecamatan:74.71.01"]["camera_ids"])
    assert groups["kecamatan:74.71.01"]["name"] == "Mandonga"
    assert cam_park in groups["kind:ruang_publik"]["camera_ids"]
    assert cam_park not in groups["kind:kantor_kelurahan"]["camera_ids"]
    assert other in groups["kecamatan:74.71.02"]["camera_ids"]
    # The lurah of Korumba sees Korumba only, in every group.
    mine = groups_of(client, auth, "lurah")
    ids = {c["id"] for c in mine["cameras"]}
    assert {office, down, cam_park} <= ids and other not in ids
    assert all(set(g["camera_ids"]) <= ids for g in mine["groups"])


def test_camera_groups_of_a_city_without_cameras(fresh_runtime: Runtime) -> None:
    with transaction(fresh_runtime.sessions) as s:
        create_user(s, "admin", PASSWORD, Role.ADMIN, None)
    with TestClient(create_app(fresh_runtime)) as client:
        login = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        client.cookies.clear()
        token = login.json()["token"]
        r = client.get("/api/camera-groups", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json()["cameras"] == [] and [g["id"] for g in r.json()["groups"]] == ["all"]


# --- thumbnails -----------------------------------------------------------------------------


def test_thumbnail_is_small_cached_and_answers_304(
    client: TestClient, auth: Auth, shared_runtime: Runtime
) -> None:
    rt = shared_runtime
    cam = new_camera(rt, KORUMBA)
    r = client.get(f"/api/cameras/{cam}/thumb.jpg", headers=auth("lurah"))
    assert r.status_code == 404 and "no frame yet" in r.json()["message"]
    write_latest(rt.settings.snapshots_dir, cam, picture())
    full = client.get(f"/api/cameras/{cam}/snapshot.jpg", headers=auth("lurah"))
    r = client.get(f"/api/cameras/{cam}/thumb.jpg?w=320", headers=auth("lurah"))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert live.jpeg_width(r.content) == 320
    assert len(r.content) * 4 < len(full.content), (len(r.content), len(full.content))
    etag = r.headers["etag"]
    same = client.get(
        f"/api/cameras/{cam}/thumb.jpg?w=320", headers=auth("lurah") | {"If-None-Match": etag}
    )
    assert same.status_code == 304 and same.content == b""
    time.sleep(0.01)
    write_latest(rt.settings.snapshots_dir, cam, picture(value=200))
    changed = client.get(
        f"/api/cameras/{cam}/thumb.jpg?w=320", headers=auth("lurah") | {"If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.content != r.content


# --- MJPEG live view ------------------------------------------------------------------------


@pytest.fixture
def server(shared_runtime: Runtime) -> Iterator[LiveServer]:
    with LiveServer(shared_runtime) as s:
        yield s


def parts(chunks: Iterator[bytes], count: int, timeout: float = 10) -> list[bytes]:
    """The first `count` JPEG parts of a multipart/x-mixed-replace stream."""
    buf, out, deadline = b"", [], time.monotonic() + timeout
    for chunk in chunks:
        buf += chunk
        while b"\r\n\r\n" in buf:
            head, rest = buf.split(b"\r\n\r\n", 1)
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            if len(rest) < length:
                break
            out.append(rest[:length])
            buf = rest[length:]
            if len(out) == count:
                return out
        assert time.monotonic() < deadline, "no frame in time"
    return out


def login(server: LiveServer, username: str) -> str:
    r = httpx.post(server.url("/api/auth/login"), json={"username": username, "password": PASSWORD})
    return r.json()["token"]


def test_live_view_streams_new_frames_is_audited_and_ends_with_the_client(
    server: LiveServer, shared_runtime: Runtime
) -> None:
    rt = shared_runtime
    cam = new_camera(rt, KORUMBA)
    token = login(server, "lurah")
    headers = {"Authorization": f"Bearer {token}"}
    url = server.url(f"/api/cameras/{cam}/live.mjpeg?fps=5")
    r = httpx.get(url, headers=headers)
    assert r.status_code == 404 and "no frame yet" in r.json()["message"]
    write_latest(rt.settings.snapshots_dir, cam, picture(value=10))
    before = last_audit_id(rt)
    app = server.server.config.app
    with httpx.stream("GET", url, headers=headers, timeout=10) as stream:
        assert stream.headers["content-type"].startswith("multipart/x-mixed-replace")
        chunks = stream.iter_bytes()
        first = parts(chunks, 1)[0]
        assert app.state.live_views[cam] == 1
        time.sleep(0.05)
        write_latest(rt.settings.snapshots_dir, cam, picture(value=220))
        second = parts(chunks, 1)[0]
    a = cv2.imdecode(np.frombuffer(first, np.uint8), cv2.IMREAD_GRAYSCALE)
    b = cv2.imdecode(np.frombuffer(second, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert a.shape == (720, 1280) and a[10, 10] < 30 and b[10, 10] > 200
    deadline = time.monotonic() + 5
    while app.state.live_views[cam] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert app.state.live_views[cam] == 0, "the stream must stop when the viewer goes away"
    rows = audits(rt, "recording.live", before)
    assert len(rows) == 1, "one audit row per view, not per frame"
    assert rows[0].actor == "lurah" and rows[0].object_id == str(cam)
    assert rows[0].detail["from_local"].endswith("WITA")
    # Outside the lurah's kelurahan: 403, audited as denied.
    elsewhere = new_camera(rt, KANDAI)
    write_latest(rt.settings.snapshots_dir, elsewhere, picture())
    r = httpx.get(server.url(f"/api/cameras/{elsewhere}/live.mjpeg"), headers=headers)
    assert r.status_code == 403


def test_live_view_ends_when_the_session_does(
    server: LiveServer, shared_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "RECHECK_SECONDS", 0.3)
    rt = shared_runtime
    cam = new_camera(rt, KORUMBA)
    write_latest(rt.settings.snapshots_dir, cam, picture())
    token = login(server, "operator")
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    with httpx.stream(
        "GET", server.url(f"/api/cameras/{cam}/live.mjpeg"), headers=headers, timeout=10
    ) as stream:
        chunks = stream.iter_bytes()
        assert parts(chunks, 1)
        assert httpx.post(server.url("/api/auth/logout"), headers=headers).status_code in (200, 204)
        for _ in chunks:  # the server closes the stream by itself
            assert time.monotonic() - started < 8, "the live view outlived its session"
    assert time.monotonic() - started < 8


# --- timeline -------------------------------------------------------------------------------


def test_timeline_has_runs_gaps_and_minutes(
    client: TestClient, auth: Auth, shared_runtime: Runtime, clip720: Path, media_dir: Path
) -> None:
    rt = shared_runtime
    cam = new_camera(rt, KORUMBA)
    t0 = recent_t0()
    add_recording(rt, cam, ts_segments(clip720, media_dir), t0)
    base = t0.replace(second=0)
    with transaction(rt.sessions) as s:
        for i, people in enumerate([0, 2, 5]):
            s.add(
                Observation(
                    camera_id=cam,
                    minute=base + timedelta(minutes=i),
                    people_max=people,
                    people_mean=people / 2,
                    lights_on=[None, False, True][i],
                    coverage_seconds=60,
                    source="backfill" if i == 0 else "live",
                )
            )
    start, end = base - timedelta(minutes=1), base + timedelta(minutes=5)
    r = client.get(
        f"/api/cameras/{cam}/timeline",
        params={"from": iso(start), "to": iso(end)},
        headers=auth("camat"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    runs = [(x["start"][:19], x["end"][:19]) for x in body["recording"]]
    assert runs == [
        (iso(t0)[:19], iso(t0 + timedelta(seconds=4))[:19]),
        (iso(t0 + timedelta(seconds=10))[:19], iso(t0 + timedelta(seconds=12))[:19]),
    ]
    assert [g["start"][:19] for g in body["gaps"]] == [
        iso(start)[:19],
        iso(t0 + timedelta(seconds=4))[:19],
        iso(t0 + timedelta(seconds=12))[:19],
    ]
    m = body["minutes"]
    assert m["first_minute"].startswith(iso(start)[:19])
    assert m["offset"] == [1, 2, 3]
    assert m["people_max"] == [0, 2, 5] and m["lights_on"] == [None, False, True]
    assert m["source"] == ["backfill", "live", "live"]
    # A naive time is WITA; a range over 7 days or backwards is refused with the field named.
    local = (start + timedelta(hours=8)).replace(tzinfo=None).isoformat()
    again = client.get(
        f"/api/cameras/{cam}/timeline",
        params={"from": local, "to": iso(end)},
        headers=auth("camat"),
    )
    assert again.json()["minutes"]["offset"] == [1, 2, 3]
    long = client.get(
        f"/api/cameras/{cam}/timeline",
        params={"from": iso(end - timedelta(days=8)), "to": iso(end)},
        headers=auth("camat"),
    )
    assert long.status_code == 422 and "7 days" in long.json()["message"]
    backwards = client.get(
        f"/api/cameras/{cam}/timeline",
        params={"from": iso(end), "to": iso(start)},
        headers=auth("camat"),
    )
    assert backwards.status_code == 422 and backwards.json()["fields"][0]["field"] == "from"


def test_live_view_follows_the_segment_being_recorded(
    server: LiveServer, shared_runtime: Runtime, clip720: Path
) -> None:
    """While the recorder writes a .ts.part, the view decodes it as it grows: several frames a
    second, each a new picture, instead of one analytics frame every 2 s."""
    rt = shared_runtime
    cam = new_camera(rt, KORUMBA)
    write_latest(rt.settings.snapshots_dir, cam, picture())
    ts = clip720.with_suffix(".follow.ts")
    if not ts.exists():
        run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(clip720), "-c", "copy", str(ts)])
    data = ts.read_bytes()
    start = utcnow()
    part = rt.settings.recordings_dir / f"{segment_path(cam, start)}.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(data[: len(data) // 6])  # the first second is on disk already
    done = threading.Event()

    def recorder() -> None:  # the rest arrives in real time, as from a camera
        step = len(data) // 60
        with part.open("ab") as fh:
            for i in range(len(data) // 6, len(data), step):
                fh.write(data[i : i + step])
                fh.flush()
                time.sleep(0.085)
        part.rename(part.with_suffix(""))
        done.set()

    token = login(server, "operator")
    headers = {"Authorization": f"Bearer {token}"}
    before = last_audit_id(rt)
    writer = threading.Thread(target=recorder, daemon=True)
    writer.start()
    url = server.url(f"/api/cameras/{cam}/live.mjpeg?fps=5&w=640")
    t0 = time.monotonic()
    with httpx.stream("GET", url, headers=headers, timeout=15) as stream:
        got = parts(stream.iter_bytes(), 12, timeout=15)
    elapsed = time.monotonic() - t0
    writer.join(10)
    assert done.is_set()
    pictures = [cv2.imdecode(np.frombuffer(p, np.uint8), cv2.IMREAD_GRAYSCALE) for p in got]
    assert all(p.shape == (360, 640) for p in pictures), "frames of the recording, scaled"
    # The analytics frame was written once: twelve different pictures can only come from the
    # recording (5 s of it arrive in real time; a loaded 2-core CI machine decodes slower).
    assert elapsed < 10, f"12 frames took {elapsed:.1f} s"
    changed = sum(
        float(np.abs(a.astype(int) - b.astype(int)).mean()) > 0.5
        for a, b in itertools.pairwise(pictures)
    )
    assert changed >= 8, f"only {changed} of 11 frames differ from the one before"
    row = audits(rt, "recording.live", before)[0]
    assert row.detail["source"] == "recording"
