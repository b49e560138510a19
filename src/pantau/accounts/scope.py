"""Who may see and change what. One place, used by the API, the CLI and later the exports."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, or_

from pantau.store.models import Role, Site, User

READ_ALL = frozenset({Role.ADMIN, Role.OPERATOR, Role.PIMPINAN})


@dataclass(frozen=True)
class Scope:
    """A user's view of the city: everything, one kecamatan, or one kelurahan."""

    user_id: int | None
    username: str
    role: Role
    code: str | None = None

    @classmethod
    def of(cls, user: User) -> Scope:
        return cls(user_id=user.id, username=user.username, role=user.role, code=user.scope_code)

    @classmethod
    def system(cls, name: str = "system") -> Scope:
        return cls(user_id=None, username=name, role=Role.ADMIN)

    @property
    def sees_all(self) -> bool:
        return self.role in READ_ALL

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def can_see(self, kelurahan_code: str | None, kecamatan_code: str | None) -> bool:
        if self.sees_all:
            return True
        if self.role == Role.CAMAT:
            return kecamatan_code is not None and kecamatan_code == self.code
        if self.role == Role.LURAH:
            return kelurahan_code is not None and kelurahan_code == self.code
        return False

    def can_see_site(self, site: Site) -> bool:
        return self.can_see(site.kelurahan_code, site.kecamatan_code)

    def filter_sites(self, query: Select) -> Select:
        """Restrict a query that selects from Site; no rows for an unscoped regional user."""
        if self.sees_all:
            return query
        if self.role == Role.CAMAT:
            return query.where(Site.kecamatan_code == (self.code or ""))
        if self.role == Role.LURAH:
            return query.where(Site.kelurahan_code == (self.code or ""))
        return query.where(or_(False))


def check_role_scope(role: Role, code: str | None) -> None:
    """A camat needs a kecamatan code, a lurah a kelurahan code, everyone else none."""
    from pantau.registry.codes import check_kecamatan_code, check_kelurahan_code

    if role == Role.CAMAT:
        if not code:
            raise ValueError("role camat needs a kecamatan code as scope (e.g. 74.71.01)")
        check_kecamatan_code(code)
    elif role == Role.LURAH:
        if not code:
            raise ValueError("role lurah needs a kelurahan code as scope (e.g. 74.71.01.1005)")
        check_kelurahan_code(code)
    elif code:
        raise ValueError(f"role {role.value} sees the whole city and takes no scope code")
