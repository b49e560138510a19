"""Cameras: stream URLs checked, credentials split off and encrypted before anything is stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pantau.config.model import CameraConfig, ZoneConfig, check_stream_url
from pantau.registry.secrets import SecretBox, split_credentials
from pantau.store.models import Camera, Site, SiteKind


class CameraError(ValueError):
    """A camera definition that cannot be stored; `field` names the culprit."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def find_site(session: Session, ref: str) -> Site | None:
    """A site by slug or numeric id, or the kelurahan office with that code."""
    ref = ref.strip()
    if ref.isdigit():
        return session.get(Site, int(ref))
    return session.scalar(
        select(Site)
        .where(or_(Site.slug == ref, Site.kelurahan_code == ref))
        .order_by((Site.kind != SiteKind.KANTOR_KELURAHAN), Site.id)
        .limit(1)
    )


def check_zones(zones: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, zone in enumerate(zones):
        try:
            out.append(ZoneConfig.model_validate(zone).model_dump(include={"name", "points"}))
        except ValueError as exc:
            raise CameraError(f"zone {i}: {exc}", field=f"zones[{i}]") from exc
    return out


def apply_camera(
    camera: Camera,
    secrets: SecretBox,
    *,
    fields: dict[str, Any],
) -> Camera:
    """Set fields on a camera; a password in a URL or in `password` is encrypted, never stored.

    An explicit `username`/`password` beats one found in a URL; an explicit null clears it, unless
    the same call brought one in a URL.
    """
    url_user: str | None = None
    url_password: str | None = None
    for key in ("main_stream", "sub_stream"):
        if key in fields:
            try:
                url = check_stream_url(fields[key])
            except ValueError as exc:
                raise CameraError(str(exc), field=key) from exc
            if url is None:
                if key == "main_stream":
                    raise CameraError("main_stream is required", field=key)
                setattr(camera, key, None)
                continue
            clean, user, password = split_credentials(url)
            setattr(camera, key, clean)
            url_user = url_user or user
            url_password = url_password or password
    for key in ("name", "purpose", "enabled"):
        if key in fields and fields[key] is not None:
            setattr(camera, key, fields[key])
    if fields.get("username") or ("username" in fields and url_user is None):
        camera.username = fields["username"] or None
    elif url_user:
        camera.username = url_user
    if fields.get("password") or ("password" in fields and url_password is None):
        camera.password_enc = secrets.encrypt(fields["password"]) if fields["password"] else None
    elif url_password:
        camera.password_enc = secrets.encrypt(url_password)
    if "zones" in fields and fields["zones"] is not None:
        camera.zones = check_zones(fields["zones"])
    return camera


def sync_config_cameras(
    session: Session, cameras: Sequence[CameraConfig], secrets: SecretBox
) -> list[Camera]:
    """Cameras declared in pantau.yaml become registry rows (matched by site + name)."""
    synced = []
    for i, cfg in enumerate(cameras):
        site = find_site(session, cfg.site)
        if site is None:
            raise CameraError(
                f"cameras[{i}].site: no site {cfg.site!r} (use a kelurahan code or a site slug)",
                field=f"cameras[{i}].site",
            )
        camera = session.scalar(
            select(Camera).where(Camera.site_id == site.id, Camera.name == cfg.name)
        )
        if camera is None:
            camera = Camera(site=site, name=cfg.name, purpose=cfg.purpose, main_stream="")
            session.add(camera)
        data = cfg.model_dump(exclude={"site"}, exclude_unset=False)
        data["zones"] = [z.model_dump(include={"name", "points"}) for z in cfg.zones]
        if cfg.password is None:
            data.pop("password")
        apply_camera(camera, secrets, fields=data)
        synced.append(camera)
    session.flush()
    return synced
