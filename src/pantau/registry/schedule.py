"""The question every later layer asks: for site S on local date D, when should it be open?"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.registry.calendar import (
    CalendarError,
    CalendarRule,
    DaySchedule,
    schedule_for_day,
    schedule_range,
    validate_rules,
)
from pantau.registry.seed import CITY_CALENDAR, ensure_city_calendar
from pantau.store.models import Calendar, CalendarRuleRow, RuleKind, Site


def to_rule(row: CalendarRuleRow, level: int) -> CalendarRule:
    return CalendarRule(
        kind=RuleKind(row.kind).value,  # a row not yet flushed may still hold a plain str
        weekdays=frozenset(row.weekdays or ()),
        opens=row.opens,
        closes=row.closes,
        start=row.start_date,
        end=row.end_date,
        reason=row.reason or "",  # column defaults only apply at flush
        id=row.id,
        level=level,
    )


def calendar_chain(calendar: Calendar) -> list[Calendar]:
    """The calendar and its ancestors, root (city) first; cycles are cut."""
    chain: list[Calendar] = []
    seen: set[int] = set()
    node: Calendar | None = calendar
    while node is not None and node.id not in seen:
        seen.add(node.id)
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


def effective_rules(calendar: Calendar) -> list[CalendarRule]:
    """Rules of the whole chain; a deeper calendar's rules get a higher level and win."""
    return [
        to_rule(row, level)
        for level, cal in enumerate(calendar_chain(calendar))
        for row in cal.rules
    ]


def check_calendar(calendar: Calendar, extra: CalendarRuleRow | None = None) -> None:
    """Reject a rule set with overlaps or bad ranges before it is stored."""
    rules = effective_rules(calendar)
    if extra is not None:
        rules.append(to_rule(extra, len(calendar_chain(calendar)) - 1))
    validate_rules(rules)


def site_calendar(session: Session, site: Site) -> Calendar:
    if site.calendar is not None:
        return site.calendar
    cal = session.scalar(select(Calendar).where(Calendar.name == CITY_CALENDAR))
    return cal if cal is not None else ensure_city_calendar(session)


def site_day(session: Session, site: Site, day: date) -> DaySchedule:
    cal = site_calendar(session, site)
    return schedule_for_day(
        effective_rules(cal), day, use_national_holidays=cal.use_national_holidays
    )


def site_days(session: Session, site: Site, start: date, end: date) -> list[DaySchedule]:
    cal = site_calendar(session, site)
    return schedule_range(
        effective_rules(cal), start, end, use_national_holidays=cal.use_national_holidays
    )


__all__ = ["CalendarError", "check_calendar", "effective_rules", "site_day", "site_days"]
