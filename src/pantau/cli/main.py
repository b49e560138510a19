"""Top-level commands: serve, demo, db, users, sites, calendar, cameras, config."""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
)
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from pantau import __version__
from pantau.accounts import audit
from pantau.accounts.users import UserError, create_user
from pantau.cli.common import (
    EXIT_DATABASE,
    CameraOption,
    CliState,
    FootagePath,
    JobsOption,
    SampleFpsOption,
    StartOption,
    console,
    fail,
    open_rt,
    state,
)
from pantau.cli.report import report as report_cmd
from pantau.cli.sim import sim_app
from pantau.cli.verdicts import verdicts_app
from pantau.demo.setup import DEMO_PASSWORD, DEMO_USERS  # noqa: F401  (kept importable here)
from pantau.registry.calendar import HARI, CalendarError, format_hhmm
from pantau.registry.cameras import find_site
from pantau.registry.schedule import site_days
from pantau.registry.secrets import split_credentials
from pantau.registry.seed import SiteImportError, import_rows, read_rows
from pantau.store.db import (
    DatabaseUnavailable,
    check_connection,
    make_engine,
    redact,
    transaction,
)
from pantau.store.migrate import current_revision, head_revision, upgrade
from pantau.store.models import Camera, Kecamatan, Role, Site, SiteKind, User

app = typer.Typer(
    help="Pantau: CCTV control room for city governments (Kota Kendari).",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts and roles.", no_args_is_help=True)
sites_app = typer.Typer(
    help="The site registry (kelurahan offices and more).", no_args_is_help=True
)
calendar_app = typer.Typer(help="Work calendar: scheduled office hours.", no_args_is_help=True)
cameras_app = typer.Typer(help="Cameras in the registry.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration file.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(sites_app, name="sites")
app.add_typer(calendar_app, name="calendar")
app.add_typer(cameras_app, name="cameras")
app.add_typer(config_app, name="config")
app.add_typer(sim_app, name="sim")
app.add_typer(verdicts_app, name="verdicts")
app.command("report")(report_cmd)
__import__("pantau.cli.agent", fromlist=["register"]).register(app)

CLI_ACTOR = f"cli:{getpass.getuser()}"


def _version(value: bool) -> None:
    if value:
        console.print(f"pantau {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", envvar="PANTAU_CONFIG", help="YAML file (default ./pantau.yaml)"
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    ctx.obj = CliState(config_path=config)


# ---------------------------------------------------------------- serve / demo


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Listen address (default from config)")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default from config)")] = None,
) -> None:
    """Run the hub: migrate, seed, then serve the API (OpenAPI at /docs)."""
    import uvicorn

    from pantau.pipeline.shard import ShardManager
    from pantau.web.app import create_app

    with open_rt(ctx) as rt:
        host = host or rt.settings.server.host
        port = port or rt.settings.server.port
        manager = ShardManager(rt.settings).start() if rt.settings.ingest.enabled else None
        if manager:
            console.print(f"Camera workers: {manager.count} processes")
        console.print(f"Pantau {__version__} on http://{host}:{port}  (API docs: /docs)")
        try:
            # Open live-event streams (SSE) would hold a plain shutdown forever.
            uvicorn.run(
                create_app(rt),
                host=host,
                port=port,
                log_level="info",
                timeout_graceful_shutdown=5,
            )
        finally:
            if manager:
                manager.stop()


