"""The opening-hours page's API on SQLite and PostgreSQL: today's office states, the month grid,
scopes, corrections seen in the grid, the demo's "simulated" mark, and bad months."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from pantau.registry.calendar import DaySchedule
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Agent, Connectivity, Observation, Site
from pantau.store.types import utcnow
from pantau.web.routes.compliance import simulated, today_state
from tests.test_verdict_rules import MON, ObsDay, local

TZ = ZoneInfo("Asia/Makassar")
SUNDAY = MON - timedelta(days=1)


def _as(client: TestClient, auth: Any, role: str, method: str, url: str, **kw: Any) -> Any:
    client.cookies.clear()
    return client.request(method, url, headers=auth(role), **kw)


@pytest.fixture(scope="module")
def offices(client: TestClient, auth: Any, shared_runtime: Runtime) -> dict[str, int]:
    """Two offices with a camera: Korumba (camat's and lurah's) on time on MON, Kandai (another
    kecamatan) late; a third in Korumba without any camera. All three are connected, so that
    a working day's "unknown" says why: no camera, or its camera never reported."""
    out: dict[str, int] = {}
    for key, kel in (("korumba", "74.71.01.1006"), ("kandai", "74.71.02.1009"), ("bare", None)):
        body = {"kind": "kantor_opd", "name": f"Kantor Uji {uuid.uuid4().hex[:8]}"}
        body["connectivity"] = "connected"
        body["kelurahan_code"] = kel or "74.71.01.1006"
        r = _as(client, auth, "admin", "POST", "/api/sites", json=body)
        assert r.status_code == 201, r.text
        out[key] = r.json()["id"]
        if kel is None:
            continue
        cam = {"site_id": out[key], "name": "loket", "purpose": "keamanan kantor"}
        cam["main_stream"] = "rtsp://10.1.1.1/stream"
        r = _as(client, auth, "admin", "POST", "/api/cameras", json=cam)
        assert r.status_code == 201, r.text
        out[f"cam_{key}"] = r.json()["id"]
    rows = ObsDay(MON, cameras=(out["cam_korumba"],)).people("07.20", "16.10").list()
    rows += ObsDay(MON, cameras=(out["cam_kandai"],)).people("08.12", "16.05").list()
    with transaction(shared_runtime.sessions) as s:
        s.execute(insert(Observation), rows)
    body = {
        "from": MON.isoformat(),
        "to": MON.isoformat(),
        "site_ids": [out["korumba"], out["kandai"]],
    }
    r = _as(client, auth, "admin", "POST", "/api/verdicts/recompute", json=body)
    assert r.status_code == 200 and r.json()["created"] == 2, r.text
    return out


def _site(body: dict[str, Any], site_id: int) -> dict[str, Any]:
    [site] = [s for s in body["sites"] if s["site_id"] == site_id]
    return site


def test_month_grid_shows_stored_verdicts_and_schedule(
    client: TestClient, auth: Any, offices: dict[str, int]
) -> None:
    r = _as(client, auth, "pimpinan", "GET", "/api/compliance/month?month=2026-11")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["days"][0] == "2026-11-01" and len(body["days"]) == 30
    i = body["days"].index(MON.isoformat())
    korumba = _site(body, offices["korumba"])["cells"][i]
    assert korumba["status"] == korumba["effective"] == "tepat_waktu"
    assert (korumba["scheduled"], korumba["opened"], korumba["closed"]) == (
        "07.30",
        "07.20",
        "16.10",
    )
    kandai = _site(body, offices["kandai"])["cells"][i]
    assert kandai["status"] == "terlambat" and kandai["late_minutes"] == 42
    assert kandai["opened"] == "08.12"
    sunday = _site(body, offices["korumba"])["cells"][i - 1]
    assert sunday["working"] is False and "status" not in sunday and "scheduled" not in sunday
    bare = _site(body, offices["bare"])
    assert "status" not in bare["cells"][i] and bare["cells"][i]["working"] is True
    assert bare["cells"][i]["scheduled"] == "07.30"
    assert _site(body, offices["korumba"])["counts"]["tepat_waktu"] >= 1


def test_demo_history_is_marked_simulated(
    client: TestClient, auth: Any, offices: dict[str, int], shared_runtime: Runtime
) -> None:
    with transaction(shared_runtime.sessions) as s:
        s.get(Site, offices["kandai"]).history_simulated_until = local(MON, "12.00")
    body = _as(client, auth, "admin", "GET", "/api/compliance/month?month=2026-11").json()
    i = body["days"].index(MON.isoformat())
    cells = _site(body, offices["kandai"])["cells"]
    assert cells[i]["simulated"] is True and cells[i + 1]["simulated"] is False
    assert _site(body, offices["korumba"])["cells"][i]["simulated"] is False
    verdict = _as(client, auth, "admin", "GET", f"/api/verdicts/{offices['kandai']}/{MON}")
    assert verdict.json()["simulated"] is True  # the same rule as the verdicts API


