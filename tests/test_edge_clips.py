"""Clips from edge sites: the operator API and the agent upload protocol in process on both
databases, the agent's uploader against the real app (real segments, real MP4, a restart
that resumes), and the real thing: `pantau serve` and `pantau agent sync` in its own network
namespace, the link cut twice during the upload and then the agent killed and restarted."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import av
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from pantau.accounts.users import create_user
from pantau.config.model import Settings
from pantau.edge import items as wire
from pantau.edge.clips import ClipUploader, local_parts
from pantau.edge.config_cache import ConfigCache
from pantau.edge.identity import Identity
from pantau.edge.outbox import Outbox
from pantau.edge.sink import OutboxSink
from pantau.edge.sync import HubClient, SyncLoop, SyncSettings, SyncStats, TokenBucket
from pantau.hub.clips import clip_file, expire_clips
from pantau.runtime import Runtime, open_runtime
from pantau.store.db import transaction
from pantau.store.models import AuditEntry, ClipRequest, Incident, Role
from pantau.store.types import utcnow
from pantau.web.app import create_app
from tests.conftest import PASSWORD
from tests.support.edge import (
    PANTAU,
    add_cameras,
    prepare_hub,
    recorded_site,
    sh,
    wait_for,
    write_yaml,
)
from tests.test_edge_api import add_camera, admin_headers, enrol_agent

SEG = 10  # seconds per recorded segment


# ---- helpers --------------------------------------------------------------------------------


def key_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def segment_items(camera_id: int, t0: datetime, n: int, seconds: int = SEG) -> list[dict]:
    out = []
    for i in range(n):
        start = t0 + timedelta(seconds=i * seconds)
        data = {"camera_id": camera_id, "start": start, "end": start + timedelta(seconds=seconds),
                "bytes": 1000}  # fmt: skip
        out.append(
            {
                "key": wire.segment_key(camera_id, start),
                "kind": wire.SEGMENT,
                "seq": i + 1,
                "data": wire.jsonable(data),
            }
        )
    return out


def index_at_hub(client: TestClient, key: str, items: list[dict]) -> None:
    payload = {"batch_id": "seg", "items": items, "backlog": {}}
    r = client.post(
        "/api/agent/batch",
        content=gzip.compress(json.dumps(payload).encode()),
        headers=key_headers(key) | {"Content-Encoding": "gzip"},
    )
    assert r.status_code == 200 and r.json()["accepted"] == len(items), r.text


def hello(client: TestClient, key: str) -> dict[str, Any]:
    r = client.post(
        "/api/agent/hello", json={"agent_time": wire.iso(utcnow())}, headers=key_headers(key)
    )
    assert r.status_code == 200, r.text
    return r.json()


def put(client: TestClient, key: str, clip_id: int, offset: int, data: bytes) -> httpx.Response:
    return client.put(
        f"/api/agent/clips/{clip_id}/data?offset={offset}",
        content=data,
        headers=key_headers(key) | {"Content-Type": "application/octet-stream"},
    )


def decoded(path: Path) -> tuple[int, float]:
    """Frames decoded and the duration they span (seconds), with PyAV."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        times = [f.time for f in c.decode(stream) if f.time is not None]
    return len(times), (max(times) - min(times) + 1 / 25) if times else 0.0


@pytest.fixture
def hub(fresh_runtime: Runtime) -> Iterator[tuple[TestClient, Runtime]]:
    with transaction(fresh_runtime.sessions) as s:
        create_user(s, "edge-admin", PASSWORD, Role.ADMIN, None)
        create_user(s, "edge-op", PASSWORD, Role.OPERATOR, None)
        create_user(s, "edge-boss", PASSWORD, Role.PIMPINAN, None)
    with TestClient(create_app(fresh_runtime)) as c:
        yield c, fresh_runtime


