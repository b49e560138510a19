"""What a running Pantau process holds: settings, database, secrets. Built once at start."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pantau.config.model import Settings
from pantau.hub.keys import hub_signing_key
from pantau.registry.cameras import sync_config_cameras
from pantau.registry.secrets import SecretBox
from pantau.registry.seed import seed_kendari
from pantau.store.db import check_connection, make_engine, session_factory, transaction
from pantau.store.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    secrets: SecretBox

    def close(self) -> None:
        self.engine.dispose()


def open_runtime(settings: Settings, *, prepare: bool = True) -> Runtime:
    """Connect first (so an unreachable database changes nothing), then migrate and seed.

    `prepare` runs migrations, the Kendari seed and the cameras from the config file; all three
    are idempotent, so every start can run them.
    """
    engine = make_engine(settings.database_url, echo=settings.database.echo)
    try:
        check_connection(engine)
        rt = Runtime(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            secrets=SecretBox(settings.data_dir / "secret.key"),
        )
        if prepare:
            hub_signing_key(settings)  # before any request could race to create it
            upgrade(engine)
            with transaction(rt.sessions) as session:
                result = seed_kendari(session)
                if result.created:
                    log.info("seeded %d sites", result.created)
                sync_config_cameras(session, settings.cameras, rt.secrets)
    except BaseException:
        engine.dispose()
        raise
    return rt
