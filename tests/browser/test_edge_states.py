"""An edge site in real Chromium, from "offline, data pending" to complete (issue 8).

A kelurahan office with an agent whose link dropped: the map says data pending (hatched
violet, counted under "belum terhubung", never "kamera mati"), the health page shows the
agent with its hours connected per day, the month heat map marks the days not yet received
as "menunggu data lokasi". Then the rows change as a sync would change them (in touch now,
complete up to now, no backlog, the days' observations and verdicts), the pages are reloaded,
and the site is complete with the week's verdicts filled in.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import insert

from pantau.store.db import transaction
from pantau.store.models import Agent, AgentContact, CameraState, Observation
from pantau.store.types import utcnow
from pantau.verdicts.store import recompute_range
from tests.browser.conftest import Session, UiServer, screenshot
from tests.test_verdict_rules import ObsDay, local

WITA = ZoneInfo("Asia/Makassar")
PUUWATU = "74.71.09.1001"
# Hours the agent was connected on each of the six days before the cut, oldest first.
HOURS = [24, 20, 12, 6, 23, 2]


def _minutes(day: date, hours: float) -> list[datetime]:
    start = local(day, "00.00")
    return [start + timedelta(minutes=m) for m in range(int(hours * 60))]


@pytest.fixture(scope="module")
def edge_site(ui_server: UiServer) -> dict[str, Any]:
    """Puuwatu's office with a camera behind an agent that went offline at noon on the third
    last working day before today (`cut`): complete up to then, 1 234 items waiting."""
    admin = ui_server.api("admin")
    site = next(s for s in admin.get("/api/sites").json() if s["kelurahan_code"] == PUUWATU)
    r = admin.post(
        "/api/cameras",
        json={
            "site_id": site["id"],
            "name": "Loket",
            "purpose": "pelayanan",
            "main_stream": "rtsp://10.9.9.9/s",
        },
    )
    assert r.status_code == 201, r.text
    cam = r.json()["id"]
    today = utcnow().astimezone(WITA).date()
    first = today - timedelta(days=14)
    sched = admin.get(
        f"/api/sites/{site['id']}/schedule", params={"from": first, "to": today}
    ).json()
    working = [date.fromisoformat(d["date"]) for d in sched if d["working"]]
    cut = [d for d in working if d < today][-3]
    complete = local(cut, "12.00")
    heard = complete + timedelta(minutes=5)
    before = [d for d in working if d < cut][-5:]
    rows: list[dict[str, Any]] = []
    for day in before:
        rows += ObsDay(day, cameras=(cam,)).people("07.22", "16.40").list()
    rows += [
        r
        for r in ObsDay(cut, cameras=(cam,)).people("07.25", "16.40").list()
        if r["minute"] < complete
    ]
    rt = ui_server.runtime
    with transaction(rt.sessions) as s:
        s.execute(insert(Observation), rows)
        recompute_range(s, rt.settings, before[0], cut, [site["id"]])
        s.add(
            CameraState(
                camera_id=cam, state="online", since=heard, last_packet_at=heard, updated_at=heard
            )
        )
        agent = Agent(
            site_id=site["id"],
            name="puuwatu-nuc",
            key_hash="0" * 64,
            public_key="uji",
            created_at=local(first, "09.00"),
            version="0.9.1",
            last_contact_at=heard,
            complete_until=complete,
            clock_offset_seconds=7.4,
            backlog_items=1234,
            backlog_bytes=18_500_000,
            backlog_oldest=complete,
        )
        s.add(agent)
        s.flush()
        contact_days = [cut - timedelta(days=6 - i) for i in range(6)]
        contacts = [
            {"agent_id": agent.id, "minute": m, "requests": 2, "items": 30, "bytes": 40_000}
            | {"transfer_seconds": 1.5, "via": "link"}
            for day, hours in zip(contact_days, HOURS, strict=True)
            for m in _minutes(day, hours)
        ]
        contacts += [
            {"agent_id": agent.id, "minute": m, "requests": 1, "items": 10, "bytes": 9_000}
            | {"transfer_seconds": 0.5, "via": "link"}
            for m in _minutes(cut, 12)
        ]
        s.execute(insert(AgentContact), contacts)
        agent_id = agent.id
    return {
        "site": site,
        "camera": cam,
        "agent": agent_id,
        "cut": cut,
        "before": before,
        "working": working,
        "contact_days": contact_days,
        "api": admin,
    }


def _pin(page: Page, site_id: int) -> Any:
    return page.locator(f".peta-pin span[data-site='{site_id}']")


def _reopen(page: Page, pin: Any) -> None:
    """Open the popup again once the map has settled, so that it pans the popup into view."""
    page.locator(".peta-popup").wait_for()
    page.wait_for_timeout(500)
    pin.click()  # a marker's click toggles its popup: closed, then opened again
    expect(page.locator(".peta-popup")).to_have_count(0)
    pin.click()


def _cell(page: Page, site_id: int, day: date) -> Any:
    return page.locator(f"#kp-heatmap rect.cell[data-site='{site_id}'][data-day='{day}']")


def _month(s: Session, day: date) -> Page:
    s.page.goto(f"{s.base}/ui/#/kepatuhan/bulan?month={day:%Y-%m}&kec={PUUWATU[:8]}")
    s.page.wait_for_selector("#kp-heatmap")
    return s.page


def test_offline_with_data_pending_then_complete(
    open_ui, ui_server: UiServer, edge_site: dict[str, Any]
) -> None:
    site, cut, api = edge_site["site"], edge_site["cut"], edge_site["api"]
    sid = site["id"]
    s: Session = open_ui("operator")

    # ---- the map: data pending, not "kamera mati" ----
    page = s.go(f"peta?site={sid}")  # centred on the office, its popup open
    pin = _pin(page, sid)
    _reopen(page, pin)
    expect(pin).to_have_attribute("data-state", "not_connected")
    expect(pin).to_have_attribute("data-reason", "data_pending")
    expect(page.locator(f".peta-pin.pending:has(span[data-site='{sid}'])")).to_have_count(1)
    counts = api.get("/api/overview/sites").json()["counts"]
    expect(page.locator("#peta-legend [data-count='not_connected']")).to_have_text(
        str(counts["not_connected"])
    )
    expect(page.locator("#peta-legend [data-count='camera_offline']")).to_have_text(
        str(counts["camera_offline"])
    )
    assert counts["camera_offline"] == 0  # its camera's stale "online" is not "kamera mati"
    expect(page.locator("#peta-legend-pending")).to_contain_text("1 offline, data menunggu")
    popup = page.locator(f".peta-popup[data-site='{sid}']")
    expect(popup.locator("[data-reason='data_pending']")).to_have_text("Belum terhubung")
    expect(popup).to_contain_text("Lokasi offline sejak")
    expect(popup).to_contain_text("data menunggu dikirim (lengkap s.d.")
    expect(popup).to_contain_text("12.00 WITA")
    expect(popup.locator("[data-agent-state]")).to_have_text("Terputus, data tertunda")
    expect(popup).to_contain_text("1.234 item menunggu dikirim")
    expect(popup.locator(".peta-cams")).to_contain_text("Tak diketahui")  # stale, not "Mati"
    expect(page.locator("#peta-list")).to_contain_text(site["name"])
    page.mouse.move(1, 300)
    page.wait_for_timeout(400)
    screenshot(page, "edge-peta-data-pending")

    # ---- health: the agent's row with its hours connected per day ----
    page = s.go("kesehatan")
    row = page.locator(f"#kesehatan-agents-table tr[data-agent='{edge_site['agent']}']")
    expect(row).to_have_attribute("data-state", "offline_pending")
    expect(row).to_contain_text("Terputus, data tertunda")
    expect(row).to_contain_text("0.9.1")
    expect(row).to_contain_text("1.234 item")
    camera = page.locator(f"#kesehatan-cameras tr[data-camera='{edge_site['camera']}']")
    expect(camera.locator("[data-state]")).to_have_attribute("data-state", "unknown")
    expect(camera).to_contain_text("agen lokasi terputus")
    expect(row.locator("[data-clock='warn']")).to_contain_text("+7,4 dtk")
    heard = (local(cut, "12.05")).astimezone(WITA)
    expect(row.locator(".contact")).to_have_text(re.compile(rf"{heard:%H.%M} WITA$"))
    report = api.get("/api/agents/connectivity").json()
    [mine] = [a for a in report if a["id"] == edge_site["agent"]]
    bars = row.locator("svg.hours-strip g[data-day]")
    expect(bars).to_have_count(len(mine["days"]))
    by_day = dict(zip(edge_site["contact_days"], HOURS, strict=True)) | {cut: 12}
    shown = 0
    for d in mine["days"]:
        day = date.fromisoformat(d["date"])
        if day in by_day:
            assert d["hours_connected"] == by_day[day]
            bar = row.locator(f"g[data-day='{day}']")
            expect(bar).to_have_attribute("data-hours", str(by_day[day]))
            height = float(bar.locator("rect.hours").get_attribute("height") or 0)
            assert height == pytest.approx(30 * by_day[day] / 24, abs=1)  # 30 px: a whole day
            shown += 1
    assert shown >= 2  # the last 7 days hold the cut and some of the days before it
    row.scroll_into_view_if_needed()
    screenshot(page, "edge-kesehatan-agen")

    # ---- the month: the days not yet received wait for the site's data ----
    page = _month(s, cut)
    month = api.get("/api/compliance/month", params={"month": f"{cut:%Y-%m}"}).json()
    [cells] = [x["cells"] for x in month["sites"] if x["site_id"] == sid]
    pending_days = []
    for day, cell in zip(month["days"], cells, strict=True):
        if cell is None:
            continue
        if cell["pending_sync"] and cell["working"]:
            pending_days.append(date.fromisoformat(day))
            expect(_cell(page, sid, date.fromisoformat(day))).to_have_attribute(
                "data-status", "pending_sync"
            )
    assert cut in pending_days
    for day in edge_site["before"]:
        if day.month == cut.month:
            expect(_cell(page, sid, day)).to_have_attribute("data-status", "tepat_waktu")
    expect(page.locator("#kp-legend")).to_contain_text("Menunggu data lokasi")
    title = _cell(page, sid, cut).locator("title").text_content() or ""
    assert "Menunggu data lokasi" in title and "belum lengkap diterima" in title, title
    screenshot(page, "edge-kepatuhan-menunggu")
    _cell(page, sid, cut).click()
    expect(page.locator("#kp-day-pending")).to_contain_text("Menunggu data lokasi")
    expect(page.locator("#kp-day-pending")).to_contain_text("Ini bukan kamera mati")
    expect(page.locator("#kp-timeline-waiting")).to_have_count(1)  # after 12.00: not here yet
    screenshot(page, "edge-kepatuhan-hari-menunggu")

    # ---- a sync: in touch now, complete up to now, nothing left, the days recomputed ----
    rt = ui_server.runtime
    now = utcnow()
    yesterday = now.astimezone(WITA).date() - timedelta(days=1)
    later = [d for d in edge_site["working"] if cut < d <= yesterday]
    rows = [
        r
        for r in ObsDay(cut, cameras=(edge_site["camera"],)).people("07.25", "16.40").list()
        if r["minute"] >= local(cut, "12.00")
    ]
    for day in later:
        rows += ObsDay(day, cameras=(edge_site["camera"],)).people("07.28", "16.40").list()
    with transaction(rt.sessions) as db:
        db.execute(insert(Observation), rows)
        agent = db.get(Agent, edge_site["agent"])
        assert agent is not None
        agent.last_contact_at = agent.complete_until = now
        agent.backlog_items, agent.backlog_bytes, agent.backlog_oldest = 0, 0, None
        agent.clock_offset_seconds = 0.3
        db.merge(
            AgentContact(
                agent_id=agent.id,
                minute=now.replace(second=0, microsecond=0),
                requests=3,
                items=1234,
                bytes=18_500_000,
                transfer_seconds=60.0,
                via="link",
            )
        )
        state = db.get(CameraState, edge_site["camera"])
        assert state is not None
        state.last_packet_at = now
        state.updated_at = now + timedelta(minutes=10)  # the agent keeps reporting it
        recompute_range(db, rt.settings, cut, max(cut, yesterday), [sid])

    page = s.go(f"peta?site={sid}")  # centred on the office, its popup open
    pin = _pin(page, sid)
    _reopen(page, pin)
    expect(pin).not_to_have_attribute("data-reason", "data_pending")
    expect(page.locator("#peta-legend-pending")).to_have_count(0)
    popup = page.locator(f".peta-popup[data-site='{sid}']")
    expect(popup.locator("[data-agent-state]")).to_have_text("Terhubung")
    expect(popup).not_to_contain_text("Lokasi offline")
    page.mouse.move(1, 300)
    page.wait_for_timeout(400)
    screenshot(page, "edge-peta-lengkap")

    page = _month(s, cut)
    month = api.get("/api/compliance/month", params={"month": f"{cut:%Y-%m}"}).json()
    [cells] = [x["cells"] for x in month["sites"] if x["site_id"] == sid]
    assert not any(c and c["pending_sync"] for c in cells)
    expect(page.locator("#kp-heatmap rect.cell[data-status='pending_sync']")).to_have_count(0)
    for day in (d for d in pending_days if d <= yesterday):
        cell = cells[month["days"].index(day.isoformat())]
        assert cell["status"] == "tepat_waktu", (day, cell)
        expect(_cell(page, sid, day)).to_have_attribute("data-status", "tepat_waktu")
    screenshot(page, "edge-kepatuhan-lengkap")
    _cell(page, sid, cut).click()
    expect(page.locator("#kp-day-status")).to_have_text("Tepat waktu")
    expect(page.locator("#kp-day-pending")).to_have_count(0)
    expect(page.locator("#kp-timeline-waiting")).to_have_count(0)

    page = s.go("kesehatan")
    row = page.locator(f"#kesehatan-agents-table tr[data-agent='{edge_site['agent']}']")
    expect(row).to_have_attribute("data-state", "online")
    expect(row.locator("[data-clock='ok']")).to_contain_text("+0,3 dtk")
    expect(row).to_contain_text("tidak ada")
    row.scroll_into_view_if_needed()
    screenshot(page, "edge-kesehatan-lengkap")


def test_a_lurah_health_page_does_not_ask_for_the_city_report(open_ui) -> None:
    """The connectivity report is for the city-wide roles: no section, no refused request."""
    s = open_ui("lurah")
    page = s.go("kesehatan")
    expect(page.locator("#kesehatan-cameras, #kesehatan-empty").first).to_be_visible()
    expect(page.locator("#kesehatan-agents")).to_have_count(0)
