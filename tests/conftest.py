"""Shared fixtures. Every database test runs twice: on SQLite and on the real PostgreSQL server.

PostgreSQL is not optional: if it cannot be reached the tests fail (CI starts the server).
Set PANTAU_TEST_PG_URL to point elsewhere (default: postgres@127.0.0.1:5432, trust auth).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pantau.accounts.users import create_user
from pantau.config.model import Settings
from pantau.runtime import Runtime, open_runtime
from pantau.store.db import transaction
from pantau.store.models import Role
from pantau.web.app import create_app
from tests.support.edge import netns  # noqa: F401  (the fixture of the edge tests)
from tests.support.media import make_clip, to_annexb
from tests.support.rtsp import RtspServer

PG_ADMIN_URL = os.environ.get(
    "PANTAU_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "rahasia-123"

# One user per role; camat of Mandonga (74.71.01), lurah of Korumba (74.71.01.1006).
ROLE_USERS = {
    "admin": (Role.ADMIN, None),
    "operator": (Role.OPERATOR, None),
    "pimpinan": (Role.PIMPINAN, None),
    "camat": (Role.CAMAT, "74.71.01"),
    "lurah": (Role.LURAH, "74.71.01.1006"),
}


class PgDatabases:
    """Creates throw-away databases on the PostgreSQL server and drops them at the end."""

    def __init__(self) -> None:
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def new(self) -> str:
        name = f"pantau_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg() -> Iterator[PgDatabases]:
    dbs = PgDatabases()
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def make_settings(
    tmp_path_factory: pytest.TempPathFactory, pg: PgDatabases
) -> Callable[[str], Settings]:
    """Fresh settings on a new, empty database of the given backend."""

    def make(backend: str) -> Settings:
        data_dir = tmp_path_factory.mktemp(f"data-{backend}")
        url = pg.new() if backend == "postgresql" else f"sqlite:///{data_dir / 'pantau.db'}"
        return Settings.model_validate({"data_dir": str(data_dir), "database": {"url": url}})

    return make


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def fresh_runtime(backend: str, make_settings: Callable[[str], Settings]) -> Iterator[Runtime]:
    """A runtime on its own new database, migrated and seeded."""
    rt = open_runtime(make_settings(backend))
    yield rt
    rt.close()


@pytest.fixture(scope="session", params=BACKENDS)
def shared_runtime(
    request: pytest.FixtureRequest, make_settings: Callable[[str], Settings]
) -> Iterator[Runtime]:
    """One migrated and seeded database per backend for the whole session (API tests).

    Tests using it must not depend on global counts they did not create themselves.
    """
    rt = open_runtime(make_settings(request.param))
    with transaction(rt.sessions) as session:
        for username, (role, code) in ROLE_USERS.items():
            create_user(session, username, PASSWORD, role, code, full_name=username.title())
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def client(shared_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(shared_runtime)) as c:
        yield c


@pytest.fixture(scope="session")
def tokens(client: TestClient) -> dict[str, str]:
    out = {}
    for username in ROLE_USERS:
        r = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        out[username] = r.json()["token"]
    client.cookies.clear()  # tests authenticate explicitly; no one is silently logged in
    return out


@pytest.fixture(scope="session")
def auth(tokens: dict[str, str]) -> Callable[[str], dict[str, str]]:
    """auth("lurah") -> headers for that role's user."""
    return lambda role: {"Authorization": f"Bearer {tokens[role]}"}


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def clip720(media_dir: Path) -> Path:
    """6 s of 1280x720 H.264 at 25 fps, 2 Mbit/s, one keyframe per second."""
    return make_clip(media_dir / "clip720.mp4")


@pytest.fixture(scope="session")
def clip720_h264(clip720: Path, media_dir: Path) -> Path:
    return to_annexb(clip720, media_dir / "clip720.h264")


@pytest.fixture
def rtsp_server(clip720_h264: Path) -> Iterator[Callable[..., RtspServer]]:
    """rtsp_server({"cam1": path}, user=..., password=...) -> a started server (stopped after)."""
    started: list[RtspServer] = []

    def start(mounts: dict[str, Path] | None = None, **kw: object) -> RtspServer:
        server = RtspServer(mounts or {"cam1": clip720_h264}, **kw).start()  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
