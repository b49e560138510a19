"""Scope matrix entries for the video wall and playback timeline API (routes/live.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pantau.media.snapshot import write_latest


def entries(m: Any) -> dict[tuple[str, str], Any]:
    def frame(w: Any, target: str) -> int:
        cam = w.camera[target]
        write_latest(w.rt.settings.snapshots_dir, cam, np.full((48, 64, 3), 90, np.uint8))
        return cam

    def check_groups(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        body = r.json()
        ids = {c["id"] for c in body["cameras"]}
        everything = next(g for g in body["groups"] if g["id"] == "all")
        assert set(everything["camera_ids"]) == ids
        for group in body["groups"]:
            assert set(group["camera_ids"]) <= ids, group
        mine = {t: w.camera[t] for t in m.REGIONS}
        kecamatan = {g["key"] for g in body["groups"] if g["kind"] == "kecamatan"}
        if role == "camat":
            assert mine["korumba"] in ids and mine["kandai"] not in ids
            assert kecamatan == {m.CAMAT_KEC}
        elif role == "lurah":
            assert mine["korumba"] in ids and not ids & {mine["mandonga"], mine["kandai"]}
            assert all(c["kelurahan_code"] == m.LURAH_KEL for c in body["cameras"])
        else:
            assert set(mine.values()) <= ids and {m.CAMAT_KEC, "74.71.02"} <= kecamatan

    def check_thumb(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        assert r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
        assert r.headers["etag"]

    def check_live(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        assert r.headers["content-type"].startswith("multipart/x-mixed-replace")
        assert b"Content-Type: image/jpeg" in r.content and b"\xff\xd8" in r.content

    def check_timeline(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        body = r.json()
        assert body["camera_id"] == w.camera[target] and len(body["recording"]) == 2

    def thumb(w: Any, role: str, target: str) -> Any:
        cam = frame(w, target)
        return m.Call("GET", f"/api/cameras/{cam}/thumb.jpg?w=160", ids=(str(cam),))

    def live(w: Any, role: str, target: str) -> Any:
        cam = frame(w, target)
        return m.Call("GET", f"/api/cameras/{cam}/live.mjpeg?max_seconds=0.2", ids=(str(cam),))

    def timeline(w: Any, role: str, target: str) -> Any:
        span = m.footage_range(w, target)
        cam = w.camera[target]
        url = f"/api/cameras/{cam}/timeline?from={span['from']}&to={span['to']}"
        return m.Call("GET", url, ids=(str(cam),))

    return {
        ("GET", "/api/camera-groups"): m.Spec(
            m.everyone(200),
            lambda w, role, t: m.Call("GET", "/api/camera-groups"),
            check=check_groups,
        ),
        ("GET", "/api/cameras/{camera_id}/thumb.jpg"): m.Spec(
            m.scoped(200), thumb, m.REGIONS, check=check_thumb
        ),
        ("GET", "/api/cameras/{camera_id}/live.mjpeg"): m.Spec(
            m.scoped(200), live, m.REGIONS, action="recording.live", check=check_live
        ),
        ("GET", "/api/cameras/{camera_id}/timeline"): m.Spec(
            m.scoped(200), timeline, m.REGIONS, check=check_timeline
        ),
    }
