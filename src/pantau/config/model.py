"""The settings tree. Every field has a default so Pantau starts with no file at all."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pantau.config.section import Section
from pantau.incidents.hours import Margins
from pantau.incidents.rules import DARK_MOTION_PCT
from pantau.verdicts.config import VerdictConfig
from pantau.verdicts.delivery import ReportDeliveryConfig

STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https", "file")


def check_stream_url(value: str | None) -> str | None:
    """Accept only the schemes the stream reader can open, so a typo fails at load, not at 3 a.m."""
    if value is None or value == "":
        return None
    scheme = urlsplit(value).scheme.lower()
    if scheme not in STREAM_SCHEMES:
        raise ValueError(
            f"stream URL scheme must be one of {', '.join(STREAM_SCHEMES)}; "
            f"got {scheme or 'none'!r}"
        )
    return value


class DatabaseConfig(Section):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means SQLite at <data_dir>/pantau.db. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/pantau",
    )
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_dialect(cls, value: str | None) -> str | None:
        if not value:
            return None
        if value.split(":", 1)[0].split("+")[0] not in ("sqlite", "postgresql"):
            raise ValueError("database URL must start with sqlite:// or postgresql+psycopg://")
        try:
            make_url(value)
        except (ArgumentError, ValueError) as exc:
            # e.g. a non-numeric port; without this the failure surfaces later as a traceback
            raise ValueError(f"database URL is not valid: {exc}") from None
        return value


class ServerConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None
    # Optional background tiles for the map (e.g. a city tile server); the map needs none.
    map_tile_url: str | None = Field(
        default=None,
        pattern=r"^https?://.*\{z\}.*\{x\}.*\{y\}",
        examples=["https://tiles.example/{z}/{x}/{y}.png"],
    )


class AuthConfig(Section):
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    cookie_secure: bool = False


class CityConfig(Section):
    name: str = "Kota Kendari"
    timezone: str = "Asia/Makassar"
    timezone_label: str = "WITA"

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Makassar)") from exc
        return value


class ZoneConfig(Section):
    name: str
    points: list[tuple[float, float]] = Field(
        description="Polygon in normalised frame coordinates (0..1), at least three points"
    )

    @field_validator("points")
    @classmethod
    def _polygon(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        if len(value) < 3:
            raise ValueError("a zone needs at least three points")
        for x, y in value:
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                raise ValueError(f"zone point ({x}, {y}) is outside the frame (0..1)")
        return value


class CameraConfig(Section):
    """A camera declared in the file; synced into the registry at start."""

    name: str = Field(min_length=1, max_length=120)
    site: str = Field(description="Kelurahan code of the site, e.g. 74.71.01.1005, or site slug")
    purpose: str = Field(min_length=3, description='Required by UU 27/2022, e.g. "keamanan kantor"')
    main_stream: str
    sub_stream: str | None = None
    username: str | None = None
    password: str | None = None
    enabled: bool = True
    zones: list[ZoneConfig] = Field(default_factory=list)

    @field_validator("main_stream", "sub_stream")
    @classmethod
    def _stream_scheme(cls, value: str | None) -> str | None:
        return check_stream_url(value)

    @model_validator(mode="after")
    def _main_required(self) -> CameraConfig:
        if not self.main_stream:
            raise ValueError("main_stream is required")
        return self


class RecordingConfig(Section):
    """Continuous recording of each camera's main stream (stream copy, MPEG-TS segments)."""

    enabled: bool = True
    segment_seconds: float = Field(default=10.0, ge=2, le=60)
    retention_days: float = Field(default=30.0, gt=0)
    camera_quota_gb: float | None = Field(default=None, gt=0)
    total_quota_gb: float | None = Field(default=None, gt=0)
    min_free_gb: float = Field(default=2.0, ge=0, description="Delete oldest first below this")
    retention_interval_seconds: float = Field(default=300.0, ge=5)


class IngestConfig(Section):
    """How cameras are read and supervised."""

    enabled: bool = Field(default=True, description="Run camera workers in `pantau serve`")
    transport: Literal["tcp", "udp"] = "tcp"
    open_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    stall_seconds: float = Field(default=10.0, gt=0, le=300, description="No packet for this long")
    backoff_initial_seconds: float = Field(default=1.0, gt=0)
    backoff_max_seconds: float = Field(default=60.0, gt=0)
    sample: Literal["keyframes", "fps", "off"] = "keyframes"
    sample_fps: float = Field(default=1.0, gt=0, le=30)
    analytics_width: int = Field(default=640, ge=160, le=3840)
    workers: int | None = Field(default=None, ge=1, le=64, description="Processes; default: cores")


