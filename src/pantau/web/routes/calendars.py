"""Work calendars: the city default and per-site calendars that inherit from it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.accounts import audit
from pantau.registry.calendar import CalendarError
from pantau.registry.schedule import check_calendar
from pantau.registry.seed import CITY_CALENDAR
from pantau.store.models import Calendar, CalendarRuleRow, Site
from pantau.web.deps import DB, Admin, CityReader, client_ip
from pantau.web.errors import Conflict, Invalid, NotFound
from pantau.web.schemas import CalendarIn, CalendarOut, CalendarPatch, RuleIn, RuleOut

router = APIRouter(prefix="/api/calendars", tags=["calendars"])


def _calendar(session: Session, calendar_id: int) -> Calendar:
    cal = session.get(Calendar, calendar_id)
    if cal is None:
        raise NotFound("calendar", calendar_id)
    return cal


@router.get("", response_model=list[CalendarOut])
def list_calendars(_: CityReader, session: DB) -> list[Calendar]:
    return list(session.scalars(select(Calendar).order_by(Calendar.id)))


@router.get("/{calendar_id}", response_model=CalendarOut)
def get_calendar(calendar_id: int, _: CityReader, session: DB) -> Calendar:
    return _calendar(session, calendar_id)


@router.post("", response_model=CalendarOut, status_code=201)
def create_calendar(body: CalendarIn, request: Request, scope: Admin, session: DB) -> Calendar:
    if session.scalar(select(Calendar).where(Calendar.name == body.name)) is not None:
        raise Conflict(f"a calendar named {body.name!r} already exists", "name")
    if body.parent_id is not None and session.get(Calendar, body.parent_id) is None:
        raise Invalid(f"parent calendar {body.parent_id} does not exist", "parent_id")
    cal = Calendar(**body.model_dump())
    session.add(cal)
    session.flush()
    audit.record(
        session,
        scope,
        "calendar.create",
        object_type="calendar",
        object_id=cal.id,
        detail=body.model_dump(mode="json"),
        ip=client_ip(request),
    )
    return cal


@router.patch("/{calendar_id}", response_model=CalendarOut)
def update_calendar(
    calendar_id: int, body: CalendarPatch, request: Request, scope: Admin, session: DB
) -> Calendar:
    cal = _calendar(session, calendar_id)
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "use_national_holidays"):
        if key in changes and changes[key] is None:
            raise Invalid(f"{key} cannot be null; leave it out to keep the current value", key)
    if "name" in changes and changes["name"] != cal.name:
        if cal.name == CITY_CALENDAR:
            # The seed finds the city default by name; renaming it would make the next start
            # create a second, empty "Kota Kendari" calendar.
            raise Invalid(f"the city calendar {CITY_CALENDAR!r} cannot be renamed", "name")
        if session.scalar(select(Calendar).where(Calendar.name == changes["name"])) is not None:
            raise Conflict(f"a calendar named {changes['name']!r} already exists", "name")
    if "parent_id" in changes:
        parent_id = changes["parent_id"]
        if parent_id is not None:
            parent = session.get(Calendar, parent_id)
            if parent is None:
                raise Invalid(f"parent calendar {parent_id} does not exist", "parent_id")
            node: Calendar | None = parent
            seen: set[int] = set()
            while node is not None and node.id not in seen:
                seen.add(node.id)
                if node.id == cal.id:
                    raise Invalid(
                        f"calendar {parent_id} inherits from calendar {cal.id}; "
                        "a calendar cannot be its own ancestor",
                        "parent_id",
                    )
                node = node.parent
            cal.parent = parent
        else:
            cal.parent = None
    for key in ("name", "use_national_holidays"):
        if key in changes:
            setattr(cal, key, changes[key])
    try:
        check_calendar(cal)
    except CalendarError as exc:
        raise Invalid(str(exc), "parent_id") from exc
    session.flush()
    audit.record(
        session,
        scope,
        "calendar.update",
        object_type="calendar",
        object_id=cal.id,
        detail=body.model_dump(mode="json", exclude_unset=True),
        ip=client_ip(request),
    )
    return cal


@router.delete("/{calendar_id}", status_code=204)
def delete_calendar(calendar_id: int, request: Request, scope: Admin, session: DB) -> None:
    """Only an unused calendar: not the city default, no site and no child calendar on it."""
    cal = _calendar(session, calendar_id)
    if cal.name == CITY_CALENDAR:
        raise Conflict(f"the city calendar {CITY_CALENDAR!r} cannot be deleted")
    site_ids = list(session.scalars(select(Site.id).where(Site.calendar_id == cal.id).limit(5)))
    if site_ids:
        raise Conflict(
            f"calendar {cal.id} is used by site(s) {', '.join(map(str, site_ids))}; "
            "assign them another calendar first"
        )
    children = list(session.scalars(select(Calendar.id).where(Calendar.parent_id == cal.id)))
    if children:
        raise Conflict(
            f"calendar {cal.id} is the parent of calendar(s) {', '.join(map(str, children))}"
        )
    audit.record(
        session,
        scope,
        "calendar.delete",
        object_type="calendar",
        object_id=cal.id,
        detail={"name": cal.name, "rules": len(cal.rules)},
        ip=client_ip(request),
    )
    session.delete(cal)


@router.post("/{calendar_id}/rules", response_model=RuleOut, status_code=201)
def add_rule(
    calendar_id: int, body: RuleIn, request: Request, scope: Admin, session: DB
) -> CalendarRuleRow:
    """Rejects a rule that overlaps one of the same kind (the message names both)."""
    cal = _calendar(session, calendar_id)
    row = CalendarRuleRow(
        kind=body.kind,
        weekdays=sorted(set(body.weekdays)),
        opens=body.opens,
        closes=body.closes,
        start_date=body.start_date,
        end_date=body.end_date,
        reason=body.reason,
    )
    try:
        check_calendar(cal, extra=row)
    except CalendarError as exc:
        field = (exc.field or "").rsplit(".", 1)[-1] if exc.field and "." in exc.field else None
        field = {"start": "start_date", "end": "end_date"}.get(field or "", field)
        raise Invalid(str(exc), field) from exc
    cal.rules.append(row)
    session.flush()
    audit.record(
        session,
        scope,
        "calendar.rule.create",
        object_type="calendar",
        object_id=cal.id,
        detail=body.model_dump(mode="json") | {"rule_id": row.id},
        ip=client_ip(request),
    )
    return row


@router.delete("/{calendar_id}/rules/{rule_id}", status_code=204)
def delete_rule(
    calendar_id: int, rule_id: int, request: Request, scope: Admin, session: DB
) -> None:
    cal = _calendar(session, calendar_id)
    row = next((r for r in cal.rules if r.id == rule_id), None)
    if row is None:
        raise NotFound(f"rule in calendar {calendar_id}:", rule_id)
    audit.record(
        session,
        scope,
        "calendar.rule.delete",
        object_type="calendar",
        object_id=cal.id,
        detail={"rule_id": rule_id, "kind": row.kind.value, "reason": row.reason},
        ip=client_ip(request),
    )
    cal.rules.remove(row)
