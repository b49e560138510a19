"""SQLAlchemy models: the registry, accounts and audit. Later layers add their own tables."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pantau.store.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def str_enum(enum: type[StrEnum], name: str) -> SAEnum:
    """Enums stored as plain strings with a CHECK, so adding a value is a small migration."""
    return SAEnum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class SiteKind(StrEnum):
    KANTOR_KELURAHAN = "kantor_kelurahan"
    KANTOR_KECAMATAN = "kantor_kecamatan"
    KANTOR_OPD = "kantor_opd"
    RUANG_PUBLIK = "ruang_publik"
    RUAS_JALAN = "ruas_jalan"


class Connectivity(StrEnum):
    CONNECTED = "connected"
    NOT_CONNECTED = "not_connected"
    PLANNED = "planned"


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    PIMPINAN = "pimpinan"
    CAMAT = "camat"
    LURAH = "lurah"


class RuleKind(StrEnum):
    WEEKLY = "weekly"
    RAMADAN = "ramadan"
    OVERRIDE = "override"
    CLOSURE = "closure"


class Kecamatan(Base):
    __tablename__ = "kecamatan"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class Kelurahan(Base):
    __tablename__ = "kelurahan"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kecamatan_code: Mapped[str] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    kecamatan: Mapped[Kecamatan] = relationship()


class Calendar(Base):
    """A set of rules; a site's own calendar inherits from its parent (the city default)."""

    __tablename__ = "calendar"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("calendar.id"))
    use_national_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rules: Mapped[list[CalendarRuleRow]] = relationship(
        back_populates="calendar", cascade="all, delete-orphan", order_by="CalendarRuleRow.id"
    )
    parent: Mapped[Calendar | None] = relationship(remote_side=[id])


class CalendarRuleRow(Base):
    __tablename__ = "calendar_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("calendar.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RuleKind] = mapped_column(str_enum(RuleKind, "rule_kind"))
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    opens: Mapped[time | None] = mapped_column(Time)
    closes: Mapped[time | None] = mapped_column(Time)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(240), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    calendar: Mapped[Calendar] = relationship(back_populates="rules")


class Site(Base):
    """A place with cameras. `id` is stable; official codes are attributes because they change."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[SiteKind] = mapped_column(str_enum(SiteKind, "site_kind"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    kelurahan_code: Mapped[str | None] = mapped_column(String(16), index=True)
    kecamatan_code: Mapped[str | None] = mapped_column(ForeignKey("kecamatan.code"), index=True)
    address: Mapped[str | None] = mapped_column(String(240))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    connectivity: Mapped[Connectivity] = mapped_column(
        str_enum(Connectivity, "connectivity"), default=Connectivity.CONNECTED
    )
    calendar_id: Mapped[int | None] = mapped_column(ForeignKey("calendar.id"))
    # Times people are expected outside office hours (a guard's round), local wall time:
    # [{"days": ["mon", ...] | null, "from": "21.45", "to": "22.15", "note": "..."}].
    # Validated by pantau.incidents.windows; read by the intrusion rule.
    allowed_windows: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    # `pantau demo`: everything this site recorded before this instant was generated from the
    # simulator's ground truth (docs/demo.md); NULL = no simulated data.
    history_simulated_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    cameras: Mapped[list[Camera]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="Camera.id"
    )
    kecamatan: Mapped[Kecamatan | None] = relationship()
    calendar: Mapped[Calendar | None] = relationship()


class Camera(Base):
    __tablename__ = "camera"
    __table_args__ = (UniqueConstraint("site_id", "name", name="uq_camera_site_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    purpose: Mapped[str] = mapped_column(String(160))
    main_stream: Mapped[str] = mapped_column(Text)
    sub_stream: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(120))
    password_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    zones: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    site: Mapped[Site] = relationship(back_populates="cameras")


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(160), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    scope_code: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthSession(Base):
    """Login sessions; only a hash of the bearer token is stored."""

    __tablename__ = "auth_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class AuditEntry(Base):
    """Who did what to which object, and whether it was allowed. Never updated, never deleted."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))


