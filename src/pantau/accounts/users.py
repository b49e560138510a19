"""User accounts: creation with role and scope checks."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.accounts.passwords import hash_password
from pantau.accounts.scope import check_role_scope
from pantau.store.models import Role, User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")


class UserError(ValueError):
    """A user that cannot be created or changed as asked."""


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    scope_code: str | None = None,
    full_name: str = "",
) -> User:
    if not USERNAME.match(username):
        raise UserError(
            f"username {username!r} must be 2-80 characters: lower-case letters, digits, . _ -"
        )
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    try:
        check_role_scope(role, scope_code)
        pw_hash = hash_password(password)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    user = User(
        username=username,
        password_hash=pw_hash,
        role=role,
        scope_code=scope_code or None,
        full_name=full_name,
    )
    session.add(user)
    session.flush()
    return user
