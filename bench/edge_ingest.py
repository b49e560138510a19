"""Hub ingest rate from many edge agents on PostgreSQL: issue 8's "≥ 5,000 observations/s".

Creates a fresh PostgreSQL database, migrates and seeds it, gives each of the first `--agents`
seeded sites 4 cameras and an enrolled agent row, then feeds `pantau.hub.ingest.ingest`
the batches those agents would send (per agent and day: `--minutes` observations of each
camera, one batch and one transaction each, as the `/api/agent/batch` handler does). Each
pass is timed twice: new rows, then the same batches again (a retried batch: nothing changes).

    .venv/bin/python bench/edge_ingest.py [--agents 20] [--days 2] [--minutes 500]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Prints wall rate and this process's CPU rate (PostgreSQL's own CPU is not in the latter; the
machine may be shared). The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pantau.config.model import Settings
from pantau.hub.ingest import ingest
from pantau.runtime import open_runtime
from pantau.store.db import transaction
from pantau.store.models import Agent, Camera, Site
from tests.support.edge import obs_item

START = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)


def run(url: str, data: Path, agents: int, days: int, minutes: int) -> None:
    settings = Settings.model_validate({"data_dir": str(data), "database": {"url": url}})
    rt = open_runtime(settings)
    try:
        with transaction(rt.sessions) as s:
            fleet = []
            for site in s.scalars(select(Site).order_by(Site.id).limit(agents)):
                cams = [
                    Camera(site=site, name=f"kamera {i}", purpose="x", main_stream="rtsp://x/y")
                    for i in range(4)
                ]
                agent = Agent(
                    site_id=site.id,
                    name="agen-bench",
                    key_hash="x",
                    public_key="x",
                    backlog_items=0,
                    backlog_bytes=0,
                )
                s.add_all([*cams, agent])
                s.flush()
                fleet.append((agent.id, [c.id for c in cams]))
        batches = [
            (
                agent_id,
                [
                    obs_item(cam, START + timedelta(days=day, minutes=i))
                    for cam in cams
                    for i in range(minutes)
                ],
            )
            for agent_id, cams in fleet
            for day in range(days)
        ]
        n = sum(len(items) for _, items in batches)
        print(
            f"{len(fleet)} agents x {days} days: {len(batches)} batches of "
            f"{4 * minutes} observations, {n} in all"
        )
        for label in ("new rows", "same batches again (no change)"):
            t0, c0 = time.perf_counter(), time.process_time()
            for agent_id, items in batches:
                with transaction(rt.sessions) as s:
                    result = ingest(s, settings, s.get(Agent, agent_id), items)
                    if result.rejected:
                        raise SystemExit(f"rejected: {list(result.rejected.items())[:3]}")
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(
                f"{label}: {wall:.2f} s wall = {n / wall:,.0f} obs/s; "
                f"hub process CPU {cpu:.2f} s = {n / cpu:,.0f} obs per CPU-second"
            )
    finally:
        rt.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--agents", type=int, default=20, help="agents (sites), default 20")
    ap.add_argument("--days", type=int, default=2, help="batches per agent, default 2")
    ap.add_argument("--minutes", type=int, default=500, help="observations per camera and batch")
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="pantau-edge-ingest-"))
    name = f"pantau_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = args.pg.rsplit("/", 1)[0] + f"/{name}"
        run(url, work, args.agents, args.days, args.minutes)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
