"""Incidents and verdicts of the days that late observations touched, evaluated as soon as
they arrive: the hub's incident evaluator re-reads only `analytics.incident_lookback_hours` and
its scheduler only `verdicts.lookback_days`, and a week-long outage is older than both.
Incidents are evaluated over every touched day (idempotent: same ids, a run crossing into a
day that arrives later is extended then); verdicts only for stale past site-days
(`dirty_days`), today being left to the scheduler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pantau.incidents.store import evaluate_camera
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Camera
from pantau.store.types import utcnow
from pantau.verdicts.store import dirty_days, local_today, recompute_pairs

log = logging.getLogger(__name__)
_lock = threading.Lock()  # two batches of one site must not race for the same verdict row


def evaluate_incidents(rt: Runtime, site_id: int, days: Iterable[date]) -> int:
    """Run the incident rules over the local `days` of every enabled camera of `site_id`;
    returns how many incidents those days hold (new or known)."""
    zone = ZoneInfo(rt.settings.city.timezone)
    now = utcnow()
    with rt.sessions() as session:
        cameras = list(
            session.scalars(select(Camera.id).where(Camera.site_id == site_id, Camera.enabled))
        )
    found = 0
    for day in sorted(set(days)):
        since = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        until = min(since + timedelta(days=1), now)
        if until <= since:
            continue
        for camera_id in cameras:
            try:
                with transaction(rt.sessions) as session:
                    found += len(evaluate_camera(session, rt.settings, camera_id, since, until))
            except Exception:  # one camera-day must not stop the others; the next batch retries
                log.exception("incidents of camera %d on %s not evaluated", camera_id, day)
    return found


def recompute_days(rt: Runtime, site_id: int, days: Iterable[date]) -> int:
    """Evaluate the incidents of `site_id` on `days`, then recompute its stale verdicts of
    those before today. Returns how many verdicts were recomputed."""
    days = set(days)
    today = local_today(rt.settings)
    past = sorted(d for d in days if d < today)
    with _lock:
        evaluate_incidents(rt, site_id, days)
        if not past:
            return 0
        done = 0
        with rt.sessions() as session:
            due = dirty_days(session, rt.settings, past[0], past[-1], [site_id])
        wanted = set(past)
        for item in due:
            if item.day not in wanted:
                continue
            try:
                with transaction(rt.sessions) as session:
                    recompute_pairs(session, rt.settings, [(item.site_id, item.day)])
                done += 1
            except Exception:  # one bad day must not stop the others; the scheduler retries
                log.exception("verdict of site %d on %s not recomputed", site_id, item.day)
    return done