@app.command()
def demo(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Listen port")] = 8080,
    no_serve: Annotated[
        bool,
        typer.Option("--no-serve", help="Prepare only (users, offices, history), do not serve"),
    ] = False,
    live_cameras: Annotated[
        int,
        typer.Option(
            "--live-cameras", min=0, max=8, help="Offices with live simulated cameras (RTSP)"
        ),
    ] = 5,
    history_days: Annotated[
        int,
        typer.Option("--history-days", min=1, max=92, help="Days of simulated history"),
    ] = 30,
    rtsp_port: Annotated[
        int, typer.Option(help="RTSP port of the simulated cameras (busy: any free port)")
    ] = 8554,
) -> None:
    """The control room on this machine: 65 Kendari offices, live simulated cameras, a
    simulated past (marked as such), demo users; embedded SQLite in ./data (docs/demo.md)."""
    from pantau.demo.run import DemoOptions, run

    st = state(ctx)
    st.settings.server.port = port
    options = DemoOptions(
        port=port,
        host=st.settings.server.host,
        live_cameras=live_cameras,
        history_days=history_days,
        rtsp_port=rtsp_port,
        serve=not no_serve,
    )
    with open_rt(ctx) as rt:
        try:
            run(rt, options, console)
        except KeyboardInterrupt:
            console.print("Demo dihentikan.")


# ---------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply migrations (also done at every start) and seed the Kendari sites."""
    settings = state(ctx).settings
    try:
        engine = make_engine(settings.database_url)
    except DatabaseUnavailable as exc:
        fail(str(exc), EXIT_DATABASE)
    try:
        check_connection(engine)
        before, after = upgrade(engine)
    except DatabaseUnavailable as exc:
        fail(str(exc), EXIT_DATABASE)
    finally:
        engine.dispose()
    if before == after:
        console.print(f"Schema already at {after}; nothing to do.")
    else:
        console.print(f"Schema upgraded from {before or 'empty'} to {after}.")
    with open_rt(ctx) as rt, rt.sessions() as session:
        n = session.scalar(select(func.count()).select_from(Site))
        console.print(f"{n} sites in the registry.")


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Show the database URL (password hidden) and the schema revision."""
    settings = state(ctx).settings
    url = make_url(settings.database_url)  # already checked when the settings were loaded
    sqlite_file = url.database if url.get_backend_name() == "sqlite" else None
    if sqlite_file not in (None, "", ":memory:") and not Path(str(sqlite_file)).exists():
        # A status query must not create the database (or its folder) as a side effect.
        console.print(f"database: {redact(settings.database_url)} (file does not exist)")
        console.print(f"schema:   empty (latest {head_revision()})  -> run `pantau db upgrade`")
        return
    try:
        engine = make_engine(settings.database_url)
    except DatabaseUnavailable as exc:
        fail(str(exc), EXIT_DATABASE)
    try:
        check_connection(engine)
        rev = current_revision(engine)
    except DatabaseUnavailable as exc:
        fail(str(exc), EXIT_DATABASE)
    finally:
        engine.dispose()
    head = head_revision()
    console.print(f"database: {engine.url.render_as_string(hide_password=True)}")
    console.print(
        f"schema:   {rev or 'empty'} (latest {head})"
        + ("" if rev == head else "  -> run `pantau db upgrade`")
    )


# ---------------------------------------------------------------- users


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    username: str,
    role: Annotated[Role, typer.Option(help="admin, operator, pimpinan, camat or lurah")],
    scope: Annotated[
        str | None, typer.Option(help="kecamatan code for camat, kelurahan code for lurah")
    ] = None,
    full_name: Annotated[str, typer.Option(help="Display name")] = "",
    password: Annotated[
        str | None,
        typer.Option(envvar="PANTAU_NEW_PASSWORD", help="Password (prompted when omitted)"),
    ] = None,
) -> None:
    """Create a user account."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_rt(ctx) as rt:
        try:
            with transaction(rt.sessions) as session:
                user = create_user(session, username, password, role, scope, full_name)
                audit.record(
                    session,
                    CLI_ACTOR,
                    "user.create",
                    object_type="user",
                    object_id=user.id,
                    detail={"username": username, "role": role.value, "scope_code": scope},
                )
        except UserError as exc:
            fail(str(exc))
    console.print(
        f"User [bold]{username}[/] created with role {role.value}"
        + (f" ({scope})" if scope else "")
    )


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """List user accounts."""
    with open_rt(ctx) as rt, rt.sessions() as session:
        table = Table("username", "name", "role", "scope", "active")
        for u in session.scalars(select(User).order_by(User.username)):
            table.add_row(
                u.username,
                u.full_name,
                u.role.value,
                u.scope_code or "-",
                "yes" if u.active else "no",
            )
        console.print(table)


