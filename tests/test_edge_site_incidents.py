"""Incidents found at the site (`edge.incidents`): the hub's rules over the agent's minutes,
against the calendar the hub sent, into the outbox with the picture of the moment."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from pantau.edge import items as wire
from pantau.edge.config_cache import ConfigCache
from pantau.edge.identity import public_key_b64, signing_key
from pantau.edge.incidents import SiteIncidents
from pantau.edge.outbox import Outbox
from pantau.edge.sink import OutboxSink
from pantau.hub import agents as hub_agents
from pantau.hub.siteconfig import site_config
from pantau.incidents.rules import incident_id
from pantau.incidents.store import evaluate_camera
from pantau.media.reader import SampledFrame
from pantau.pipeline.health import MinuteSample, State
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Camera, Observation, Site
from pantau.verdicts.store import local_today

WITA = timedelta(hours=8)


def config(day: str, windows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "timezone": "Asia/Makassar",
        "site": {"allowed_windows": windows or []},
        "calendar": [
            {"date": day, "working": True, "opens": "07:30", "closes": "16:00", "rule": "weekly"}
        ],
    }


def obs(minute: datetime, people: int = 0, tamper: dict[str, float] | None = None) -> dict:
    return {"minute": minute, "people_max": people, "tamper": tamper or {}}


def frame(at: datetime) -> SampledFrame:
    bgr = np.full((36, 64, 3), 90, np.uint8)
    return SampledFrame(at, bgr, bgr[:, :, 0], True, 640, 360)


def setup(tmp_path: Path, cfg: dict[str, Any]) -> tuple[Outbox, OutboxSink]:
    cache = ConfigCache(tmp_path)
    cache.save(cfg)
    box = Outbox(tmp_path / "outbox.db")
    return box, OutboxSink(box, site_incidents=SiteIncidents(cache))


def waiting(box: Outbox) -> dict[str, dict[str, Any]]:
    return {p.key: json.loads(p.wire_json())["data"] for p in box.items_since(None)}


def local(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}:00").replace(tzinfo=UTC) - WITA


def test_a_night_intruder_becomes_one_incident_with_a_picture(tmp_path: Path) -> None:
    box, sink = setup(tmp_path, config("2026-11-30"))
    try:
        start = local("2026-11-30", "02:10")
        for i in range(6):
            m = start + timedelta(minutes=i)
            sink.frame(7, frame(m + timedelta(seconds=50)))
            sink.observations(7, [obs(m, people=1 if i < 4 else 0)])
        items = waiting(box)
        inc_id = incident_id(7, "intrusion", start)
        inc = items[wire.incident_key(inc_id)]
        assert inc["kind"] == "intrusion" and inc["camera_id"] == 7
        assert wire.parse_time(inc["start"]) == start
        assert wire.parse_time(inc["end"]) == start + timedelta(minutes=4)
        assert inc["detail"]["minutes"] == 4
        picture = items[wire.snapshot_key(inc_id)]
        assert picture["jpeg"]  # taken when the incident was first found
        incidents = [k for k in items if k.startswith("incident/")]
        assert incidents == [wire.incident_key(inc_id)], "one incident, however often evaluated"

        # The same minutes again (a camera reconnecting mid-minute): nothing new to send.
        before = box.backlog().items
        sink.observations(7, [obs(start + timedelta(minutes=i), 1) for i in range(4)])
        assert box.backlog().items == before
    finally:
        box.close()


def test_office_hours_allowed_windows_and_unknown_days_raise_nothing(tmp_path: Path) -> None:
    ronda = [{"from": "21.45", "to": "22.15", "note": "ronda"}]
    box, sink = setup(tmp_path, config("2026-11-30", ronda))
    try:
        for day, hhmm in (
            ("2026-11-30", "09:00"),
            ("2026-11-30", "21:50"),
            ("2026-12-05", "02:00"),
        ):
            start = local(day, hhmm)
            sink.observations(3, [obs(start + timedelta(minutes=i), 2) for i in range(10)])
        assert not [k for k in waiting(box) if k.startswith("incident/")]
    finally:
        box.close()


def test_a_long_night_presence_keeps_its_id_past_the_context(tmp_path: Path) -> None:
    box, sink = setup(tmp_path, config("2026-11-30"))
    try:
        start = local("2026-11-30", "00:30")
        for i in range(5 * 60):  # five hours, longer than the three kept as context
            sink.observations(2, [obs(start + timedelta(minutes=i), 1)])
        ids = [k for k in waiting(box) if k.startswith("incident/")]
        assert ids == [wire.incident_key(incident_id(2, "intrusion", start))]
        inc = waiting(box)[ids[0]]
        assert inc["end"] is None and inc["detail"]["minutes"] == 300
    finally:
        box.close()


def test_tamper_and_camera_offline(tmp_path: Path) -> None:
    box, sink = setup(tmp_path, config("2026-11-30"))
    try:
        t = local("2026-11-30", "10:00")
        sink.frame(4, frame(t + timedelta(minutes=2)))
        sink.observations(
            4,
            [
                obs(t + timedelta(minutes=i), tamper={"cover": 0.9} if i < 3 else {})
                for i in range(5)
            ],
        )
        samples = [
            MinuteSample(t + timedelta(minutes=i), State.OFFLINE, 0.0, 0.0, 0.0, 0, "putus")
            for i in range(12)
        ]
        sink.health(5, samples)
        items = waiting(box)
        tamper = items[wire.incident_key(incident_id(4, "tamper", t))]
        assert tamper["detail"]["kind"] == "cover" and tamper["detail"]["minutes"] == 3
        assert wire.snapshot_key(incident_id(4, "tamper", t)) in items
        offline_id = incident_id(5, "camera_offline", t)
        assert items[wire.incident_key(offline_id)]["detail"]["minutes"] == 12
        assert wire.snapshot_key(offline_id) not in items, "no picture from a camera that is down"
    finally:
        box.close()


def hub_site_config(rt: Runtime, tmp_path: Path) -> tuple[dict[str, Any], int]:
    """The configuration the hub sends an agent of Mandonga with one camera (and its id)."""
    with transaction(rt.sessions) as s:
        site = s.scalar(select(Site).where(Site.slug == "kel-mandonga"))
        cam = Camera(site=site, name="ruang", purpose="keamanan kantor", main_stream="rtsp://x/s")
        s.add(cam)
        issued = hub_agents.create_enrolment(s, site, "admin")
        agent, _ = hub_agents.enrol(
            s, issued.token, "a", public_key_b64(signing_key(tmp_path)), "t"
        )
        s.flush()
        return site_config(s, rt.settings, rt.secrets, agent), cam.id


def test_the_hubs_site_config_drives_the_rules(fresh_runtime: Runtime, tmp_path: Path) -> None:
    """The calendar format is the hub's own (`hub.siteconfig`), not a hand-made copy."""
    rt = fresh_runtime
    cfg, cam_id = hub_site_config(rt, tmp_path)
    day = local_today(rt.settings)
    # Tonight 23.00 is outside the hours whatever the day; 10.00 is inside on a working day.
    night = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23) - WITA
    box, sink = setup(tmp_path / "site", cfg)
    try:
        sink.observations(cam_id, [obs(night + timedelta(minutes=i), 1) for i in range(3)])
        assert wire.incident_key(incident_id(cam_id, "intrusion", night)) in waiting(box)
    finally:
        box.close()


