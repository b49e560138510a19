"""Which sites wait for their agent's data, and which of their days are not fully received.

The map, the compliance pages and the verdict API all need the same answer: a site whose agent
is offline is not "kamera mati" (its camera states are only stale), and a day after the
agent's `complete_until` is not "tidak diketahui" for good but *menunggu data lokasi* until
the backlog arrives and the day is recomputed. One module so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.config.model import Settings
from pantau.hub.connectivity import link_state
from pantau.store.models import Agent
from pantau.verdicts.store import day_bounds

HARI_PENDEK = ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min")
BULAN_PENDEK = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


@dataclass(frozen=True)
class SiteAgent:
    """What the hub knows of a site's agent link (the one agent that speaks for the site)."""

    id: int
    state: str  # connectivity.link_state: online | offline_pending | revoked | never
    created_at: datetime
    last_contact: datetime | None
    complete_until: datetime | None
    backlog_items: int
    backlog_oldest: datetime | None

    def brief(self) -> dict[str, Any]:
        """The `agent` object of GET /api/overview/sites and the verdict APIs."""
        return {
            "id": self.id,
            "state": self.state,
            "last_contact": self.last_contact,
            "complete_until": self.complete_until,
            "backlog_items": self.backlog_items,
            "backlog_oldest": self.backlog_oldest,
        }


def agent_rank(agent: Agent) -> tuple[int, datetime, int]:
    """A working agent speaks for the site before a revoked one; then the latest heard."""
    heard = agent.last_contact_at or agent.created_at
    return (0 if agent.revoked_at is not None else 1, heard, agent.id)


def site_agents(
    session: Session, settings: Settings, site_ids: list[int], now: datetime
) -> dict[int, SiteAgent]:
    """Per site with an agent: its active agent (a replaced, revoked one only if none is left)."""
    if not site_ids:
        return {}
    best: dict[int, Agent] = {}
    for agent in session.scalars(select(Agent).where(Agent.site_id.in_(site_ids))):
        current = best.get(agent.site_id)
        if current is None or agent_rank(agent) > agent_rank(current):
            best[agent.site_id] = agent
    return {
        site_id: SiteAgent(
            id=a.id,
            state=link_state(a, settings, now),
            created_at=a.created_at,
            last_contact=a.last_contact_at,
            complete_until=a.complete_until,
            backlog_items=a.backlog_items or 0,
            backlog_oldest=a.backlog_oldest,
        )
        for site_id, a in best.items()
    }


def pending_day(
    agent: SiteAgent | None, day: date, tz: ZoneInfo, now: datetime, slack: timedelta
) -> bool:
    """True when the hub has not yet received all of `day` from the site's agent: the agent
    is complete only up to before the day's end (or now, for today, less `slack`: an agent in
    touch is a few seconds behind by nature). A revoked agent will send nothing more, so its
    days are what they are; days before the agent existed came from elsewhere."""
    if agent is None or agent.state == "revoked":
        return False
    start, end = day_bounds(day, tz)
    if end <= agent.created_at or start > now:
        return False
    wanted = min(end, now) - slack
    return agent.complete_until is None or agent.complete_until < wanted


def slack(settings: Settings) -> timedelta:
    """How far behind now an agent in touch may be and still count as complete."""
    return timedelta(seconds=settings.edge.online_seconds)


def label_moment(dt: datetime, tz: ZoneInfo, label: str, today: date | None = None) -> str:
    """ "14.05 WITA" on `today`, else "Sen 23 Nov 16.00 WITA" (Bahasa Indonesia)."""
    local = dt.astimezone(tz)
    hhmm = f"{local:%H.%M} {label}"
    if today is not None and local.date() == today:
        return hhmm
    return f"{HARI_PENDEK[local.weekday()]} {local.day} {BULAN_PENDEK[local.month - 1]} {hhmm}"
