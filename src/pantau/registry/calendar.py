"""Work calendar: which days a site is staffed, and between which hours.

Alerts and reports need to know whether something happened inside or outside office hours.
The answer depends on layered rules (regular weekly hours, Ramadan hours, national holidays
and cuti bersama, ad-hoc circulars from the Wali Kota, site closures), so the precedence is
kept here in one pure function that is easy to test and to explain to an operator.

Times are naive local wall-clock times (Asia/Makassar, WITA); converting instants to local
time is the caller's job.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Literal

import holidays

__all__ = [
    "MAX_RANGE_DAYS",
    "RULE_KINDS",
    "CalendarError",
    "CalendarRule",
    "DaySchedule",
    "RuleKind",
    "default_city_rules",
    "format_hhmm",
    "national_holidays",
    "schedule_for_day",
    "schedule_range",
    "validate_rule",
    "validate_rules",
]

RuleKind = Literal["weekly", "ramadan", "override", "closure"]
RULE_KINDS: tuple[str, ...] = ("weekly", "ramadan", "override", "closure")

MAX_RANGE_DAYS = 400
"""Longest span schedule_range() will expand, so a typo'd year cannot build a huge list."""

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
ALL_WEEKDAYS = frozenset(range(7))

# Kinds that only make sense for a bounded period (a Ramadan or a circular always ends).
_NEEDS_DATES = ("ramadan", "override", "closure")
# Kinds that describe a regular pattern, so "every day" must be spelled out explicitly.
_NEEDS_WEEKDAYS = ("weekly", "ramadan")
_HOLIDAY_CATEGORIES = ("public", "government")
_CUTI_BERSAMA_PREFIX = "Cuti Bersama"

REASON_WEEKLY = "Jam kerja reguler"
REASON_RAMADAN = "Jam kerja Ramadan"
REASON_NO_HOURS = "Akhir pekan / tidak ada jam kerja"