def test_month_is_scoped_and_filters_never_widen(
    client: TestClient, auth: Any, offices: dict[str, int]
) -> None:
    def ids(role: str, query: str = "") -> set[int]:
        r = _as(client, auth, role, "GET", f"/api/compliance/month?month=2026-11{query}")
        assert r.status_code == 200, r.text
        return {s["site_id"] for s in r.json()["sites"]}

    assert {offices["korumba"], offices["kandai"]} <= ids("operator")
    camat, lurah = ids("camat"), ids("lurah")
    assert offices["korumba"] in camat and offices["kandai"] not in camat
    assert offices["korumba"] in lurah and offices["kandai"] not in lurah
    assert ids("camat", "&kecamatan=74.71.02") == set()
    assert offices["kandai"] in ids("admin", "&kecamatan=74.71.02")
    assert ids("admin", "&kelurahan=74.71.01.1006") == ids("lurah")


def test_correction_shows_in_the_grid_and_the_original_stays(
    client: TestClient, auth: Any, offices: dict[str, int]
) -> None:
    url = f"/api/verdicts/{offices['kandai']}/{MON}/corrections"
    body = {"reason": "rapat_kantor_camat", "note": "Undangan 005/61"}
    assert _as(client, auth, "admin", "POST", url, json=body).status_code == 201
    month = _as(client, auth, "admin", "GET", "/api/compliance/month?month=2026-11").json()
    cell = _site(month, offices["kandai"])["cells"][month["days"].index(MON.isoformat())]
    assert cell["status"] == "terlambat" and cell["effective"] == "dikoreksi"
    assert cell["correction"] == "rapat_kantor_camat"


@pytest.mark.parametrize(
    ("month", "field_text"),
    [("2026-13", "tidak ada"), ("2026-W48", "2026-11"), ("2099-01", "future"), ("x", "tidak")],
)
def test_bad_months_are_422_naming_the_field(
    client: TestClient, auth: Any, month: str, field_text: str
) -> None:
    r = _as(client, auth, "admin", "GET", f"/api/compliance/month?month={month}")
    assert r.status_code == 422, r.text
    assert field_text in r.json()["message"]
    assert [f["field"] for f in r.json()["fields"]] == ["month"]


def test_today_lists_every_office_with_its_schedule_and_counts(
    client: TestClient, auth: Any, offices: dict[str, int]
) -> None:
    body = _as(client, auth, "operator", "GET", "/api/compliance/today").json()
    day = body["day"]
    sched = _as(
        client, auth, "admin", "GET", f"/api/sites/{offices['bare']}/schedule?from={day}&to={day}"
    ).json()[0]
    assert len(body["sites"]) >= 65
    assert sum(body["counts"].values()) == len(body["sites"])
    bare = _site(body, offices["bare"])
    korumba = _site(body, offices["korumba"])
    if sched["working"]:
        assert (bare["state"], bare["why"]) == ("tidak_diketahui", "no_camera")
        # Its camera has never reported: offline, so nothing can be said yet.
        assert (korumba["state"], korumba["why"]) == ("tidak_diketahui", "cameras_offline")
        assert bare["scheduled_open"] is not None
    else:
        assert bare["state"] == korumba["state"] == "libur" and bare["why"] == "holiday"
    assert bare["cameras"] == 0 and korumba["cameras"] == 1 and korumba["cameras_online"] == 0
    assert body["now_local"].endswith(" WITA")
    lurah = _as(client, auth, "lurah", "GET", "/api/compliance/today").json()
    assert offices["korumba"] in {s["site_id"] for s in lurah["sites"]}
    assert all(s["kelurahan_code"] == "74.71.01.1006" for s in lurah["sites"])


# ---- today's state, at chosen moments (the endpoint uses the real clock) -----------------------


def _schedule(working: bool = True) -> DaySchedule:
    if not working:
        return DaySchedule(MON, False, None, None, "holiday", "Libur nasional", None, "Natal")
    return DaySchedule(MON, True, time(7, 30), time(16, 0), "weekly", "Senin–Kamis")


def _at(hhmm: str) -> datetime:
    h, m = (int(x) for x in hhmm.split("."))
    return datetime(MON.year, MON.month, MON.day, h, m, tzinfo=TZ)


SITE = SimpleNamespace(connectivity=Connectivity.CONNECTED)


def _row(opening: str | None, opened: str | None = None) -> Any:
    at = _at(opened).astimezone(UTC) if opened else None
    return SimpleNamespace(opening_status=opening, opened_at=at)


