"""A week without internet, then the link comes back (issue 8), end to end with real processes.

A `pantau serve` hub (SQLite, camera workers on: it must leave the agent's camera alone) and an
enrolled agent in its own network namespace (tests/test_edge_netns.py) with one interior
camera. The link goes down; the simulator records a fixed week (FIRST_DAY) for the site
(mornings only, one frame per 10 s: see WEEK_HOURS); `pantau agent analyze` turns them into
the outbox at the site while the hub cannot be reached. Meanwhile the control room must say
"not connected, data pending" and must not call the week late or closed. Then the link comes
back (`pantau agent sync --once`): every observation arrives exactly once, the hub evaluates
the week's incidents and verdicts, the agent is online and complete past the week, and the
verdicts agree with the simulator's ground truth (scored as bench/verdict_accuracy.py does).

Needs root (ip netns), like test_edge_netns.py.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import subprocess
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from bench.verdict_accuracy import expected_status, merge, read_truth_days
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from pantau.config.model import Settings
from pantau.incidents.store import evaluate_camera
from pantau.runtime import open_runtime
from pantau.store.db import transaction
from pantau.store.models import Camera, CameraState, HealthSample, Incident, Observation, Site
from pantau.verdicts import VerdictConfig
from tests.support.edge import (
    PANTAU,
    prepare_hub,
    wait_for,
    write_yaml,
)

# A fixed week, so the simulated days (and the detector's few misses on them) are the same on
# every run and every date: Sunday 22 to Saturday 28 November 2026, five working days.
FIRST_DAY = date(2026, 11, 22)
SITE = "kel-anaiwoi"  # profile "sometimes_closed": on time, a little late, or not open at all
ZONE = ZoneInfo("Asia/Makassar")
# The mornings decide the opening (lead 07.00, arrival, sustained presence, 10.00 for
# terlambat berat) and show the cleaner before hours; the afternoons would only add the
# closing, at twice the cost. 10 s between frames: the analyser counts a minute as seen
# (>= 30 s) only when frames are at most 10 s apart.
WEEK_HOURS = (6.5, 10.25)
INTERVAL = 10
PASSWORD = "minggu-tanpa-internet-8"
UNKNOWN, LIBUR = "tidak_diketahui", "libur"
ACCUSING = ("terlambat", "terlambat_berat", "tidak_buka", "pulang_cepat")


def _hhmm(hours: float) -> str:
    return f"{int(hours):02d}.{round(hours % 1 * 60):02d}"


def _outbox(path: Path) -> dict[str, dict[str, Any]]:
    """Key -> data of what waits in the agent's outbox (read-only, next to the agent)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {k: json.loads(b) for k, b in db.execute("SELECT key, body FROM item")}
    finally:
        db.close()


def _expected(truth_files: list[Path]) -> dict[date, str]:
    """The status a perfect observer of the recorded mornings would give each day: the bench's
    rules, with the camera blind outside WEEK_HOURS (the bench records longer days)."""
    out: dict[date, str] = {}
    cfg = VerdictConfig()
    for path in truth_files:
        for day, t in read_truth_days(path, SITE, "sometimes_closed").items():
            midnight = datetime.combine(day, dtime(0), tzinfo=ZONE).astimezone(UTC)
            unrecorded = [
                (midnight, midnight + timedelta(hours=WEEK_HOURS[0])),
                (midnight + timedelta(hours=WEEK_HOURS[1]), midnight + timedelta(days=1)),
            ]
            blind = merge([(a, b) for a, b, _ in t.blind_kinds] + unrecorded)
            out[day] = expected_status(replace(t, blind=blind), cfg).status
    return out


