"""Camera workers against the real RTSP server: health states, reasons, reconnects, isolation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pantau.config.model import Settings
from pantau.pipeline.camera import CameraSpec, CameraWorker
from pantau.pipeline.health import State


class MemorySink:
    """Keeps what a worker reports, for assertions (the database sink is tested end to end)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.segments: dict[int, list] = {}
        self.samples: dict[int, list] = {}
        self.states: dict[int, list[tuple[str, str | None]]] = {}
        self.frames: dict[int, list] = {}
        self.disk_full_calls: list[str] = []
        self.rows: dict[int, list] = {}

    def segment(self, camera_id, info):
        with self.lock:
            self.segments.setdefault(camera_id, []).append(info)

    def recovered(self, camera_id, results):
        for r in results:
            if r.segment is not None:
                self.segment(camera_id, r.segment)

    def health(self, camera_id, samples):
        with self.lock:
            self.samples.setdefault(camera_id, []).extend(samples)

    def state(self, camera_id, tracker, extra):
        with self.lock:
            self.states.setdefault(camera_id, []).append((tracker.state.value, tracker.reason_code))

    def frame(self, camera_id, frame):
        with self.lock:
            self.frames.setdefault(camera_id, []).append(frame)

    def disk_full(self, camera_id, message):
        self.disk_full_calls.append(message)

    def observations(self, camera_id, rows):
        with self.lock:
            self.rows.setdefault(camera_id, []).extend(rows)

    def codes(self, camera_id: int) -> list[str | None]:
        with self.lock:
            return [code for _, code in self.states.get(camera_id, [])]


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": str(tmp_path),
            "recording": {"segment_seconds": 2},
            "ingest": {
                "open_timeout_seconds": 3,
                "stall_seconds": 2,
                "backoff_initial_seconds": 0.3,
                "backoff_max_seconds": 2,
            },
        }
    )


@pytest.fixture
def run_worker(settings: Settings):
    started: list[CameraWorker] = []

    def start(url: str, camera_id: int = 1, sink: MemorySink | None = None) -> tuple:
        sink = sink or MemorySink()
        worker = CameraWorker(
            CameraSpec(id=camera_id, name=f"cam{camera_id}", url=url), settings, sink
        )
        worker.start()
        started.append(worker)
        return worker, sink

    yield start
    for w in started:
        w.stop()
    for w in started:
        w.join(10)
        assert not w.is_alive(), "a worker did not stop"


def test_online_records_and_samples(rtsp_server, run_worker, settings):
    server = rtsp_server()
    worker, sink = run_worker(server.url("cam1"))
    wait_for(lambda: worker.state == State.ONLINE, 10, "online")
    wait_for(lambda: len(sink.segments.get(1, [])) >= 2, 15, "two segments")
    assert len(sink.frames.get(1, [])) >= 2
    seg = sink.segments[1][0]
    assert (settings.recordings_dir / seg.path).exists()
    assert 1.5 <= (seg.end - seg.start).total_seconds() <= 4


def test_server_killed_and_restarted_reconnects(rtsp_server, run_worker):
    server = rtsp_server()
    worker, _sink = run_worker(server.url("cam1"))
    wait_for(lambda: worker.state == State.ONLINE, 10, "online")
    server.kill()
    wait_for(lambda: worker.state == State.OFFLINE, 10, "offline after kill")
    assert worker.tracker.reason_code in ("ended", "stalled", "unreachable")
    time.sleep(1.5)
    server.start()
    wait_for(lambda: worker.state in (State.ONLINE, State.DEGRADED), 15, "back online")
    assert worker.tracker.recent_reconnects >= 1


def test_stalled_stream_goes_offline_with_reason(rtsp_server, run_worker):
    server = rtsp_server()
    worker, sink = run_worker(server.url("cam1"))
    wait_for(lambda: worker.state == State.ONLINE, 10, "online")
    server.stall("cam1")
    wait_for(lambda: "stalled" in sink.codes(1), 10, "stalled reason")
    server.resume("cam1")
    wait_for(lambda: worker.state in (State.ONLINE, State.DEGRADED), 15, "online after stall")


def test_wrong_credentials_and_unreachable_host_are_distinct(rtsp_server, run_worker):
    server = rtsp_server(user="operator", password="benar")
    w_auth, s_auth = run_worker(server.url("cam1", "operator", "Xk9-bukan"), camera_id=1)
    w_down, s_down = run_worker("rtsp://127.0.0.1:9/nothing", camera_id=2)
    wait_for(lambda: "auth_failed" in s_auth.codes(1), 10, "auth_failed")
    wait_for(lambda: "unreachable" in s_down.codes(2), 10, "unreachable")
    assert "Xk9-bukan" not in (w_auth.tracker.reason or "")
    assert w_auth.state == State.OFFLINE and w_down.state == State.OFFLINE


def test_misbehaving_camera_does_not_slow_the_others(rtsp_server, run_worker, tmp_path):
    server = rtsp_server()
    good, sink = run_worker(server.url("cam1"), camera_id=1)
    bad = [run_worker("rtsp://127.0.0.1:9/nothing", camera_id=k, sink=sink) for k in (2, 3)]
    garbage = tmp_path / "garbage.ts"
    garbage.write_bytes(bytes(range(256)) * 4000)
    run_worker(f"file://{garbage}", camera_id=4, sink=sink)
    wait_for(lambda: good.state == State.ONLINE, 10, "good camera online")
    time.sleep(4)
    t0, n0 = good.tracker.last_packet_at, len(sink.segments.get(1, []))
    time.sleep(4)
    assert good.tracker.last_packet_at > t0
    assert len(sink.segments.get(1, [])) >= n0 + 1
    assert all(w.is_alive() for w, _ in bad)


class LockedSink(MemorySink):
    """A database that refuses the first `refusals` segment writes ("database is locked")."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    def segment(self, camera_id, info):
        if self.refusals > 0:
            self.refusals -= 1
            raise RuntimeError("database is locked")
        super().segment(camera_id, info)


def test_a_locked_database_delays_segment_indexing_but_loses_nothing(rtsp_server, settings):
    """Seen in the 65-camera benchmark on SQLite under load: the camera thread died and the
    finished file stayed unindexed. Now the worker keeps recording and indexes it later."""
    server = rtsp_server()
    sink = LockedSink(refusals=2)
    worker = CameraWorker(CameraSpec(id=1, name="cam", url=server.url("cam1")), settings, sink)
    worker.start()
    try:
        wait_for(lambda: len(sink.segments.get(1, [])) >= 3, 25, "three segments indexed")
        assert worker.is_alive()
        assert sink.refusals == 0
    finally:
        worker.stop()
        worker.join(10)
    starts = [s.start for s in sink.segments[1]]
    assert starts == sorted(starts)
    on_disk = sorted(settings.recordings_dir.rglob("*.ts"))
    assert len(on_disk) == len(sink.segments[1])  # every finished file has its index row
