"""Sites and regions, always filtered by the caller's scope."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pantau.accounts import audit
from pantau.accounts.scope import Scope
from pantau.config.model import Settings
from pantau.incidents.windows import WindowsIn, stored_windows
from pantau.registry.calendar import HARI, CalendarError, format_hhmm
from pantau.registry.codes import (
    CodeError,
    check_kecamatan_code,
    check_kelurahan_code,
    check_pair,
    fold,
    slugify,
)
from pantau.registry.schedule import site_days
from pantau.store.models import Calendar, Camera, Kecamatan, Kelurahan, Site, SiteKind
from pantau.web.deps import DB, Admin, Caller, client_ip, runtime
from pantau.web.errors import Conflict, Forbidden, Invalid, NotFound
from pantau.web.schemas import DayOut, KecamatanOut, KelurahanOut, SiteIn, SiteOut, SitePatch

router = APIRouter(prefix="/api", tags=["sites"])

# Columns a PATCH may leave out but not set to null (they are NOT NULL in the database).
NOT_NULL_PATCH = ("name", "connectivity")


def visible_site(session: Session, scope: Scope, site_id: int, action: str) -> Site:
    """The site, or 404 if it does not exist, or 403 (audited) if it is outside the scope."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("site", site_id)
    if not scope.can_see_site(site):
        raise Forbidden(action, "site", site_id)
    return site


def site_out(site: Site, kec_names: dict[str, str], counts: dict[int, int]) -> SiteOut:
    out = SiteOut.model_validate(site)
    out.kecamatan_name = kec_names.get(site.kecamatan_code or "")
    out.camera_count = counts.get(site.id, 0)
    return out


def _lookups(session: Session) -> tuple[dict[str, str], dict[int, int]]:
    names = dict(session.execute(select(Kecamatan.code, Kecamatan.name)).all())
    counts = dict(
        session.execute(select(Camera.site_id, func.count()).group_by(Camera.site_id)).all()
    )
    return names, counts


@router.get("/kecamatan", response_model=list[KecamatanOut], tags=["regions"])
def list_kecamatan(scope: Caller, session: DB) -> list[Kecamatan]:
    rows = list(session.scalars(select(Kecamatan).order_by(Kecamatan.code)))
    return [
        k
        for k in rows
        if scope.sees_all
        or scope.can_see(None, k.code)
        or (scope.code or "").startswith(k.code + ".")
    ]


@router.get("/kelurahan", response_model=list[KelurahanOut], tags=["regions"])
def list_kelurahan(scope: Caller, session: DB) -> list[Kelurahan]:
    rows = session.scalars(select(Kelurahan).order_by(Kelurahan.code))
    return [k for k in rows if scope.can_see(k.code, k.kecamatan_code)]


@router.get("/sites", response_model=list[SiteOut])
def list_sites(
    scope: Caller,
    session: DB,
    kind: SiteKind | None = None,
    kecamatan: Annotated[str | None, Query(description="kecamatan code, e.g. 74.71.01")] = None,
    q: Annotated[str | None, Query(description="search by name; spelling-forgiving")] = None,
) -> list[SiteOut]:
    query = scope.filter_sites(select(Site)).order_by(Site.kecamatan_code, Site.name)
    if kind:
        query = query.where(Site.kind == kind)
    if kecamatan:
        query = query.where(Site.kecamatan_code == kecamatan)
    sites = list(session.scalars(query))
    if q:
        key = fold(q)
        sites = [s for s in sites if key in fold(s.name) or q.lower() in s.name.lower()]
    names, counts = _lookups(session)
    return [site_out(s, names, counts) for s in sites]


@router.get("/sites/{site_id}", response_model=SiteOut)
def get_site(site_id: int, scope: Caller, session: DB) -> SiteOut:
    site = visible_site(session, scope, site_id, "site.read")
    names, counts = _lookups(session)
    return site_out(site, names, counts)


def _blank_to_none(value: str | None) -> str | None:
    return (value or "").strip() or None


