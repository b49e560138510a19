"""The overview API behind the map and health pages, on SQLite and PostgreSQL: each office's
live state from its connectivity, cameras, calendar and observations (docs/site-state.md);
uptime and recording shares per camera and per day; the "belum terhubung" list and its CSV;
the boundary GeoJSON with its ETag."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from pantau.accounts.users import create_user
from pantau.hub.pending import SiteAgent
from pantau.registry.calendar import DaySchedule
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import (
    Agent,
    Camera,
    CameraState,
    HealthSample,
    Observation,
    Role,
    Segment,
)
from pantau.store.types import utcnow
from pantau.web.app import create_app
from pantau.web.routes.overview import (
    Inputs,
    decide_state,
    note_text,
    polygon_centroid,
    reason_text,
)

WITA = ZoneInfo("Asia/Makassar")
PASSWORD = "rahasia-123"
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10.00 WITA
WORKDAY = DaySchedule(date(2026, 11, 30), True, time(7, 30), time(16, 0), "weekly", "reguler")
HOLIDAY = DaySchedule(date(2026, 11, 30), False, None, None, "holiday", "libur", None, "Natal")


def inputs(**kw: Any) -> Inputs:
    base: dict[str, Any] = {
        "now": NOW,
        "connectivity": "connected",
        "camera_states": ("online",),
        "camera_reason": None,
        "schedule": WORKDAY,
        "opens": datetime(2026, 11, 29, 23, 30, tzinfo=UTC),  # 07.30 WITA
        "closes": datetime(2026, 11, 30, 8, 0, tzinfo=UTC),  # 16.00 WITA
        "opened_at": None,
        "people_now": 0,
    }
    return Inputs(**(base | kw))


@pytest.mark.parametrize(
    ("kw", "state", "code"),
    [
        ({"connectivity": "planned"}, "not_connected", "planned"),
        ({"connectivity": "not_connected", "people_now": 3}, "not_connected", "link_down"),
        ({"camera_states": ()}, "not_connected", "no_camera"),
        ({"camera_states": ("offline", "connecting")}, "camera_offline", "cameras_down"),
        ({"camera_states": ("disabled",)}, "camera_offline", "cameras_disabled"),
        ({"camera_states": ("offline", "degraded")}, "not_open_yet", "late"),
        ({"schedule": HOLIDAY, "opens": None, "closes": None}, "closed", "day_off"),
        ({"now": NOW + timedelta(hours=6), "people_now": 2}, "closed", "after_hours_people"),
        ({"opened_at": NOW - timedelta(hours=2)}, "open", "opened"),
        ({"now": NOW - timedelta(hours=3)}, "not_open_yet", "before_open"),
        ({"people_now": 2}, "open", "staff_present"),
        ({"people_now": None}, "not_open_yet", "no_data"),
        ({}, "not_open_yet", "late"),
    ],
)
def test_the_state_rule_in_order(kw: dict[str, Any], state: str, code: str) -> None:
    decision = decide_state(inputs(**kw))
    assert (decision.state, decision.code) == (state, code)


def test_late_says_how_late_and_an_early_arrival_opens_only_by_the_verdict() -> None:
    late = decide_state(inputs())
    assert late.vars == {"opens": "23.30", "minutes": 150}  # default formatter: the instant's
    fmt = lambda dt: dt.astimezone(WITA).strftime("%H.%M WITA")  # noqa: E731
    assert decide_state(inputs(), fmt).vars["opens"] == "07.30 WITA"
    early = NOW - timedelta(hours=3, minutes=30)  # 06.30 WITA: the cleaner
    assert decide_state(inputs(now=early, people_now=1)).state == "not_open_yet"
    opened = decide_state(inputs(now=early, opened_at=early - timedelta(minutes=20)), fmt)
    assert (opened.state, opened.vars["opened"]) == ("open", "06.10 WITA")


def agent(state: str, backlog: int = 0, **kw: Any) -> SiteAgent:
    base: dict[str, Any] = {
        "id": 7,
        "state": state,
        "created_at": NOW - timedelta(days=30),
        "last_contact": NOW - timedelta(hours=2),
        "complete_until": NOW - timedelta(hours=20),
        "backlog_items": backlog,
        "backlog_oldest": NOW - timedelta(hours=20) if backlog else None,
    }
    return SiteAgent(**(base | kw))


@pytest.mark.parametrize(
    ("kw", "state", "code", "note"),
    [
        # Offline with data waiting: before "kamera mati" (its camera states are only stale),
        # before the registry's link_down, before the schedule.
        (
            {"agent": agent("offline_pending", 40), "camera_states": ("offline",)},
            "not_connected",
            "data_pending",
            None,
        ),
        (
            {"agent": agent("offline_pending"), "connectivity": "not_connected"},
            "not_connected",
            "data_pending",
            None,
        ),
        (
            {"agent": agent("offline_pending"), "schedule": HOLIDAY, "opens": None, "closes": None},
            "not_connected",
            "data_pending",
            None,
        ),
        # In touch: the ordinary rules, and a note while the backlog drains.
        ({"agent": agent("online", 1234), "people_now": 2}, "open", "staff_present", "syncing"),
        (
            {"agent": agent("online", 1234), "camera_states": ("offline",)},
            "camera_offline",
            "cameras_down",
            "syncing",
        ),
        ({"agent": agent("online")}, "not_open_yet", "late", None),
        # Revoked or never heard from: said when nothing is seen, a note when cameras are.
        (
            {"agent": agent("revoked"), "camera_states": ("offline",)},
            "not_connected",
            "agent_revoked",
            None,
        ),
        ({"agent": agent("revoked"), "camera_states": ()}, "not_connected", "agent_revoked", None),
        ({"agent": agent("revoked"), "people_now": 1}, "open", "staff_present", "agent_revoked"),
        (
            {"agent": agent("never", last_contact=None), "camera_states": ("offline",)},
            "not_connected",
            "agent_never",
            None,
        ),
    ],
)
def test_the_agent_rules(kw: dict[str, Any], state: str, code: str, note: str | None) -> None:
    decision = decide_state(inputs(**kw))
    assert (decision.state, decision.code, decision.note) == (state, code, note)


def test_data_pending_and_syncing_say_since_when_and_how_much() -> None:
    fmt = lambda dt: dt.astimezone(WITA).strftime("%H.%M WITA")  # noqa: E731
    wita = lambda dt: dt.astimezone(WITA).strftime("%a %H.%M WITA")  # noqa: E731
    pending = decide_state(inputs(agent=agent("offline_pending", 40)), fmt, wita)
    assert pending.vars["since"] == "Mon 08.00 WITA" and pending.vars["backlog_items"] == 40
    assert pending.vars["complete_until_at"] == NOW - timedelta(hours=20)
    assert reason_text(pending) == (
        "Lokasi offline sejak Mon 08.00 WITA, data menunggu dikirim (lengkap s.d. Sun 14.00 WITA)"
    )
    never_complete = decide_state(inputs(agent=agent("offline_pending", complete_until=None)))
    assert reason_text(never_complete).endswith("(belum ada data lengkap)")
    syncing = decide_state(inputs(agent=agent("online", 1234), people_now=2))
    assert note_text(syncing) == "mengirim data tertunda: 1.234 item"
    assert note_text(decide_state(inputs(agent=agent("online")))) is None


def test_centroid_of_a_square_and_of_two_squares() -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    assert polygon_centroid(square) == (1.0, 1.0)
    two = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]],
            [[[10, 0], [11, 0], [11, 1], [10, 1], [10, 0]]],
        ],
    }
    lat, lon = polygon_centroid(two)  # type: ignore[misc]
    assert lon == pytest.approx((4 * 1 + 1 * 10.5) / 5) and lat == pytest.approx((4 + 0.5) / 5)


# ---- through the API ----------------------------------------------------------------------------


@pytest.fixture
def api(fresh_runtime: Runtime) -> Iterator[tuple[TestClient, Runtime]]:
    with transaction(fresh_runtime.sessions) as s:
        create_user(s, "admin", PASSWORD, Role.ADMIN, None)
        create_user(s, "lurah", PASSWORD, Role.LURAH, "74.71.01.1006")
    with TestClient(create_app(fresh_runtime)) as client:
        yield client, fresh_runtime


def login(client: TestClient, name: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def site_row(client: TestClient, h: dict[str, str], site_id: int) -> dict[str, Any]:
    body = client.get("/api/overview/sites", headers=h).json()
    assert sum(body["counts"].values()) == body["total"]
    return next(s for s in body["sites"] if s["id"] == site_id)


def hours_around_now(before: int, after: int) -> tuple[str, str, datetime]:
    """A same-day local window around now (clamped to the day), as "HH.MM" and its open instant."""
    local = utcnow().astimezone(WITA)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    opens = max(midnight, (local - timedelta(minutes=before)).replace(second=0, microsecond=0))
    closes = min(midnight + timedelta(hours=23, minutes=59), local + timedelta(minutes=after))
    return opens.strftime("%H.%M"), closes.strftime("%H.%M"), opens


def test_a_site_moves_through_its_states(api: tuple[TestClient, Runtime]) -> None:
    client, rt = api
    h = login(client, "admin")
    body = client.get("/api/overview/sites", headers=h).json()
    assert body["total"] == 65 and body["counts"]["not_connected"] == 65  # no camera anywhere
    where = {s["kelurahan"]: s for s in body["sites"]}
    assert where["Wundumbatu"]["position"] == "kecamatan" and where["Wundumbatu"]["lat"] < -3.9
    assert all(s["lat"] and s["lon"] for s in body["sites"])
    site = where["Korumba"]["id"]

    # Today is a working day from two hours ago to two hours from now (a site calendar).
    city = next(c for c in client.get("/api/calendars", headers=h).json() if c["parent_id"] is None)
    cal = client.post("/api/calendars", headers=h, json={"name": "Uji", "parent_id": city["id"]})
    opens, closes, open_at = hours_around_now(120, 120)
    today = utcnow().astimezone(WITA).date().isoformat()
    rule = {"kind": "override", "start_date": today, "end_date": today}
    r = client.post(
        f"/api/calendars/{cal.json()['id']}/rules",
        headers=h,
        json=rule | {"opens": opens, "closes": closes, "reason": "uji"},
    )
    assert r.status_code == 201, r.text
    client.patch(f"/api/sites/{site}", headers=h, json={"calendar_id": cal.json()["id"]})
    assert site_row(client, h, site)["reason_code"] == "no_camera"

    cam = client.post(
        "/api/cameras",
        headers=h,
        json={
            "site_id": site,
            "name": "Loket",
            "purpose": "pelayanan",
            "main_stream": "rtsp://x/y",
        },
    ).json()["id"]
    row = site_row(client, h, site)
    assert (row["state"], row["reason_code"]) == ("camera_offline", "cameras_down")
    assert "belum pernah terhubung" in row["reason"] and row["cameras"] == {"offline": 1}

    now = utcnow()
    with transaction(rt.sessions) as s:
        s.add(CameraState(camera_id=cam, state="online", since=now, last_packet_at=now))
    row = site_row(client, h, site)
    assert (row["state"], row["reason_code"]) == ("not_open_yet", "no_data")
    assert row["working_day"] and row["last_seen"] is not None
    assert row["schedule_rule"] == "override" and row["schedule_reason"].endswith("uji")

    minute = now.replace(second=0, microsecond=0)
    with transaction(rt.sessions) as s:
        s.add(Observation(camera_id=cam, minute=minute, people_max=0, coverage_seconds=60))
    row = site_row(client, h, site)
    assert (row["state"], row["reason_code"]) == ("not_open_yet", "late")
    late = (now - open_at.astimezone(UTC)).total_seconds() // 60
    assert abs(row["reason_vars"]["minutes"] - late) <= 1 and row["people_now"] == 0
    assert row["reason_vars"]["opens"] == f"{opens} WITA"

    with transaction(rt.sessions) as s:
        s.merge(Observation(camera_id=cam, minute=minute, people_max=2, coverage_seconds=60))
    row = site_row(client, h, site)
    assert (row["state"], row["reason_code"], row["people_now"]) == ("open", "staff_present", 2)
    assert row["reason"] == "2 orang di kantor sekarang"

    r = client.patch(f"/api/sites/{site}", headers=h, json={"connectivity": "not_connected"})
    assert r.status_code == 200
    row = site_row(client, h, site)
    assert (row["state"], row["reason_code"]) == ("not_connected", "link_down")

    lurah = client.get("/api/overview/sites", headers=login(client, "lurah")).json()
    assert [s["id"] for s in lurah["sites"]] == [site] and lurah["counts"]["not_connected"] == 1


def test_health_shares_per_span_and_day_and_the_not_connected_list(
    api: tuple[TestClient, Runtime],
) -> None:
    client, rt = api
    h = login(client, "admin")
    sites = {s["kelurahan_code"]: s["id"] for s in client.get("/api/sites", headers=h).json()}
    puuwatu, tobuuha = sites["74.71.09.1001"], sites["74.71.09.1004"]

    def camera(site: int, name: str) -> int:
        body = {"site_id": site, "name": name, "purpose": "pelayanan", "main_stream": "rtsp://x"}
        return client.post("/api/cameras", headers=h, json=body).json()["id"]

    seen, silent = camera(puuwatu, "Loket"), camera(puuwatu, "Halaman")
    client.patch(f"/api/sites/{tobuuha}", headers=h, json={"connectivity": "not_connected"})
    now = utcnow().replace(second=0, microsecond=0)
    start = now - timedelta(hours=36)
    with transaction(rt.sessions) as s:
        s.get(Camera, silent).created_at = start  # installed with the other, never heard from
        s.add(CameraState(camera_id=seen, state="online", since=start, last_packet_at=now))
        # Online the whole time except 6 hours within the last day, half a minute each.
        for i in range(36 * 60):
            minute = start + timedelta(minutes=i)
            gap = now - timedelta(hours=10) <= minute < now - timedelta(hours=4)
            s.add(
                HealthSample(
                    camera_id=seen, minute=minute, state="online", online_seconds=0 if gap else 60
                )
            )
        # Recorded: one 10 s segment per minute (a sixth of the time), 2 kB each.
        for i in range(36 * 60):
            t0 = start + timedelta(minutes=i)
            s.add(
                Segment(
                    camera_id=seen,
                    start=t0,
                    end=t0 + timedelta(seconds=10),
                    path=f"{i}.ts",
                    bytes=2000,
                )
            )
    body = client.get("/api/overview/health", headers=h).json()
    cams = {c["camera_id"]: c for c in body["cameras"]}
    c = cams[seen]
    # Shares over the server's own clock; 7 d and 30 d over the 36 h since the first sample.
    # Uptime ends at the server's last finished minute (the health sampler writes whole ones).
    gen = datetime.fromisoformat(body["generated_at"])
    sampled = gen.replace(second=0, microsecond=0)
    minutes = [start + timedelta(minutes=i) for i in range(36 * 60)]
    gap = (now - timedelta(hours=10), now - timedelta(hours=4))
    day_ago = gen - timedelta(hours=24)
    up_since = sampled - timedelta(hours=24)
    online_24h = sum(60 for m in minutes if up_since <= m < sampled and not gap[0] <= m < gap[1])
    online_all = sum(60 for m in minutes if m < sampled and not gap[0] <= m < gap[1])
    since_start = (sampled - start).total_seconds()
    assert c["uptime"]["24h"] == pytest.approx(100 * online_24h / 86400, abs=0.006)
    assert 74.8 < c["uptime"]["24h"] <= 75.0
    assert c["uptime"]["7d"] == c["uptime"]["30d"]
    assert c["uptime"]["7d"] == pytest.approx(100 * online_all / since_start, abs=0.006)
    recorded_24h = sum(10 for m in minutes if m >= day_ago)
    assert c["recorded"]["24h"] == pytest.approx(100 * recorded_24h / 86400, abs=0.006)
    assert c["bytes"] == 36 * 60 * 2000 and not c["never_seen"]
    assert datetime.fromisoformat(c["installed_at"]) == start
    days = [date.fromisoformat(d) for d in body["days"]]
    assert len(days) == 30 and days[-1] == utcnow().astimezone(WITA).date()
    first_day = start.astimezone(WITA).date()
    for day, up, rec in zip(days, c["days_uptime"], c["days_recorded"], strict=True):
        if day < first_day:
            assert up is None and rec is None
        elif day < days[-1]:  # today may be minutes old: only whole past days are exact
            assert 0 < up <= 100 and rec == pytest.approx(100 / 6, abs=0.2)
        else:
            assert up is not None and rec is not None
    assert cams[silent]["never_seen"] and cams[silent]["uptime"]["24h"] == 0.0
    assert body["counts"] == {"online": 1, "offline": 1}

    site = next(s for s in body["sites"] if s["site_id"] == puuwatu)
    assert site["cameras"] == 2 and site["by_state"] == {"online": 1, "offline": 1}
    assert site["bytes"] == c["bytes"] and site["last_seen"] is not None
    missing = {m["site_id"]: m for m in body["not_connected"]}
    assert set(missing) == {puuwatu, tobuuha}
    assert missing[tobuuha]["reason_code"] == "link_down" and missing[tobuuha]["cameras"] == 0
    assert missing[puuwatu]["never_seen"] == 1 and missing[puuwatu]["reason_code"] == "never_seen"
    assert body["disk"]["recordings_bytes"] == c["bytes"] and body["disk"]["free_bytes"] > 0

    r = client.get("/api/overview/not-connected.csv", headers=h)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {row["kode_kelurahan"] for row in rows} == {"74.71.09.1001", "74.71.09.1004"}
    assert all(row["terdaftar_sejak"].endswith("WITA") for row in rows if row["kamera"] != "0")

    lurah = client.get("/api/overview/health", headers=login(client, "lurah")).json()
    assert lurah["cameras"] == [] and lurah["not_connected"] == []
    assert [s["slug"] for s in lurah["sites"]] == ["kel-korumba"]


def test_boundaries_are_cacheable_and_the_level_is_checked(
    api: tuple[TestClient, Runtime],
) -> None:
    client, _ = api
    h = login(client, "admin")
    r = client.get("/api/overview/boundaries?level=kecamatan", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert len(r.json()["features"]) == 11 and "max-age" in r.headers["cache-control"]
    again = client.get(
        "/api/overview/boundaries?level=kecamatan", headers=h | {"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    kel = client.get("/api/overview/boundaries", headers=h)
    assert len(kel.json()["features"]) == 64 and kel.headers["etag"] != r.headers["etag"]
    bad = client.get("/api/overview/boundaries?level=provinsi", headers=h)
    assert bad.status_code == 422 and "kelurahan" in bad.json()["message"]
    assert client.get("/api/overview/boundaries").status_code == 401


def test_an_agent_site_offline_with_data_pending_then_in_touch(
    api: tuple[TestClient, Runtime],
) -> None:
    """The contract the map and the edge end-to-end test read: `agent` on every site (null
    without one), data_pending before "kamera mati", then the ordinary rules with a note."""
    client, rt = api
    h = login(client, "admin")
    sites = {s["kelurahan_code"]: s["id"] for s in client.get("/api/sites", headers=h).json()}
    site = sites["74.71.01.1006"]  # Korumba
    cam = client.post(
        "/api/cameras",
        headers=h,
        json={"site_id": site, "name": "Loket", "purpose": "pelayanan", "main_stream": "rtsp://x"},
    ).json()["id"]
    now = utcnow()
    heard = now - timedelta(hours=3)
    complete = now - timedelta(hours=5)
    with transaction(rt.sessions) as s:
        # What the agent last reported of its camera: online, three hours ago (stale now).
        s.add(
            CameraState(
                camera_id=cam, state="online", since=heard, last_packet_at=heard, updated_at=heard
            )
        )
        agent = Agent(
            site_id=site,
            name="korumba-1",
            key_hash="x" * 64,
            public_key="k",
            created_at=now - timedelta(days=20),
            version="0.9.0",
            last_contact_at=heard,
            complete_until=complete,
            backlog_items=1234,
            backlog_bytes=5_000_000,
            backlog_oldest=complete,
        )
        s.add(agent)
        s.flush()
        agent_id = agent.id
    body = client.get("/api/overview/sites", headers=h).json()
    others = [s for s in body["sites"] if s["id"] != site]
    assert others and all(s["agent"] is None and s["note_code"] is None for s in others)
    row = site_row(client, h, site)
    assert (row["state"], row["reason_code"]) == ("not_connected", "data_pending")
    assert row["cameras"] == {"unknown": 1}  # stale, not "kamera mati"
    assert row["camera_list"][0]["reason"] == "agen lokasi terputus; keadaan kamera belum diketahui"
    health = client.get("/api/overview/health", headers=h).json()
    [cam_row] = [c for c in health["cameras"] if c["camera_id"] == cam]
    assert (cam_row["state"], cam_row["reason_code"]) == ("unknown", "agent_offline")
    got = row["agent"]
    assert got["id"] == agent_id and got["state"] == "offline_pending"
    assert datetime.fromisoformat(got["last_contact"]) == heard
    assert datetime.fromisoformat(got["complete_until"]) == complete
    assert got["backlog_items"] == 1234
    assert datetime.fromisoformat(got["backlog_oldest"]) == complete
    since = heard.astimezone(WITA)
    assert row["reason"].startswith("Lokasi offline sejak ")
    assert f"{since:%H.%M} WITA, data menunggu dikirim (lengkap s.d. " in row["reason"]
    assert f"{complete.astimezone(WITA):%H.%M} WITA)" in row["reason"]
    assert row["reason_vars"]["backlog_items"] == 1234
    assert body["counts"]["not_connected"] == 65 - 1 + 1  # the others have no camera

    # A sync round: in touch again, a backlog still draining, cameras reporting.
    with transaction(rt.sessions) as s:
        a = s.get(Agent, agent_id)
        assert a is not None
        a.last_contact_at, a.complete_until, a.backlog_items = utcnow(), utcnow(), 1234
        st = s.get(CameraState, cam)
        assert st is not None
        st.last_packet_at = st.updated_at = utcnow()
    row = site_row(client, h, site)
    assert row["reason_code"] != "data_pending" and row["agent"]["state"] == "online"
    assert (row["note_code"], row["note"]) == ("syncing", "mengirim data tertunda: 1.234 item")

    with transaction(rt.sessions) as s:
        a = s.get(Agent, agent_id)
        assert a is not None
        a.backlog_items, a.revoked_at = 0, utcnow()
    row = site_row(client, h, site)
    assert row["agent"]["state"] == "revoked" and row["note_code"] in ("agent_revoked", None)
    assert "agent_revoked" in (row["reason_code"], row["note_code"])