# ---------------------------------------------------------------- sites


@sites_app.command("list")
def sites_list(
    ctx: typer.Context,
    kecamatan: Annotated[str | None, typer.Option(help="Kecamatan code or name")] = None,
    kind: Annotated[SiteKind | None, typer.Option(help="Site kind")] = None,
) -> None:
    """List sites grouped by kecamatan."""
    with open_rt(ctx) as rt, rt.sessions() as session:
        kecs = {k.code: k.name for k in session.scalars(select(Kecamatan))}
        query = select(Site).order_by(Site.kecamatan_code, Site.kelurahan_code, Site.name)
        if kind:
            query = query.where(Site.kind == kind)
        if kecamatan:
            codes = [
                c for c, n in kecs.items() if kecamatan in (c, n) or kecamatan.lower() == n.lower()
            ]
            if not codes:
                fail(f"no kecamatan {kecamatan!r}; known: {', '.join(sorted(kecs.values()))}")
            query = query.where(Site.kecamatan_code.in_(codes))
        sites = list(session.scalars(query))
        cams = dict(
            session.execute(select(Camera.site_id, func.count()).group_by(Camera.site_id)).all()
        )
        table = Table(
            "id", "kode", "nama", "kecamatan", "jenis", "koneksi", "kamera", title="Lokasi"
        )
        for s in sites:
            table.add_row(
                str(s.id),
                s.kelurahan_code or "-",
                s.name,
                kecs.get(s.kecamatan_code or "", "-"),
                s.kind.value,
                s.connectivity.value,
                str(cams.get(s.id, 0)),
            )
        console.print(table)
        by_kind: dict[str, int] = {}
        for s in sites:
            by_kind[s.kind.value] = by_kind.get(s.kind.value, 0) + 1
        n_kec = len({s.kecamatan_code for s in sites if s.kecamatan_code})
        summary = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(by_kind.items()))
        console.print(f"{len(sites)} sites ({summary}) in {n_kec} kecamatan")


@sites_app.command("import")
def sites_import(
    ctx: typer.Context,
    csv_path: Annotated[
        Path,
        typer.Argument(
            help="CSV: code,kelurahan,kecamatan_code,kecamatan,lat,lon[,kind,name,connectivity]"
        ),
    ],
) -> None:
    """Import or update sites from a CSV; every row is checked before anything is written."""
    try:
        rows = read_rows(csv_path)
    except SiteImportError as exc:
        fail(f"nothing imported:\n{exc}")
    with (
        open_rt(ctx) as rt,
        Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as progress,
    ):
        task = progress.add_task("importing", total=len(rows))
        with transaction(rt.sessions) as session:
            result = import_rows(session, rows, progress=lambda n: progress.advance(task, n))
            audit.record(
                session,
                CLI_ACTOR,
                "site.import",
                object_type="file",
                object_id=csv_path.name,
                detail={
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
            )
    console.print(
        f"{len(rows)} rows: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged ({result.kecamatan} new kecamatan, "
        f"{result.kelurahan} new kelurahan)"
    )


# ---------------------------------------------------------------- calendar


@calendar_app.command("show")
def calendar_show(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site id, slug or kelurahan code")],
    start: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First date")
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=400, help="Number of days")] = 14,
) -> None:
    """Scheduled hours of a site, day by day, with the rule that decided each day."""
    with open_rt(ctx) as rt, rt.sessions() as session:
        s = find_site(session, site)
        if s is None:
            fail(f"no site {site!r} (use an id, a slug or a kelurahan code)")
        tz = rt.settings.city
        first = start.date() if start else datetime.now(ZoneInfo(tz.timezone)).date()
        try:
            schedule = site_days(session, s, first, first + timedelta(days=days - 1))
        except CalendarError as exc:
            fail(str(exc))
        table = Table("tanggal", "hari", "jam kerja", "aturan", "keterangan", title=s.name)
        for d in schedule:
            hours = (
                f"{format_hhmm(d.opens)}–{format_hhmm(d.closes)} {tz.timezone_label}"
                if d.working
                else "libur"
            )
            table.add_row(d.day.isoformat(), HARI[d.day.weekday()], hours, d.rule, d.reason)
        console.print(table)


