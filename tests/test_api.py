"""REST API behaviour: sessions, CRUD, validation errors, secrets and the audit trail.

Runs on both backends against the shared seeded database, so every object a test creates
gets a uuid suffix and no test relies on global counts it did not create itself. Role and
scope rules for every endpoint are in test_scope_matrix.py.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from pantau.runtime import Runtime
from pantau.store.models import AuditEntry, AuthSession, Camera, User
from pantau.store.types import utcnow
from tests.conftest import PASSWORD

Api = Callable[..., httpx.Response]
CITY = "Kota Kendari"
KORUMBA, MANDONGA_KEC = "74.71.01.1006", "74.71.01"


def uid() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def api(client: TestClient, auth: Callable[[str], dict[str, str]]) -> Api:
    """api("GET", url, role="admin", **httpx kwargs); role=None sends no credentials.

    Cookies are cleared first: logging in (the `tokens` fixture does) leaves a session cookie
    in the shared client, which would otherwise authenticate "anonymous" requests.
    """

    def call(method: str, url: str, role: str | None = "admin", **kw: Any) -> httpx.Response:
        client.cookies.clear()
        headers = (auth(role) if role else {}) | kw.pop("headers", {})
        return client.request(method, url, headers=headers, **kw)

    return call


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json() if r.content else None


def error(r: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The JSON error body; checks the status, the shape, and the field at fault if given."""
    assert r.status_code == status, f"{r.status_code} {r.text}"
    body = r.json()
    assert set(body) <= {"error", "message", "fields"} and body["error"] and body["message"]
    if field is not None:
        assert field in [f["field"] for f in body.get("fields", [])], body
    return body


def last_audit_id(rt: Runtime) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.max(AuditEntry.id))) or 0


def audit_after(rt: Runtime, after: int, **match: Any) -> list[AuditEntry]:
    with rt.sessions() as s:
        query = select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)
        for key, value in match.items():
            query = query.where(getattr(AuditEntry, key) == value)
        return list(s.scalars(query))


