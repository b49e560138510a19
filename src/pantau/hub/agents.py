"""Agents on the hub: enrolment (token -> key), authentication, revocation, and the record of
each contact (last heard, version, clock offset, backlog)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pantau.hub.credentials import (
    digest,
    matches,
    new_agent_key,
    new_enrolment_token,
    parse_agent_key,
)
from pantau.store.models import Agent, AgentContact, AgentEnrolment, Site
from pantau.store.types import utcnow


class AgentAuthError(Exception):
    """Refused agent credential; `status` is 401 (unknown) or 403 (revoked)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Issued:
    enrolment: AgentEnrolment
    token: str  # shown once


def create_enrolment(session: Session, site: Site, created_by: str, hours: float = 24.0) -> Issued:
    token = new_enrolment_token()
    row = AgentEnrolment(
        site_id=site.id,
        token_hash=digest(token),
        created_by=created_by,
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(hours=hours),
    )
    session.add(row)
    session.flush()
    return Issued(row, token)


def check_public_key(value: str) -> str:
    """An Ed25519 public key, 32 bytes base64; refused with the reason otherwise."""
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ValueError("public_key is not base64") from exc
    if len(raw) != 32:
        raise ValueError(f"public_key must be a 32-byte Ed25519 key, got {len(raw)} bytes")
    return value


def enrol(
    session: Session, token: str, name: str, public_key: str, version: str | None
) -> tuple[Agent, str]:
    """Exchange a one-time enrolment token for a new agent and its key (returned once)."""
    row = session.scalar(select(AgentEnrolment).where(AgentEnrolment.token_hash == digest(token)))
    now = utcnow()
    if row is None:
        raise AgentAuthError(401, "enrolment token not recognised; ask an admin for a new one")
    if row.used_at is not None:
        raise AgentAuthError(401, "enrolment token already used; ask an admin for a new one")
    if row.expires_at <= now:
        raise AgentAuthError(401, "enrolment token expired; ask an admin for a new one")
    agent = Agent(
        site_id=row.site_id,
        name=name,
        key_hash="",
        public_key=check_public_key(public_key),
        created_at=now,
        version=version,
        last_contact_at=now,
        backlog_items=0,
        backlog_bytes=0,
    )
    session.add(agent)
    session.flush()
    key = new_agent_key(agent.id)
    agent.key_hash = digest(key)
    row.used_at, row.agent_id = now, agent.id
    return agent, key


def authenticate(session: Session, key: str | None) -> Agent:
    if not key:
        raise AgentAuthError(401, "agent key required: send Authorization: Bearer pak_…")
    parsed = parse_agent_key(key)
    if parsed is None:
        raise AgentAuthError(
            401, "not an agent key: this route is for edge agents (pantau agent enrol)"
        )
    agent = session.get(Agent, parsed[0])
    if agent is None or not matches(parsed[1], agent.key_hash):
        raise AgentAuthError(401, "agent not recognised: unknown agent or wrong key")
    if agent.revoked_at is not None:
        when = agent.revoked_at.strftime("%Y-%m-%d %H:%M UTC")
        raise AgentAuthError(
            403, f"agent {agent.id} ({agent.name}) was revoked on {when}; enrol it again"
        )
    return agent


def revoke(session: Session, agent: Agent, by: str) -> None:
    if agent.revoked_at is None:
        agent.revoked_at, agent.revoked_by = utcnow(), by


def _minute(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def record_contact(
    session: Session,
    agent: Agent,
    *,
    at: datetime | None = None,
    items: int = 0,
    nbytes: int = 0,
    transfer_seconds: float = 0.0,
    clock_offset: float | None = None,
    version: str | None = None,
    backlog: dict | None = None,
    via: str = "link",
    keep_days: float,
    reported_at: datetime | None = None,
) -> None:
    """What the hub knows after hearing from the agent; one contact row per minute.

    Rows older than `keep_days` are pruned once an hour per agent (at its first contact of the
    hour): one row per connected minute is about 525,000 a year per agent. A backlog measured
    (`reported_at`, the agent's clock) before the one already held is stale and ignored: a
    request held up by a cut link can arrive after later ones.
    """
    now = at or utcnow()
    heard_before = agent.last_contact_at
    if via == "link":
        agent.last_contact_at = max(agent.last_contact_at or now, now)
    if version:
        agent.version = version[:40]
    if clock_offset is not None:
        agent.clock_offset_seconds = clock_offset
    held = agent.backlog_reported_at
    if backlog is not None and reported_at is not None and held is not None and reported_at < held:
        backlog = None
    if backlog is not None:
        if reported_at is not None:
            agent.backlog_reported_at = reported_at
        agent.backlog_items = int(backlog.get("items", 0))
        agent.backlog_bytes = int(backlog.get("bytes", 0))
        agent.backlog_oldest = _time(backlog.get("oldest"))
        complete = _time(backlog.get("complete_until"))
        if complete is not None and (
            agent.complete_until is None or complete > agent.complete_until
        ):
            agent.complete_until = complete
    minute = _minute(now)
    row = session.get(AgentContact, (agent.id, minute))
    if row is None:
        row = AgentContact(
            agent_id=agent.id,
            minute=minute,
            requests=0,
            items=0,
            bytes=0,
            transfer_seconds=0.0,
            via=via,
        )
        session.add(row)
        hour = minute.replace(minute=0)
        if heard_before is None or heard_before < hour:
            _prune_contacts(session, agent.id, minute - timedelta(days=keep_days))
    row.requests += 1
    row.items += items
    row.bytes += nbytes
    row.transfer_seconds += transfer_seconds
    if clock_offset is not None:
        row.clock_offset_seconds = clock_offset
    if backlog is not None:
        row.backlog_items = agent.backlog_items


def _prune_contacts(session: Session, agent_id: int, before: datetime) -> None:
    session.execute(
        delete(AgentContact).where(AgentContact.agent_id == agent_id, AgentContact.minute < before)
    )


def _time(value: str | None) -> datetime | None:
    from pantau.edge.items import parse_time

    return parse_time(value) if value else None
