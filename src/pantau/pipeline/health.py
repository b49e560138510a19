"""Camera health as a state machine plus a per-minute time series (pure; time is passed in).

Uptime must be computable for any past period, so every minute of every camera becomes one
sample: how many seconds it was really delivering video, at what rate, how often it reconnected,
and why it was not. Keeping only the current state in memory would answer "is it up now" but not
"was it up last Tuesday at 07.30", which is what an opening-hours verdict needs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class State(StrEnum):
    CONNECTING = "connecting"
    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"
    DISABLED = "disabled"


REASON_TEXT = {
    "auth_failed": "login ditolak kamera (username/password salah)",
    "unreachable": "kamera tidak dapat dihubungi (host/port tidak menjawab)",
    "not_found": "alamat stream tidak ditemukan di kamera",
    "unsupported_codec": "codec video tidak didukung",
    "ended": "stream berhenti (kamera memutus sambungan)",
    "stalled": "tidak ada data video (stream macet)",
    "corrupt": "data video rusak",
    "not_video": "sumber bukan video",
    "disk_full": "disk penuh: rekaman terlama dihapus",
    "io_error": "gagal menulis rekaman",
    "error": "kesalahan tak terduga",
}


@dataclass
class MinuteSample:
    minute: datetime
    state: State
    online_seconds: float
    fps: float
    kbps: float
    reconnects: int
    reason: str | None


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


@dataclass
class HealthTracker:
    """Feeds on events with their times; emits one MinuteSample per completed minute."""

    expected_fps: float = 0.0
    degraded_ratio: float = 0.5
    degraded_reconnects: int = 3
    reconnect_window: timedelta = timedelta(minutes=10)
    state: State = State.CONNECTING
    reason: str | None = None
    reason_code: str | None = None
    since: datetime | None = None
    last_packet_at: datetime | None = None
    _minute: datetime | None = None
    _online_since: datetime | None = None
    _online_seconds: float = 0.0
    _frames: int = 0
    _bytes: int = 0
    _reconnects: int = 0
    _recent_reconnects: deque[datetime] = field(default_factory=deque)
    _worst: State | None = None
    last_fps: float = 0.0
    last_kbps: float = 0.0

    @property
    def recent_reconnects(self) -> int:
        return len(self._recent_reconnects)

    def _set(self, state: State, at: datetime) -> None:
        if state != self.state or self.since is None:
            self.state, self.since = state, at

    def _roll(self, at: datetime) -> list[MinuteSample]:
        """Close every minute boundary crossed before `at`."""
        out: list[MinuteSample] = []
        if self._minute is None:
            self._minute = minute_of(at)
            if self._online_since is not None:
                self._online_since = max(self._online_since, self._minute)
            return out
        while at >= self._minute + timedelta(minutes=1):
            end = self._minute + timedelta(minutes=1)
            if self._online_since is not None:
                self._online_seconds += (
                    end - max(self._online_since, self._minute)
                ).total_seconds()
                self._online_since = end
            out.append(self._sample(self._minute))
            self._minute = end
            self._online_seconds, self._frames, self._bytes, self._reconnects = 0.0, 0, 0, 0
            self._worst = None
        return out

    def _sample(self, minute: datetime) -> MinuteSample:
        secs = min(self._online_seconds, 60.0)
        fps = self._frames / secs if secs > 0 else 0.0
        kbps = self._bytes * 8 / 1000 / secs if secs > 0 else 0.0
        self.last_fps, self.last_kbps = fps, kbps
        end = minute + timedelta(minutes=1)
        degraded = self._is_degraded(fps, end)
        if self.state == State.ONLINE and degraded:
            self._set(State.DEGRADED, end)
        elif self.state == State.DEGRADED and not degraded:
            self._set(State.ONLINE, end)
        if self.state == State.DISABLED:
            reported = State.DISABLED
        elif secs < 30:
            reported = State.OFFLINE  # mostly without video: that is what the minute was
        elif degraded or self._worst is not None:
            reported = State.DEGRADED  # video most of the minute, but interrupted or slow
        else:
            reported = State.ONLINE
        return MinuteSample(
            minute=minute,
            state=reported,
            online_seconds=round(secs, 3),
            fps=round(fps, 2),
            kbps=round(kbps, 1),
            reconnects=self._reconnects,
            reason=self.reason if reported != State.ONLINE else None,
        )

    def _is_degraded(self, fps: float, at: datetime) -> bool:
        while self._recent_reconnects and at - self._recent_reconnects[0] > self.reconnect_window:
            self._recent_reconnects.popleft()
        slow = self.expected_fps > 0 and 0 < fps < self.expected_fps * self.degraded_ratio
        return slow or len(self._recent_reconnects) >= self.degraded_reconnects

    def _stop_online(self, at: datetime) -> None:
        if self._online_since is not None:
            since = max(self._online_since, self._minute or at)
            self._online_seconds += (at - since).total_seconds()
            self._online_since = None

    def _mark_bad(self, state: State) -> None:
        if self._worst != State.OFFLINE:
            self._worst = state

    # ---- events -------------------------------------------------------------------------

    def connecting(self, at: datetime) -> list[MinuteSample]:
        out = self._roll(at)
        if self.state not in (State.ONLINE, State.DEGRADED):
            self._set(State.CONNECTING, at)
        return out

    def connected(self, at: datetime, expected_fps: float | None = None) -> list[MinuteSample]:
        out = self._roll(at)
        if expected_fps:
            self.expected_fps = expected_fps
        if self._online_since is None:
            self._online_since = at
        if (
            self.since is not None
            and self.state in (State.OFFLINE, State.CONNECTING)
            and (self.reason_code is not None)
        ):
            self._reconnects += 1
            self._recent_reconnects.append(at)
        self._set(State.ONLINE, at)
        self.reason = self.reason_code = None
        return out

    def packet(self, at: datetime, size: int, is_frame: bool = True) -> list[MinuteSample]:
        out = self._roll(at)
        self.last_packet_at = at
        self._bytes += size
        if is_frame:
            self._frames += 1
        return out

    def failed(self, at: datetime, reason_code: str, detail: str = "") -> list[MinuteSample]:
        out = self._roll(at)
        self._stop_online(at)
        self.reason_code = reason_code
        text = REASON_TEXT.get(reason_code, reason_code)
        self.reason = f"{text}: {detail}" if detail else text
        self._set(State.OFFLINE, at)
        self._mark_bad(State.OFFLINE)
        return out

    def disabled(self, at: datetime) -> list[MinuteSample]:
        out = self._roll(at)
        self._stop_online(at)
        self.reason, self.reason_code = "kamera dinonaktifkan", "disabled"
        self._set(State.DISABLED, at)
        return out

    def tick(self, at: datetime) -> list[MinuteSample]:
        """Called periodically even when nothing happens, so offline minutes are recorded too."""
        return self._roll(at)
