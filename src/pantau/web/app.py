"""The FastAPI application: REST API under /api, OpenAPI at /docs and /openapi.json."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from sqlalchemy import func, select

from pantau import __version__
from pantau.recordings.retention import disk_status
from pantau.registry.calendar import format_hhmm
from pantau.runtime import Runtime
from pantau.store.migrate import current_revision
from pantau.store.models import Camera, CameraState, Site
from pantau.store.types import utcnow
from pantau.web import errors
from pantau.web.routes import (
    admin_tools,
    agents,
    auth,
    calendars,
    cameras,
    clips,
    compliance,
    events,
    incidents,
    live,
    overview,
    recordings,
    reports,
    sites,
    users,
    verdicts,
)
from pantau.web.routes import health as camera_health
from pantau.web.routes.health import live_state
from pantau.web.schemas import HealthOut
from pantau.web.ui import install_ui


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="Pantau",
        version=__version__,
        description="Ruang kendali CCTV — CCTV control room API. Times are stored in UTC; "
        f"local dates and times are {runtime.settings.city.timezone} "
        f"({runtime.settings.city.timezone_label}).",
    )
    app.state.runtime = runtime
    errors.install(app)
    routers = (
        auth.router,
        sites.router,
        cameras.router,
        calendars.router,
        users.router,
        camera_health.router,
        recordings.router,
        incidents.router,
        verdicts.router,
        reports.router,
        events.router,
        live.router,
        compliance.router,
        overview.router,
        admin_tools.router,
        agents.api,
        clips.router,
    )
    for router in routers:
        app.include_router(router)
    install_ui(app)

    @app.get("/api/health", response_model=HealthOut, tags=["health"])
    def health(request: Request) -> HealthOut:
        """Liveness and database reachability; needs no login (for load balancers)."""
        rt: Runtime = request.app.state.runtime
        now = utcnow()
        local = now.astimezone(ZoneInfo(rt.settings.city.timezone))
        warnings: list[str] = []
        states: dict[str, int] = {}
        try:
            revision = current_revision(rt.engine)
            with rt.sessions() as session:
                count = session.scalar(select(func.count()).select_from(Site)) or 0
                for cam in session.scalars(select(Camera)):
                    state = live_state(cam, session.get(CameraState, cam.id), now)["state"]
                    states[state] = states.get(state, 0) + 1
            db_state = "ok"
        except Exception as exc:  # health must answer even when the database does not
            revision, count, db_state = None, 0, f"error: {type(exc).__name__}"
            warnings.append(f"database unreachable: {type(exc).__name__}")
        disk = disk_status(rt.settings)
        if disk["warning"]:
            warnings.append(disk["warning"])
        return HealthOut(
            status="ok" if db_state == "ok" else "degraded",
            version=__version__,
            database=db_state,
            schema_revision=revision,
            sites=count,
            time_utc=now,
            time_local=f"{local:%Y-%m-%d} {format_hhmm(local.time())} "
            f"{rt.settings.city.timezone_label}",
            cameras=states,
            disk=disk,
            warnings=warnings,
        )

    return app
