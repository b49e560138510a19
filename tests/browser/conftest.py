"""Browser tests: the real UI in real headless Chromium (Debian's), driven by Playwright.

One Pantau server per test file (uvicorn in a thread, SQLite, the users of every role);
each test gets a fresh browser context logged in as the role it asks for. Console errors and
uncaught exceptions fail the test. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from pantau.accounts.users import create_user
from pantau.config.model import Settings
from pantau.runtime import Runtime, open_runtime
from pantau.store.db import transaction
from pantau.web.app import create_app
from tests.conftest import PASSWORD, ROLE_USERS

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Messages the browser prints that are not the page's fault.
IGNORED_CONSOLE = ("favicon", "net::ERR_ABORTED")


def chromium_path() -> str:
    path = os.environ.get("PANTAU_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail("Chromium not found: `apt-get install chromium` (scripts/bootstrap test does)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class UiServer:
    url: str
    runtime: Runtime
    thread: threading.Thread
    server: uvicorn.Server

    def api(self, role: str) -> httpx.Client:
        """An API client logged in as `role` (for arranging data and checking results)."""
        client = httpx.Client(base_url=self.url, timeout=30)
        r = client.post("/api/auth/login", json={"username": role, "password": PASSWORD})
        r.raise_for_status()
        client.headers["Authorization"] = f"Bearer {r.json()['token']}"
        return client


def start_server(rt: Runtime, port: int | None = None) -> UiServer:
    port = port or free_port()
    config = uvicorn.Config(
        create_app(rt),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"ui-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the Pantau test server did not start")
        time.sleep(0.05)
    return UiServer(f"http://127.0.0.1:{port}", rt, thread, server)


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """A server on its own fresh database per test file, so that what one file adds (sites,
    cameras) never changes what another counts."""
    data_dir = tmp_path_factory.mktemp("ui-data")
    settings = Settings.model_validate(
        {"data_dir": str(data_dir), "database": {"url": f"sqlite:///{data_dir / 'pantau.db'}"}}
    )
    rt = open_runtime(settings)
    with transaction(rt.sessions) as session:
        for username, (role, code) in ROLE_USERS.items():
            create_user(session, username, PASSWORD, role, code, full_name=username.title())
    ui = start_server(rt)
    yield ui
    ui.server.should_exit = True
    ui.thread.join(timeout=10)
    rt.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium_path(),
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield b
        b.close()


@dataclass
class Console:
    errors: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def allow(self, fragment: str) -> None:
        """An error the test provokes on purpose (e.g. a 403 it asks for)."""
        self.allowed.append(fragment)

    def unexpected(self) -> list[str]:
        return [
            e for e in self.errors if not any(x in e for x in (*IGNORED_CONSOLE, *self.allowed))
        ]


@dataclass
class Session:
    page: Page
    context: BrowserContext
    console: Console
    base: str

    def go(self, route: str) -> Page:
        """Open a UI route (e.g. "peta") and wait for its page section."""
        self.page.goto(f"{self.base}/ui/#/{route}")
        page_id = route.split("?")[0].split("/")[0]
        self.page.wait_for_selector(f"section.page[data-page='{page_id}']")
        return self.page


def watch_console(page: Page, console: Console) -> None:
    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console.errors.append(f"console.error: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: console.errors.append(f"pageerror: {e}"))


@pytest.fixture
def open_ui(browser: Browser, ui_server: UiServer) -> Iterator[Callable[..., Session]]:
    """open_ui("operator") -> a logged-in browser session; open_ui(None) -> logged out."""
    sessions: list[Session] = []

    def make(role: str | None = "admin", lang: str = "id", **context_kw: object) -> Session:
        context = browser.new_context(
            viewport={"width": 1440, "height": 900}, locale="id-ID", **context_kw
        )
        # Only the first page of the context: a test that switches language must keep it.
        key = "'pantau.lang'"
        context.add_init_script(
            f"if (!localStorage.getItem({key})) localStorage.setItem({key}, '{lang}')"
        )
        if role is not None:
            r = context.request.post(
                f"{ui_server.url}/api/auth/login", data={"username": role, "password": PASSWORD}
            )
            assert r.ok, r.text()
        page = context.new_page()
        console = Console()
        watch_console(page, console)
        session = Session(page, context, console, ui_server.url)
        sessions.append(session)
        return session

    yield make
    problems = []
    for s in sessions:
        problems += s.console.unexpected()
        s.context.close()
    assert not problems, "browser console errors:\n" + "\n".join(problems)


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
