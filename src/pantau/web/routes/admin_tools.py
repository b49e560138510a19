"""Admin tools behind the Admin page: camera connection test, zones and motion masks, GeoJSON
site import and a paged audit search.

Motion masks have no column of their own: they are stored in the camera's `zones` JSON with a
name starting with "masker:" (MASK_PREFIX), so every existing reader of a camera keeps working.
"""

from __future__ import annotations

import base64
import json
import time as clock
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import numpy as np
from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from pantau.accounts import audit
from pantau.config.model import check_stream_url
from pantau.media.reader import StreamFailure, StreamReader, redact
from pantau.media.snapshot import encode_jpeg
from pantau.registry.cameras import CameraError, apply_camera
from pantau.registry.codes import CodeError, check_kelurahan_code, slugify
from pantau.registry.secrets import SecretError, split_credentials, with_credentials
from pantau.store.models import AuditEntry, Camera, Connectivity, Kelurahan, Site, SiteKind
from pantau.vision.zones import Zone
from pantau.web import errors
from pantau.web.deps import DB, Admin, Caller, client_ip, runtime
from pantau.web.errors import ApiError, Invalid
from pantau.web.routes.cameras import visible_camera
from pantau.web.schemas import AuditOut, In

router = APIRouter(prefix="/api", tags=["admin"])

MASK_PREFIX = "masker:"
MAX_UPLOAD = 5 * 1024 * 1024
MAX_PROBLEMS = 20
NAME_KEYS = ("name", "nama", "Name", "NAMA", "NAME")


# --- camera connection test ---------------------------------------------------------------


class CameraTestIn(In):
    camera_id: int | None = Field(
        default=None, description="Test a stored camera (its URL and stored credentials)"
    )
    url: str | None = Field(default=None, description="Stream URL; overrides the camera's")
    username: str | None = Field(default=None, max_length=120)
    password: str | None = Field(default=None, max_length=256, description="Write-only")
    timeout: float = Field(default=10, ge=1, le=15, description="Seconds for the whole test")


class CameraTestOut(BaseModel):
    ok: bool
    url: str = Field(description="The URL tested, password removed")
    error: str | None = Field(
        default=None, description="auth_failed, unreachable, not_found, stalled, not_video, …"
    )
    message: str | None = Field(default=None, description="What went wrong; never a password")
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    seconds: float
    jpeg_base64: str | None = Field(default=None, description="The first picture, as JPEG")


MAX_KEYFRAMES = 4


def looks_truncated(bgr: np.ndarray) -> bool:
    """A keyframe decoded with slices missing: FFmpeg leaves the rows it never got as flat
    green (YUV 0,0,0). Seen on loaded links; such a picture is no use for drawing zones."""
    rows = bgr[-4:].astype(np.int16)
    green = (rows[..., 1] > 100) & (rows[..., 0] < 40) & (rows[..., 2] < 40)
    return bool(green.mean() > 0.5)


def probe_stream(url: str, timeout: float) -> tuple[bytes, str, int, int]:
    """A whole decoded picture of a stream as JPEG, within `timeout` seconds overall.

    A keyframe the decoder reports as damaged (or whose bottom never arrived) is skipped for
    the next one, up to MAX_KEYFRAMES; the last one is returned if none is whole in time.
    """
    deadline = clock.monotonic() + timeout
    reader = StreamReader(
        url, open_timeout=timeout, stall_timeout=min(5.0, timeout), analytics_width=1280
    )
    best = None
    with reader:
        seen = 0
        try:
            for info in reader.packets():
                errors = reader.decode_errors
                frame = reader.sample(info)
                if frame is not None:
                    best, seen = frame, seen + 1
                    whole = reader.decode_errors == errors and not looks_truncated(frame.bgr)
                    if whole or seen >= MAX_KEYFRAMES:
                        break
                if clock.monotonic() > deadline:
                    break
        except StreamFailure as exc:
            if best is None and exc.reason == "ended":  # a short file: its only keyframe
                best = reader.sample_pending()
            if best is None:
                raise
        best = best or reader.sample_pending()
        size = (reader.width, reader.height)
    if best is None:
        raise StreamFailure("stalled", f"{redact(url)}: no picture within {timeout:g} s")
    return encode_jpeg(best.bgr, 85), reader.codec_name, *size