@pytest.mark.parametrize(
    ("site", "schedule", "row", "cams", "now", "want"),
    [
        (SITE, _schedule(False), None, ["online"], "09.00", ("libur", "holiday", None)),
        (SITE, _schedule(), None, ["online"], "07.10", ("belum_buka", "before_schedule", None)),
        (SITE, _schedule(), None, ["online"], "07.35", ("belum_buka", "before_schedule", None)),
        (SITE, _schedule(), None, ["online", "offline"], "08.10", ("belum_buka", "overdue", 40)),
        (
            SITE,
            _schedule(),
            _row("tidak_diketahui"),
            ["online"],
            "07.50",
            ("belum_buka", "overdue", 20),
        ),
        (
            SITE,
            _schedule(),
            _row("tepat_waktu", "07.22"),
            ["offline"],
            "12.00",
            ("tepat_waktu", "opened", None),
        ),
        (
            SITE,
            _schedule(),
            _row("terlambat", "08.02"),
            ["online"],
            "09.00",
            ("terlambat", "opened", None),
        ),
        (
            SITE,
            _schedule(),
            _row("terlambat_berat"),
            ["online"],
            "10.30",
            ("terlambat_berat", "verdict", None),
        ),
        (
            SITE,
            _schedule(),
            None,
            ["offline", "disabled"],
            "08.00",
            ("tidak_diketahui", "cameras_offline", None),
        ),
        (SITE, _schedule(), None, [], "08.00", ("tidak_diketahui", "no_camera", None)),
        (
            SimpleNamespace(connectivity=Connectivity.NOT_CONNECTED),
            _schedule(),
            None,
            [],
            "08.00",
            ("tidak_diketahui", "not_connected", None),
        ),
    ],
)
def test_today_state(
    site: Any, schedule: DaySchedule, row: Any, cams: list[str], now: str, want: tuple
) -> None:
    assert today_state(site, schedule, row, cams, _at(now), grace=5) == want


def test_data_pending_outranks_cameras_offline_but_not_an_opening() -> None:
    opened = today_state(
        SITE, _schedule(), _row("tepat_waktu", "07.22"), ["offline"], _at("12.00"), 5,
        "offline_pending",
    )  # fmt: skip
    assert opened == ("tepat_waktu", "opened", None)
    pending = today_state(SITE, _schedule(), None, ["offline"], _at("12.00"), 5, "offline_pending")
    assert pending == ("tidak_diketahui", "data_pending", None)
    assert today_state(SITE, _schedule(False), None, [], _at("9.00"), 5, "offline_pending")[0] == (
        "libur"
    )
    online = today_state(SITE, _schedule(), None, ["offline"], _at("12.00"), 5, "online")
    assert online == ("tidak_diketahui", "cameras_offline", None)


