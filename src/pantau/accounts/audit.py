"""The audit trail: every write, every denied request, every view of footage."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from pantau.accounts.scope import Scope
from pantau.store.models import AuditEntry


def record(
    session: Session,
    actor: Scope | str,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Add an entry to the caller's transaction, so the fact and its audit commit together."""
    entry = AuditEntry(
        actor=actor.username if isinstance(actor, Scope) else actor,
        user_id=actor.user_id if isinstance(actor, Scope) else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        outcome=outcome,
        detail=detail or {},
        ip=ip,
    )
    session.add(entry)
    return entry
