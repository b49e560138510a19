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
from pathlib import Path

from pantau.media.reader import StreamFailure, StreamReader
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
    """Per-file resume point (the last fully written minute) under the data directory."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, camera_id: int, source: Path) -> Path:
        key = hashlib.sha256(f"{camera_id}|{source.resolve()}".encode()).hexdigest()[:24]
        return self.folder / f"{key}.json"

    def done_until(self, camera_id: int, source: Path) -> datetime | None:
        f = self._file(camera_id, source)
        if not f.exists():
            return None
        return datetime.fromisoformat(json.loads(f.read_text())["done_until"])

    def mark(self, camera_id: int, source: Path, until: datetime) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        f = self._file(camera_id, source)
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps({"source": str(source), "done_until": until.isoformat()}))
        tmp.replace(f)


def analyze_source(
    source: Source,
    camera_id: int,
    analyzer: CameraAnalyzer,
    write: Callable[[list[dict]], None],
    progress: ResumeLog,
    *,
    sample_fps: float = 1.0,
    advance: Callable[[float], None] | None = None,
) -> int:
    """Analyse one file; returns the number of observation rows written."""
    resume = progress.done_until(camera_id, source.path)
    agg = MinuteAggregator(camera_id, source="backfill")
    written = 0
    last_at = source.start
    try:
        reader = StreamReader(
            str(source.path),
            live=False,
            start_time=source.start,
            sample="fps",
            sample_fps=sample_fps,
        )
        reader.open()
    except StreamFailure as exc:
        raise BackfillError(f"{source.path}: {exc.message}") from exc
    with reader:
        for info in _packets(reader, source.path):
            if advance:
                advance((info.at - last_at).total_seconds())
            last_at = info.at
            if resume is not None and info.at < resume + timedelta(minutes=1):
                continue
            frame = reader.sample(info)
            if frame is None:
                continue
            rows = agg.add(analyzer.process(frame))
            if rows:
                write(rows)
                written += len(rows)
                progress.mark(camera_id, source.path, rows[-1]["minute"])
    rows = agg.flush()
    if rows:
        write(rows)
        written += len(rows)
        progress.mark(camera_id, source.path, rows[-1]["minute"])
    return written


def _packets(reader: StreamReader, path: Path) -> Iterator:
    try:
        yield from reader.packets()
    except StreamFailure as exc:
        if exc.reason != "ended":
            raise BackfillError(f"{path}: {exc.message}") from exc
