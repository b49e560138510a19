"""Clips the control room asked for: built once from the site's own segments, uploaded in
chunks through the same token bucket as the outbox, resumed from the hub's offset.

The hub lists open requests in each hello answer. For each, the agent remuxes its MPEG-TS
segments into one MP4 (`media.export.export_clip`, no re-encode, SHA-256) and keeps the file
and its hash in `<agent dir>/clips/`, so a restarted agent sends the same bytes instead of
building a new file (a different file would make the hub start over). Before sending it asks
the hub where its copy ends (`begin`), then sends 64 KiB chunks at that offset; a refused
offset carries the hub's, so nothing is sent twice on purpose and nothing is skipped. Between
chunks the outbox goes first: facts are small and decide verdicts and alarms, so an incident
raised during a long upload waits for at most one chunk.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pantau.edge import items as wire
from pantau.edge.identity import write_private
from pantau.edge.retention import local_segments
from pantau.edge.sync import HubClient
from pantau.media.export import ClipPart, ExportError, export_clip

log = logging.getLogger(__name__)

CHUNK = 64 * 1024


def local_parts(root: Path, camera_id: int, start: datetime, end: datetime) -> list[ClipPart]:
    """The camera's finished segments that overlap [start, end), from the files themselves
    (the site keeps no index: its segment rows leave through the outbox)."""
    days = ((start - timedelta(days=1)).date(), end.date())
    return [
        ClipPart(seg.file, seg.start, seg.end)
        for seg in local_segments(root, camera_id, days)
        if seg.start < end and seg.end > start
    ]


@dataclass
class Built:
    path: Path
    bytes: int
    sha256: str
    clip_start: str
    clip_end: str
    frames: int


class ClipUploader:
    """Uploads the clips of one hello answer. Raises the sync loop's HubUnavailable on a
    transient failure (the loop backs off and says hello again) and AgentRefused when the
    agent's key is refused; a clip the hub no longer wants is dropped quietly."""

    def __init__(
        self,
        client: HubClient,
        recordings_dir: Path,
        work_dir: Path,
        rate_kbps: float,
        chunk: int = CHUNK,
    ) -> None:
        self.client = client
        self.recordings_dir = recordings_dir
        self.work_dir = work_dir
        self.rate_kbps = rate_kbps
        self.chunk = chunk
        self.built = 0  # files built (a resumed upload builds none)

    # ---- local files -----------------------------------------------------------------------

    def _files(self, clip_id: int) -> tuple[Path, Path]:
        return self.work_dir / f"{clip_id}.mp4", self.work_dir / f"{clip_id}.json"

    def drop(self, clip_id: int) -> None:
        for path in self._files(clip_id):
            path.unlink(missing_ok=True)

    def forget_others(self, listed: list[dict[str, Any]]) -> None:
        """Cached clips the hub no longer lists (ready, cancelled while the link was down)."""
        keep = {int(c["id"]) for c in listed}
        for meta in self.work_dir.glob("*.json"):
            if meta.stem.isdigit() and int(meta.stem) not in keep:
                self.drop(int(meta.stem))

    def _cached(self, clip: dict[str, Any]) -> Built | None:
        mp4, meta = self._files(int(clip["id"]))
        try:
            data = json.loads(meta.read_text())
        except (OSError, ValueError):
            return None
        if data.get("from") != clip["from"] or data.get("to") != clip["to"]:
            return None
        if not mp4.is_file() or mp4.stat().st_size != data.get("bytes"):
            return None
        return Built(mp4, data["bytes"], data["sha256"], data["clip_start"], data["clip_end"],
                     data["frames"])  # fmt: skip

    def build(self, clip: dict[str, Any]) -> Built | str:
        """The MP4 (cached), or why the site cannot make it."""
        cached = self._cached(clip)
        if cached is not None:
            return cached
        start, end = wire.parse_time(clip["from"]), wire.parse_time(clip["to"])
        assert start is not None and end is not None
        camera_id = int(clip["camera_id"])
        parts = local_parts(self.recordings_dir, camera_id, start, end)
        if not parts:
            return (
                f"no recording of camera {camera_id} between {clip['from']} and {clip['to']} "
                "is kept at the site any more"
            )
        mp4, meta = self._files(int(clip["id"]))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        try:
            result = export_clip(parts, start, end, mp4)
        except ExportError as exc:
            return f"the site's recording of camera {camera_id} cannot be read: {exc}"
        self.built += 1
        built = Built(
            mp4,
            result.bytes,
            result.sha256,
            wire.iso(result.first_pts_time),
            wire.iso(result.last_time),
            result.frames,
        )
        body = {"from": clip["from"], "to": clip["to"]} | {
            k: v for k, v in built.__dict__.items() if k != "path"
        }
        write_private(meta, json.dumps(body).encode())
        log.info("clip %s built: %d bytes, %d frames", clip["id"], built.bytes, built.frames)
        return built

    # ---- talking to the hub ----------------------------------------------------------------

    def _call(self, method: str, url: str, **kw: Any) -> tuple[int, dict[str, Any]]:
        r = self.client.raw(method, url, **kw)  # raises for the link, 401/403, 5xx
        try:
            body = r.json()
        except ValueError:
            body = {"message": r.text[:400]}
        return r.status_code, body

    def upload(self, clip: dict[str, Any], pause: Callable[[], bool]) -> bool:
        """Send one clip. True when the hub no longer needs anything for it (ready, failed,
        cancelled); False when paused so the outbox can go first."""
        clip_id = int(clip["id"])
        url = f"/api/agent/clips/{clip_id}"
        built = self.build(clip)
        if isinstance(built, str):
            log.warning("clip %s: %s", clip_id, built)
            self._call("POST", f"{url}/cannot", json={"reason": built})
            self.drop(clip_id)
            return True
        status, answer = self._call(
            "POST",
            f"{url}/begin",
            json={
                "bytes": built.bytes,
                "sha256": built.sha256,
                "clip_start": built.clip_start,
                "clip_end": built.clip_end,
                "frames": built.frames,
                "rate_kbps": self.rate_kbps,
            },
        )
        if status in (404, 410):
            return self._gone(clip_id, status, answer)
        if status >= 400:
            return self._skip(clip_id, status, answer)
        offset = int(answer["offset"])
        if offset:
            log.info("clip %s: resuming at byte %d of %d", clip_id, offset, built.bytes)
        with built.path.open("rb") as fh:
            while True:
                while offset < built.bytes:
                    if pause():
                        return False
                    fh.seek(offset)
                    data = fh.read(self.chunk)
                    status, answer = self._call(
                        "PUT",
                        f"{url}/data",
                        params={"offset": offset},
                        content=self.client.capped(data),
                        headers={
                            "Content-Type": "application/octet-stream",
                            "Content-Length": str(len(data)),
                        },
                    )
                    if status in (404, 410):
                        return self._gone(clip_id, status, answer)
                    if status >= 400 and (status != 409 or answer.get("offset") is None):
                        return self._skip(clip_id, status, answer)
                    if status == 409:
                        log.info("clip %s: hub has %s bytes, not %d", clip_id,
                                 answer["offset"], offset)  # fmt: skip
                    offset = int(answer["offset"])
                status, answer = self._call(
                    "POST", f"{url}/finish", json={"bytes": built.bytes, "sha256": built.sha256}
                )
                if status in (404, 410):
                    return self._gone(clip_id, status, answer)
                if status == 409:
                    offset = int(answer["offset"])
                    continue
                if answer.get("state") == "uploading":  # checksum mismatch: the hub restarts
                    log.warning("clip %s: %s", clip_id, answer.get("error"))
                    offset = int(answer["offset"])
                    continue
                log.info("clip %s: %s at the hub", clip_id, answer.get("state"))
                self.drop(clip_id)
                return True

    def _skip(self, clip_id: int, status: int, answer: dict[str, Any]) -> bool:
        """An answer this agent does not understand: leave the clip for the next round."""
        log.error("clip %s: hub refused (%d): %s; trying again later", clip_id, status,
                  answer.get("message"))  # fmt: skip
        return True

    def _gone(self, clip_id: int, status: int, answer: dict[str, Any]) -> bool:
        log.info("clip %s: hub no longer wants it (%d: %s)", clip_id, status,
                 answer.get("message"))  # fmt: skip
        self.drop(clip_id)
        return True


def work_dir_of(outbox_path: Path) -> Path:
    path = outbox_path.parent / "clips"
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path