def login(client: TestClient, user: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": user, "password": PASSWORD})
    client.cookies.clear()
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def site(hub: tuple[TestClient, Runtime], tmp_path: Path) -> dict[str, Any]:
    """Mandonga with an agent and a camera whose last 60 s (6 segments) are indexed."""
    client, rt = hub
    h = admin_headers(client)
    site_id, cam = add_camera(rt, "kel-mandonga")
    agent = enrol_agent(client, h, site_id, tmp_path)
    t0 = (utcnow() - timedelta(hours=1)).replace(microsecond=0)
    index_at_hub(client, agent["key"], segment_items(cam, t0, 6))
    return {"camera": cam, "key": agent["key"], "t0": t0, "h": h, "site_id": site_id}


def ask(client: TestClient, h: dict, cam: int, start: datetime, end: datetime) -> httpx.Response:
    body = {"camera_id": cam, "from": wire.iso(start), "to": wire.iso(end)}
    return client.post("/api/clips", json=body, headers=h)


# ---- the API, both databases ----------------------------------------------------------------


def test_request_validation_and_roles(hub: tuple[TestClient, Runtime], site: dict) -> None:
    client, rt = hub
    h, cam, t0 = site["h"], site["camera"], site["t0"]
    # A camera at a site without an agent: its footage is at the hub already.
    _, plain = add_camera(rt, "kel-korumba", "gerbang")
    r = ask(client, h, plain, t0, t0 + timedelta(seconds=20))
    assert r.status_code == 422 and "not at a site served by an edge agent" in r.json()["message"]
    # What the UI reads first: behind an agent or not, and what the site recorded.
    span = {"from": wire.iso(t0 - timedelta(hours=1)), "to": wire.iso(t0 + timedelta(hours=1))}
    r = client.get("/api/clips/availability", params={"camera_id": cam, **span}, headers=h)
    got = r.json()
    assert got["agent"]["state"] == "online" and got["may_request"] and got["max_minutes"] == 30
    assert [(x["from"], x["to"]) for x in got["recorded"]] == [
        (wire.iso(t0), wire.iso(t0 + timedelta(seconds=60)))
    ]
    r = client.get("/api/clips/availability", params={"camera_id": plain, **span}, headers=h)
    assert r.json()["agent"] is None and r.json()["recorded"] == []
    # No footage indexed in that range.
    r = ask(client, h, cam, t0 - timedelta(hours=2), t0 - timedelta(hours=1, minutes=50))
    assert r.status_code == 422 and "no recording" in r.json()["message"]
    # Too long, and backwards.
    r = ask(client, h, cam, t0, t0 + timedelta(minutes=31))
    assert r.status_code == 422 and "at most 30 minutes" in r.json()["message"]
    assert r.json()["fields"][0]["field"] == "to"
    r = ask(client, h, cam, t0 + timedelta(seconds=20), t0)
    assert r.status_code == 422 and "before" in r.json()["message"]
    # Unknown camera; a city reader may look but not ask.
    assert ask(client, h, 999999, t0, t0 + timedelta(seconds=5)).status_code == 404
    boss = login(client, "edge-boss")
    r = ask(client, boss, cam, t0, t0 + timedelta(seconds=20))
    assert r.status_code == 403
    # The operator asks; it waits for the site.
    op = login(client, "edge-op")
    r = ask(client, op, cam, t0 + timedelta(seconds=5), t0 + timedelta(seconds=25))
    assert r.status_code == 201, r.text
    clip = r.json()
    assert clip["state"] == "pending" and clip["percent"] == 0 and clip["file"] is None
    assert clip["requested_by"] == "edge-op" and clip["agent_last_contact"] is not None
    assert client.get(f"/api/clips/{clip['id']}", headers=boss).json()["state"] == "pending"
    listed = client.get(f"/api/clips?camera_id={cam}", headers=boss).json()
    assert [c["id"] for c in listed] == [clip["id"]]
    assert client.get("/api/clips?state=bogus", headers=boss).status_code == 422
    # The next hello carries it, with the hub's offset.
    clips = hello(client, site["key"])["clips"]
    assert [(c["id"], c["camera_id"], c["offset"]) for c in clips] == [(clip["id"], cam, 0)]
    with rt.sessions() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "clip.request")).all()
    assert [(a.actor, a.outcome, a.object_id) for a in audit] == [
        ("edge-boss", "denied", str(cam)),
        ("edge-op", "ok", str(clip["id"])),
    ]