def _check_codes(session: Session, kel: str | None, kec: str | None) -> str | None:
    """Validate codes; returns the kecamatan code (derived from the kelurahan when omitted).

    Each problem is reported against the field that causes it: a malformed code against its
    own field, a kelurahan outside the given kecamatan against kelurahan_code.
    """
    kel, kec = _blank_to_none(kel), _blank_to_none(kec)
    for code, field, check in (
        (kel, "kelurahan_code", check_kelurahan_code),
        (kec, "kecamatan_code", check_kecamatan_code),
    ):
        if code is not None:
            try:
                check(code)
            except CodeError as exc:
                raise Invalid(str(exc), field) from exc
    if kel:
        if session.get(Kelurahan, kel) is None:
            raise Invalid(f"kelurahan {kel} is not in the region table", "kelurahan_code")
        kec = kec or kel.rsplit(".", 1)[0]
        try:
            check_pair(kel, kec)
        except CodeError as exc:
            raise Invalid(str(exc), "kelurahan_code") from exc
    if kec and session.get(Kecamatan, kec) is None:
        raise Invalid(f"kecamatan {kec} is not in the region table", "kecamatan_code")
    return kec


def _check_calendar(session: Session, calendar_id: int | None) -> None:
    if calendar_id is not None and session.get(Calendar, calendar_id) is None:
        raise Invalid(f"calendar {calendar_id} does not exist", "calendar_id")


@router.post("/sites", response_model=SiteOut, status_code=201)
def create_site(body: SiteIn, request: Request, scope: Admin, session: DB) -> SiteOut:
    kec = _check_codes(session, body.kelurahan_code, body.kecamatan_code)
    if body.kind == SiteKind.KANTOR_KELURAHAN and not _blank_to_none(body.kelurahan_code):
        raise Invalid("a kantor kelurahan needs its kelurahan_code", "kelurahan_code")
    _check_calendar(session, body.calendar_id)
    data = body.model_dump()
    data["kelurahan_code"] = _blank_to_none(body.kelurahan_code)
    data["kecamatan_code"] = kec
    data["slug"] = body.slug or slugify(body.name)
    if session.scalar(select(Site).where(Site.slug == data["slug"])) is not None:
        raise Conflict(f"a site with slug {data['slug']!r} already exists", "slug")
    site = Site(**data)
    session.add(site)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"site could not be stored: {exc.orig}") from exc
    audit.record(
        session,
        scope,
        "site.create",
        object_type="site",
        object_id=site.id,
        detail=body.model_dump(mode="json"),
        ip=client_ip(request),
    )
    return site_out(site, *_lookups(session))


@router.patch("/sites/{site_id}", response_model=SiteOut)
def update_site(
    site_id: int, body: SitePatch, request: Request, scope: Admin, session: DB
) -> SiteOut:
    site = visible_site(session, scope, site_id, "site.update")
    changes = body.model_dump(exclude_unset=True)
    for key in NOT_NULL_PATCH:
        if key in changes and changes[key] is None:
            raise Invalid(f"{key} cannot be null; leave it out to keep the current value", key)
    if "kelurahan_code" in changes or "kecamatan_code" in changes:
        kel = changes.get("kelurahan_code", site.kelurahan_code)
        kec = changes.get("kecamatan_code") or (
            None if "kelurahan_code" in changes else site.kecamatan_code
        )
        changes["kecamatan_code"] = _check_codes(session, kel, kec)
        if "kelurahan_code" in changes:
            changes["kelurahan_code"] = _blank_to_none(changes["kelurahan_code"])
        if site.kind == SiteKind.KANTOR_KELURAHAN and not changes.get(
            "kelurahan_code", site.kelurahan_code
        ):
            raise Invalid("a kantor kelurahan needs its kelurahan_code", "kelurahan_code")
    if "calendar_id" in changes:
        _check_calendar(session, changes["calendar_id"])
    for key, value in changes.items():
        setattr(site, key, value)
    session.flush()
    audit.record(
        session,
        scope,
        "site.update",
        object_type="site",
        object_id=site.id,
        detail=body.model_dump(mode="json", exclude_unset=True),
        ip=client_ip(request),
    )
    return site_out(site, *_lookups(session))


