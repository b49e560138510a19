"""Opening-hours verdicts: per site per local day, from observations and the work calendar.

`rules.decide_day` is the pure core (docs/verdicts.md); storage, API and reports build on it.
"""

from pantau.verdicts.config import VerdictConfig
from pantau.verdicts.rules import (
    RULES_VERSION,
    STATUS_LABELS,
    STATUSES,
    Coverage,
    Presence,
    RowStats,
    Verdict,
    decide_day,
)

__all__ = [
    "RULES_VERSION",
    "STATUSES",
    "STATUS_LABELS",
    "Coverage",
    "Presence",
    "RowStats",
    "Verdict",
    "VerdictConfig",
    "decide_day",
]
