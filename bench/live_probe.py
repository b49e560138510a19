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


# ---- what-ifs: candidate changes tried from the outside, to size them before anyone edits ----


def _decoder_threads_1() -> None:
    """One decoding thread per camera (FFmpeg's default is one per core + 1, for a keyframe a
    second at 640x360)."""
    from pantau.media.reader import StreamReader

    original = StreamReader._check

    def _check(self: Any, container: Any) -> None:
        original(self, container)
        self._stream.codec_context.thread_count = 1

    StreamReader._check = _check


def _tamper_every(n: int) -> Callable[[], None]:
    """Tamper judged on every n-th sample (its minimum duration is 20 s); the others reuse it."""

    def apply() -> None:
        from pantau.vision.tamper import TamperDetector

        original = TamperDetector.update

        def update(self: Any, frame: Any, at: Any) -> Any:
            k = getattr(self, "_whatif_k", 0)
            self._whatif_k = k + 1
            if k % n == 0 or not hasattr(self, "_whatif_last"):
                self._whatif_last = original(self, frame, at)
            return self._whatif_last

        TamperDetector.update = update

    return apply


def _snapshot_every_10s() -> None:
    """The video wall's JPEG every 10 s per camera instead of every 2 s."""
    from pantau.pipeline.sinks import DbSink

    original = DbSink.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.snapshot_every = 10.0

    DbSink.__init__ = __init__


def _state_every_30s() -> None:
    """The camera_state row refreshed every 30 s instead of every 5 s (changes still at once)."""
    import pantau.pipeline.camera as camera

    camera.STATE_EVERY_SECONDS = 30.0


WHAT_IFS: dict[str, Callable[[], None]] = {
    "decoder-threads-1": _decoder_threads_1,
    "tamper-every-4": _tamper_every(4),
    "snapshot-every-10s": _snapshot_every_10s,
    "state-every-30s": _state_every_30s,
}


def probed_run_shard(
    settings_json: str,
    index: int,
    count: int,
    stop: MpEvent,
    start_mark: MpEvent,
    end_mark: MpEvent,
    out: str,
    what_if: tuple[str, ...] = (),
) -> None:
    """Pantau's shard entry point, with the stage timers and the collector around it (and any
    what-ifs applied first, so the timers wrap the changed code)."""
    for name in what_if:
        WHAT_IFS[name]()
    install()
    threading.Thread(
        target=_collect, args=(start_mark, end_mark, Path(out)), name="probe", daemon=True
    ).start()
    from pantau.pipeline.shard import run_shard

    run_shard(settings_json, index, count, stop)