def test_chunks_offsets_and_playback(hub: tuple[TestClient, Runtime], site: dict) -> None:
    client, rt = hub
    key, cam, t0 = site["key"], site["camera"], site["t0"]
    clip_id = ask(client, site["h"], cam, t0, t0 + timedelta(seconds=30)).json()["id"]
    data = random.Random(1).randbytes(200_000)
    sha = hashlib.sha256(data).hexdigest()
    begin = {"bytes": len(data), "sha256": sha, "rate_kbps": 256}
    # A chunk before the announcement is refused with the offset to use.
    r = put(client, key, clip_id, 0, data[:1000])
    assert r.status_code == 409 and r.json()["offset"] == 0
    r = client.post(f"/api/agent/clips/{clip_id}/begin", json=begin, headers=key_headers(key))
    assert r.status_code == 200 and r.json()["offset"] == 0 and r.json()["state"] == "uploading"
    r = put(client, key, clip_id, 0, data[:65536])
    assert r.status_code == 200 and r.json()["offset"] == 65536
    # The same chunk again (its answer was lost): accepted, nothing written twice.
    r = put(client, key, clip_id, 0, data[:65536])
    assert r.status_code == 200 and r.json()["offset"] == 65536
    # A gap and a step back past the end are refused with the hub's offset.
    r = put(client, key, clip_id, 131072, data[131072:])
    assert r.status_code == 409 and r.json()["offset"] == 65536
    assert "send from there" in r.json()["message"]
    r = put(client, key, clip_id, 60000, data[60000:70000])
    assert r.status_code == 409 and r.json()["offset"] == 65536
    # Finishing early is refused; the operator sees the progress and an ETA at the cap.
    r = client.post(
        f"/api/agent/clips/{clip_id}/finish",
        json={"bytes": len(data), "sha256": sha},
        headers=key_headers(key),
    )
    assert r.status_code == 409 and r.json()["offset"] == 65536
    got = client.get(f"/api/clips/{clip_id}", headers=site["h"]).json()
    assert got["state"] == "uploading" and got["bytes_received"] == 65536
    assert got["percent"] == pytest.approx(32.8, abs=0.1)
    assert got["eta_seconds"] == pytest.approx((200_000 - 65536) * 8 / 256_000, abs=0.1)
    # The agent restarts: announcing the same file again keeps the hub's bytes.
    r = client.post(f"/api/agent/clips/{clip_id}/begin", json=begin, headers=key_headers(key))
    assert r.json()["offset"] == 65536
    assert put(client, key, clip_id, 65536, data[65536:]).json()["offset"] == len(data)
    # Another site's agent cannot touch it.
    other_site, _ = add_camera(rt, "kel-kandai")
    other = enrol_agent(client, site["h"], other_site, Path(str(rt.settings.data_dir)) / "o")
    r = put(client, other["key"], clip_id, len(data), b"x")
    assert r.status_code == 404 and "another site" in r.json()["message"]
    r = client.post(
        f"/api/agent/clips/{clip_id}/finish",
        json={"bytes": len(data), "sha256": sha},
        headers=key_headers(key),
    )
    assert r.status_code == 200 and r.json()["state"] == "ready", r.text
    got = client.get(f"/api/clips/{clip_id}", headers=site["h"]).json()
    assert got["state"] == "ready" and got["percent"] == 100 and got["sha256"] == sha
    assert hello(client, key)["clips"] == []
    # Playback: whole file, and a range (a seeking player); one audit row per viewing.
    before = _audits(rt, "recording.clip.playback")
    r = client.get(got["file"], headers=site["h"])
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "video/mp4" and r.headers["accept-ranges"] == "bytes"
    r = client.get(got["file"], headers=site["h"] | {"Range": "bytes=1000-1999"})
    assert r.status_code == 206 and r.content == data[1000:2000]
    r = client.get(got["file"] + "?download=true", headers=site["h"] | {"Range": "bytes=0-1"})
    assert r.status_code == 206 and "attachment" in r.headers["content-disposition"]
    assert _audits(rt, "recording.clip.playback") == before + 2
    with rt.sessions() as s:
        done = s.scalars(select(AuditEntry).where(AuditEntry.action == "clip.upload")).one()
        assert done.actor.startswith("agent:") and done.detail["state"] == "ready"