@router.post("/cameras/test", response_model=CameraTestOut)
def test_camera(body: CameraTestIn, request: Request, scope: Admin, session: DB) -> CameraTestOut:
    """Connect like a camera worker would and return the first picture or the exact failure.

    With `camera_id` the stored URL and credentials are used unless the body gives others
    (so an edit form can test a new URL with the stored password). The password is never
    returned or logged; the test is audited.
    """
    rt = runtime(request)
    camera = (
        visible_camera(session, scope, body.camera_id, "camera.test") if body.camera_id else None
    )
    raw = body.url if body.url is not None else (camera.main_stream if camera else None)
    try:
        url = check_stream_url(raw)
    except ValueError as exc:
        raise Invalid(str(exc), "url") from exc
    if url is None:
        raise Invalid("give a stream URL or a camera_id", "url")
    clean, url_user, url_password = split_credentials(url)
    user = body.username or url_user or (camera.username if camera else None)
    password = body.password or url_password
    if password is None and camera is not None and camera.password_enc and user:
        try:
            password = rt.secrets.decrypt(camera.password_enc)
        except SecretError as exc:
            raise ApiError(500, "secret_error", str(exc)) from exc
    shown = redact(with_credentials(clean, user, "x" if password else None))
    started = clock.monotonic()
    try:
        jpeg, codec, width, height = probe_stream(
            with_credentials(clean, user, password), body.timeout
        )
        out = CameraTestOut(
            ok=True,
            url=shown,
            codec=codec,
            width=width,
            height=height,
            seconds=round(clock.monotonic() - started, 2),
            jpeg_base64=base64.b64encode(jpeg).decode(),
        )
    except StreamFailure as exc:
        message = exc.message.replace(password, "***") if password else exc.message
        out = CameraTestOut(
            ok=False,
            url=shown,
            error=exc.reason,
            message=message,
            seconds=round(clock.monotonic() - started, 2),
        )
    audit.record(
        session,
        scope,
        "camera.test",
        object_type="camera",
        object_id=camera.id if camera else None,
        detail={"url": shown, "ok": out.ok, "error": out.error, "seconds": out.seconds},
        ip=client_ip(request),
    )
    return out


# --- zones and motion masks ---------------------------------------------------------------


class PolygonIn(In):
    name: str = Field(min_length=1, max_length=52)
    points: list[tuple[float, float]] = Field(description="(x, y) as fractions of the frame")


class ZonesIn(In):
    zones: list[PolygonIn] = Field(default_factory=list, max_length=30)
    masks: list[PolygonIn] = Field(default_factory=list, max_length=30)


class PolygonOut(BaseModel):
    name: str
    points: list[tuple[float, float]]


class ZonesOut(BaseModel):
    camera_id: int
    zones: list[PolygonOut] = Field(description="Named areas, e.g. area layanan, pintu")
    masks: list[PolygonOut] = Field(
        description=f'Motion masks (stored as zones named "{MASK_PREFIX} <name>")'
    )


def split_zones(stored: list[dict[str, Any]] | None) -> tuple[list[dict], list[dict]]:
    zones, masks = [], []
    for z in stored or []:
        name = str(z.get("name", ""))
        if name.lower().startswith(MASK_PREFIX):
            masks.append({"name": name[len(MASK_PREFIX) :].strip(), "points": z["points"]})
        else:
            zones.append({"name": name, "points": z["points"]})
    return zones, masks


def _zones_out(camera: Camera) -> ZonesOut:
    zones, masks = split_zones(camera.zones)
    return ZonesOut.model_validate({"camera_id": camera.id, "zones": zones, "masks": masks})


def _checked(kind: str, items: list[PolygonIn], seen: set[str]) -> list[dict[str, Any]]:
    out = []
    for i, item in enumerate(items):
        field = f"{kind}[{i}]"
        name = item.name.strip()
        if kind == "zones" and name.lower().startswith(MASK_PREFIX):
            raise Invalid(f"{field}: a zone name may not start with {MASK_PREFIX!r}", field)
        try:
            zone = Zone(name, tuple(item.points))
        except ValueError as exc:
            what = "mask" if kind == "masks" else "zone"
            raise Invalid(f"{field}: {str(exc).replace('zone', what, 1)}", field) from exc
        key = f"{kind}:{zone.name.lower()}"
        if key in seen:
            raise Invalid(f"{field}: the name {zone.name!r} is used twice", field)
        seen.add(key)
        prefix = f"{MASK_PREFIX} " if kind == "masks" else ""
        out.append({"name": prefix + zone.name, "points": [list(p) for p in zone.points]})
    return out


