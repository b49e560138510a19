"""`pantau verdicts`: the stored opening-hours verdicts of a day, and recomputing a range."""

from __future__ import annotations

import getpass
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pantau.accounts import audit
from pantau.cli.common import console, fail, open_rt
from pantau.config.model import Settings
from pantau.registry.calendar import HARI, MAX_RANGE_DAYS, format_hhmm
from pantau.registry.cameras import find_site
from pantau.store.db import transaction
from pantau.store.models import Site, VerdictRow
from pantau.verdicts.store import (
    REASON_LABELS,
    RangeReport,
    candidates,
    latest_correction,
    local_today,
    recompute_pairs,
    status_label,
)

verdicts_app = typer.Typer(
    help="Opening-hours verdicts: when each office really opened and closed.",
    no_args_is_help=True,
)

CLI_ACTOR = f"cli:{getpass.getuser()}"
STYLE = {
    "tepat_waktu": "green",
    "terlambat": "yellow",
    "terlambat_berat": "bold red",
    "tidak_buka": "bold red",
    "pulang_cepat": "yellow",
    "libur": "dim",
    "tidak_diketahui": "magenta",
}


def _hhmm(dt: datetime | None, settings: Settings) -> str:
    if dt is None:
        return "—"
    local = dt.astimezone(ZoneInfo(settings.city.timezone)).time()
    return f"{format_hhmm(local)} {settings.city.timezone_label}"


def _past(value: date, option: str, settings: Settings) -> None:
    today = local_today(settings)
    if value > today:
        fail(
            f"{option} {value.isoformat()}: tanggal itu belum tiba (hari ini {today.isoformat()} "
            f"{settings.city.timezone_label}) — the date is in the future"
        )


def _site(session: Session, slug: str | None) -> Site | None:
    if slug is None:
        return None
    site = find_site(session, slug)
    if site is None:
        fail(f"no site {slug!r} (use an id, a slug or a kelurahan code)")
    return site


def _minutes(row: VerdictRow) -> str:
    if row.late_minutes is not None:
        return f"+{row.late_minutes} mnt"
    if row.early_minutes is not None:
        return f"−{row.early_minutes} mnt pulang"
    return ""


@verdicts_app.command("show")
def verdicts_show(
    ctx: typer.Context,
    day: Annotated[
        datetime | None, typer.Option("--date", formats=["%Y-%m-%d"], help="Local date [today]")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Site slug, id or code")] = None,
) -> None:
    """The stored verdicts of one day: schedule, opening and closing, status, coverage."""
    with open_rt(ctx) as rt, rt.sessions() as session:
        settings = rt.settings
        when = day.date() if day else local_today(settings)
        _past(when, "--date", settings)
        chosen = _site(session, site)
        query = (
            select(VerdictRow, Site)
            .join(Site, Site.id == VerdictRow.site_id)
            .where(VerdictRow.day == when)
            .options(selectinload(VerdictRow.corrections))
            .order_by(Site.name, Site.id)
        )
        if chosen is not None:
            query = query.where(Site.id == chosen.id)
        rows = list(session.execute(query))
        title = f"Putusan jam buka — {HARI[when.weekday()]}, {when:%d-%m-%Y}"
        if not rows:
            console.print(
                f"{title}: belum ada putusan. Hitung dulu: "
                f"pantau verdicts recompute --from {when} --to {when}"
            )
            return
        table = Table(
            "kantor",
            "jadwal",
            "buka",
            "tutup",
            "status",
            "selisih",
            "dilihat",
            "koreksi",
            title=title,
        )
        for row, s in rows:
            schedule = (
                f"{_hhmm(row.scheduled_open, settings).split()[0]}–"
                f"{_hhmm(row.scheduled_close, settings)}"
                if row.working
                else "libur"
            )
            seen = row.opening_coverage if row.working else row.day_coverage
            fix = latest_correction(row)
            table.add_row(
                s.name,
                schedule,
                _hhmm(row.opened_at, settings),
                _hhmm(row.closed_at, settings),
                f"[{STYLE.get(row.status, '')}]{status_label(row.status)}[/]",
                _minutes(row),
                "—" if seen is None else f"{round(100 * seen)}%",
                f"{REASON_LABELS[fix.reason]}: {fix.note}" if fix else "",
            )
        console.print(table)


@verdicts_app.command("recompute")
def verdicts_recompute(
    ctx: typer.Context,
    start: Annotated[
        datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First local date")
    ],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last local date")],
    site: Annotated[str | None, typer.Option("--site", help="Only this site")] = None,
) -> None:
    """Recompute the verdicts of a range from the stored observations and the calendar.

    Unchanged inputs write nothing; a changed verdict keeps its previous version."""
    first, last = start.date(), end.date()
    with open_rt(ctx) as rt:
        settings = rt.settings
        _past(first, "--from", settings)
        _past(last, "--to", settings)
        if last < first:
            fail(f"--to {last} is before --from {first}")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            fail(f"at most {MAX_RANGE_DAYS} days at a time")
        with rt.sessions() as session:
            chosen = _site(session, site)
            ids = [chosen.id] if chosen is not None else None
            pairs = candidates(session, settings, first, last, ids)
        report = RangeReport()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("menghitung putusan", total=len(pairs))
            for pair in pairs:
                with transaction(rt.sessions) as session:
                    done = recompute_pairs(session, settings, [pair])
                for outcome in ("created", "changed", "refreshed", "unchanged", "skipped"):
                    setattr(report, outcome, getattr(report, outcome) + getattr(done, outcome))
                bar.advance(task)
        with transaction(rt.sessions) as session:
            audit.record(
                session,
                CLI_ACTOR,
                "verdict.recompute",
                object_type="verdict",
                detail={"from": first.isoformat(), "to": last.isoformat(), "site_ids": ids}
                | report.to_dict(),
            )
    console.print(
        f"{report.total} putusan: {report.created} baru, {report.changed} berubah, "
        f"{report.refreshed} diperbarui, {report.unchanged} tetap"
    )