class Segment(Base):
    """One recorded file of a camera's main stream; the index playback and export read."""

    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("camera_id", "start", name="uq_segment_camera_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    path: Mapped[str] = mapped_column(String(400))
    bytes: Mapped[int] = mapped_column(BigInteger)
    keyframes: Mapped[int] = mapped_column(Integer, default=0)
    recovered: Mapped[bool] = mapped_column(Boolean, default=False)


class HealthSample(Base):
    """Per camera per minute: the time series uptime is computed from."""

    __tablename__ = "health_sample"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("camera.id", ondelete="CASCADE"), primary_key=True
    )
    minute: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    online_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    fps: Mapped[float] = mapped_column(Float, default=0.0)
    kbps: Mapped[float] = mapped_column(Float, default=0.0)
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(240))


class CameraState(Base):
    """The live state of each camera as its worker last reported it (any process can read it)."""

    __tablename__ = "camera_state"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("camera.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(240))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    last_packet_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fps: Mapped[float] = mapped_column(Float, default=0.0)
    kbps: Mapped[float] = mapped_column(Float, default=0.0)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    codec: Mapped[str | None] = mapped_column(String(32))
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Export(Base):
    """An evidence clip: remuxed MP4 plus manifest, with its SHA-256."""

    __tablename__ = "export"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    path: Mapped[str] = mapped_column(String(400))
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Observation(Base):
    """Per camera per minute: what the analytics saw. The only thing analytics hand on.

    The key (camera, minute) is the stable ID: analysing the same minute twice (a retried
    upload, a re-run of a carried disk) overwrites the row instead of adding one.
    """

    __tablename__ = "observation"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("camera.id", ondelete="CASCADE"), primary_key=True
    )
    minute: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    people_max: Mapped[int] = mapped_column(Integer, default=0)
    people_mean: Mapped[float] = mapped_column(Float, default=0.0)
    zones: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    motion_pct: Mapped[float] = mapped_column(Float, default=0.0)
    light_level: Mapped[float | None] = mapped_column(Float)
    lights_on: Mapped[bool | None] = mapped_column(Boolean)
    ir_mode: Mapped[bool | None] = mapped_column(Boolean)
    tamper: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    coverage_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    samples: Mapped[int] = mapped_column(Integer, default=0)
    detector_runs: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="live")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Incident(Base):
    """Something a person must look at. `id` is derived from (camera, kind, start minute), so a
    re-analysis updates the same row; `state` is the people's workflow and rules never touch it.
    """

    __tablename__ = "incident"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="new", index=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(120))
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snapshot_path: Mapped[str | None] = mapped_column(String(400))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    camera: Mapped[Camera] = relationship()


# ---- opening-hours verdicts -------------------------------------------------------------------


class CorrectionReason(StrEnum):
    """The official reasons an admin may attach to a verdict (fixed list, Bahasa Indonesia)."""

    DINAS_LUAR = "dinas_luar"
    RAPAT_KANTOR_CAMAT = "rapat_kantor_camat"
    LISTRIK_PADAM = "listrik_padam"
    GANGGUAN_JARINGAN = "gangguan_jaringan"
    BENCANA = "bencana"
    LAINNYA = "lainnya"