@router.get("/cameras/{camera_id}/zones", response_model=ZonesOut)
def get_zones(camera_id: int, scope: Caller, session: DB) -> ZonesOut:
    """The camera's zones and motion masks, in normalised frame coordinates."""
    return _zones_out(visible_camera(session, scope, camera_id, "camera.zones.read"))


@router.put("/cameras/{camera_id}/zones", response_model=ZonesOut)
def put_zones(
    camera_id: int, body: ZonesIn, request: Request, scope: Admin, session: DB
) -> ZonesOut:
    """Replace the zones and masks. Each polygon needs a name, at least three points inside
    the frame (0..1) and an area; a refused polygon changes nothing."""
    camera = visible_camera(session, scope, camera_id, "camera.zones.update")
    seen: set[str] = set()
    stored = _checked("zones", body.zones, seen) + _checked("masks", body.masks, seen)
    before = split_zones(camera.zones)
    try:
        apply_camera(camera, runtime(request).secrets, fields={"zones": stored})
    except CameraError as exc:
        raise Invalid(str(exc), exc.field) from exc
    session.flush()
    audit.record(
        session,
        scope,
        "camera.zones.update",
        object_type="camera",
        object_id=camera.id,
        detail={
            "before": {"zones": before[0], "masks": before[1]},
            "after": body.model_dump(mode="json"),
        },
        ip=client_ip(request),
    )
    return _zones_out(camera)


# --- GeoJSON site import --------------------------------------------------------------------


class ImportedSite(BaseModel):
    id: int | None = None
    name: str
    slug: str
    kind: SiteKind
    lat: float
    lon: float
    geometry: str
    kelurahan_code: str | None
    kecamatan_code: str | None
    address: str | None


class ImportOut(BaseModel):
    dry_run: bool
    imported: int
    sites: list[ImportedSite]


class Problems(Exception):
    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['field']}: {p['message']}" for p in problems))
        self.problems = problems


async def uploaded(request: Request) -> tuple[str, bytes]:
    """(file name, bytes) from a multipart `file` field, or the raw body (application/json)."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Invalid("send the GeoJSON as a multipart field named 'file'", "file")
        data = await upload.read(MAX_UPLOAD + 1)
        name = upload.filename or "upload"
    else:
        data, name = await request.body(), "body"
    if len(data) > MAX_UPLOAD:
        raise Invalid(f"{name} is larger than {MAX_UPLOAD // (1024 * 1024)} MB", "file")
    if not data.strip():
        raise Invalid(f"{name} is empty: nothing imported", "file")
    return name, data


def _ring_centroid(ring: list) -> tuple[float, float, float]:
    """(lon, lat, |area|) of a closed ring (shoelace); vertex mean when it has no area."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-15:
        return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring), 0.0
    return cx / (3 * a), cy / (3 * a), abs(a) / 2


def _position(value: Any, where: str) -> tuple[float, float]:
    ok = isinstance(value, list | tuple) and len(value) >= 2
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
    if not ok:
        raise ValueError(f"{where}: a position must be [longitude, latitude], got {value!r:.60}")
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"{where}: [{lon}, {lat}] is not [longitude, latitude] in degrees")
    return lon, lat


