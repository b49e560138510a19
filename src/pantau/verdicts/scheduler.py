"""The verdict job of the running hub: recompute the site-days whose inputs changed.

Every pass looks at today and the `lookback_days` before it, asks `dirty_days` which stored
verdicts are missing or stale (new or rewritten observation rows, another schedule, other
settings) and recomputes only those, each in its own transaction: one site-day that fails is
logged and retried on the next pass, the others are stored. Nothing has to remember where
the previous pass stopped, so a hub that was down simply catches up.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from pantau.config.model import Settings
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.types import utcnow
from pantau.verdicts.store import dirty_days, local_today, recompute_pairs

log = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 30.0


class Waitable(Protocol):
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


def lookback_days(settings: Settings) -> int:
    """`verdicts.lookback_days` once VerdictConfig has it; 7 until then."""
    return settings.verdicts.lookback_days


def interval_seconds(settings: Settings) -> float:
    return settings.verdicts.interval_seconds


@dataclass
class PassReport:
    """What one pass did; `failed` maps "site_id/day" to the error's text."""

    dirty: int = 0
    created: int = 0
    changed: int = 0
    refreshed: int = 0
    unchanged: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    cpu_seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.dirty} site-days to recompute: {self.created} new, {self.changed} changed, "
            f"{self.refreshed} refreshed, {self.unchanged} unchanged, {len(self.failed)} failed, "
            f"{self.cpu_seconds:.2f} s CPU"
        )


def run_due(
    session_factory: sessionmaker[Session],
    settings: Settings,
    now: datetime | None = None,
    stop: Waitable | None = None,
) -> PassReport:
    """One pass: recompute every dirty site-day from today back `lookback_days`."""
    started = time.thread_time()
    now = now or utcnow()
    today = local_today(settings, now)
    since = today - timedelta(days=lookback_days(settings))
    report = PassReport()
    with session_factory() as session:
        due = dirty_days(session, settings, since, today, now=now)
    report.dirty = len(due)
    for item in due:
        if stop is not None and stop.is_set():
            break
        try:
            with transaction(session_factory) as session:
                done = recompute_pairs(session, settings, [(item.site_id, item.day)], now=now)
        except Exception as exc:  # one site-day's trouble must not stop the others
            key = f"{item.site_id}/{item.day.isoformat()}"
            report.failed[key] = f"{type(exc).__name__}: {exc}"
            log.exception("verdicts: site %d on %s: recompute failed", item.site_id, item.day)
            continue
        for outcome in ("created", "changed", "refreshed", "unchanged"):
            setattr(report, outcome, getattr(report, outcome) + getattr(done, outcome))
        if done.changed:
            log.info(
                "verdicts: site %d on %s changed (%s)", item.site_id, item.day, ", ".join(item.why)
            )
    report.cpu_seconds = time.thread_time() - started
    return report


def run_forever(rt: Runtime, stop: Waitable, first_delay: float | None = None) -> None:
    """Pass after pass until `stop` is set; a failed pass is logged, never fatal."""
    interval = interval_seconds(rt.settings)
    if stop.wait(min(FIRST_DELAY_SECONDS, interval) if first_delay is None else first_delay):
        return
    while not stop.is_set():
        begun = time.monotonic()
        try:
            report = run_due(rt.sessions, rt.settings, stop=stop)
            log.log(logging.WARNING if report.failed else logging.DEBUG, "verdicts: %s", report)
        except Exception:
            log.exception("verdicts: pass failed; trying again next interval")
        stop.wait(max(1.0, interval - (time.monotonic() - begun)))


def start_scheduler(rt: Runtime, stop: Waitable) -> threading.Thread:
    """The verdict job on a daemon thread of the calling process (next to the incident
    evaluator in shard 0 of `pantau serve`)."""
    thread = threading.Thread(
        target=run_forever, args=(rt, stop), name="verdict-scheduler", daemon=True
    )
    thread.start()
    return thread
