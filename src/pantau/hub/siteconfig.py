"""What an agent needs to run its site: cameras (with credentials), zones, allowed windows,
the resolved work calendar and the intrusion margins (`incidents/hours.py`).
The hub is the source of truth; the agent caches the last one."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pantau.config.model import Settings
from pantau.hub.keys import hub_public_key
from pantau.registry.schedule import site_days
from pantau.registry.secrets import SecretBox, with_credentials
from pantau.store.models import Agent, Site
from pantau.store.types import utcnow
from pantau.verdicts.store import local_today

CALENDAR_BEHIND, CALENDAR_AHEAD = 7, 60  # days of resolved schedule sent (offline for weeks)


def site_config(
    session: Session, settings: Settings, secrets: SecretBox, agent: Agent
) -> dict[str, Any]:
    site = session.get(Site, agent.site_id)
    assert site is not None
    today = local_today(settings)
    days = site_days(
        session,
        site,
        today - timedelta(days=CALENDAR_BEHIND),
        today + timedelta(days=CALENDAR_AHEAD),
    )
    cameras = []
    for cam in site.cameras:
        password = secrets.decrypt(cam.password_enc) if cam.password_enc else None
        cameras.append(
            {
                "id": cam.id,
                "name": cam.name,
                "purpose": cam.purpose,
                "enabled": cam.enabled,
                "main_stream": with_credentials(cam.main_stream, cam.username, password),
                "sub_stream": with_credentials(cam.sub_stream, cam.username, password)
                if cam.sub_stream
                else None,
                "zones": cam.zones or [],
            }
        )
    body: dict[str, Any] = {
        "agent_id": agent.id,
        "site": {
            "id": site.id,
            "slug": site.slug,
            "name": site.name,
            "kind": str(site.kind),
            "kelurahan_code": site.kelurahan_code,
            "allowed_windows": site.allowed_windows or [],
        },
        "timezone": settings.city.timezone,
        "timezone_label": settings.city.timezone_label,
        "cameras": cameras,
        "calendar": [_day(d) for d in days],
        "margins": settings.analytics.intrusion_margins.margins().as_json(),
        "dark_motion_pct": settings.analytics.dark_motion_pct,
        "hub_public_key": hub_public_key(settings),
    }
    body["digest"] = hashlib.sha256(
        json.dumps(body, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    body["issued_at"] = utcnow().isoformat()
    return body


def _day(d: Any) -> dict[str, Any]:
    return {
        "date": d.day.isoformat() if isinstance(d.day, date) else str(d.day),
        "working": d.working,
        "opens": d.opens.strftime("%H:%M") if d.opens else None,
        "closes": d.closes.strftime("%H:%M") if d.closes else None,
        "rule": d.rule,
        "reason": d.reason,
    }
