"""The health state machine and its per-minute series (pure; times are given)."""

from datetime import UTC, datetime, timedelta

from pantau.pipeline.health import HealthTracker, State

T0 = datetime(2026, 11, 30, 0, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(tracker: HealthTracker, start: float, end: float, fps: float = 25, size: int = 10_000):
    out = []
    t = start
    while t < end:
        out += tracker.packet(at(t), size)
        t += 1 / fps
    return out


def test_online_minute_has_full_seconds_fps_and_bitrate():
    tr = HealthTracker()
    tr.connecting(at(0))
    tr.connected(at(0), expected_fps=25)
    samples = feed(tr, 0, 61)
    assert len(samples) == 1
    s = samples[0]
    assert s.minute == T0 and s.state == State.ONLINE
    assert s.online_seconds == 60
    assert 24.5 <= s.fps <= 25.5
    assert 1900 <= s.kbps <= 2100  # 25 x 10 kB x 8 = 2000 kbit/s


def test_outage_is_recorded_with_reason_and_offline_minutes_by_tick():
    tr = HealthTracker()
    tr.connected(at(0), expected_fps=25)
    feed(tr, 0, 20)
    tr.failed(at(20), "unreachable", "connection refused")
    samples = tr.tick(at(60)) + tr.tick(at(125))
    assert [s.minute for s in samples] == [T0, T0 + timedelta(minutes=1)]
    first, second = samples
    assert first.state == State.OFFLINE and 19.9 <= first.online_seconds <= 20.1
    assert "tidak dapat dihubungi" in (first.reason or "")
    assert second.state == State.OFFLINE and second.online_seconds == 0
    assert tr.state == State.OFFLINE and tr.reason_code == "unreachable"


def test_reconnect_counts_and_many_reconnects_degrade():
    tr = HealthTracker()
    tr.connected(at(0), expected_fps=25)
    for k in range(3):
        tr.failed(at(5 + 10 * k), "ended")
        tr.connected(at(8 + 10 * k))
        feed(tr, 8 + 10 * k, 15 + 10 * k)
    samples = feed(tr, 40, 61)
    assert samples[0].reconnects == 3
    assert samples[0].state == State.DEGRADED
    assert tr.state == State.DEGRADED


def test_low_frame_rate_degrades_and_recovers():
    tr = HealthTracker()
    tr.connected(at(0), expected_fps=25)
    slow = feed(tr, 0, 61, fps=5)
    assert slow[0].state == State.DEGRADED
    normal = feed(tr, 61, 121, fps=25)
    assert normal[0].state == State.ONLINE and tr.state == State.ONLINE


def test_short_outage_inside_a_minute_is_degraded_not_offline():
    tr = HealthTracker()
    tr.connected(at(0), expected_fps=25)
    feed(tr, 0, 50)
    tr.failed(at(50), "stalled")
    tr.connected(at(55))
    s = feed(tr, 55, 61)[0]
    assert s.state == State.DEGRADED and 54 <= s.online_seconds <= 55.1 and s.reconnects == 1


def test_disabled_camera():
    tr = HealthTracker()
    tr.disabled(at(0))
    s = tr.tick(at(61))[0]
    assert s.state == State.DISABLED and s.online_seconds == 0