def _audits(rt: Runtime, action: str) -> int:
    with rt.sessions() as s:
        return len(s.scalars(select(AuditEntry).where(AuditEntry.action == action)).all())


def test_checksum_mismatch_restarts_then_fails(hub: tuple[TestClient, Runtime], site: dict) -> None:
    client, rt = hub
    key, cam, t0 = site["key"], site["camera"], site["t0"]
    clip_id = ask(client, site["h"], cam, t0, t0 + timedelta(seconds=30)).json()["id"]
    good = b"A" * 5000
    sha = hashlib.sha256(good).hexdigest()
    begin = {"bytes": len(good), "sha256": sha}
    r = client.post(f"/api/agent/clips/{clip_id}/begin", json=begin, headers=key_headers(key))
    assert r.json()["offset"] == 0
    finish = {"bytes": len(good), "sha256": sha}
    for attempt in (1, 2, 3):
        assert put(client, key, clip_id, 0, b"B" * 5000).json()["offset"] == 5000
        r = client.post(f"/api/agent/clips/{clip_id}/finish", json=finish, headers=key_headers(key))
        assert r.status_code == 200, r.text
        body = r.json()
        assert "SHA-256 of the received file" in body["error"]
        if attempt < 3:
            assert body["state"] == "uploading" and body["offset"] == 0, body
            assert body["restarts"] == attempt
        else:
            assert body["state"] == "failed"
    got = client.get(f"/api/clips/{clip_id}", headers=site["h"]).json()
    assert got["state"] == "failed" and "SHA-256" in got["error"] and got["file"] is None
    assert not (rt.settings.data_dir / "clips" / f"{clip_id}.mp4.part").exists()
    r = put(client, key, clip_id, 0, good)
    assert r.status_code == 410 and "failed" in r.json()["message"]


