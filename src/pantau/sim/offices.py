"""Which offices the simulator plays, with which profile, and their camera scenes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pantau.config.loader import format_loc
from pantau.registry.seed import SiteRow, base_slug, read_rows, shipped_csv, site_name
from pantau.sim.profiles import BUILTIN, OfficeSim, Profile, ScheduledEvent, resolve_profile
from pantau.sim.world import World

VIEWS = ("interior", "entrance")
DEFAULT_ROTATION = ("punctual", "late", "very_late", "sometimes_closed", "friday_early")


class SimError(Exception):
    """Bad simulator input; the message says what and where."""


class SimConfig(BaseModel):
    """Optional YAML for `pantau sim`: the offices to play and custom profiles."""

    model_config = ConfigDict(extra="forbid")
    profiles: dict[str, Profile] = Field(default_factory=dict)
    offices: list[OfficeSim] = Field(default_factory=list)


@dataclass
class SimOffice:
    row: SiteRow
    slug: str
    name: str
    world: World
    seed: int


def load_config(path: Path | None) -> SimConfig:
    if path is None:
        return SimConfig()
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise SimError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SimError(f"{path}: malformed YAML: {exc}") from exc
    try:
        return SimConfig.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{path}: {format_loc(tuple(e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise SimError("\n".join(lines)) from exc


def catalogue() -> dict[str, SiteRow]:
    """All kelurahan offices by slug and by code (the simulator needs no database)."""
    rows = read_rows(shipped_csv())
    table: dict[str, SiteRow] = {}
    for row in rows:
        table[base_slug(row)] = row
        table[row.code] = row
    return table


def parse_event(text: str) -> ScheduledEvent:
    """'intruder@2026-12-01 23.40+5/interior' -> a scheduled event (minutes and view optional)."""
    kind, sep, rest = text.partition("@")
    if not sep:
        raise SimError(f"event {text!r}: write KIND@YYYY-MM-DD HH.MM[+MINUTES][/VIEW]")
    view = None
    if "/" in rest:
        rest, view = rest.rsplit("/", 1)
    minutes = 10.0
    if "+" in rest:
        rest, mins = rest.rsplit("+", 1)
        try:
            minutes = float(mins)
        except ValueError as exc:
            raise SimError(f"event {text!r}: minutes {mins!r} is not a number") from exc
    try:
        return ScheduledEvent(kind=kind.strip(), at=rest.strip(), minutes=minutes, view=view)
    except ValidationError as exc:
        raise SimError(f"event {text!r}: {exc.errors()[0]['msg']}") from exc


def select_offices(
    config: SimConfig,
    *,
    sites: list[str] | None = None,
    count: int | None = None,
    tz: str = "Asia/Makassar",
    events: list[ScheduledEvent] | None = None,
) -> list[SimOffice]:
    """Offices from the config, or the named sites, or the first `count` kelurahan offices."""
    table = catalogue()
    custom = config.profiles
    specs: list[OfficeSim] = list(config.offices)
    if not specs:
        if sites:
            specs = [
                OfficeSim(site=s, profile=DEFAULT_ROTATION[i % len(DEFAULT_ROTATION)])
                for i, s in enumerate(sites)
            ]
        else:
            slugs = sorted({base_slug(r) for r in table.values()})[: count or 8]
            specs = [
                OfficeSim(site=s, profile=DEFAULT_ROTATION[i % len(DEFAULT_ROTATION)])
                for i, s in enumerate(slugs)
            ]
    offices = []
    for i, spec in enumerate(specs):
        row = table.get(spec.site)
        if row is None:
            raise SimError(
                f"unknown site {spec.site!r} (offices[{i}].site); use a slug such as "
                "kel-mandonga or a kelurahan code such as 74.71.01.1005 (see `pantau sites list`)"
            )
        try:
            profile = resolve_profile(spec.profile, custom)
        except ValueError as exc:
            raise SimError(f"offices[{i}].profile: {exc}") from exc
        slug = base_slug(row)
        seed = spec.seed if spec.seed is not None else int(row.code.replace(".", "")) % 100_003
        spec = spec.model_copy(update={"seed": seed, "events": [*spec.events, *(events or [])]})
        offices.append(
            SimOffice(row, slug, site_name(row), World(spec, profile, slug, tz=tz), seed)
        )
    return offices


def make_scene(seed: int, view: str, width: int, height: int) -> Any:
    from pantau.sim.scene import Scene

    return Scene(seed, view, width, height)  # type: ignore[arg-type]


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise SimError(f"size {text!r} must look like 640x360") from exc
    if not (160 <= w <= 1920 and 90 <= h <= 1080) or w % 2 or h % 2:
        raise SimError(f"size {text!r}: width 160–1920 and height 90–1080, both even")
    return w, h


__all__ = ["BUILTIN", "VIEWS", "SimConfig", "SimError", "SimOffice", "make_scene", "select_offices"]