@router.delete("/sites/{site_id}", status_code=204)
def delete_site(site_id: int, request: Request, scope: Admin, session: DB) -> None:
    site = visible_site(session, scope, site_id, "site.delete")
    audit.record(
        session,
        scope,
        "site.delete",
        object_type="site",
        object_id=site.id,
        detail={"slug": site.slug, "name": site.name},
        ip=client_ip(request),
    )
    session.delete(site)


@router.get("/sites/{site_id}/schedule", response_model=list[DayOut])
def site_schedule(
    site_id: int,
    request: Request,
    scope: Caller,
    session: DB,
    start: Annotated[date | None, Query(alias="from", description="first local date")] = None,
    end: Annotated[
        date | None, Query(alias="to", description="last local date (inclusive)")
    ] = None,
) -> list[DayOut]:
    """Scheduled opening hours per local date, with the rule that decided each day."""
    site = visible_site(session, scope, site_id, "site.schedule")
    city = runtime(request).settings.city
    start = start or datetime.now(ZoneInfo(city.timezone)).date()
    end = end or start + timedelta(days=6)
    try:
        days = site_days(session, site, start, end)
    except CalendarError as exc:
        raise Invalid(str(exc), "to") from exc
    return [
        DayOut(
            date=d.day,
            weekday=HARI[d.day.weekday()],
            working=d.working,
            opens=format_hhmm(d.opens) if d.opens else None,
            closes=format_hhmm(d.closes) if d.closes else None,
            timezone=city.timezone_label,
            rule=d.rule,
            reason=d.reason,
            holiday_name=d.holiday_name,
        )
        for d in days
    ]


class WindowOut(BaseModel):
    days: list[str] | None = Field(description="Days the window starts on; null = every day")
    from_: str = Field(alias="from", description='Local time, "21.45"')
    to: str = Field(description="Local time; earlier than from = the window crosses midnight")
    note: str


class MarginsOut(BaseModel):
    before_minutes: int = Field(description="Before the scheduled opening, on working days")
    after_minutes: int = Field(description="After the scheduled closing, on working days")


class WindowsOut(BaseModel):
    site_id: int
    timezone: str = Field(description='Label of the local time the windows are in, e.g. "WITA"')
    windows: list[WindowOut]
    margins: MarginsOut = Field(
        description="City-wide office margins, also no intrusion (analytics.intrusion_margins)"
    )


def _windows_out(site: Site, settings: Settings) -> WindowsOut:
    windows = [w.as_json() for w in stored_windows(site.allowed_windows)]
    return WindowsOut.model_validate(
        {
            "site_id": site.id,
            "timezone": settings.city.timezone_label,
            "windows": windows,
            "margins": settings.analytics.intrusion_margins.margins().as_json(),
        }
    )


@router.get("/sites/{site_id}/allowed-windows", response_model=WindowsOut)
def get_allowed_windows(site_id: int, request: Request, scope: Caller, session: DB) -> WindowsOut:
    """When people are expected outside office hours (a guard's round, a cleaner's slot):
    no intrusion is raised for those minutes."""
    site = visible_site(session, scope, site_id, "site.allowed_windows.read")
    return _windows_out(site, runtime(request).settings)


@router.put("/sites/{site_id}/allowed-windows", response_model=WindowsOut)
def put_allowed_windows(
    site_id: int, body: WindowsIn, request: Request, scope: Admin, session: DB
) -> WindowsOut:
    """Replace the site's allowed windows (the whole list; [] removes them all).

    Times are local ("21.45" or "21:45"); a window whose end is before its start crosses
    midnight and belongs to the day it starts on. Incidents already stored are not changed:
    the next evaluation of a minute uses the new windows.
    """
    site = visible_site(session, scope, site_id, "site.allowed_windows.update")
    before = [w.as_json() for w in stored_windows(site.allowed_windows)]
    site.allowed_windows = [w.as_json() for w in body.windows]
    session.flush()
    audit.record(
        session,
        scope,
        "site.allowed_windows.update",
        object_type="site",
        object_id=site.id,
        detail={"before": before, "after": site.allowed_windows},
        ip=client_ip(request),
    )
    return _windows_out(site, runtime(request).settings)
