"""`pantau import BUNDLE`: a carried disk's outbox ingested with the same idempotency as the
link. The bundle must be signed by a known, unrevoked agent and unaltered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from pantau.accounts import audit
from pantau.config.model import Settings
from pantau.edge import items as wire
from pantau.edge.bundle import BundleError, read_manifest, verify
from pantau.hub.agents import record_contact
from pantau.hub.ingest import ingest
from pantau.store.models import Agent, AgentImport
from pantau.store.types import utcnow


@dataclass
class ImportResult:
    bundle_id: str
    agent_id: int
    site_id: int
    items: int
    accepted: int
    rejected: dict[str, str]
    counts: dict[str, int]
    first_time: bool
    days: set[date] = field(default_factory=set)
    spans: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)


def import_bundle(session: Session, settings: Settings, path: Path, actor: str) -> ImportResult:
    """Verify and ingest; raises BundleError with the reason. The caller commits."""
    manifest, *_ = read_manifest(path)
    try:
        agent_id = int(manifest["agent_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError("manifest names no agent") from exc
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise BundleError(f"agent {agent_id} is not known to this hub")
    if agent.revoked_at is not None:
        raise BundleError(f"agent {agent_id} ({agent.name}) is revoked; its bundles are refused")
    bundle = verify(path, agent.public_key)
    m = bundle.manifest
    if int(m.get("site_id", -1)) != agent.site_id:
        raise BundleError(
            f"bundle is for site {m.get('site_id')}, agent {agent_id} is of site {agent.site_id}"
        )
    result = ingest(session, settings, agent, bundle.items)
    known = session.get(AgentImport, m["bundle_id"])
    if known is None:
        session.add(
            AgentImport(
                bundle_id=m["bundle_id"],
                agent_id=agent.id,
                sha256=m["payload_sha256"],
                items=len(bundle.items),
                created_at=wire.parse_time(m["created_at"]),
                first_imported_at=utcnow(),
                imported_by=actor,
            )
        )
        backlog: dict[str, Any] | None = None
        if m.get("complete_until"):
            backlog = {
                "items": agent.backlog_items,
                "bytes": agent.backlog_bytes,
                "oldest": wire.iso(agent.backlog_oldest) if agent.backlog_oldest else None,
                "complete_until": m["complete_until"],
            }
        record_contact(
            session,
            agent,
            items=len(result.acked),
            nbytes=path.stat().st_size,
            backlog=backlog,
            via="bundle",
        )
    audit.record(
        session,
        actor,
        "agent.import",
        object_type="agent",
        object_id=agent.id,
        detail={
            "bundle_id": m["bundle_id"],
            "file": path.name,
            "items": len(bundle.items),
            "rejected": len(result.rejected),
            "again": known is not None,
        },
    )
    return ImportResult(
        bundle_id=m["bundle_id"],
        agent_id=agent.id,
        site_id=agent.site_id,
        items=len(bundle.items),
        accepted=len(result.acked),
        rejected=result.rejected,
        counts=result.counts,
        first_time=known is None,
        days=result.days,
        spans=result.spans,
    )
