"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pantau.registry.calendar import parse_hhmm
from pantau.store.models import Connectivity, Role, RuleKind, SiteKind


class In(BaseModel):
    """Unknown fields in a request are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LoginIn(In):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=256)


class UserOut(Out):
    id: int
    username: str
    full_name: str
    role: Role
    scope_code: str | None
    active: bool


class LoginOut(BaseModel):
    token: str
    expires_at: datetime
    user: UserOut


class UserIn(In):
    username: str = Field(min_length=2, max_length=80)
    password: str = Field(min_length=8, max_length=256)
    role: Role
    scope_code: str | None = None
    full_name: str = Field(default="", max_length=160)


class UserPatch(In):
    full_name: str | None = Field(default=None, max_length=160)
    role: Role | None = None
    scope_code: str | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)


class KecamatanOut(Out):
    code: str
    name: str


class KelurahanOut(Out):
    code: str
    name: str
    kecamatan_code: str
    lat: float | None
    lon: float | None


class SiteOut(Out):
    id: int
    slug: str
    kind: SiteKind
    name: str
    kelurahan_code: str | None
    kecamatan_code: str | None
    kecamatan_name: str | None = None
    address: str | None
    lat: float | None
    lon: float | None
    connectivity: Connectivity
    calendar_id: int | None
    camera_count: int = 0
    history_simulated_until: datetime | None = Field(
        default=None,
        description="`pantau demo`: the site's data before this instant (UTC) is simulated "
        '(generated from the simulator\'s ground truth): show "data simulasi". null: none',
    )


class SiteIn(In):
    kind: SiteKind
    name: str = Field(min_length=3, max_length=160)
    slug: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")
    kelurahan_code: str | None = None
    kecamatan_code: str | None = None
    address: str | None = Field(default=None, max_length=240)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    connectivity: Connectivity = Connectivity.PLANNED
    calendar_id: int | None = None


class SitePatch(In):
    name: str | None = Field(default=None, min_length=3, max_length=160)
    kelurahan_code: str | None = None
    kecamatan_code: str | None = None
    address: str | None = Field(default=None, max_length=240)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    connectivity: Connectivity | None = None
    calendar_id: int | None = None


class ZoneIn(In):
    name: str = Field(min_length=1, max_length=60)
    points: list[tuple[float, float]]


class CameraOut(Out):
    id: int
    site_id: int
    name: str
    purpose: str
    main_stream: str
    sub_stream: str | None
    username: str | None
    has_password: bool
    enabled: bool
    zones: list[dict[str, Any]]


class CameraIn(In):
    site_id: int
    name: str = Field(min_length=1, max_length=120)
    purpose: str = Field(min_length=3, max_length=160, description="Required by UU 27/2022")
    main_stream: str = Field(min_length=1)
    sub_stream: str | None = None
    username: str | None = Field(default=None, max_length=120)
    password: str | None = Field(default=None, max_length=256, description="Write-only")
    enabled: bool = True
    zones: list[ZoneIn] = Field(default_factory=list)


class CameraPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    purpose: str | None = Field(default=None, min_length=3, max_length=160)
    main_stream: str | None = None
    sub_stream: str | None = None
    username: str | None = Field(default=None, max_length=120)
    password: str | None = Field(default=None, max_length=256)
    enabled: bool | None = None
    zones: list[ZoneIn] | None = None


class RuleIn(In):
    kind: RuleKind
    weekdays: list[int] = Field(default_factory=list)
    opens: time | None = None
    closes: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    reason: str = Field(default="", max_length=240)

    @field_validator("opens", "closes", mode="before")
    @classmethod
    def _hhmm(cls, value: Any) -> Any:
        return parse_hhmm(value)


class RuleOut(Out):
    id: int
    kind: RuleKind
    weekdays: list[int]
    opens: time | None
    closes: time | None
    start_date: date | None
    end_date: date | None
    reason: str


class CalendarIn(In):
    name: str = Field(min_length=3, max_length=120)
    parent_id: int | None = None
    use_national_holidays: bool = True


class CalendarPatch(In):
    name: str | None = Field(default=None, min_length=3, max_length=120)
    parent_id: int | None = None
    use_national_holidays: bool | None = None


class CalendarOut(Out):
    id: int
    name: str
    parent_id: int | None
    use_national_holidays: bool
    rules: list[RuleOut]


class DayOut(BaseModel):
    date: date
    weekday: str
    working: bool
    opens: str | None = Field(description='Local time as "07.30"')
    closes: str | None
    timezone: str
    rule: str
    reason: str
    holiday_name: str | None


class AuditOut(Out):
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    outcome: str
    detail: dict[str, Any]
    ip: str | None


class HealthOut(BaseModel):
    status: str
    version: str
    database: str
    schema_revision: str | None
    sites: int
    time_utc: datetime
    time_local: str
    cameras: dict[str, int] = Field(default_factory=dict, description="cameras per live state")
    disk: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)


class AgentBrief(BaseModel):
    """A site's edge agent as the map and the verdict pages show it (`hub.pending.SiteAgent`)."""

    id: int
    state: str = Field(description="online | offline_pending | revoked | never")
    last_contact: datetime | None
    complete_until: datetime | None = Field(description="The hub has all of the site's data up to")
    backlog_items: int
    backlog_oldest: datetime | None
