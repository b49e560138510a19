"""Edge agents at the hub, in process on both databases: enrolment, agent authentication,
idempotent batches, incidents keeping their workflow, connectivity report, late verdicts."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from pantau.accounts.users import create_user
from pantau.edge import items as wire
from pantau.edge.identity import public_key_b64, signing_key
from pantau.incidents.rules import incident_id
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import (
    AuditEntry,
    Camera,
    HealthSample,
    Incident,
    Observation,
    Role,
    Site,
    VerdictRow,
)
from pantau.store.types import utcnow
from pantau.web.app import create_app
from tests.conftest import PASSWORD
from tests.support.edge import health_item, incident_item, obs_item

TZ = ZoneInfo("Asia/Makassar")
FACT_TABLES = ("observation", "health_sample", "incident", "edge_segment", "camera_state")


def admin_headers(client: TestClient) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": "edge-admin", "password": PASSWORD})
    client.cookies.clear()
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def add_camera(rt: Runtime, site_slug: str, name: str = "ruang pelayanan") -> tuple[int, int]:
    with transaction(rt.sessions) as s:
        site = s.scalar(select(Site).where(Site.slug == site_slug))
        assert site is not None
        cam = Camera(
            site=site, name=name, purpose="keamanan kantor", main_stream="rtsp://10.1.1.5/s"
        )
        s.add(cam)
        s.flush()
        return site.id, cam.id


def enrol_agent(client: TestClient, headers: dict[str, str], site_id: int, tmp: Any) -> dict:
    r = client.post("/api/agents/enrolments", json={"site_id": site_id}, headers=headers)
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    key = signing_key(tmp)
    body = {"name": "agen-uji", "public_key": public_key_b64(key), "version": "t"}
    r = client.post("/api/agent/enrol", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return r.json() | {"token": token, "signing_key": key}


def send_batch(client: TestClient, key: str, items: list[dict], backlog: dict | None = None):
    payload = {"batch_id": "b-" + str(len(items)), "items": items, "backlog": backlog or {}}
    return client.post(
        "/api/agent/batch",
        content=gzip.compress(json.dumps(payload).encode()),
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
            "X-Pantau-Agent-Version": "0.1.0",
        },
    )


def dump_facts(rt: Runtime) -> dict[str, list[tuple]]:
    """Every row of the fact tables, all columns (updated_at too): equal dumps = nothing changed."""
    out = {}
    with rt.engine.connect() as conn:
        for table in (*FACT_TABLES, "verdict"):
            out[table] = sorted(
                tuple(str(v) for v in row) for row in conn.execute(text(f"SELECT * FROM {table}"))
            )
    return out


@pytest.fixture
def hub(fresh_runtime: Runtime) -> Iterator[tuple[TestClient, Runtime]]:
    with transaction(fresh_runtime.sessions) as s:
        create_user(s, "edge-admin", PASSWORD, Role.ADMIN, None)
        create_user(s, "edge-op", PASSWORD, Role.OPERATOR, None)
    with TestClient(create_app(fresh_runtime)) as c:
        yield c, fresh_runtime


def test_enrolment_key_revocation(hub: tuple[TestClient, Runtime], tmp_path: Any) -> None:
    client, rt = hub
    h = admin_headers(client)
    site_id, _ = add_camera(rt, "kel-mandonga")
    agent = enrol_agent(client, h, site_id, tmp_path)
    assert agent["key"].startswith(f"pak_{agent['agent_id']}_") and agent["site_id"] == site_id
    # The token was for one agent only.
    again = client.post(
        "/api/agent/enrol",
        json={"name": "x", "public_key": public_key_b64(agent["signing_key"])},
        headers={"Authorization": f"Bearer {agent['token']}"},
    )
    assert again.status_code == 401 and "already used" in again.json()["message"]
    # Only hashes are stored.
    with rt.engine.connect() as conn:
        stored = " ".join(str(v) for row in conn.execute(text("SELECT * FROM agent")) for v in row)
        stored += " ".join(
            str(v) for row in conn.execute(text("SELECT * FROM agent_enrolment")) for v in row
        )
    assert agent["key"] not in stored and agent["token"] not in stored
    with rt.sessions() as s:
        actions = [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "agent.enrolment.create" in actions and "agent.enrol" in actions

    key = {"Authorization": f"Bearer {agent['key']}"}
    hello = {"agent_time": wire.iso(utcnow() + timedelta(seconds=42)), "backlog": {"items": 3}}
    r = client.post("/api/agent/hello", json=hello, headers=key)
    assert r.status_code == 200, r.text
    cfg = client.get("/api/agent/config", headers=key).json()
    assert [c["name"] for c in cfg["cameras"]] == ["ruang pelayanan"]
    assert cfg["digest"] == r.json()["config_digest"] and len(cfg["calendar"]) == 68

    # A user's session is not an agent key; a wrong secret is an unknown agent.
    r = client.post("/api/agent/hello", json=hello, headers=h)
    assert r.status_code == 401 and "not an agent key" in r.json()["message"]
    forged = agent["key"][:-4] + "AAAA"
    r = client.post("/api/agent/hello", json=hello, headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and "not recognised" in r.json()["message"]

    # The agent's clock runs 42 s ahead: the hub says so and warns.
    listed = client.get("/api/agents", headers=h).json()
    assert listed[0]["clock_offset_seconds"] == pytest.approx(42, abs=2)
    warned = re.search(r"[+-]?\d+(?:[.,]\d+)?", listed[0]["clock_warning"])
    assert warned is not None, listed[0]["clock_warning"]
    assert float(warned.group().replace(",", ".")) == pytest.approx(42, abs=2)
    assert listed[0]["backlog"]["items"] == 3

    # Operators read, only admins revoke; a revoked agent gets 403 with the date.
    op = {
        "Authorization": "Bearer "
        + client.post("/api/auth/login", json={"username": "edge-op", "password": PASSWORD}).json()[
            "token"
        ]
    }
    client.cookies.clear()
    assert client.get("/api/agents", headers=op).status_code == 200
    assert client.post(f"/api/agents/{agent['agent_id']}/revoke", headers=op).status_code == 403
    r = client.post(f"/api/agents/{agent['agent_id']}/revoke", headers=h)
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    r = client.post("/api/agent/hello", json=hello, headers=key)
    assert r.status_code == 403 and "revoked" in r.json()["message"]
    assert send_batch(client, agent["key"], []).status_code == 403


def test_batch_is_idempotent_and_scoped_to_the_site(
    hub: tuple[TestClient, Runtime], tmp_path: Any
) -> None:
    client, rt = hub
    h = admin_headers(client)
    site_id, cam = add_camera(rt, "kel-mandonga")
    _, other_cam = add_camera(rt, "kel-kandai")
    agent = enrol_agent(client, h, site_id, tmp_path)
    t0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    items = [obs_item(cam, t0 + timedelta(minutes=i), people=i % 3) for i in range(30)]
    items += [health_item(cam, t0 + timedelta(minutes=i)) for i in range(30)]
    items.append(incident_item(cam, "inc-edge-1", t0, t0 + timedelta(minutes=5)))
    items.append(obs_item(other_cam, t0))  # not this agent's site
    r = send_batch(client, agent["key"], items)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 61 and list(body["rejected"]) == [
        wire.observation_key(other_cam, t0)
    ]
    assert "not a camera of site" in body["rejected"][wire.observation_key(other_cam, t0)]
    before = dump_facts(rt)
    assert len(before["observation"]) == 30 and len(before["health_sample"]) == 30

    # The same batch again (an acknowledgement lost on the way): nothing changes at all.
    assert send_batch(client, agent["key"], items).json()["accepted"] == 61
    assert dump_facts(rt) == before

    # A person acknowledges the incident; the agent resends it, ended later: facts move, the
    # workflow stays.
    with transaction(rt.sessions) as s:
        inc = s.get(Incident, "inc-edge-1")
        inc.state, inc.acknowledged_by = "acknowledged", "operator"
    later = incident_item(cam, "inc-edge-1", t0, t0 + timedelta(minutes=9))
    changed = obs_item(cam, t0, people=4)
    assert send_batch(client, agent["key"], [later, changed]).json()["accepted"] == 2
    with rt.sessions() as s:
        inc = s.get(Incident, "inc-edge-1")
        assert inc.state == "acknowledged" and inc.end == t0 + timedelta(minutes=9)
        assert s.get(Observation, (cam, t0)).people_max == 4
        assert s.scalar(select(HealthSample).where(HealthSample.camera_id == cam)) is not None

    # Garbage is a 422 with the reason, not a 500.
    r = client.post(
        "/api/agent/batch",
        content=b"\x1f\x8bnot gzip",
        headers={"Authorization": f"Bearer {agent['key']}", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 422 and "gzip" in r.json()["message"]


def test_late_observations_fill_past_verdicts_and_connectivity(
    hub: tuple[TestClient, Runtime], tmp_path: Any
) -> None:
    client, rt = hub
    h = admin_headers(client)
    site_id, cam = add_camera(rt, "kel-mandonga")
    agent = enrol_agent(client, h, site_id, tmp_path)
    # A working day two weeks back (older than the scheduler's look-back): staff 07.20-16.10.
    day = date.today() - timedelta(days=14)
    while day.weekday() >= 4:
        day -= timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 6, 0, tzinfo=TZ).astimezone(UTC)
    items = []
    for i in range(12 * 60):
        minute = start + timedelta(minutes=i)
        local = minute.astimezone(TZ)
        staffed = (7, 20) <= (local.hour, local.minute) < (16, 10)
        items.append(obs_item(cam, minute, people=2 if staffed else 0))
    r = send_batch(
        client, agent["key"], items, backlog={"items": 0, "complete_until": wire.iso(utcnow())}
    )
    assert r.status_code == 200 and r.json()["accepted"] == 720
    with rt.sessions() as s:
        verdict = s.scalar(
            select(VerdictRow).where(VerdictRow.site_id == site_id, VerdictRow.day == day)
        )
    assert verdict is not None, "the late day's verdict was not recomputed"
    if verdict.working:
        assert verdict.opened_at is not None
        assert verdict.opened_at.astimezone(TZ).strftime("%H:%M") == "07:20"

    today = datetime.now(TZ).date()
    r = client.get(
        f"/api/agents/connectivity?from={today - timedelta(days=1)}&to={today}", headers=h
    )
    assert r.status_code == 200, r.text
    row = next(a for a in r.json() if a["id"] == agent["agent_id"])
    assert [d["date"] for d in row["days"]] == [str(today - timedelta(days=1)), str(today)]
    assert row["days"][1]["minutes_connected"] == 1 and row["days"][0]["minutes_connected"] == 0
    assert row["days"][1]["items"] == 720 and row["days"][1]["bytes"] > 1000
    assert row["state"] == "online" and row["complete_until"] is not None


def test_health_minutes_alone_make_a_past_camera_offline_incident(
    hub: tuple[TestClient, Runtime], tmp_path: Any
) -> None:
    """A batch of only health minutes (a camera down while the site was offline) is evaluated
    too: the hub's own evaluator looks back only hours, this was ten days ago."""
    client, rt = hub
    h = admin_headers(client)
    site_id, cam = add_camera(rt, "kel-mandonga")
    agent = enrol_agent(client, h, site_id, tmp_path)
    start = (utcnow() - timedelta(days=10)).replace(second=0, microsecond=0)
    items = []
    for i in range(40):
        item = health_item(cam, start + timedelta(minutes=i))
        if 10 <= i < 25:
            item["data"]["state"] = "offline"
        items.append(item)
    r = send_batch(client, agent["key"], items)
    assert r.status_code == 200 and r.json()["accepted"] == 40
    with rt.sessions() as s:
        rows = list(s.scalars(select(Incident).where(Incident.camera_id == cam)))
    assert [(i.kind, i.start, i.end) for i in rows] == [
        ("camera_offline", start + timedelta(minutes=10), start + timedelta(minutes=25))
    ]
    assert rows[0].id == incident_id(cam, "camera_offline", start + timedelta(minutes=10))