def _rings(polygon: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(polygon, list) or not polygon or not isinstance(polygon[0], list):
        raise ValueError(f"{where}: a polygon must be a list of rings")
    ring = [_position(p, f"{where}[0][{j}]") for j, p in enumerate(polygon[0])]
    if len(ring) < 4:
        raise ValueError(f"{where}[0]: a ring needs at least four positions, got {len(ring)}")
    return ring


def feature_point(geometry: Any, where: str) -> tuple[float, float, str]:
    """(lon, lat, type): a Point as is, a (Multi)Polygon by the centroid of its largest part."""
    if not isinstance(geometry, dict):
        raise ValueError(f"{where}: missing geometry (a Point, Polygon or MultiPolygon)")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        return (*_position(coords, f"{where}.coordinates"), kind)
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon" and isinstance(coords, list) and coords:
        polygons = coords
    else:
        raise ValueError(
            f"{where}.type: {kind!r} is not usable; use Point, Polygon or MultiPolygon"
        )
    parts = [_rings(p, f"{where}.coordinates[{i}]") for i, p in enumerate(polygons)]
    lon, lat, _ = max((_ring_centroid(r[:-1]) for r in parts), key=lambda c: c[2])
    return lon, lat, kind


@cache
def kelurahan_shapes() -> tuple[tuple[str, tuple[tuple[tuple[float, float], ...], ...]], ...]:
    """The shipped kelurahan polygons (exterior rings), to place imported sites."""
    path = resources.files("pantau.registry") / "data" / "kendari_kelurahan.geojson"
    out = []
    for f in json.loads(path.read_text(encoding="utf-8"))["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        out.append((f["properties"]["code"], tuple(tuple(map(tuple, p[0])) for p in polys)))
    return tuple(out)


def _inside(lon: float, lat: float, ring: tuple[tuple[float, float], ...]) -> bool:
    hit = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


def kelurahan_at(lon: float, lat: float) -> str | None:
    for code, rings in kelurahan_shapes():
        if any(_inside(lon, lat, r) for r in rings):
            return code
    return None


def _text(props: dict, *keys: str) -> str | None:
    for key in keys:
        value = props.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def parse_sites(data: bytes, name: str, kind: SiteKind, known_kel: set[str]) -> list[ImportedSite]:
    """Every usable feature as a site; any problem (listed with its feature index) refuses all."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise Problems([{"field": "file", "message": f"{name} is not GeoJSON: not text"}]) from None
    except json.JSONDecodeError as exc:
        raise Problems(
            [
                {
                    "field": "file",
                    "message": f"{name} is not GeoJSON: not JSON "
                    f"(line {exc.lineno}, column {exc.colno}: {exc.msg})",
                }
            ]
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise Problems(
            [
                {
                    "field": "type",
                    "message": f"{name} is not a GeoJSON FeatureCollection (type is {got!r})",
                }
            ]
        )
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise Problems([{"field": "features", "message": "the FeatureCollection has no features"}])
    problems: list[dict[str, str]] = []
    out: list[ImportedSite] = []
    slugs: dict[str, int] = {}
    for i, feature in enumerate(features):
        where = f"features[{i}]"
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise ValueError(f"{where}: not a GeoJSON Feature")
            props = feature.get("properties") or {}
            if not isinstance(props, dict):
                raise ValueError(f"{where}.properties: must be an object")
            title = _text(props, *NAME_KEYS)
            if title is None:
                raise ValueError(f"{where}.properties: missing property 'name' (or 'nama')")
            if not 3 <= len(title) <= 160:
                raise ValueError(f"{where}.properties.name: {title!r} must be 3-160 characters")
            lon, lat, geometry = feature_point(feature.get("geometry"), f"{where}.geometry")
            site_kind = kind
            if (raw_kind := _text(props, "kind", "jenis")) is not None:
                try:
                    site_kind = SiteKind(raw_kind)
                except ValueError:
                    kinds = ", ".join(k.value for k in SiteKind)
                    raise ValueError(
                        f"{where}.properties.kind: {raw_kind!r} is not one of {kinds}"
                    ) from None
            kel = _text(props, "kelurahan_code", "kode_kelurahan")
            if kel is not None:
                try:
                    check_kelurahan_code(kel)
                except CodeError as exc:
                    raise ValueError(f"{where}.properties.kelurahan_code: {exc}") from None
                if kel not in known_kel:
                    raise ValueError(
                        f"{where}.properties.kelurahan_code: {kel} is not in the region table"
                    )
            else:
                kel = kelurahan_at(lon, lat)
            if site_kind == SiteKind.KANTOR_KELURAHAN and kel is None:
                raise ValueError(f"{where}: a kantor kelurahan needs a kelurahan_code")
            slug = slugify(title)[:80].strip("-")
            if len(slug) < 2:
                raise ValueError(f"{where}.properties.name: {title!r} gives no usable slug")
            if slug in slugs:
                raise ValueError(
                    f"{where}.properties.name: {title!r} repeats features[{slugs[slug]}]"
                )
            slugs[slug] = i
            out.append(
                ImportedSite(
                    name=title,
                    slug=slug,
                    kind=site_kind,
                    lat=round(lat, 6),
                    lon=round(lon, 6),
                    geometry=geometry,
                    kelurahan_code=kel,
                    kecamatan_code=kel.rsplit(".", 1)[0] if kel else None,
                    address=_text(props, "address", "alamat"),
                )
            )
        except ValueError as exc:
            field, _, message = str(exc).partition(": ")
            problems.append({"field": field, "message": message})
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        raise Problems(problems)
    return out


def refused(problems: list[dict[str, str]]) -> JSONResponse:
    """422 listing every problem as a field error; the message says nothing was imported."""
    listed = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    message = f"nothing imported: {listed}{more}"
    return JSONResponse(errors.body("invalid", message, problems), status_code=422)


Upload = Annotated[tuple[str, bytes], Depends(uploaded)]

IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/geo+json": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


@router.post("/sites/import", response_model=ImportOut, status_code=201, openapi_extra=IMPORT_BODY)
def import_sites(
    request: Request,
    scope: Admin,
    session: DB,
    upload: Upload,
    kind: Annotated[SiteKind, Query(description="Kind of a feature without 'kind'")] = (
        SiteKind.RUANG_PUBLIK
    ),
    connectivity: Connectivity = Connectivity.PLANNED,
    dry_run: Annotated[bool, Query(description="Check and list, store nothing")] = False,
) -> ImportOut | JSONResponse:
    """Sites from a GeoJSON FeatureCollection of Points or (Multi)Polygons with a `name`.

    Optional properties: kind, kelurahan_code (else found from the shipped kelurahan
    boundaries), address. Any unusable feature refuses the whole file, naming the feature
    index and what is missing; a site whose slug exists already is refused too.
    """
    name, data = upload
    known = set(session.scalars(select(Kelurahan.code)))
    try:
        sites = parse_sites(data, name, kind, known)
    except Problems as exc:
        return refused(exc.problems)
    taken = set(session.scalars(select(Site.slug).where(Site.slug.in_([s.slug for s in sites]))))
    clashes = [
        {"field": f"features[{i}].properties.name", "message": f"a site {s.slug!r} already exists"}
        for i, s in enumerate(sites)
        if s.slug in taken
    ]
    if clashes:
        return refused(clashes[:MAX_PROBLEMS])
    if not dry_run:
        for item in sites:
            row = Site(
                slug=item.slug,
                kind=item.kind,
                name=item.name,
                kelurahan_code=item.kelurahan_code,
                kecamatan_code=item.kecamatan_code,
                address=item.address,
                lat=item.lat,
                lon=item.lon,
                connectivity=connectivity,
            )
            session.add(row)
            session.flush()
            item.id = row.id
        audit.record(
            session,
            scope,
            "site.import",
            object_type="site",
            detail={
                "file": name,
                "count": len(sites),
                "site_ids": [s.id for s in sites][:200],
                "slugs": [s.slug for s in sites][:200],
            },
            ip=client_ip(request),
        )
    return ImportOut(dry_run=dry_run, imported=0 if dry_run else len(sites), sites=sites)


# --- audit search ---------------------------------------------------------------------------


class AuditPage(BaseModel):
    total: int
    offset: int
    limit: int
    entries: list[AuditOut]


@router.get("/audit/page", response_model=AuditPage, tags=["audit"])
def audit_page(
    request: Request,
    _: Admin,
    session: DB,
    actor: str | None = None,
    action: Annotated[str | None, Query(description='Prefix: "recording." = every viewing')] = None,
    outcome: str | None = None,
    start: Annotated[date | None, Query(alias="from", description="First local date")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last local date")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPage:
    """The audit log newest first, filtered and paged, with the total for the filters."""
    zone = ZoneInfo(runtime(request).settings.city.timezone)
    if start and end and end < start:
        raise Invalid("to is before from", "to")
    conds = []
    if action:
        conds.append(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        conds.append(AuditEntry.actor == actor)
    if outcome:
        conds.append(AuditEntry.outcome == outcome)
    if start:
        conds.append(AuditEntry.at >= datetime.combine(start, time(), zone))
    if end:
        conds.append(AuditEntry.at < datetime.combine(end + timedelta(days=1), time(), zone))
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conds)) or 0
    rows = session.scalars(
        select(AuditEntry).where(*conds).order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
    )
    return AuditPage(
        total=total,
        offset=offset,
        limit=limit,
        entries=[AuditOut.model_validate(r) for r in rows],
    )
