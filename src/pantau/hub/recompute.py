"""Incidents and verdicts of the days that late observations touched, evaluated as soon as
they arrive: the hub's incident evaluator re-reads only `analytics.incident_lookback_hours` and
its scheduler only `verdicts.lookback_days`, and a week-long outage is older than both.
Incidents are evaluated over the minutes that arrived (idempotent: same ids, a run crossing
into minutes that arrive later is extended then); verdicts only for stale past site-days
(`dirty_days`), today being left to the scheduler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import select

from pantau.incidents.store import CONTEXT, evaluate_camera
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Camera
from pantau.verdicts.store import dirty_days, local_today, recompute_pairs

log = logging.getLogger(__name__)
MINUTE = timedelta(minutes=1)
_locks: dict[int, threading.Lock] = {}  # per site: two batches of one site must not race


def _site_lock(site_id: int) -> threading.Lock:
    return _locks.setdefault(site_id, threading.Lock())


def evaluate_incidents(
    rt: Runtime, site_id: int, spans: Mapping[int, tuple[datetime, datetime]]
) -> int:
    """Run the incident rules over the minutes that arrived, per camera of `site_id` (first and
    last minute: observations and health); returns how many incidents those minutes touch.

    Only the span that arrived, not whole days: a site in touch sends a batch a minute, and
    re-reading the day each time would cost the hub a day of rows per camera per minute.
    `evaluate_camera` reads the context around the span itself (and back to the start of an
    incident still running), so a visit split across two batches stays one incident.
    """
    with rt.sessions() as session:
        cameras = set(
            session.scalars(select(Camera.id).where(Camera.site_id == site_id, Camera.enabled))
        )
    found = 0
    for camera_id, (first, last) in sorted(spans.items()):
        if camera_id not in cameras:
            continue
        until = last + MINUTE
        try:
            with transaction(rt.sessions) as session:
                found += len(
                    evaluate_camera(
                        session, rt.settings, camera_id, first, until, read_until=until + CONTEXT
                    )
                )
        except Exception:  # one camera must not stop the others; the next batch retries
            log.exception("incidents of camera %d from %s not evaluated", camera_id, first)
    return found


def recompute_days(
    rt: Runtime,
    site_id: int,
    days: Iterable[date],
    spans: Mapping[int, tuple[datetime, datetime]] | None = None,
) -> int:
    """Evaluate the incidents of `site_id` over the `spans` that arrived, then recompute its
    stale verdicts of the `days` before today. Returns how many verdicts were recomputed."""
    days = set(days)
    today = local_today(rt.settings)
    past = sorted(d for d in days if d < today)
    with _site_lock(site_id):
        evaluate_incidents(rt, site_id, spans or {})
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
