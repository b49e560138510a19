"""Per-minute contact rows of an agent are pruned past `edge.contact_keep_days` (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from pantau.edge.identity import public_key_b64, signing_key
from pantau.hub import agents as hub_agents
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Agent, AgentContact, Site

T0 = datetime(2026, 11, 29, 3, 30, tzinfo=UTC)


def test_old_contact_minutes_are_pruned_hourly(fresh_runtime: Runtime, tmp_path: Path) -> None:
    with transaction(fresh_runtime.sessions) as s:
        site = s.scalar(select(Site).where(Site.slug == "kel-mandonga"))
        issued = hub_agents.create_enrolment(s, site, "admin")
        key = public_key_b64(signing_key(tmp_path))
        agent, _ = hub_agents.enrol(s, issued.token, "agen", key, "t")
        agent_id = agent.id
    # Three days of contacts, one a minute every 10 minutes, keeping 2 days.
    for i in range(0, 3 * 24 * 60, 10):
        with transaction(fresh_runtime.sessions) as s:
            agent = s.get(Agent, agent_id)
            at = T0 + timedelta(minutes=i)
            hub_agents.record_contact(s, agent, at=at, keep_days=2)
    with fresh_runtime.sessions() as s:
        minutes = list(s.scalars(select(AgentContact.minute).order_by(AgentContact.minute)))
    last = T0 + timedelta(minutes=3 * 24 * 60 - 10)
    # Pruned at the last full hour seen (xx.00): nothing older than two days before it is left,
    # and nothing newer than that was touched.
    last_hour = last.replace(minute=0)
    assert minutes[0] >= last_hour - timedelta(days=2)
    assert minutes[0] < last_hour - timedelta(days=2) + timedelta(minutes=10)
    assert minutes[-1] == last
    assert len(minutes) == len(set(minutes))
