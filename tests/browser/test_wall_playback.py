"""Dinding video and Putar ulang in real Chromium: tiles with decoded thumbnails, a live MJPEG
view that is audited and ends when closed, and playback of a real recording with hls.js,
scrubbing on the timeline and a clip export with its SHA-256."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pantau.media.snapshot import write_latest
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import AuditEntry, CameraState, Incident, Observation
from pantau.store.types import utcnow
from tests.browser.conftest import Session, UiServer, screenshot
from tests.conftest import PASSWORD
from tests.support.media import make_clip
from tests.test_playback import KANDAI, KORUMBA, add_recording, site_id, ts_segments

WITA = timedelta(hours=8)


def frame(text: str, color: tuple[int, int, int]) -> np.ndarray:
    """A 1280x720 BGR picture with a label, like a camera's analytics frame."""
    img = np.zeros((720, 1280, 3), np.uint8)
    img[:] = color
    cv2.rectangle(img, (80, 80), (1200, 640), (255, 255, 255), 6)
    cv2.putText(img, text, (140, 400), cv2.FONT_HERSHEY_SIMPLEX, 4, (255, 255, 255), 10)
    return img


_ADMIN: dict[str, httpx.Client] = {}


def admin(ui: UiServer) -> httpx.Client:
    """One logged-in admin client (a login costs a password hash, ~1 s on a busy machine)."""
    if ui.url not in _ADMIN:
        _ADMIN[ui.url] = ui.api("admin")
    return _ADMIN[ui.url]


def new_camera(ui: UiServer, site: int, name: str) -> int:
    body = {
        "site_id": site,
        "name": name,
        "purpose": "keamanan",
        "main_stream": "rtsp://10.9.9.9/s",
    }
    r = admin(ui).post("/api/cameras", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def set_state(rt: Runtime, camera_id: int, state: str, since: datetime) -> None:
    with transaction(rt.sessions) as s:
        s.merge(
            CameraState(
                camera_id=camera_id,
                state=state,
                reason=None if state == "online" else "RTSP timeout",
                reason_code=None if state == "online" else "timeout",
                since=since,
                updated_at=utcnow() + timedelta(minutes=10),  # stays "fresh" during the test
            )
        )


def observe(
    rt: Runtime, camera_id: int, minute: datetime, people: int, lights: bool, source: str = "live"
) -> None:
    with transaction(rt.sessions) as s:
        s.merge(
            Observation(
                camera_id=camera_id,
                minute=minute,
                people_max=people,
                people_mean=people * 0.8,
                lights_on=lights,
                coverage_seconds=60,
                samples=60,
                source=source,
            )
        )


@pytest.fixture(scope="module")
def wall(ui_server: UiServer) -> dict[str, Any]:
    rt = ui_server.runtime
    tag = uuid.uuid4().hex[:4]
    office = site_id(rt, KORUMBA)
    body = {"kind": "ruang_publik", "name": f"Taman Kota {tag}", "kelurahan_code": KORUMBA}
    park = admin(ui_server).post("/api/sites", json=body).json()["id"]
    cams = {
        "lobby": new_camera(ui_server, office, f"Lobi {tag}"),
        "desk": new_camera(ui_server, office, f"Loket {tag}"),
        "park": new_camera(ui_server, park, f"Taman {tag}"),
    }
    now = utcnow()
    minute = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
    down_since = (now - timedelta(hours=1, minutes=13)).replace(second=0, microsecond=0)
    write_latest(rt.settings.snapshots_dir, cams["lobby"], frame("LOBI", (120, 60, 20)))
    write_latest(rt.settings.snapshots_dir, cams["park"], frame("TAMAN", (20, 100, 20)))
    write_latest(rt.settings.snapshots_dir, cams["desk"], frame("LOKET", (40, 40, 120)))
    set_state(rt, cams["lobby"], "online", now - timedelta(hours=3))
    set_state(rt, cams["park"], "online", now - timedelta(hours=3))
    set_state(rt, cams["desk"], "offline", down_since)
    observe(rt, cams["lobby"], minute, 3, True)
    observe(rt, cams["park"], minute, 7, False, source="sim")
    local = down_since + WITA
    # Down since yesterday (a run just after midnight WITA) names the day before the time.
    day = "" if local.date() == (utcnow() + WITA).date() else rf"{local.day} \w+ "
    note = re.compile(rf"^Mati sejak {day}{local:%H\.%M} WITA$")
    return {"cams": cams, "tag": tag, "down_note": note}


def tile(page: Any, camera_id: int) -> Any:
    return page.locator(f".tile[data-camera='{camera_id}']")


def natural_width(page: Any, selector: str) -> int:
    return page.eval_on_selector(selector, "img => img.complete ? img.naturalWidth : 0")


def audits(rt: Runtime, action: str, after: int) -> list[AuditEntry]:
    with rt.sessions() as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.action == action, AuditEntry.id > after))
        )


