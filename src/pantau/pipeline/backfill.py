"""`pantau analyze`: the live pipeline run over files (a carried disk, `pantau sim record`).

Same analyzer, same minute aggregation, same sink as a live camera; the only difference is
where frame times come from: the file's own start time (a simulator sidecar, a recorder
segment name, or `--start`) plus its timestamps. Progress is kept per file, so an interrupted
run resumes where it stopped instead of starting over.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from pantau.media.reader import SampledFrame, StreamFailure, StreamReader
from pantau.media.recorder import parse_segment_start
from pantau.pipeline.observe import CameraAnalyzer, MinuteAggregator

VIDEO_SUFFIXES = (".mp4", ".ts", ".mkv", ".avi", ".mov")


class BackfillError(Exception):
    """The input cannot be analysed as asked; the message says how to fix it."""


@dataclass
class Source:
    path: Path
    start: datetime
    seconds: float | None  # known duration, for the progress bar
    camera_key: str | None  # which camera the file says it is (site/view), if it says


def _sidecar(path: Path) -> dict | None:
    side = path.with_suffix(".json")
    if side.exists():
        try:
            return json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BackfillError(f"{side}: unreadable sidecar: {exc}") from exc
    return None


def discover(path: Path, start: datetime | None) -> list[Source]:
    """Video files under `path`, each with its start time; refuses mixed cameras."""
    if not path.exists():
        raise BackfillError(f"{path} does not exist")
    files = sorted(
        p
        for p in ([path] if path.is_file() else path.rglob("*"))
        if p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")
    )
    if not files:
        raise BackfillError(f"no video files ({', '.join(VIDEO_SUFFIXES)}) under {path}")
    sources = []
    for f in files:
        side = _sidecar(f)
        if side is not None:
            begin = datetime.fromisoformat(side["start_utc"].replace("Z", "+00:00"))
            span = datetime.fromisoformat(side["end_utc"].replace("Z", "+00:00")) - begin
            sources.append(
                Source(f, begin, span.total_seconds(), f"{side.get('site')}/{side.get('view')}")
            )
            continue
        begin = parse_segment_start(f)
        if begin is not None:
            sources.append(Source(f, begin, None, f"segment:{f.parent.parent.name}"))
        elif start is not None and len(files) == 1:
            sources.append(Source(f, start, None, None))
        else:
            raise BackfillError(
                f"{f}: no time information. Pantau needs the capture time of the first frame: "
                "a simulator sidecar (.json next to the file), a recorder segment path "
                "(<camera>/<YYYY-MM-DD>/<HHMMSS>_<ms>Z.ts), or --start '2026-11-30T07:00:00+08:00' "
                "for a single file"
            )
    keys = {s.camera_key for s in sources if s.camera_key}
    if len(keys) > 1:
        raise BackfillError(
            f"{path} holds footage of several cameras ({', '.join(sorted(keys))}); analyse one "
            "camera's folder at a time with its --camera"
        )
    return sources


class ResumeLog:
    """Per-piece resume point (the last fully written minute) under the data directory."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, camera_id: int, source: Path, begin: datetime | None) -> Path:
        key = f"{camera_id}|{source.resolve()}" + (f"|{begin.isoformat()}" if begin else "")
        return self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"

    def done_until(
        self, camera_id: int, source: Path, begin: datetime | None = None
    ) -> datetime | None:
        f = self._file(camera_id, source, begin)
        if not f.exists():
            return None
        return datetime.fromisoformat(json.loads(f.read_text())["done_until"])

    def mark(
        self, camera_id: int, source: Path, until: datetime, begin: datetime | None = None
    ) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        f = self._file(camera_id, source, begin)
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps({"source": str(source), "done_until": until.isoformat()}))
        tmp.replace(f)


@dataclass(frozen=True)
class Piece:
    """A stretch of one file: frames captured in [begin, end) (None = the file's own edge)."""

    source: Source
    begin: datetime | None = None
    end: datetime | None = None


def mark_rows(log: ResumeLog, camera_id: int, pieces: list[Piece], rows: list[dict]) -> None:
    """Record rows as done under the piece each minute belongs to. A group's aggregator hands
    a file's last minute over only when the next file's first frame arrives; marked under the
    next file, it would set that file's resume point before its own start, and a resumed run
    would analyse the whole file again."""

    def starts(piece: Piece) -> datetime:
        return (piece.begin or piece.source.start).replace(second=0, microsecond=0)

    newest: dict[int, datetime] = {}
    for row in rows:
        owner = 0
        for k, piece in enumerate(pieces):
            if starts(piece) <= row["minute"]:
                owner = k
        newest[owner] = max(newest.get(owner, row["minute"]), row["minute"])
    for k, minute in newest.items():
        log.mark(camera_id, pieces[k].source.path, minute, pieces[k].begin)


