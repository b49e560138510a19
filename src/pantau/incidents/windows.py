"""Allowed windows per site: times when people on camera outside office hours are expected.

A night guard's round or a cleaner's early slot must not raise an intrusion every night. The
windows are stored on the site as plain JSON (local wall-clock times, as people say them:
"21.45"), validated here, and turned into the `allowed(minute)` predicate the rules take.
A window whose end is earlier than its start crosses midnight; `days` names the day it
*starts* on, so a Friday 23.00–01.00 window covers Saturday 00.30 too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pantau.registry.calendar import format_hhmm, parse_hhmm

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_WINDOWS = 20


class AllowedWindow(BaseModel):
    """One window, e.g. {"days": ["mon", "tue"], "from": "21.45", "to": "22.15", "note": "ronda"}.

    `days` null (or left out) means every day.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    days: list[str] | None = Field(
        default=None, description='Days the window starts on ("mon".."sun"); null = every day'
    )
    start: time = Field(alias="from", description='Local time, "21.45" or "21:45"')
    end: time = Field(alias="to", description="Local time; earlier than from = crosses midnight")
    note: str = Field(default="", max_length=120, description='e.g. "ronda satpam"')

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        out = []
        for day in value:
            key = day.strip().lower()[:3] if isinstance(day, str) else day
            if key not in DAYS:
                raise ValueError(f"unknown day {day!r}; use {', '.join(DAYS)}")
            if key not in out:
                out.append(key)
        if not out:
            raise ValueError("give at least one day, or null for every day")
        return sorted(out, key=DAYS.index)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hhmm(cls, value: Any) -> Any:
        return parse_hhmm(value)

    @field_validator("start", "end")
    @classmethod
    def _whole_minutes(cls, value: time) -> time:
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError('give a local time as "HH.MM" (whole minutes, no time zone)')
        return value

    @field_validator("end")
    @classmethod
    def _not_empty(cls, value: time, info: Any) -> time:
        if info.data.get("start") == value:
            raise ValueError("to is the same as from: the window would be empty")
        return value

    def as_json(self) -> dict[str, Any]:
        """The stored and returned form: times as "21.45", like everywhere in the UI."""
        return {
            "days": self.days,
            "from": format_hhmm(self.start),
            "to": format_hhmm(self.end),
            "note": self.note,
        }

    def covers(self, local: datetime) -> bool:
        """Whether a naive or aware *local* time falls in this window (end exclusive)."""
        t = local.time().replace(tzinfo=None)
        days = set(self.days) if self.days is not None else set(DAYS)
        today = DAYS[local.weekday()]
        if self.start < self.end:
            return today in days and self.start <= t < self.end
        yesterday = DAYS[(local.weekday() - 1) % 7]
        return (today in days and t >= self.start) or (yesterday in days and t < self.end)


class WindowsIn(BaseModel):
    """The whole list of a site's windows (replaced as one: it is short and edited as one)."""

    model_config = ConfigDict(extra="forbid")

    windows: list[AllowedWindow] = Field(max_length=MAX_WINDOWS)


def parse_windows(data: Iterable[Any] | None) -> list[AllowedWindow]:
    """Validate a list of windows; raises pydantic's ValidationError naming the bad field."""
    return WindowsIn.model_validate({"windows": list(data or [])}).windows


def stored_windows(data: Iterable[Any] | None) -> list[AllowedWindow]:
    """Windows as stored on a site; a row that no longer validates is skipped, not fatal.

    The API validates on the way in, so this only matters for rows written by hand: one bad
    window must not stop every incident of the site from being evaluated.
    """
    out = []
    for item in data or []:
        try:
            out.append(AllowedWindow.model_validate(item))
        except ValidationError:
            continue
    return out


def allowed_predicate(
    windows: Sequence[AllowedWindow], timezone: str
) -> Callable[[datetime], bool]:
    """`allowed(minute)` for the rules: minutes are UTC instants, windows local wall time."""
    if not windows:
        return lambda _: False
    tz = ZoneInfo(timezone)

    def allowed(minute: datetime) -> bool:
        local = minute.astimezone(tz)
        return any(w.covers(local) for w in windows)

    return allowed
