"""`pantau agent run` for real: a camera on a (test) RTSP server at the site, the agent
recording and analysing it from the configuration the hub sent, and the hub (`pantau serve`,
no cameras of its own) receiving the camera's state, segment index, health and observations."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from pantau.store.models import CameraState, EdgeSegment, HealthSample, Observation
from tests.support.edge import (
    PANTAU,
    add_cameras,
    prepare_hub,
    wait_for,
    write_yaml,
)


def count(db_url: str, model: Any, camera_id: int) -> int:
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            q = select(func.count()).select_from(model).where(model.camera_id == camera_id)
            return s.scalar(q) or 0
    finally:
        engine.dispose()


def test_agent_runs_the_sites_camera(rtsp_server: Any, tmp_path: Path) -> None:
    server = rtsp_server()
    hub = prepare_hub(tmp_path)  # camera workers off: the hub does not open the site's cameras
    db_url = hub.db_url
    _, (cam,) = add_cameras(db_url, 1)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE camera SET main_stream = ? WHERE id = ?", (server.url("cam1"), cam)
        )
    engine.dispose()
    hub.start()
    agent = None
    try:
        token = hub.cli("agent", "token", "--site", "kel-mandonga").stdout.strip().splitlines()[-1]
        agent_cfg = write_yaml(
            tmp_path / "agent.yaml",
            {
                "data_dir": str(tmp_path / "site"),
                "log_level": "INFO",
                "recording": {"segment_seconds": 4},
                "edge": {"idle_seconds": 1},
            },
        )
        enrol = subprocess.run(
            [PANTAU, "-c", str(agent_cfg), "agent", "enrol", "--hub", hub.url, "--token", token],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert enrol.returncode == 0, enrol.stderr
        log = tmp_path / "agent.log"
        agent = subprocess.Popen(
            [PANTAU, "-c", str(agent_cfg), "agent", "run"],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )

        def online() -> bool:
            assert agent is not None and agent.poll() is None, log.read_text()[-3000:]
            engine = create_engine(db_url)
            with Session(engine) as s:
                st = s.get(CameraState, cam)
            engine.dispose()
            return st is not None and st.state == "online" and st.worker.startswith("agent:")

        wait_for("the camera online at the hub, reported by the agent", online, 90, 0.5)
        wait_for("segments indexed", lambda: count(db_url, EdgeSegment, cam) >= 2, 60, 0.5)
        wait_for("a minute of observations", lambda: count(db_url, Observation, cam) >= 1, 150, 1)
        wait_for("a minute of health", lambda: count(db_url, HealthSample, cam) >= 1, 30, 1)
        assert list((tmp_path / "site" / "recordings" / str(cam)).rglob("*.ts")), "no recording"
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(60) == 0, log.read_text()[-3000:]
    finally:
        if agent is not None and agent.poll() is None:
            agent.kill()
        if hub.proc is not None and hub.proc.poll() is None:
            hub.proc.terminate()
            hub.proc.wait(15)
