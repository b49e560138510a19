"""Putar ulang for a camera at an edge agent's site, in real Chromium: the operator requests a
clip of the site's recording, sees it wait for the site, then its upload percentage, then
plays the ready MP4 in the page's video element (the agent's part is played over the real
agent API with a real MP4)."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import timedelta
from pathlib import Path

import httpx
from playwright.sync_api import expect

from pantau.edge import items as wire
from pantau.store.types import utcnow
from tests.browser.conftest import Session, UiServer, screenshot
from tests.support.media import make_clip
from tests.test_playback import KORUMBA, site_id

WITA = timedelta(hours=8)


def agent_key(ui: UiServer, admin: httpx.Client, site: int) -> str:
    token = admin.post("/api/agents/enrolments", json={"site_id": site}).json()["token"]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from pantau.edge.identity import public_key_b64

    body = {"name": "agen-korumba", "public_key": public_key_b64(Ed25519PrivateKey.generate())}
    r = httpx.post(
        f"{ui.url}/api/agent/enrol", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 201, r.text
    return r.json()["key"]


def test_request_progress_and_play_a_clip_from_the_site(
    ui_server: UiServer, open_ui, tmp_path: Path
) -> None:
    admin = ui_server.api("admin")
    site = site_id(ui_server.runtime, KORUMBA)
    r = admin.post(
        "/api/cameras",
        json={"site_id": site, "name": "loket", "purpose": "keamanan", "main_stream": "rtsp://x/s"},
    )
    cam = r.json()["id"]
    key = agent_key(ui_server, admin, site)
    agent = httpx.Client(base_url=ui_server.url, headers={"Authorization": f"Bearer {key}"})
    t0 = (utcnow() - timedelta(minutes=40)).replace(microsecond=0)
    items = []
    for i in range(6):  # one minute recorded at the site
        start = t0 + timedelta(seconds=10 * i)
        data = {"camera_id": cam, "start": start, "end": start + timedelta(seconds=10), "bytes": 1}
        items.append({"key": wire.segment_key(cam, start), "kind": wire.SEGMENT, "seq": i + 1,
                      "data": wire.jsonable(data)})  # fmt: skip
    r = agent.post(
        "/api/agent/batch",
        content=gzip.compress(json.dumps({"batch_id": "b", "items": items}).encode()),
        headers={"Content-Encoding": "gzip"},
    )
    assert r.json()["accepted"] == 6, r.text

    s: Session = open_ui("operator")
    local = t0 + WITA
    page = s.go(f"putar?camera={cam}&day={local:%Y-%m-%d}")
    expect(page.locator("#putar-edge")).to_be_visible()
    expect(page.locator("#putar-edge-info")).to_contain_text("disimpan di lokasi")
    expect(page.locator("rect.rec-edge")).to_have_count(1)
    page.fill("#putar-clip-from", f"{local + timedelta(seconds=10):%H:%M:%S}")
    page.fill("#putar-clip-to", f"{local + timedelta(seconds=14):%H:%M:%S}")
    page.click("#putar-clip-request")
    row = page.locator(".putar-clip").first
    expect(row).to_have_attribute("data-state", "pending")
    expect(row).to_contain_text("menunggu kontak lokasi")

    # The site's next contact: it builds the MP4 and sends half of it.
    (clip,) = agent.post("/api/agent/hello", json={"agent_time": wire.iso(utcnow())}).json()[
        "clips"
    ]
    assert clip["from"] == wire.iso(t0 + timedelta(seconds=10))
    mp4 = make_clip(tmp_path / "klip.mp4", seconds=4, size="320x240", bitrate="300k").read_bytes()
    sha = hashlib.sha256(mp4).hexdigest()
    url = f"/api/agent/clips/{clip['id']}"
    assert agent.post(f"{url}/begin", json={"bytes": len(mp4), "sha256": sha}).status_code == 200
    half = len(mp4) // 2
    assert agent.put(f"{url}/data", params={"offset": 0}, content=mp4[:half]).status_code == 200
    expect(row).to_have_attribute("data-state", "uploading", timeout=10_000)
    expect(row).to_contain_text(f"mengunggah {round(100 * half / len(mp4))} %")
    agent.put(f"{url}/data", params={"offset": half}, content=mp4[half:])
    assert agent.post(f"{url}/finish", json={"bytes": len(mp4), "sha256": sha}).json()["state"] == (
        "ready"
    )
    expect(row).to_have_attribute("data-state", "ready", timeout=10_000)
    expect(row.locator(".clip-download")).to_have_attribute(
        "href", f"/api/clips/{clip['id']}/file?download=true"
    )
    row.locator(".clip-play").click()
    page.wait_for_function(
        "() => { const v = document.getElementById('putar-video'); "
        "return v.currentTime > 0.5 && v.videoWidth === 320; }",
        timeout=15_000,
    )
    expect(page.locator("#putar-status")).to_contain_text("Memutar klip dari lokasi")
    screenshot(page, "putar-klip-lokasi")
    agent.close()
    admin.close()