def login(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    client.cookies.clear()
    return client.post("/api/auth/login", json={"username": username, "password": password})


def token_of(client: TestClient, username: str, password: str = PASSWORD) -> str:
    r = login(client, username, password)
    client.cookies.clear()
    return ok(r)["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_site(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"kind": "kantor_opd", "name": f"Kantor Uji {uid()}", "kecamatan_code": "74.71.02"}
    return ok(api("POST", "/api/sites", json=body | fields), 201)


def new_camera(api: Api, site_id: int, **fields: Any) -> dict[str, Any]:
    body = {
        "site_id": site_id,
        "name": f"cam-{uid()}",
        "purpose": "keamanan kantor",
        "main_stream": "rtsp://10.1.2.3/stream",
    }
    return ok(api("POST", "/api/cameras", json=body | fields), 201)


def new_user(api: Api, role: str = "operator", **fields: Any) -> dict[str, Any]:
    body = {"username": f"u-{uid()}", "password": PASSWORD, "role": role}
    return ok(api("POST", "/api/users", json=body | fields), 201)


def city_calendar(api: Api) -> dict[str, Any]:
    return next(c for c in ok(api("GET", "/api/calendars")) if c["name"] == CITY)


def all_keys(obj: Any) -> Iterator[str]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield key
            yield from all_keys(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from all_keys(item)


# --- health and OpenAPI --------------------------------------------------------------------


def test_health_needs_no_login(api: Api) -> None:
    body = ok(api("GET", "/api/health", role=None))
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["sites"] >= 65 and body["schema_revision"]
    day, hhmm, zone = body["time_local"].split(" ")
    assert zone == "WITA" and len(day) == 10 and len(hhmm) == 5 and hhmm[2] == "."


def test_openapi_and_docs(api: Api) -> None:
    schema = ok(api("GET", "/openapi.json", role=None))
    assert schema["info"]["title"] == "Pantau"
    assert {"/api/sites/{site_id}", "/api/cameras", "/api/audit"} <= set(schema["paths"])
    models = schema["components"]["schemas"]
    assert "password" in models["CameraIn"]["properties"]  # write-only ...
    assert "password" not in models["CameraOut"]["properties"]  # ... never read back
    assert "password" not in models["UserOut"]["properties"]
    docs = api("GET", "/docs", role=None)
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert "swagger" in docs.text.lower() and "/openapi.json" in docs.text


def test_unknown_route_and_method_are_json(api: Api) -> None:
    assert error(api("GET", "/api/nope"), 404)["error"] == "not_found"
    assert error(api("PUT", "/api/sites"), 405)["error"] == "method_not_allowed"


# --- login, sessions, logout ---------------------------------------------------------------


def test_login_returns_a_working_token_and_cookie(client: TestClient, api: Api) -> None:
    r = login(client, "pimpinan")
    body = ok(r)
    assert body["user"] == {
        "id": body["user"]["id"],
        "username": "pimpinan",
        "full_name": "Pimpinan",
        "role": "pimpinan",
        "scope_code": None,
        "active": True,
    }
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert timedelta(hours=11) < expires - datetime.now(UTC) <= timedelta(hours=12)
    assert "httponly" in r.headers["set-cookie"].lower()
    # The cookie alone authenticates (browser UI) ...
    assert ok(client.get("/api/auth/me"))["username"] == "pimpinan"
    # ... and so does the bearer token alone.
    client.cookies.clear()
    assert ok(client.get("/api/auth/me", headers=bearer(body["token"])))["username"] == "pimpinan"
    # The database keeps only a hash of the token.
    with client.app.state.runtime.sessions() as s:  # type: ignore[attr-defined]
        assert s.get(AuthSession, body["token"]) is None
        assert s.get(AuthSession, hashlib.sha256(body["token"].encode()).hexdigest())


def test_wrong_password_is_401_and_audited(
    client: TestClient, shared_runtime: Runtime, api: Api
) -> None:
    before = last_audit_id(shared_runtime)
    r = login(client, "admin", "salah-sandi-123")
    body = error(r, 401)
    assert body["message"] == "wrong username or password"
    assert "set-cookie" not in r.headers
    rows = audit_after(shared_runtime, before, action="auth.login")
    assert [(a.actor, a.outcome) for a in rows] == [("admin", "denied")]
    # An unknown user gets the same answer (no user enumeration) and is audited by name.
    ghost = f"ghost-{uid()}"
    assert error(login(client, ghost), 401)["message"] == body["message"]
    assert audit_after(shared_runtime, before, actor=ghost)[0].outcome == "denied"


def test_unknown_user_costs_a_hash_check_too(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same work for unknown and known names: response time does not reveal which exist."""
    import pantau.web.routes.auth as auth_routes

    calls: list[str] = []
    real = auth_routes.verify_password

    def spy(stored: str, password: str) -> bool:
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(auth_routes, "verify_password", spy)
    assert login(client, f"ghost-{uid()}").status_code == 401
    assert login(client, "operator", "salah-sandi-123").status_code == 401
    assert len(calls) == 2 and all(c.startswith("$argon2id$") for c in calls)


def test_login_validation(api: Api) -> None:
    error(
        api("POST", "/api/auth/login", role=None, json={"username": "admin"}), 422, "body.password"
    )
    r = api("POST", "/api/auth/login", role=None, json={"username": "admin", "password": 123})
    error(r, 422, "body.password")


def test_logout_revokes_only_that_token(
    client: TestClient, shared_runtime: Runtime, api: Api
) -> None:
    token = token_of(client, "admin")
    before = last_audit_id(shared_runtime)
    assert api("POST", "/api/auth/logout", role=None, headers=bearer(token)).status_code == 204
    assert [a.outcome for a in audit_after(shared_runtime, before, action="auth.logout")] == ["ok"]
    assert error(api("GET", "/api/auth/me", role=None, headers=bearer(token)), 401)
    assert error(api("POST", "/api/auth/logout", role=None, headers=bearer(token)), 401)
    assert ok(api("GET", "/api/auth/me"))["username"] == "admin"  # the shared session lives


def test_logout_with_cookie(client: TestClient) -> None:
    token = ok(login(client, "operator"))["token"]  # leaves the cookie in the client
    r = client.post("/api/auth/logout")
    assert r.status_code == 204
    assert (
        'pantau_session=""' in r.headers["set-cookie"]
        or "max-age=0" in r.headers["set-cookie"].lower()
    )
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401


def test_logout_revokes_the_token_that_authenticated(client: TestClient) -> None:
    """A cookie session with an unrelated Authorization header still logs out the cookie."""
    token = ok(login(client, "operator"))["token"]
    r = client.post("/api/auth/logout", headers={"Authorization": "Basic b3A6eA=="})
    assert r.status_code == 204
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401


def test_expired_session_is_401(client: TestClient, shared_runtime: Runtime, api: Api) -> None:
    token = token_of(client, "operator")
    assert ok(api("GET", "/api/auth/me", role=None, headers=bearer(token)))
    with shared_runtime.sessions() as s, s.begin():
        row = s.get(AuthSession, hashlib.sha256(token.encode()).hexdigest())
        assert row is not None
        row.expires_at = utcnow() - timedelta(minutes=1)
    body = error(api("GET", "/api/auth/me", role=None, headers=bearer(token)), 401)
    assert "expired" in body["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer forged-token-abc123"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWRtaW46cmFoYXNpYS0xMjM="},
        {"Cookie": "pantau_session=forged"},
        {},
    ],
    ids=["forged", "empty", "basic", "forged-cookie", "none"],
)
def test_bad_credentials_are_401(api: Api, headers: dict[str, str]) -> None:
    assert error(api("GET", "/api/sites", role=None, headers=headers), 401)["error"] == (
        "unauthorized"
    )


def test_disabled_user_token_is_401(client: TestClient, shared_runtime: Runtime, api: Api) -> None:
    user = new_user(api)
    token = token_of(client, user["username"])
    assert ok(api("GET", "/api/sites", role=None, headers=bearer(token)))
    ok(api("PATCH", f"/api/users/{user['id']}", json={"active": False}))
    assert error(api("GET", "/api/sites", role=None, headers=bearer(token)), 401)
    assert error(login(client, user["username"]), 401)
    client.cookies.clear()
    # Disabled directly in the database (no session revoked): still refused.
    ok(api("PATCH", f"/api/users/{user['id']}", json={"active": True}))
    token = token_of(client, user["username"])
    with shared_runtime.sessions() as s, s.begin():
        s.get(User, user["id"]).active = False  # type: ignore[union-attr]
    body = error(api("GET", "/api/sites", role=None, headers=bearer(token)), 401)
    assert "disabled" in body["message"]


def test_role_change_and_password_change_end_sessions(client: TestClient, api: Api) -> None:
    user = new_user(api)
    token = token_of(client, user["username"])
    ok(api("PATCH", f"/api/users/{user['id']}", json={"role": "camat", "scope_code": "74.71.01"}))
    assert error(api("GET", "/api/auth/me", role=None, headers=bearer(token)), 401)
    token = token_of(client, user["username"])
    sites = ok(api("GET", "/api/sites", role=None, headers=bearer(token)))
    assert sites and all(s["kecamatan_code"] == MANDONGA_KEC for s in sites)
    ok(api("PATCH", f"/api/users/{user['id']}", json={"password": "sandi-baru-456"}))
    assert error(api("GET", "/api/auth/me", role=None, headers=bearer(token)), 401)
    assert error(login(client, user["username"]), 401)
    assert ok(login(client, user["username"], "sandi-baru-456"))["user"]["role"] == "camat"
    client.cookies.clear()


# --- sites ---------------------------------------------------------------------------------


def test_site_crud(api: Api, shared_runtime: Runtime) -> None:
    before = last_audit_id(shared_runtime)
    name = f"Dinas Perhubungan {uid()}"
    site = ok(
        api(
            "POST",
            "/api/sites",
            json={"kind": "kantor_opd", "name": name, "kecamatan_code": "74.71.02", "lat": -3.97},
        ),
        201,
    )
    assert site["slug"] == name.lower().replace(" ", "-")
    assert site["kecamatan_code"] == "74.71.02" and site["kecamatan_name"] == "Kendari"
    assert site["kelurahan_code"] is None and site["camera_count"] == 0
    assert site["connectivity"] == "planned" and site["calendar_id"] is None
    url = f"/api/sites/{site['id']}"
    assert ok(api("GET", url)) == site
    created = audit_after(shared_runtime, before, action="site.create")
    assert [(a.actor, a.object_type, a.object_id) for a in created] == [
        ("admin", "site", str(site["id"]))
    ]
    assert created[0].detail["name"] == name

    patched = ok(api("PATCH", url, json={"address": "Jl. Saranani No. 1", "lon": 122.5}))
    assert patched["address"] == "Jl. Saranani No. 1" and patched["lon"] == 122.5
    assert patched["name"] == name and patched["lat"] == -3.97  # untouched fields kept
    moved = ok(api("PATCH", url, json={"kelurahan_code": KORUMBA}))
    assert (moved["kelurahan_code"], moved["kecamatan_code"]) == (KORUMBA, MANDONGA_KEC)
    assert site["id"] in {s["id"] for s in ok(api("GET", "/api/sites", role="lurah"))}
    assert audit_after(shared_runtime, before, action="site.update", object_id=str(site["id"]))

    assert api("DELETE", url).status_code == 204
    assert audit_after(shared_runtime, before, action="site.delete", object_id=str(site["id"]))
    assert str(site["id"]) in error(api("GET", url), 404)["message"]
    assert error(api("DELETE", url), 404)


def test_site_allowed_windows(api: Api, shared_runtime: Runtime) -> None:
    site = new_site(api)
    url = f"/api/sites/{site['id']}/allowed-windows"
    assert ok(api("GET", url)) == {
        "site_id": site["id"],
        "timezone": "WITA",
        "windows": [],
        "margins": {"before_minutes": 90, "after_minutes": 60},
    }
    before = last_audit_id(shared_runtime)
    windows = [
        {"days": None, "from": "21:45", "to": "22.15", "note": "ronda satpam"},
        {"days": ["Sat", "fri"], "from": "23.30", "to": "00.30", "note": ""},  # crosses midnight
    ]
    stored = ok(api("PUT", url, json={"windows": windows}))["windows"]
    assert stored == [
        {"days": None, "from": "21.45", "to": "22.15", "note": "ronda satpam"},
        {"days": ["fri", "sat"], "from": "23.30", "to": "00.30", "note": ""},
    ]
    assert ok(api("GET", url, role="operator"))["windows"] == stored
    [row] = audit_after(shared_runtime, before, action="site.allowed_windows.update")
    assert (row.actor, row.object_id) == ("admin", str(site["id"]))
    assert row.detail == {"before": [], "after": stored}

    # Bad input names the field and changes nothing.
    for bad, field in (
        ({"from": "21.45", "to": "24.10"}, "body.windows[0].to"),
        ({"from": "7", "to": "08.00"}, "body.windows[0].from"),
        ({"from": "21.45", "to": "21.45"}, "body.windows[0].to"),
        ({"days": ["minggu"], "from": "21.45", "to": "22.15"}, "body.windows[0].days"),
        ({"from": "21.45", "to": "22.15", "note": "x" * 121}, "body.windows[0].note"),
    ):
        error(api("PUT", url, json={"windows": [bad]}), 422, field)
    error(api("PUT", url, json={"windows": [windows[0]] * 21}), 422, "body.windows")
    error(api("PUT", url, json=windows), 422)  # a bare list, not {"windows": [...]}
    assert ok(api("GET", url))["windows"] == stored
    assert ok(api("PUT", url, json={"windows": []}))["windows"] == []


def test_site_kelurahan_office_and_codes(api: Api) -> None:
    office = new_site(api, kind="kantor_kelurahan", kelurahan_code=KORUMBA, kecamatan_code=None)
    assert office["kecamatan_code"] == MANDONGA_KEC  # derived from the kelurahan code
    r = api("POST", "/api/sites", json={"kind": "kantor_kelurahan", "name": f"Kantor {uid()}"})
    assert "kelurahan_code" in error(r, 422, "kelurahan_code")["message"]
    body = {"kind": "kantor_opd", "name": f"Kantor {uid()}"}
    r = api("POST", "/api/sites", json=body | {"kelurahan_code": "74.71.1.5"})
    assert "pattern" in error(r, 422, "kelurahan_code")["message"]
    r = api("POST", "/api/sites", json=body | {"kecamatan_code": "74.71.1"})
    assert "pattern" in error(r, 422, "kecamatan_code")["message"]
    # A malformed kecamatan is blamed on the kecamatan, even with a valid kelurahan.
    r = api("POST", "/api/sites", json=body | {"kecamatan_code": "7471", "kelurahan_code": KORUMBA})
    error(r, 422, "kecamatan_code")
    r = api(
        "POST", "/api/sites", json=body | {"kelurahan_code": KORUMBA, "kecamatan_code": "74.71.02"}
    )
    assert "does not belong" in error(r, 422, "kelurahan_code")["message"]
    r = api("POST", "/api/sites", json=body | {"kelurahan_code": "74.71.01.1999"})
    assert "region table" in error(r, 422, "kelurahan_code")["message"]
    r = api("POST", "/api/sites", json=body | {"kecamatan_code": "74.71.99"})
    assert "region table" in error(r, 422, "kecamatan_code")["message"]
    # A kantor kelurahan cannot lose its kelurahan; NOT NULL columns cannot be nulled.
    url = f"/api/sites/{office['id']}"
    error(api("PATCH", url, json={"kelurahan_code": None}), 422, "kelurahan_code")
    error(api("PATCH", url, json={"name": None}), 422, "name")
    error(api("PATCH", url, json={"connectivity": None}), 422, "connectivity")
    error(api("PATCH", url, json={"kelurahan_code": "74.71.1.5"}), 422, "kelurahan_code")
    error(api("PATCH", url, json={"calendar_id": 987654}), 422, "calendar_id")
    assert ok(api("GET", url)) == office  # nothing of the refused patches stuck


def test_site_duplicate_slug_is_409(api: Api) -> None:
    slug = f"posko-{uid()}"
    new_site(api, slug=slug)
    r = api("POST", "/api/sites", json={"kind": "ruang_publik", "name": "Taman Kota", "slug": slug})
    assert slug in error(r, 409, "slug")["message"]
    name = f"Posko Terpadu {uid()}"
    new_site(api, name=name)
    error(api("POST", "/api/sites", json={"kind": "kantor_opd", "name": name}), 409, "slug")
    error(api("POST", "/api/sites", json={"kind": "kantor_opd", "name": "ABC", "slug": "A B"}), 422)


def test_site_list_filters(api: Api) -> None:
    rows = ok(
        api("GET", "/api/sites", params={"kecamatan": "74.71.02", "kind": "kantor_kelurahan"})
    )
    assert rows and all(s["kecamatan_code"] == "74.71.02" for s in rows)
    assert all(s["kind"] == "kantor_kelurahan" for s in rows)
    # Spelling-forgiving search: Kasilampe finds Kassilampe.
    names = [s["name"] for s in ok(api("GET", "/api/sites", params={"q": "Kasilampe"}))]
    assert "Kantor Kelurahan Kassilampe" in names
    error(api("GET", "/api/sites", params={"kind": "istana"}), 422, "query.kind")


def test_regions(api: Api) -> None:
    kec = ok(api("GET", "/api/kecamatan"))
    assert len(kec) == 11 and {"code": "74.71.01", "name": "Mandonga"} in kec
    kel = ok(api("GET", "/api/kelurahan"))
    assert len(kel) == 65 and all(k["code"].startswith(k["kecamatan_code"] + ".") for k in kel)


# --- cameras -------------------------------------------------------------------------------


def test_camera_password_never_stored_or_returned(api: Api, shared_runtime: Runtime) -> None:
    site = new_site(api)
    before = last_audit_id(shared_runtime)
    cam = new_camera(api, site["id"], main_stream="rtsp://user:secret@10.1.2.3/stream")
    assert cam["main_stream"] == "rtsp://user@10.1.2.3/stream"
    assert cam["username"] == "user" and cam["has_password"] is True
    url = f"/api/cameras/{cam['id']}"
    responses = [
        cam,
        ok(api("GET", url)),
        ok(api("GET", "/api/cameras", params={"site_id": site["id"]})),
        ok(api("GET", "/api/cameras")),
    ]
    for body in responses:
        assert "secret" not in json.dumps(body)
        assert "password" not in set(all_keys(body))

    with shared_runtime.sessions() as s:
        row = s.get(Camera, cam["id"])
        assert row is not None and row.password_enc is not None
        assert b"secret" not in row.password_enc and "secret" not in row.main_stream
        assert shared_runtime.secrets.decrypt(row.password_enc) == "secret"

    # A password set through the write-only field, and then cleared.
    patched = ok(api("PATCH", url, json={"password": "kata-sandi-baru"}))
    assert patched["has_password"] is True and "kata-sandi-baru" not in json.dumps(patched)
    assert "password" not in set(all_keys(patched))
    with shared_runtime.sessions() as s:
        enc = s.get(Camera, cam["id"]).password_enc  # type: ignore[union-attr]
        assert enc and shared_runtime.secrets.decrypt(enc) == "kata-sandi-baru"
    ok(api("PATCH", url, json={"main_stream": "rtsp://user:secret2@10.1.2.4/stream"}))

    # Nor does the audit trail keep a password, neither from the URL nor from the field.
    rows = audit_after(shared_runtime, before, object_type="camera", object_id=str(cam["id"]))
    assert [a.action for a in rows] == ["camera.create", "camera.update", "camera.update"]
    stored = json.dumps([a.detail for a in rows])
    assert "secret" not in stored and "kata-sandi-baru" not in stored
    assert rows[1].detail["password"] == "***"
    listed = api("GET", "/api/audit", params={"action": "camera."}).text
    assert "secret" not in listed and "kata-sandi-baru" not in listed

    cleared = ok(api("PATCH", url, json={"password": None}))
    assert cleared["has_password"] is False


def test_camera_crud(api: Api, shared_runtime: Runtime) -> None:
    site = new_site(api)
    zone = {"name": "pintu", "points": [[0.1, 0.1], [0.9, 0.1], [0.5, 0.8]]}
    cam = new_camera(api, site["id"], sub_stream="rtsp://10.1.2.3/sub", zones=[zone])
    assert cam["zones"] == [zone] and cam["enabled"] is True and cam["site_id"] == site["id"]
    assert ok(api("GET", f"/api/sites/{site['id']}"))["camera_count"] == 1
    url = f"/api/cameras/{cam['id']}"
    patched = ok(api("PATCH", url, json={"enabled": False, "name": "Pintu Depan"}))
    assert (patched["enabled"], patched["name"]) == (False, "Pintu Depan")
    assert patched["main_stream"] == cam["main_stream"]
    error(api("PATCH", url, json={"main_stream": None}), 422, "main_stream")
    assert api("DELETE", url).status_code == 204
    assert "camera" in error(api("GET", url), 404)["message"]
    # Deleting a site takes its cameras with it.
    other = new_camera(api, site["id"])
    assert api("DELETE", f"/api/sites/{site['id']}").status_code == 204
    error(api("GET", f"/api/cameras/{other['id']}"), 404)


@pytest.mark.parametrize("scheme", ["rtsp", "rtsps", "http", "https"])
def test_camera_accepted_schemes(api: Api, scheme: str) -> None:
    site = new_site(api)
    assert new_camera(api, site["id"], main_stream=f"{scheme}://10.1.2.3/s")["main_stream"]


def test_camera_bad_input(api: Api) -> None:
    site = new_site(api)
    base = {
        "site_id": site["id"],
        "name": f"cam-{uid()}",
        "purpose": "keamanan kantor",
        "main_stream": "rtsp://10.1.2.3/stream",
    }
    r = api("POST", "/api/cameras", json=base | {"main_stream": "ftp://user:secret@10.1.2.3/x"})
    body = error(r, 422, "main_stream")
    assert "scheme" in body["message"] and "secret" not in r.text
    error(api("POST", "/api/cameras", json=base | {"sub_stream": "smb://nas/x"}), 422, "sub_stream")
    error(api("POST", "/api/cameras", json=base | {"main_stream": "10.1.2.3"}), 422, "main_stream")
    two = [{"name": "z", "points": [[0.1, 0.1], [0.2, 0.2]]}]
    body = error(api("POST", "/api/cameras", json=base | {"zones": two}), 422, "zones[0]")
    assert "three points" in body["message"]
    outside = [{"name": "z", "points": [[0.1, 0.1], [1.5, 0.1], [0.5, 0.8]]}]
    body = error(api("POST", "/api/cameras", json=base | {"zones": outside}), 422, "zones[0]")
    assert "outside" in body["message"]
    r = api("POST", "/api/cameras", json=base | {"purpose": ""})
    error(r, 422, "body.purpose")  # UU 27/2022: a camera needs a stated purpose
    r = api("POST", "/api/cameras", json=base | {"site_id": 987654})
    assert "987654" in error(r, 422, "site_id")["message"]
    assert ok(api("GET", "/api/cameras", params={"site_id": site["id"]})) == []  # none stored


def test_camera_duplicate_name_is_409(api: Api) -> None:
    site, other_site = new_site(api), new_site(api)
    cam = new_camera(api, site["id"], name="Gerbang")
    r = api(
        "POST",
        "/api/cameras",
        json={
            "site_id": site["id"],
            "name": "Gerbang",
            "purpose": "keamanan",
            "main_stream": "rtsp://10.1.2.5/s",
        },
    )
    assert "Gerbang" in error(r, 409, "name")["message"]
    new_camera(api, other_site["id"], name="Gerbang")  # same name at another site is fine
    second = new_camera(api, site["id"], name="Lobi")
    error(api("PATCH", f"/api/cameras/{second['id']}", json={"name": "Gerbang"}), 409, "name")
    ok(api("PATCH", f"/api/cameras/{cam['id']}", json={"name": "Gerbang"}))  # renaming to itself


# --- calendars and schedules ---------------------------------------------------------------


def test_calendar_list_and_city_default(api: Api) -> None:
    city = city_calendar(api)
    assert city["parent_id"] is None and city["use_national_holidays"] is True
    kinds = {r["kind"] for r in city["rules"]}
    assert {"weekly", "ramadan"} <= kinds
    assert ok(api("GET", f"/api/calendars/{city['id']}")) == city
    assert "987654" in error(api("GET", "/api/calendars/987654"), 404)["message"]


def test_site_calendar_closure_and_schedule(api: Api, shared_runtime: Runtime) -> None:
    city = city_calendar(api)
    before = last_audit_id(shared_runtime)
    cal = ok(
        api("POST", "/api/calendars", json={"name": f"Renovasi {uid()}", "parent_id": city["id"]}),
        201,
    )
    assert cal["parent_id"] == city["id"] and cal["rules"] == []
    rule = ok(
        api(
            "POST",
            f"/api/calendars/{cal['id']}/rules",
            json={
                "kind": "closure",
                "start_date": "2026-11-23",
                "end_date": "2026-11-29",
                "reason": "Renovasi gedung",
            },
        ),
        201,
    )
    assert (rule["kind"], rule["start_date"], rule["opens"]) == ("closure", "2026-11-23", None)
    actions = [a.action for a in audit_after(shared_runtime, before, object_id=str(cal["id"]))]
    assert actions == ["calendar.create", "calendar.rule.create"]

    closed, normal = new_site(api), new_site(api)
    assert (
        ok(api("PATCH", f"/api/sites/{closed['id']}", json={"calendar_id": cal["id"]}))[
            "calendar_id"
        ]
        == cal["id"]
    )
    week = {"from": "2026-11-23", "to": "2026-11-29"}
    days = ok(api("GET", f"/api/sites/{closed['id']}/schedule", params=week))
    assert [d["date"] for d in days] == [f"2026-11-{d}" for d in range(23, 30)]
    assert all(not d["working"] and d["rule"] == "closure" for d in days)
    assert all("Renovasi gedung" in d["reason"] for d in days)

    days = {
        d["date"]: d for d in ok(api("GET", f"/api/sites/{normal['id']}/schedule", params=week))
    }
    monday, friday, saturday = days["2026-11-23"], days["2026-11-27"], days["2026-11-28"]
    assert (monday["opens"], monday["closes"], monday["weekday"]) == ("07.30", "16.00", "Senin")
    assert (friday["working"], friday["opens"], friday["closes"]) == (True, "07.30", "16.30")
    assert friday["weekday"] == "Jumat" and friday["timezone"] == "WITA"
    assert friday["rule"] == "weekly"
    assert (saturday["working"], saturday["opens"]) == (False, None)

    # A calendar in use cannot be deleted; once released it can.
    body = error(api("DELETE", f"/api/calendars/{cal['id']}"), 409)
    assert str(closed["id"]) in body["message"]
    ok(api("PATCH", f"/api/sites/{closed['id']}", json={"calendar_id": None}))
    days = ok(api("GET", f"/api/sites/{closed['id']}/schedule", params=week))
    assert days[4]["opens"] == "07.30" and days[4]["working"]
    rule_url = f"/api/calendars/{cal['id']}/rules/{rule['id']}"
    assert api("DELETE", rule_url).status_code == 204
    assert error(api("DELETE", rule_url), 404)
    assert api("DELETE", f"/api/calendars/{cal['id']}").status_code == 204
    error(api("GET", f"/api/calendars/{cal['id']}"), 404)


def test_ramadan_end_before_start_is_422(api: Api) -> None:
    cal = ok(api("POST", "/api/calendars", json={"name": f"Ramadan {uid()}"}), 201)
    r = api(
        "POST",
        f"/api/calendars/{cal['id']}/rules",
        json={
            "kind": "ramadan",
            "weekdays": [0, 1, 2, 3],
            "opens": "08.00",
            "closes": "15.00",
            "start_date": "2027-03-10",
            "end_date": "2027-02-08",
        },
    )
    assert "before start" in error(r, 422, "end_date")["message"]
    assert ok(api("GET", f"/api/calendars/{cal['id']}"))["rules"] == []


def test_overlapping_rule_is_422(api: Api) -> None:
    city = city_calendar(api)
    r = api(
        "POST",
        f"/api/calendars/{city['id']}/rules",
        json={
            "kind": "ramadan",
            "weekdays": [0, 1, 2, 3],
            "opens": "08.30",
            "closes": "14.30",
            "start_date": "2026-03-01",
            "end_date": "2026-03-31",
            "reason": "Ramadan dobel",
        },
    )
    body = error(r, 422)
    assert "overlaps" in body["message"] and "2026-03-01" in body["message"]
    assert city_calendar(api)["rules"] == city["rules"]  # nothing stored
    # The same rule on a site's own calendar is a deliberate override of the city: allowed.
    own = ok(
        api("POST", "/api/calendars", json={"name": f"Khusus {uid()}", "parent_id": city["id"]}),
        201,
    )
    ok(api("POST", f"/api/calendars/{own['id']}/rules", json=json.loads(r.request.content)), 201)


def test_rule_times_accept_dot_and_colon(api: Api) -> None:
    cal = ok(
        api(
            "POST",
            "/api/calendars",
            json={"name": f"Jam {uid()}", "parent_id": city_calendar(api)["id"]},
        ),
        201,
    )
    rules = f"/api/calendars/{cal['id']}/rules"
    rule = ok(
        api(
            "POST",
            rules,
            json={
                "kind": "override",
                "opens": "08.00",
                "closes": "12:00",
                "start_date": "2026-12-01",
                "end_date": "2026-12-01",
                "reason": "Upacara",
            },
        ),
        201,
    )
    assert (rule["opens"], rule["closes"]) == ("08:00:00", "12:00:00")
    site = new_site(api, calendar_id=cal["id"])
    (day,) = ok(
        api(
            "GET",
            f"/api/sites/{site['id']}/schedule",
            params={"from": "2026-12-01", "to": "2026-12-01"},
        )
    )
    assert (day["opens"], day["closes"], day["rule"]) == ("08.00", "12.00", "override")
    bad = {"kind": "override", "start_date": "2026-12-02", "end_date": "2026-12-02"}
    error(api("POST", rules, json=bad | {"opens": "25.00", "closes": "26.00"}), 422, "body.opens")
    r = api("POST", rules, json=bad | {"opens": "12.00", "closes": "08.00"})
    assert "after opens" in error(r, 422, "closes")["message"]
    r = api(
        "POST",
        rules,
        json={
            "kind": "closure",
            "opens": "08.00",
            "start_date": "2026-12-03",
            "end_date": "2026-12-03",
        },
    )
    error(r, 422, "opens")
    r = api(
        "POST", rules, json={"kind": "weekly", "weekdays": [7], "opens": "08.00", "closes": "12.00"}
    )
    error(r, 422, "weekdays")
    error(api("POST", rules, json={"kind": "libur"}), 422, "body.kind")


def test_calendar_create_update_delete(api: Api, shared_runtime: Runtime) -> None:
    city = city_calendar(api)
    name = f"Puskesmas {uid()}"
    cal = ok(api("POST", "/api/calendars", json={"name": name, "parent_id": city["id"]}), 201)
    assert name in error(api("POST", "/api/calendars", json={"name": name}), 409, "name")["message"]
    r = api("POST", "/api/calendars", json={"name": f"Yatim {uid()}", "parent_id": 987654})
    error(r, 422, "parent_id")
    url = f"/api/calendars/{cal['id']}"
    renamed = ok(api("PATCH", url, json={"name": name + " 24 jam", "use_national_holidays": False}))
    assert renamed["name"] == name + " 24 jam" and renamed["use_national_holidays"] is False
    error(api("PATCH", url, json={"parent_id": cal["id"]}), 422, "parent_id")  # own parent
    child = ok(
        api("POST", "/api/calendars", json={"name": f"Anak {uid()}", "parent_id": cal["id"]}), 201
    )
    error(api("PATCH", url, json={"parent_id": child["id"]}), 422, "parent_id")  # a cycle
    error(api("PATCH", url, json={"name": None}), 422, "name")
    error(api("PATCH", f"/api/calendars/{city['id']}", json={"name": "Kota Lain"}), 422, "name")
    error(api("DELETE", f"/api/calendars/{city['id']}"), 409)
    error(api("DELETE", url), 409)  # still the parent of `child`
    assert api("DELETE", f"/api/calendars/{child['id']}").status_code == 204
    site = new_site(api, calendar_id=cal["id"])
    assert str(site["id"]) in error(api("DELETE", url), 409)["message"]
    ok(api("DELETE", f"/api/sites/{site['id']}"), 204)
    assert api("DELETE", url).status_code == 204
    assert "987654" in error(api("PATCH", "/api/calendars/987654", json={}), 404)["message"]


# --- users ---------------------------------------------------------------------------------


def test_user_crud(api: Api, shared_runtime: Runtime) -> None:
    before = last_audit_id(shared_runtime)
    user = new_user(api, role="lurah", scope_code=KORUMBA, full_name="Lurah Korumba")
    assert (user["role"], user["scope_code"], user["active"]) == ("lurah", KORUMBA, True)
    assert "password" not in set(all_keys(user))
    with shared_runtime.sessions() as s:
        stored = s.get(User, user["id"])
        assert stored is not None and stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
    rows = audit_after(shared_runtime, before, action="user.create")
    assert rows[-1].object_id == str(user["id"]) and "password" not in rows[-1].detail
    listed = ok(api("GET", "/api/users"))
    assert user in listed and all("password" not in set(all_keys(u)) for u in listed)

    url = f"/api/users/{user['id']}"
    camat = ok(api("PATCH", url, json={"role": "camat", "scope_code": MANDONGA_KEC}))
    assert (camat["role"], camat["scope_code"]) == ("camat", MANDONGA_KEC)
    admin = ok(api("PATCH", url, json={"role": "operator"}))  # scope dropped with the role
    assert (admin["role"], admin["scope_code"]) == ("operator", None)
    error(api("PATCH", url, json={"role": None}), 422, "role")
    error(api("PATCH", url, json={"role": "lurah", "scope_code": MANDONGA_KEC}), 422, "scope_code")
    error(api("PATCH", url, json={"scope_code": MANDONGA_KEC}), 422, "scope_code")
    patched = ok(api("PATCH", url, json={"password": "sandi-baru-789", "full_name": "Baru"}))
    assert patched["full_name"] == "Baru"
    update = audit_after(shared_runtime, before, action="user.update")[-1]
    assert update.detail.get("password") == "changed" and "sandi-baru-789" not in json.dumps(
        update.detail
    )
    assert "987654" in error(api("PATCH", "/api/users/987654", json={}), 404)["message"]


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"role": "camat"}, 422, "scope_code"),
        ({"role": "camat", "scope_code": KORUMBA}, 422, "scope_code"),
        ({"role": "camat", "scope_code": "74.71.99"}, 422, "scope_code"),
        ({"role": "lurah"}, 422, "scope_code"),
        ({"role": "lurah", "scope_code": MANDONGA_KEC}, 422, "scope_code"),
        ({"role": "lurah", "scope_code": "74.71.01.1999"}, 422, "scope_code"),
        ({"role": "operator", "scope_code": MANDONGA_KEC}, 422, "scope_code"),
        ({"role": "walikota"}, 422, "body.role"),
        ({"username": "Nama Besar"}, 422, "username"),
        ({"username": "admin"}, 409, "username"),
        ({"password": "pendek"}, 422, "body.password"),
    ],
    ids=[
        "camat-no-scope",
        "camat-kelurahan-code",
        "camat-unknown-kecamatan",
        "lurah-no-scope",
        "lurah-kecamatan-code",
        "lurah-unknown-kelurahan",
        "operator-with-scope",
        "unknown-role",
        "bad-username",
        "duplicate-username",
        "short-password",
    ],
)
def test_user_bad_input(api: Api, fields: dict[str, Any], status: int, field: str) -> None:
    body = {"username": f"u-{uid()}", "password": PASSWORD, "role": "operator"} | fields
    error(api("POST", "/api/users", json=body), status, field)


# --- audit log -----------------------------------------------------------------------------


def test_audit_filters(api: Api, shared_runtime: Runtime) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    site = new_site(api)
    api("GET", "/api/calendars", role="lurah")  # a denied attempt
    rows = ok(api("GET", "/api/audit", params={"action": "site.", "limit": 50}))
    assert rows and all(a["action"].startswith("site.") for a in rows)
    assert rows[0]["object_id"] == str(site["id"])  # newest first
    assert [a["id"] for a in rows] == sorted((a["id"] for a in rows), reverse=True)
    assert ok(api("GET", "/api/audit", params={"action": "site_"})) == []  # "_" is literal
    denied = ok(api("GET", "/api/audit", params={"outcome": "denied", "actor": "lurah"}))
    assert denied and all((a["outcome"], a["actor"]) == ("denied", "lurah") for a in denied)
    assert denied[0]["detail"] == {"method": "GET", "path": "/api/calendars"}
    recent = ok(api("GET", "/api/audit", params={"since": since.isoformat()}))
    assert {a["action"] for a in recent} >= {"site.create", "GET /api/calendars"}
    assert all(datetime.fromisoformat(a["at"].replace("Z", "+00:00")) >= since for a in recent)
    r = api("GET", "/api/audit", params={"since": "2026-01-01T08:00:00"})  # no zone
    assert "time zone" in error(r, 422, "since")["message"]
    assert len(ok(api("GET", "/api/audit", params={"limit": 1}))) == 1
    error(api("GET", "/api/audit", params={"limit": 0}), 422, "query.limit")
    error(api("GET", "/api/audit", params={"since": "kemarin"}), 422, "query.since")


# --- validation errors ---------------------------------------------------------------------


def test_wrong_type_names_the_field(api: Api) -> None:
    r = api("POST", "/api/sites", json={"kind": "kantor_opd", "name": "Kantor X", "lat": "abc"})
    body = error(r, 422)
    assert body["error"] == "validation_error"
    assert body["fields"][0]["field"] == "body.lat" and "body.lat" in body["message"]
    error(
        api("POST", "/api/sites", json={"kind": "kantor_opd", "name": "Kantor X", "lat": 91}),
        422,
        "body.lat",
    )
    error(api("PATCH", "/api/cameras/1", json={"enabled": "kadang"}), 422, "body.enabled")


def test_missing_fields_are_named(api: Api) -> None:
    body = error(api("POST", "/api/sites", json={}), 422)
    fields = {f["field"]: f["message"] for f in body["fields"]}
    assert fields.keys() == {"body.kind", "body.name"} and fields["body.name"] == "Field required"
    error(api("POST", "/api/cameras", json={"site_id": 1}), 422, "body.main_stream")
    error(api("POST", "/api/sites"), 422, "body")  # no body at all
    r = api(
        "POST", "/api/sites", content=b"{not json", headers={"content-type": "application/json"}
    )
    error(r, 422)


def test_unknown_extra_field_is_422(api: Api) -> None:
    r = api("POST", "/api/sites", json={"kind": "kantor_opd", "name": "Kantor X", "colour": "red"})
    assert "not permitted" in error(r, 422, "body.colour")["message"]
    error(api("PATCH", "/api/cameras/1", json={"password_enc": "x"}), 422, "body.password_enc")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/sites/987654"),
        ("PATCH", "/api/sites/987654"),
        ("DELETE", "/api/sites/987654"),
        ("GET", "/api/sites/987654/schedule"),
        ("GET", "/api/cameras/987654"),
        ("GET", "/api/cameras?site_id=987654"),
        ("PATCH", "/api/cameras/987654"),
        ("DELETE", "/api/cameras/987654"),
        ("GET", "/api/calendars/987654"),
        ("POST", "/api/calendars/987654/rules"),
        ("DELETE", "/api/calendars/987654/rules/1"),
        ("PATCH", "/api/users/987654"),
    ],
)
def test_unknown_ids_are_404(api: Api, method: str, url: str) -> None:
    json_body = {"kind": "closure", "start_date": "2030-01-01", "end_date": "2030-01-01"}
    r = api(
        method,
        url,
        json=json_body if url.endswith("/rules") else ({} if method == "PATCH" else None),
    )
    body = error(r, 404)
    assert body["error"] == "not_found" and "987654" in body["message"]


def test_unknown_rule_in_a_real_calendar_is_404(api: Api) -> None:
    city = city_calendar(api)
    body = error(api("DELETE", f"/api/calendars/{city['id']}/rules/987654"), 404)
    assert "987654" in body["message"]


def test_path_id_of_wrong_type(api: Api) -> None:
    error(api("GET", "/api/sites/abc"), 422, "path.site_id")


def test_schedule_range_limits(api: Api) -> None:
    site = new_site(api)
    url = f"/api/sites/{site['id']}/schedule"
    r = api("GET", url, params={"from": "2026-01-01", "to": "2027-03-01"})
    assert "400" in error(r, 422, "to")["message"]
    assert len(ok(api("GET", url, params={"from": "2026-01-01", "to": "2027-02-04"}))) == 400
    error(api("GET", url, params={"from": "2026-02-01", "to": "2026-01-01"}), 422, "to")
    error(api("GET", url, params={"from": "2026-02-30"}), 422, "query.from")
    assert len(ok(api("GET", url))) == 7  # default: a week from today


# --- transactions --------------------------------------------------------------------------


def test_failed_commit_is_reported_not_swallowed(
    client: TestClient, shared_runtime: Runtime, api: Api, auth: Callable[[str], dict[str, str]]
) -> None:
    """If the commit fails the client must not be told 204: the change and its audit are gone."""
    cam = new_camera(api, new_site(api)["id"])
    before = last_audit_id(shared_runtime)
    fired: list[bool] = []

    def fail_once(session: Any) -> None:
        if not fired:
            fired.append(True)
            raise RuntimeError("simulated commit failure")

    event.listen(shared_runtime.sessions, "before_commit", fail_once)
    try:
        with TestClient(client.app, raise_server_exceptions=False) as c:
            r = c.delete(f"/api/cameras/{cam['id']}", headers=auth("admin"))
    finally:
        event.remove(shared_runtime.sessions, "before_commit", fail_once)
    assert fired
    assert error(r, 500)["error"] == "internal_error"
    assert ok(api("GET", f"/api/cameras/{cam['id']}"))["id"] == cam["id"]
    assert not audit_after(shared_runtime, before, action="camera.delete")
