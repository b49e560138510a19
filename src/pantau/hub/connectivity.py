"""The connectivity report (TIK evaluation): per agent, hours connected per local day, last
contact, backlog size and age, throughput, version and clock offset with a drift warning."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.config.model import Settings
from pantau.store.models import Agent, AgentContact, Site
from pantau.store.types import utcnow
from pantau.verdicts.store import day_bounds


def link_state(agent: Agent, settings: Settings, now: datetime) -> str:
    """online | offline_pending (data waits at the site) | offline | revoked | never."""
    if agent.revoked_at is not None:
        return "revoked"
    if agent.last_contact_at is None:
        return "never"
    if (now - agent.last_contact_at).total_seconds() <= settings.edge.online_seconds:
        return "online"
    return "offline_pending"


STATE_LABELS = {
    "online": "Terhubung",
    "offline_pending": "Terputus, data tertunda",
    "revoked": "Dicabut",
    "never": "Belum pernah terhubung",
}


def agent_summary(agent: Agent, settings: Settings, now: datetime) -> dict[str, Any]:
    offset = agent.clock_offset_seconds
    warn = settings.edge.clock_warn_seconds
    state = link_state(agent, settings, now)
    return {
        "id": agent.id,
        "name": agent.name,
        "site_id": agent.site_id,
        "site": agent.site.name if agent.site else None,
        "version": agent.version,
        "state": state,
        "state_label": STATE_LABELS[state],
        "last_contact_at": agent.last_contact_at,
        "complete_until": agent.complete_until,
        "revoked_at": agent.revoked_at,
        "backlog": {
            "items": agent.backlog_items,
            "bytes": agent.backlog_bytes,
            "oldest": agent.backlog_oldest,
            "age_seconds": round((now - agent.backlog_oldest).total_seconds())
            if agent.backlog_oldest
            else None,
        },
        "clock_offset_seconds": offset,
        "clock_warning": (
            f"jam agen selisih {offset:+.1f} detik dari hub (batas {warn:g} detik); "
            "waktu putusan bergantung padanya"
            if offset is not None and abs(offset) > warn
            else None
        ),
    }


def report(
    session: Session,
    settings: Settings,
    since: date,
    until: date,
    site_ids: list[int] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    now = now or utcnow()
    tz = ZoneInfo(settings.city.timezone)
    start, _ = day_bounds(since, tz)
    _, end = day_bounds(until, tz)
    query = select(Agent).join(Site).order_by(Agent.site_id, Agent.id)
    if site_ids is not None:
        query = query.where(Agent.site_id.in_(site_ids))
    agents = list(session.scalars(query))
    ids = [a.id for a in agents]
    per: dict[tuple[int, date], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    if ids:
        rows = session.execute(
            select(
                AgentContact.agent_id,
                AgentContact.minute,
                AgentContact.items,
                AgentContact.bytes,
                AgentContact.transfer_seconds,
                AgentContact.via,
            ).where(
                AgentContact.agent_id.in_(ids),
                AgentContact.minute >= start,
                AgentContact.minute < end,
            )
        )
        for agent_id, minute, items, nbytes, seconds, via in rows:
            acc = per[(agent_id, minute.astimezone(tz).date())]
            acc[0] += 1 if via == "link" else 0
            acc[1] += items
            acc[2] += nbytes
            acc[3] += seconds
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    out = []
    for agent in agents:
        summary = agent_summary(agent, settings, now)
        total_bytes = total_seconds = 0.0
        summary["days"] = []
        for day in days:
            minutes, items, nbytes, seconds = per.get((agent.id, day), (0, 0, 0, 0.0))
            total_bytes += nbytes
            total_seconds += seconds
            summary["days"].append(
                {
                    "date": day,
                    "minutes_connected": int(minutes),
                    "hours_connected": round(minutes / 60, 2),
                    "items": int(items),
                    "bytes": int(nbytes),
                    "throughput_kbps": round(nbytes * 8 / seconds / 1000, 1) if seconds else None,
                }
            )
        summary["throughput_kbps"] = (
            round(total_bytes * 8 / total_seconds / 1000, 1) if total_seconds else None
        )
        out.append(summary)
    return out
