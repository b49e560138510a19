"""Matrix entries for the Admin page's tools (src/pantau/web/routes/admin_tools.py)."""

from __future__ import annotations

from typing import Any

SQUARE = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.6], [0.1, 0.6]]


def entries(m: Any) -> dict[tuple[str, str], Any]:
    def build_zones_put(w: Any, role: str, target: str) -> Any:
        cam = w.new_camera(target)
        body = {"zones": [{"name": f"pintu {m.uid()}", "points": SQUARE}], "masks": []}
        url = f"/api/cameras/{cam}/zones"
        return m.Call("PUT", url, json=body, probe=url, ids=(str(cam),))

    def check_zones_put(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        stored = w.admin("GET", call.url).json()
        assert stored["zones"] == call.json["zones"] and stored["masks"] == []

    def build_zones_get(w: Any, role: str, target: str) -> Any:
        cam = w.camera[target]
        return m.Call("GET", f"/api/cameras/{cam}/zones", ids=(str(cam),))

    def check_zones_get(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        assert r.json()["camera_id"] == w.camera[target]

    def build_import(w: Any, role: str, target: str) -> Any:
        name = f"Taman {m.uid()}"
        doc = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": name},
                    "geometry": {"type": "Point", "coordinates": [122.5155, -3.9685]},
                }
            ],
        }
        return m.Call("POST", "/api/sites/import", json=doc, probe="/api/sites")

    def check_import(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        name = call.json["features"][0]["properties"]["name"]
        sites = w.admin("GET", "/api/sites", params={"q": name}).json()
        assert [s["name"] for s in sites] == [name] and r.json()["imported"] == 1

    def check_test(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        body = r.json()
        assert body["ok"] is False and body["error"] == "unreachable", body

    def check_audit_page(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        body = r.json()
        assert body["total"] >= len(body["entries"]) > 0 and body["limit"] == 5

    return {
        ("POST", "/api/cameras/test"): m.Spec(
            m.admin_only(200),
            # port 9 (discard) refuses at once: the test answers in milliseconds
            lambda w, role, t: m.Call(
                "POST", "/api/cameras/test", json={"url": "rtsp://127.0.0.1:9/x"}
            ),
            action="camera.test",
            check=check_test,
        ),
        ("GET", "/api/cameras/{camera_id}/zones"): m.Spec(
            m.scoped(200), build_zones_get, m.REGIONS, check=check_zones_get
        ),
        ("PUT", "/api/cameras/{camera_id}/zones"): m.Spec(
            m.admin_only(200),
            build_zones_put,
            m.REGIONS,
            action="camera.zones.update",
            check=check_zones_put,
        ),
        ("POST", "/api/sites/import"): m.Spec(
            m.admin_only(201), build_import, action="site.import", check=check_import
        ),
        ("GET", "/api/audit/page"): m.Spec(
            m.admin_only(200),
            lambda w, role, t: m.Call("GET", "/api/audit/page?limit=5"),
            check=check_audit_page,
        ),
    }