def test_cancel_and_cannot(hub: tuple[TestClient, Runtime], site: dict) -> None:
    client, _ = hub
    key, cam, t0, h = site["key"], site["camera"], site["t0"], site["h"]
    first = ask(client, h, cam, t0, t0 + timedelta(seconds=10)).json()["id"]
    second = ask(client, h, cam, t0 + timedelta(seconds=10), t0 + timedelta(seconds=20)).json()
    assert [c["id"] for c in hello(client, key)["clips"]] == [first, second["id"]]
    boss = login(client, "edge-boss")
    assert client.post(f"/api/clips/{first}/cancel", headers=boss).status_code == 403
    r = client.post(f"/api/clips/{first}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert client.post(f"/api/clips/{first}/cancel", headers=h).status_code == 409
    r = client.post(
        f"/api/agent/clips/{first}/begin",
        json={"bytes": 10, "sha256": "0" * 64},
        headers=key_headers(key),
    )
    assert r.status_code == 410 and "cancelled" in r.json()["message"]
    # The site no longer has the footage: the operator is told why.
    r = client.post(
        f"/api/agent/clips/{second['id']}/cannot",
        json={"reason": "deleted by local retention"},
        headers=key_headers(key),
    )
    assert r.status_code == 200 and r.json()["state"] == "failed"
    got = client.get(f"/api/clips/{second['id']}", headers=h).json()
    assert got["state"] == "failed" and "deleted by local retention" in got["error"]
    assert hello(client, key)["clips"] == []
    # Agent routes refuse people.
    r = client.put(f"/api/agent/clips/{first}/data?offset=0", content=b"x", headers=h)
    assert r.status_code == 401


def test_retention_expires_retrieved_clips(hub: tuple[TestClient, Runtime], site: dict) -> None:
    client, rt = hub
    key, cam, t0, h = site["key"], site["camera"], site["t0"], site["h"]
    ready = ask(client, h, cam, t0, t0 + timedelta(seconds=20)).json()["id"]
    waiting = ask(client, h, cam, t0 + timedelta(seconds=20), t0 + timedelta(seconds=40)).json()
    data = random.Random(2).randbytes(5000)
    sha = hashlib.sha256(data).hexdigest()
    begin = {"bytes": len(data), "sha256": sha, "rate_kbps": 256}
    client.post(f"/api/agent/clips/{ready}/begin", json=begin, headers=key_headers(key))
    assert put(client, key, ready, 0, data).json()["offset"] == len(data)
    r = client.post(
        f"/api/agent/clips/{ready}/finish",
        json={"bytes": len(data), "sha256": sha},
        headers=key_headers(key),
    )
    assert r.json()["state"] == "ready"
    url = client.get(f"/api/clips/{ready}", headers=h).json()["file"]
    with rt.sessions() as s:
        path = clip_file(rt.settings, s.get(ClipRequest, ready))
    assert path is not None and path.read_bytes() == data
    days = rt.settings.recording.retention_days
    # Within retention nothing changes; past it the copy goes, the request stays (audit).
    with transaction(rt.sessions) as s:
        assert expire_clips(s, rt.settings, t0 + timedelta(days=days - 1)) == 0
    assert path.is_file()
    with transaction(rt.sessions) as s:
        assert expire_clips(s, rt.settings, t0 + timedelta(days=days, minutes=5)) == 2
    assert not path.exists()
    for clip_id in (ready, waiting["id"]):
        got = client.get(f"/api/clips/{clip_id}", headers=h).json()
        assert got["state"] == "expired" and f"{days:g}-day retention" in got["error"], got
    r = client.get(url, headers=h)
    assert r.status_code == 410 and "retention" in r.json()["message"]
    assert hello(client, key)["clips"] == []  # the site is no longer asked for it


# ---- the agent's uploader against the real app -----------------------------------------------


def test_agent_builds_once_and_resumes_after_a_restart(
    hub: tuple[TestClient, Runtime], site: dict, tmp_path: Path, media_dir: Path
) -> None:
    client, rt = hub
    key, cam = site["key"], site["camera"]
    t0 = site["t0"]
    root = tmp_path / "site" / "recordings"
    recorded_site(root, cam, t0, media_dir, 60)
    start, end = t0 + timedelta(seconds=12), t0 + timedelta(seconds=47)
    assert [p.start for p in local_parts(root, cam, start, end)] == [
        t0 + timedelta(seconds=s) for s in (10, 20, 30, 40)
    ]
    clip_id = ask(client, site["h"], cam, start, end).json()["id"]
    identity = Identity(hub_url="http://testserver", agent_id=0, site_id=0, name="a", key=key)
    work = tmp_path / "site" / "agent" / "clips"

    def uploader() -> ClipUploader:
        hc = HubClient(identity, SyncSettings(), TokenBucket(10_000_000), SyncStats())
        hc.http.close()
        hc.http = client  # the app in process instead of a socket
        client.headers.update(key_headers(key))
        return ClipUploader(hc, root, work, 256.0, chunk=16 * 1024)

    listed = hello(client, key)["clips"]
    first = uploader()
    chunks = iter(range(1000))
    assert first.upload(listed[0], lambda: next(chunks) >= 3) is False  # paused after 3
    assert first.built == 1
    got = client.get(f"/api/clips/{clip_id}", headers=site["h"]).json()
    assert got["state"] == "uploading" and got["bytes_received"] == 3 * 16 * 1024
    # A new process (same folder): the cached file is sent on, not built again.
    again = uploader()
    assert again.upload(hello(client, key)["clips"][0], lambda: False) is True
    assert again.built == 0
    got = client.get(f"/api/clips/{clip_id}", headers=site["h"]).json()
    assert got["state"] == "ready" and got["restarts"] == 0, got
    assert not list(work.iterdir()), "the agent keeps no copy once the hub has it"
    path = rt.settings.data_dir / "clips" / f"{clip_id}.mp4"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == got["sha256"]
    frames, seconds = decoded(path)
    assert frames > 0 and seconds == pytest.approx(35, abs=2.1), (frames, seconds)
    # Footage gone at the site: the uploader says so and the operator reads why.
    gone = ask(client, site["h"], cam, t0 + timedelta(seconds=50), t0 + timedelta(seconds=58))
    for f in root.rglob("*.ts"):
        f.unlink()
    listed = hello(client, key)["clips"]
    assert again.upload(listed[0], lambda: False) is True
    got = client.get(f"/api/clips/{gone.json()['id']}", headers=site["h"]).json()
    assert got["state"] == "failed" and "no recording of camera" in got["error"]
    client.headers.pop("Authorization")


def test_the_outbox_goes_first_during_a_clip_upload(
    hub: tuple[TestClient, Runtime], site: dict, tmp_path: Path, media_dir: Path
) -> None:
    """An incident raised while a clip is on its way reaches the hub before the clip ends."""
    client, rt = hub
    key, cam, t0 = site["key"], site["camera"], site["t0"]
    root = tmp_path / "site" / "recordings"
    recorded_site(root, cam, t0, media_dir, 60)
    clip_id = ask(client, site["h"], cam, t0, t0 + timedelta(seconds=50)).json()["id"]
    folder = tmp_path / "site" / "agent"
    outbox = Outbox(folder / "outbox.db")
    identity = Identity(hub_url="http://testserver", agent_id=0, site_id=0, name="a", key=key)
    settings = SyncSettings(bandwidth_kbps=2000, recordings_dir=root)
    loop = SyncLoop(identity, outbox, ConfigCache(folder), settings)
    loop.client.http.close()
    loop.client.http = client
    client.headers.update(key_headers(key))

    def clip_row() -> ClipRequest:
        with rt.sessions() as s:
            row = s.get(ClipRequest, clip_id)
            assert row is not None
            return row

    raised: dict[str, Any] = {}

    def raise_incident() -> None:
        wait_for("two chunks at the hub", lambda: clip_row().bytes_received >= 2 * 65536, 60, 0.02)
        raised["received"] = clip_row().bytes_received
        start = t0 + timedelta(seconds=30)
        OutboxSink(outbox).incidents(
            [{"id": "inc-during-clip", "camera_id": cam, "kind": "intrusion", "start": start,
              "end": None, "detail": {"people_max": 1}}]
        )  # fmt: skip

    thread = threading.Thread(target=raise_incident)
    thread.start()
    try:
        loop.round()
    finally:
        thread.join(30)
        client.headers.pop("Authorization")
        outbox.close()
    row = clip_row()
    assert row.state == "ready" and raised["received"] < row.bytes_expected
    with rt.sessions() as s:
        incident = s.get(Incident, "inc-during-clip")
        assert incident is not None
    assert incident.created_at < row.finished_at, "the incident waited for the whole clip"


# ---- real processes, the agent in its own network namespace ---------------------------------


def clip_state(hub_url: str, token: str, clip_id: int) -> dict[str, Any]:
    r = httpx.get(f"{hub_url}/api/clips/{clip_id}", headers=key_headers(token), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_clip_request_completes_across_two_link_cuts(
    netns: dict[str, str],
    tmp_path: Path,
    media_dir: Path,
) -> None:
    hub = prepare_hub(tmp_path, netns["host_ip"])
    db_url = hub.db_url
    rt = open_runtime(Settings.model_validate(hub.settings))
    with transaction(rt.sessions) as s:
        create_user(s, "operator", PASSWORD, Role.OPERATOR, None)
    rt.close()
    hub.start()
    agent = None
    try:
        _, (cam,) = add_cameras(db_url, 1)
        token = hub.cli("agent", "token", "--site", "kel-mandonga").stdout.strip().splitlines()[-1]
        site_dir = tmp_path / "site"
        agent_cfg = write_yaml(
            tmp_path / "agent.yaml",
            {
                "data_dir": str(site_dir),
                "log_level": "INFO",
                "edge": {
                    "bandwidth_kbps": 256,
                    "idle_seconds": 1,
                    "request_timeout_seconds": 4,
                    "backoff_initial_seconds": 0.5,
                    "backoff_max_seconds": 2,
                },
            },
        )
        in_ns = ["ip", "netns", "exec", netns["ns"]]
        enrol = subprocess.run(
            [*in_ns, PANTAU, "-c", str(agent_cfg), "agent", "enrol", "--hub", hub.url,
             "--token", token],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert enrol.returncode == 0, enrol.stderr
        # The site's recording: 60 s in six segments, indexed through the outbox as the
        # recorder's sink does it.
        t0 = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
        segments = recorded_site(site_dir / "recordings", cam, t0, media_dir, 60)
        outbox = Outbox(site_dir / "agent" / "outbox.db")
        sink = OutboxSink(outbox)
        for start, end, path in segments:
            rel = path.relative_to(site_dir / "recordings").as_posix()
            info = SimpleNamespace(start=start, end=end, bytes=path.stat().st_size, path=rel)
            sink.segment(cam, info)  # type: ignore[arg-type]
        outbox.close()
        log = tmp_path / "agent.log"
        agent = subprocess.Popen(
            [*in_ns, PANTAU, "-c", str(agent_cfg), "agent", "sync"],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        login = httpx.post(
            f"{hub.url}/api/auth/login",
            json={"username": "operator", "password": PASSWORD},
            timeout=10,
        )
        op = login.json()["token"]
        start, end = t0 + timedelta(seconds=5), t0 + timedelta(seconds=55)

        def asked() -> int | None:
            body = {"camera_id": cam, "from": wire.iso(start), "to": wire.iso(end)}
            r = httpx.post(f"{hub.url}/api/clips", json=body, headers=key_headers(op), timeout=10)
            return r.json()["id"] if r.status_code == 201 else None

        clip_id: int | None = None

        def request() -> bool:
            nonlocal clip_id
            assert agent is not None and agent.poll() is None, log.read_text()[-3000:]
            clip_id = asked()
            return clip_id is not None

        wait_for("the segment index at the hub, then a clip request", request, 60, 0.5)
        assert clip_id is not None
        states = []

        def upload_share() -> float:
            st = clip_state(hub.url, op, clip_id)
            states.append((st["state"], st["bytes_received"]))
            return st["percent"] or 0.0

        link = [*in_ns, "ip", "link", "set", netns["ns_if"]]
        cuts = 0
        seen = 0
        for share in (0.15, 0.5):

            def uploading(share: float = share) -> bool:
                st = clip_state(hub.url, op, clip_id)
                states.append((st["state"], st["bytes_received"]))
                assert st["state"] in ("pending", "uploading"), st
                return bool(st["bytes_expected"]) and st["percent"] >= share * 100

            wait_for(f"{share:.0%} of the clip at the hub", uploading, 120, 0.2)
            got = clip_state(hub.url, op, clip_id)["bytes_received"]
            assert got >= seen
            seen = got
            sh(*link, "down")
            time.sleep(6)  # longer than the agent's request timeout
            sh(*link, "up")
            cuts += 1
        # And the agent itself dies mid-upload: the new process resumes the same file.
        wait_for("75% of the clip at the hub", lambda: upload_share() >= 75, 120, 0.2)
        agent.kill()
        agent.wait(10)
        agent = subprocess.Popen(
            [*in_ns, PANTAU, "-c", str(agent_cfg), "agent", "sync"],
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_for(
            "the clip ready",
            lambda: clip_state(hub.url, op, clip_id)["state"] in ("ready", "failed"),
            240,
            0.5,
        )
        final = clip_state(hub.url, op, clip_id)
        agent.terminate()
        assert agent.wait(30) == 0, log.read_text()[-3000:]
        text = log.read_text()
        assert final["state"] == "ready", (final, text[-3000:])
        assert cuts == 2 and "hub unreachable" in text
        assert text.count("built:") == 1, "the clip must be built once, across the restart"
        assert "resuming at byte" in text
        # Progress never went backwards: the upload resumed, it did not start over.
        received = [b for _, b in states]
        assert received == sorted(received) and final["restarts"] == 0
        # The hub's file is the agent's: same SHA-256, and it decodes for the whole range.
        r = httpx.get(f"{hub.url}{final['file']}", headers=key_headers(op), timeout=30)
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == final["sha256"]
        stored = tmp_path / "hub" / "clips" / f"{clip_id}.mp4"
        frames, seconds = decoded(stored)
        assert frames > 0 and seconds == pytest.approx(50, abs=2.1), (frames, seconds)
        engine = create_engine(db_url)
        with Session(engine) as s:
            row = s.get(ClipRequest, clip_id)
            assert row is not None and row.bytes_received == row.bytes_expected == len(r.content)
            took = (row.finished_at - row.started_at).total_seconds()
        engine.dispose()
        print(
            f"clip {len(r.content)} bytes, {frames} frames, {seconds:.1f} s of video; "
            f"uploaded in {took:.1f} s with {cuts} cuts and an agent restart at a 256 kbit/s cap"
        )
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
        if hub.proc is not None and hub.proc.poll() is None:
            hub.proc.terminate()
            hub.proc.wait(15)


def test_footage_the_site_deleted_is_no_longer_offered(
    hub: tuple[TestClient, Runtime], site: dict
) -> None:
    client, _rt = hub
    h, cam, t0 = site["h"], site["camera"], site["t0"]
    gone = [
        {**item, "data": {"camera_id": cam, "start": item["data"]["start"], "deleted": True}}
        for item in segment_items(cam, t0, 3)
    ]
    index_at_hub(client, site["key"], gone)
    span = {"from": wire.iso(t0 - timedelta(hours=1)), "to": wire.iso(t0 + timedelta(hours=1))}
    got = client.get("/api/clips/availability", params={"camera_id": cam, **span}, headers=h)
    assert [(x["from"], x["to"]) for x in got.json()["recorded"]] == [
        (wire.iso(t0 + timedelta(seconds=3 * SEG)), wire.iso(t0 + timedelta(seconds=6 * SEG)))
    ]
    r = ask(client, h, cam, t0, t0 + timedelta(seconds=2 * SEG))
    assert r.status_code == 422 and "no recording" in r.json()["message"]
    index_at_hub(client, site["key"], gone)  # sent again (a retried batch): nothing changes
    again = client.get("/api/clips/availability", params={"camera_id": cam, **span}, headers=h)
    assert again.json()["recorded"] == got.json()["recorded"]
    # A row an older agent indexed to the microsecond goes with the tombstone of its file
    # name's millisecond.
    odd = t0 + timedelta(seconds=100, microseconds=123456)
    index_at_hub(client, site["key"], segment_items(cam, odd, 1))
    named = odd.replace(microsecond=123000)
    tomb = {"camera_id": cam, "start": wire.iso(named), "deleted": True}
    index_at_hub(
        client,
        site["key"],
        [{"key": wire.segment_key(cam, named), "kind": wire.SEGMENT, "seq": 9, "data": tomb}],
    )
    last = client.get("/api/clips/availability", params={"camera_id": cam, **span}, headers=h)
    assert last.json()["recorded"] == got.json()["recorded"]
