"""Request dependencies: a database session per request and the caller's scope."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from pantau.accounts.scope import Scope
from pantau.runtime import Runtime
from pantau.store.models import AuthSession
from pantau.store.types import utcnow
from pantau.web.errors import ApiError, Forbidden

COOKIE = "pantau_session"


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed if the handler returns, rolled back if it raises."""
    with runtime(request).sessions() as session, session.begin():
        yield session


# scope="function": commit before the response is sent. With FastAPI's default ("request")
# the commit ran after the client already had its 2xx, so a failed commit (and its audit
# entry) was silently lost, and a client could read before its own write was visible.
DB = Annotated[Session, Depends(db, scope="function")]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE)


def current_scope(request: Request, session: DB) -> Scope:
    token = bearer_token(request)
    if not token:
        raise ApiError(401, "unauthorized", "login required: send a Bearer token or session cookie")
    row = session.get(AuthSession, token_hash(token))
    if row is None or row.revoked:
        raise ApiError(401, "unauthorized", "session not recognised or logged out; log in again")
    if row.expires_at <= utcnow():
        raise ApiError(401, "unauthorized", "session expired; log in again")
    if not row.user.active:
        raise ApiError(401, "unauthorized", "account disabled")
    scope = Scope.of(row.user)
    request.state.scope = scope
    return scope


def _role_denied(request: Request) -> Forbidden:
    """Denied by role: the audit row names the object from the path (its last id) if any."""
    action = f"{request.method} {request.url.path}"
    if request.path_params:
        name, value = list(request.path_params.items())[-1]
        return Forbidden(action, name.removesuffix("_id"), value)
    return Forbidden(action)


def admin_scope(request: Request, scope: Annotated[Scope, Depends(current_scope)]) -> Scope:
    if not scope.is_admin:
        raise _role_denied(request)
    return scope


def city_scope(request: Request, scope: Annotated[Scope, Depends(current_scope)]) -> Scope:
    """Readers of city-wide settings (calendars): admin, operator, pimpinan."""
    if not scope.sees_all:
        raise _role_denied(request)
    return scope


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


Caller = Annotated[Scope, Depends(current_scope)]
Admin = Annotated[Scope, Depends(admin_scope)]
CityReader = Annotated[Scope, Depends(city_scope)]
