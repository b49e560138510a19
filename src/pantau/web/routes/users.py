"""User administration and the audit log (admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from pantau.accounts import audit
from pantau.accounts.passwords import hash_password
from pantau.accounts.users import UserError, check_scope, create_user
from pantau.store.models import AuditEntry, AuthSession, User
from pantau.web.deps import DB, Admin, client_ip
from pantau.web.errors import Conflict, Invalid, NotFound
from pantau.web.schemas import AuditOut, UserIn, UserOut, UserPatch

router = APIRouter(prefix="/api", tags=["users"])


@router.get("/users", response_model=list[UserOut])
def list_users(_: Admin, session: DB) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def _api_error(exc: UserError) -> Exception:
    return Conflict(str(exc), exc.field) if exc.conflict else Invalid(str(exc), exc.field)


@router.post("/users", response_model=UserOut, status_code=201)
def add_user(body: UserIn, request: Request, scope: Admin, session: DB) -> User:
    try:
        user = create_user(
            session, body.username, body.password, body.role, body.scope_code, body.full_name
        )
    except UserError as exc:
        raise _api_error(exc) from exc
    audit.record(
        session,
        scope,
        "user.create",
        object_type="user",
        object_id=user.id,
        detail=body.model_dump(mode="json", exclude={"password"}),
        ip=client_ip(request),
    )
    return user


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(user_id: int, body: UserPatch, request: Request, scope: Admin, session: DB) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    changes = body.model_dump(exclude_unset=True)
    for key in ("role", "active", "full_name", "password"):
        if key in changes and changes[key] is None:
            raise Invalid(f"{key} cannot be null; leave it out to keep the current value", key)
    role = changes.get("role", user.role)
    code = changes.get("scope_code", user.scope_code if "role" not in changes else None)
    try:
        code = check_scope(session, role, code)
    except UserError as exc:
        raise _api_error(exc) from exc
    if changes.get("password"):
        user.password_hash = hash_password(changes["password"])
    user.role, user.scope_code = role, code
    for key in ("full_name", "active"):
        if key in changes:
            setattr(user, key, changes[key])
    if changes.get("active") is False or "password" in changes or "role" in changes:
        for row in session.scalars(select(AuthSession).where(AuthSession.user_id == user.id)):
            row.revoked = True
    audit.record(
        session,
        scope,
        "user.update",
        object_type="user",
        object_id=user.id,
        detail=body.model_dump(mode="json", exclude_unset=True, exclude={"password"})
        | ({"password": "changed"} if "password" in changes else {}),
        ip=client_ip(request),
    )
    return user


@router.get("/audit", response_model=list[AuditOut], tags=["audit"])
def list_audit(
    _: Admin,
    session: DB,
    action: str | None = None,
    actor: str | None = None,
    outcome: str | None = None,
    since: Annotated[
        datetime | None,
        Query(description="at or after this instant, with a zone: 2026-01-05T08:00+08:00"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditEntry]:
    """Newest first. `action` matches a prefix ("site." finds every site change)."""
    if since is not None and since.tzinfo is None:
        raise Invalid(
            "since needs a time zone (e.g. 2026-01-05T08:00:00+08:00 for WITA or a trailing Z "
            "for UTC); a bare time would be ambiguous",
            "since",
        )
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if outcome:
        query = query.where(AuditEntry.outcome == outcome)
    if since:
        query = query.where(AuditEntry.at >= since)
    return list(session.scalars(query))