class IntrusionMarginsConfig(Section):
    """On working days, people this long before opening or after closing are no intrusion
    (the cleaner, early clerks, staff finishing late; docs/incidents.md). Days off: none."""

    before_opening_minutes: int = Field(default=Margins().before_minutes, ge=0, le=240)
    after_closing_minutes: int = Field(default=Margins().after_minutes, ge=0, le=240)

    def margins(self) -> Margins:
        return Margins(self.before_opening_minutes, self.after_closing_minutes)


class AnalyticsConfig(Section):
    """Presence, light, motion and tamper from the sampled frames (no identification)."""

    enabled: bool = True
    heartbeat_seconds: float = Field(
        default=60.0, ge=5, le=600, description="look for people sitting still this often"
    )
    detector_threads: int = Field(default=1, ge=1, le=16)
    score_threshold: float = Field(default=0.5, gt=0, lt=1)
    incident_interval_seconds: float = Field(
        default=60.0,
        ge=10,
        le=3600,
        description="how often `pantau serve` re-evaluates every enabled camera for incidents",
    )
    incident_lookback_hours: float = Field(
        default=6.0,
        gt=0,
        le=168,
        description="each evaluation re-reads this much history, so observations that arrive "
        "late (a reconnecting site, an upload) still extend or create incidents",
    )
    intrusion_margins: IntrusionMarginsConfig = Field(default_factory=IntrusionMarginsConfig)
    dark_motion_pct: float = Field(
        default=DARK_MOTION_PCT,
        ge=0,
        le=100,
        description="motion (% of the frame, minute mean) in an infrared picture that counts as "
        "someone there for intrusion, where the detector finds few people; 0 = off "
        "(docs/incidents.md)",
    )


class ReportsConfig(Section):
    """Opening-hours reports: email delivery of the daily summary and the monthly report."""

    delivery: ReportDeliveryConfig = Field(default_factory=ReportDeliveryConfig)


class EdgeConfig(Section):
    """Edge agents (docs/edge.md): the agent's link to the hub, and the hub's view of agents."""

    hub_url: str | None = Field(default=None, description="Agent: the hub it syncs to")
    agent_dir: Path | None = Field(
        default=None,
        description="Agent: identity, outbox, cached config (default <data_dir>/agent)",
    )
    bandwidth_kbps: float = Field(default=256.0, ge=0, description="Upload cap; 0 = none")
    batch_max_items: int = Field(default=2000, ge=1, le=20000)
    batch_max_bytes: int = Field(default=512 * 1024, ge=1024, le=32 * 1024 * 1024)
    idle_seconds: float = Field(
        default=30.0, gt=0, le=60, description="Hello this often when idle (hours connected)"
    )
    backoff_initial_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=300.0, gt=0)
    request_timeout_seconds: float = Field(
        default=60.0, gt=0, le=600, description="Agent: a stalled request is given up after this"
    )
    enrolment_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    online_seconds: float = Field(default=180.0, gt=0, description="Hub: online if heard since")
    clock_warn_seconds: float = Field(default=5.0, gt=0, description="Hub: warn past this offset")
    max_batch_mb: float = Field(default=16.0, gt=0, le=512, description="Hub: largest batch body")
    clip_max_minutes: float = Field(
        default=30.0, gt=0, le=24 * 60, description="Hub: longest clip an operator may request"
    )
    contact_keep_days: float = Field(
        default=400.0, ge=1, description="Hub: per-minute contact rows kept for the TIK report"
    )


class Settings(Section):
    data_dir: Path = Field(default=Path("data"), description="Database, keys and recordings")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    city: CityConfig = Field(default_factory=CityConfig)
    cameras: list[CameraConfig] = Field(default_factory=list)
    recording: RecordingConfig = Field(default_factory=RecordingConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    analytics: AnalyticsConfig = Field(default_factory=AnalyticsConfig)
    reports: ReportsConfig = Field(
        default_factory=lambda: ReportsConfig(), description="Report delivery by email"
    )
    verdicts: VerdictConfig = Field(
        default_factory=VerdictConfig, description="Opening-hours verdicts (docs/verdicts.md)"
    )
    edge: EdgeConfig = Field(default_factory=EdgeConfig, description="Edge agents (docs/edge.md)")

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'pantau.db').resolve()}"
