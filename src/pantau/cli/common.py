"""What every subcommand needs: settings from the file, a runtime, and clean failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from pantau.config.loader import ConfigError, load_settings
from pantau.config.model import Settings
from pantau.registry.cameras import CameraError
from pantau.registry.secrets import SecretError
from pantau.runtime import Runtime, open_runtime
from pantau.store.db import DatabaseUnavailable

console = Console()
err_console = Console(stderr=True)

EXIT_USAGE = 1
EXIT_CONFIG = 2
EXIT_DATABASE = 3


@dataclass
class CliState:
    config_path: Path | None = None
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                loaded = load_settings(self.config_path)
            except ConfigError as exc:
                fail(f"configuration error:\n{exc}", EXIT_CONFIG)
            for warning in loaded.warnings:
                err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
            self._settings = loaded.settings
            logging.basicConfig(
                level=loaded.settings.log_level,
                format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            )
            logging.getLogger("alembic").setLevel(logging.WARNING)
        return self._settings


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    # Messages quote user input (YAML values, CSV cells, paths); "[/]" in them must not be
    # parsed as Rich markup, which would crash or silently drop text.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def state(ctx: typer.Context) -> CliState:
    return ctx.ensure_object(CliState)


@contextmanager
def open_rt(ctx: typer.Context, prepare: bool = True) -> Iterator[Runtime]:
    """Open the runtime or exit with a clear message; nothing is written when the DB is down."""
    settings = state(ctx).settings
    try:
        rt = open_runtime(settings, prepare=prepare)
    except DatabaseUnavailable as exc:
        fail(
            f"{exc}\nCheck database.url in the configuration (or PANTAU_DATABASE_URL).",
            EXIT_DATABASE,
        )
    except CameraError as exc:
        fail(f"configuration error: {exc}", EXIT_CONFIG)
    except SecretError as exc:
        fail(f"secret key error: {exc}", EXIT_CONFIG)
    try:
        yield rt
    finally:
        rt.close()


# The options both `analyze` commands take, declared once.
FootagePath = Annotated[Path, typer.Argument(help="a video file or a folder of one camera's files")]
CameraOption = Annotated[int, typer.Option("--camera", help="camera id the footage belongs to")]
StartOption = Annotated[
    datetime | None,
    typer.Option(
        help="capture time of the first frame, for a single file without one "
        "(e.g. 2026-11-30T07:00:00+08:00)"
    ),
]
SampleFpsOption = Annotated[
    float,
    typer.Option(
        min=0.01,
        max=30,
        help="frames per second of footage to analyse (0.2 = one every 5 s; live runs 1)",
    ),
]
JobsOption = Annotated[
    int | None, typer.Option(min=1, max=64, help="worker processes [default: one per CPU core]")
]
