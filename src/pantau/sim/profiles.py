"""Office behaviour profiles: how a simulated kelurahan office lives its days.

Profiles are data (pydantic), so a test or a demo can define its own in YAML; the built-in ones
cover the cases the control room must tell apart: punctual, usually late, very late (after
10.00 — the complaint that started the project), sometimes closed, leaving early on Friday.
"""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pantau.registry.calendar import parse_hhmm

BEHAVIOURS = ("cleaner", "night_guard", "friday_early", "visitors")
EventKind = Literal[
    "intruder", "cover", "wall", "defocus", "blackout", "camera_offline", "site_offline"
]


class Window(BaseModel):
    """A local time-of-day window; a time is drawn uniformly inside it each day."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    earliest: time
    latest: time

    @field_validator("earliest", "latest", mode="before")
    @classmethod
    def _hhmm(cls, value: object) -> object:
        return parse_hhmm(value)

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.latest < self.earliest:
            raise ValueError(
                f"window ends ({self.latest:%H.%M}) before it starts ({self.earliest:%H.%M})"
            )
        return self


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    arrive: Window = Field(description="first staff member arrives (the true opening)")
    leave: Window = Field(description="last staff member leaves (the true closing)")
    friday_leave: Window | None = Field(default=None, description="used with friday_early")
    closed_probability: float = Field(default=0.0, ge=0, le=1)
    staff: tuple[int, int] = (3, 5)
    visitors_per_hour: float = Field(default=1.5, ge=0, le=30)
    behaviours: tuple[str, ...] = ("cleaner", "night_guard", "visitors")

    @field_validator("behaviours")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [b for b in value if b not in BEHAVIOURS]
        if unknown:
            raise ValueError(
                f"unknown behaviour(s) {', '.join(unknown)}; known: {', '.join(BEHAVIOURS)}"
            )
        return value

    @field_validator("staff")
    @classmethod
    def _staff(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 1 <= value[0] <= value[1] <= 30:
            raise ValueError("staff must be (min, max) with 1 <= min <= max <= 30")
        return value

    @model_validator(mode="after")
    def _possible(self) -> Profile:
        if self.leave.latest <= self.arrive.earliest or self.leave.earliest < self.arrive.latest:
            raise ValueError(
                f"impossible schedule: staff would leave ({self.leave.earliest:%H.%M}–"
                f"{self.leave.latest:%H.%M}) before arriving ({self.arrive.earliest:%H.%M}–"
                f"{self.arrive.latest:%H.%M})"
            )
        if "friday_early" in self.behaviours and self.friday_leave is None:
            raise ValueError("behaviour friday_early needs friday_leave")
        if self.friday_leave is not None and self.friday_leave.earliest < self.arrive.latest:
            raise ValueError("impossible schedule: friday_leave starts before the latest arrival")
        return self


def _w(a: str, b: str) -> Window:
    return Window(earliest=a, latest=b)


BUILTIN: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            name="punctual",
            description="opens 07.15–07.35, closes on time",
            arrive=_w("07.15", "07.35"),
            leave=_w("16.02", "16.25"),
        ),
        Profile(
            name="late",
            description="usually opens 08.30–09.30",
            arrive=_w("08.30", "09.30"),
            leave=_w("15.50", "16.20"),
        ),
        Profile(
            name="very_late",
            description="opens after 10.00 (the citizens' complaint)",
            arrive=_w("10.05", "11.15"),
            leave=_w("14.30", "15.45"),
        ),
        Profile(
            name="sometimes_closed",
            description="punctual, but closed on ~15 % of days",
            arrive=_w("07.20", "07.45"),
            leave=_w("15.55", "16.20"),
            closed_probability=0.15,
        ),
        Profile(
            name="friday_early",
            description="punctual, leaves at 11.30–12.30 on Fridays",
            arrive=_w("07.20", "07.40"),
            leave=_w("16.00", "16.20"),
            friday_leave=_w("11.30", "12.30"),
            behaviours=("cleaner", "night_guard", "visitors", "friday_early"),
        ),
    )
}


class ScheduledEvent(BaseModel):
    """A rare event at a fixed local time (or on command through the CLI)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: EventKind
    at: str = Field(description="local date-time, e.g. 2026-12-01 23.40")
    minutes: float = Field(default=10, gt=0, le=24 * 60 * 7)
    view: Literal["interior", "entrance"] | None = None


class OfficeSim(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site: str = Field(description="site slug or kelurahan code")
    profile: str = "punctual"
    seed: int | None = None
    events: list[ScheduledEvent] = Field(default_factory=list)
    random_events: bool = Field(default=True, description="intruders, tamper, outages at random")


def resolve_profile(name: str, custom: dict[str, Profile] | None = None) -> Profile:
    table = {**BUILTIN, **(custom or {})}
    if name not in table:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(sorted(table))}")
    return table[name]