def test_hub_and_agent_draw_the_same_office_margins(fresh_runtime: Runtime, tmp_path: Path) -> None:
    """Incident ids are shared, so the agent must judge the cleaner at 06.20 and a late clerk
    at 16.40 as the hub does (no intrusion), and a person at 05.20 or 17.05, or motion in the
    dark at 02.00, likewise (one each)."""
    rt = fresh_runtime
    cfg, cam_id = hub_site_config(rt, tmp_path)
    assert cfg["margins"] == {"before_minutes": 90, "after_minutes": 60}
    assert cfg["dark_motion_pct"] == 0.1
    day = next(d["date"] for d in cfg["calendar"] if d["working"] and d["opens"] == "07:30")
    visits = {"05:20": 10, "06:20": 20, "16:40": 15, "17:05": 10}
    rows = [
        obs(local(day, hhmm) + timedelta(minutes=i), 1)
        for hhmm, minutes in visits.items()
        for i in range(minutes)
    ]
    # 02.00: someone moves in the dark room and the detector never finds them (infrared)
    rows += [
        {**obs(local(day, "02:00") + timedelta(minutes=i)), "motion_pct": 0.8, "ir_mode": True}
        for i in range(4)
    ]
    rows.append(obs(local(day, "18:00")))  # where the data ends: the last visit is over
    box, sink = setup(tmp_path / "site", cfg)
    try:
        sink.observations(cam_id, rows)
        keys = waiting(box)
        at_site = {
            i for i in (k.removeprefix("incident/") for k in keys) if f"incident/{i}" in keys
        }
    finally:
        box.close()
    with transaction(rt.sessions) as s:
        for r in rows:
            s.add(
                Observation(
                    camera_id=cam_id,
                    minute=r["minute"],
                    people_max=r["people_max"],
                    motion_pct=r.get("motion_pct", 0.0),
                    ir_mode=r.get("ir_mode"),
                )
            )
        s.flush()
        at_hub = {
            i.id
            for i in evaluate_camera(
                s, rt.settings, cam_id, local(day, "00:00"), local(day, "23:00")
            )
        }
    expected = {
        incident_id(cam_id, "intrusion", local(day, hhmm)) for hhmm in ("02:00", "05:20", "17:05")
    }
    assert at_hub == expected and at_site == expected
