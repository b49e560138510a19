"""The last site configuration the hub sent (cameras, zones, calendar), cached so the agent
keeps working on it while offline. 0600: the camera URLs carry their credentials."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from pantau.edge.identity import write_private

CONFIG = "site-config.json"


class ConfigCache:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / CONFIG

    def load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        try:
            return json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError):
            return None  # a torn file cannot happen (atomic writes), a hand-edited one can

    def digest(self) -> str | None:
        cfg = self.load()
        return cfg.get("digest") if cfg else None

    def save(self, config: dict[str, Any]) -> None:
        write_private(self.path, json.dumps(config, indent=1, sort_keys=True).encode())

    def schedule(self, day: date) -> dict[str, Any] | None:
        """The cached schedule of a local day, or None past what the hub sent."""
        cfg = self.load() or {}
        return next((d for d in cfg.get("calendar", []) if d["date"] == day.isoformat()), None)
