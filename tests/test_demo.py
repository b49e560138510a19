"""`pantau demo`: the registry it prepares, the simulated history (checked against the
simulator's own ground truth), a second run that adds nothing, and the live part — simulated
cameras through the real RTSP server, recorded and analysed by the real camera workers."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from pantau.cli import app, common
from pantau.config.model import Settings
from pantau.demo import history, setup
from pantau.demo.live import FEED_WORKER, SimProcess
from pantau.demo.run import DemoOptions, run
from pantau.pipeline.shard import ShardManager
from pantau.runtime import Runtime, open_runtime
from pantau.store.db import transaction
from pantau.store.models import (
    AuditEntry,
    Camera,
    CameraState,
    Connectivity,
    HealthSample,
    Incident,
    Observation,
    Site,
    SiteKind,
    User,
    VerdictHistory,
    VerdictRow,
)
from pantau.store.types import utcnow
from pantau.verdicts.store import day_bounds
from pantau.web.app import create_app

DAYS = 1
OPENED = ("tepat_waktu", "terlambat", "terlambat_berat", "pulang_cepat")


def _counts(rt: Runtime) -> dict[str, int]:
    with rt.sessions() as s:
        return {
            model.__name__: s.scalar(select(func.count()).select_from(model)) or 0
            for model in (
                Site,
                Camera,
                User,
                Observation,
                HealthSample,
                Incident,
                VerdictRow,
                VerdictHistory,
            )
        }


def _prepare(rt: Runtime) -> None:
    run(rt, DemoOptions(serve=False, history_days=DAYS), Console(width=200, quiet=True))


def _login(client: TestClient) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": "admin", "password": "pantau-demo"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_prepare_registry_history_and_rerun(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    tz = ZoneInfo(rt.settings.city.timezone)
    _prepare(rt)
    first = _counts(rt)
    today = utcnow().astimezone(tz).date()
    days = [today - timedelta(days=k) for k in range(DAYS, -1, -1)]

    with rt.sessions() as s:
        offices = list(s.scalars(select(Site).where(Site.kind == SiteKind.KANTOR_KELURAHAN)))
        assert len(offices) == 65
        off = {o.slug for o in offices if o.connectivity == Connectivity.NOT_CONNECTED}
        assert off == set(setup.NOT_CONNECTED)
        never = list(s.scalars(select(Camera).join(Site).where(Site.slug.in_(setup.NOT_CONNECTED))))
        assert len(never) == setup.NEVER_CONNECTED_CAMERAS
        for cam in never:  # installed, never connected: no state, no minute of anything
            assert s.get(CameraState, cam.id) is None
            assert not s.scalar(select(func.count()).where(HealthSample.camera_id == cam.id))
        assert {o.slug for o in offices if o.history_simulated_until is None} == off
        sources = set(s.scalars(select(Observation.source).distinct()))
        assert sources == {history.SOURCE}
        assert s.scalar(select(func.count()).where(AuditEntry.action == "demo.prepare")) == 1

    with TestClient(create_app(rt)) as client:
        headers = _login(client)
        sites = client.get("/api/sites", headers=headers).json()
        marked = [x for x in sites if x["history_simulated_until"]]
        assert len(marked) == 59
        verdicts = client.get(
            "/api/verdicts",
            params={"from": days[0].isoformat(), "to": today.isoformat()},
            headers=headers,
        ).json()
    # every connected office has a verdict for every day asked, each one marked simulated
    assert {(v["site_slug"], v["day"]) for v in verdicts} == {
        (x["slug"], d.isoformat()) for x in marked for d in days
    }
    assert all(v["simulated"] for v in verdicts)

    # the verdicts of whole days agree with the simulator's ground truth
    plan_sites = {s.slug: s for s in setup.build_sites(_entries(rt), rt.settings.city.timezone)}
    checked = 0
    for v in verdicts:
        day = v["day"]
        if day == today.isoformat():
            continue
        world = plan_sites[v["site_slug"]].cameras[0].world
        plan, truth = world.day(days[[d.isoformat() for d in days].index(day)])
        if not truth.working:
            assert v["status"] == "libur", v
            checked += 1
            continue
        disturbed = plan.outages or plan.tamper
        if truth.closed_all_day and not disturbed:
            assert v["status"] == "tidak_buka", v
            checked += 1
        elif truth.opened_at and not disturbed:
            assert v["status"] in OPENED, v
            opened = v["opened_at"].replace("Z", "+00:00")
            gap = abs((truth.opened_at - _aware(opened)).total_seconds())
            assert gap <= 120, (v["site_slug"], day, truth.opened_at, opened)
            checked += 1
    assert checked >= 59 * (DAYS - 1)

    # a second run: nothing new but the minutes that passed meanwhile
    before = _markers(rt)
    _prepare(rt)
    second = _counts(rt)
    after = _markers(rt)
    minutes = max(int((after[k] - before[k]).total_seconds() // 60) for k in before if before[k])
    for name in ("Site", "Camera", "User", "VerdictRow", "VerdictHistory"):
        assert second[name] == first[name], name
    assert 0 <= second["HealthSample"] - first["HealthSample"] <= 59 * minutes
    assert 0 <= second["Observation"] - first["Observation"] <= 59 * minutes
    assert second["Incident"] - first["Incident"] <= 2  # only what those minutes started
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).where(AuditEntry.action == "demo.prepare")) == 1


def _aware(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _entries(rt: Runtime) -> list[setup.Entry]:
    with transaction(rt.sessions) as s:
        plan = setup.prepare(s, rt.settings, live=0, rtsp_port=8554)
    return setup.entries_of(plan.sites)


def _markers(rt: Runtime) -> dict[str, object]:
    with rt.sessions() as s:
        return {
            slug: until
            for slug, until in s.execute(select(Site.slug, Site.history_simulated_until))
        }


def test_cli_no_serve_prints_url_and_logins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(common.console, "_width", 250)
    result = CliRunner().invoke(
        app,
        ["demo", "--no-serve", "--history-days", "1"],
        env={"PANTAU_CONFIG": None, "PANTAU_DATABASE_URL": None, "PANTAU_DATA_DIR": None},
        catch_exceptions=False,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.output)
    assert result.exit_code == 0, text
    assert "http://127.0.0.1:8080/ui/" in text
    assert "pantau-demo" in text
    for name, *_ in setup.DEMO_USERS:
        assert name in text
    assert "Riwayat simulasi" in text
    assert (tmp_path / "data" / "pantau.db").is_file()  # the embedded default


def _wait(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(2)
    return check()


def test_live_cameras_through_real_workers(tmp_path: Path) -> None:
    """One live office through the RTSP server and a real worker; two feed offices."""
    settings = Settings.model_validate({"data_dir": str(tmp_path / "data")})
    rt = open_runtime(settings)
    with transaction(rt.sessions) as s:
        plan = setup.prepare(s, settings, live=1, rtsp_port=0)
    live, feed = plan.live, plan.feed[:2]
    live_cam = live[0].cameras[0].camera_id
    feed_cams = [c.camera_id for f in feed for c in f.cameras]
    sim = SimProcess(settings, setup.entries_of(live), setup.entries_of(feed), 1, 0).start()
    shards = None
    try:
        port = sim.port(timeout=60)
        with transaction(rt.sessions) as s:
            setup.point_live_cameras(s, plan, port)
            assert s.get(Camera, live_cam).main_stream == setup.stream_url(live[0].slug, port)
        sim.go()
        shards = ShardManager(settings, 1, frozenset(plan.demo_camera_ids - {live_cam})).start()

        def live_rows() -> bool:
            with rt.sessions() as s:
                obs = s.scalar(
                    select(func.count()).where(
                        Observation.camera_id == live_cam, Observation.source == "live"
                    )
                )
                up = s.scalar(  # the first minute may still say "connecting" for a while
                    select(func.count()).where(
                        HealthSample.camera_id == live_cam, HealthSample.online_seconds > 0
                    )
                )
                return bool(obs) and bool(up)

        def connected() -> bool:
            with rt.sessions() as s:
                row = s.get(CameraState, live_cam)
                return row is not None and row.state in ("online", "degraded")

        assert _wait(connected, 60), "the worker did not connect to the simulated camera"
        # rows are written when a minute is complete: at most a minute and a bit later
        assert _wait(live_rows, 80), "no observation/health minute from the live camera"
        with rt.sessions() as s:
            state = s.get(CameraState, live_cam)
            assert state is not None and state.worker and "shard0" in state.worker
            assert state.codec == "h264" and state.width == 640
            for cid in feed_cams:  # the feed plays these; no worker touched them
                fs = s.get(CameraState, cid)
                assert fs is not None and fs.worker == FEED_WORKER
                assert s.scalar(
                    select(func.count()).where(
                        Observation.camera_id == cid, Observation.source == history.SOURCE
                    )
                )
            for cid in plan.never_connected:
                assert s.get(CameraState, cid) is None
            markers = [s.get(Site, f.site_id).history_simulated_until for f in feed]
            assert all(m is not None and utcnow() - m < timedelta(minutes=3) for m in markers)
            tz = ZoneInfo(settings.city.timezone)
            assert all(m >= day_bounds(utcnow().astimezone(tz).date(), tz)[0] for m in markers)
    finally:
        if shards is not None:
            shards.stop()
        sim.stop()
        rt.close()
    assert not sim.proc.is_alive()
