"""Peta and Kesehatan in real Chromium: 65 office markers on the city's own boundaries with a
legend that adds up, a marker and the legend following a site's connectivity, the popup and
its links, a camat's map of one kecamatan; cameras with their state and 30-day strips, the
"terpasang tapi belum terhubung" list and its CSV."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta
from time import sleep

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete, insert

from pantau.store.db import transaction
from pantau.store.models import CameraState, HealthSample, Observation, Segment
from pantau.store.types import utcnow
from tests.browser.conftest import Session, UiServer, screenshot

KADIA = "74.71.08.1001"
PUUWATU = "74.71.09.1001"
TOBUUHA = "74.71.09.1004"
# Tipulu, Wua Wua, Kambu, Nambo, Abeli, Baruga (cameras up), Bende, Watulondo (never seen).
LIVELY = [
    "74.71.05.1003",
    "74.71.07.1001",
    "74.71.10.1001",
    "74.71.11.1003",
    "74.71.06.1003",
    "74.71.03.1001",
    "74.71.08.1002",
    "74.71.09.1002",
]


def site_of(arranged: dict, code: str) -> dict:
    if "sites" not in arranged:
        arranged["sites"] = arranged["api"].get("/api/sites").json()
    offices = (s for s in arranged["sites"] if s["kelurahan_code"] == code)
    return min(offices, key=lambda s: s["id"])


@pytest.fixture
def arranged(ui_server: UiServer) -> Iterator[dict]:
    """Cameras and connectivity this test changes, put back afterwards (the server is shared)."""
    api = ui_server.api("admin")
    made: list[int] = []
    patched: dict[int, str] = {}

    def camera(site: int, **extra: object) -> int:
        body = {"site_id": site, "name": f"cam-{uuid.uuid4().hex[:6]}", "purpose": "pelayanan"}
        r = api.post("/api/cameras", json=body | {"main_stream": "rtsp://10.9.9.9/s"} | extra)
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
        return r.json()["id"]

    def connectivity(site: dict, value: str) -> None:
        patched.setdefault(site["id"], site["connectivity"])
        r = api.patch(f"/api/sites/{site['id']}", json={"connectivity": value})
        assert r.status_code == 200, r.text

    yield {"api": api, "camera": camera, "connectivity": connectivity}
    for cid in made:
        api.delete(f"/api/cameras/{cid}")
    for sid, value in patched.items():
        api.patch(f"/api/sites/{sid}", json={"connectivity": value})


def legend_counts(page: Page) -> dict[str, int]:
    items = page.locator("#peta-legend [data-count]")
    return {
        items.nth(i).get_attribute("data-count"): int(items.nth(i).inner_text())
        for i in range(items.count())
    }


def pin(page: Page, site_id: int):
    return page.locator(f".peta-pin span[data-site='{site_id}']")


def test_map_shows_every_office_and_follows_connectivity(
    open_ui, ui_server: UiServer, arranged: dict
) -> None:
    kadia = site_of(arranged, KADIA)
    s: Session = open_ui("operator")
    page = s.go("peta")
    expect(page.locator("main h1")).to_have_text("Peta kantor kelurahan")
    expect(page.locator(".peta-pin")).to_have_count(65)
    expect(page.locator("path.leaflet-interactive")).to_have_count(64)  # kelurahan polygons
    expect(page.locator(".peta-kec-label")).to_have_count(11)
    api_counts = arranged["api"].get("/api/overview/sites").json()["counts"]
    counts = legend_counts(page)
    assert counts == api_counts and sum(counts.values()) == 65
    expect(page.locator("#peta-total")).to_have_text("65 kantor")

    # A camera registered while the page is open: the live feed moves Kadia to "kamera mati".
    camera = arranged["camera"](kadia["id"])
    expect(pin(page, kadia["id"])).to_have_attribute("data-state", "camera_offline", timeout=20000)
    before = legend_counts(page)
    assert sum(before.values()) == 65 and before["camera_offline"] >= 1

    # The link goes down (no live event for that): the reload button shows it.
    arranged["connectivity"](kadia, "not_connected")
    page.click("#peta-refresh")
    expect(pin(page, kadia["id"])).to_have_attribute("data-state", "not_connected")
    after = legend_counts(page)
    assert after["camera_offline"] == before["camera_offline"] - 1
    assert after["not_connected"] == before["not_connected"] + 1
    assert sum(after.values()) == 65

    # The popup: state, reason, and the links to the wall, playback and today's verdict.
    pin(page, kadia["id"]).click()
    popup = page.locator(f".peta-popup[data-site='{kadia['id']}']")
    expect(popup.locator("h3")).to_have_text(kadia["name"])
    expect(popup.locator("[data-state]")).to_have_text("Belum terhubung")
    expect(popup).to_contain_text("Jaringan situs belum terhubung ke pusat")
    expect(popup.locator("a[data-link='wall']")).to_have_attribute(
        "href", f"#/dinding?site={kadia['id']}"
    )
    expect(popup.locator("a[data-link='playback']")).to_have_attribute(
        "href", f"#/putar?camera={camera}"
    )
    expect(popup.locator("a[data-link='verdict']")).to_have_attribute(
        "href", f"#/kepatuhan?site={kadia['id']}"
    )

    # Clicking a legend entry shows only that state; clicking it again shows all.
    page.click("#peta-legend [data-state='not_connected']")
    expect(page.locator(".peta-pin")).to_have_count(after["not_connected"])
    expect(page.locator("#peta-list li")).to_have_count(after["not_connected"])
    page.click("#peta-legend [data-state='not_connected']")
    expect(page.locator(".peta-pin")).to_have_count(65)

    # Search by a kelurahan name, spelling-forgiving, opens that office.
    page.fill("#peta-search", "kadia")
    page.click(f"#peta-results button[data-site='{kadia['id']}']")
    expect(popup).to_be_visible()

    # Working cameras at a few offices (open, not yet open or closed: the clock decides), people
    # at some, a never-seen camera at others: the markers say what the API says.
    rt, now = ui_server.runtime, utcnow()
    lively = [site_of(arranged, code) for code in LIVELY]
    for i, site in enumerate(lively):
        cam = arranged["camera"](site["id"])
        if i >= 6:
            continue  # never seen: kamera mati
        with transaction(rt.sessions) as db:
            db.add(
                CameraState(
                    camera_id=cam,
                    state="online",
                    since=now - timedelta(hours=3),
                    last_packet_at=now,
                    updated_at=now + timedelta(minutes=10),  # stays fresh during the test
                )
            )
            if i % 2 == 0:
                minute = now.replace(second=0, microsecond=0)
                db.add(Observation(camera_id=cam, minute=minute, people_max=i + 1, samples=6))
    page.reload()
    expect(page.locator(".peta-pin")).to_have_count(65)
    expect(page.locator("#peta-results")).to_be_hidden()
    body = arranged["api"].get("/api/overview/sites").json()
    states = {s["id"]: s for s in body["sites"]}
    for site in lively:
        expect(pin(page, site["id"])).to_have_attribute("data-state", states[site["id"]]["state"])
    expect(pin(page, lively[2]["id"])).to_have_text("3")  # three people now
    assert legend_counts(page) == body["counts"]
    page.click("#peta-legend [data-state='camera_offline']")
    page.click("#peta-legend [data-state='camera_offline']")
    pin(page, lively[2]["id"]).click()
    rich = page.locator(f".peta-popup[data-site='{lively[2]['id']}']")
    expect(rich).to_contain_text("3 (menit")
    page.mouse.move(1, 300)  # no hover tooltip in the picture
    page.wait_for_timeout(500)  # the popup's fade and the map's pan
    screenshot(page, "peta")


def test_camat_map_shows_their_kecamatan_only(open_ui) -> None:
    s = open_ui("camat", lang="en")
    page = s.go("peta")
    expect(page.locator(".peta-pin")).to_have_count(6)
    expect(page.locator("#peta-total")).to_have_text("Offices: 6")
    assert sum(legend_counts(page).values()) == 6
    expect(page.locator("#peta-legend [data-state='open'] .label")).to_have_text("Open")


def test_health_lists_cameras_strips_and_the_not_connected_offices(
    open_ui, ui_server: UiServer, arranged: dict
) -> None:
    puuwatu, tobuuha = site_of(arranged, PUUWATU), site_of(arranged, TOBUUHA)
    healthy = arranged["camera"](puuwatu["id"])
    silent = arranged["camera"](puuwatu["id"])
    off = arranged["camera"](puuwatu["id"], enabled=False)
    arranged["connectivity"](tobuuha, "not_connected")
    now = utcnow().replace(second=0, microsecond=0)
    if (now + timedelta(hours=8)).hour == 0 and (now + timedelta(hours=8)).minute < 1:
        sleep(61)  # today's cell needs one finished minute of today to have a share at all
        now += timedelta(minutes=1)
    start = now - timedelta(hours=50)
    rt = ui_server.runtime
    with transaction(rt.sessions) as db:
        db.add(
            CameraState(
                camera_id=healthy,
                state="online",
                since=start,
                last_packet_at=utcnow(),
                updated_at=utcnow() + timedelta(minutes=10),  # stays fresh during the test
            )
        )
        db.execute(
            insert(HealthSample),
            [
                {
                    "camera_id": healthy,
                    "minute": start + timedelta(minutes=i),
                    "state": "online",
                    "online_seconds": 60.0,
                }
                for i in range(50 * 60 + 10)  # the page counts only finished minutes
            ],
        )
        db.execute(
            insert(Segment),
            [
                {
                    "camera_id": healthy,
                    "start": start + timedelta(seconds=10 * i),
                    "end": start + timedelta(seconds=10 * (i + 1)),
                    "path": f"x/{i}.ts",
                    "bytes": 1000,
                }
                for i in range(50 * 360)
                if i % 4  # three segments of four: 75 % recorded
            ],
        )
    try:
        s = open_ui("pimpinan")
        page = s.go("kesehatan")
        expect(page.locator("main h1")).to_have_text("Kesehatan kamera dan situs")
        row = page.locator(f"tr[data-camera='{healthy}']")
        expect(row.locator(".state")).to_have_text("Daring")
        expect(page.locator(f"tr[data-camera='{silent}'] .state")).to_have_text("Mati")
        expect(page.locator(f"tr[data-camera='{silent}']")).to_contain_text("belum pernah")
        expect(page.locator(f"tr[data-camera='{off}'] .state")).to_have_text("Nonaktif")
        expect(page.locator(f"tr[data-camera='{off}'] td.spans").first).to_contain_text("—")
        strip = row.locator("svg.strip g")
        expect(strip).to_have_count(30)
        top = row.locator("svg.strip g rect:first-child")
        bottom = row.locator("svg.strip g rect:last-child")
        # Installed 50 hours ago: the last three local days have cells, the rest are empty.
        assert [top.nth(i).get_attribute("class") for i in range(27, 30)] == ["cell up-ok"] * 3
        assert top.nth(0).get_attribute("class") == "cell up-none"
        assert bottom.nth(28).get_attribute("class") == "cell up-late"  # 75 % recorded
        expect(row.locator("td.spans").first).to_contain_text("100,0 %")

        missing = page.locator("#kesehatan-missing")
        expect(missing.locator(f"tr[data-site='{tobuuha['id']}']")).to_have_attribute(
            "data-reason", "link_down"
        )
        expect(missing.locator(f"tr[data-site='{puuwatu['id']}']")).to_contain_text(
            "1 dari 3 kamera belum pernah mengirim gambar"  # a disabled one is not missing
        )
        screenshot(page, "kesehatan")

        with page.expect_download() as info:
            page.click("#kesehatan-csv")
        text = info.value.path().read_text(encoding="utf-8-sig")
        rows = {r["kantor"]: r for r in csv.DictReader(io.StringIO(text))}
        assert rows[tobuuha["name"]]["konektivitas"] == "not_connected"
        assert rows[puuwatu["name"]]["kamera_belum_pernah_terlihat"] == "1"

        page.fill("#kesehatan-search", "tidak-ada-kamera-begini")
        expect(page.locator("#kesehatan-cameras tbody tr")).to_have_count(0)
    finally:
        with transaction(rt.sessions) as db:
            for table in (HealthSample, Segment, CameraState):
                db.execute(delete(table).where(table.camera_id == healthy))
