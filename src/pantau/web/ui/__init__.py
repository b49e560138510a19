"""The control-room web UI: plain ES modules served beside the API, with no build step.

Why no bundler: the UI must install and run on a kelurahan's small machine and on CI from
`npm ci` of two libraries (Leaflet, hls.js); everything else is our own modules, loaded by the
browser as they are (docs/ui.md). Texts live in per-page JSON catalogues, one per language,
merged here so that no string is written in two places.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from pantau import __version__
from pantau.runtime import Runtime

HERE = Path(__file__).parent
STATIC = HERE / "static"
LOCALES = HERE / "locales"
NODE_MODULES = HERE / "node_modules"
LANGUAGES = ("id", "en")
# Only the files the browser needs are exposed, not the whole node_modules tree.
VENDOR = {"leaflet": NODE_MODULES / "leaflet" / "dist", "hls": NODE_MODULES / "hls.js" / "dist"}


class CatalogueError(ValueError):
    """A catalogue file that is not a flat JSON object of strings, or a key defined twice."""


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """All of a language's texts: the union of `locales/<lang>/*.json`, each a flat object."""
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for path in sorted((LOCALES / lang).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CatalogueError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise CatalogueError(f"{path}: must be a JSON object of key -> text")
        for key, text in data.items():
            if not isinstance(text, str):
                raise CatalogueError(f"{path}: {key!r} must be a string")
            if key in merged:
                raise CatalogueError(f"{path}: {key!r} is already defined in {owner[key]}")
            merged[key], owner[key] = text, path.name
    return merged


def vendor_missing() -> list[str]:
    return [name for name, path in VENDOR.items() if not path.is_dir()]


def ui_config(rt: Runtime) -> dict[str, Any]:
    """What the browser needs before login: city, time zone, languages, optional map tiles."""
    city = rt.settings.city
    return {
        "version": __version__,
        "timezone": city.timezone,
        "timezone_label": city.timezone_label,
        "languages": list(LANGUAGES),
        "default_language": LANGUAGES[0],
        "tile_url": rt.settings.server.map_tile_url,
        "city": city.name,
        "vendor_missing": vendor_missing(),
    }


def install_ui(app: FastAPI) -> None:
    """Serve the UI at /ui/ (and / redirects there); catalogues and config under /ui/."""
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    for name, path in VENDOR.items():
        # check_dir=False: a missing `npm ci` must not stop the API from starting; the UI
        # reports `vendor_missing` from /ui/config.json instead.
        app.mount(f"/ui/vendor/{name}", StaticFiles(directory=path, check_dir=False), name=name)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    @app.get("/ui/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/ui/config.json", include_in_schema=False)
    def config(request: Request) -> JSONResponse:
        return JSONResponse(ui_config(request.app.state.runtime))

    @app.get("/ui/i18n/{lang}.json", include_in_schema=False)
    def texts(lang: str) -> JSONResponse:
        if lang not in LANGUAGES:
            return JSONResponse(
                {"error": "not_found", "message": f"language {lang!r}: use one of {LANGUAGES}"},
                status_code=404,
            )
        return JSONResponse(catalogue(lang), headers={"Cache-Control": "no-cache"})
