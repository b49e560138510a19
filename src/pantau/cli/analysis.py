"""The footage analysis shared by `pantau analyze` (hub, into the database) and `pantau agent
analyze` (site, into the outbox): only where the rows go differs, so the two cannot drift
apart in how files are found, split over processes, resumed and shown."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from pantau.cli.common import console, fail
from pantau.config.model import Settings
from pantau.pipeline.backfill import BackfillError, ResumeLog, Source, discover, plan
from pantau.pipeline.camera import CameraSpec, make_analyzer


def find_footage(path: Path, start: datetime | None) -> list[Source]:
    """The files to analyse, or a clear exit (no time zone, no files, no capture time)."""
    if start is not None and start.tzinfo is None:
        fail("--start needs a time zone, e.g. 2026-11-30T07:00:00+08:00")
    try:
        return discover(path, start)
    except BackfillError as exc:
        fail(str(exc))


def analyse_footage(
    sources: list[Source],
    spec: CameraSpec,
    settings: Settings,
    write: Callable[[list[dict[str, Any]]], None],
    resume_dir: Path,
    *,
    sample_fps: float,
    jobs: int | None,
) -> int:
    """Analyse `sources` into minute rows handed to `write`, with a progress bar; returns the
    rows written. Resumable: pieces already done (per `resume_dir`) are skipped."""
    from pantau.pipeline.backfill_pool import backfill

    if make_analyzer(spec, settings) is None:
        fail("analytics are disabled in the configuration (analytics.enabled)")
    groups = plan(sources, jobs or os.cpu_count() or 1)
    total = sum(s.seconds or 0 for s in sources) or None
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(f"{len(sources)} file(s), {len(groups)} job(s)", total=total)
        try:
            rows, _ = backfill(
                groups,
                spec,
                settings,
                write,
                ResumeLog(resume_dir),
                sample_fps=sample_fps,
                advance=lambda s: bar.advance(task, s),
            )
        except BackfillError as exc:
            fail(str(exc))
    return rows
