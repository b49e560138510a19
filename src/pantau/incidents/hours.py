"""When people on camera are expected: a working day's hours, widened by the office margins.

Why margins: a kelurahan office is not empty until the scheduled opening. The cleaner comes at
about 06.30, clerks arrive early, and some stay after 16.00 to finish a letter. Calling each of
them an intrusion made the accuracy bench raise 14.7 false alarms per camera-week
(docs/accuracy.md), and an alarm that rings every morning is one operators learn to ignore.
So on a working day intrusions are raised only outside [opens - before, closes + after).
Days off and nights keep no margin: a person there is an alarm, as the mission asks.

The hub and every edge agent must draw the same line, because an incident's id is
(camera, kind, start minute) and both sides evaluate the same minutes. So both build their
predicate here, and the hub sends its margins in the site config (`hub/siteconfig.py`).
A margin that would cross midnight stops at the day's edge.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

Hours = tuple[time, time]


class Unknown(enum.Enum):
    """A day the caller cannot resolve (past an agent's cached calendar): never an intrusion."""

    DAY = "unknown"


UNKNOWN = Unknown.DAY


class DayLike(Protocol):
    working: bool
    opens: time | None
    closes: time | None


def working_hours(day: DayLike) -> Hours | None:
    """(opens, closes) of a working day with both times known, else None (a day off)."""
    if day.working and day.opens is not None and day.closes is not None:
        return day.opens, day.closes
    return None


@dataclass(frozen=True)
class Margins:
    """Minutes before the scheduled opening and after the closing that are not intrusions."""

    before_minutes: int = 90
    after_minutes: int = 60

    def as_json(self) -> dict[str, int]:
        return {"before_minutes": self.before_minutes, "after_minutes": self.after_minutes}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Margins:
        """The site config's form; an agent talking to an older hub gets no margins (its
        hub still judges without them, and ids must agree)."""
        if not data:
            return cls(0, 0)
        return cls(int(data.get("before_minutes", 0)), int(data.get("after_minutes", 0)))


def widened(day: date, hours: Hours, margins: Margins) -> tuple[datetime, datetime]:
    """The naive local span of a working day with its margins, clipped to the day itself."""
    start = datetime.combine(day, hours[0]) - timedelta(minutes=margins.before_minutes)
    end = datetime.combine(day, hours[1]) + timedelta(minutes=margins.after_minutes)
    midnight = datetime.combine(day, time())
    return max(start, midnight), min(end, midnight + timedelta(days=1))


def expected_predicate(
    hours_of: Callable[[date], Hours | Unknown | None], timezone: str, margins: Margins
) -> Callable[[datetime], bool]:
    """`scheduled(minute)` for the rules: True while people are expected on camera.

    `hours_of(day)` gives a working day's (opens, closes), None for a day off, or `UNKNOWN`.
    Minutes are aware instants; the day is the local one. Each day is resolved once.
    """
    tz = ZoneInfo(timezone)
    spans: dict[date, tuple[datetime, datetime] | Unknown | None] = {}

    def scheduled(minute: datetime) -> bool:
        local = minute.astimezone(tz)
        day = local.date()
        if day not in spans:
            hours = hours_of(day)
            spans[day] = widened(day, hours, margins) if isinstance(hours, tuple) else hours
        span = spans[day]
        if isinstance(span, Unknown):
            return True
        if span is None:
            return False
        return span[0] <= local.replace(tzinfo=None) < span[1]

    return scheduled
