"""The verdicts API on SQLite and PostgreSQL: scopes, evidence and history, corrections,
recompute, and bad input (future dates, a correction on a day without a verdict).

Each module run creates its own two offices (Korumba in the camat's and lurah's scope, Kandai
in another kecamatan) with one camera each, and writes their observation rows directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import AuditEntry, Observation
from pantau.verdicts.store import local_today
from tests.test_verdict_rules import MON, ObsDay, local

Auth = Callable[[str], dict[str, str]]
SUNDAY = MON - timedelta(days=1)


@dataclass
class Offices:
    korumba: int
    kandai: int
    cam_korumba: int
    cam_kandai: int
    rows: list[dict[str, Any]]  # Korumba's full day; its morning is delivered late


def _post(client: TestClient, auth: Auth, url: str, body: dict[str, Any]) -> dict[str, Any]:
    client.cookies.clear()
    r = client.post(url, json=body, headers=auth("admin"))
    assert r.status_code in (200, 201), r.text
    return r.json()


def _office(client: TestClient, auth: Auth, kelurahan: str) -> tuple[int, int]:
    name = f"Kantor Uji {uuid.uuid4().hex[:8]}"
    site = _post(
        client,
        auth,
        "/api/sites",
        {"kind": "kantor_opd", "name": name, "kelurahan_code": kelurahan},
    )["id"]
    cam = _post(
        client,
        auth,
        "/api/cameras",
        {
            "site_id": site,
            "name": "ruang layanan",
            "purpose": "keamanan kantor",
            "main_stream": "rtsp://10.1.1.1/stream",
        },
    )["id"]
    return site, cam


def _insert(rt: Runtime, rows: list[dict[str, Any]]) -> None:
    with transaction(rt.sessions) as s:
        s.execute(insert(Observation), rows)


@pytest.fixture(scope="module")
def offices(client: TestClient, auth: Auth, shared_runtime: Runtime) -> Offices:
    korumba, cam_k = _office(client, auth, "74.71.01.1006")
    kandai, cam_d = _office(client, auth, "74.71.02.1009")
    rows = ObsDay(MON, cameras=(cam_k,)).people("08.12", "16.05").list()
    # The afternoon arrives first: the morning is still on the edge site's disk.
    _insert(shared_runtime, [r for r in rows if r["minute"] >= local(MON, "12.00")])
    _insert(shared_runtime, ObsDay(MON, cameras=(cam_d,)).people("07.20", "16.10").list())
    body = {"from": MON.isoformat(), "to": MON.isoformat(), "site_ids": [korumba, kandai]}
    out = _post(client, auth, "/api/verdicts/recompute", body)
    assert out["created"] == 2, out
    return Offices(korumba, kandai, cam_k, cam_d, rows)


def get(client: TestClient, auth: Auth, role: str, url: str) -> Any:
    client.cookies.clear()
    return client.get(url, headers=auth(role))


def audits(rt: Runtime, after: int) -> list[AuditEntry]:
    with rt.sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.id > after)))


def last_audit(rt: Runtime) -> int:
    with rt.sessions() as s:
        return max(s.scalars(select(AuditEntry.id)), default=0)


def deliver_morning(client: TestClient, auth: Auth, rt: Runtime, o: Offices) -> None:
    """The edge site syncs the morning; recomputing changes the verdict (idempotent after)."""
    with rt.sessions() as s:
        have = s.scalar(
            select(Observation.minute)
            .where(Observation.camera_id == o.cam_korumba)
            .where(Observation.minute == local(MON, "08.00"))
        )
    if have is None:
        _insert(rt, [r for r in o.rows if r["minute"] < local(MON, "12.00")])
    body = {"from": MON.isoformat(), "to": MON.isoformat(), "site_ids": [o.korumba]}
    _post(client, auth, "/api/verdicts/recompute", body)


# ---- reading ----------------------------------------------------------------------------------


def test_list_is_scoped(client: TestClient, auth: Auth, offices: Offices) -> None:
    url = f"/api/verdicts?date={MON.isoformat()}"
    ids = {
        role: {v["site_id"] for v in get(client, auth, role, url).json()}
        for role in ("admin", "pimpinan", "operator", "camat", "lurah")
    }
    for role in ("admin", "pimpinan", "operator"):
        assert {offices.korumba, offices.kandai} <= ids[role], role
    assert offices.korumba in ids["camat"] and offices.kandai not in ids["camat"]
    assert offices.korumba in ids["lurah"] and offices.kandai not in ids["lurah"]

    rows = get(client, auth, "admin", f"{url}&kecamatan_id=74.71.02").json()
    assert offices.kandai in {v["site_id"] for v in rows}
    assert all(v["kecamatan_code"] == "74.71.02" for v in rows)
    # A regional user asking for another kecamatan gets nothing, not a wider view.
    assert get(client, auth, "camat", f"{url}&kecamatan_id=74.71.02").json() == []
    on_time = get(client, auth, "admin", f"{url}&status=tepat_waktu").json()
    assert offices.kandai in {v["site_id"] for v in on_time}
    assert all(v["status"] == "tepat_waktu" for v in on_time)
    ranged = get(
        client, auth, "admin", f"/api/verdicts?from={SUNDAY}&to={MON}&site_id={offices.kandai}"
    )
    assert [(v["day"], v["status"]) for v in ranged.json()] == [(MON.isoformat(), "tepat_waktu")]
    row = ranged.json()[0]
    assert row["local"]["opened"] == "07.20 WITA" and row["local"]["scheduled_open"] == "07.30 WITA"
    assert row["label"] == "Tepat waktu" and row["correction"] is None


def test_other_kecamatan_is_403_and_audited(
    client: TestClient, auth: Auth, offices: Offices, shared_runtime: Runtime
) -> None:
    for url in (
        f"/api/verdicts/{offices.kandai}/{MON}",
        f"/api/verdicts?date={MON}&site_id={offices.kandai}",
    ):
        before = last_audit(shared_runtime)
        r = get(client, auth, "camat", url)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "forbidden"
        denied = [a for a in audits(shared_runtime, before) if a.outcome == "denied"]
        assert [(a.actor, a.object_type, a.object_id) for a in denied] == [
            ("camat", "site", str(offices.kandai))
        ]
    assert get(client, auth, "lurah", f"/api/verdicts/{offices.korumba}/{MON}").status_code == 200


def test_late_morning_changes_the_verdict_and_history_shows_it(
    client: TestClient, auth: Auth, offices: Offices, shared_runtime: Runtime
) -> None:
    url = f"/api/verdicts/{offices.korumba}/{MON}"
    deliver_morning(client, auth, shared_runtime, offices)
    v = get(client, auth, "camat", url).json()
    assert v["status"] == "terlambat" and v["late_minutes"] == 42
    assert v["local"]["opened"] == "08.12 WITA" and v["version"] == 2
    [old] = v["history"]
    assert old["status"] == "tidak_diketahui" and old["version"] == 1
    assert old["change"] == ["observations"] and old["change_label"] == "Observasi baru masuk"
    assert v["detail"]["status"] == "terlambat" and v["detail"]["late_minutes"] == 42

    first = v["evidence"]["first_presence"]
    assert first["camera_id"] == offices.cam_korumba and first["local"] == "08.12 WITA"
    assert first["snapshot_url"] == (
        f"/api/cameras/{offices.cam_korumba}/snapshot.jpg?at=2026-11-23T00:12:30Z"
    )
    assert first["playback_url"].startswith(f"/api/cameras/{offices.cam_korumba}/playlist.m3u8?")
    assert first["has_recording"] is False
    # The link reaches the recordings endpoint, which says there is no footage at that time.
    r = get(client, auth, "admin", first["snapshot_url"])
    assert r.status_code == 404 and "no recording at" in r.json()["message"]
    assert v["evidence"]["last_presence"]["local"] == "16.04 WITA"

    [line] = v["timeline"]["cameras"]
    assert v["timeline"]["minutes"] == len(line["people"]) == 1440
    assert line["people"][8 * 60 + 11] == 0 and line["people"][8 * 60 + 12] == 2
    assert line["lights_on"][8 * 60 + 12] is True and line["coverage_seconds"][0] == 60.0
    assert get(client, auth, "admin", f"{url}?timeline=false").json()["timeline"] is None


# ---- corrections ------------------------------------------------------------------------------


def test_correction_is_audited_and_the_original_stays(
    client: TestClient, auth: Auth, offices: Offices, shared_runtime: Runtime
) -> None:
    deliver_morning(client, auth, shared_runtime, offices)
    url = f"/api/verdicts/{offices.korumba}/{MON}/corrections"
    before = last_audit(shared_runtime)
    client.cookies.clear()
    r = client.post(
        url, json={"reason": "rapat_kantor_camat", "note": "Undangan 005/61"}, headers=auth("admin")
    )
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["status"] == "terlambat" and v["label"] == "Terlambat"  # the original, visible
    assert v["effective_status"] == "dikoreksi"
    assert v["effective_label"] == "Dikoreksi (Rapat di kantor camat)"
    assert v["correction"]["reason"] == "rapat_kantor_camat"
    assert v["correction"]["verdict_status"] == "terlambat"
    [entry] = [a for a in audits(shared_runtime, before) if a.action == "verdict.correction.create"]
    assert entry.actor == "admin" and entry.object_type == "verdict"
    assert entry.object_id == str(v["id"]) and entry.detail["reason"] == "rapat_kantor_camat"
    assert entry.detail["note"] == "Undangan 005/61" and entry.detail["status"] == "terlambat"

    client.cookies.clear()
    r = client.post(
        url, json={"reason": "listrik_padam", "note": "PLN padam"}, headers=auth("admin")
    )
    assert r.status_code == 201
    v = get(client, auth, "lurah", f"/api/verdicts/{offices.korumba}/{MON}").json()
    assert v["correction"]["reason"] == "listrik_padam"  # the latest applies
    assert [c["reason"] for c in v["corrections"][-2:]] == ["rapat_kantor_camat", "listrik_padam"]
    assert v["status"] == "terlambat"

    for role in ("operator", "pimpinan", "camat", "lurah"):
        client.cookies.clear()
        r = client.post(url, json={"reason": "bencana", "note": "banjir"}, headers=auth(role))
        assert r.status_code == 403, role


def test_correction_input_is_checked(client: TestClient, auth: Auth, offices: Offices) -> None:
    url = f"/api/verdicts/{offices.kandai}/{MON}/corrections"
    client.cookies.clear()
    r = client.post(url, json={"reason": "mati_lampu", "note": "x y z"}, headers=auth("admin"))
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "body.reason"
    client.cookies.clear()
    r = client.post(url, json={"reason": "bencana"}, headers=auth("admin"))
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "body.note"


def test_correction_on_a_day_without_verdict_is_404(
    client: TestClient, auth: Auth, offices: Offices
) -> None:
    client.cookies.clear()
    r = client.post(
        f"/api/verdicts/{offices.korumba}/{SUNDAY}/corrections",
        json={"reason": "dinas_luar", "note": "Surat tugas 1"},
        headers=auth("admin"),
    )
    assert r.status_code == 404, r.text
    message = r.json()["message"]
    assert "Belum ada putusan" in message and "No verdict" in message
    assert SUNDAY.isoformat() in message
    assert (
        get(client, auth, "admin", f"/api/verdicts/{offices.korumba}/{SUNDAY}").status_code == 404
    )
    assert get(client, auth, "admin", f"/api/verdicts/999999/{MON}").status_code == 404


# ---- bad input ----------------------------------------------------------------------------------


def test_future_dates_are_422_naming_the_field(
    client: TestClient, auth: Auth, offices: Offices, shared_runtime: Runtime
) -> None:
    tomorrow = local_today(shared_runtime.settings) + timedelta(days=1)

    def field_of(r: Any) -> str:
        assert r.status_code == 422, r.text
        return r.json()["fields"][0]["field"]

    assert field_of(get(client, auth, "admin", f"/api/verdicts?date={tomorrow}")) == "date"
    assert field_of(get(client, auth, "admin", f"/api/verdicts?from={tomorrow}")) == "from"
    assert field_of(get(client, auth, "admin", f"/api/verdicts?from={MON}&to={tomorrow}")) == "to"
    r = get(client, auth, "camat", f"/api/verdicts/{offices.korumba}/{tomorrow}")
    assert field_of(r) == "day" and "belum tiba" in r.json()["message"]
    client.cookies.clear()
    r = client.post(
        f"/api/verdicts/{offices.korumba}/{tomorrow}/corrections",
        json={"reason": "bencana", "note": "banjir"},
        headers=auth("admin"),
    )
    assert field_of(r) == "day"
    client.cookies.clear()
    r = client.post(
        "/api/verdicts/recompute",
        json={"from": str(MON), "to": str(tomorrow)},
        headers=auth("admin"),
    )
    assert field_of(r) == "to"
    assert field_of(get(client, auth, "admin", f"/api/verdicts?date={MON}&from={MON}")) == "date"
    assert (
        field_of(get(client, auth, "admin", f"/api/verdicts?date={MON}&status=telat"))
        == "query.status"
    )


def test_recompute_is_audited_and_idempotent(
    client: TestClient, auth: Auth, offices: Offices, shared_runtime: Runtime
) -> None:
    deliver_morning(client, auth, shared_runtime, offices)
    body = {"from": str(SUNDAY), "to": str(MON), "site_ids": [offices.korumba, offices.kandai]}
    before = last_audit(shared_runtime)
    out = _post(client, auth, "/api/verdicts/recompute", body)
    # Both Sundays are new (explicit sites), both Mondays were computed already.
    assert (out["created"], out["unchanged"], out["total"]) == (2, 2, 4), out
    assert out["from"] == str(SUNDAY)
    [entry] = [a for a in audits(shared_runtime, before) if a.action == "verdict.recompute"]
    assert entry.actor == "admin" and entry.detail["created"] == 2
    again = _post(client, auth, "/api/verdicts/recompute", body)
    assert again["unchanged"] == again["total"] == 4
    client.cookies.clear()
    r = client.post(
        "/api/verdicts/recompute", json={**body, "site_ids": [987654]}, headers=auth("admin")
    )
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "site_ids"
    client.cookies.clear()
    r = client.post("/api/verdicts/recompute", json=body, headers=auth("operator"))
    assert r.status_code == 403
