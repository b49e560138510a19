"""Screenshots of every page of a running hub (e.g. `pantau demo`), for the README.

.venv/bin/python -m tests.browser.shoot --url http://127.0.0.1:8080 --out docs/screenshots
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.browser.conftest import chromium_path

PAGES = (
    ("peta", "peta", ".leaflet-marker-icon, .leaflet-interactive"),
    ("dinding", "dinding?group=kecamatan:74.71.01", "img"),
    ("putar", "putar?camera=22&t={recent}", "svg"),
    ("peringatan", "peringatan", "section.page"),
    ("kepatuhan", "kepatuhan", "section.page"),
    ("kepatuhan-bulan", "kepatuhan/bulan", "svg"),
    ("kepatuhan-hari", "kepatuhan/hari?site=2&day=2026-11-27", "svg"),
    ("kesehatan", "kesehatan", "svg"),
    ("admin", "admin", "table"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="pantau-demo")
    parser.add_argument("--settle", type=float, default=4.0, help="seconds to let pages load")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        r = context.request.post(
            f"{args.url}/api/auth/login", data={"username": args.user, "password": args.password}
        )
        if not r.ok:
            raise SystemExit(f"login as {args.user} failed: {r.status} {r.text()}")
        page = context.new_page()
        page.goto(f"{args.url}/ui/")
        page.wait_for_selector("header.top")
        page.evaluate("localStorage.setItem('pantau.lang', 'id')")
        recent = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for name, template, ready in PAGES:
            route = template.format(recent=recent)
            page.goto(f"{args.url}/ui/#/{route}")
            page.wait_for_selector(f"section.page[data-page='{route.split('?')[0].split('/')[0]}']")
            try:
                page.wait_for_selector(ready, timeout=15000)
            except Exception:
                print(f"{name}: {ready!r} did not appear; shooting anyway")
            page.wait_for_timeout(args.settle * 1000)
            path = args.out / f"{name}.png"
            page.screenshot(path=str(path))
            print(path)
        browser.close()


if __name__ == "__main__":
    main()
