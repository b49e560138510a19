"""Live events for every open browser, as Server-Sent Events: alarms and camera states.

Why SSE and one shared tail: incidents and camera states are written by worker processes into
the database, so something must watch the database. One watcher per web process reads what
changed once a second and fans it out to every connected browser through a queue each; the
cost does not grow with the number of screens. Browsers get the change within about a second
without asking (no polling from the page), and EventSource reconnects by itself (docs/ui.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pantau.runtime import Runtime
from pantau.store.models import Camera, CameraState, Incident, Site
from pantau.store.types import utcnow
from pantau.web.deps import DB, Caller
from pantau.web.routes.health import live_state
from pantau.web.routes.incidents import incident_out

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["events"])

POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
QUEUE_SIZE = 1000


@dataclass(eq=False)
class Subscriber:
    sites: set[int] | None  # None: sees every site
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )
    dropped: int = 0

    def offer(self, kind: str, data: dict[str, Any]) -> None:
        if self.sites is not None and data.get("site_id") not in self.sites:
            return
        try:
            self.queue.put_nowait((kind, data))
        except asyncio.QueueFull:
            # A browser that stopped reading must not hold memory; it resyncs on reconnect.
            self.dropped += 1


class Broadcaster:
    """Reads what changed since the last look and offers it to every subscriber."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.subscribers: set[Subscriber] = set()
        self.task: asyncio.Task[None] | None = None
        self.cursor = utcnow() - timedelta(seconds=5)
        self.seen_at_cursor: set[str] = set()
        self.camera_states: dict[int, tuple[str, str | None]] = {}
        self.site_cursor = self.cursor

    def subscribe(self, sub: Subscriber) -> None:
        self.subscribers.add(sub)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    async def _run(self) -> None:
        while self.subscribers:
            try:
                events = await anyio.to_thread.run_sync(self.changes)
            except Exception:  # a database hiccup must not end the live feed
                log.exception("live events: reading changes failed; retrying")
                events = []
            for kind, data in events:
                for sub in list(self.subscribers):
                    sub.offer(kind, data)
            await asyncio.sleep(POLL_SECONDS)

    def changes(self) -> list[tuple[str, dict[str, Any]]]:
        events: list[tuple[str, dict[str, Any]]] = []
        now = utcnow()
        with self.rt.sessions() as session:
            rows = session.scalars(
                select(Incident)
                .where(Incident.updated_at >= self.cursor)
                .options(selectinload(Incident.camera))
                .order_by(Incident.updated_at)
            ).all()
            newest = self.cursor
            for row in rows:
                stamp = f"{row.id}@{row.updated_at.isoformat()}"
                if stamp in self.seen_at_cursor:
                    continue
                events.append(("incident", _jsonable(incident_out(row).model_dump())))
                newest = max(newest, row.updated_at)
            if newest > self.cursor:
                self.cursor = newest
                self.seen_at_cursor = set()
            self.seen_at_cursor |= {
                f"{r.id}@{r.updated_at.isoformat()}" for r in rows if r.updated_at == self.cursor
            }
            for site in session.scalars(select(Site).where(Site.updated_at > self.site_cursor)):
                self.site_cursor = max(self.site_cursor, site.updated_at)
                events.append(
                    (
                        "site",
                        {
                            "site_id": site.id,
                            "connectivity": str(site.connectivity.value),
                            "updated_at": site.updated_at.isoformat(),
                        },
                    )
                )
            cameras = session.execute(select(Camera, CameraState).outerjoin(CameraState)).all()
            for cam, cam_state in cameras:
                live = live_state(cam, cam_state, now)
                key = (live["state"], live.get("reason"))
                if self.camera_states.get(cam.id) != key:
                    self.camera_states[cam.id] = key
                    events.append(
                        (
                            "camera",
                            _jsonable(
                                {"camera_id": cam.id, "site_id": cam.site_id}
                                | live
                                | {"since": cam_state.since if cam_state else None}
                            ),
                        )
                    )
        return events


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def broadcaster(request: Request) -> Broadcaster:
    app = request.app
    if getattr(app.state, "broadcaster", None) is None:
        app.state.broadcaster = Broadcaster(app.state.runtime)
    return app.state.broadcaster


def _frame(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    request: Request,
    scope: Caller,
    session: DB,
    max_seconds: Annotated[
        float | None, Query(gt=0, le=86400, description="End the stream after this long")
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events: `incident` (created or changed), `camera` (state changed), `site`
    (edited, e.g. its connectivity), and a `hello` on connect. Only sites in the caller's
    scope. Browsers keep it open; scripts and checks may bound it with `max_seconds`."""
    sites = None
    if not scope.sees_all:
        sites = set(session.scalars(scope.filter_sites(select(Site.id))))
    hub = broadcaster(request)
    sub = Subscriber(sites)
    hello = {"time": utcnow().isoformat(), "user": scope.username, "poll_seconds": POLL_SECONDS}

    async def stream() -> AsyncIterator[str]:
        hub.subscribe(sub)
        loop = asyncio.get_running_loop()
        end = loop.time() + max_seconds if max_seconds else None
        try:
            yield "retry: 3000\n\n" + _frame("hello", hello)
            while not await request.is_disconnected():
                wait = KEEPALIVE_SECONDS
                if end is not None:
                    wait = min(wait, end - loop.time())
                    if wait <= 0:
                        return
                try:
                    kind, data = await asyncio.wait_for(sub.queue.get(), wait)
                except TimeoutError:
                    if end is None or loop.time() < end:
                        yield ": keep-alive\n\n"
                    continue
                yield _frame(kind, data)
        finally:
            hub.unsubscribe(sub)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
