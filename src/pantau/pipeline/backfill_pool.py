"""Backfill on every core: pieces of footage analysed in worker processes.

One analyzer per piece (its state is per camera and per stretch of time), rows and progress
streamed back to the parent, which alone writes the database and the resume log — so an
interrupted run resumes per piece and SQLite never sees two writers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from typing import Any

from pantau.config.model import Settings
from pantau.pipeline.backfill import (
    BackfillError,
    Piece,
    ResumeLog,
    analyze_piece,
    finish_group,
    mark_rows,
)
from pantau.pipeline.camera import CameraSpec, make_analyzer
from pantau.pipeline.observe import MinuteAggregator
from pantau.pipeline.orphan import watch_parent

_events: Any = None  # the worker's end of the queue (set by the pool initializer)


def _init(events: Any, parent: int | None = None) -> None:
    global _events
    _events = events
    watch_parent(lambda: os._exit(1), parent)  # nothing to save: the parent records what is done


def _run(
    key: int,
    pieces: list[Piece],
    resumes: list[datetime | None],
    spec: CameraSpec,
    settings: Settings,
    sample_fps: float,
) -> int:
    analyzer = make_analyzer(spec, settings)
    if analyzer is None:
        raise BackfillError("analytics are disabled in the configuration (analytics.enabled)")
    total = 0
    minutes = MinuteAggregator(spec.id, source="backfill")
    for index, (piece, resume) in enumerate(zip(pieces, resumes, strict=True)):
        total += analyze_piece(
            piece,
            spec.id,
            analyzer,
            lambda rows, i=index: _events.put(("rows", key, i, rows)),
            resume,
            sample_fps=sample_fps,
            advance=lambda s: _events.put(("advance", key, 0, s)),
            minutes=minutes,
        )
    total += finish_group(minutes, lambda rows: _events.put(("rows", key, len(pieces) - 1, rows)))
    _events.put(("passes", key, 0, analyzer.detector_runs))
    return total


def run_backfill(
    groups: list[list[Piece]],
    spec: CameraSpec,
    settings: Settings,
    write: Callable[[list[dict]], None],
    log: ResumeLog,
    *,
    sample_fps: float,
    advance: Callable[[float], None] | None = None,
) -> tuple[int, int]:
    """Analyse each group in its own process; returns (rows written, detector passes).

    The first error (a corrupt file, a file without time) stops the run with its message;
    rows already written stay written and their pieces resume from there next time.
    """
    ctx = mp.get_context("spawn")  # onnxruntime and threads do not survive fork() reliably
    events = ctx.Queue()
    rows_written = 0
    passes = 0

    def handle(event: tuple) -> None:
        nonlocal rows_written, passes
        kind, key, _index, payload = event
        if kind == "rows":
            write(payload)
            rows_written += len(payload)
            mark_rows(log, spec.id, groups[key], payload)
        elif kind == "advance" and advance:
            advance(payload)
        elif kind == "passes":
            passes += payload

    with ProcessPoolExecutor(
        max_workers=len(groups), mp_context=ctx, initializer=_init, initargs=(events, os.getpid())
    ) as pool:
        futures: list[Future] = [
            pool.submit(
                _run,
                key,
                pieces,
                [log.done_until(spec.id, p.source.path, p.begin) for p in pieces],
                spec,
                settings,
                sample_fps,
            )
            for key, pieces in enumerate(groups)
        ]
        while True:
            try:
                handle(events.get(timeout=0.2))
                continue
            except queue.Empty:
                pass
            if all(f.done() for f in futures):
                break
        while True:  # what the workers queued just before they finished
            try:
                handle(events.get(timeout=0.2))
            except queue.Empty:
                break
        for f in futures:
            f.result()  # re-raises a worker's BackfillError here
    return rows_written, passes


def backfill(
    groups: list[list[Piece]],
    spec: CameraSpec,
    settings: Settings,
    write: Callable[[list[dict]], None],
    log: ResumeLog,
    *,
    sample_fps: float,
    advance: Callable[[float], None] | None = None,
) -> tuple[int, int]:
    """`run_backfill` for several groups; one group runs here, without a process to spawn."""
    if len(groups) > 1:
        return run_backfill(
            groups, spec, settings, write, log, sample_fps=sample_fps, advance=advance
        )
    analyzer = make_analyzer(spec, settings)
    if analyzer is None:
        raise BackfillError("analytics are disabled in the configuration (analytics.enabled)")
    total = 0
    minutes = MinuteAggregator(spec.id, source="backfill")
    pieces = groups[0] if groups else []

    def write_and_mark(rows: list[dict]) -> None:
        write(rows)
        mark_rows(log, spec.id, pieces, rows)

    for piece in pieces:
        total += analyze_piece(
            piece,
            spec.id,
            analyzer,
            write_and_mark,
            log.done_until(spec.id, piece.source.path, piece.begin),
            sample_fps=sample_fps,
            advance=advance,
            minutes=minutes,
        )
    if pieces:
        total += finish_group(minutes, write_and_mark)
    return total, analyzer.detector_runs
