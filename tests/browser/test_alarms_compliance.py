"""Peringatan and Kepatuhan jam buka in a real browser: a pushed alarm appears without reload and
is acknowledged; the month heat map shows stored verdicts, drills down to a day's evidence,
downloads a report and takes an admin's correction."""

from __future__ import annotations

import csv
import functools
import io
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import insert

from pantau.incidents.evidence import evidence_taker
from pantau.incidents.rules import IncidentSpec
from pantau.incidents.store import upsert_incidents
from pantau.media.snapshot import write_latest
from pantau.sim.scene import Scene
from pantau.store.db import transaction
from pantau.store.models import Incident, Observation, Site
from pantau.store.types import utcnow
from pantau.verdicts.store import recompute_range
from tests.browser.conftest import Session, UiServer, screenshot
from tests.test_verdict_rules import ObsDay

KORUMBA, KANDAI = "74.71.01.1006", "74.71.02.1009"


def _office(api: Any, kelurahan: str) -> dict[str, Any]:
    sites = api.get("/api/sites").json()
    return min(
        (s for s in sites if s["kind"] == "kantor_kelurahan" and s["kelurahan_code"] == kelurahan),
        key=lambda s: s["id"],
    )


def _camera(api: Any, site_id: int, name: str) -> int:
    for cam in api.get("/api/cameras", params={"site_id": site_id}).json():
        if cam["name"] == name:
            return cam["id"]
    body = {
        "site_id": site_id,
        "name": name,
        "purpose": "keamanan kantor",
        "main_stream": "rtsp://10.20.0.5/stream",
    }
    r = api.post("/api/cameras", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


@functools.cache
def _scene() -> Scene:
    """A simulated office camera (building one takes seconds; rendering a frame does not)."""
    return Scene(7, "interior", 640, 360, name="Kantor Lurah")


def _push_incident(
    ui: UiServer, camera_id: int, kind: str = "intrusion", detail: dict[str, Any] | None = None
) -> str:
    """What the analytics would write: an incident with the camera's picture of the moment."""
    now = utcnow().replace(second=0, microsecond=0)
    frame = _scene().render(now, [], False)
    write_latest(ui.runtime.settings.snapshots_dir, camera_id, frame)
    start = now - timedelta(minutes=uuid.uuid4().int % 50 + 3)
    facts = {
        "intrusion": {"people_max": 2, "minutes": 3},
        "tamper": {"kind": "covered", "kinds": ["covered"], "confidence": 0.9, "minutes": 4},
        "camera_offline": {"minutes": 12},
    }[kind] | (detail or {})
    spec = IncidentSpec(kind, start, None, camera_id, now, facts)
    with transaction(ui.runtime.sessions) as s:
        return upsert_incidents(s, [spec], evidence_taker(s, ui.runtime.settings, camera_id))[0].id


# ---- Peringatan -------------------------------------------------------------------------------


def test_pushed_alarm_appears_live_and_is_acknowledged(open_ui, ui_server: UiServer) -> None:
    admin = ui_server.api("admin")
    site = _office(admin, KORUMBA)
    cam = _camera(admin, site["id"], "ruang pelayanan")
    _push_incident(ui_server, _camera(admin, site["id"], "halaman depan"), "tamper")
    _push_incident(
        ui_server, _camera(admin, _office(admin, KANDAI)["id"], "halaman"), "camera_offline"
    )
    s: Session = open_ui("operator")
    page = s.go("peringatan")
    expect(page.locator("#alarm-status")).to_be_hidden()
    page.evaluate("window.__pantauLoads = performance.getEntriesByType('navigation').length")

    incident = _push_incident(ui_server, cam)
    card = page.locator(f"article.alarm[data-id='{incident}']")
    expect(card).to_be_visible(timeout=6000)  # pushed over /api/events, no reload
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    expect(card).to_have_class(re.compile(r"\bfresh\b"))
    expect(card.locator(".where")).to_contain_text(site["name"])
    expect(card.locator(".where")).to_contain_text("ruang pelayanan")
    start = datetime.fromisoformat(card.locator(".start").get_attribute("datetime") or "")
    local, today = start + timedelta(hours=8), (utcnow() + timedelta(hours=8)).date()
    # Today's alarms show the time alone; one from before midnight WITA names its day.
    day = "" if local.date() == today else rf"{local.day} \w+ \d{{4}} "
    expect(card.locator(".start")).to_have_text(re.compile(rf"^{day}{local:%H\.%M} WITA$"))
    expect(card.locator(".kind")).to_have_text("Penyusupan")
    expect(card.locator(".alarm-shot img")).to_have_js_property("complete", True)
    assert card.locator(".alarm-shot img").evaluate("img => img.naturalWidth") == 640
    # The browser was started with autoplay allowed, so the alarm actually beeped.
    assert page.evaluate("window.__pantauAlarms.beeps") >= 1
    href = card.locator("a.button-link").get_attribute("href")
    assert href.startswith(f"#/putar?camera={cam}&t=")
    screenshot(page, "peringatan")

    expect(card.locator(".meta")).to_contain_text("2 orang · 3 menit terdeteksi")
    dark = _push_incident(ui_server, cam, detail={"people_max": 0, "basis": "motion"})
    dark_meta = page.locator(f"article.alarm[data-id='{dark}'] .meta")
    expect(dark_meta).to_contain_text("gerakan dalam gelap (inframerah)")
    expect(dark_meta).to_contain_text("3 menit ada gerakan")
    expect(dark_meta).not_to_contain_text("orang ·")

    card.locator("button.act-ack").click()
    card.locator(".alarm-form textarea").fill("Dicek lewat HT, satpam menuju lokasi")
    card.locator(".alarm-form button[type=submit]").click()
    expect(card.locator(".state")).to_have_text("Ditangani")
    served = admin.get(f"/api/incidents/{incident}").json()
    assert served["state"] == "acknowledged" and served["acknowledged_by"] == "operator"
    assert served["note"] == "Dicek lewat HT, satpam menuju lokasi"

    card.locator("button.act-assign").click()
    card.locator(".alarm-form input").fill("Satpol PP")
    card.locator(".alarm-form button[type=submit]").click()
    expect(card.locator(".handled")).to_contain_text("Satpol PP")
    assert admin.get(f"/api/incidents/{incident}").json()["assignee"] == "Satpol PP"

    card.locator("button.act-resolve").click()
    card.locator(".alarm-form button[type=submit]").click()
    expect(card).to_be_hidden()  # the default filter shows active alarms only
    assert admin.get(f"/api/incidents/{incident}").json()["state"] == "resolved"
    page.select_option("#alarm-filter-state", "resolved")
    expect(card.locator(".state")).to_have_text("Selesai")


def test_a_change_made_elsewhere_updates_every_open_panel(open_ui, ui_server: UiServer) -> None:
    admin = ui_server.api("admin")
    cam = _camera(admin, _office(admin, KORUMBA)["id"], "ruang pelayanan")
    incident = _push_incident(ui_server, cam, "tamper")
    lurah = open_ui("lurah")
    page = lurah.go("peringatan")
    card = page.locator(f"article.alarm[data-id='{incident}']")
    expect(card).to_be_visible()
    expect(page.locator("#alarm-read-only")).to_be_visible()
    expect(card.locator("button.act-ack")).to_have_count(0)
    r = admin.post(f"/api/incidents/{incident}/acknowledge", json={"note": "teknisi dikirim"})
    assert r.status_code == 200, r.text
    expect(card.locator(".state")).to_have_text("Ditangani", timeout=6000)
    expect(card.locator(".note")).to_have_text("teknisi dikirim")


# Headless Chromium lets audio start without a gesture whatever --autoplay-policy says, so a
# desktop browser's policy is emulated: every AudioContext starts suspended until resumed.
SUSPENDED_AUDIO = """
const Real = window.AudioContext;
window.AudioContext = class extends Real { constructor(...a) { super(...a); this.suspend(); } };
"""


def test_sound_waits_for_a_gesture_and_mute_is_remembered(open_ui, ui_server: UiServer) -> None:
    s = open_ui("operator")
    s.context.add_init_script(SUSPENDED_AUDIO)
    page = s.go("peringatan")
    unlock = page.locator("#alarm-unlock")
    expect(unlock).to_have_text("Klik untuk mengaktifkan suara")
    expect(unlock).to_be_visible()
    unlock.click()
    expect(unlock).to_be_hidden()
    assert page.evaluate("window.__pantauAlarms.beeps") == 0
    page.click("#alarm-sound")
    expect(page.locator("#alarm-sound")).to_have_text("Suara mati")
    page.reload()
    expect(page.locator("#alarm-sound")).to_have_text("Suara mati")
    expect(unlock).to_be_hidden()  # muted: nothing to unlock
    admin = ui_server.api("admin")
    incident = _push_incident(ui_server, _camera(admin, _office(admin, KORUMBA)["id"], "loket"))
    expect(page.locator(f"article.alarm[data-id='{incident}']")).to_be_visible(timeout=6000)
    assert page.evaluate("window.__pantauAlarms.beeps") == 0


def test_alarm_outside_the_scope_never_reaches_the_camat(open_ui, ui_server: UiServer) -> None:
    admin = ui_server.api("admin")
    cam_in = _camera(admin, _office(admin, KORUMBA)["id"], "ruang pelayanan")
    cam_out = _camera(admin, _office(admin, KANDAI)["id"], "halaman")
    camat = open_ui("camat")
    page = camat.go("peringatan")
    expect(page.locator("#alarm-status")).to_be_hidden()
    outside = _push_incident(ui_server, cam_out)
    inside = _push_incident(ui_server, cam_in)
    expect(page.locator(f"article.alarm[data-id='{inside}']")).to_be_visible(timeout=6000)
    expect(page.locator(f"article.alarm[data-id='{outside}']")).to_have_count(0)
    with ui_server.runtime.sessions() as s:
        assert s.get(Incident, outside) is not None


# ---- Kepatuhan jam buka -----------------------------------------------------------------------

# Working days with observations per test office (1 440 rows each): Korumba's cover over half of
# the month's working days, so it is ranked; Kandai's do not ("data tidak cukup").
DAYS = {"korumba": 12, "kandai": 4}
OPENINGS = ["07.20", "07.28", "08.12", "07.25", "07.41", "07.18", "09.05", "07.30"]


def _previous_month() -> tuple[str, date, date]:
    first = date.today().replace(day=1)
    last = first - timedelta(days=1)
    return f"{last:%Y-%m}", last.replace(day=1), last


@pytest.fixture(scope="module")
def month_data(ui_server: UiServer) -> dict[str, Any]:
    """Two test offices (Korumba: the lurah's; Kandai: another kecamatan) with a camera each and
    observations on every working day of last month, opening at varied times."""
    admin = ui_server.api("admin")
    month, first, last = _previous_month()
    out: dict[str, Any] = {"month": month, "sites": {}, "days": {}}
    for key, kel in (("korumba", KORUMBA), ("kandai", KANDAI)):
        body = {"kind": "kantor_opd", "name": f"Kantor Uji {key.title()} {uuid.uuid4().hex[:4]}"}
        body["kelurahan_code"] = kel
        site = admin.post("/api/sites", json=body).json()
        cam = _camera(admin, site["id"], "ruang pelayanan")
        sched = admin.get(
            f"/api/sites/{site['id']}/schedule", params={"from": first, "to": last}
        ).json()
        working = [date.fromisoformat(d["date"]) for d in sched if d["working"]][: DAYS[key]]
        rows: list[dict[str, Any]] = []
        for i, day in enumerate(working):
            opening = OPENINGS[(i + (key == "kandai")) % len(OPENINGS)]
            rows += ObsDay(day, cameras=(cam,)).people(opening, "16.05").list()
        with transaction(ui_server.runtime.sessions) as s:
            s.execute(insert(Observation), rows)
            recompute_range(s, ui_server.runtime.settings, first, last, [site["id"]])
            if key == "korumba":  # as `pantau demo` marks its generated past: the first day
                row = s.get(Site, site["id"])
                row.history_simulated_until = datetime.combine(working[0], time(12), UTC)
        out["sites"][key] = site
        out["days"][key] = working
    return out


def _open(s: Session, route: str) -> Any:
    """Like Session.go, for the page's sub-routes (#/kepatuhan/bulan?...)."""
    s.page.goto(f"{s.base}/ui/#/{route}")
    s.page.wait_for_selector("section.page[data-page='kepatuhan']")
    return s.page


def _cell(page: Any, site_id: int, day: date) -> Any:
    return page.locator(f"#kp-heatmap rect.cell[data-site='{site_id}'][data-day='{day}']")


def test_month_heat_map_drill_down_and_correction(open_ui, month_data: dict[str, Any]) -> None:
    s = open_ui("admin")
    page = _open(s, f"kepatuhan/bulan?month={month_data['month']}")
    site = month_data["sites"]["korumba"]
    on_time, late = month_data["days"]["korumba"][0], month_data["days"]["korumba"][2]
    expect(_cell(page, site["id"], on_time)).to_have_attribute("data-status", "tepat_waktu")
    title = _cell(page, site["id"], on_time).locator("title").text_content()
    assert "jadwal 07.30 WITA" in title and "buka 07.20 WITA" in title, title
    expect(_cell(page, site["id"], late)).to_have_attribute("data-status", "terlambat")
    assert "terlambat 42 menit" in _cell(page, site["id"], late).locator("title").text_content()
    expect(page.locator("#kp-legend")).to_contain_text("Tepat waktu")
    expect(_cell(page, site["id"], on_time)).to_have_class(re.compile(r"\bsim\b"))
    expect(_cell(page, site["id"], late)).not_to_have_class(re.compile(r"\bsim\b"))
    expect(page.locator(".kp-sim-note")).to_contain_text("data simulasi")
    screenshot(page, "kepatuhan-bulan")

    _cell(page, site["id"], late).click()
    expect(page.locator("#kp-day-status")).to_have_text("Terlambat")
    expect(page.locator("#kp-day-reason")).to_contain_text("08.12 WITA")
    expect(page.locator("#kp-timeline path.people")).to_have_count(1)
    expect(page.locator(".kp-shot[data-which='first'] figcaption")).to_contain_text("08.12 WITA")
    expect(page.locator("#kp-no-corrections")).to_be_visible()

    page.select_option("#kp-correct-reason", "rapat_kantor_camat")
    page.fill("#kp-correct-note", "Undangan Camat No. 005/61")
    page.click("#kp-correct button[type=submit]")
    expect(page.locator("#kp-day-effective")).to_have_text("Dikoreksi (Rapat di kantor camat)")
    expect(page.locator("#kp-day-status")).to_have_text("Terlambat")  # the original stays
    expect(page.locator("#kp-corrections")).to_contain_text("Undangan Camat No. 005/61")
    page.evaluate("window.scrollTo(0, 0); document.querySelector('main').scrollTo(0, 0)")
    screenshot(page, "kepatuhan-hari")
    served = s.context.request.get(f"{s.base}/api/verdicts/{site['id']}/{late}?timeline=false")
    assert served.json()["correction"]["reason"] == "rapat_kantor_camat"
    assert served.json()["status"] == "terlambat"
    page.click("#kp-back")
    expect(_cell(page, site["id"], late)).to_have_attribute("data-status", "dikoreksi")


def test_report_downloads(open_ui, month_data: dict[str, Any]) -> None:
    s = open_ui("pimpinan")
    page = _open(s, f"kepatuhan/bulan?month={month_data['month']}")
    expect(page.locator("#kp-heatmap")).to_be_visible()
    name = month_data["sites"]["korumba"]["name"]
    with page.expect_download() as info:
        page.click("button.kp-dl[data-format='xlsx']")
    xlsx = info.value
    assert xlsx.suggested_filename == f"laporan-{month_data['month']}-kota.xlsx"
    book = load_workbook(io.BytesIO(Path(xlsx.path()).read_bytes()), read_only=True)
    cells = {
        str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row
    }
    assert name in cells
    expect(page.locator("#kp-dl-status")).to_contain_text("Terunduh")

    page.select_option("#kp-kec", "74.71.01")
    expect(page.locator("#kp-heatmap")).to_be_visible()
    with page.expect_download() as info:
        page.click("button.kp-dl[data-format='csv']")
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert "Kantor" in header and name in text
    assert month_data["sites"]["kandai"]["name"] not in text  # the kecamatan chosen above

    with page.expect_download() as info:
        page.click("button.kp-dl[data-format='pdf']")
        expect(page.locator("#kp-dl-status")).to_have_class(re.compile("busy|ok"))
    assert Path(info.value.path()).read_bytes()[:5] == b"%PDF-"


def test_rankings_and_today_respect_the_scope(open_ui, month_data: dict[str, Any]) -> None:
    s = open_ui("lurah")
    page = _open(s, f"kepatuhan/peringkat?month={month_data['month']}")
    table = page.locator("#kp-rank-table")
    expect(table).to_contain_text(month_data["sites"]["korumba"]["name"])
    expect(page.locator("#kp-ranking")).not_to_contain_text(month_data["sites"]["kandai"]["name"])
    admin = open_ui("admin")
    _open(admin, f"kepatuhan/peringkat?month={month_data['month']}")
    apart = admin.page.locator(".kp-insufficient")
    expect(apart).to_contain_text(month_data["sites"]["kandai"]["name"])
    page.click(".kp-tabs button[data-view='bulan']")
    expect(page.locator("#kp-heatmap")).to_be_visible()
    lurah_sites = s.context.request.get(f"{s.base}/api/compliance/month").json()["sites"]
    rows = page.locator("#kp-heatmap rect.cell[data-day$='-01']")
    expect(rows).to_have_count(len(lurah_sites))
    page.click(".kp-tabs button[data-view='hari-ini']")
    today = s.context.request.get(f"{s.base}/api/compliance/today").json()
    expect(page.locator("#kp-today-table tbody tr")).to_have_count(len(today["sites"]))
    assert all(x["kelurahan_code"] == KORUMBA for x in today["sites"])

    page = admin.go("kepatuhan")
    expect(page.locator(".kp-tile")).to_have_count(5)
    everyone = admin.context.request.get(f"{admin.base}/api/compliance/today").json()
    expect(page.locator("#kp-today-table tbody tr")).to_have_count(len(everyone["sites"]))
    total = sum(everyone["counts"].values())
    shown = sum(int(n) for n in page.locator(".kp-tile .n").all_text_contents())
    assert shown == total == len(everyone["sites"])
    screenshot(page, "kepatuhan")