def test_a_late_arriving_report_does_not_undo_a_newer_backlog(
    hub: tuple[TestClient, Runtime], tmp_path: Any
) -> None:
    """A hello held up by a cut link reaches the hub after the batch that emptied the outbox
    (TCP delivers it once the link is back): its backlog is older and must not win."""
    client, rt = hub
    h = admin_headers(client)
    site_id, cam = add_camera(rt, "kel-mandonga")
    agent = enrol_agent(client, h, site_id, tmp_path)
    key = {"Authorization": f"Bearer {agent['key']}"}
    t = utcnow()

    def hello(at: datetime, items: int) -> None:
        body = {"agent_time": wire.iso(at), "backlog": {"items": items}}
        assert client.post("/api/agent/hello", json=body, headers=key).status_code == 200

    def held() -> int:
        return client.get("/api/agents", headers=h).json()[0]["backlog"]["items"]

    hello(t, 2244)
    payload = {
        "batch_id": "b1",
        "sent_at": wire.iso(t + timedelta(seconds=5)),
        "backlog": {"items": 0},
        "items": [obs_item(cam, t.replace(second=0, microsecond=0))],
    }
    r = client.post("/api/agent/batch", json=payload, headers=key)
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert held() == 0
    hello(t - timedelta(seconds=3), 2244)  # measured before the batch, arrived after it
    assert held() == 0
    hello(t + timedelta(seconds=30), 7)  # a newer report wins
    assert held() == 7
