"""`pantau sim record`: whole simulated days written to video files faster than real time.

One MP4 per camera view per local day, one frame every `interval` seconds of simulated time.
The capture time of every frame is recoverable: pts (ms) counts from the first frame, whose UTC
time is in the file's metadata (`pantau_start_utc`) and in a JSON sidecar next to it, together
with the gaps (camera or site offline: no frames, as a real recorder would have none).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from pantau.sim.encode import H264Writer
from pantau.sim.groundtruth import GroundTruthWriter, utc
from pantau.sim.world import World


class RecordError(Exception):
    """The recording cannot be written; nothing was left half-written."""


@dataclass
class RecordedFile:
    site: str
    view: str
    day: str
    path: str
    start_utc: str
    end_utc: str
    frames: int
    interval_s: float
    width: int
    height: int
    gaps: list[dict[str, str]] = field(default_factory=list)


def check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".pantau-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RecordError(f"output directory {out} is not writable: {exc.strerror}") from exc


def frame_times(
    world: World, day: date, interval_s: float, hours: tuple[float, float] = (0.0, 24.0)
) -> list[datetime]:
    """Capture times of one local day, or of its local `hours` (e.g. (5.5, 18.5))."""
    start = world.local(day, 0.0) + timedelta(hours=hours[0])
    end = world.local(day, 0.0) + timedelta(hours=hours[1])
    n = int((end - start).total_seconds() // interval_s)
    return [start + timedelta(seconds=k * interval_s) for k in range(n)]


def record_day(
    world: World,
    scene: object,
    view: str,
    day: date,
    out: Path,
    *,
    interval_s: float,
    hours: tuple[float, float] = (0.0, 24.0),
    progress: Callable[[int], None] | None = None,
) -> RecordedFile | None:
    """Render and encode one view's day; returns None if the camera was offline all day."""
    folder = out / world.slug / view
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{day.isoformat()}.mp4"
    part = folder / f".{day.isoformat()}.mp4.part"
    width, height = scene.width, scene.height  # type: ignore[attr-defined]
    writer: H264Writer | None = None
    first: datetime | None = None
    last: datetime | None = None
    gaps: list[dict[str, str]] = []
    gap_start: datetime | None = None
    try:
        for k, at in enumerate(frame_times(world, day, interval_s, hours)):
            present, lights, tamper, offline = world.state_at(at, view)
            if progress:
                progress(1)
            if offline:
                gap_start = gap_start or at
                continue
            if gap_start is not None and first is not None:
                gaps.append({"start_utc": utc(gap_start), "end_utc": utc(at)})
            gap_start = None
            frame = scene.render(at, present, lights, tamper, frame_index=k)  # type: ignore[attr-defined]
            if writer is None:
                first = at
                writer = H264Writer(
                    str(part),
                    fmt="mp4",
                    width=width,
                    height=height,
                    gop=max(1, round(1 / interval_s)),  # a keyframe a second, as cameras
                    fps=1 / interval_s,
                    metadata={
                        "pantau_start_utc": utc(at),
                        "pantau_site": world.slug,
                        "pantau_view": view,
                    },
                )
            writer.write(frame, round((at - first).total_seconds() * 1000))
            last = at
        if writer is None:
            return None
        count = writer.frames
        writer.close()
        writer = None
        os.replace(part, final)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise RecordError(f"writing {final} failed: {exc.strerror or exc}") from exc
    finally:
        if writer is not None:
            try:
                writer.close()
            finally:
                part.unlink(missing_ok=True)
    assert first is not None and last is not None
    rec = RecordedFile(
        site=world.slug,
        view=view,
        day=day.isoformat(),
        path=final.name,
        start_utc=utc(first),
        end_utc=utc(last + timedelta(seconds=interval_s)),
        frames=count,
        interval_s=interval_s,
        width=width,
        height=height,
        gaps=gaps,
    )
    return rec


def record(
    world: World,
    scenes: dict[str, object],
    out: Path,
    first_day: date,
    days: int,
    *,
    interval_s: float = 5.0,
    hours: tuple[float, float] = (0.0, 24.0),
    progress: Callable[[int], None] | None = None,
) -> list[RecordedFile]:
    """Days x views; ground truth for each day goes to <out>/<site>/groundtruth.jsonl."""
    if not 0.0 <= hours[0] < hours[1] <= 24.0:
        raise RecordError(f"hours must be a local range within 0-24, got {hours[0]}-{hours[1]}")
    check_writable(out)
    truth = GroundTruthWriter(out / world.slug / "groundtruth.jsonl")
    files: list[RecordedFile] = []
    for d in range(days):
        day = first_day + timedelta(days=d)
        plan, facts = world.day(day)
        for view, scene in scenes.items():
            rec = record_day(
                world, scene, view, day, out, interval_s=interval_s, hours=hours, progress=progress
            )
            if rec is not None:
                sidecar = out / world.slug / view / f"{day.isoformat()}.json"
                sidecar.write_text(json.dumps(asdict(rec), indent=1), encoding="utf-8")
                files.append(rec)
        truth.write_day(plan, facts, world.zone)
    return files
