"""`pantau import BUNDLE`: a carried disk's outbox ingested with the same idempotency as the
link. The bundle must be signed by a known, unrevoked agent and unaltered. Recordings it
carries join the hub's own (file where the recorder would have put it, row in the segment
index), so playback and evidence export work for them as for any hub camera."""

from __future__ import annotations

import hashlib
import tarfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.accounts import audit
from pantau.config.model import Settings
from pantau.edge import items as wire
from pantau.edge.bundle import BundleError, read_manifest, verify
from pantau.edge.receipt import Receipt
from pantau.hub.agents import record_contact
from pantau.hub.ingest import ingest
from pantau.media.export import sha256_file
from pantau.media.recorder import segment_path
from pantau.recordings.index import add_segment
from pantau.store.models import Agent, AgentImport, Camera
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
    recordings: int = 0  # segments stored at the hub by this import (0 when all were there)
    recordings_known: int = 0  # already at the hub, same bytes
    taken: list[tuple[str, int]] = field(default_factory=list)  # (key, seq) the hub handled

    def receipt(self) -> Receipt:
        """What goes back to the site on the disk (docs/edge.md, "Carried disk")."""
        return Receipt(
            self.bundle_id,
            self.agent_id,
            self.site_id,
            wire.iso(utcnow()),
            self.taken,
            self.rejected,
        )


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
    stored, known_files = _store_recordings(session, settings, path, agent, bundle.recordings)
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
            reported_at=wire.parse_time(m["created_at"]),
            keep_days=settings.edge.contact_keep_days,
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
            "recordings": stored,
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
        recordings=stored,
        recordings_known=known_files,
        taken=[
            (str(i["key"]), int(i["seq"]))
            for i in bundle.items
            if isinstance(i, dict) and "key" in i and isinstance(i.get("seq"), int)
        ],
    )


def _store_recordings(
    session: Session, settings: Settings, path: Path, agent: Agent, listed: list[dict[str, Any]]
) -> tuple[int, int]:
    """Write the bundle's segments under the hub's recordings root and index them.

    The file name is the hub's own (`segment_path` from camera and start), never the member's
    path. Each copy is hashed as it is written and must be the signed SHA-256 before it takes
    its place; a file already there with that hash is left alone, so importing twice writes
    nothing. Returns (stored, already there)."""
    if not listed:
        return 0, 0
    cameras = set(session.scalars(select(Camera.id).where(Camera.site_id == agent.site_id)))
    foreign = sorted({int(r["camera_id"]) for r in listed} - cameras)
    if foreign:
        raise BundleError(
            f"recordings of camera {foreign[0]}, which is not a camera of site {agent.site_id}"
        )
    root = settings.recordings_dir
    stored = known = 0
    by_member = {r["member"]: r for r in listed}
    with tarfile.open(path, "r") as tar:
        for member in tar:
            entry = by_member.get(member.name)
            if entry is None:
                continue
            camera_id = int(entry["camera_id"])
            start, end = wire.parse_time(entry["start"]), wire.parse_time(entry["end"])
            rel = segment_path(camera_id, start)
            target = root / rel
            if target.exists() and sha256_file(target) == entry["sha256"]:
                known += 1
            else:
                source = tar.extractfile(member)
                assert source is not None
                _copy_checked(source, target, entry["sha256"], member.name)
                stored += 1
            add_segment(
                session,
                SimpleNamespace(
                    camera_id=camera_id, start=start, end=end, path=rel, bytes=int(entry["bytes"])
                ),
            )
    return stored, known


def _copy_checked(source: IO[bytes], target: Path, sha256: str, name: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".import")
    digest = hashlib.sha256()
    try:
        with part.open("wb") as out:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise BundleError(f"recording {name} altered: SHA-256 is not the signed one")
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