@pytest.mark.timeout(900)
def test_a_week_offline_then_the_link_returns(
    netns: dict[str, str],
    tmp_path: Path,
) -> None:
    begun = time.monotonic()
    marks: list[str] = []

    def mark(what: str) -> None:
        marks.append(f"{time.monotonic() - begun:6.1f} s  {what}")
        print(marks[-1], flush=True)

    first = FIRST_DAY
    week = [first + timedelta(days=k) for k in range(7)]
    # Two recorders in parallel (one per core): days 1-4 and 5-7.
    rec = tmp_path / "footage"
    recorders = []
    for part, (start, days) in enumerate(((first, 4), (first + timedelta(days=4), 3))):
        log = (tmp_path / f"record-{part}.log").open("w")
        recorders.append(
            subprocess.Popen(
                [
                    PANTAU,
                    "sim",
                    "record",
                    "--site",
                    SITE,
                    "--from",
                    start.isoformat(),
                    "--days",
                    str(days),
                    "--interval",
                    str(INTERVAL),
                    "--hours",
                    f"{_hhmm(WEEK_HOURS[0])}-{_hhmm(WEEK_HOURS[1])}",
                    "--views",
                    "interior",
                    "--out",
                    str(rec / f"part{part}"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    # ---- the hub, with its camera workers on (they must skip the agent's camera)
    hub = prepare_hub(
        tmp_path,
        netns["host_ip"],
        ingest={"enabled": True, "workers": 1},
        edge={"online_seconds": 15},
        # No office margins: the cleaner before 07.30 is then an intrusion, so the week has
        # incidents for the site and the hub to agree on (the margins travel in the config).
        analytics={"intrusion_margins": {"before_opening_minutes": 0, "after_closing_minutes": 0}},
    )
    db_url = hub.db_url
    hub.start()
    agent_log = tmp_path / "agent.log"
    try:
        added = hub.cli(
            "users", "add", "tik", "--role", "admin", "--password", PASSWORD, "--full-name", "TIK"
        )
        assert added.returncode == 0, added.stderr
        login = httpx.post(
            f"{hub.url}/api/auth/login", json={"username": "tik", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        api = httpx.Client(
            base_url=hub.url, headers={"Authorization": f"Bearer {login.json()['token']}"}
        )
        token = hub.cli("agent", "token", "--site", SITE)
        assert token.returncode == 0, token.stderr

        agent_cfg = write_yaml(
            tmp_path / "agent.yaml",
            {
                "data_dir": str(tmp_path / "site"),
                "log_level": "INFO",
                "edge": {
                    "bandwidth_kbps": 0,  # the link (tc, 256 kbit/s) is the limit
                    "idle_seconds": 1,
                    "request_timeout_seconds": 4,
                    "backoff_initial_seconds": 0.5,
                    "backoff_max_seconds": 2,
                },
            },
        )
        in_ns = ["ip", "netns", "exec", netns["ns"]]

        def agent(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
            done = subprocess.run(
                [*in_ns, PANTAU, "-c", str(agent_cfg), "agent", *args],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            with agent_log.open("a") as fh:
                fh.write(f"$ agent {' '.join(args)} -> {done.returncode}\n")
                fh.write(done.stdout + done.stderr)
            return done

        enrol = agent("enrol", "--hub", hub.url, "--token", token.stdout.strip().splitlines()[-1])
        assert enrol.returncode == 0, enrol.stderr + enrol.stdout
        # The camera is added once the site has its agent: the hub's workers never see it
        # as a camera of their own.
        engine = create_engine(db_url)
        with Session(engine) as s, s.begin():
            site = s.scalar(select(Site).where(Site.slug == SITE))
            assert site is not None, f"{SITE} is not a seeded site"
            cam = Camera(
                site=site,
                name="ruang pelayanan",
                purpose="ruang layanan",
                main_stream="rtsp://10.99.0.7/stream1",  # nowhere the hub could reach
            )
            s.add(cam)
            s.flush()
            site_id, camera_id = site.id, cam.id
        first_sync = agent("sync", "--once")
        assert first_sync.returncode == 0, first_sync.stderr + first_sync.stdout
        mark("hub up, agent enrolled, site configuration cached")

        # ---- the link goes down for the week
        link = [*in_ns, "ip", "link", "set", netns["ns_if"]]
        subprocess.run([*link, "down"], check=True, timeout=30)
        tried = agent("sync", "--once", "--attempts", "1", timeout=60)
        assert tried.returncode != 0 and "hub unreachable" in tried.stderr, (
            f"the agent reached the hub through a link that is down: {tried.stderr}"
        )
        for part, r in enumerate(recorders):
            assert r.wait(600) == 0, (tmp_path / f"record-{part}.log").read_text()[-2000:]
        mark("week recorded")
        unknown = agent("analyze", str(rec), "--camera", str(camera_id + 100))
        assert unknown.returncode != 0 and "not a camera of site" in unknown.stderr, unknown.stderr
        analysed = agent(
            "analyze", str(rec), "--camera", str(camera_id), "--jobs", "2", timeout=900
        )
        assert analysed.returncode == 0, analysed.stderr[-3000:] + analysed.stdout[-3000:]
        mark("week analysed at the site (offline)")
        outbox_path = tmp_path / "site" / "agent" / "outbox.db"
        pending = _outbox(outbox_path)
        again = agent("analyze", str(rec), "--camera", str(camera_id), "--jobs", "1")
        assert again.returncode == 0, again.stderr[-2000:]
        redone = re.search(r"(\d+) minute observations", again.stdout)
        assert redone and int(redone[1]) == 0, f"not resumed: {again.stdout}"
        assert _outbox(outbox_path) == pending, "a resumed analysis changed the outbox"
        mark("analysis run again: resumed, nothing redone, outbox unchanged")

        observations = {k: v for k, v in pending.items() if k.startswith("obs/")}
        assert pending.keys() == observations.keys(), (
            f"only observations expected from footage, got {set(pending) - set(observations)}"
        )
        minutes = sorted(datetime.fromisoformat(v["minute"]) for v in observations.values())
        local_days = {m.astimezone(ZONE).date() for m in minutes}
        assert local_days == set(week), f"the outbox covers {sorted(local_days)}, not {week}"
        per_day = (WEEK_HOURS[1] - WEEK_HOURS[0]) * 60
        assert len(observations) >= 0.95 * 7 * per_day, (
            f"{len(observations)} minutes from 7 mornings of {per_day:.0f} minutes"
        )

        # ---- what the control room says while the site is offline
        wait_for(
            "the agent to count as offline",
            lambda: api.get("/api/agents").json()[0]["state"] == "offline_pending",
            timeout=30,
            step=1,
        )
        [listed] = api.get("/api/agents").json()
        assert listed["site_id"] == site_id and listed["state"] == "offline_pending", listed
        verdicts = api.get(
            "/api/verdicts", params={"from": week[0], "to": week[-1], "site_id": site_id}
        )
        assert verdicts.status_code == 200, verdicts.text
        offline_statuses = {v["day"]: v["status"] for v in verdicts.json()}
        assert all(s in (UNKNOWN, LIBUR) for s in offline_statuses.values()), (
            f"verdicts from no data while the site was offline: {offline_statuses}"
        )
        overview = api.get("/api/overview/sites")
        assert overview.status_code == 200, overview.text
        [item] = [x for x in overview.json()["sites"] if x["id"] == site_id]
        assert (item["state"], item["reason_code"]) == ("not_connected", "data_pending"), item
        assert item["agent"]["state"] == "offline_pending", item["agent"]
        assert {"last_contact", "complete_until", "backlog_items"} <= item["agent"].keys()
        with Session(engine) as s:
            assert s.scalar(select(func.count()).select_from(Observation)) == 0
        mark("control room: not connected, data pending; no verdict from no data")

        # ---- the link comes back
        subprocess.run([*link, "up"], check=True, timeout=30)
        synced = agent("sync", "--once", timeout=300)
        assert synced.returncode == 0, synced.stderr[-3000:]
        mark("outbox synced")
        assert _outbox(outbox_path) == {}, "the outbox did not empty"

        def week_done() -> bool:
            got = api.get(
                "/api/verdicts", params={"from": week[0], "to": week[-1], "site_id": site_id}
            ).json()
            # Computed from the synced minutes (offline, a day had no coverage at all).
            return len(got) == 7 and all(
                (v["opening_coverage"] or 0) > 0 for v in got if v["working"]
            )

        with contextlib.suppress(AssertionError):  # the comparison below says which days
            wait_for("the week's verdicts", week_done, timeout=90, step=1)
        mark("verdicts recomputed at the hub")

        with Session(engine) as s:
            stored = {(o.camera_id, o.minute): o.people_max for o in s.scalars(select(Observation))}
            incidents = list(s.scalars(select(Incident).where(Incident.camera_id == camera_id)))
            health = s.scalar(
                select(func.count())
                .select_from(HealthSample)
                .where(HealthSample.camera_id == camera_id)
            )
            state = s.get(CameraState, camera_id)
        sent = {
            (camera_id, datetime.fromisoformat(v["minute"])): v["people_max"]
            for v in observations.values()
        }
        assert len(stored) == len(sent) and stored == sent, (
            f"hub holds {len(stored)} minutes, the outbox held {len(sent)}; "
            f"missing {len(sent.keys() - stored.keys())}, extra {len(stored.keys() - sent.keys())}"
        )
        # The shard manager never opened the agent's camera: no hub health, no hub state.
        assert health == 0, f"the hub's worker recorded {health} health minutes of it"
        assert state is None or state.worker.startswith("agent:"), state.worker

        # Incidents: the hub evaluated the synced week (the cleaner comes before hours);
        # evaluating the whole week again finds the same incidents, no new ones.
        assert incidents, "no incident from a week of mornings (the cleaner is there before 07.30)"
        assert all(i.start.astimezone(ZONE).date() in week for i in incidents)
        ids = {i.id for i in incidents}
        rt = open_runtime(Settings.model_validate(hub.settings), prepare=False)
        try:
            since = datetime.combine(week[0], dtime(0), tzinfo=ZONE).astimezone(UTC)
            with transaction(rt.sessions) as s:
                again_ids = {
                    i.id
                    for i in evaluate_camera(
                        s, rt.settings, camera_id, since, since + timedelta(days=7)
                    )
                }
                total = s.scalar(
                    select(func.count())
                    .select_from(Incident)
                    .where(Incident.camera_id == camera_id)
                )
        finally:
            rt.close()
        assert again_ids == ids and total == len(ids), (
            f"incidents after sync {len(ids)}, a full re-evaluation finds {len(again_ids)} "
            f"({len(again_ids - ids)} new), {total} stored"
        )

        # A second sync has nothing to send and changes nothing.
        resync = agent("sync", "--once")
        assert resync.returncode == 0 and "sent 0 items" in resync.stdout, resync.stdout
        with Session(engine) as s:
            assert s.scalar(select(func.count()).select_from(Observation)) == len(sent)

        # ---- the control room after the link came back
        [listed] = api.get("/api/agents").json()
        assert listed["state"] == "online", listed
        complete = datetime.fromisoformat(listed["complete_until"].replace("Z", "+00:00"))
        assert complete >= minutes[-1] + timedelta(minutes=1), (
            f"complete until {complete}, the week's last minute is {minutes[-1]}"
        )
        [item] = [x for x in api.get("/api/overview/sites").json()["sites"] if x["id"] == site_id]
        assert item["reason_code"] != "data_pending" and item["agent"]["state"] == "online", item

        got = {
            date.fromisoformat(v["day"]): v
            for v in api.get(
                "/api/verdicts", params={"from": week[0], "to": week[-1], "site_id": site_id}
            ).json()
        }
        expected = _expected(sorted(rec.glob(f"part*/{SITE}/groundtruth.jsonl")))
        table = "\n".join(
            f"  {d} {d:%a}: hub {got[d]['status'] if d in got else '—':16} "
            f"truth {expected.get(d, '—')}"
            for d in week
        )
        assert set(got) == set(week), f"verdicts for {sorted(got)} only\n{table}"
        working = [d for d in week if got[d]["working"]]
        assert len(working) >= 4, f"the week has {len(working)} working days\n{table}"
        assert all(got[d]["status"] == LIBUR for d in week if d not in working), table
        assert all((got[d]["opening_coverage"] or 0) > 0.9 for d in working), (
            f"working days not computed from the synced mornings\n{table}"
        )
        assert not any(v.get("pending_sync") for v in got.values()), (
            f"days still waiting for the site's data after the sync\n{table}"
        )
        # A miss of the detector may leave a day unknown (never accused): most must be right.
        right = [d for d in working if got[d]["status"] == expected[d]]
        assert len(right) >= len(working) - 1, (
            f"{len(right)} of {len(working)} working days match the ground truth\n{table}"
        )
        wrongly_accused = [
            d for d in working if got[d]["status"] in ACCUSING and expected[d] not in ACCUSING
        ]
        assert not wrongly_accused, f"accused on {wrongly_accused}\n{table}"
        mark(f"verdicts: {len(right)}/{len(working)} working days right\n{table}")
        api.close()
        engine.dispose()
    finally:
        for r in recorders:
            if r.poll() is None:
                r.kill()
                r.wait(10)
        if hub.proc is not None and hub.proc.poll() is None:
            hub.proc.terminate()
            hub.proc.wait(15)
        print("\n".join(marks))
