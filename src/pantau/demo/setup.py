"""The demo's registry: users, one camera per connected office, offices not yet connected,
allowed windows, and which offices are played by the simulator and how.

Idempotent: users and cameras are added when missing; the one-time choices (which offices are
not connected, the allowed windows) are made once, recorded in the audit log as
`demo.prepare`, and never forced again, so an admin's later edits stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pantau.accounts import audit
from pantau.accounts.users import create_user
from pantau.config.model import Settings
from pantau.demo.history import SimCamera, SimSite
from pantau.sim.offices import DEFAULT_ROTATION, SimConfig, select_offices
from pantau.sim.profiles import OfficeSim
from pantau.store.models import AuditEntry, Camera, Connectivity, Role, Site, SiteKind, User

ACTOR = "pantau demo"
DEMO_USERS = (
    ("admin", Role.ADMIN, None, "Admin Diskominfo"),
    ("operator", Role.OPERATOR, None, "Operator Ruang Kendali"),
    ("walikota", Role.PIMPINAN, None, "Pimpinan (Wali Kota)"),
    ("camat.mandonga", Role.CAMAT, "74.71.01", "Camat Mandonga"),
    ("lurah.korumba", Role.LURAH, "74.71.01.1006", "Lurah Korumba"),
)
DEMO_PASSWORD = "pantau-demo"

CAMERA_NAME = "Ruang pelayanan"
CAMERA_PURPOSE = "pelayanan publik: jam buka kantor dan keamanan"
VIEW = "interior"
# Offices with live simulated cameras, in this order (the demo users' own areas first).
LIVE_ORDER = (
    "kel-korumba",
    "kel-mandonga",
    "kel-kambu",
    "kel-wua-wua",
    "kel-puuwatu",
    "kel-poasia",
    "kel-lepo-lepo",
    "kel-kadia",
)
# Offices "terpasang tapi belum terhubung": the first ones have a camera that never connected.
NOT_CONNECTED = (
    "kel-nambo",
    "kel-petoaha",
    "kel-talia",
    "kel-sambuli",
    "kel-bungkutoko",
    "kel-tondonggeu",
)
NEVER_CONNECTED_CAMERAS = 3
ALLOWED_WINDOWS = [
    {"days": None, "from": "06.00", "to": "07.30", "note": "petugas kebersihan, apel pagi"},
    {"days": None, "from": "16.00", "to": "17.00", "note": "petugas pulang, lembur"},
    {"days": None, "from": "21.45", "to": "22.15", "note": "ronda satpam"},
]


@dataclass
class DemoPlan:
    """Which office does what in this run of the demo."""

    sites: list[SimSite]  # every connected office with a simulated history
    live: list[SimSite]  # the subset with live simulated cameras
    never_connected: list[int]  # camera ids that must stay unconnected

    @property
    def feed(self) -> list[SimSite]:
        live = {s.site_id for s in self.live}
        return [s for s in self.sites if s.site_id not in live]

    @property
    def demo_camera_ids(self) -> set[int]:
        return {c.camera_id for s in self.sites for c in s.cameras} | set(self.never_connected)


Entry = tuple[int, str, str, str, int]  # site id, slug, kelurahan code, profile, camera id


def build_sites(entries: list[Entry], tz: str) -> list[SimSite]:
    """The simulated offices of the plan (pure: a child process rebuilds the same worlds)."""
    specs = [OfficeSim(site=code, profile=profile) for _, _, code, profile, _ in entries]
    offices = select_offices(SimConfig(offices=specs), tz=tz) if specs else []
    return [
        SimSite(site_id, slug, [SimCamera(cam_id, office.world, VIEW, office.seed)], code, profile)
        for (site_id, slug, code, profile, cam_id), office in zip(entries, offices, strict=True)
    ]


def entries_of(sites: list[SimSite]) -> list[Entry]:
    return [(s.site_id, s.slug, s.code, s.profile, s.cameras[0].camera_id) for s in sites]


def stream_url(slug: str, port: int) -> str:
    return f"rtsp://127.0.0.1:{port}/{slug}/{VIEW}"


def ensure_users(session: Session) -> list[str]:
    added = []
    for username, role, code, name in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username)) is None:
            create_user(session, username, DEMO_PASSWORD, role, code, name)
            added.append(username)
    return added


def _prepared(session: Session) -> bool:
    return (
        session.scalar(select(AuditEntry.id).where(AuditEntry.action == "demo.prepare").limit(1))
        is not None
    )


def _camera(session: Session, site: Site, url: str) -> Camera:
    cam = session.scalar(
        select(Camera).where(Camera.site_id == site.id, Camera.name == CAMERA_NAME)
    )
    if cam is None:
        cam = Camera(
            site_id=site.id, name=CAMERA_NAME, purpose=CAMERA_PURPOSE, main_stream=url, zones=[]
        )
        session.add(cam)
        session.flush()
    return cam


def prepare(session: Session, settings: Settings, *, live: int, rtsp_port: int) -> DemoPlan:
    """Registry side of the demo (caller's transaction); returns the plan of this run."""
    offices = sorted(
        session.scalars(select(Site).where(Site.kind == SiteKind.KANTOR_KELURAHAN)),
        key=lambda s: s.slug,
    )
    first_time = not _prepared(session)
    not_connected = [s for s in offices if s.slug in NOT_CONNECTED]
    if first_time:
        for site in offices:
            if not site.allowed_windows:
                site.allowed_windows = [dict(w) for w in ALLOWED_WINDOWS]
        for site in not_connected:
            site.connectivity = Connectivity.NOT_CONNECTED
    never = []
    for k, site in enumerate(
        s for s in offices if s.slug in NOT_CONNECTED[:NEVER_CONNECTED_CAMERAS]
    ):
        url = f"rtsp://10.71.{20 + k}.5:554/Streaming/Channels/102"
        cam = _camera(session, site, url)
        never.append(cam.id)

    connected = [s for s in offices if s.connectivity == Connectivity.CONNECTED]
    profiles = {s.slug: DEFAULT_ROTATION[i % len(DEFAULT_ROTATION)] for i, s in enumerate(offices)}
    entries = []
    for site in connected:
        cam = _camera(session, site, stream_url(site.slug, rtsp_port))
        entries.append(
            (site.id, site.slug, site.kelurahan_code or site.slug, profiles[site.slug], cam.id)
        )
    sites = build_sites(entries, settings.city.timezone)
    rank = {slug: i for i, slug in enumerate(LIVE_ORDER)}
    chosen = sorted(sites, key=lambda s: (rank.get(s.slug, len(rank)), s.slug))[:live]
    if first_time:
        audit.record(
            session,
            ACTOR,
            "demo.prepare",
            object_type="demo",
            detail={
                "not_connected": [s.slug for s in not_connected],
                "never_connected_cameras": never,
                "allowed_windows": ALLOWED_WINDOWS,
            },
        )
    session.flush()
    return DemoPlan(sites=sites, live=chosen, never_connected=never)


def point_live_cameras(session: Session, plan: DemoPlan, rtsp_port: int) -> None:
    """The live cameras' URLs follow the RTSP server's port (another port on this run)."""
    for sim in plan.live:
        for cam in sim.cameras:
            row = session.get(Camera, cam.camera_id)
            url = stream_url(sim.slug, rtsp_port)
            if row is not None and row.main_stream != url:
                row.main_stream = url


def summary(session: Session, now: datetime) -> dict[str, int]:
    offices = list(session.scalars(select(Site).where(Site.kind == SiteKind.KANTOR_KELURAHAN)))
    return {
        "offices": len(offices),
        "not_connected": sum(s.connectivity != Connectivity.CONNECTED for s in offices),
        "simulated": sum(s.history_simulated_until is not None for s in offices),
    }
