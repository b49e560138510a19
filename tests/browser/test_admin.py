"""The Admin page in a real browser: a camera against a real RTSP server (snapshot and exact
errors), zones drawn with the mouse, GeoJSON uploads, calendars, users, the audit log, and
the refusal of every other role."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.browser.conftest import Session, UiServer, screenshot
from tests.support.rtsp import RtspServer

SECRET = "Rahasia#9"


def uid() -> str:
    return uuid.uuid4().hex[:6]


def open_tab(s: Session, tab: str) -> Page:
    s.page.goto(f"{s.base}/ui/#/admin/{tab}")
    body = f".page-admin .admin-body[data-tab='{tab.split('/')[0]}'][data-ready='true']"
    expect(s.page.locator(body)).to_be_visible(timeout=20_000)  # the tab loaded its data
    return s.page


def click_at(page: Page, selector: str, fx: float, fy: float) -> None:
    box = page.locator(selector).bounding_box()
    assert box, selector
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


def test_camera_connection_test_and_zones_on_its_snapshot(
    open_ui, ui_server: UiServer, rtsp_server: Callable[..., RtspServer]
) -> None:
    server = rtsp_server(user="admin", password=SECRET)
    s = open_ui("admin")
    page = open_tab(s, "kamera")
    name = f"Ruang pelayanan {uid()}"
    page.click("#cam-new")
    page.fill("#cam-name", name)
    page.fill("#cam-purpose", "keamanan pelayanan")
    page.fill("#cam-url", server.url("cam1"))
    page.fill("#cam-user", "admin")
    page.fill("#cam-password", SECRET)
    page.click("#cam-save")
    expect(page.locator("#cam-form h2")).to_contain_text(name)
    api = ui_server.api("admin")
    cam = next(c for c in api.get("/api/cameras").json() if c["name"] == name)
    assert cam["has_password"] and cam["username"] == "admin"

    page.click("#cam-test")
    expect(page.locator("#test-snapshot")).to_be_visible(timeout=15_000)
    width = page.eval_on_selector("#test-snapshot", "img => img.naturalWidth")
    assert width == 1280
    expect(page.locator("#test-result figcaption")).to_contain_text("H264 · 1280×720")
    row = page.locator(f"#cam-table tr[data-camera='{cam['id']}']")
    expect(row).to_contain_text(name)
    row.locator("button[data-action='test']").click()  # the same test from the list
    expect(page.locator(".admin-side h2")).to_have_text(f"Tes koneksi: {name}")
    expect(page.locator("#test-snapshot")).to_be_visible(timeout=15_000)
    screenshot(page, "admin")
    row.locator("button", has_text="Ubah").click()

    page.fill("#cam-url", server.url("salah-jalur"))
    page.click("#cam-test")
    failed = page.locator("#test-result[data-ok='false']")
    expect(failed).to_have_attribute("data-error", "not_found", timeout=15_000)
    expect(failed.locator(".test-error-title")).to_have_text("Stream tidak ditemukan di alamat ini")
    expect(failed.locator(".test-error-message")).to_contain_text(
        "the camera has no stream at this path (404)"
    )
    page.fill("#cam-url", server.url("cam1"))
    page.fill("#cam-password", "sandi-keliru")
    page.click("#cam-test")
    expect(page.locator("#test-result .test-error-title")).to_have_text(
        "Login ditolak kamera (nama pengguna/kata sandi salah)", timeout=15_000
    )
    assert (
        SECRET not in page.content()
        and "sandi-keliru" not in page.locator("#test-result").inner_text()
    )

    # Zones on the camera's own picture: a 4-point zone, a mask, a refused 2-point zone.
    page = open_tab(s, f"zona/{cam['id']}")
    expect(page.locator("#zone-picture-ok")).to_contain_text("1280×720", timeout=15_000)
    page.click("#zone-new")
    corners = [(0.1, 0.2), (0.6, 0.2), (0.6, 0.9), (0.1, 0.9)]
    for fx, fy in corners:
        click_at(page, "#zone-svg", fx, fy)
    click_at(page, "#zone-svg", *corners[0])  # the first point closes the polygon
    expect(page.locator("#zone-message")).to_contain_text("ditutup (4 titik)")
    page.click("#mask-new")
    for fx, fy in [(0.8, 0.05), (0.95, 0.05), (0.95, 0.25)]:
        click_at(page, "#zone-svg", fx, fy)
    page.keyboard.press("Enter")
    page.click("#zone-save")
    expect(page.locator("#zone-message")).to_contain_text("Tersimpan: 1 zona, 1 masker")
    stored = api.get(f"/api/cameras/{cam['id']}/zones").json()
    assert [z["name"] for z in stored["zones"]] == ["area layanan"]
    points = stored["zones"][0]["points"]
    assert len(points) == 4
    for (x, y), (fx, fy) in zip(points, corners, strict=True):
        assert abs(x - fx) < 0.01 and abs(y - fy) < 0.01, points
    assert stored["masks"][0]["name"] == "masker 1" and len(stored["masks"][0]["points"]) == 3

    # Drag the zone's first point, then save: the API has the moved point.
    page.locator(".zone-row[data-index='0'] button", has_text="Ubah").click()
    expect(page.locator("#zone-message")).to_contain_text("Mengubah «area layanan»")
    handle = page.locator("#zone-svg circle.handle[data-point='0']")
    hb = handle.bounding_box()
    svg = page.locator("#zone-svg").bounding_box()
    assert hb and svg
    page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    page.mouse.down()
    page.mouse.move(svg["x"] + 0.2 * svg["width"], svg["y"] + 0.3 * svg["height"], steps=5)
    page.mouse.up()
    page.click("#zone-save")
    expect(page.locator("#zone-message")).to_contain_text("Tersimpan")
    moved = api.get(f"/api/cameras/{cam['id']}/zones").json()["zones"][0]["points"][0]
    assert abs(moved[0] - 0.2) < 0.01 and abs(moved[1] - 0.3) < 0.01, moved

    page.click("#zone-new")
    click_at(page, "#zone-svg", 0.7, 0.5)
    click_at(page, "#zone-svg", 0.9, 0.6)
    page.click("#zone-save")
    expect(page.locator("#zone-message")).to_contain_text(
        "Zona «pintu» ditolak: perlu minimal tiga titik (baru 2)."
    )
    assert len(api.get(f"/api/cameras/{cam['id']}/zones").json()["zones"]) == 1
    click_at(page, "#zone-svg", 0.8, 0.9)
    page.keyboard.press("Enter")
    expect(page.locator(".zone-row")).to_have_count(3)
    screenshot(page, "admin-zona")
    page.click("#zone-revert")
    expect(page.locator(".zone-row")).to_have_count(2)

    page = open_tab(s, "audit")
    page.fill("#audit-action", "camera.")
    page.fill("#audit-actor", "admin")
    page.click("#audit-apply")
    for action in ("camera.create", "camera.test", "camera.zones.update"):
        expect(page.locator(f"#audit-table tr[data-action='{action}']").first).to_be_visible()


def geojson(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def point(name: str | None, lon: float, lat: float) -> dict:
    props = {"name": name} if name else {"keterangan": "tanpa nama"}
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def test_sites_geojson_upload_refused_then_imported_and_a_site_edited(
    open_ui, ui_server: UiServer
) -> None:
    s = open_ui("admin")
    s.console.allow("422")  # the refused uploads below are answered 422 on purpose
    page = open_tab(s, "lokasi")
    expect(page.locator("#site-table tbody tr")).to_have_count(
        len(ui_server.api("admin").get("/api/sites").json())
    )
    api = ui_server.api("admin")
    before = len(api.get("/api/sites").json())
    upload = {"name": "taman.geojson", "mimeType": "application/geo+json"}
    page.set_input_files(
        "#site-import-file", files=[upload | {"buffer": b"nama;lat;lon\nTaman;1;2"}]
    )
    refused = page.locator("#import-result .error-box")
    expect(refused).to_contain_text("Berkas ditolak — tidak ada yang diimpor")
    expect(refused).to_contain_text("not GeoJSON: not JSON (line 1, column 1")
    tag = uid()
    bad = geojson(point(f"Taman {tag}", 122.5136, -3.9673), point(None, 122.51, -3.96))
    page.set_input_files("#site-import-file", files=[upload | {"buffer": bad}])
    expect(page.locator("#import-result .error-box")).to_contain_text(
        "features[1].properties: missing property 'name'"
    )
    assert len(api.get("/api/sites").json()) == before

    good = geojson(point(f"Taman {tag}", 122.5136, -3.9673), point(f"Pantai {tag}", 122.60, -4.0))
    page.set_input_files("#site-import-file", files=[upload | {"buffer": good}])
    expect(page.locator("#import-result table tbody tr")).to_have_count(2)
    expect(page.locator("#import-result")).to_contain_text("Mandonga")
    assert len(api.get("/api/sites").json()) == before  # a preview stores nothing
    page.click("#import-confirm")
    expect(page.locator("#import-done")).to_have_text("2 lokasi diimpor.")
    sites = {x["name"]: x for x in api.get("/api/sites", params={"q": tag}).json()}
    assert set(sites) == {f"Taman {tag}", f"Pantai {tag}"}
    assert sites[f"Taman {tag}"]["kelurahan_code"] == "74.71.01.1005"

    # Edit the imported site: connectivity and a guard's round.
    page.fill("#site-search", tag)
    row = page.locator(f"#site-table tr[data-site='{sites[f'Taman {tag}']['id']}']")
    expect(page.locator("#site-table tbody tr")).to_have_count(2)
    row.locator("button", has_text="Ubah").click()
    page.select_option("#site-form select[name='connectivity']", "connected")
    page.click("#site-save")
    expect(row).to_contain_text("Terhubung")
    expect(page.locator("#site-margins")).to_contain_text(
        "90 menit sebelum jam buka dan 60 menit setelah jam tutup"
    )
    page.click("#site-windows button:has-text('+ Jendela')")
    page.locator("#site-windows .window-row input.time").nth(0).fill("21.45")
    page.locator("#site-windows .window-row input.time").nth(1).fill("22.15")
    page.locator("#site-windows .window-row input.note").fill("ronda satpam")
    page.click("#site-windows button:has-text('Simpan jendela')")
    expect(page.locator("#toasts")).to_contain_text("Jendela diizinkan tersimpan.")
    windows = api.get(f"/api/sites/{sites[f'Taman {tag}']['id']}/allowed-windows").json()
    assert windows["windows"] == [
        {"days": None, "from": "21.45", "to": "22.15", "note": "ronda satpam"}
    ]
    assert (
        api.get(f"/api/sites/{sites[f'Taman {tag}']['id']}").json()["connectivity"] == "connected"
    )


def test_site_calendar_rule_changes_the_schedule(open_ui, ui_server: UiServer) -> None:
    api = ui_server.api("admin")
    city = next(c for c in api.get("/api/calendars").json() if c["parent_id"] is None)
    cal = api.post(
        "/api/calendars", json={"name": f"Kalender uji {uid()}", "parent_id": city["id"]}
    ).json()
    site = api.post(
        "/api/sites",
        json={
            "kind": "kantor_opd",
            "name": f"Dinas {uid()}",
            "kecamatan_code": "74.71.02",
            "calendar_id": cal["id"],
        },
    ).json()
    today = date.fromisoformat(api.get("/api/health").json()["time_local"][:10])
    window = {"from": str(today + timedelta(days=1)), "to": str(today + timedelta(days=13))}
    days = api.get(f"/api/sites/{site['id']}/schedule", params=window).json()
    workday = next(d for d in days if d["working"])["date"]
    s = open_ui("admin")
    page = open_tab(s, "kalender")
    page.click(f"button[data-calendar='{cal['id']}']")
    expect(page.locator("#cal-site")).to_have_value(str(site["id"]))
    cell = page.locator(f"#schedule-strip .day[data-date='{workday}']")
    expect(cell).to_have_class(re.compile(r"\bworking\b"))
    page.select_option("#rule-kind", "closure")
    page.fill("#rule-start", workday)
    page.fill("#rule-end", workday)
    page.fill("#rule-reason", "Renovasi ruang pelayanan")
    page.click("#rule-add")
    expect(cell).to_have_class(re.compile(r"\boff\b"))
    expect(cell).to_contain_text("libur")
    expect(page.locator("#cal-rules tbody tr")).to_contain_text("Renovasi ruang pelayanan")
    rules = api.get(f"/api/calendars/{cal['id']}").json()["rules"]
    assert [(r["kind"], r["start_date"]) for r in rules] == [("closure", workday)]
    delete = page.locator("#cal-rules tbody tr button.danger")
    delete.click()
    delete.click()
    expect(cell).to_have_class(re.compile(r"\bworking\b"))
    assert api.get(f"/api/calendars/{cal['id']}").json()["rules"] == []


def test_create_a_user_and_the_audit_log_shows_it(open_ui, ui_server: UiServer) -> None:
    lurah = ui_server.api("lurah")
    assert lurah.get("/api/audit/page").status_code == 403  # a refusal for the log to show
    s = open_ui("admin")
    page = open_tab(s, "pengguna")
    username = f"lurah.{uid()}"
    page.click("#user-new")
    page.fill("#user-username", username)
    page.fill("#user-full-name", "Lurah Uji")
    page.select_option("#user-role", "lurah")
    page.select_option("#user-scope", "74.71.01.1006")
    page.fill("#user-password", "sandi-lurah-2026")
    page.click("#user-save")
    row = page.locator(f"#user-table tr[data-user='{username}']")
    expect(row).to_contain_text("Korumba (74.71.01.1006)")
    api = ui_server.api("admin")
    user = next(u for u in api.get("/api/users").json() if u["username"] == username)
    assert (user["role"], user["scope_code"], user["active"]) == ("lurah", "74.71.01.1006", True)
    row.locator("button[data-action='toggle']").click()
    expect(row.locator(".state")).to_have_text("Nonaktif")
    assert not next(u for u in api.get("/api/users").json() if u["username"] == username)["active"]

    page = open_tab(s, "audit")
    page.fill("#audit-action", "user.")
    page.click("#audit-apply")
    created = page.locator("#audit-table tr[data-action='user.create']", has_text=username)
    expect(created.first).to_be_visible()
    expect(page.locator("#audit-table tr[data-action='user.update']").first).to_contain_text(
        "active: false"
    )
    page.click("button:has-text('Akses ditolak')")
    expect(page.locator("#audit-table tr.denied", has_text="lurah").first).to_be_visible()
    expect(page.locator("#audit-range")).to_have_text(re.compile(r"^1–\d+ dari \d+$"))


def test_other_roles_are_refused_admin_in_page_and_api(open_ui, ui_server: UiServer) -> None:
    for role in ("lurah", "operator"):
        s = open_ui(role)
        s.page.goto(f"{s.base}/ui/#/admin/kamera")
        expect(s.page.locator("main h1")).to_have_text("Halaman ini bukan untuk peran Anda")
        expect(s.page.locator("nav.side a[data-page='admin']")).to_have_count(0)
        api = ui_server.api(role)
        assert (
            api.post("/api/cameras/test", json={"url": "rtsp://127.0.0.1:9/x"}).status_code == 403
        )
        assert api.post("/api/sites/import", json={"type": "FeatureCollection"}).status_code == 403
        assert api.get("/api/audit/page").status_code == 403
        assert api.get("/api/users").status_code == 403
