"""Where a shard's CPU goes: per-stage thread CPU time inside a real worker process.

Used by `bench/live_cameras_cpu.py --probe`. The shard process runs Pantau's own `run_shard`
unchanged; before that, the stages of the camera path are wrapped with timers that add up
*exclusive* thread CPU time (`time.thread_time`, so waiting and other processes do not count,
and a stage nested in another — a DB write inside the recorder's segment callback — is counted
once, in the inner stage). Between the benchmark's start and end marks the probe also reads
every thread's CPU from /proc, so the work outside any stage (demuxing RTSP in FFmpeg, the
worker loop, health bookkeeping, FFmpeg/onnxruntime helper threads, the shard's polling loop)
is accounted for too. The wrappers cost about a microsecond per call.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")

# (module, attribute path, stage). Order does not matter: times are exclusive.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("pantau.media.reader", "StreamReader.sample", "decode keyframe"),
    ("pantau.media.reader", "StreamReader._shrink", "colour convert + resize"),
    ("pantau.media.recorder", "SegmentRecorder.write", "record (mux to .ts)"),
    ("pantau.media.reader", "StreamReader._stamp", "per-packet clock + health"),
    ("pantau.pipeline.health", "HealthTracker.packet", "per-packet clock + health"),
    ("pantau.pipeline.camera", "CameraWorker._emit", "per-packet clock + health"),
    ("pantau.pipeline.sinks", "DbSink.frame", "wall snapshot (JPEG)"),
    ("pantau.vision.motion", "MotionDetector.update", "motion"),
    ("pantau.vision.light", "LightMeter.update", "light"),
    ("pantau.vision.tamper", "TamperDetector.update", "tamper"),
    ("pantau.pipeline.observe", "is_monochrome", "infrared check"),
    ("pantau.vision.detector", "PersonDetector._run", "person detector (per pass)"),
    ("pantau.pipeline.observe", "CameraAnalyzer.process", "analyser glue (NMS, zones)"),
    ("pantau.pipeline.observe", "MinuteAggregator.add", "analyser glue (NMS, zones)"),
    ("pantau.pipeline.sinks", "DbSink.observations", "DB writes"),
    ("pantau.pipeline.sinks", "DbSink.health", "DB writes"),
    ("pantau.pipeline.sinks", "DbSink.state", "DB writes"),
    ("pantau.pipeline.sinks", "DbSink.segment", "DB writes"),
)


class _Acc:
    """One thread's accumulators (plain object: the collector thread reads them all)."""

    def __init__(self) -> None:
        self.stack: list[float] = []
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.calls: defaultdict[str, int] = defaultdict(int)


_all: list[_Acc] = []
_local = threading.local()


def _mine() -> _Acc:
    acc = getattr(_local, "acc", None)
    if acc is None:
        acc = _local.acc = _Acc()
        _all.append(acc)
    return acc


def _timed(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        acc = _mine()
        t0 = time.thread_time()
        acc.stack.append(0.0)
        try:
            return fn(*args, **kwargs)
        finally:
            elapsed = time.thread_time() - t0
            acc.cpu[stage] += elapsed - acc.stack.pop()
            acc.calls[stage] += 1
            if acc.stack:
                acc.stack[-1] += elapsed

    return wrapper


def install() -> None:
    import importlib

    for module_name, path, stage in STAGES:
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        try:
            for part in parents:
                owner = getattr(owner, part)
            setattr(owner, name, _timed(stage, getattr(owner, name)))
        except AttributeError:  # the code moved on: that stage lands in "outside stages"
            print(f"probe: {module_name}.{path} not found, not timed", file=sys.stderr)


def _totals() -> tuple[dict[str, float], dict[str, int]]:
    cpu: defaultdict[str, float] = defaultdict(float)
    calls: defaultdict[str, int] = defaultdict(int)
    for acc in list(_all):
        for k, v in list(acc.cpu.items()):
            cpu[k] += v
        for k, n in list(acc.calls.items()):
            calls[k] += n
    return dict(cpu), dict(calls)


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads: camera workers, named Python threads (the shard
    loop, the incident evaluator...), and native threads Python does not know (FFmpeg's and
    onnxruntime's pools)."""
    from pantau.pipeline.camera import CameraWorker

    names = {}
    for t in threading.enumerate():
        names[t.native_id] = "camera threads" if isinstance(t, CameraWorker) else t.name
    out: defaultdict[str, float] = defaultdict(float)
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended
        name = names.get(int(task.name))
        if name is None:  # not a Python thread: FFmpeg's or onnxruntime's, by its OS name
            try:
                name = "native: " + (task / "comm").read_text().strip()
            except OSError:
                continue
        out[name] += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return dict(out)


def _collect(start: MpEvent, end: MpEvent, out: Path) -> None:
    start.wait()
    cpu0, calls0 = _totals()
    threads0 = _thread_cpu()
    end.wait()
    cpu1, calls1 = _totals()
    threads1 = _thread_cpu()
    report = {
        "stages": {k: v - cpu0.get(k, 0.0) for k, v in cpu1.items()},
        "calls": {k: n - calls0.get(k, 0) for k, n in calls1.items()},
        "threads": {k: v - threads0.get(k, 0.0) for k, v in threads1.items()},
    }
    out.write_text(json.dumps(report, indent=1))


def probed_run_shard(
    settings_json: str,
    index: int,
    count: int,
    stop: MpEvent,
    start_mark: MpEvent,
    end_mark: MpEvent,
    out: str,
) -> None:
    """Pantau's shard entry point, with the stage timers and the collector around it."""
    install()
    threading.Thread(
        target=_collect, args=(start_mark, end_mark, Path(out)), name="probe", daemon=True
    ).start()
    from pantau.pipeline.shard import run_shard

    run_shard(settings_json, index, count, stop)
