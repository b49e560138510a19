"""The hub's camera workers leave alone the cameras of sites an edge agent serves: the agent
records them at the site (and the hub usually cannot reach them). Revoking the agent hands
them back to the hub."""

from __future__ import annotations

from sqlalchemy import select

from pantau.pipeline.shard import load_specs
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Agent, Camera, Site
from pantau.store.types import utcnow


def _camera(rt: Runtime, slug: str, name: str) -> int:
    with transaction(rt.sessions) as s:
        site = s.scalar(select(Site).where(Site.slug == slug))
        assert site is not None, slug
        cam = Camera(
            site=site, name=name, purpose="keamanan kantor", main_stream="rtsp://10.9.0.1/s"
        )
        s.add(cam)
        s.flush()
        return cam.id


def _all_shards(rt: Runtime, count: int) -> set[int]:
    out: set[int] = set()
    for index in range(count):
        out |= set(load_specs(rt, index, count))
    return out


def test_agent_sites_are_not_opened_by_the_hub(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    served = _camera(rt, "kel-mandonga", "ruang layanan (agen)")
    served_too = _camera(rt, "kel-mandonga", "halaman (agen)")
    hub_own = _camera(rt, "kel-kambu", "ruang layanan")
    with transaction(rt.sessions) as s:
        site_id = s.scalar(select(Site.id).where(Site.slug == "kel-mandonga"))
        other_id = s.scalar(select(Site.id).where(Site.slug == "kel-kambu"))
        # A revoked agent of the other site serves nothing any more.
        s.add(
            Agent(
                site_id=other_id,
                name="old",
                key_hash="0" * 64,
                public_key="x",
                revoked_at=utcnow(),
                revoked_by="test",
            )
        )
    before = _all_shards(rt, 2)
    assert {served, served_too, hub_own} <= before

    with transaction(rt.sessions) as s:
        s.add(Agent(site_id=site_id, name="kel-mandonga", key_hash="1" * 64, public_key="y"))
        agent_id = s.scalar(select(Agent.id).where(Agent.name == "kel-mandonga"))
    for count in (1, 2, 3):
        shards = _all_shards(rt, count)
        assert served not in shards and served_too not in shards, (
            f"{count} shard(s) open a camera of a site its agent serves"
        )
        assert hub_own in shards, "the hub's own camera (revoked agent's site) is left out"
    assert before - _all_shards(rt, 2) == {served, served_too}

    with transaction(rt.sessions) as s:
        agent = s.get(Agent, agent_id)
        agent.revoked_at = utcnow()
        agent.revoked_by = "test"
    assert _all_shards(rt, 2) == before, "a revoked agent's cameras go back to the hub"
