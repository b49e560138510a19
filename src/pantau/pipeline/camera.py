"""One camera under supervision: connect, record, sample, report health; back off on failure.

A failure of one camera is a health state and a log line with the camera's name, never an
exception that reaches anything else (ARCHITECTURE principle 7).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from tenacity import RetryError, Retrying, retry_if_exception_type, wait_exponential_jitter

from pantau.config.model import Settings
from pantau.media.reader import PacketInfo, SampledFrame, StreamFailure, StreamReader
from pantau.media.recorder import RecorderError, SegmentInfo, SegmentRecorder, recover
from pantau.pipeline.health import HealthTracker, MinuteSample, State
from pantau.pipeline.observe import AnalyzerSettings, CameraAnalyzer, MinuteAggregator
from pantau.pipeline.sinks import Sink
from pantau.store.types import utcnow
from pantau.vision.detector import PersonDetector
from pantau.vision.zones import Zone, zones_mask

log = logging.getLogger(__name__)

STABLE_SECONDS = 60.0
STATE_EVERY_SECONDS = 5.0


@dataclass(frozen=True)
class CameraSpec:
    """What a worker needs to know about a camera (the URL includes decrypted credentials)."""

    id: int
    name: str
    url: str
    enabled: bool = True
    zones: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = ()


def zones_of(stored: list[dict] | None) -> tuple[tuple[str, tuple[tuple[float, float], ...]], ...]:
    """The camera row's zones JSON as the hashable form a CameraSpec holds."""
    return tuple(
        (z["name"], tuple((float(x), float(y)) for x, y in z["points"])) for z in stored or []
    )


_detector_lock = threading.Lock()
_detectors: dict[tuple[int, float], PersonDetector] = {}


def shared_detector(threads: int, score: float) -> PersonDetector:
    """One ONNX session per process: sessions are thread-safe and cost ~40 MB each."""
    with _detector_lock:
        key = (threads, score)
        if key not in _detectors:
            _detectors[key] = PersonDetector(threads=threads, score_threshold=score)
        return _detectors[key]


def make_analyzer(spec: CameraSpec, settings: Settings) -> CameraAnalyzer | None:
    cfg = settings.analytics
    if not cfg.enabled or settings.ingest.sample == "off":
        return None
    zones = [Zone(name, points) for name, points in spec.zones if not is_mask(name)]
    masks = [Zone(name, points) for name, points in spec.zones if is_mask(name)]
    return CameraAnalyzer(
        shared_detector(cfg.detector_threads, cfg.score_threshold),
        zones,
        AnalyzerSettings(heartbeat_seconds=cfg.heartbeat_seconds),
        motion_mask=watched_mask(masks),
    )


MASK_PREFIX = "masker:"
MASK_GRID = (320, 180)  # resized to each stream's grey frame by the motion detector


def is_mask(name: str) -> bool:
    """Motion masks are stored among the zones under a "masker:" name (the admin page draws
    both on the same picture); they are not counted in, only ignored for motion."""
    return name.startswith(MASK_PREFIX)


def watched_mask(masks: Sequence[Zone]) -> np.ndarray | None:
    """Where motion counts: everywhere but the masked polygons (a flag, a road, a TV)."""
    if not masks:
        return None
    hidden = zones_mask(masks, *MASK_GRID)
    if hidden is None:
        return None
    if hidden.all():
        log.warning("motion masks %s hide the whole picture; ignored", [m.name for m in masks])
        return None
    return ~hidden


