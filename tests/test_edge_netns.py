"""The agent on its own network: a network namespace joined to the host by a veth pair,
shaped to 256 kbit/s with `tc tbf` in both directions, the link taken down and up at random
moments while `pantau agent sync` sends a day of four cameras to `pantau serve` on the host.
Everything must arrive exactly once, and the hub must see the link's speed, not more.

Needs root (ip netns, tc); the CI and development machines run tests as root."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from pantau.edge.outbox import Outbox
from pantau.store.models import Agent, AgentContact, HealthSample, Incident, Observation
from tests.support.edge import (
    PANTAU,
    add_cameras,
    agents_incidents,
    fill,
    prepare_hub,
    sh,
    wait_for,
    write_yaml,
)


def test_link_cuts_on_a_shaped_link(netns: dict[str, str], tmp_path: Path) -> None:
    hub = prepare_hub(tmp_path, netns["host_ip"])
    db_url = hub.db_url
    hub.start()
    agent = None
    try:
        _, cameras = add_cameras(db_url, 4)
        token = hub.cli("agent", "token", "--site", "kel-mandonga").stdout.strip().splitlines()[-1]
        agent_cfg = write_yaml(
            tmp_path / "agent.yaml",
            {
                "data_dir": str(tmp_path / "site"),
                "log_level": "INFO",
                # No cap of its own: the link (tc) is the limit here.
                "edge": {
                    "bandwidth_kbps": 0,
                    "idle_seconds": 1,
                    "request_timeout_seconds": 4,
                    "backoff_initial_seconds": 0.5,
                    "backoff_max_seconds": 2,
                },
            },
        )
        in_ns = ["ip", "netns", "exec", netns["ns"]]
        enrol = subprocess.run(
            [
                *in_ns,
                PANTAU,
                "-c",
                str(agent_cfg),
                "agent",
                "enrol",
                "--hub",
                hub.url,
                "--token",
                token,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert enrol.returncode == 0, enrol.stderr
        outbox = Outbox(tmp_path / "site" / "agent" / "outbox.db")
        expect = fill(outbox, cameras)
        log = tmp_path / "agent.log"
        started = time.monotonic()
        agent = subprocess.Popen(
            [*in_ns, PANTAU, "-c", str(agent_cfg), "agent", "sync"],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        rng = random.Random()
        link = [*in_ns, "ip", "link", "set", netns["ns_if"]]
        cuts = 0
        for _ in range(3):
            time.sleep(rng.uniform(1.0, 5.0))
            if outbox.backlog().items == 0:
                break
            sh(*link, "down")
            time.sleep(rng.uniform(4.5, 7.0))  # longer than the request timeout
            sh(*link, "up")
            cuts += 1
        assert cuts >= 2, "the outbox drained before the link could be cut twice"
        wait_for("the outbox to drain", lambda: outbox.backlog().items == 0, 300, 0.5)
        elapsed = time.monotonic() - started
        agent.terminate()
        assert agent.wait(30) == 0, log.read_text()[-3000:]
        assert "hub unreachable" in log.read_text()

        engine = create_engine(db_url)
        with Session(engine) as s:
            stored = {(o.camera_id, o.minute): o.people_max for o in s.scalars(select(Observation))}
            assert stored == expect["obs"]
            assert {(h.camera_id, h.minute) for h in s.scalars(select(HealthSample))} == expect[
                "health"
            ]
            incidents = agents_incidents(list(s.scalars(select(Incident))), expect["incidents"])
            assert {i.id for i in incidents} == expect["incidents"]
            received = s.scalar(select(func.sum(AgentContact.bytes))) or 0
            busy = s.scalar(select(func.sum(AgentContact.transfer_seconds))) or 0.0
            agent_row = s.scalar(select(Agent))
            assert agent_row.backlog_items == 0
        engine.dispose()
        kbps = received * 8 / busy / 1000
        print(
            f"{len(stored)} observations, {received} bytes in {elapsed:.1f} s with {cuts} cuts; "
            f"hub-side throughput {kbps:.0f} kbit/s"
        )
        # Never faster than the link (tbf at 256 kbit/s, + burst and TCP/HTTP framing). The
        # lower bound is loose: a body cut mid-transfer counts its receiving time but not its
        # bytes, so the figure falls with how late in a batch the cuts happen (60-135 seen).
        assert 20 < kbps < 300, kbps
        outbox.close()
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
        if hub.proc is not None and hub.proc.poll() is None:
            hub.proc.terminate()
            hub.proc.wait(15)
