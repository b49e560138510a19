"""Live events (SSE): an incident written by another process reaches a connected client
within seconds, only within its scope, and camera state changes are announced once."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from pantau.incidents.rules import IncidentSpec
from pantau.incidents.store import upsert_incidents
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Camera, CameraState, Site
from pantau.store.types import utcnow


def events_of(body: str) -> list[tuple[str, dict]]:
    out = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def add_camera(rt: Runtime, kelurahan: str) -> tuple[int, int]:
    with transaction(rt.sessions) as s:
        site = s.scalar(select(Site).where(Site.kelurahan_code == kelurahan))
        cam = Camera(
            site_id=site.id,
            name=f"events-{kelurahan}",
            purpose="test",
            main_stream="rtsp://127.0.0.1:1/x",
        )
        s.add(cam)
        s.flush()
        return cam.id, site.id


def later(seconds: float, fn) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        fn()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_an_incident_is_pushed_to_those_who_may_see_it(
    shared_runtime: Runtime, client: TestClient, auth
) -> None:
    korumba_cam, korumba_site = add_camera(shared_runtime, "74.71.01.1006")
    kandai_cam, _ = add_camera(shared_runtime, "74.71.02.1009")

    def write() -> None:
        now = utcnow().replace(second=0, microsecond=0)
        with transaction(shared_runtime.sessions) as s:
            upsert_incidents(
                s,
                [
                    IncidentSpec("intrusion", now - timedelta(minutes=3), None, korumba_cam, now),
                    IncidentSpec("tamper", now - timedelta(minutes=2), None, kandai_cam, now),
                ],
            )

    bodies = {}

    def listen(role: str) -> None:
        r = client.get("/api/events?max_seconds=4", headers=auth(role))
        assert r.status_code == 200
        bodies[role] = events_of(r.text)

    writer = later(1.0, write)
    listeners = [threading.Thread(target=listen, args=(role,)) for role in ("operator", "lurah")]
    for t in listeners:
        t.start()
    for t in [*listeners, writer]:
        t.join(30)
    seen = {
        role: {(d["camera_id"], d["kind"]) for kind, d in evs if kind == "incident"}
        for role, evs in bodies.items()
    }
    assert {(korumba_cam, "intrusion"), (kandai_cam, "tamper")} <= seen["operator"]
    assert (korumba_cam, "intrusion") in seen["lurah"]
    assert all(cam != kandai_cam for cam, _ in seen["lurah"]), "outside the lurah's scope"
    assert bodies["lurah"][0][0] == "hello"
    with transaction(shared_runtime.sessions) as s:
        lurah_sites = set(s.scalars(select(Site.id).where(Site.kelurahan_code == "74.71.01.1006")))
    assert korumba_site in lurah_sites
    site_ids = {d["site_id"] for kind, d in bodies["lurah"] if kind != "hello"}
    assert site_ids <= lurah_sites, "events of sites outside the lurah's kelurahan"


def test_a_camera_state_change_is_announced_once(
    shared_runtime: Runtime, client: TestClient, auth
) -> None:
    cam, _ = add_camera(shared_runtime, "74.71.01.1005")

    def go_online() -> None:
        now = utcnow()
        with transaction(shared_runtime.sessions) as s:
            s.add(
                CameraState(camera_id=cam, state="online", since=now, updated_at=now, reason=None)
            )

    writer = later(1.0, go_online)
    r = client.get("/api/events?max_seconds=3.5", headers=auth("camat"))
    writer.join(10)
    mine = [d for kind, d in events_of(r.text) if kind == "camera" and d["camera_id"] == cam]
    states = [d["state"] for d in mine]
    # The first look may announce "offline, never connected"; "online" comes once.
    assert states.count("online") == 1, states
    assert mine[-1]["since"] is not None


def test_events_need_a_session(client: TestClient) -> None:
    client.cookies.clear()
    assert client.get("/api/events?max_seconds=1").status_code == 401


def test_a_site_marked_not_connected_is_announced(
    shared_runtime: Runtime, client: TestClient, auth
) -> None:
    with transaction(shared_runtime.sessions) as s:
        site_id = s.scalar(select(Site.id).where(Site.kelurahan_code == "74.71.01.1006"))

    def disconnect() -> None:
        r = client.patch(
            f"/api/sites/{site_id}", json={"connectivity": "not_connected"}, headers=auth("admin")
        )
        assert r.status_code == 200, r.text

    writer = later(1.0, disconnect)
    r = client.get("/api/events?max_seconds=3.5", headers=auth("lurah"))
    writer.join(10)
    mine = [d for kind, d in events_of(r.text) if kind == "site" and d["site_id"] == site_id]
    assert [d["connectivity"] for d in mine] == ["not_connected"]
    client.patch(f"/api/sites/{site_id}", json={"connectivity": "connected"}, headers=auth("admin"))
