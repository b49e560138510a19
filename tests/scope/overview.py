"""Scope matrix entries for the map and health pages' API (routes/overview.py)."""

from __future__ import annotations

import csv
import io
from typing import Any


def entries(m: Any) -> dict[tuple[str, str], Any]:
    def check_area(w: Any, role: str, kec: set[str | None], kel: set[str | None], ids: set[int]):
        if role == "camat":
            assert kec == {m.CAMAT_KEC}, kec
            assert set(w.mandonga_offices.values()) <= ids
        elif role == "lurah":
            assert kel == {m.LURAH_KEL}, kel
            assert w.site["korumba"] in ids
        else:
            assert len(ids) >= 65 and {w.site[t] for t in m.REGIONS} <= ids

    def check_sites(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        body = r.json()
        rows = body["sites"]
        check_area(
            w,
            role,
            {s["kecamatan_code"] for s in rows},
            {s["kelurahan_code"] for s in rows},
            {s["id"] for s in rows},
        )
        assert sum(body["counts"].values()) == body["total"] == len(rows)
        assert all(s["lat"] is not None and s["state"] in body["states"] for s in rows)

    def check_health(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        body = r.json()
        sites = {s["site_id"]: s for s in body["sites"]}
        kec = {w.site_codes[i][0] for i in sites}
        kel = {w.site_codes[i][1] for i in sites}
        check_area(w, role, kec, kel, set(sites))
        cameras = {c["camera_id"] for c in body["cameras"]}
        assert all(c["site_id"] in sites for c in body["cameras"])
        assert w.camera["korumba"] in cameras
        if role == "lurah":
            assert not {w.camera["mandonga"], w.camera["kandai"]} & cameras
        if role == "camat":
            assert w.camera["kandai"] not in cameras
        assert all(len(c["days_uptime"]) == len(body["days"]) == 30 for c in body["cameras"])

    def check_csv(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        codes = {row["kode_kelurahan"] for row in rows}
        if role == "camat":
            assert all(c.startswith(m.CAMAT_KEC + ".") for c in codes), codes
        elif role == "lurah":
            assert codes <= {m.LURAH_KEL}, codes

    def check_boundaries(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        body = r.json()
        assert body["type"] == "FeatureCollection" and len(body["features"]) == 64
        assert r.headers["etag"]

    def health(w: Any, role: str, target: str) -> Any:
        if not hasattr(w, "site_codes"):
            sites = w.admin("GET", "/api/sites").json()
            w.site_codes = {s["id"]: (s["kecamatan_code"], s["kelurahan_code"]) for s in sites}
        return m.Call("GET", "/api/overview/health")

    return {
        ("GET", "/api/overview/sites"): m.Spec(
            m.everyone(200), m.get("/api/overview/sites"), check=check_sites
        ),
        ("GET", "/api/overview/boundaries"): m.Spec(
            m.everyone(200),
            m.get("/api/overview/boundaries?level=kelurahan"),
            check=check_boundaries,
        ),
        ("GET", "/api/overview/health"): m.Spec(m.everyone(200), health, check=check_health),
        ("GET", "/api/overview/not-connected.csv"): m.Spec(
            m.everyone(200), m.get("/api/overview/not-connected.csv"), check=check_csv
        ),
    }
