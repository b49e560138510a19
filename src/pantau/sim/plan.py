"""Shared plan types for ``pantau sim``: who is in which office when, lights, tamper, outages.

Kept dependency-free so the world planner, renderer and ground-truth writer can all import it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Role = Literal["staff", "visitor", "cleaner", "guard", "intruder"]
Spot = Literal["desk", "counter", "visitor_chair", "wander", "walkthrough"]
TamperKind = Literal["cover", "wall", "defocus", "blackout"]
View = Literal["interior", "entrance"]


@dataclass(frozen=True)
class Visit:
    """One person in the office: enters through the door at `enter`, leaves at `leave`."""

    actor_id: str  # stable, e.g. "kel-kambu/2026-11-30/staff-2"
    role: Role
    enter: datetime  # aware UTC
    leave: datetime  # aware UTC
    spot: Spot  # where they spend the visit
    spot_index: int = 0  # which desk/chair
    views: tuple[View, ...] = ("entrance", "interior")  # visible in which camera views


@dataclass(frozen=True)
class Interval:
    start: datetime  # aware UTC
    end: datetime
    kind: str  # lights: "on"; tamper: a TamperKind; outage: "camera" | "site"
    view: View | None = None  # tamper/outage of one camera view, or None = all views


@dataclass
class DayPlan:
    site_slug: str
    day: date  # local date (Asia/Makassar)
    visits: list[Visit] = field(default_factory=list)
    lights: list[Interval] = field(default_factory=list)
    tamper: list[Interval] = field(default_factory=list)
    outages: list[Interval] = field(default_factory=list)
