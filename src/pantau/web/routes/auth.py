"""Login, logout and "who am I"."""

from __future__ import annotations

import functools
import secrets as pysecrets
from datetime import timedelta

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from pantau.accounts import audit
from pantau.accounts.passwords import hash_password, verify_password
from pantau.accounts.scope import Scope
from pantau.store.models import AuthSession, User
from pantau.store.types import utcnow
from pantau.web.deps import COOKIE, DB, Caller, bearer_token, client_ip, runtime, token_hash
from pantau.web.errors import ApiError, audit_outside
from pantau.web.schemas import LoginIn, LoginOut, UserOut

router = APIRouter(prefix="/api/auth", tags=["auth"])


@functools.cache
def _dummy_hash() -> str:
    return hash_password(pysecrets.token_urlsafe(24))


@router.post("/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, session: DB) -> LoginOut:
    user = session.scalar(select(User).where(User.username == body.username))
    # An unknown name costs one hash check too, so response time does not reveal which exist.
    stored = user.password_hash if user is not None else _dummy_hash()
    if not verify_password(stored, body.password) or user is None or not user.active:
        audit_outside(request, body.username, "auth.login", outcome="denied")
        raise ApiError(401, "unauthorized", "wrong username or password")
    token = pysecrets.token_urlsafe(32)
    hours = runtime(request).settings.auth.session_hours
    expires = utcnow() + timedelta(hours=hours)
    session.add(AuthSession(token_hash=token_hash(token), user_id=user.id, expires_at=expires))
    audit.record(session, Scope.of(user), "auth.login", ip=client_ip(request))
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(hours * 3600),
        httponly=True,
        samesite="lax",
        secure=runtime(request).settings.auth.cookie_secure,
    )
    return LoginOut(token=token, expires_at=expires, user=UserOut.model_validate(user))


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, scope: Caller, session: DB) -> None:
    # The same token current_scope authenticated (Bearer header, else the cookie).
    token = bearer_token(request) or ""
    row = session.get(AuthSession, token_hash(token))
    if row is not None:
        row.revoked = True
    audit.record(session, scope, "auth.logout", ip=client_ip(request))
    response.delete_cookie(COOKIE)


@router.get("/me", response_model=UserOut)
def me(scope: Caller, session: DB) -> User:
    user = session.get(User, scope.user_id)
    assert user is not None
    return user
