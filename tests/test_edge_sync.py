"""The link for real: the hub as a `pantau serve` process, the agent as `pantau agent sync`
processes, on SQLite and PostgreSQL. The agent is killed mid-batch and restarted, the hub is
killed mid-batch and restarted; every observation, health minute, incident and snapshot must
arrive exactly once, and the outbox must end empty. Then the agent is revoked and refused."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from pantau.edge.config_cache import ConfigCache
from pantau.edge.outbox import Outbox
from pantau.store.models import (
    Agent,
    AgentContact,
    HealthSample,
    Incident,
    Observation,
)
from tests.conftest import PgDatabases
from tests.support.edge import (
    MINUTES,
    PANTAU,
    START,
    Hub,
    add_cameras,
    agents_incidents,
    fill,
    hub_counts,
    prepare_hub,
    start_agent,
    wait_for,
    write_yaml,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, tmp_path: Path, pg: PgDatabases) -> Iterator[Hub]:
    h = prepare_hub(tmp_path, db_url=pg.new() if request.param == "postgresql" else None)
    h.start()
    yield h
    if h.proc is not None and h.proc.poll() is None:
        h.proc.terminate()
        h.proc.wait(15)


def test_cuts_lose_and_duplicate_nothing(hub: Hub, tmp_path: Path) -> None:
    _, cameras = add_cameras(hub.db_url, 2)
    token = hub.cli("agent", "token", "--site", "kel-mandonga")
    assert token.returncode == 0, token.stderr
    agent_data = tmp_path / "agent-data"
    agent_cfg = write_yaml(
        tmp_path / "agent.yaml",
        {
            "data_dir": str(agent_data),
            "log_level": "INFO",
            "edge": {
                "bandwidth_kbps": 96,
                "batch_max_items": 400,
                "idle_seconds": 1,
                "backoff_initial_seconds": 0.3,
                "backoff_max_seconds": 1.5,
            },
        },
    )
    enrol = subprocess.run(
        [
            PANTAU,
            "-c",
            str(agent_cfg),
            "agent",
            "enrol",
            "--hub",
            hub.url,
            "--token",
            token.stdout.strip().splitlines()[-1],
            "--name",
            "kel-mandonga",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert enrol.returncode == 0, enrol.stderr + enrol.stdout
    agent_dir = agent_data / "agent"
    assert oct(os.stat(agent_dir / "agent.json").st_mode & 0o777) == "0o600"
    outbox = Outbox(agent_dir / "outbox.db")
    expect = fill(outbox, cameras)
    total = len(expect["obs"])
    log = tmp_path / "agent.log"

    # 1. Kill the agent while a batch is on its way.
    agent = start_agent(agent_cfg, log)
    wait_for("a first batch at the hub", lambda: hub_counts(hub.db_url)[2] > 0, 60)
    # The agent sends the next batch right after an acknowledgement: it is mid-upload now.
    agent.send_signal(signal.SIGKILL)
    agent.wait(10)
    left_after_kill = outbox.backlog().items
    assert left_after_kill > 0, "the agent finished before it could be killed"

    # 2. Restart it, then kill the hub while batches flow, and bring the hub back.
    agent = start_agent(agent_cfg, log)
    obs_before = hub_counts(hub.db_url)[0]
    wait_for("more observations", lambda: hub_counts(hub.db_url)[0] > obs_before, 60)
    hub.kill()
    left_after_hub_kill = outbox.backlog().items
    assert left_after_hub_kill > 0, "the outbox drained before the hub could be killed"
    time.sleep(2.0)
    hub.start()

    # 3. Everything arrives; the outbox ends empty; the agent stops cleanly.
    wait_for("the outbox to drain", lambda: outbox.backlog().items == 0, 180, 0.5)
    agent.send_signal(signal.SIGTERM)
    assert agent.wait(30) == 0, log.read_text()[-3000:]
    text = log.read_text()
    assert "hub unreachable" in text, "the agent never noticed the hub was down"

    engine = create_engine(hub.db_url)
    with Session(engine) as s:
        stored = {(o.camera_id, o.minute): o.people_max for o in s.scalars(select(Observation))}
        assert stored == expect["obs"]  # every minute, once, with its content
        health = {(h.camera_id, h.minute) for h in s.scalars(select(HealthSample))}
        assert health == expect["health"]
        incidents = agents_incidents(list(s.scalars(select(Incident))), expect["incidents"])
        assert {i.id for i in incidents} == expect["incidents"] and len(incidents) == 4
        with_picture = {i.id for i in incidents if i.snapshot_path}
        assert with_picture == expect["snapshots"]
        agent_row = s.scalar(select(Agent))
        assert agent_row.backlog_items == 0
        assert agent_row.complete_until >= START + timedelta(minutes=MINUTES)
        assert (
            agent_row.clock_offset_seconds is not None and abs(agent_row.clock_offset_seconds) < 1
        )
        sent = s.scalar(select(func.sum(AgentContact.items)))
        assert sent >= 2 * total + 4 + 2  # resent batches are counted, not stored twice
        agent_id = agent_row.id
    engine.dispose()
    assert outbox.rejected() == []
    cached = ConfigCache(agent_dir).load()  # what the agent works from while offline
    assert cached is not None and sorted(c["id"] for c in cached["cameras"]) == sorted(cameras)
    assert oct(os.stat(agent_dir / "site-config.json").st_mode & 0o777) == "0o600"

    # 4. A revoked agent is refused with the reason and stops.
    assert hub.cli("agent", "revoke", str(agent_id)).returncode == 0
    refused = subprocess.run(
        [PANTAU, "-c", str(agent_cfg), "agent", "sync", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "revoked" in refused.stderr
    outbox.close()