def test_days_not_yet_received_from_the_sites_agent_are_pending_until_it_catches_up(
    client: TestClient, auth: Any, shared_runtime: Runtime
) -> None:
    """An agent complete up to MON 16.00 WITA: MON and every day after it wait for the site's
    data (pending_sync) in the month grid, the verdict list and detail, the day status and
    today; days before the agent existed do not; once the agent is complete, none does."""
    body = {"kind": "kantor_opd", "name": f"Kantor Agen {uuid.uuid4().hex[:8]}"}
    r = _as(
        client, auth, "admin", "POST", "/api/sites", json=body | {"kelurahan_code": "74.71.01.1006"}
    )
    assert r.status_code == 201, r.text
    site = r.json()["id"]
    cam = {"site_id": site, "name": "loket", "purpose": "pelayanan", "main_stream": "rtsp://x/y"}
    r = _as(client, auth, "admin", "POST", "/api/cameras", json=cam)
    assert r.status_code == 201, r.text
    complete = local(MON, "16.00")
    with transaction(shared_runtime.sessions) as s:
        s.execute(
            insert(Observation),
            ObsDay(MON, cameras=(r.json()["id"],)).people("07.25", "15.55").list(),
        )
        agent = Agent(
            site_id=site, name="agen-uji", key_hash="0" * 64, public_key="k",
            created_at=local(MON - timedelta(days=3), "12.00"),
            last_contact_at=local(MON, "16.05"), complete_until=complete,
            backlog_items=250, backlog_bytes=10**6, backlog_oldest=complete,
        )  # fmt: skip
        s.add(agent)
        s.flush()
        agent_id = agent.id
    week = {
        "from": (MON - timedelta(days=5)).isoformat(),
        "to": MON.isoformat(),
        "site_ids": [site],
    }
    r = _as(client, auth, "admin", "POST", "/api/verdicts/recompute", json=week)
    assert r.status_code == 200, r.text

    def month() -> dict[date, dict[str, Any]]:
        r = _as(client, auth, "operator", "GET", "/api/compliance/month?month=2026-11")
        assert r.status_code == 200, r.text
        body = r.json()
        cells = _site(body, site)["cells"]
        return {date.fromisoformat(d): c for d, c in zip(body["days"], cells, strict=True) if c}

    cells = month()
    before_agent = MON - timedelta(days=4)
    assert cells[before_agent]["pending_sync"] is False
    assert cells[MON - timedelta(days=1)]["pending_sync"] is False  # Sunday, ended before 16.00 MON
    assert cells[MON]["pending_sync"] is True and cells[MON]["status"] == "tepat_waktu"
    later = [d for d in cells if d > MON]
    assert later and all(cells[d]["pending_sync"] for d in later)

    def listed() -> dict[str, Any]:
        r = _as(client, auth, "admin", "GET", f"/api/verdicts?date={MON}&site_id={site}")
        assert r.status_code == 200, r.text
        [row] = r.json()
        return row

    assert listed()["pending_sync"] is True

    def report_rows() -> dict[str, str]:
        q = f"/api/reports?period={MON:%Y-%m}&format=csv&view=harian"
        r = _as(client, auth, "admin", "GET", q + "&scope=kelurahan:74.71.01.1006")
        assert r.status_code == 200, r.text
        rows = csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))
        return {row["Tanggal"]: row["Data lokasi"] for row in rows if row["Kantor"] == body["name"]}

    marks = report_rows()  # the export says what the pages say
    assert marks[MON.isoformat()] == "menunggu data lokasi"
    assert marks[(MON - timedelta(days=1)).isoformat()] == ""
    detail = _as(client, auth, "admin", "GET", f"/api/verdicts/{site}/{MON}?timeline=false").json()
    assert detail["pending_sync"] is True and detail["agent"]["id"] == agent_id
    assert detail["agent"]["state"] == "offline_pending" and detail["agent"]["backlog_items"] == 250
    tue = MON + timedelta(days=1)
    status = _as(client, auth, "lurah", "GET", f"/api/verdicts/{site}/{tue}/status").json()
    assert (status["has_verdict"], status["pending_sync"]) == (False, True)
    assert datetime.fromisoformat(status["agent"]["complete_until"]) == complete
    status = _as(client, auth, "lurah", "GET", f"/api/verdicts/{site}/{before_agent}/status").json()
    assert (status["has_verdict"], status["pending_sync"]) == (True, False)
    r = _as(client, auth, "lurah", "GET", f"/api/verdicts/{site}/2999-01-01/status")
    assert r.status_code == 422 and "2999-01-01" in r.json()["message"]
    today = _site(_as(client, auth, "operator", "GET", "/api/compliance/today").json(), site)
    assert today["pending_sync"] is True
    assert today["why"] in ("data_pending", "holiday")

    # The agent catches up: in touch, complete up to now, nothing left.
    with transaction(shared_runtime.sessions) as s:
        a = s.get(Agent, agent_id)
        assert a is not None
        a.last_contact_at = a.complete_until = utcnow()
        a.backlog_items, a.backlog_oldest = 0, None
    cells = month()
    assert not any(c["pending_sync"] for c in cells.values())
    assert cells[MON]["status"] == "tepat_waktu"
    assert listed()["pending_sync"] is False
    assert not any(report_rows().values())
    today = _site(_as(client, auth, "operator", "GET", "/api/compliance/today").json(), site)
    assert today["pending_sync"] is False and today["why"] != "data_pending"
    status = _as(client, auth, "lurah", "GET", f"/api/verdicts/{site}/{tue}/status").json()
    assert status["pending_sync"] is False and status["agent"]["state"] == "online"

    # Revoked with data never sent: nothing more will come, the days are what they are.
    with transaction(shared_runtime.sessions) as s:
        a = s.get(Agent, agent_id)
        assert a is not None
        a.complete_until, a.revoked_at = complete, utcnow()
    assert not any(c["pending_sync"] for c in month().values())


def test_simulated_mark_follows_the_sites_marker() -> None:
    """Days that began before `history_simulated_until` (an instant) are the demo's history."""
    row = SimpleNamespace(detail={"status": "tepat_waktu"})
    until = datetime(MON.year, MON.month, MON.day, 16, 30, tzinfo=UTC)  # 00.30 WITA on TUE
    site = SimpleNamespace(history_simulated_until=until)
    assert simulated(site, MON, row, TZ) is True
    assert simulated(site, MON + timedelta(days=1), row, TZ) is True  # began 16.00 UTC
    assert simulated(site, MON + timedelta(days=2), row, TZ) is False
    assert simulated(site, MON, None, TZ) is False  # no verdict, nothing to mark
    assert simulated(SimpleNamespace(history_simulated_until=None), MON, row, TZ) is False
