"""A browser that loses its live connection says so, reconnects by itself, and says that too."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.browser.conftest import UiServer, start_server


def test_the_header_shows_a_lost_link_and_its_return(open_ui, ui_server: UiServer) -> None:
    s = open_ui("operator")
    # While the server is down, the browser reports the refused connections it retries.
    for expected in ("ERR_CONNECTION_REFUSED", "Failed to load resource", "Failed to fetch"):
        s.console.allow(expected)
    s.page.goto(f"{ui_server.url}/ui/#/peringatan")
    badge = s.page.locator("#live-status")
    expect(badge).to_have_text("Langsung")

    ui_server.server.should_exit = True
    ui_server.thread.join(timeout=15)
    assert not ui_server.thread.is_alive(), "the server did not stop"
    expect(badge).to_have_text("Sambungan terputus — menyambung ulang…", timeout=15_000)
    expect(badge).to_have_attribute("data-status", "lost")

    time.sleep(1)
    port = int(ui_server.url.rsplit(":", 1)[1])
    again = start_server(ui_server.runtime, port)
    ui_server.server, ui_server.thread = again.server, again.thread
    expect(badge).to_have_text("Tersambung kembali", timeout=20_000)
    expect(s.page.locator(".toast-ok")).to_contain_text("Sambungan langsung pulih")
