"""Scope matrix entries for the opening-hours page's API (routes/compliance.py)."""

from __future__ import annotations

from typing import Any


def entries(m: Any) -> dict[tuple[str, str], Any]:
    def check_sites(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        rows = r.json()["sites"]
        ids = {s["site_id"] for s in rows}
        if target == "other-kec":  # ?kecamatan= never widens a regional scope
            if role in ("camat", "lurah"):
                assert rows == []
            else:
                assert w.site["kandai"] in ids
                assert all(s["kecamatan_code"] == "74.71.02" for s in rows)
            return
        if role == "camat":
            assert all(s["kecamatan_code"] == m.CAMAT_KEC for s in rows), rows
            assert set(w.mandonga_offices.values()) <= ids
        elif role == "lurah":
            assert all(s["kelurahan_code"] == m.LURAH_KEL for s in rows), rows
            assert w.site["korumba"] in ids
        else:
            assert len(rows) >= 65 and {w.site[t] for t in m.REGIONS} <= ids

    def check_month(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        check_sites(w, role, target, call, r)
        body = r.json()
        assert body["month"] == m.VERDICT_DAY[:7] and len(body["days"]) == 30
        day = body["days"].index(m.VERDICT_DAY)
        for s in body["sites"]:
            if s["site_id"] == w.site.get("korumba"):
                assert s["cells"][day].get("status")  # the stored verdict shows up

    def url(path: str) -> Any:
        def build(w: Any, role: str, target: str) -> Any:
            for t in m.REGIONS:
                m.existing_verdict(w, t)
            query = "kecamatan=74.71.02" if target == "other-kec" else ""
            sep = "&" if "?" in path else "?"
            return m.Call("GET", f"{path}{sep}{query}" if query else path)

        return build

    targets = ("all", "other-kec")
    return {
        ("GET", "/api/compliance/today"): m.Spec(
            m.everyone(200), url("/api/compliance/today"), targets, check=check_sites
        ),
        ("GET", "/api/compliance/month"): m.Spec(
            m.everyone(200),
            url(f"/api/compliance/month?month={m.VERDICT_DAY[:7]}"),
            targets,
            check=check_month,
        ),
    }
