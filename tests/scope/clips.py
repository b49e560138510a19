"""Matrix entries for clips from edge sites (src/pantau/web/routes/clips.py).

Same scopes as recordings: everyone reads and plays the clips of cameras in their scope;
requesting and cancelling are for the control room (admin, operator), like exports. Each
region gets its own camera at its office, an agent for that office and a minute of segment
index, so the clip routes never touch the cameras other entries record on. The agent-key
routes answer 401 to every user; their use is tested in tests/test_edge_clips.py.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import timedelta
from typing import Any

from pantau.edge import items as wire
from pantau.edge.identity import public_key_b64
from pantau.hub import clips as hub
from pantau.store.db import transaction
from pantau.store.models import Agent, Camera
from pantau.store.types import utcnow

CLIP_BYTES = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8
_SETUP: dict[tuple[int, str], dict[str, Any]] = {}


def _public_key() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return public_key_b64(Ed25519PrivateKey.generate())


def entries(m: Any) -> dict[tuple[str, str], Any]:
    def setup(w: Any, target: str) -> dict[str, Any]:
        """A camera of the region's office behind an agent, with 60 s indexed at the site."""
        key = (id(w.rt), target)
        if key in _SETUP:
            return _SETUP[key]
        cam = w.new_camera(target)
        token = w.admin("POST", "/api/agents/enrolments", json={"site_id": w.site[target]}).json()[
            "token"
        ]
        w.client.cookies.clear()
        body = {"name": f"agen-klip-{m.uid()}", "public_key": _public_key()}
        r = w.client.post("/api/agent/enrol", json=body, headers=m.bearer(token))
        assert r.status_code == 201, r.text
        agent_key = r.json()["key"]
        t0 = (utcnow() - timedelta(hours=3)).replace(microsecond=0)
        items = []
        for i in range(6):
            start = t0 + timedelta(seconds=10 * i)
            data = {"camera_id": cam, "start": start, "end": start + timedelta(seconds=10),
                    "bytes": 1}  # fmt: skip
            items.append({"key": wire.segment_key(cam, start), "kind": wire.SEGMENT,
                          "seq": i + 1, "data": wire.jsonable(data)})  # fmt: skip
        payload = gzip.compress(json.dumps({"batch_id": "s", "items": items}).encode())
        r = w.client.post(
            "/api/agent/batch",
            content=payload,
            headers=m.bearer(agent_key) | {"Content-Encoding": "gzip"},
        )
        assert r.status_code == 200 and r.json()["accepted"] == 6, r.text
        _SETUP[key] = {"camera": cam, "t0": t0, "agent_id": int(agent_key.split("_")[1])}
        return _SETUP[key]

    def span(s: dict[str, Any]) -> dict[str, str]:
        return {"from": wire.iso(s["t0"]), "to": wire.iso(s["t0"] + timedelta(seconds=30))}

    def pending(w: Any, target: str) -> tuple[int, int]:
        s = setup(w, target)
        body = {"camera_id": s["camera"], **span(s)}
        return s["camera"], w.admin("POST", "/api/clips", json=body).json()["id"]

    def ready(w: Any, target: str) -> tuple[int, int]:
        """A clip the site has delivered, through the hub's own upload steps."""
        cam, clip_id = pending(w, target)
        s = setup(w, target)
        sha = hashlib.sha256(CLIP_BYTES).hexdigest()
        with transaction(w.rt.sessions) as session:
            agent = session.get(Agent, s["agent_id"])
            settings = w.rt.settings
            hub.begin(session, settings, agent, clip_id, nbytes=len(CLIP_BYTES), sha256=sha,
                      clip_start=None, clip_end=None, frames=None, rate_kbps=None)  # fmt: skip
            hub.put_chunk(session, settings, agent, clip_id, 0, CLIP_BYTES)
            assert hub.finish(session, settings, agent, clip_id, len(CLIP_BYTES), sha).state == (
                hub.READY
            )
        return cam, clip_id

    def build_create(w: Any, role: str, target: str) -> Any:
        s = setup(w, target)
        body = {"camera_id": s["camera"], **span(s)}
        return m.Call("POST", "/api/clips", json=body, ids=(str(s["camera"]),))

    def check_create(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        body = r.json()
        assert body["state"] == "pending" and body["requested_by"] == role
        assert body["camera_id"] == setup(w, target)["camera"]

    def build_list(w: Any, role: str, target: str) -> Any:
        for region in m.REGIONS:
            pending(w, region)
        return m.Call("GET", "/api/clips?limit=500")

    def check_list(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        cams = {c["camera_id"] for c in r.json()}
        mine = {t: setup(w, t)["camera"] for t in m.REGIONS}
        if role == "camat":
            assert mine["korumba"] in cams and mine["mandonga"] in cams
            assert mine["kandai"] not in cams
        elif role == "lurah":
            assert mine["korumba"] in cams and not cams & {mine["mandonga"], mine["kandai"]}
        else:
            assert set(mine.values()) <= cams
        with w.rt.sessions() as session:
            sites = {session.get(Camera, c).site_id for c in cams}
        if role in ("camat", "lurah"):
            assert w.site["kandai"] not in sites

    def build_availability(w: Any, role: str, target: str) -> Any:
        s = setup(w, target)
        url = f"/api/clips/availability?camera_id={s['camera']}"
        return m.Call("GET", url, ids=(str(s["camera"]),))

    def check_availability(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        body = r.json()
        assert body["agent"] is not None and len(body["recorded"]) == 1
        assert body["may_request"] == (role in ("admin", "operator"))

    def build_get(suffix: str, make: Any) -> Any:
        def build(w: Any, role: str, target: str) -> Any:
            cam, clip_id = make(w, target)
            return m.Call("GET", f"/api/clips/{clip_id}{suffix}", ids=(str(cam), str(clip_id)))

        return build

    def check_get(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        assert str(r.json()["id"]) == call.ids[1] and r.json()["state"] == "pending"

    def check_file(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        assert r.headers["content-type"] == "video/mp4" and r.content == CLIP_BYTES

    def build_cancel(w: Any, role: str, target: str) -> Any:
        cam, clip_id = pending(w, target)
        url = f"/api/clips/{clip_id}"
        return m.Call("POST", url + "/cancel", probe=url, ids=(str(cam), str(clip_id)))

    def check_cancel(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        assert r.json()["state"] == "cancelled"
        assert w.admin("GET", call.probe).json()["state"] == "cancelled"

    def agent_call(method: str, url: str, json: Any = None) -> Any:
        return lambda w, role, t: m.Call(method, url, json=json)

    nobody = m.everyone(401)
    requesters = m.admin_only(201) | {"operator": 201}
    cancellers = m.admin_only(200) | {"operator": 200}
    sha = "0" * 64
    return {
        ("POST", "/api/clips"): m.Spec(
            requesters, build_create, m.REGIONS, action="clip.request", check=check_create
        ),
        ("GET", "/api/clips"): m.Spec(m.everyone(200), build_list, check=check_list),
        ("GET", "/api/clips/availability"): m.Spec(
            m.scoped(200), build_availability, m.REGIONS, check=check_availability
        ),
        ("GET", "/api/clips/{clip_id}"): m.Spec(
            m.scoped(200), build_get("", pending), m.REGIONS, check=check_get
        ),
        ("GET", "/api/clips/{clip_id}/file"): m.Spec(
            m.scoped(200),
            build_get("/file", ready),
            m.REGIONS,
            action="recording.clip.playback",
            check=check_file,
        ),
        ("POST", "/api/clips/{clip_id}/cancel"): m.Spec(
            cancellers, build_cancel, m.REGIONS, action="clip.cancel", check=check_cancel
        ),
        # Agent-key routes: 401 for every user and for anonymous callers alike.
        ("POST", "/api/agent/clips/{clip_id}/begin"): m.Spec(
            nobody,
            agent_call("POST", "/api/agent/clips/1/begin", {"bytes": 1, "sha256": sha}),
            action="clip.upload",
        ),
        ("PUT", "/api/agent/clips/{clip_id}/data"): m.Spec(
            nobody, agent_call("PUT", "/api/agent/clips/1/data?offset=0"), action="clip.upload"
        ),
        ("POST", "/api/agent/clips/{clip_id}/finish"): m.Spec(
            nobody,
            agent_call("POST", "/api/agent/clips/1/finish", {"bytes": 1, "sha256": sha}),
            action="clip.upload",
        ),
        ("POST", "/api/agent/clips/{clip_id}/cannot"): m.Spec(
            nobody,
            agent_call("POST", "/api/agent/clips/1/cannot", {"reason": "x"}),
            action="clip.upload",
        ),
    }
