"""The shell in a real browser: login, navigation, language, scopes, expired sessions."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Session, UiServer, screenshot


def test_login_page_then_wrong_password_then_login(open_ui, ui_server: UiServer) -> None:
    s: Session = open_ui(None)
    s.console.allow("401")  # the wrong password below is refused by the server on purpose
    page = s.page
    page.goto(f"{ui_server.url}/")
    expect(page.locator("#login-submit")).to_have_text("Masuk")
    screenshot(page, "login")
    page.fill("#username", "operator")
    page.fill("#password", "salah")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Nama pengguna atau kata sandi salah.")
    page.fill("#password", "rahasia-123")
    page.click("#login-submit")
    expect(page.locator("header.top .who")).to_contain_text("Operator")
    expect(page.locator("nav.side a")).to_have_count(6)  # no Admin for an operator
    expect(page.locator("#live-status")).to_have_text("Langsung")
    expect(page.locator("#clock")).to_have_text(re.compile(r"^\d\d\.\d\d\.\d\d WITA$"))


def test_admin_sees_admin_and_lurah_is_refused_it(open_ui) -> None:
    admin = open_ui("admin")
    admin.page.goto(f"{admin.base}/ui/#/peta")
    expect(admin.page.locator("nav.side a")).to_have_count(7)
    lurah = open_ui("lurah")
    lurah.page.goto(f"{lurah.base}/ui/#/admin")
    expect(lurah.page.locator("main h1")).to_have_text("Halaman ini bukan untuk peran Anda")


def test_language_switch_changes_every_label_and_is_remembered(open_ui) -> None:
    s = open_ui("pimpinan")
    s.page.goto(f"{s.base}/ui/#/peta")
    health = s.page.locator("nav.side a[data-page='kesehatan']")
    expect(health).to_have_text(re.compile("Kesehatan"))
    s.page.select_option("#lang-switch", "en")
    expect(health).to_have_text(re.compile("Health"))
    expect(s.page.locator("#logout")).to_have_text("Log out")
    s.page.reload()
    expect(s.page.locator("#logout")).to_have_text("Log out")
    assert s.page.evaluate("document.documentElement.lang") == "en"


def test_forged_or_ended_session_returns_to_login(open_ui, ui_server: UiServer) -> None:
    s = open_ui("operator")
    s.console.allow("401")
    s.page.goto(f"{s.base}/ui/#/peta")
    expect(s.page.locator("header.top")).to_be_visible()
    # Forge the cookie: the server no longer knows the session.
    s.context.clear_cookies()
    s.context.add_cookies(
        [{"name": "pantau_session", "value": "forged-token", "url": ui_server.url}]
    )
    s.page.evaluate("import('/ui/static/js/api.js').then(m => m.api.get('auth/me')).catch(e => 0)")
    expect(s.page.locator("#login-error")).to_have_text("Sesi Anda berakhir. Silakan masuk lagi.")


def test_logout_ends_the_session(open_ui) -> None:
    s = open_ui("camat")
    s.console.allow("401")  # after logging out, the reload asks /api/auth/me and is refused
    s.page.goto(f"{s.base}/ui/#/peta")
    s.page.click("#logout")
    expect(s.page.locator("#login-submit")).to_be_visible()
    s.page.reload()
    expect(s.page.locator("#login-submit")).to_be_visible()


def test_a_link_outside_the_users_area_is_refused_on_the_page(open_ui, ui_server: UiServer) -> None:
    admin = ui_server.api("admin")
    sites = admin.get("/api/sites").json()
    kandai = next(x for x in sites if x["kelurahan_code"] == "74.71.02.1009")
    s = open_ui("lurah")
    s.console.allow("403")  # the refusal the test asks for
    s.page.goto(f"{s.base}/ui/#/kepatuhan/hari?site={kandai['id']}&day=2026-11-27")
    page = s.page.locator("section.page[data-page='kepatuhan']")
    expect(page.get_by_role("alert")).to_contain_text("di luar wilayah atau peran Anda")
    expect(page).not_to_contain_text("Kandai")
    screenshot(s.page, "scope-refused")
