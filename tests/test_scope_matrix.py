"""Role x endpoint matrix: every route of the app, every role, in- and out-of-scope objects.

The routes are discovered from the application itself, so an endpoint added without a
matrix entry (or without an audit entry for its writes) makes these tests fail.

Regional users: camat = Mandonga (74.71.01), lurah = Korumba (74.71.01.1006). Object
endpoints are tried on three targets:
    korumba  - in both scopes
    mandonga - Kelurahan Mandonga (74.71.01.1005): in the camat's scope, not the lurah's
    kandai   - Kelurahan Kandai (74.71.02.1009), another kecamatan: in neither
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pantau.config.model import Settings
from pantau.incidents.evidence import evidence_taker
from pantau.incidents.rules import IncidentSpec
from pantau.incidents.store import upsert_incidents
from pantau.media.snapshot import write_latest
from pantau.recordings.urls import signer_for
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import AuditEntry, Site
from pantau.store.types import utcnow
from pantau.verdicts.store import recompute as recompute_verdict
from pantau.web.app import create_app
from tests.conftest import PASSWORD
from tests.scope.agents import AGENT_KEY_ROUTES
from tests.support.media import make_clip
from tests.test_playback import add_recording, iso, recent_t0, ts_segments

ROLES = ("anon", "admin", "operator", "pimpinan", "camat", "lurah")
REGIONS = ("korumba", "mandonga", "kandai")
KELURAHAN = {"korumba": "74.71.01.1006", "mandonga": "74.71.01.1005", "kandai": "74.71.02.1009"}
CAMAT_KEC, LURAH_KEL = "74.71.01", "74.71.01.1006"
# Reachable without a session; everything else must answer 401 to an anonymous caller.
PUBLIC = {
    ("GET", "/api/health"),
    ("POST", "/api/auth/login"),
    ("GET", "/api/segments/{segment_id}.ts"),  # the signed URL is the credential (HLS players)
}
# Writes whose audit action is not named after the URL's first resource: footage access is
# audited as "recording.*" wherever it is reached from, so one filter finds every viewing.
ACTION_PREFIX = {("POST", "/api/cameras/{camera_id}/exports"): "recording."}


# --- route discovery ---------------------------------------------------------------------


def discover_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every API route, including those of included routers.

    The UI's own routes (/, /ui/...) serve the same static files and texts to everyone and
    are checked in tests/test_ui_catalogues.py.

    Recent FastAPI keeps included routers as lazy `_IncludedRouter` entries in app.routes,
    so a plain `isinstance(route, APIRoute)` walk would only see routes declared on the app.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are flattened into app.routes
        entries = [(r, getattr(r, "path", ""), getattr(r, "methods", None)) for r in app.routes]
    else:
        entries = [(c.original_route, c.path, c.methods) for c in iter_route_contexts(app.routes)]
    return {
        (method, path)
        for route, path, methods in entries
        if isinstance(route, APIRoute) and path.startswith("/api")
        for method in methods or ()
        if method != "HEAD"
    }


def _stub_app() -> FastAPI:
    # create_app only keeps the runtime and reads settings for its description: enough to
    # list the routes at collection time, without a database.
    return create_app(SimpleNamespace(settings=Settings()))  # type: ignore[arg-type]


ROUTES = sorted(discover_routes(_stub_app()), key=lambda r: (r[1], r[0]))
# Routes an edge agent calls with its own key: no user session reaches them (every role gets
# 401 in the matrix); their writes are tested with a real agent key in tests/test_edge_api.py.
WRITE_ROUTES = [r for r in ROUTES if r[0] != "GET" and r not in AGENT_KEY_ROUTES]


def route_id(route: tuple[str, str]) -> str:
    return f"{route[0]} {route[1]}"


# --- the world the matrix runs in ----------------------------------------------------------


def uid() -> str:
    return uuid.uuid4().hex[:10]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    client: TestClient
    rt: Runtime
    tokens: dict[str, str]
    user_ids: dict[str, int]
    site: dict[str, int]  # the seeded kantor kelurahan per region
    mandonga_offices: dict[str, int]  # kelurahan code -> seeded office id, all 6 of Mandonga
    camera: dict[str, int]
    city_calendar: int
    spare_user: int

    def admin(self, method: str, url: str, **kw: Any) -> httpx.Response:
        self.client.cookies.clear()
        r = self.client.request(method, url, headers=bearer(self.tokens["admin"]), **kw)
        assert r.is_success, f"{method} {url}: {r.status_code} {r.text}"
        return r

    def new_site(self, region: str) -> int:
        body = {"kind": "kantor_opd", "name": f"Posko {uid()}", "kelurahan_code": KELURAHAN[region]}
        return self.admin("POST", "/api/sites", json=body).json()["id"]

    def new_camera(self, region: str) -> int:
        body = {
            "site_id": self.site[region],
            "name": f"cam-{uid()}",
            "purpose": "keamanan kantor",
            "main_stream": "rtsp://10.9.9.9/stream",
        }
        return self.admin("POST", "/api/cameras", json=body).json()["id"]

    def new_calendar(self) -> int:
        body = {"name": f"Kalender {uid()}", "parent_id": self.city_calendar}
        return self.admin("POST", "/api/calendars", json=body).json()["id"]

    def new_rule(self, calendar_id: int) -> int:
        body = {"kind": "closure", "start_date": "2031-01-06", "end_date": "2031-01-07"}
        return self.admin("POST", f"/api/calendars/{calendar_id}/rules", json=body).json()["id"]

    def login(self, username: str) -> str:
        self.client.cookies.clear()
        r = self.client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        self.client.cookies.clear()
        assert r.status_code == 200, r.text
        return r.json()["token"]


@pytest.fixture(scope="module")
def world(client: TestClient, shared_runtime: Runtime, tokens: dict[str, str]) -> World:
    h = bearer(tokens["admin"])
    client.cookies.clear()
    users = {u["username"]: u["id"] for u in client.get("/api/users", headers=h).json()}
    sites = client.get("/api/sites", headers=h).json()
    offices: dict[str, int] = {}
    for s in sorted(sites, key=lambda s: s["id"]):  # lowest id = the seeded office
        if s["kind"] == "kantor_kelurahan" and s["kelurahan_code"]:
            offices.setdefault(s["kelurahan_code"], s["id"])
    calendars = client.get("/api/calendars", headers=h).json()
    city = next(c["id"] for c in calendars if c["name"] == "Kota Kendari")
    w = World(
        client=client,
        rt=shared_runtime,
        tokens=tokens,
        user_ids=users,
        site={region: offices[code] for region, code in KELURAHAN.items()},
        mandonga_offices={k: v for k, v in offices.items() if k.startswith(CAMAT_KEC + ".")},
        camera={},
        city_calendar=city,
        spare_user=0,
    )
    assert len(w.mandonga_offices) == 6, w.mandonga_offices
    w.camera = {region: w.new_camera(region) for region in REGIONS}
    body = {"username": f"spare-{uid()}", "password": PASSWORD, "role": "operator"}
    w.spare_user = w.admin("POST", "/api/users", json=body).json()["id"]
    return w


# --- audit helpers -----------------------------------------------------------------------


def last_audit_id(rt: Runtime) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.max(AuditEntry.id))) or 0


def audit_after(rt: Runtime, after: int) -> list[AuditEntry]:
    with rt.sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.id > after)))


# --- the matrix ----------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    url: str
    json: Any = None
    token: str | None = None  # instead of the role's shared token (logout uses a fresh one)
    probe: str | None = None  # GET as admin before and after: a refused write changes nothing
    ids: tuple[str, ...] = ()  # the object ids a denied-by-scope audit row may name


Expect = dict[str, int | dict[str, int]]
Build = Callable[[World, str, str], Call]
Check = Callable[[World, str, str, Call, httpx.Response], None]


@dataclass
class Spec:
    expect: Expect
    build: Build
    targets: tuple[str, ...] = ("-",)
    action: str | None = None  # audit action of a successful write
    check: Check | None = None  # more assertions on a successful answer


def everyone(ok: int, anon: int = 401) -> Expect:
    return {"anon": anon, "admin": ok, "operator": ok, "pimpinan": ok, "camat": ok, "lurah": ok}


def scoped(ok: int) -> Expect:
    return everyone(ok) | {
        "camat": {"korumba": ok, "mandonga": ok, "kandai": 403},
        "lurah": {"korumba": ok, "mandonga": 403, "kandai": 403},
    }


def city_readers(ok: int) -> Expect:
    return everyone(ok) | {"camat": 403, "lurah": 403}


def admin_only(ok: int) -> Expect:
    return {"anon": 401, "admin": ok, "operator": 403, "pimpinan": 403, "camat": 403, "lurah": 403}


def _name(role: str) -> str:
    return "operator" if role == "anon" else role


# checks ------------------------------------------------------------------------------------


def check_events(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.text.startswith("retry: 3000")
    assert "event: hello" in r.text and f'"user":"{_name(role)}"' in r.text


def check_me(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["username"] == role


def check_logout(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert call.token
    w.client.cookies.clear()
    again = w.client.get("/api/auth/me", headers=bearer(call.token))
    assert again.status_code == 401, "a logged-out token must not work any more"


def check_login(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    body = r.json()
    assert body["user"]["username"] == _name(role) and body["token"]
    assert "password" not in r.text and "password_hash" not in body["user"]


def check_kecamatan(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    codes = [k["code"] for k in r.json()]
    if role in ("camat", "lurah"):
        assert codes == [CAMAT_KEC]
    else:
        assert len(codes) == 11 and {CAMAT_KEC, "74.71.02"} <= set(codes)


def check_kelurahan(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    codes = {k["code"] for k in r.json()}
    if role == "camat":
        assert codes == set(w.mandonga_offices)
    elif role == "lurah":
        assert codes == {LURAH_KEL}
    else:
        assert len(codes) == 65


def check_site_list(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    rows = r.json()
    ids = {s["id"] for s in rows}
    if target == "other-kec":  # ?kecamatan=74.71.02 must not widen a regional scope
        if role in ("camat", "lurah"):
            assert rows == []
        else:
            assert w.site["kandai"] in ids and all(s["kecamatan_code"] == "74.71.02" for s in rows)
        return
    if role == "camat":
        assert all(s["kecamatan_code"] == CAMAT_KEC for s in rows), rows
        assert set(w.mandonga_offices.values()) <= ids
        offices = {s["kelurahan_code"] for s in rows if s["kind"] == "kantor_kelurahan"}
        assert offices == set(w.mandonga_offices)
    elif role == "lurah":
        assert all(s["kelurahan_code"] == LURAH_KEL for s in rows), rows
        assert w.site["korumba"] in ids
    else:
        assert len(rows) >= 65 and {w.site[t] for t in REGIONS} <= ids


def check_site(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["id"] == w.site[target]
    assert r.json()["kelurahan_code"] == KELURAHAN[target]


def check_schedule(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    days = r.json()
    assert [d["date"] for d in days] == [f"2026-11-{d}" for d in range(23, 30)]


def _camera_sites(w: World, rows: list[dict[str, Any]]) -> list[Site]:
    with w.rt.sessions() as s:
        return [s.get(Site, row["site_id"]) for row in rows]  # type: ignore[misc]


def check_camera_list(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    rows = r.json()
    ids = {c["id"] for c in rows}
    if target != "all":
        assert rows and all(c["site_id"] == w.site[target] for c in rows)
        assert w.camera[target] in ids
        return
    sites = _camera_sites(w, rows)
    if role == "camat":
        assert all(s.kecamatan_code == CAMAT_KEC for s in sites)
        assert {w.camera["korumba"], w.camera["mandonga"]} <= ids
        assert w.camera["kandai"] not in ids
    elif role == "lurah":
        assert all(s.kelurahan_code == LURAH_KEL for s in sites)
        assert w.camera["korumba"] in ids
        assert not {w.camera["mandonga"], w.camera["kandai"]} & ids
    else:
        assert set(w.camera.values()) <= ids
    assert all("password" not in c for c in rows)


def check_camera(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["id"] == w.camera[target] and "password" not in r.json()


def gone(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    w.client.cookies.clear()
    after = w.client.get(call.url, headers=bearer(w.tokens["admin"]))
    assert after.status_code == 404, f"{call.url} still there after DELETE"


def rule_gone(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    cal_id, rule_id = (int(x) for x in re.findall(r"\d+", call.url))
    rules = w.admin("GET", f"/api/calendars/{cal_id}").json()["rules"]
    assert rule_id not in {x["id"] for x in rules}


def check_patched(field: str) -> Check:
    def check(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
        assert r.json()[field] == call.json[field]

    return check


def check_user_list(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    names = {u["username"] for u in r.json()}
    assert {"admin", "camat", "lurah"} <= names
    assert "password" not in r.text and "argon2" not in r.text


# builders ----------------------------------------------------------------------------------


def _site_body() -> dict[str, Any]:
    return {"kind": "kantor_opd", "name": f"Dinas {uid()}", "kecamatan_code": "74.71.02"}


def _camera_body(w: World, target: str) -> dict[str, Any]:
    return {
        "site_id": w.site[target],
        "name": f"cam-{uid()}",
        "purpose": "keamanan kantor",
        "main_stream": "rtsp://10.9.9.8/stream",
    }


def build_logout(w: World, role: str, target: str) -> Call:
    token = None if role == "anon" else w.login(role)
    return Call("POST", "/api/auth/logout", token=token)


def build_site_write(method: str) -> Build:
    def build(w: World, role: str, target: str) -> Call:
        site = w.new_site(target)
        body = {"address": f"Jl. {uid()}"} if method == "PATCH" else None
        url = f"/api/sites/{site}"
        return Call(method, url, json=body, probe=url, ids=(str(site),))

    return build


def build_camera_write(method: str) -> Build:
    def build(w: World, role: str, target: str) -> Call:
        cam = w.new_camera(target)
        body = {"purpose": f"lalu lintas {uid()}"} if method == "PATCH" else None
        url = f"/api/cameras/{cam}"
        return Call(method, url, json=body, probe=url, ids=(str(cam),))

    return build


def build_calendar_write(method: str) -> Build:
    def build(w: World, role: str, target: str) -> Call:
        cal = w.new_calendar()
        body = {"use_national_holidays": False} if method == "PATCH" else None
        url = f"/api/calendars/{cal}"
        return Call(method, url, json=body, probe=url, ids=(str(cal),))

    return build


def build_add_rule(w: World, role: str, target: str) -> Call:
    cal = w.new_calendar()
    body = {"kind": "closure", "start_date": "2031-02-02", "end_date": "2031-02-03"}
    url = f"/api/calendars/{cal}"
    return Call("POST", f"{url}/rules", json=body, probe=url, ids=(str(cal),))


def build_delete_rule(w: World, role: str, target: str) -> Call:
    cal = w.new_calendar()
    rule = w.new_rule(cal)
    url = f"/api/calendars/{cal}/rules/{rule}"
    return Call("DELETE", url, probe=f"/api/calendars/{cal}", ids=(str(cal), str(rule)))


GUARD_ROUND = [{"days": None, "from": "21.45", "to": "22.15", "note": "ronda satpam"}]


def build_windows_put(w: World, role: str, target: str) -> Call:
    site = w.new_site(target)
    url = f"/api/sites/{site}/allowed-windows"
    return Call("PUT", url, json={"windows": GUARD_ROUND}, probe=url, ids=(str(site),))


def check_windows_put(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["windows"] == GUARD_ROUND
    assert w.admin("GET", call.url).json()["windows"] == GUARD_ROUND


def check_windows(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["site_id"] == w.site[target] and isinstance(r.json()["windows"], list)


def get(url: str | Callable[[World, str], str]) -> Build:
    def build(w: World, role: str, target: str) -> Call:
        return Call("GET", url(w, target) if callable(url) else url)

    return build


def _camera_list_url(w: World, target: str) -> str:
    return "/api/cameras" if target == "all" else f"/api/cameras?site_id={w.site[target]}"


def _site_list_url(w: World, target: str) -> str:
    return "/api/sites" if target == "all" else "/api/sites?kecamatan=74.71.02"


# recordings ---------------------------------------------------------------------------------
# Footage for the world's cameras: a small clip cut into TS segments, indexed two hours ago.
# Re-created if a test (or retention) removed it, so every role finds something to play.

_FOOTAGE: dict[tuple[int, str], Any] = {}
_EXPORTS: dict[tuple[int, str], str] = {}


def footage(w: World, target: str) -> Any:
    key = (id(w.rt), target)
    rec = _FOOTAGE.get(key)
    if rec is None or not all(f.exists() for f in rec.files):
        media = w.rt.settings.data_dir / "matrix-media"
        media.mkdir(exist_ok=True)
        clip = media / "clip.mp4"
        if not clip.exists():
            make_clip(clip, seconds=6, size="320x240")
        rec = add_recording(w.rt, w.camera[target], ts_segments(clip, media), recent_t0())
        _FOOTAGE[key] = rec
    return rec


def footage_range(w: World, target: str) -> dict[str, str]:
    rec = footage(w, target)
    return {"from": iso(rec.t0), "to": iso(rec.end)}


def existing_export(w: World, target: str) -> str:
    key = (id(w.rt), target)
    if key not in _EXPORTS:
        url = f"/api/cameras/{w.camera[target]}/exports"
        _EXPORTS[key] = w.admin("POST", url, json=footage_range(w, target)).json()["id"]
    return _EXPORTS[key]


def build_recordings_get(suffix: str) -> Build:
    def build(w: World, role: str, target: str) -> Call:
        span = footage_range(w, target)
        url = f"/api/cameras/{w.camera[target]}/{suffix}?from={span['from']}&to={span['to']}"
        return Call("GET", url, ids=(str(w.camera[target]),))

    return build


def build_snapshot(w: World, role: str, target: str) -> Call:
    cam = w.camera[target]
    write_latest(w.rt.settings.snapshots_dir, cam, np.zeros((24, 32, 3), np.uint8))
    return Call("GET", f"/api/cameras/{cam}/snapshot.jpg", ids=(str(cam),))


def build_segment(w: World, role: str, target: str) -> Call:
    seg = footage(w, "korumba").segments[0]
    exp, sig = signer_for(w.rt.settings.data_dir).sign(seg.id, utcnow())
    return Call("GET", f"/api/segments/{seg.id}.ts?exp={exp}&sig={sig}")


def build_export(w: World, role: str, target: str) -> Call:
    url = f"/api/cameras/{w.camera[target]}/exports"
    return Call("POST", url, json=footage_range(w, target), ids=(str(w.camera[target]),))


def build_export_get(suffix: str) -> Build:
    def build(w: World, role: str, target: str) -> Call:
        export_id = existing_export(w, target)
        ids = (str(w.camera[target]), export_id)
        return Call("GET", f"/api/exports/{export_id}{suffix}", ids=ids)

    return build


def check_recordings(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert len(r.json()["segments"]) == 3 and len(r.json()["gaps"]) == 1


def check_playlist(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.text.startswith("#EXTM3U") and r.text.count("/api/segments/") == 3


def check_export(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["manifest"]["exported_by"]["username"] == role
    assert r.json()["camera_id"] == w.camera[target]


def check_health_list(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    ids = {c["camera_id"] for c in r.json()}
    assert all(
        c["state"] in {"offline", "online", "degraded", "disabled", "connecting"} for c in r.json()
    )
    if role == "camat":
        assert {w.camera["korumba"], w.camera["mandonga"]} <= ids
        assert w.camera["kandai"] not in ids
    elif role == "lurah":
        assert w.camera["korumba"] in ids
        assert not ids & {w.camera["mandonga"], w.camera["kandai"]}
    else:
        assert {w.camera[t] for t in REGIONS} <= ids


# incidents ----------------------------------------------------------------------------------
# A fresh incident per call (with the camera's latest frame as evidence), so every write role
# finds one in state "new"; reads use one incident per region.

_INCIDENTS: dict[tuple[int, str], str] = {}


def new_incident(w: World, target: str) -> str:
    cam = w.camera[target]
    write_latest(w.rt.settings.snapshots_dir, cam, np.zeros((24, 32, 3), np.uint8))
    now = utcnow().replace(second=0, microsecond=0)
    start = now - timedelta(minutes=int(uid(), 16) % 10**6)
    # The peak is now, so the frame just written is the evidence of the moment.
    spec = IncidentSpec("intrusion", start, None, cam, now, {"people_max": 1})
    with transaction(w.rt.sessions) as s:
        return upsert_incidents(s, [spec], evidence_taker(s, w.rt.settings, cam))[0].id


def existing_incident(w: World, target: str) -> str:
    key = (id(w.rt), target)
    if key not in _INCIDENTS:
        _INCIDENTS[key] = new_incident(w, target)
    return _INCIDENTS[key]


def build_incident_get(suffix: str) -> Build:
    def build(w: World, role: str, target: str) -> Call:
        inc = existing_incident(w, target)
        return Call("GET", f"/api/incidents/{inc}{suffix}", ids=(inc,))

    return build


def build_incident_write(verb: str, body: dict[str, Any]) -> Build:
    def build(w: World, role: str, target: str) -> Call:
        inc = new_incident(w, target)
        url = f"/api/incidents/{inc}"
        return Call("POST", f"{url}/{verb}", json=body, probe=url, ids=(inc,))

    return build


def check_incident_list(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    cams = {i["camera_id"] for i in r.json()}
    mine = {t: w.camera[t] for t in REGIONS}
    if role == "camat":
        assert mine["korumba"] in cams and mine["kandai"] not in cams
    elif role == "lurah":
        assert mine["korumba"] in cams and not cams & {mine["mandonga"], mine["kandai"]}
    else:
        assert set(mine.values()) <= cams


def build_incident_list(w: World, role: str, target: str) -> Call:
    for t in REGIONS:
        existing_incident(w, t)
    return Call("GET", "/api/incidents?state=new&limit=1000")


def check_incident(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["camera_id"] == w.camera[target] and r.json()["has_snapshot"]


def check_incident_write(state: str) -> Check:
    def check(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
        assert r.json()["state"] == state

    return check


INCIDENT_WORKERS: Expect = admin_only(200) | {"operator": 200}  # others read only

EXPORTERS: Expect = admin_only(201) | {"operator": 201}  # pimpinan, camat, lurah: read-only


# verdicts -----------------------------------------------------------------------------------
# One stored verdict per region's office on a past Monday (without observations the day is
# simply "tidak diketahui"); corrections are added to it and reads use it.

VERDICT_DAY = "2026-11-23"
_VERDICTS: dict[tuple[int, str], int] = {}


def existing_verdict(w: World, target: str) -> int:
    key = (id(w.rt), target)
    if key not in _VERDICTS:
        with transaction(w.rt.sessions) as s:
            row = recompute_verdict(
                s, w.rt.settings, w.site[target], date.fromisoformat(VERDICT_DAY)
            )
            assert row is not None
            _VERDICTS[key] = row.id
    return _VERDICTS[key]


def build_verdict_list(w: World, role: str, target: str) -> Call:
    for t in REGIONS:
        existing_verdict(w, t)
    return Call("GET", f"/api/verdicts?date={VERDICT_DAY}")


def check_verdict_list(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    rows = r.json()
    sites = {v["site_id"] for v in rows}
    if role == "camat":
        assert all(v["kecamatan_code"] == CAMAT_KEC for v in rows)
        assert {w.site["korumba"], w.site["mandonga"]} <= sites
    elif role == "lurah":
        assert all(v["kelurahan_code"] == LURAH_KEL for v in rows)
        assert w.site["korumba"] in sites
    else:
        assert {w.site[t] for t in REGIONS} <= sites


def build_verdict_get(w: World, role: str, target: str) -> Call:
    existing_verdict(w, target)
    url = f"/api/verdicts/{w.site[target]}/{VERDICT_DAY}?timeline=false"
    return Call("GET", url, ids=(str(w.site[target]),))


def check_verdict(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["site_id"] == w.site[target] and r.json()["day"] == VERDICT_DAY


def build_day_status(w: World, role: str, target: str) -> Call:
    existing_verdict(w, target)
    url = f"/api/verdicts/{w.site[target]}/{VERDICT_DAY}/status"
    return Call("GET", url, ids=(str(w.site[target]),))


def check_day_status(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["site_id"] == w.site[target] and r.json()["has_verdict"] is True


def build_correction(w: World, role: str, target: str) -> Call:
    verdict = existing_verdict(w, target)
    url = f"/api/verdicts/{w.site[target]}/{VERDICT_DAY}"
    body = {"reason": "gangguan_jaringan", "note": f"Laporan {uid()}"}
    ids = (str(w.site[target]), VERDICT_DAY, str(verdict))
    return Call("POST", f"{url}/corrections", json=body, probe=f"{url}?timeline=false", ids=ids)


def check_correction(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["correction"]["note"] == call.json["note"]
    assert r.json()["effective_status"] == "dikoreksi"


def build_recompute(w: World, role: str, target: str) -> Call:
    existing_verdict(w, "korumba")
    url = f"/api/verdicts/{w.site['korumba']}/{VERDICT_DAY}?timeline=false"
    body = {"from": VERDICT_DAY, "to": VERDICT_DAY, "site_ids": [w.site["korumba"]]}
    return Call("POST", "/api/verdicts/recompute", json=body, probe=url)


def check_recompute(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["total"] == 1 and r.json()["unchanged"] == 1


def build_report(w: World, role: str, target: str) -> Call:
    existing_verdict(w, target)
    scope = f"kelurahan:{KELURAHAN[target]}"
    return Call("GET", f"/api/reports?period={VERDICT_DAY}&scope={scope}")


def check_report(w: World, role: str, target: str, call: Call, r: httpx.Response) -> None:
    assert r.json()["scope"]["code"] == KELURAHAN[target]
    assert w.site[target] in [s["site_id"] for s in r.json()["sites"]]


MATRIX: dict[tuple[str, str], Spec] = {
    ("GET", "/api/health"): Spec(everyone(200, anon=200), get("/api/health")),
    ("POST", "/api/auth/login"): Spec(
        everyone(200, anon=200),
        lambda w, role, t: Call(
            "POST", "/api/auth/login", json={"username": _name(role), "password": PASSWORD}
        ),
        action="auth.login",
        check=check_login,
    ),
    ("POST", "/api/auth/logout"): Spec(
        everyone(204), build_logout, action="auth.logout", check=check_logout
    ),
    ("GET", "/api/auth/me"): Spec(everyone(200), get("/api/auth/me"), check=check_me),
    ("GET", "/api/kecamatan"): Spec(everyone(200), get("/api/kecamatan"), check=check_kecamatan),
    ("GET", "/api/kelurahan"): Spec(everyone(200), get("/api/kelurahan"), check=check_kelurahan),
    ("GET", "/api/sites"): Spec(
        everyone(200), get(_site_list_url), ("all", "other-kec"), check=check_site_list
    ),
    ("POST", "/api/sites"): Spec(
        admin_only(201),
        lambda w, role, t: Call("POST", "/api/sites", json=_site_body(), probe="/api/sites"),
        action="site.create",
    ),
    ("GET", "/api/sites/{site_id}"): Spec(
        scoped(200),
        lambda w, role, t: Call("GET", f"/api/sites/{w.site[t]}", ids=(str(w.site[t]),)),
        REGIONS,
        check=check_site,
    ),
    ("PATCH", "/api/sites/{site_id}"): Spec(
        admin_only(200),
        build_site_write("PATCH"),
        REGIONS,
        action="site.update",
        check=check_patched("address"),
    ),
    ("DELETE", "/api/sites/{site_id}"): Spec(
        admin_only(204), build_site_write("DELETE"), REGIONS, action="site.delete", check=gone
    ),
    ("GET", "/api/sites/{site_id}/schedule"): Spec(
        scoped(200),
        lambda w, role, t: Call(
            "GET",
            f"/api/sites/{w.site[t]}/schedule?from=2026-11-23&to=2026-11-29",
            ids=(str(w.site[t]),),
        ),
        REGIONS,
        check=check_schedule,
    ),
    ("GET", "/api/sites/{site_id}/allowed-windows"): Spec(
        scoped(200),
        lambda w, role, t: Call(
            "GET", f"/api/sites/{w.site[t]}/allowed-windows", ids=(str(w.site[t]),)
        ),
        REGIONS,
        check=check_windows,
    ),
    ("PUT", "/api/sites/{site_id}/allowed-windows"): Spec(
        admin_only(200),
        build_windows_put,
        REGIONS,
        action="site.allowed_windows.update",
        check=check_windows_put,
    ),
    ("GET", "/api/cameras"): Spec(
        everyone(200)
        | {
            "camat": {"all": 200, "korumba": 200, "mandonga": 200, "kandai": 403},
            "lurah": {"all": 200, "korumba": 200, "mandonga": 403, "kandai": 403},
        },
        lambda w, role, t: Call(
            "GET", _camera_list_url(w, t), ids=(str(w.site[t]),) if t in REGIONS else ()
        ),
        ("all", *REGIONS),
        check=check_camera_list,
    ),
    ("POST", "/api/cameras"): Spec(
        admin_only(201),
        lambda w, role, t: Call(
            "POST", "/api/cameras", json=_camera_body(w, t), probe="/api/cameras"
        ),
        REGIONS,
        action="camera.create",
    ),
    ("GET", "/api/cameras/{camera_id}"): Spec(
        scoped(200),
        lambda w, role, t: Call("GET", f"/api/cameras/{w.camera[t]}", ids=(str(w.camera[t]),)),
        REGIONS,
        check=check_camera,
    ),
    ("PATCH", "/api/cameras/{camera_id}"): Spec(
        admin_only(200),
        build_camera_write("PATCH"),
        REGIONS,
        action="camera.update",
        check=check_patched("purpose"),
    ),
    ("DELETE", "/api/cameras/{camera_id}"): Spec(
        admin_only(204), build_camera_write("DELETE"), REGIONS, action="camera.delete", check=gone
    ),
    ("GET", "/api/calendars"): Spec(city_readers(200), get("/api/calendars")),
    ("POST", "/api/calendars"): Spec(
        admin_only(201),
        lambda w, role, t: Call(
            "POST",
            "/api/calendars",
            json={"name": f"Kalender {uid()}", "parent_id": w.city_calendar},
            probe="/api/calendars",
        ),
        action="calendar.create",
    ),
    ("GET", "/api/calendars/{calendar_id}"): Spec(
        city_readers(200),
        lambda w, role, t: Call(
            "GET", f"/api/calendars/{w.city_calendar}", ids=(str(w.city_calendar),)
        ),
    ),
    ("PATCH", "/api/calendars/{calendar_id}"): Spec(
        admin_only(200),
        build_calendar_write("PATCH"),
        action="calendar.update",
        check=check_patched("use_national_holidays"),
    ),
    ("DELETE", "/api/calendars/{calendar_id}"): Spec(
        admin_only(204), build_calendar_write("DELETE"), action="calendar.delete", check=gone
    ),
    ("POST", "/api/calendars/{calendar_id}/rules"): Spec(
        admin_only(201), build_add_rule, action="calendar.rule.create"
    ),
    ("DELETE", "/api/calendars/{calendar_id}/rules/{rule_id}"): Spec(
        admin_only(204), build_delete_rule, action="calendar.rule.delete", check=rule_gone
    ),
    ("GET", "/api/users"): Spec(admin_only(200), get("/api/users"), check=check_user_list),
    ("POST", "/api/users"): Spec(
        admin_only(201),
        lambda w, role, t: Call(
            "POST",
            "/api/users",
            json={"username": f"u-{uid()}", "password": PASSWORD, "role": "pimpinan"},
            probe="/api/users",
        ),
        action="user.create",
    ),
    ("PATCH", "/api/users/{user_id}"): Spec(
        admin_only(200),
        lambda w, role, t: Call(
            "PATCH",
            f"/api/users/{w.spare_user}",
            json={"full_name": f"Nama {uid()}"},
            probe="/api/users",
            ids=(str(w.spare_user),),
        ),
        action="user.update",
        check=check_patched("full_name"),
    ),
    ("GET", "/api/audit"): Spec(admin_only(200), get("/api/audit?limit=5")),
    ("GET", "/api/health/cameras"): Spec(
        everyone(200), get("/api/health/cameras"), check=check_health_list
    ),
    ("GET", "/api/cameras/{camera_id}/health"): Spec(
        scoped(200),
        lambda w, role, t: Call(
            "GET", f"/api/cameras/{w.camera[t]}/health", ids=(str(w.camera[t]),)
        ),
        REGIONS,
    ),
    ("GET", "/api/cameras/{camera_id}/recordings"): Spec(
        scoped(200), build_recordings_get("recordings"), REGIONS, check=check_recordings
    ),
    ("GET", "/api/cameras/{camera_id}/playlist.m3u8"): Spec(
        scoped(200),
        build_recordings_get("playlist.m3u8"),
        REGIONS,
        action="recording.playback",
        check=check_playlist,
    ),
    # signed URL instead of a session (see PUBLIC); bad signatures are tested in test_playback
    ("GET", "/api/segments/{segment_id}.ts"): Spec(everyone(200, anon=200), build_segment),
    ("GET", "/api/cameras/{camera_id}/snapshot.jpg"): Spec(scoped(200), build_snapshot, REGIONS),
    ("POST", "/api/cameras/{camera_id}/exports"): Spec(
        EXPORTERS, build_export, REGIONS, action="recording.export", check=check_export
    ),
    ("GET", "/api/exports/{export_id}"): Spec(scoped(200), build_export_get(""), REGIONS),
    ("GET", "/api/exports/{export_id}/clip.mp4"): Spec(
        scoped(200),
        build_export_get("/clip.mp4"),
        REGIONS,
        action="recording.export.download",
    ),
    ("GET", "/api/exports/{export_id}/manifest.json"): Spec(
        scoped(200),
        build_export_get("/manifest.json"),
        REGIONS,
        action="recording.export.download",
    ),
    ("POST", "/api/recordings/retention"): Spec(
        admin_only(200),
        lambda w, role, t: Call("POST", "/api/recordings/retention"),
        action="recording.retention",
    ),
    ("GET", "/api/incidents"): Spec(everyone(200), build_incident_list, check=check_incident_list),
    ("GET", "/api/incidents/{incident_id}"): Spec(
        scoped(200), build_incident_get(""), REGIONS, check=check_incident
    ),
    ("GET", "/api/incidents/{incident_id}/snapshot.jpg"): Spec(
        scoped(200), build_incident_get("/snapshot.jpg"), REGIONS
    ),
    ("POST", "/api/incidents/{incident_id}/acknowledge"): Spec(
        INCIDENT_WORKERS,
        build_incident_write("acknowledge", {"note": "dicek lewat HT"}),
        REGIONS,
        action="incident.acknowledge",
        check=check_incident_write("acknowledged"),
    ),
    ("POST", "/api/incidents/{incident_id}/assign"): Spec(
        INCIDENT_WORKERS,
        build_incident_write("assign", {"assignee": "Satpol PP"}),
        REGIONS,
        action="incident.assign",
        check=check_incident_write("new"),
    ),
    ("POST", "/api/incidents/{incident_id}/resolve"): Spec(
        INCIDENT_WORKERS,
        build_incident_write("resolve", {"note": "sudah ditangani"}),
        REGIONS,
        action="incident.resolve",
        check=check_incident_write("resolved"),
    ),
    ("GET", "/api/verdicts"): Spec(everyone(200), build_verdict_list, check=check_verdict_list),
    ("GET", "/api/verdicts/{site_id}/{day}"): Spec(
        scoped(200), build_verdict_get, REGIONS, check=check_verdict
    ),
    ("GET", "/api/verdicts/{site_id}/{day}/status"): Spec(
        scoped(200), build_day_status, REGIONS, check=check_day_status
    ),
    ("POST", "/api/verdicts/{site_id}/{day}/corrections"): Spec(
        admin_only(201),
        build_correction,
        REGIONS,
        action="verdict.correction.create",
        check=check_correction,
    ),
    ("POST", "/api/verdicts/recompute"): Spec(
        admin_only(200), build_recompute, action="verdict.recompute", check=check_recompute
    ),
    ("GET", "/api/reports"): Spec(scoped(200), build_report, REGIONS, check=check_report),
    ("GET", "/api/events"): Spec(
        everyone(200),
        lambda w, role, target: Call("GET", "/api/events?max_seconds=0.3"),
        check=check_events,
    ),
}


def _area_entries() -> dict[tuple[str, str], Spec]:
    """Entries for routes of other areas (the UI's), one module each in tests/scope/, so that
    areas built side by side do not edit this file: `entries(m)` gets this module."""
    import importlib
    import pkgutil
    import sys

    import tests.scope

    out: dict[tuple[str, str], Spec] = {}
    for info in sorted(pkgutil.iter_modules(tests.scope.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"tests.scope.{info.name}")
        for route, spec in module.entries(sys.modules[__name__]).items():
            assert route not in MATRIX and route not in out, f"{route} defined twice"
            out[route] = spec
    return out


MATRIX.update(_area_entries())


def expected(spec: Spec, role: str, target: str) -> int:
    e = spec.expect[role]
    return e[target] if isinstance(e, dict) else e


def send(w: World, role: str, call: Call) -> httpx.Response:
    w.client.cookies.clear()  # the login fixture leaves a session cookie in the shared client
    token = call.token or (None if role == "anon" else w.tokens[role])
    headers = bearer(token) if token else {}
    return w.client.request(call.method, call.url, json=call.json, headers=headers)


def probe(w: World, call: Call) -> Any:
    return w.admin("GET", call.probe).json() if call.probe else None


def assert_audited(
    w: World,
    before: int,
    *,
    action: str | None,
    actor: str,
    outcome: str,
    ids: tuple[str, ...] = (),
) -> AuditEntry:
    """The newest audit row since `before` with this actor and outcome (and action if given)."""
    rows = [
        r
        for r in audit_after(w.rt, before)
        if action in (None, r.action) and r.actor == actor and r.outcome == outcome
    ]
    assert rows, (
        f"no audit row {action!r} by {actor!r} with outcome {outcome!r}; new rows: "
        f"{[(r.action, r.actor, r.outcome) for r in audit_after(w.rt, before)]}"
    )
    row = rows[-1]
    if ids:
        assert row.object_id in ids, f"audit row names object {row.object_id}, expected {ids}"
    return row


# --- tests ---------------------------------------------------------------------------------


def test_route_discovery_sees_included_routers() -> None:
    found = set(ROUTES)
    assert ("GET", "/api/health") in found  # declared on the app
    assert ("GET", "/api/sites/{site_id}") in found  # declared on an included router
    assert len(found) >= 25


def test_matrix_covers_every_route(client: TestClient) -> None:
    routes = discover_routes(client.app)  # type: ignore[arg-type]
    assert routes == set(ROUTES)
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing, f"routes without a role-scope matrix entry: {missing}"
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"
    # The published schema lists the same operations (nothing hidden from the matrix).
    schema = client.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert documented == routes


@pytest.mark.parametrize("route", list(MATRIX), ids=route_id)
def test_matrix_entry_is_complete(route: tuple[str, str]) -> None:
    spec = MATRIX[route]
    assert set(spec.expect) == set(ROLES), "every role needs an expectation"
    for role, e in spec.expect.items():
        if isinstance(e, dict):
            assert set(e) == set(spec.targets), f"{role}: expectations for {spec.targets}"
    expect_anon = 200 if route in PUBLIC else 401
    assert spec.expect["anon"] == expect_anon
    if route[0] != "GET":
        assert spec.action, "a write route must name the audit action it records"


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_role_scope_matrix(world: World, route: tuple[str, str]) -> None:
    spec = MATRIX.get(route)
    if spec is None:
        pytest.fail(f"{route_id(route)} has no entry in MATRIX: add one for every role")
    failures = []
    for role in ROLES:
        for target in spec.targets:
            call = spec.build(world, role, target)
            want = expected(spec, role, target)
            before_state = probe(world, call) if want >= 400 else None
            before = last_audit_id(world.rt)
            r = send(world, role, call)
            where = f"{role} {call.method} {call.url} ({target})"
            if r.status_code != want:
                failures.append(f"{where}: expected {want}, got {r.status_code} {r.text[:200]}")
                continue
            if want >= 400:
                body = r.json()
                assert body["error"] == {401: "unauthorized", 403: "forbidden"}[want], where
                assert body["message"], where
                assert probe(world, call) == before_state, f"{where}: refused but changed"
            if want == 403:
                row = assert_audited(
                    world,
                    before,
                    action=None,
                    actor=role,
                    outcome="denied",
                    ids=call.ids,
                )
                assert row.user_id == world.user_ids[role], where
                assert row.detail["method"] == call.method, where
                assert row.detail["path"] == call.url.split("?")[0], where
            if want == 401:
                assert not [a for a in audit_after(world.rt, before) if a.outcome == "ok"], where
            if r.is_success and spec.action:
                assert_audited(world, before, action=spec.action, actor=_name(role), outcome="ok")
            if r.is_success and spec.check:
                spec.check(world, role, target, call, r)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("route", sorted(set(ROUTES) - PUBLIC), ids=route_id)
def test_anonymous_gets_401(client: TestClient, route: tuple[str, str]) -> None:
    """Generic: any route but health and login, with any ids, wants a session first."""
    method, path = route
    client.cookies.clear()
    r = client.request(method, re.sub(r"\{[^}]+\}", "1", path), json={})
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "unauthorized"


def _action_prefix(path: str) -> str:
    """/api/calendars/{id}/rules -> "calendar." : the resource an action must be named after."""
    return path.split("/")[2].removesuffix("s") + "."


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=route_id)
def test_every_write_is_audited(world: World, route: tuple[str, str]) -> None:
    """A successful write by an admin leaves an "ok" audit row naming the action and object."""
    spec = MATRIX.get(route)
    if spec is None or spec.action is None:
        pytest.fail(f"{route_id(route)}: no way to call it successfully; add it to MATRIX")
    method, path = route
    assert spec.action.startswith(ACTION_PREFIX.get(route, _action_prefix(path))), spec.action
    verb = {"PATCH": ".update", "DELETE": ".delete"}.get(method)
    if verb:
        assert spec.action.endswith(verb), spec.action
    call = spec.build(world, "admin", spec.targets[0])
    before = last_audit_id(world.rt)
    r = send(world, "admin", call)
    assert r.is_success, r.text
    created = (r.json().get("id"),) if r.content and isinstance(r.json(), dict) else ()
    ids = tuple(re.findall(r"/(\d+)", call.url)) + tuple(str(i) for i in created if i)
    row = assert_audited(world, before, action=spec.action, actor="admin", outcome="ok")
    assert row.user_id == world.user_ids["admin"]
    if ids and not path.startswith("/api/auth/"):
        assert row.object_id in ids, f"audit names {row.object_type} {row.object_id}, not {ids}"
        assert row.object_type and _action_prefix(path).startswith(row.object_type)
    assert row.at is not None and row.ip
