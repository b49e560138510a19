"""Incidents: the pure rules, idempotent evaluation against the calendar, the API workflow."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from pantau.incidents.rules import IncidentSpec, detect, incident_id, offline_incidents
from pantau.incidents.store import evaluate_camera, upsert_incidents
from pantau.media.snapshot import write_latest
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import AuditEntry, Camera, HealthSample, Incident, Observation, Site

MIN = timedelta(minutes=1)
NIGHT = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wednesday 22:00 WITA
DAY = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00 WITA


def office(m: datetime) -> bool:
    """08:00-16:00 WITA = 00:00-08:00 UTC."""
    return m.hour < 8


def obs(start: datetime, people: list[int], tamper: dict[int, dict[str, float]] | None = None):
    return [
        SimpleNamespace(
            camera_id=1, minute=start + i * MIN, people_max=p, tamper=(tamper or {}).get(i, {})
        )
        for i, p in enumerate(people)
    ]


# --- rules -----------------------------------------------------------------------------------


def test_night_person_three_minutes_is_an_intrusion() -> None:
    specs = detect(obs(NIGHT, [0, 1, 2, 1, 0, 0]), scheduled=office)
    assert len(specs) == 1
    s = specs[0]
    assert (s.kind, s.start, s.end) == ("intrusion", NIGHT + MIN, NIGHT + 4 * MIN)
    assert s.evidence_minute == NIGHT + 2 * MIN and s.detail["people_max"] == 2


def test_one_minute_is_not_an_intrusion() -> None:
    assert detect(obs(NIGHT, [0, 1, 0, 0, 0]), scheduled=office) == []


def test_one_minute_gap_bridges_and_open_while_ongoing() -> None:
    specs = detect(obs(NIGHT, [1, 0, 1, 1]), scheduled=office)
    assert [(s.start, s.end, s.detail["minutes"]) for s in specs] == [(NIGHT, None, 3)]
    two_gaps = detect(obs(NIGHT, [1, 0, 0, 1, 0]), scheduled=office)
    assert two_gaps == []


def test_guard_window_is_allowed() -> None:
    def guard(m: datetime) -> bool:  # 21:45-22:15 WITA
        return NIGHT - 15 * MIN <= m < NIGHT + 15 * MIN

    assert detect(obs(NIGHT, [1, 1, 1, 1, 0]), scheduled=office, allowed=guard) == []


def test_office_hours_are_not_intrusion() -> None:
    assert detect(obs(DAY, [3, 3, 3, 3, 0]), scheduled=office) == []


def test_tamper_two_minutes_names_the_kind() -> None:
    flags = {1: {"covered": 0.9}, 2: {"covered": 0.95, "defocused": 0.4}}
    specs = detect(obs(DAY, [0, 0, 0, 0], flags), scheduled=office)
    assert len(specs) == 1
    s = specs[0]
    assert (s.kind, s.start, s.end) == ("tamper", DAY + MIN, DAY + 3 * MIN)
    assert s.detail["kind"] == "covered" and s.detail["kinds"] == ["covered", "defocused"]
    assert (
        detect(obs(DAY, [0, 0], {0: {"moved": 0.8}}), scheduled=office, tamper_min_minutes=2) == []
    )


def test_offline_needs_ten_minutes() -> None:
    def samples(states: str) -> list[Any]:
        return [
            SimpleNamespace(
                camera_id=1, minute=NIGHT + i * MIN, state="offline" if c == "x" else "online"
            )
            for i, c in enumerate(states)
        ]

    assert offline_incidents(samples("o" + "x" * 9 + "o")) == []
    specs = offline_incidents(samples("o" + "x" * 10 + "o"))
    assert [(s.kind, s.start, s.end) for s in specs] == [
        ("camera_offline", NIGHT + MIN, NIGHT + 11 * MIN)
    ]
    assert offline_incidents(samples("o" + "x" * 12))[0].end is None


def test_incident_id_is_stable() -> None:
    a = incident_id(7, "intrusion", NIGHT)
    assert a == incident_id(7, "intrusion", NIGHT + timedelta(seconds=30))
    assert len(a) == 32 and a != incident_id(7, "tamper", NIGHT)


# --- evaluation against the database ----------------------------------------------------------


def _camera(session: Any, kelurahan: str = "74.71.01.1006") -> Camera:
    site = session.scalar(
        select(Site).where(Site.kelurahan_code == kelurahan).order_by(Site.id).limit(1)
    )
    cam = Camera(site=site, name=f"cam-{uuid.uuid4().hex[:8]}", purpose="keamanan", main_stream="")
    session.add(cam)
    session.flush()
    return cam


def _observe(session: Any, camera_id: int, start: datetime, people: list[int], **kw: Any) -> None:
    for i, p in enumerate(people):
        session.merge(Observation(camera_id=camera_id, minute=start + i * MIN, people_max=p, **kw))


def test_evaluate_is_idempotent_and_keeps_state(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    with transaction(rt.sessions) as s:
        cam = _camera(s)
        cam_id = cam.id
        _observe(s, cam_id, NIGHT, [0, 1, 1, 1, 0, 0])
        _observe(s, cam_id, DAY, [2, 2, 2, 0])  # office hours: fine
        _observe(s, cam_id, DAY + 10 * MIN, [0, 0], tamper={"covered": 0.9})
        for i in range(12):
            s.add(HealthSample(camera_id=cam_id, minute=DAY + 30 * MIN + i * MIN, state="offline"))
    write_latest(rt.settings.snapshots_dir, cam_id, np.zeros((24, 32, 3), np.uint8))
    since, until = DAY - 60 * MIN, NIGHT + 60 * MIN

    def run() -> list[tuple[str, str, datetime, datetime | None]]:
        with transaction(rt.sessions) as s:
            evaluate_camera(s, rt.settings, cam_id, since, until)
        with rt.sessions() as s:
            rows = s.scalars(select(Incident).where(Incident.camera_id == cam_id))
            return sorted((r.id, r.kind, r.start, r.end) for r in rows)

    first = run()
    assert sorted(k for _, k, _, _ in first) == ["camera_offline", "intrusion", "tamper"]
    assert run() == first
    intrusion = next(i for i, k, _, _ in first if k == "intrusion")
    assert (rt.settings.data_dir / "incidents" / f"{intrusion}.jpg").is_file()

    with transaction(rt.sessions) as s:  # resolved by a person, then the visit goes on
        s.get(Incident, intrusion).state = "resolved"
        _observe(s, cam_id, NIGHT + 4 * MIN, [1, 1, 1, 0])
    again = {i: end for i, _, _, end in run()}
    assert set(again) == {i for i, *_ in first}
    with rt.sessions() as s:
        row = s.get(Incident, intrusion)
        assert row.state == "resolved" and row.end == NIGHT + 7 * MIN
        assert row.snapshot_path == f"incidents/{intrusion}.jpg"


# --- API workflow -----------------------------------------------------------------------------


def _incident(rt: Runtime, kelurahan: str) -> str:
    with transaction(rt.sessions) as s:
        cam = _camera(s, kelurahan)
        start = NIGHT + timedelta(days=uuid.uuid4().int % 1000)
        spec = IncidentSpec("intrusion", start, None, cam.id, start, {"people_max": 1})
        return upsert_incidents(s, [spec])[0].id


def _denied(rt: Runtime, incident: str, actor: str) -> list[AuditEntry]:
    with rt.sessions() as s:
        return list(
            s.scalars(
                select(AuditEntry).where(
                    AuditEntry.object_id == incident,
                    AuditEntry.actor == actor,
                    AuditEntry.outcome == "denied",
                )
            )
        )


def test_acknowledge_and_resolve(
    client: TestClient, shared_runtime: Runtime, auth: Callable[[str], dict[str, str]]
) -> None:
    inc = _incident(shared_runtime, "74.71.01.1005")  # Kelurahan Mandonga
    url = f"/api/incidents/{inc}"
    op = auth("operator")
    client.cookies.clear()
    r = client.post(f"{url}/acknowledge", json={"note": "ok"}, headers=op)
    assert r.status_code == 422, r.text
    r = client.post(f"{url}/acknowledge", json={"note": "penjaga dicek via HT"}, headers=op)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "acknowledged" and body["acknowledged_by"] == "operator"
    assert body["acknowledged_at"] and body["note"] == "penjaga dicek via HT"
    r = client.post(f"{url}/assign", json={"assignee": "Satpol PP"}, headers=op)
    assert r.status_code == 200 and r.json()["assignee"] == "Satpol PP"
    r = client.post(f"{url}/resolve", json={"note": "petugas kebersihan"}, headers=auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "resolved" and r.json()["resolved_by"] == "admin"
    r = client.post(f"{url}/resolve", json={}, headers=op)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    with shared_runtime.sessions() as s:
        actions = {
            a.action
            for a in s.scalars(select(AuditEntry).where(AuditEntry.object_id == inc))
            if a.outcome == "ok"
        }
    assert actions == {"incident.acknowledge", "incident.assign", "incident.resolve"}

    listed = client.get("/api/incidents?state=resolved&kind=intrusion", headers=op).json()
    assert inc in {i["id"] for i in listed}
    camat = client.get(url, headers=auth("camat"))  # Mandonga is the camat's kecamatan
    assert camat.status_code == 200


def test_outside_scope_and_read_only_roles_are_refused(
    client: TestClient, shared_runtime: Runtime, auth: Callable[[str], dict[str, str]]
) -> None:
    inc = _incident(shared_runtime, "74.71.01.1005")  # not the lurah's Korumba
    url = f"/api/incidents/{inc}"
    client.cookies.clear()
    assert client.get(url, headers=auth("lurah")).status_code == 403
    assert inc not in {i["id"] for i in client.get("/api/incidents", headers=auth("lurah")).json()}
    r = client.post(f"{url}/acknowledge", json={"note": "saya lihat"}, headers=auth("lurah"))
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = client.post(f"{url}/acknowledge", json={"note": "saya lihat"}, headers=auth("camat"))
    assert r.status_code == 403
    assert len(_denied(shared_runtime, inc, "lurah")) == 2
    assert len(_denied(shared_runtime, inc, "camat")) == 1
    assert client.get(url, headers=auth("admin")).json()["state"] == "new"
