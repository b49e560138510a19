"""`pantau agent run`: the site's camera workers (the hub's pipeline, principle 4) writing to
the outbox, next to the sync loop that empties it.

The cameras come from the cached site configuration, so a restart without a link keeps
recording and analysing what the hub last sent; a new configuration is picked up within
`RELOAD_SECONDS`. Cameras run as threads of one process (a site has a handful). Incidents
are found here too, with their picture (`edge.incidents`); the hub finds the same ones from the
synced minutes under the same stable ids. The site's own
recordings are kept under the `recording:` retention rules (`edge.retention`).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from pantau.config.model import Settings
from pantau.edge.config_cache import ConfigCache
from pantau.edge.incidents import SiteIncidents
from pantau.edge.outbox import Outbox
from pantau.edge.retention import enforce_local
from pantau.edge.sink import OutboxSink
from pantau.edge.sync import AgentRefused, SyncLoop
from pantau.pipeline.camera import CameraSpec, CameraWorker, zones_of

log = logging.getLogger(__name__)

RELOAD_SECONDS = 10.0


def specs_from_config(config: dict[str, Any] | None) -> dict[int, CameraSpec]:
    return {
        int(c["id"]): CameraSpec(
            id=int(c["id"]),
            name=c["name"],
            url=c["main_stream"],
            enabled=bool(c.get("enabled", True)),
            zones=zones_of(c.get("zones")),
        )
        for c in (config or {}).get("cameras", [])
    }


class AgentRunner:
    def __init__(self, settings: Settings, outbox: Outbox, cache: ConfigCache, sync: SyncLoop):
        self.settings = settings
        self.cache = cache
        self.sync = sync
        self.stop = sync.stop
        self.sink = OutboxSink(
            outbox, on_disk_full=self._retention, site_incidents=SiteIncidents(cache)
        )
        self.workers: dict[int, CameraWorker] = {}
        self.refused: AgentRefused | None = None
        self._retaining = threading.Lock()

    def _sync(self) -> None:
        try:
            self.sync.run()
        except AgentRefused as exc:  # cameras keep recording; the facts wait in the outbox
            log.error("%s; facts stay in the outbox (export them, or enrol again)", exc)
            self.refused = exc

    def _reconcile(self) -> None:
        wanted = specs_from_config(self.cache.load())
        for cid, worker in list(self.workers.items()):
            if wanted.get(cid) != worker.spec or not worker.is_alive():
                worker.stop()
                worker.join(timeout=self.settings.ingest.stall_seconds + 5)
                del self.workers[cid]
        for cid, spec in wanted.items():
            if cid not in self.workers:
                log.info("camera %s (%d) started", spec.name, cid)
                self.workers[cid] = CameraWorker(spec, self.settings, self.sink)
                self.workers[cid].start()

    def _retention(self) -> None:
        """From the main loop, and from a camera thread whose disk is full (one at a time)."""
        if not self._retaining.acquire(blocking=False):
            return
        try:
            enforce_local(
                self.settings.recordings_dir,
                self.settings.recording,
                on_deleted=lambda gone: self.sink.segments_gone(
                    [(s.camera_id, s.start) for s in gone]
                ),
            )
        except Exception:
            log.exception("local retention failed; trying again at the next interval")
        finally:
            self._retaining.release()

    def run(self) -> AgentRefused | None:
        syncer = threading.Thread(target=self._sync, name="edge-sync", daemon=True)
        syncer.start()
        next_retention = time.monotonic()
        try:
            while not self.stop.is_set():
                try:
                    self._reconcile()
                except Exception:
                    log.exception("could not start the cameras; keeping the current ones")
                if time.monotonic() >= next_retention:
                    self._retention()
                    next_retention = (
                        time.monotonic() + self.settings.recording.retention_interval_seconds
                    )
                self.stop.wait(RELOAD_SECONDS)
        finally:
            self.stop.set()
            for worker in self.workers.values():
                worker.stop()
            for worker in self.workers.values():
                worker.join(timeout=self.settings.ingest.stall_seconds + 5)
            syncer.join(timeout=30)
        return self.refused
