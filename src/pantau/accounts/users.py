"""User accounts: creation with role and scope checks."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.accounts.passwords import hash_password
from pantau.accounts.scope import check_role_scope
from pantau.store.models import Kecamatan, Kelurahan, Role, User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")


class UserError(ValueError):
    """A user that cannot be created or changed as asked; `field` names the culprit."""

    def __init__(self, message: str, field: str | None = None, conflict: bool = False) -> None:
        super().__init__(message)
        self.field, self.conflict = field, conflict


def check_scope(session: Session, role: Role, scope_code: str | None) -> str | None:
    """Role and scope fit together and the region exists; returns the trimmed code."""
    code = (scope_code or "").strip() or None
    try:
        check_role_scope(Role(role), code)
    except ValueError as exc:
        raise UserError(str(exc), "scope_code") from exc
    check_scope_exists(session, Role(role), code)
    return code


def check_scope_exists(session: Session, role: Role, scope_code: str | None) -> None:
    """A well-formed code that is not in the registry would give a user who sees nothing."""
    if not scope_code:
        return
    model = {Role.CAMAT: Kecamatan, Role.LURAH: Kelurahan}.get(Role(role))
    if model is not None and session.get(model, scope_code.strip()) is None:
        raise UserError(
            f"{Role(role).value} scope {scope_code!r} is not in the registry "
            "(see `pantau sites list`)",
            "scope_code",
        )


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    scope_code: str | None = None,
    full_name: str = "",
) -> User:
    # fullmatch: with match(), "$" also accepts a trailing newline ("admin\n").
    if not USERNAME.fullmatch(username):
        raise UserError(
            f"username {username!r} must be 2-80 characters: lower-case letters, digits, . _ - "
            "(starting with a letter or digit)",
            "username",
        )
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists", "username", conflict=True)
    scope_code = check_scope(session, role, scope_code)
    try:
        pw_hash = hash_password(password)
    except ValueError as exc:
        raise UserError(str(exc), "password") from exc
    user = User(
        username=username,
        password_hash=pw_hash,
        role=role,
        scope_code=scope_code,
        full_name=full_name,
    )
    session.add(user)
    session.flush()
    return user