def last_audit(rt: Runtime) -> int:
    with rt.sessions() as s:
        return max(s.scalars(select(AuditEntry.id)).all(), default=0)


def test_wall_tiles_groups_tour_and_live_view(open_ui, ui_server: UiServer, wall) -> None:
    cams = wall["cams"]
    s: Session = open_ui("operator")
    page = s.page
    wanted = '{"layout": 3, "group": "kind:ruang_publik", "tourSeconds": 15}'
    page.add_init_script(f"localStorage.setItem('pantau.wall', '{wanted}')")
    s.go("dinding")
    expect(page.locator("main h1")).to_have_text("Dinding video")
    # The group of public spaces shows only the park camera, with its decoded thumbnail.
    expect(page.locator("#wall-group")).to_have_value("kind:ruang_publik")
    expect(tile(page, cams["park"])).to_be_visible()
    expect(tile(page, cams["lobby"])).to_have_count(0)
    expect(tile(page, cams["park"]).locator(".sim-mark")).to_have_text("data simulasi")
    page.wait_for_function(
        f"document.querySelector(\".tile[data-camera='{cams['park']}'] img\").naturalWidth > 0"
    )
    # Kecamatan Mandonga: both office cameras; people count, lights, offline since when.
    page.select_option("#wall-group", "kecamatan:74.71.01")
    lobby, desk = tile(page, cams["lobby"]), tile(page, cams["desk"])
    expect(lobby.locator(".tile-site")).to_have_text(f"Lobi {wall['tag']}")
    expect(lobby.locator(".tile-name")).to_have_text("Kantor Kelurahan Korumba")
    expect(lobby.locator(".sim-mark")).to_be_hidden()
    expect(lobby.locator(".tile-people")).to_have_text("3")
    expect(lobby.locator(".tile-lights.on")).to_have_count(1)
    expect(lobby.locator(".state")).to_have_text("Daring")
    expect(desk.locator(".state")).to_have_text("Mati")
    expect(desk.locator(".tile-note")).to_have_text(wall["down_note"])
    selector = f".tile[data-camera='{cams['lobby']}'] img"
    page.wait_for_function(f'document.querySelector("{selector}").naturalWidth > 0')
    # The thumbnail is the small one (tile width), not the 1280 px frame.
    width = natural_width(page, selector)
    assert 160 <= width <= 960, width
    # A new frame appears within a refresh period (the wall refreshes visible tiles only).
    first = page.eval_on_selector(selector, "img => img.src")
    write_latest(
        ui_server.runtime.settings.snapshots_dir, cams["lobby"], frame("BARU", (0, 0, 160))
    )
    page.wait_for_function(f'document.querySelector("{selector}").src !== {first!r}', timeout=10000)
    # Layouts: 2x2 has four cells.
    page.click("button[data-layout='2']")
    expect(page.locator("#wall .tile")).to_have_count(4)
    screenshot(page, "dinding")
    # Tour: 5 s per page moves on to the next group by itself; pause stops it.
    page.fill("#wall-tour-seconds", "5")
    page.locator("#wall-tour-seconds").dispatch_event("change")
    before = page.input_value("#wall-group")
    page.click("#wall-tour")
    expect(page.locator("#wall-group")).not_to_have_value(before, timeout=9000)
    page.click("#wall-tour")
    expect(page.locator("#wall-tour")).to_contain_text("Tur")
    # Live view of the lobby camera: an MJPEG stream decoded in an <img>, audited once.
    page.select_option("#wall-group", "kecamatan:74.71.01")
    after = last_audit(ui_server.runtime)
    tile(page, cams["lobby"]).click()
    expect(page.locator("#live-view")).to_be_visible()
    page.wait_for_function("document.querySelector('#live-img').naturalWidth === 1280")
    rows = audits(ui_server.runtime, "recording.live", after)
    assert [(r.actor, r.object_id) for r in rows] == [("operator", str(cams["lobby"]))]
    views = ui_server.server.config.app.state.live_views
    assert views.get(cams["lobby"]) == 1
    page.click("#live-close")
    expect(page.locator("#live-view")).to_have_count(0)
    deadline = time.monotonic() + 10
    while views.get(cams["lobby"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert views.get(cams["lobby"]) == 0, "the stream must end when the viewer goes away"


def test_wall_refreshes_visible_tiles_only_a_few_at_a_time(
    open_ui, ui_server: UiServer, wall
) -> None:
    """22 public-space cameras on an 8x8 wall: at most 3 thumbnail requests at once; on 2x2,
    only the 4 cameras on screen are asked for."""
    rt = ui_server.runtime
    park_site = admin(ui_server).get(f"/api/cameras/{wall['cams']['park']}").json()["site_id"]
    extra = [new_camera(ui_server, park_site, f"Taman {wall['tag']}-{i:02d}") for i in range(21)]
    for i, cam in enumerate(extra):
        write_latest(rt.settings.snapshots_dir, cam, frame(f"T{i:02d}", (30, 90 + i * 5, 30)))
        set_state(rt, cam, "online", utcnow() - timedelta(hours=1))
    s: Session = open_ui("operator")
    page = s.page
    busy: dict[str, int] = {"now": 0, "max": 0}
    asked: list[str] = []

    def started(request: Any) -> None:
        if "/thumb.jpg" in request.url:
            asked.append(request.url)
            busy["now"] += 1
            busy["max"] = max(busy["max"], busy["now"])

    def ended(request: Any) -> None:
        if "/thumb.jpg" in request.url:
            busy["now"] -= 1

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    wanted = '{"layout": 8, "group": "kind:ruang_publik", "tourSeconds": 15}'
    page.add_init_script(f"localStorage.setItem('pantau.wall', '{wanted}')")
    s.go("dinding")
    expect(page.locator("#wall .tile[data-camera]")).to_have_count(22)
    page.wait_for_function(
        "[...document.querySelectorAll('#wall .tile[data-camera] img')]"
        ".every(img => img.naturalWidth > 0)",
        timeout=30000,
    )
    assert len(asked) >= 22 and busy["max"] <= 3, (len(asked), busy)
    page.click("button[data-layout='2']")
    shown = {
        int(x)
        for x in page.eval_on_selector_all(
            "#wall .tile[data-camera]", "els => els.map(e => e.dataset.camera)"
        )
    }
    assert len(shown) == 4
    asked.clear()
    page.wait_for_timeout(4000)
    cams = {int(re.search(r"/cameras/(\d+)/thumb", url).group(1)) for url in asked}
    assert asked and cams <= shown, (cams, shown)


def test_wall_is_scoped_and_explains_an_empty_area(open_ui, ui_server: UiServer, wall) -> None:
    camat = open_ui("camat", lang="en")
    camat.go("dinding")
    expect(camat.page.locator("main h1")).to_have_text("Video wall")
    expect(camat.page.locator("#wall-summary")).to_contain_text("cameras")
    options = camat.page.locator("#wall-group option").all_inner_texts()
    assert any(o.startswith("Kec. Mandonga") for o in options), options
    assert any(o.startswith("Public spaces") for o in options), options
    assert not [o for o in options if o.startswith("Kec.") and "Mandonga" not in o], options
    # A lurah of a kelurahan without cameras gets an explanation, not an empty grid.
    name = f"lurah-{uuid.uuid4().hex[:6]}"
    body = {"username": name, "password": PASSWORD, "role": "lurah", "scope_code": KANDAI}
    assert admin(ui_server).post("/api/users", json=body).status_code == 201
    lurah = open_ui(name)
    lurah.go("dinding")
    expect(lurah.page.locator("#wall-empty h2")).to_have_text("Belum ada kamera di wilayah Anda")
    expect(lurah.page.locator("#wall-summary")).to_have_text("0 kamera · 0 daring · 0 mati")


# --- Putar ulang ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(ui_server: UiServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A Korumba camera with 3 x 2 s of real H.264 (a 6 s gap after 4 s), people and lights
    for the minutes around it, and an intrusion incident in the middle."""
    rt = ui_server.runtime
    media = tmp_path_factory.mktemp("putar-media")
    clip = make_clip(media / "clip.mp4", seconds=6, size="640x360")
    cam = new_camera(ui_server, site_id(rt, KORUMBA), f"Arsip {uuid.uuid4().hex[:4]}")
    t0 = (utcnow() - timedelta(hours=2)).replace(microsecond=0)
    rec = add_recording(rt, cam, ts_segments(clip, media), t0)
    base = t0.replace(second=0)
    for i in range(-20, 21):
        source = "sim" if i < -15 else "live"  # as pantau demo leaves a live camera's past
        observe(rt, cam, base + timedelta(minutes=i), max(0, 4 - abs(i) // 5), i > -10, source)
    incident = Incident(
        id=uuid.uuid4().hex[:20],
        camera_id=cam,
        kind="intrusion",
        start=base - timedelta(minutes=5),
        end=base - timedelta(minutes=2),
        detail={"people_max": 2},
    )
    with transaction(rt.sessions) as s:
        s.add(incident)
    return {"cam": cam, "t0": t0, "end": rec.end, "incident": incident.id}


def local_clock(at: datetime) -> str:
    return f"{(at + WITA):%H.%M.%S} WITA"


def x_of(page: Any, at: datetime) -> float:
    """The timeline's x for a moment, from the ruler's own view range (data-from, data-to)."""
    return page.evaluate(
        """(ms) => {
            const svg = document.querySelector('#putar-timeline');
            const from = Number(svg.dataset.from), to = Number(svg.dataset.to);
            const label = Number(svg.dataset.label), w = svg.getBoundingClientRect().width;
            return label + ((ms - from) / (to - from)) * (w - label - 8);
        }""",
        at.timestamp() * 1000,
    )


def test_playback_timeline_scrub_play_and_export(open_ui, ui_server: UiServer, recorded) -> None:
    cam, t0 = recorded["cam"], recorded["t0"]
    s: Session = open_ui("operator")
    page = s.page
    supported = page.evaluate(
        "() => MediaSource.isTypeSupported('video/mp4; codecs=\"avc1.64001e\"')"
    )
    assert supported, "this Chromium has no H.264 for MSE (Debian's chromium does)"
    day = f"{(t0 + WITA):%Y-%m-%d}"
    s.go(f"putar?camera={cam}&day={day}")
    expect(page.locator("main h1")).to_have_text("Putar ulang")
    timeline = page.locator("#putar-timeline")
    # The day: two runs of recording (the gap splits them), the incident, people and lights.
    expect(timeline.locator("rect.rec")).to_have_count(2)
    expect(timeline.locator(f"rect[data-incident='{recorded['incident']}']")).to_have_count(1)
    assert timeline.locator("rect.people").count() >= 30
    assert timeline.locator("rect.lights-on").count() == 30
    expect(page.locator("#putar-legend")).to_contain_text("puncak 4")
    sim_until = local_clock(t0.replace(second=0) - timedelta(minutes=15))[:5]
    expect(page.locator("#putar-sim")).to_contain_text(f"data simulasi menit sampai {sim_until}")
    # Click a minute before the recording: playback jumps to its first moment.
    box = timeline.bounding_box()
    assert box
    page.mouse.click(box["x"] + x_of(page, t0 - timedelta(seconds=60)), box["y"] + 30)
    expect(page.locator("#putar-clock")).to_contain_text(local_clock(t0)[:5])
    page.wait_for_function("document.querySelector('#putar-video')?.readyState >= 2", timeout=20000)
    # Zoom to 10 minutes around the play position and drag the playhead into the third segment.
    page.click("button[data-zoom='3']")
    box = timeline.bounding_box()
    assert box
    y = box["y"] + 30
    page.mouse.move(box["x"] + x_of(page, t0 + timedelta(seconds=1)), y)
    page.mouse.down()
    page.mouse.move(box["x"] + x_of(page, t0 + timedelta(seconds=6)), y, steps=5)
    page.mouse.move(box["x"] + x_of(page, t0 + timedelta(seconds=11)), y, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "(() => { const v = document.querySelector('#putar-video');"
        " return v.readyState >= 2 && v.currentTime > 4.5; })()",
        timeout=20000,
    )
    clock = page.inner_text("#putar-clock")
    assert re.search(r"\d\d\.\d\d\.\d\d WITA", clock), clock
    shown = datetime.strptime(clock.split(" · ")[1][:8], "%H.%M.%S").time()
    want = (t0 + WITA + timedelta(seconds=11)).time()
    gap = abs(
        (datetime.combine(t0.date(), shown) - datetime.combine(t0.date(), want)).total_seconds()
    )
    assert gap <= 2 or gap >= 86398, (clock, want)
    # Export: drag on the clip lane over the whole recording, then export.
    clip_y = box["y"] + 130
    page.mouse.move(box["x"] + x_of(page, t0 - timedelta(seconds=1)), clip_y)
    page.mouse.down()
    page.mouse.move(box["x"] + x_of(page, recorded["end"] + timedelta(seconds=1)), clip_y, steps=4)
    page.mouse.up()
    expect(page.locator("#putar-selection")).to_have_count(1)
    page.click("#putar-export")
    expect(page.locator("#putar-sha")).to_have_text(re.compile(r"^[0-9a-f]{64}$"), timeout=30000)
    sha = page.inner_text("#putar-sha")
    with page.expect_download() as info:
        page.click("#putar-dl-clip")
    path = Path(info.value.path())
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    with page.expect_download() as info:
        page.click("#putar-dl-manifest")
    assert sha in Path(info.value.path()).read_text()
    page.evaluate("document.querySelector('main').scrollTop = 0; window.scrollTo(0, 0)")
    screenshot(page, "putar")


def test_playback_deep_link_plays_at_the_moment_without_export_for_a_lurah(
    open_ui, recorded
) -> None:
    """Other pages link to `putar?camera=&t=` (verdict evidence, alarms): it opens playing there."""
    at = recorded["t0"] + timedelta(seconds=10)
    s: Session = open_ui("lurah")
    page = s.page
    s.go(f"putar?camera={recorded['cam']}&t={at.isoformat().replace('+00:00', 'Z')}")
    # The hour window starts at the moment itself: media time 0 is the third segment.
    page.wait_for_function("document.querySelector('#putar-video')?.readyState >= 2", timeout=20000)
    expect(page.locator("#putar-clock")).to_contain_text(local_clock(at)[:5])
    expect(page.locator("button[data-zoom='2']")).to_have_class(re.compile("active"))
    expect(page.locator("#putar-export")).to_have_count(0)
    expect(page.locator(".putar-export-panel")).to_contain_text("hanya untuk ruang kendali")