# ---------------------------------------------------------------- cameras


@cameras_app.command("list")
def cameras_list(ctx: typer.Context) -> None:
    """List cameras (passwords are never shown)."""
    with open_rt(ctx) as rt, rt.sessions() as session:
        table = Table("id", "lokasi", "nama", "tujuan", "stream utama", "aktif")
        for c in session.scalars(select(Camera).order_by(Camera.site_id, Camera.id)):
            table.add_row(
                str(c.id),
                c.site.name,
                c.name,
                c.purpose,
                c.main_stream,
                "ya" if c.enabled else "tidak",
            )
        console.print(table)


# ---------------------------------------------------------------- config


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Validate the configuration file and print the effective settings."""
    st = state(ctx)
    settings = st.settings
    console.print(
        f"configuration OK ({st.config_path or os.environ.get('PANTAU_CONFIG') or 'defaults'})"
    )
    dumped = settings.model_dump(mode="json", exclude={"cameras": {"__all__": {"password"}}})
    for cam in dumped["cameras"]:
        # rtsp://user:pw@host: the password in a stream URL must not be echoed either.
        for key in ("main_stream", "sub_stream"):
            if cam.get(key):
                cam[key] = split_credentials(cam[key])[0]
    if dumped["database"].get("url"):
        dumped["database"]["url"] = redact(dumped["database"]["url"])
    console.print_json(data=dumped)


def main() -> None:
    app()


@app.command()
def analyze(
    ctx: typer.Context,
    path: FootagePath,
    camera: CameraOption,
    start: StartOption = None,
    sample_fps: SampleFpsOption = 0.2,
    jobs: JobsOption = None,
) -> None:
    """Analyse recordings (carried disk, `pantau sim record`) into observations, resumably."""
    from pantau.cli.analysis import analyse_footage, find_footage
    from pantau.incidents.evidence import Footage, footage_span
    from pantau.incidents.store import evaluate_range
    from pantau.pipeline.camera import CameraSpec, zones_of
    from pantau.pipeline.sinks import DbSink
    from pantau.verdicts.store import recompute_range

    sources = find_footage(path, start)
    with open_rt(ctx) as rt:
        with rt.sessions() as session:
            cam = session.get(Camera, camera)
            if cam is None:
                fail(f"no camera {camera} (see `pantau cameras list`)")
            spec = CameraSpec(id=cam.id, name=cam.name, url="", zones=zones_of(cam.zones))
        sink = DbSink(rt, worker_name="analyze")
        rows = analyse_footage(
            sources,
            spec,
            rt.settings,
            lambda r: sink.observations(camera, r),
            rt.settings.data_dir / "analyze",
            sample_fps=sample_fps,
            jobs=jobs,
        )
        footage = [Footage(s.path, s.start, s.seconds) for s in sources]
        since, until = footage_span(footage)
        with transaction(rt.sessions) as session:
            incidents = evaluate_range(session, rt.settings, camera, since, until, footage)
        zone = ZoneInfo(rt.settings.city.timezone)
        with transaction(rt.sessions) as session:
            site_id = session.get(Camera, camera).site_id
            recompute_range(
                session,
                rt.settings,
                since.astimezone(zone).date(),
                min(until.astimezone(zone).date(), datetime.now(zone).date()),
                [site_id],
            )
        with transaction(rt.sessions) as session:
            audit.record(
                session,
                CLI_ACTOR,
                "observation.backfill",
                object_type="camera",
                object_id=camera,
                detail={"path": str(path), "files": len(sources), "minutes": rows},
            )
    console.print(
        f"{len(sources)} file(s), {rows} minute observations written for camera {camera}; "
        f"{len(incidents)} incident(s) in the analysed range"
    )
