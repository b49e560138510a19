"""Stored verdicts → the plain inputs `verdicts.report.build_report` takes.

Reports are built from data, not from the database (so they are easy to test and fast); this
is the one query that feeds them, for the CLI, the API and the email delivery alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pantau.accounts.scope import Scope as AccessScope
from pantau.config.model import Settings
from pantau.hub.pending import pending_day, site_agents, slack
from pantau.store.models import Site, SiteKind, VerdictRow
from pantau.verdicts.report import Period, Report, Scope, SiteInfo, build_report
from pantau.verdicts.store import local_today, verdict_config

OFFICES = (SiteKind.KANTOR_KELURAHAN, SiteKind.KANTOR_KECAMATAN, SiteKind.KANTOR_OPD)


def report_inputs(
    session: Session,
    period: Period,
    access: AccessScope | None = None,
    settings: Settings | None = None,
) -> tuple[list[dict[str, Any]], list[SiteInfo]]:
    """Verdicts of `period` and of the one before it (for the trend), with the latest
    correction of each day inline, and the offices `access` may see (None: all). With
    `settings`, each day of an edge site whose agent has not sent it in full is marked
    `pending_sync` (hub.pending: the same answer as the pages and the verdict API)."""
    query = select(Site).where(Site.kind.in_(OFFICES)).options(selectinload(Site.kecamatan))
    if access is not None:
        query = access.filter_sites(query)
    sites = list(session.scalars(query.order_by(Site.id)))
    ids = [s.id for s in sites]
    rows: Iterable[VerdictRow] = (
        session.scalars(
            select(VerdictRow)
            .where(VerdictRow.site_id.in_(ids))
            .where(VerdictRow.day >= period.previous().start, VerdictRow.day <= period.end)
            .options(selectinload(VerdictRow.corrections))
        )
        if ids
        else []
    )
    now = datetime.now(UTC)
    agents = site_agents(session, settings, ids, now) if settings is not None else {}
    verdicts = []
    for row in rows:
        item = dict(row.detail or {}, site_id=row.site_id, day=row.day.isoformat())
        agent = agents.get(row.site_id)
        if agent is not None and settings is not None:
            tz = ZoneInfo(settings.city.timezone)
            item["pending_sync"] = pending_day(agent, row.day, tz, now, slack(settings))
        if row.corrections:
            latest = max(row.corrections, key=lambda c: (c.created_at, c.id))
            item["correction"] = {"reason": latest.reason.value, "note": latest.note}
        verdicts.append(item)
    infos = [
        SiteInfo(
            id=s.id,
            slug=s.slug,
            name=s.name,
            kecamatan=s.kecamatan.name if s.kecamatan else (s.kecamatan_code or "–"),
            kecamatan_code=s.kecamatan_code,
            kelurahan_code=s.kelurahan_code,
        )
        for s in sites
    ]
    return verdicts, infos


def make_report(
    session: Session,
    settings: Settings,
    period: Period | str,
    scope: Scope | None = None,
    access: AccessScope | None = None,
) -> Report:
    """The report of `scope` over `period`, from what `access` may see (None: everything)."""
    if isinstance(period, str):
        period = Period.parse(period)
    verdicts, sites = report_inputs(session, period, access, settings)
    return build_report(
        verdicts,
        sites,
        period,
        scope,
        today=local_today(settings),
        tz=settings.city.timezone,
        tz_label=settings.city.timezone_label,
        heavy_late_after=verdict_config(settings).heavy_late_after,
    )
