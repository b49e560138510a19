"""Reports read from the database: 65 offices, a month and a year of stored verdicts.

`bench/report_speed.py` times building and exporting from data in memory; this times what
`pantau report` and `GET /api/reports` really do — read the stored verdicts (and their
corrections) of the period and the one before it, then build — on SQLite and PostgreSQL.

    .venv/bin/python bench/report_db_speed.py [--pg postgresql+psycopg://postgres@127.0.0.1/x]

Prints process CPU and wall seconds (the machine may be shared; PostgreSQL's own CPU is not
in the process figure). Targets (issue 6): month ≤ 1 s, year ≤ 5 s.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report_speed import PROFILES, _one

from pantau.config.model import Settings
from pantau.registry.calendar import default_city_rules, schedule_for_day
from pantau.runtime import open_runtime
from pantau.store.db import transaction
from pantau.store.models import Site, SiteKind, VerdictRow
from pantau.verdicts.queries import make_report
from pantau.verdicts.store import _columns


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def fill(rt, year: int) -> int:
    with rt.sessions() as s:
        sites = list(s.scalars(select(Site).where(Site.kind == SiteKind.KANTOR_KELURAHAN)))
    ids = [site.id for site in sites]
    rng, rules = random.Random(7), default_city_rules()
    days = [date(year - 1, 12, 1) + timedelta(days=k) for k in range(400)]
    days = [d for d in days if d <= date(year, 12, 31)]
    schedules = {d: schedule_for_day(rules, d) for d in days}
    verdicts = [
        _one(rng, i, d, schedules[d], PROFILES[i % len(PROFILES)]) for i in ids for d in days
    ]
    rows = []
    for v in verdicts:
        digest = hashlib.sha256(f"{v.site_id}{v.day}".encode()).hexdigest()
        rows.append(
            {"site_id": v.site_id, "day": v.day, "version": 1, **_columns(v),
             "inputs_digest": digest, "observations_digest": digest, "schedule_digest": digest[:16]}
        )  # fmt: skip
    with transaction(rt.sessions) as s:
        for k in range(0, len(rows), 2000):
            s.execute(insert(VerdictRow), rows[k : k + 2000])
    return len(rows)


def run(url: str, data: Path, year: int) -> None:
    settings = Settings.model_validate({"data_dir": str(data), "database": {"url": url}})
    rt = open_runtime(settings)
    n = fill(rt, year)
    backend = url.split(":", 1)[0]
    for period in (f"{year}-11", str(year)):
        for _ in range(2):  # the first pays for imports and cold caches
            c0, w0 = cpu(), time.monotonic()
            with rt.sessions() as s:
                report = make_report(s, settings, period)
            c, w = cpu() - c0, time.monotonic() - w0
        print(
            f"{backend:22} {period:8} {len(report.sites)} offices from {n:,} stored verdicts: "
            f"{c:.2f} s CPU, {w:.2f} s wall"
        )
    rt.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--year", type=int, default=2026)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pantau-report-db-"))
    run(f"sqlite:///{work / 'pantau.db'}", work / "sqlite", args.year)
    name = f"pantau_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        run(args.pg.rsplit("/", 1)[0] + f"/{name}", work / "pg", args.year)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
