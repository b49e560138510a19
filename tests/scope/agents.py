"""Matrix entries for edge agents (src/pantau/web/routes/agents.py).

/api/agents/* are for people (admin writes, city readers read). /api/agent/* are for agents
only: a user's session is no agent key, so every role and anonymous get the same 401. Their
successful, recorded use (enrol, hello, batch with a real agent key) is tested in
tests/test_edge_api.py; AGENT_KEY_ROUTES lists them for the write-audit test, which calls
every write as the admin user and so cannot reach them.
"""

from __future__ import annotations

from typing import Any

from pantau.edge.identity import public_key_b64
from pantau.edge.items import iso
from pantau.store.types import utcnow

AGENT_KEY_ROUTES = {
    ("POST", "/api/agent/enrol"),
    ("POST", "/api/agent/hello"),
    ("GET", "/api/agent/config"),
    ("POST", "/api/agent/batch"),
    # clip uploads (tests/scope/clips.py, tests/test_edge_clips.py)
    ("POST", "/api/agent/clips/{clip_id}/begin"),
    ("PUT", "/api/agent/clips/{clip_id}/data"),
    ("POST", "/api/agent/clips/{clip_id}/finish"),
    ("POST", "/api/agent/clips/{clip_id}/cannot"),
}


def _public_key() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return public_key_b64(Ed25519PrivateKey.generate())


def entries(m: Any) -> dict[tuple[str, str], Any]:
    def new_agent(w: Any) -> int:
        token = w.admin(
            "POST", "/api/agents/enrolments", json={"site_id": w.site["korumba"]}
        ).json()["token"]
        w.client.cookies.clear()
        body = {"name": f"agen-{m.uid()}", "public_key": _public_key()}
        r = w.client.post("/api/agent/enrol", json=body, headers=m.bearer(token))
        assert r.status_code == 201, r.text
        return r.json()["agent_id"]

    def build_enrolment(w: Any, role: str, target: str) -> Any:
        return m.Call("POST", "/api/agents/enrolments", json={"site_id": w.site["korumba"]})

    def check_enrolment(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        body = r.json()
        assert body["token"].startswith("pae_") and body["site_id"] == w.site["korumba"]
        assert body["token"] in body["command"]

    def build_get(w: Any, role: str, target: str) -> Any:
        agent = new_agent(w)
        return m.Call("GET", f"/api/agents/{agent}", ids=(str(agent),))

    def check_get(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        assert str(r.json()["id"]) == call.ids[0] and r.json()["state"] == "online"

    def build_revoke(w: Any, role: str, target: str) -> Any:
        agent = new_agent(w)
        url = f"/api/agents/{agent}"
        return m.Call("POST", url + "/revoke", probe=url, ids=(str(agent),))

    def check_revoke(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        assert r.json()["state"] == "revoked" and r.json()["revoked_at"]

    def check_list(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        assert isinstance(r.json(), list)

    def check_connectivity(w: Any, role: str, target: str, call: Any, r: Any) -> None:
        rows = r.json()
        assert all(len(a["days"]) == 2 for a in rows)

    def agent_call(method: str, url: str, json: Any = None) -> Any:
        return lambda w, role, t: m.Call(method, url, json=json)

    hello = {"agent_time": iso(utcnow()), "backlog": {}}
    enrol = {"name": "agen", "public_key": _public_key()}
    nobody = m.everyone(401)
    return {
        ("POST", "/api/agents/enrolments"): m.Spec(
            m.admin_only(201),
            build_enrolment,
            action="agent.enrolment.create",
            check=check_enrolment,
        ),
        ("GET", "/api/agents"): m.Spec(
            m.city_readers(200), agent_call("GET", "/api/agents"), check=check_list
        ),
        ("GET", "/api/agents/connectivity"): m.Spec(
            m.city_readers(200),
            agent_call("GET", "/api/agents/connectivity?from=2026-11-20&to=2026-11-21"),
            check=check_connectivity,
        ),
        ("GET", "/api/agents/{agent_id}"): m.Spec(m.city_readers(200), build_get, check=check_get),
        ("POST", "/api/agents/{agent_id}/revoke"): m.Spec(
            m.admin_only(200), build_revoke, action="agent.revoke", check=check_revoke
        ),
        # Agent-key routes: 401 for every user and for anonymous callers alike.
        ("POST", "/api/agent/enrol"): m.Spec(
            nobody, agent_call("POST", "/api/agent/enrol", enrol), action="agent.enrol"
        ),
        ("POST", "/api/agent/hello"): m.Spec(
            nobody, agent_call("POST", "/api/agent/hello", hello), action="agent.hello"
        ),
        ("GET", "/api/agent/config"): m.Spec(nobody, agent_call("GET", "/api/agent/config")),
        ("POST", "/api/agent/batch"): m.Spec(
            nobody, agent_call("POST", "/api/agent/batch", {"items": []}), action="agent.batch"
        ),
    }