class VerdictRow(Base):
    """The current verdict of one site on one local day (`pantau.verdicts.rules.Verdict`).

    The columns are what lists and reports filter and sort on; `detail` is the whole
    `Verdict.to_dict()`. The digests say which inputs the verdict was computed from, so a
    recompute with unchanged inputs writes nothing, and a changed one says why it changed.
    """

    __tablename__ = "verdict"
    __table_args__ = (UniqueConstraint("site_id", "day", name="uq_verdict_site_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    working: Mapped[bool] = mapped_column(Boolean)
    schedule_rule: Mapped[str] = mapped_column(String(16))
    scheduled_open: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_close: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opening_status: Mapped[str | None] = mapped_column(String(24))
    closing_status: Mapped[str | None] = mapped_column(String(24))
    late_minutes: Mapped[int | None] = mapped_column(Integer)
    early_minutes: Mapped[int | None] = mapped_column(Integer)
    staffed_minutes: Mapped[int | None] = mapped_column(Integer)
    opening_coverage: Mapped[float | None] = mapped_column(Float)
    service_coverage: Mapped[float | None] = mapped_column(Float)
    day_coverage: Mapped[float | None] = mapped_column(Float)
    first_presence_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_presence_camera_id: Mapped[int | None] = mapped_column(Integer)
    last_presence_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_presence_camera_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    rules_version: Mapped[str] = mapped_column(String(16))
    config_digest: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    inputs_digest: Mapped[str] = mapped_column(String(64))
    observations_digest: Mapped[str] = mapped_column(String(64))
    schedule_digest: Mapped[str] = mapped_column(String(64))
    # Watermark of the observation rows read: more, fewer or newer rows mean "recompute".
    observation_rows: Mapped[int] = mapped_column(Integer, default=0)
    observations_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()
    history: Mapped[list[VerdictHistory]] = relationship(
        back_populates="verdict",
        cascade="all, delete-orphan",
        order_by="VerdictHistory.version",
        passive_deletes=True,
    )
    corrections: Mapped[list[VerdictCorrection]] = relationship(
        back_populates="verdict",
        cascade="all, delete-orphan",
        order_by="VerdictCorrection.id",
        passive_deletes=True,
    )


class VerdictHistory(Base):
    """A superseded version of a verdict: what it said, and when and why it was replaced.

    `change` lists what differed in the inputs ("observations", "calendar", "rules").
    """

    __tablename__ = "verdict_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verdict_id: Mapped[int] = mapped_column(
        ForeignKey("verdict.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late_minutes: Mapped[int | None] = mapped_column(Integer)
    early_minutes: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    inputs_digest: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    change: Mapped[list[str]] = mapped_column(JSON, default=list)

    verdict: Mapped[VerdictRow] = relationship(back_populates="history")


class VerdictCorrection(Base):
    """An official reason attached to a verdict by an admin. Never edited: a later correction
    supersedes an earlier one (the latest applies), and the computed verdict stays as it was.
    """

    __tablename__ = "verdict_correction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verdict_id: Mapped[int] = mapped_column(
        ForeignKey("verdict.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[CorrectionReason] = mapped_column(
        str_enum(CorrectionReason, "correction_reason")
    )
    note: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the verdict said when the correction was made (it may be recomputed later).
    verdict_status: Mapped[str] = mapped_column(String(24))
    verdict_version: Mapped[int] = mapped_column(Integer)

    verdict: Mapped[VerdictRow] = relationship(back_populates="corrections")


# ---- edge agents (docs/edge.md) ---------------------------------------------------------------


class AgentEnrolment(Base):
    """A one-time token an admin issues for a site; only its hash is stored."""

    __tablename__ = "agent_enrolment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_id: Mapped[int | None] = mapped_column(Integer)


class Agent(Base):
    """An edge agent of one site: its credential (hash only), its signing key (public), and
    what the hub last heard from it."""

    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(64))  # Ed25519, base64: bundle signatures
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(120))
    version: Mapped[str | None] = mapped_column(String(40))
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    complete_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_offset_seconds: Mapped[float | None] = mapped_column(Float)
    backlog_items: Mapped[int] = mapped_column(Integer, default=0)
    backlog_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    backlog_oldest: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when the agent measured the backlog above (its clock): a late report must not win
    backlog_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship()


class AgentContact(Base):
    """Per agent per minute it was heard from: connected hours, throughput, clock offset."""

    __tablename__ = "agent_contact"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agent.id", ondelete="CASCADE"), primary_key=True
    )
    minute: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    transfer_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    clock_offset_seconds: Mapped[float | None] = mapped_column(Float)
    backlog_items: Mapped[int | None] = mapped_column(Integer)
    via: Mapped[str] = mapped_column(String(16), default="link")  # link | bundle


class EdgeSegment(Base):
    """A recording segment kept at the site (index only; footage stays there until asked for)."""

    __tablename__ = "edge_segment"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("camera.id", ondelete="CASCADE"), primary_key=True
    )
    start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"), index=True)


class AgentImport(Base):
    """A carried-disk bundle imported at the hub (the facts themselves are upserted by id)."""

    __tablename__ = "agent_import"

    bundle_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agent.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    items: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(120))


class ClipRequest(Base):
    """An operator's request for a stretch of footage kept at an agent's site. The agent
    uploads it in chunks on its own contacts; `bytes_received` is what the hub has on disk,
    so a cut upload resumes there (docs/edge.md, "Clip retrieval")."""

    __tablename__ = "clip_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(Integer)
    # pending -> uploading -> ready | failed | cancelled
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id", ondelete="SET NULL"))
    bytes_expected: Mapped[int | None] = mapped_column(BigInteger)
    bytes_received: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    clip_start: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first keyframe
    clip_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frames: Mapped[int | None] = mapped_column(Integer)
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    rate_kbps: Mapped[float | None] = mapped_column(Float)  # the agent's upload cap
    error: Mapped[str | None] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(String(300))  # relative to data_dir
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first chunk
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
