"""Admin tools API (routes/admin_tools.py) on SQLite and PostgreSQL: camera test against a real
RTSP server, zones and masks, GeoJSON site import, paged audit search."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pantau.runtime import Runtime
from pantau.store.models import AuditEntry, Camera
from tests.support.rtsp import RtspServer

SECRET = "Rahasia#9/x"  # characters that break naive URL handling
MANDONGA = (122.513645, -3.967296)  # lon, lat inside Kelurahan Mandonga (74.71.01.1005)
Auth = Callable[[str], dict[str, str]]


def uid() -> str:
    return uuid.uuid4().hex[:8]


def new_camera(client: TestClient, auth: Auth, url: str, **extra: Any) -> dict[str, Any]:
    site = client.get("/api/sites", headers=auth("admin"), params={"q": "Korumba"}).json()[0]
    body = {"site_id": site["id"], "name": f"cam-{uid()}", "purpose": "keamanan kantor"}
    r = client.post("/api/cameras", headers=auth("admin"), json=body | {"main_stream": url} | extra)
    assert r.status_code == 201, r.text
    return r.json()


def last_audit(rt: Runtime, action: str) -> AuditEntry:
    with rt.sessions() as s:
        row = s.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
        ).first()
    assert row is not None, f"no audit row {action}"
    return row


# --- camera test ----------------------------------------------------------------------------


def test_camera_test_shows_a_picture_or_the_exact_error(
    client: TestClient, auth: Auth, shared_runtime: Runtime, rtsp_server: Callable[..., RtspServer]
) -> None:
    server = rtsp_server(user="admin", password=SECRET)
    good = server.url("cam1")
    r = client.post(
        "/api/cameras/test",
        headers=auth("admin"),
        json={"url": good, "username": "admin", "password": SECRET},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["ok"] is True and out["error"] is None, out
    assert (out["codec"], out["width"], out["height"]) == ("h264", 1280, 720)
    picture = cv2.imdecode(np.frombuffer(base64.b64decode(out["jpeg_base64"]), np.uint8), 1)
    assert picture.shape == (720, 1280, 3) and picture.std() > 10
    assert out["seconds"] < 10 and out["url"].startswith("rtsp://admin:***@127.0.0.1")
    assert SECRET not in r.text and "Rahasia" not in r.text
    row = last_audit(shared_runtime, "camera.test")
    assert (
        row.actor == "admin"
        and row.detail["ok"] is True
        and "Rahasia" not in json.dumps(row.detail)
    )

    cases = {
        "not_found": {"url": server.url("tidak-ada"), "username": "admin", "password": SECRET},
        "auth_failed": {"url": good, "username": "admin", "password": "salah-sandi"},
        "unreachable": {"url": "rtsp://127.0.0.1:9/stream"},
    }
    for code, body in cases.items():
        r = client.post("/api/cameras/test", headers=auth("admin"), json=body)
        out = r.json()
        assert r.status_code == 200 and out["ok"] is False and out["error"] == code, out
        assert out["message"] and "salah-sandi" not in r.text and SECRET not in r.text
        assert out["jpeg_base64"] is None
    assert (
        "rejected the user name or password"
        in client.post(
            "/api/cameras/test", headers=auth("admin"), json=cases["auth_failed"]
        ).json()["message"]
    )


def test_camera_test_by_id_uses_the_stored_password(
    client: TestClient, auth: Auth, rtsp_server: Callable[..., RtspServer]
) -> None:
    server = rtsp_server(user="admin", password=SECRET)
    cam = new_camera(client, auth, server.url("cam1"), username="admin", password=SECRET)
    assert cam["has_password"] and "password" not in cam
    r = client.post("/api/cameras/test", headers=auth("admin"), json={"camera_id": cam["id"]})
    assert r.json()["ok"] is True, r.text
    # a new URL typed into the edit form is tested with the stored credentials
    r = client.post(
        "/api/cameras/test",
        headers=auth("admin"),
        json={"camera_id": cam["id"], "url": server.url("lain")},
    )
    assert r.json()["error"] == "not_found" and SECRET not in r.text


def test_camera_test_refuses_what_is_not_a_stream(
    client: TestClient, auth: Auth, tmp_path: Path
) -> None:
    r = client.post("/api/cameras/test", headers=auth("admin"), json={"url": "ftp://x/y"})
    assert r.status_code == 422 and "scheme" in r.json()["message"]
    r = client.post("/api/cameras/test", headers=auth("admin"), json={})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "url"
    text = tmp_path / "catatan.txt"
    text.write_text("bukan video\n" * 50)
    r = client.post("/api/cameras/test", headers=auth("admin"), json={"url": text.as_uri()})
    assert r.json()["error"] == "not_video", r.text
    r = client.post("/api/cameras/test", headers=auth("operator"), json={"url": text.as_uri()})
    assert r.status_code == 403


# --- zones and masks ------------------------------------------------------------------------


def test_zones_and_masks_round_trip_and_bad_polygons_change_nothing(
    client: TestClient, auth: Auth, shared_runtime: Runtime
) -> None:
    cam = new_camera(client, auth, "rtsp://10.9.9.9/stream")
    url = f"/api/cameras/{cam['id']}/zones"
    quad = [[0.1, 0.2], [0.6, 0.2], [0.6, 0.9], [0.1, 0.9]]
    body = {
        "zones": [{"name": "area layanan", "points": quad}],
        "masks": [{"name": "jam dinding", "points": [[0.8, 0.0], [1.0, 0.0], [1.0, 0.2]]}],
    }
    r = client.put(url, headers=auth("admin"), json=body)
    assert r.status_code == 200, r.text
    assert client.get(url, headers=auth("lurah")).json() == {"camera_id": cam["id"], **body}
    with shared_runtime.sessions() as s:
        stored = s.get(Camera, cam["id"]).zones  # type: ignore[union-attr]
    assert [z["name"] for z in stored] == ["area layanan", "masker: jam dinding"]
    assert last_audit(shared_runtime, "camera.zones.update").object_id == str(cam["id"])

    bad = {
        "needs at least three points, got 2": {"zones": [{"name": "pintu", "points": quad[:2]}]},
        "outside the frame": {"zones": [{"name": "pintu", "points": [[0, 0], [1.2, 0], [1, 1]]}]},
        "has no area": {"zones": [{"name": "garis", "points": [[0, 0], [0.5, 0.5], [1, 1]]}]},
        "used twice": {"zones": [{"name": "pintu", "points": quad}] * 2},
        "mask 'kipas' needs at least three points": {
            "masks": [{"name": "kipas", "points": [[0.1, 0.1]]}]
        },
    }
    for message, payload in bad.items():
        r = client.put(url, headers=auth("admin"), json=payload)
        assert r.status_code == 422 and message in r.json()["message"], (message, r.text)
        assert r.json()["fields"][0]["field"].startswith(("zones[", "masks["))
    assert client.get(url, headers=auth("admin")).json() == {"camera_id": cam["id"], **body}
    assert client.put(url, headers=auth("camat"), json=body).status_code == 403


# --- GeoJSON import -------------------------------------------------------------------------


def feature(name: str | None, geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    properties = props | ({"name": name} if name is not None else {})
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def square(lon: float, lat: float, d: float = 0.0004) -> dict[str, Any]:
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def site_count(client: TestClient, auth: Auth) -> int:
    return len(client.get("/api/sites", headers=auth("admin")).json())


def test_import_points_and_polygons_dry_run_then_for_real(
    client: TestClient, auth: Auth, shared_runtime: Runtime
) -> None:
    tag = uid()
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature(f"Taman Kota {tag}", point(*MANDONGA)),
            feature(f"Pasar Mandonga {tag}", square(*MANDONGA), alamat="Jl. Sao-Sao"),
            feature(f"Posko {tag}", point(122.60, -4.00), kind="kantor_opd"),
        ],
    }
    before = site_count(client, auth)
    files = {"file": ("ruang-publik.geojson", json.dumps(doc), "application/geo+json")}
    r = client.post("/api/sites/import?dry_run=true", headers=auth("admin"), files=files)
    assert r.status_code == 201 and r.json()["dry_run"] and r.json()["imported"] == 0, r.text
    assert site_count(client, auth) == before
    r = client.post("/api/sites/import", headers=auth("admin"), files=files)
    assert r.status_code == 201, r.text
    sites = {s["name"]: s for s in r.json()["sites"]}
    assert r.json()["imported"] == 3 and site_count(client, auth) == before + 3
    taman, pasar = sites[f"Taman Kota {tag}"], sites[f"Pasar Mandonga {tag}"]
    assert taman["kind"] == "ruang_publik" and taman["kelurahan_code"] == "74.71.01.1005"
    assert (taman["lon"], taman["lat"]) == pytest.approx(MANDONGA)
    assert pasar["geometry"] == "Polygon" and (pasar["lon"], pasar["lat"]) == pytest.approx(
        MANDONGA, abs=1e-6
    )
    assert pasar["address"] == "Jl. Sao-Sao" and sites[f"Posko {tag}"]["kind"] == "kantor_opd"
    stored = client.get(f"/api/sites/{taman['id']}", headers=auth("admin")).json()
    assert stored["kecamatan_code"] == "74.71.01" and stored["connectivity"] == "planned"
    row = last_audit(shared_runtime, "site.import")
    assert row.detail["file"] == "ruang-publik.geojson" and row.detail["count"] == 3
    # the same file again: every site exists, nothing is imported twice
    r = client.post("/api/sites/import", headers=auth("admin"), files=files)
    assert r.status_code == 422 and "already exists" in r.json()["message"]
    assert site_count(client, auth) == before + 3


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "file", "not GeoJSON: not text"),
        (b"nama,lat,lon\nTaman,-3.9,122.5\n", "file", "not GeoJSON: not JSON (line 1, column 1"),
        (b'{"type": "Feature"}', "type", "not a GeoJSON FeatureCollection (type is 'Feature')"),
        (b'{"type": "FeatureCollection", "features": []}', "features", "has no features"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        feature("Taman Baru", point(*MANDONGA)),
                        feature(None, point(*MANDONGA), keterangan="tanpa nama"),
                    ],
                }
            ).encode(),
            "features[1].properties",
            "missing property 'name'",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        feature("Jalan", {"type": "LineString", "coordinates": [[1, 2], [3, 4]]})
                    ],
                }
            ).encode(),
            "features[0].geometry.type",
            "'LineString' is not usable",
        ),
        (
            json.dumps(
                {"type": "FeatureCollection", "features": [feature("Terbalik", point(-3.9, 200))]}
            ).encode(),
            "features[0].geometry.coordinates",
            "is not [longitude, latitude]",
        ),
    ],
)
def test_import_refuses_what_is_not_usable_and_imports_nothing(
    client: TestClient, auth: Auth, payload: bytes, field: str, message: str
) -> None:
    before = site_count(client, auth)
    files = {"file": ("data.geojson", payload, "application/octet-stream")}
    r = client.post("/api/sites/import", headers=auth("admin"), files=files)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["message"].startswith("nothing imported: ") and message in body["message"]
    assert body["fields"][0]["field"] == field
    assert site_count(client, auth) == before


# --- audit search ---------------------------------------------------------------------------


def test_audit_page_filters_and_pages(client: TestClient, auth: Auth) -> None:
    for _ in range(3):  # three refused requests by the lurah
        assert client.get("/api/users", headers=auth("lurah")).status_code == 403
    r = client.get(
        "/api/audit/page",
        headers=auth("admin"),
        params={"actor": "lurah", "outcome": "denied", "limit": 2},
    )
    page = r.json()
    assert page["total"] >= 3 and len(page["entries"]) == 2 and page["offset"] == 0
    assert all(e["actor"] == "lurah" and e["outcome"] == "denied" for e in page["entries"])
    second = client.get(
        "/api/audit/page",
        headers=auth("admin"),
        params={"actor": "lurah", "outcome": "denied", "limit": 2, "offset": 2},
    ).json()
    assert {e["id"] for e in second["entries"]}.isdisjoint(e["id"] for e in page["entries"])
    assert second["total"] == page["total"]
    today = client.get("/api/health").json()["time_local"][:10]
    dated = client.get(
        "/api/audit/page", headers=auth("admin"), params={"from": today, "to": today, "limit": 1}
    ).json()
    assert dated["total"] >= 3
    old = client.get(
        "/api/audit/page", headers=auth("admin"), params={"from": "2001-01-01", "to": "2001-01-31"}
    ).json()
    assert old == {"total": 0, "offset": 0, "limit": 50, "entries": []}
    bad = client.get(
        "/api/audit/page", headers=auth("admin"), params={"from": "2026-02-02", "to": "2026-02-01"}
    )
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "to"
    assert client.get("/api/audit/page", headers=auth("operator")).status_code == 403


def test_a_keyframe_with_missing_slices_is_recognised() -> None:
    """FFmpeg paints rows it never received flat green (YUV 0,0,0): not a picture to draw on."""
    from pantau.web.routes.admin_tools import looks_truncated

    picture = np.full((360, 640, 3), 90, np.uint8)
    assert not looks_truncated(picture)
    yuv_zero = cv2.cvtColor(np.zeros((1, 1, 3), np.uint8), cv2.COLOR_YUV2BGR)[0, 0]
    picture[300:] = yuv_zero
    assert looks_truncated(picture), yuv_zero
