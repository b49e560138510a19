"""Settings of the opening-hours verdict: every threshold the rules use, with its reason.

A `Section` like the rest of the settings tree, so it can hang under `Settings` as `verdicts:`
without change. Times accept the Indonesian "06.00" as well as "06:00".
"""

from __future__ import annotations

import hashlib
import json
from datetime import time

from pydantic import Field, field_validator, model_validator

from pantau.config.section import Section
from pantau.registry.calendar import parse_hhmm

SCHEDULING = {"lookback_days", "interval_seconds"}  # when to recompute, not how: not in digest


class VerdictConfig(Section):
    """How a day of observations becomes opened/closed times and a status (docs/verdicts.md)."""

    earliest: time = Field(
        default=time(6, 0),
        description="Look for the opening from this local time (earlier presence is not opening)",
    )
    latest: time = Field(
        default=time(22, 0),
        description="Look for the closing up to this local time (the night guard comes later)",
    )
    min_present: int = Field(
        default=10,
        ge=1,
        le=240,
        description="Sustained presence: at least this many staffed minutes ...",
    )
    window: int = Field(
        default=15, ge=1, le=240, description="... within this many consecutive minutes"
    )
    min_session: int = Field(
        default=45,
        ge=1,
        le=720,
        description="A presence counts as the office being open only if its sustained part "
        "spans at least this many minutes (a cleaner stays 15-30)",
    )
    split_gap: int = Field(
        default=10,
        ge=1,
        le=240,
        description="This many minutes in a row without staff split one presence into two",
    )
    edge_gap: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Missed minutes bridged when walking from a sustained presence back to the "
        "arrival (or on to the departure) over minutes with people, lights on or not",
    )
    activity_motion: float = Field(
        default=0.005,
        ge=0,
        le=100,
        description="Walking back from a sustained presence to the arrival, a lit minute with "
        "more than this much motion (% of the picture) counts as someone there the detector "
        "missed (a clerk sitting still at the counter); 0 turns the walk over motion off",
    )
    activity_reach: int = Field(
        default=60,
        ge=0,
        le=240,
        description="At most this many minutes are walked over motion alone, so motion that "
        "is not a person (sunlight, a screen) cannot carry an opening back for hours",
    )
    min_people: int = Field(
        default=1, ge=1, le=50, description="People needed for a staffed minute"
    )
    service_zones: list[str] = Field(
        default_factory=lambda: ["area layanan", "pelayanan", "loket"],
        description="Zone names (case-insensitive) that are the service area; a camera with "
        "zones but none of these does not watch the service area and is left out",
    )
    require_lights: bool = Field(
        default=True,
        description="A minute whose camera reports the lights off is not staffed "
        "(unknown light state is not required)",
    )
    grace: int = Field(
        default=5, ge=0, le=120, description="Minutes after the scheduled open still on time"
    )
    heavy_late_after: time = Field(
        default=time(10, 0),
        description="Opening at or after this local time is terlambat berat (the complaint)",
    )
    lead: int = Field(
        default=30,
        ge=0,
        le=240,
        description="The opening window starts this many minutes before the scheduled open",
    )
    min_seen_seconds: float = Field(
        default=30.0,
        gt=0,
        le=60,
        description="A camera-minute is seen when at least this many seconds were analysed",
    )
    min_coverage: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Share of the decisive window that must be seen before a day can be "
        "called late, not open or closed early",
    )

    lookback_days: int = Field(
        default=7, ge=1, le=92, description="The hub recomputes changed verdicts this far back"
    )
    interval_seconds: float = Field(
        default=300, ge=10, le=86400, description="How often the hub looks for changed days"
    )

    @field_validator("earliest", "latest", "heavy_late_after", mode="before")
    @classmethod
    def _hhmm(cls, value: object) -> object:
        return parse_hhmm(value)

    @field_validator("earliest", "latest", "heavy_late_after")
    @classmethod
    def _naive(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("must be a local time without time zone, e.g. 06.00")
        return value

    @field_validator("service_zones")
    @classmethod
    def _zone_names(cls, value: list[str]) -> list[str]:
        names = [v.strip() for v in value]
        if any(not n for n in names):
            raise ValueError("zone names must not be empty")
        return names

    @model_validator(mode="after")
    def _consistent(self) -> VerdictConfig:
        if self.min_present > self.window:
            raise ValueError(
                f"min_present ({self.min_present}) must not exceed window ({self.window})"
            )
        if self.latest <= self.earliest:
            raise ValueError(
                f"latest ({self.latest:%H.%M}) must be after earliest ({self.earliest:%H.%M})"
            )
        return self

    def digest(self) -> str:
        """Short fingerprint of the settings, stored with each verdict: a verdict computed with
        other thresholds is told apart from one computed with these."""
        data = self.model_dump(mode="json", exclude=SCHEDULING)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]
