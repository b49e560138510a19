"""Storage: engines, pragmas, migrations and the UTC column type, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, StatementError

import pantau.store.migrations
from pantau.config.model import Settings
from pantau.store.db import (
    DatabaseUnavailable,
    check_connection,
    make_engine,
    redact,
    session_factory,
    transaction,
)
from pantau.store.migrate import current_revision, head_revision, upgrade
from pantau.store.models import AuditEntry, Base, Kecamatan, Kelurahan
from pantau.store.types import UTCDateTime

WITA = timezone(timedelta(hours=8), "WITA")
TABLES = {
    "audit",
    "auth_session",
    "calendar",
    "calendar_rule",
    "camera",
    "kecamatan",
    "kelurahan",
    "site",
    "user_account",
}


@pytest.fixture
def engine(backend: str, make_settings: Callable[[str], Settings]) -> Iterator[Engine]:
    """An engine on a brand-new, empty database (nothing migrated)."""
    eng = make_engine(make_settings(backend).database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def migrated(engine: Engine) -> Engine:
    upgrade(engine)
    return engine


# ---------------------------------------------------------------- migrations


def test_head_revision_is_the_last_migration_file() -> None:
    versions = Path(pantau.store.migrations.__file__).parent / "versions"
    newest = max(p.name.split("_", 1)[0] for p in versions.glob("[0-9]*.py"))
    assert head_revision() == newest


def test_upgrade_from_empty_then_again_is_a_no_op(engine: Engine) -> None:
    check_connection(engine)
    assert current_revision(engine) is None
    before, after = upgrade(engine)
    assert (before, after) == (None, head_revision())
    assert set(inspect(engine).get_table_names()) >= TABLES

    before, after = upgrade(engine)
    assert before == after == head_revision()
    assert current_revision(engine) == head_revision()


def test_second_upgrade_keeps_data(migrated: Engine) -> None:
    with transaction(session_factory(migrated)) as s:
        s.add(Kecamatan(code="74.71.01", name="Mandonga"))
    upgrade(migrated)
    with session_factory(migrated)() as s:
        assert s.scalar(select(func.count()).select_from(Kecamatan)) == 1


def test_migrations_match_the_models(migrated: Engine) -> None:
    """An autogenerate diff between the migrated schema and the models must be empty."""
    with migrated.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


# ---------------------------------------------------------------- engine behaviour


def test_sqlite_wal_and_foreign_keys(make_settings: Callable[[str], Settings]) -> None:
    settings = make_settings("sqlite")
    eng = make_engine(settings.database_url)
    try:
        # Two simultaneous connections: the pragmas must hold on each, not just the first.
        with eng.connect() as a, eng.connect() as b:
            for conn in (a, b):
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
                assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000
    finally:
        eng.dispose()
    assert (settings.data_dir / "pantau.db").exists()


def test_postgresql_by_url(make_settings: Callable[[str], Settings]) -> None:
    eng = make_engine(make_settings("postgresql").database_url)
    try:
        assert eng.dialect.name == "postgresql"
        with eng.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        eng.dispose()


def test_foreign_keys_are_enforced(migrated: Engine) -> None:
    with pytest.raises(IntegrityError), transaction(session_factory(migrated)) as s:
        s.add(Kelurahan(code="74.71.99.1001", name="Hantu", kecamatan_code="74.71.99"))
    with session_factory(migrated)() as s:
        assert s.scalar(select(func.count()).select_from(Kelurahan)) == 0


def test_transaction_rolls_back_on_error(migrated: Engine) -> None:
    with pytest.raises(RuntimeError), transaction(session_factory(migrated)) as s:
        s.add(Kecamatan(code="74.71.01", name="Mandonga"))
        s.flush()
        raise RuntimeError("boom")
    with session_factory(migrated)() as s:
        assert s.scalar(select(func.count()).select_from(Kecamatan)) == 0


def test_unreachable_postgresql_is_reported_clearly() -> None:
    eng = make_engine("postgresql+psycopg://postgres:sekret@127.0.0.1:1/x")
    try:
        with pytest.raises(DatabaseUnavailable) as info:
            check_connection(eng)
    finally:
        eng.dispose()
    msg = str(info.value)
    assert msg.startswith("cannot reach database postgresql+psycopg://postgres:***@127.0.0.1:1/x")
    assert "sekret" not in msg


def test_sqlite_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DatabaseUnavailable) as info:
        make_engine(f"sqlite:///{blocker / 'sub' / 'pantau.db'}")
    assert "cannot reach database" in str(info.value)


def test_sqlite_path_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    eng = make_engine(f"sqlite:///{tmp_path / 'db'}")
    try:
        with pytest.raises(DatabaseUnavailable, match="cannot reach database"):
            check_connection(eng)
    finally:
        eng.dispose()


def test_invalid_url_does_not_echo_the_password() -> None:
    with pytest.raises(DatabaseUnavailable) as info:
        make_engine("postgresql+psycopg://u:sekret@host:port/x")
    assert "not valid" in str(info.value) and "sekret" not in str(info.value)


def test_redact() -> None:
    assert redact("postgresql+psycopg://u:pw@h/x") == "postgresql+psycopg://u:***@h/x"
    assert redact("sqlite:////var/lib/pantau/pantau.db") == "sqlite:////var/lib/pantau/pantau.db"
    assert redact("postgresql://u:pw@h:nope/x") == "<invalid URL>"


# ---------------------------------------------------------------- UTCDateTime


def test_utc_datetime_round_trip(migrated: Engine) -> None:
    local = datetime(2026, 11, 23, 7, 30, 15, 123456, tzinfo=WITA)
    with transaction(session_factory(migrated)) as s:
        s.add(AuditEntry(actor="test", action="a", at=local))
        s.add(AuditEntry(actor="test", action="b", at=datetime(2026, 11, 23, 0, 0, tzinfo=UTC)))
    with session_factory(migrated)() as s:
        got = s.scalar(select(AuditEntry.at).where(AuditEntry.action == "a"))
        assert got == local
        assert got.tzinfo is UTC
        assert (got.hour, got.minute, got.microsecond) == (23, 30, 123456)
        assert got.day == 22
        # Comparisons in SQL work on the UTC instant, whatever zone the bound value has.
        later = s.scalars(
            select(AuditEntry.action).where(
                AuditEntry.at > datetime(2026, 11, 23, 7, 0, tzinfo=WITA)
            )
        ).all()
        assert later == ["a", "b"]
    with migrated.connect() as conn:
        raw = conn.execute(text("SELECT at FROM audit WHERE action = 'a'")).scalar()
    assert str(raw).startswith("2026-11-22 23:30:15")


def test_utc_datetime_rejects_naive(migrated: Engine) -> None:
    with pytest.raises(StatementError) as info, transaction(session_factory(migrated)) as s:
        s.add(AuditEntry(actor="test", action="naive", at=datetime(2026, 11, 23, 7, 30)))
    assert isinstance(info.value.orig, ValueError)
    assert "naive datetime" in str(info.value)
    with session_factory(migrated)() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_utc_datetime_type_directly(dialect: object) -> None:
    col = UTCDateTime()
    with pytest.raises(ValueError, match="naive"):
        col.process_bind_param(datetime(2026, 1, 1), dialect)
    bound = col.process_bind_param(datetime(2026, 1, 1, 8, 0, tzinfo=WITA), dialect)
    assert bound == datetime(2026, 1, 1, 0, 0) and bound.tzinfo is None
    assert col.process_bind_param(None, dialect) is None
    assert col.process_result_value(None, dialect) is None
    assert col.process_result_value(datetime(2026, 1, 1), dialect) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