class CalendarError(ValueError):
    """Invalid rule or rule set; `field` points at the offending input so forms can mark it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class CalendarRule:
    """One layer of the calendar. Rules are stored in the database and checked by validate_rule.

    weekdays: 0=Mon..6=Sun; empty means every day (override/closure only).
    start/end: inclusive; None means unbounded (weekly only).
    level: 0 = city default calendar, 1 = a site's own calendar; higher wins within a kind.
    """

    kind: RuleKind
    weekdays: frozenset[int] = frozenset()
    opens: time | None = None
    closes: time | None = None
    start: date | None = None
    end: date | None = None
    reason: str = ""
    id: int | None = None
    level: int = 0

    def __post_init__(self) -> None:
        # Accept a list/set/tuple from forms or JSON; keep the dataclass hashable.
        if isinstance(self.weekdays, set | list | tuple):
            object.__setattr__(self, "weekdays", frozenset(self.weekdays))

    def matches(self, day: date) -> bool:
        """True if this rule applies to `day` (within its dates and on one of its weekdays)."""
        if self.start is not None and day < self.start:
            return False
        if self.end is not None and day > self.end:
            return False
        return not self.weekdays or day.weekday() in self.weekdays


@dataclass(frozen=True)
class DaySchedule:
    """The resolved schedule of one day, with the rule that decided it so the UI can explain it.

    rule: "closure" | "override" | "holiday" | "ramadan" | "weekly" | "no_hours".
    reason: Bahasa Indonesia text for operators.
    holiday_name: set whenever the day is a national holiday / cuti bersama, even if a closure
    or override decided the hours, so the UI can still show it.
    """

    day: date
    working: bool
    opens: time | None
    closes: time | None
    rule: str
    reason: str
    rule_id: int | None = None
    holiday_name: str | None = None


def format_hhmm(t: time) -> str:
    """Indonesian clock style ("07.30"), used everywhere in the UI."""
    return f"{t.hour:02d}.{t.minute:02d}"


def parse_hhmm(value: object) -> object:
    """Accept Indonesian "07.30" as well as "07:30" before a time is parsed."""
    if isinstance(value, str) and "." in value and ":" not in value:
        return value.replace(".", ":")
    return value


def _is_date(value: object) -> bool:
    # datetime is a date subclass, but comparing it with a date raises TypeError later.
    return isinstance(value, date) and not isinstance(value, datetime)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fmt_days(days: frozenset[int]) -> str:
    return ", ".join(WEEKDAY_NAMES[d] for d in sorted(days)) if days else "every day"


def _fmt_range(start: date | None, end: date | None) -> str:
    lo = start.isoformat() if start else "open start"
    hi = end.isoformat() if end else "open end"
    return f"{lo}..{hi}"


def validate_rule(rule: CalendarRule, field: str = "rule") -> None:
    """Reject a rule that would give nonsense hours, before it is saved rather than when used."""
    if not isinstance(rule, CalendarRule):
        raise CalendarError(f"expected a CalendarRule, got {type(rule).__name__}", field)
    kind = rule.kind
    if kind not in RULE_KINDS:
        raise CalendarError(
            f"kind must be one of {', '.join(RULE_KINDS)}; got {kind!r}", f"{field}.kind"
        )

    if not isinstance(rule.weekdays, frozenset):
        raise CalendarError("weekdays must be a set of integers 0-6", f"{field}.weekdays")
    for d in sorted(rule.weekdays, key=repr):
        if not _is_int(d) or not 0 <= d <= 6:
            raise CalendarError(
                f"weekday must be an integer 0 (Mon) to 6 (Sun); got {d!r}", f"{field}.weekdays"
            )
    if kind in _NEEDS_WEEKDAYS and not rule.weekdays:
        raise CalendarError(f"a {kind} rule needs at least one weekday", f"{field}.weekdays")

    for name in ("opens", "closes"):
        value = getattr(rule, name)
        if value is not None and (not isinstance(value, time) or value.tzinfo is not None):
            raise CalendarError(
                f"{name} must be a local time without time zone; got {value!r}", f"{field}.{name}"
            )
    if kind == "closure":
        for name in ("opens", "closes"):
            if getattr(rule, name) is not None:
                raise CalendarError("a closure rule must not have opening hours", f"{field}.{name}")
    else:
        for name in ("opens", "closes"):
            if getattr(rule, name) is None:
                raise CalendarError(f"a {kind} rule needs {name}", f"{field}.{name}")
        assert rule.opens is not None and rule.closes is not None
        if rule.closes <= rule.opens:
            raise CalendarError(
                f"closes ({format_hhmm(rule.closes)}) must be after opens "
                f"({format_hhmm(rule.opens)})",
                f"{field}.closes",
            )

    for name in ("start", "end"):
        value = getattr(rule, name)
        if value is not None and not _is_date(value):
            raise CalendarError(f"{name} must be a date; got {value!r}", f"{field}.{name}")
        if value is None and kind in _NEEDS_DATES:
            raise CalendarError(f"a {kind} rule needs a {name} date", f"{field}.{name}")
    if rule.start is not None and rule.end is not None and rule.end < rule.start:
        raise CalendarError(
            f"end ({rule.end.isoformat()}) must not be before start ({rule.start.isoformat()})",
            f"{field}.end",
        )

    if not isinstance(rule.reason, str):
        raise CalendarError("reason must be text", f"{field}.reason")
    if rule.id is not None and not _is_int(rule.id):
        raise CalendarError(f"id must be an integer; got {rule.id!r}", f"{field}.id")
    if not _is_int(rule.level) or rule.level < 0:
        raise CalendarError(
            f"level must be a non-negative integer; got {rule.level!r}", f"{field}.level"
        )


def _overlap(a: CalendarRule, b: CalendarRule) -> tuple[frozenset[int], date | None, date | None]:
    """Weekdays and date span on which both rules apply; empty weekdays means no conflict."""
    starts = [d for d in (a.start, b.start) if d is not None]
    ends = [d for d in (a.end, b.end) if d is not None]
    lo = max(starts) if starts else None
    hi = min(ends) if ends else None
    if lo is not None and hi is not None and hi < lo:
        return frozenset(), lo, hi
    days = (a.weekdays or ALL_WEEKDAYS) & (b.weekdays or ALL_WEEKDAYS)
    if lo is not None and hi is not None and (hi - lo).days < 6:
        # A short span may not contain every weekday; only report days that really clash.
        present = {(lo + timedelta(days=i)).weekday() for i in range((hi - lo).days + 1)}
        days &= present
    return days, lo, hi


def validate_rules(rules: Sequence[CalendarRule]) -> None:
    """Validate each rule, then reject ambiguous pairs.

    Two rules of the same kind and level that both apply to some day would make the result
    depend on list order, so that is an error; different levels are fine (higher wins).
    """
    for i, rule in enumerate(rules):
        validate_rule(rule, f"rules[{i}]")
    for j, b in enumerate(rules):
        for i in range(j):
            a = rules[i]
            if a.kind != b.kind or a.level != b.level:
                continue
            days, lo, hi = _overlap(a, b)
            if not days:
                continue
            raise CalendarError(
                f"rules[{i}] ({a.kind}, {_fmt_range(a.start, a.end)}, {_fmt_days(a.weekdays)}) "
                f"overlaps rules[{j}] ({b.kind}, {_fmt_range(b.start, b.end)}, "
                f"{_fmt_days(b.weekdays)}) at level {a.level} on {_fmt_days(days)} "
                f"within {_fmt_range(lo, hi)}",
                f"rules[{j}]",
            )


@functools.lru_cache(maxsize=64)
def _holidays_for_year(year: int) -> Mapping[date, str]:
    found = holidays.country_holidays(
        "ID", years=year, categories=_HOLIDAY_CATEGORIES, language="id"
    )
    return MappingProxyType(dict(found))


def national_holidays(year: int) -> dict[date, str]:
    """Indonesian national holidays and cuti bersama for `year`, names in Bahasa Indonesia.

    Cuti bersama (collective leave) names start with "Cuti Bersama"; civil servants do not work
    on them either. The lookup is cached per year; a fresh dict is returned so callers may
    modify it without corrupting the cache.
    """
    return dict(_holidays_for_year(year))


def _default_holiday_lookup(day: date) -> str | None:
    return _holidays_for_year(day.year).get(day)


def _pick(rules: Sequence[CalendarRule], kind: str, day: date) -> CalendarRule | None:
    """Highest-level matching rule of `kind`; on a tie the earlier rule wins (stable)."""
    best: CalendarRule | None = None
    for rule in rules:
        if rule.kind == kind and rule.matches(day) and (best is None or rule.level > best.level):
            best = rule
    return best


def _with_reason(prefix: str, reason: str) -> str:
    return f"{prefix}: {reason}" if reason else prefix


def schedule_for_day(
    rules: Sequence[CalendarRule],
    day: date,
    *,
    use_national_holidays: bool = True,
    holiday_lookup: Callable[[date], str | None] | None = None,
) -> DaySchedule:
    """Resolve one day. Rules are assumed already checked by validate_rules().

    Precedence, first match wins: closure > override > national holiday / cuti bersama >
    ramadan > weekly > no hours. Closures and overrides beat holidays because an explicit
    circular for this city or site is more specific than the national calendar.
    """
    if not _is_date(day):
        raise CalendarError(f"day must be a date; got {day!r}", "day")

    holiday_name: str | None = None
    if use_national_holidays:
        lookup = holiday_lookup or _default_holiday_lookup
        holiday_name = lookup(day) or None

    closure = _pick(rules, "closure", day)
    if closure is not None:
        return DaySchedule(
            day=day,
            working=False,
            opens=None,
            closes=None,
            rule="closure",
            reason=_with_reason("Penutupan", closure.reason),
            rule_id=closure.id,
            holiday_name=holiday_name,
        )

    override = _pick(rules, "override", day)
    if override is not None:
        return DaySchedule(
            day=day,
            working=True,
            opens=override.opens,
            closes=override.closes,
            rule="override",
            reason=_with_reason("Perubahan jam", override.reason),
            rule_id=override.id,
            holiday_name=holiday_name,
        )

    if holiday_name is not None:
        if holiday_name.startswith(_CUTI_BERSAMA_PREFIX):
            reason = holiday_name
        else:
            reason = f"Libur nasional: {holiday_name}"
        return DaySchedule(
            day=day,
            working=False,
            opens=None,
            closes=None,
            rule="holiday",
            reason=reason,
            holiday_name=holiday_name,
        )

    for kind, reason in (("ramadan", REASON_RAMADAN), ("weekly", REASON_WEEKLY)):
        rule = _pick(rules, kind, day)
        if rule is not None:
            return DaySchedule(
                day=day,
                working=True,
                opens=rule.opens,
                closes=rule.closes,
                rule=kind,
                reason=reason,
                rule_id=rule.id,
            )

    return DaySchedule(
        day=day, working=False, opens=None, closes=None, rule="no_hours", reason=REASON_NO_HOURS
    )


def schedule_range(
    rules: Sequence[CalendarRule],
    start: date,
    end: date,
    *,
    use_national_holidays: bool = True,
    holiday_lookup: Callable[[date], str | None] | None = None,
) -> list[DaySchedule]:
    """Schedules for start..end inclusive (at most MAX_RANGE_DAYS days), for month/year views."""
    if not _is_date(start):
        raise CalendarError(f"start must be a date; got {start!r}", "start")
    if not _is_date(end):
        raise CalendarError(f"end must be a date; got {end!r}", "end")
    if end < start:
        raise CalendarError(
            f"end ({end.isoformat()}) must not be before start ({start.isoformat()})", "end"
        )
    count = (end - start).days + 1
    if count > MAX_RANGE_DAYS:
        raise CalendarError(
            f"range covers {count} days; at most {MAX_RANGE_DAYS} are allowed", "end"
        )
    return [
        schedule_for_day(
            rules,
            start + timedelta(days=i),
            use_national_holidays=use_national_holidays,
            holiday_lookup=holiday_lookup,
        )
        for i in range(count)
    ]


def default_city_rules() -> list[CalendarRule]:
    """Kendari civil-servant (ASN) hours in WITA: the city-level default every site inherits.

    Ramadan dates follow the government's announced start and the eve of Idul Fitri; add a new
    pair of rules each year once the Kementerian Agama sidang isbat fixes the dates.
    """
    mon_thu = frozenset({0, 1, 2, 3})
    fri = frozenset({4})
    rules = [
        CalendarRule(
            kind="weekly",
            weekdays=mon_thu,
            opens=time(7, 30),
            closes=time(16, 0),
            reason="Jam kerja ASN Kota Kendari",
        ),
        CalendarRule(
            kind="weekly",
            weekdays=fri,
            opens=time(7, 30),
            closes=time(16, 30),
            reason="Jam kerja ASN Kota Kendari",
        ),
    ]
    ramadan_periods = (
        (date(2025, 3, 1), date(2025, 3, 30), "Ramadan 1446 H"),
        (date(2026, 2, 19), date(2026, 3, 20), "Ramadan 1447 H"),
    )
    for start, end, reason in ramadan_periods:
        rules.append(
            CalendarRule(
                kind="ramadan",
                weekdays=mon_thu,
                opens=time(8, 0),
                closes=time(15, 0),
                start=start,
                end=end,
                reason=reason,
            )
        )
        rules.append(
            CalendarRule(
                kind="ramadan",
                weekdays=fri,
                opens=time(8, 0),
                closes=time(15, 30),
                start=start,
                end=end,
                reason=reason,
            )
        )
    return rules