class CameraWorker(threading.Thread):
    def __init__(self, spec: CameraSpec, settings: Settings, sink: Sink) -> None:
        super().__init__(name=f"camera-{spec.id}", daemon=True)
        self.spec = spec
        self.settings = settings
        self.sink = sink
        self.tracker = HealthTracker()
        self._halt = threading.Event()
        self._last_state_push = 0.0
        self._extra: dict[str, object] = {}
        self.analyzer = make_analyzer(spec, settings)
        self.minutes = MinuteAggregator(spec.id)
        self._unindexed: list[SegmentInfo] = []  # finished segments the database refused
        self.recorder = SegmentRecorder(
            settings.recordings_dir,
            spec.id,
            segment_seconds=settings.recording.segment_seconds,
            on_segment=self._index,
        )

    # ---- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        try:
            if self.settings.recording.enabled:
                self.sink.recovered(
                    self.spec.id, recover(self.settings.recordings_dir, self.spec.id)
                )
            while not self._halt.is_set():
                if not self.spec.enabled:
                    self._emit(self.tracker.disabled(utcnow()), force=True)
                    self._pause(STATE_EVERY_SECONDS)
                    continue
                self._supervise()
        except Exception:  # a bug in one camera's loop must not take the process down
            log.exception("camera %s (%d): worker crashed", self.spec.name, self.spec.id)
            self._emit(self.tracker.failed(utcnow(), "error", "worker crashed"), force=True)

    def _supervise(self) -> None:
        """Retry with exponential back-off and jitter until a session has been stable."""
        ingest = self.settings.ingest
        retrying = Retrying(
            wait=wait_exponential_jitter(
                multiplier=ingest.backoff_initial_seconds,
                max=ingest.backoff_max_seconds,
                jitter=ingest.backoff_initial_seconds,
            ),
            retry=retry_if_exception_type(StreamFailure),
            stop=lambda _state: self._halt.is_set(),
            sleep=self._pause,
            reraise=False,
        )
        try:
            for attempt in retrying:
                with attempt:
                    self._session()
        except RetryError:
            pass  # stopped while backing off

    def _pause(self, seconds: float) -> None:
        """Sleep, but keep the health series ticking so offline minutes are recorded too."""
        deadline = utcnow().timestamp() + seconds
        while not self._halt.is_set():
            left = deadline - utcnow().timestamp()
            if left <= 0:
                break
            self._halt.wait(min(left, STATE_EVERY_SECONDS))
            self._emit(self.tracker.tick(utcnow()))

    # ---- one connection --------------------------------------------------------------

    def _session(self) -> None:
        """Run one connection. Raises StreamFailure if it failed before becoming stable."""
        ingest = self.settings.ingest
        self._emit(self.tracker.connecting(utcnow()), force=True)
        reader = StreamReader(
            self.spec.url,
            transport=ingest.transport,
            open_timeout=ingest.open_timeout_seconds,
            stall_timeout=ingest.stall_seconds,
            sample=ingest.sample if ingest.sample != "off" else "keyframes",
            sample_fps=ingest.sample_fps,
            analytics_width=ingest.analytics_width,
        )
        started: datetime | None = None
        try:
            reader.open()
            started = utcnow()
            self._extra = {
                "width": reader.width,
                "height": reader.height,
                "codec": reader.codec_name,
            }
            self._emit(self.tracker.connected(started, reader.expected_fps), force=True)
            log.info(
                "camera %s (%d): online %sx%s %s",
                self.spec.name,
                self.spec.id,
                reader.width,
                reader.height,
                reader.codec_name,
            )
            if self.settings.recording.enabled:
                self.recorder.start(reader.video_stream)
            for info in reader.packets():
                if self._halt.is_set():
                    return
                self._emit(self.tracker.packet(info.at, info.size))
                if self.settings.recording.enabled:
                    self._record(info, reader)
                if ingest.sample != "off":
                    frame = reader.sample(info)
                    if frame is not None:
                        self.sink.frame(self.spec.id, frame)
                        self._analyse(frame)
            raise StreamFailure("ended", f"stream of camera {self.spec.name} ended")
        except StreamFailure as failure:
            now = utcnow()
            log.warning("camera %s (%d): %s", self.spec.name, self.spec.id, failure.message)
            self._emit(self.tracker.failed(now, failure.reason, failure.message), force=True)
            if started is not None and (now - started).total_seconds() >= STABLE_SECONDS:
                return  # it ran well for a while: start again without back-off history
            raise
        finally:
            self._finish_recording()
            reader.close()
            try:
                self.sink.observations(self.spec.id, self.minutes.flush())
            except Exception:
                log.exception(
                    "camera %s (%d): could not store observations", self.spec.name, self.spec.id
                )

    def _record(self, info: PacketInfo, reader: StreamReader) -> None:
        try:
            self.recorder.write(info)
        except RecorderError as exc:
            self.tracker.reason = f"{exc.reason}: {exc.message}"
            self._emit([], force=True)
            if exc.reason == "disk_full":
                self.sink.disk_full(self.spec.id, exc.message)
            self.recorder.start(reader.video_stream)

    def _index(self, info: SegmentInfo) -> None:
        """Index a finished segment; if the database is briefly locked or down, keep it and
        try again with the next one, so the file is never left unfindable and the camera
        thread never dies of it."""
        self._unindexed.append(info)
        while self._unindexed:
            try:
                self.sink.segment(self.spec.id, self._unindexed[0])
            except Exception:
                log.exception(
                    "camera %s (%d): could not index segment %s (%d waiting); will retry",
                    self.spec.name,
                    self.spec.id,
                    self._unindexed[0].path,
                    len(self._unindexed),
                )
                return
            self._unindexed.pop(0)

    def _analyse(self, frame: SampledFrame) -> None:
        if self.analyzer is None:
            return
        try:
            rows = self.minutes.add(self.analyzer.process(frame))
            if rows:
                self.sink.observations(self.spec.id, rows)
        except Exception:  # analytics trouble must never stop the recording
            log.exception(
                "camera %s (%d): analytics failed on a frame", self.spec.name, self.spec.id
            )

    def _finish_recording(self) -> None:
        try:
            self.recorder.finish()
        except RecorderError as exc:
            log.error("camera %s (%d): %s", self.spec.name, self.spec.id, exc.message)

    # ---- reporting -------------------------------------------------------------------

    def _emit(self, samples: list[MinuteSample], force: bool = False) -> None:
        try:
            if samples:
                self.sink.health(self.spec.id, samples)
            now = utcnow().timestamp()
            if force or now - self._last_state_push >= STATE_EVERY_SECONDS:
                self._last_state_push = now
                self.sink.state(self.spec.id, self.tracker, self._extra)
        except Exception:  # the database being briefly locked or down must not stop recording
            log.exception("camera %s (%d): could not store health", self.spec.name, self.spec.id)

    @property
    def state(self) -> State:
        return self.tracker.state
