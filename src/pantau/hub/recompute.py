"""Verdicts of past days that late observations touched, recomputed as soon as they arrive
(the hub's scheduler only looks back `verdicts.lookback_days`; a week-long outage may be
older). Only stale site-days are recomputed (`dirty_days`); today is left to the scheduler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import date

from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.verdicts.store import dirty_days, local_today, recompute_pairs

log = logging.getLogger(__name__)
_lock = threading.Lock()  # two batches of one site must not race for the same verdict row


def recompute_days(rt: Runtime, site_id: int, days: Iterable[date]) -> int:
    """Recompute the stale verdicts of `site_id` on `days` (before today). Returns how many."""
    today = local_today(rt.settings)
    past = sorted(d for d in days if d < today)
    if not past:
        return 0
    done = 0
    with _lock:
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