def plan(sources: list[Source], jobs: int) -> list[list[Piece]]:
    """Split the footage into `jobs` contiguous runs that can be analysed side by side.

    Many files: consecutive files are grouped (the analyzer's learned state carries across
    files within a group). One long file of known length: cut at minute boundaries, so no
    minute is written by two workers. Each cut costs a short warm-up (see `analyze_piece`);
    a tamper already in place at a cut is seen only from the next change, like a camera that
    starts up covered — so cuts are few (one per extra job), never periodic.
    """
    jobs = max(1, jobs)
    if jobs == 1 or not sources:
        return [[Piece(s) for s in sources]]
    if len(sources) >= jobs:
        size = -(-len(sources) // jobs)
        groups = [[Piece(s) for s in sources[i : i + size]] for i in range(0, len(sources), size)]
        for before, after in pairwise(groups):
            # The minute where two groups meet is written by one of them only: the earlier
            # group also reads the later group's files up to the next whole minute, and the
            # later group uses them only to warm up.
            first = after[0].source.start
            edge = first.replace(second=0, microsecond=0)
            edge += timedelta(minutes=1) if edge < first else timedelta(0)
            for k, piece in enumerate(after):
                if piece.source.start >= edge:
                    break
                before.append(Piece(piece.source, end=edge))
                after[k] = Piece(piece.source, begin=edge)
        return groups
    groups: list[list[Piece]] = []
    per_file = max(1, jobs // len(sources))
    for s in sources:
        if s.seconds is None or s.seconds < 2 * 3600 or per_file == 1:
            groups.append([Piece(s)])
            continue
        step = timedelta(minutes=max(1, int(s.seconds / per_file // 60)))
        origin = s.start.replace(second=0, microsecond=0)
        cuts = [origin + step * k for k in range(1, per_file)]
        edges: list[datetime | None] = [None, *cuts, None]
        groups += [[Piece(s, a, b)] for a, b in pairwise(edges)]
    return groups


WARMUP = timedelta(minutes=2)


def analyze_piece(
    piece: Piece,
    camera_id: int,
    analyzer: CameraAnalyzer,
    write: Callable[[list[dict]], None],
    resume: datetime | None,
    *,
    sample_fps: float,
    advance: Callable[[float], None] | None = None,
    minutes: MinuteAggregator | None = None,
) -> int:
    """Analyse one piece; returns the number of observation rows written.

    `minutes`: the aggregator of the group this piece belongs to — a minute often spans two
    recorder segments, so the caller keeps one across the files of a run and flushes it at
    the end (`finish_group`). Without it the piece is aggregated and flushed on its own.

    Frames from `WARMUP` before the piece's begin are shown to the analyzer (motion seeds its
    background, tamper learns the view) but not counted, so a cut changes the rows next to it
    as little as possible. Time comes only from the file: its start plus frame timestamps.
    """
    source = piece.source
    agg = minutes or MinuteAggregator(camera_id, source="backfill")
    written = 0
    last_at = piece.begin or source.start
    skip_before = piece.begin - WARMUP if piece.begin else None
    count_from = piece.begin
    if resume is not None:
        count_from = resume + timedelta(minutes=1)
        skip_before = count_from - WARMUP
    try:
        reader = StreamReader(
            str(source.path),
            live=False,
            start_time=source.start,
            sample="keyframes",
            sample_fps=sample_fps,
            keyframe_every=1.0 / sample_fps,
            keyframe_after=analyzer.last_at,
        )
        reader.open()
    except StreamFailure as exc:
        raise BackfillError(f"{source.path}: {exc.message}") from exc

    def take(frame: SampledFrame) -> None:
        nonlocal written
        last = analyzer.last_at  # the sampling grid carries across the files of a run
        if last is not None and 0 <= (frame.at - last).total_seconds() < 0.9 / sample_fps:
            return
        facts = analyzer.process(frame)
        if count_from is not None and frame.at < count_from:
            return
        rows = agg.add(facts)
        if rows:
            write(rows)
            written += len(rows)

    with reader:
        for info in _packets(reader, source.path):
            if skip_before is not None and info.at < skip_before:
                continue
            frame = reader.sample(info)  # may complete the keyframe before `info`
            if frame is not None and (piece.end is None or frame.at < piece.end):
                take(frame)
            if piece.end is not None and info.at >= piece.end:
                break
            if advance and info.at > last_at:
                advance((info.at - last_at).total_seconds())
                last_at = info.at
        else:
            frame = reader.sample_pending()
            if frame is not None and (piece.end is None or frame.at < piece.end):
                take(frame)
    if minutes is None:
        written += finish_group(agg, write)
    if advance and piece.end is not None and piece.end > last_at:
        advance((piece.end - last_at).total_seconds())
    return written


def finish_group(minutes: MinuteAggregator, write: Callable[[list[dict]], None]) -> int:
    """Write the last, open minute of a run of pieces."""
    rows = minutes.flush()
    if rows:
        write(rows)
    return len(rows)


def analyze_source(
    source: Source,
    camera_id: int,
    analyzer: CameraAnalyzer,
    write: Callable[[list[dict]], None],
    progress: ResumeLog,
    *,
    sample_fps: float = 0.2,
    advance: Callable[[float], None] | None = None,
) -> int:
    """Analyse one whole file in this process, resuming after its last written minute."""

    def write_and_mark(rows: list[dict]) -> None:
        write(rows)
        progress.mark(camera_id, source.path, rows[-1]["minute"])

    return analyze_piece(
        Piece(source),
        camera_id,
        analyzer,
        write_and_mark,
        progress.done_until(camera_id, source.path),
        sample_fps=sample_fps,
        advance=advance,
    )


def _packets(reader: StreamReader, path: Path) -> Iterator:
    try:
        yield from reader.packets()
    except StreamFailure as exc:
        if exc.reason != "ended":
            raise BackfillError(f"{path}: {exc.message}") from exc
