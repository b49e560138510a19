"""The hub's report mailer: sends the daily summary and the weekly/monthly reports when due.

`verdicts.delivery` decides what is due and sends it; this keeps what was sent in
`<data_dir>/report-delivery.json` so a restart never sends the same report twice, and runs
on a thread of shard 0 like the incident evaluator and the verdict scheduler.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from pantau.registry.calendar import schedule_for_day
from pantau.registry.schedule import effective_rules
from pantau.registry.seed import CITY_CALENDAR, ensure_city_calendar
from pantau.runtime import Runtime
from pantau.store.models import Calendar
from pantau.verdicts.delivery import Due, Outcome, run_due_deliveries
from pantau.verdicts.queries import make_report
from pantau.verdicts.report import Report
from pantau.verdicts.store import recompute_range

log = logging.getLogger(__name__)
TICK_SECONDS = 60.0


class Waitable(Protocol):
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


def state_path(rt: Runtime) -> Path:
    return rt.settings.data_dir / "report-delivery.json"


def _load(path: Path) -> dict[str, str | None]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        log.exception("%s is unreadable; treating every report as not yet sent", path)
        return {}


def _save(path: Path, sent: dict[str, str | None]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sent, indent=1), encoding="utf-8")
    tmp.replace(path)


def run_once(rt: Runtime, now: datetime | None = None) -> list[Outcome]:
    """Send what is due at `now`; returns what was tried (nothing when delivery is off)."""
    cfg = rt.settings.reports.delivery
    if not cfg.enabled:
        return []
    now = now or datetime.now(UTC)
    path = state_path(rt)
    sent = _load(path)

    def report_for(due: Due) -> Report:
        with rt.sessions() as session, session.begin():
            # today's verdicts move every minute: bring the period up to date first
            recompute_range(session, rt.settings, due.period.start, min(due.period.end, now.date()))
        with rt.sessions() as session:
            return make_report(session, rt.settings, due.period)

    def working(day: date) -> bool:
        with rt.sessions() as session, session.begin():
            cal = session.scalar(select(Calendar).where(Calendar.name == CITY_CALENDAR))
            cal = cal or ensure_city_calendar(session)
            rules = effective_rules(cal)
            holidays = cal.use_national_holidays
            return schedule_for_day(rules, day, use_national_holidays=holidays).working

    outcomes = run_due_deliveries(
        now, cfg, sent, report_for, tz=rt.settings.city.timezone, working_day=working
    )
    for o in outcomes:
        if o.sent:
            sent[o.kind] = o.key
            log.info("report %s %s sent to %s", o.kind, o.key, ", ".join(o.recipients))
        else:
            log.warning("report %s %s not sent: %s", o.kind, o.key, o.error)
    if any(o.sent for o in outcomes):
        _save(path, sent)
    return outcomes


def start_mailer(rt: Runtime, stop: Waitable) -> threading.Thread:
    def loop() -> None:
        while not stop.is_set():
            try:
                run_once(rt)
            except Exception:
                log.exception("report delivery failed; trying again in %.0f s", TICK_SECONDS)
            stop.wait(TICK_SECONDS)

    thread = threading.Thread(target=loop, name="report-mailer", daemon=True)
    thread.start()
    return thread
