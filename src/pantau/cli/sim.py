"""`pantau sim`: simulated kelurahan cameras with ground truth."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pantau.cli.common import console, fail
from pantau.registry.calendar import parse_hhmm
from pantau.sim.offices import (
    VIEWS,
    SimError,
    load_config,
    make_scene,
    parse_event,
    parse_size,
    select_offices,
)
from pantau.sim.profiles import BUILTIN

sim_app = typer.Typer(
    help="Simulated kelurahan-office cameras (real people pixels, ground truth).",
    no_args_is_help=True,
)
ZONE = "Asia/Makassar"

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="sim YAML: offices, profiles, scheduled events")
]
SizeOpt = Annotated[str, typer.Option(help="frame size WxH")]
ViewsOpt = Annotated[str, typer.Option(help="comma-separated: interior,entrance")]


def _views(text: str) -> list[str]:
    views = [v.strip() for v in text.split(",") if v.strip()]
    bad = [v for v in views if v not in VIEWS]
    if bad or not views:
        fail(f"unknown view(s) {', '.join(bad) or '(none)'}; use {', '.join(VIEWS)}")
    return views


@sim_app.command("profiles")
def profiles() -> None:
    """List the built-in office behaviour profiles."""
    table = Table("profil", "datang (pertama)", "pulang (terakhir)", "tutup", "keterangan")
    for p in BUILTIN.values():
        table.add_row(
            p.name,
            f"{p.arrive.earliest:%H.%M}–{p.arrive.latest:%H.%M}",
            f"{p.leave.earliest:%H.%M}–{p.leave.latest:%H.%M}",
            f"{p.closed_probability:.0%}",
            p.description,
        )
    console.print(table)


@sim_app.command("serve")
def serve(
    sites: Annotated[int, typer.Option("--sites", min=1, max=65, help="number of offices")] = 8,
    site: Annotated[list[str] | None, typer.Option("--site", help="office slug/code")] = None,
    views: ViewsOpt = "interior,entrance",
    fps: Annotated[float, typer.Option(min=1, max=30)] = 10.0,
    size: SizeOpt = "640x360",
    port: Annotated[int, typer.Option(help="RTSP port (0: any free port)")] = 8554,
    speed: Annotated[float, typer.Option(min=0.1, max=10000, help="simulated time speed")] = 1.0,
    start: Annotated[
        str | None,
        typer.Option(help="simulated start, local, e.g. '2026-12-01 06.00' (default: now)"),
    ] = None,
    truth_dir: Annotated[Path, typer.Option(help="ground truth JSONL folder")] = Path(
        "data/sim/groundtruth"
    ),
    config: ConfigOpt = None,
    duration: Annotated[float | None, typer.Option(help="stop after N seconds")] = None,
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            help="rare event on command, e.g. 'intruder@2026-12-01 23.40+5' or "
            "'cover@2026-12-02 10.00+30/interior' (intruder, cover, wall, defocus, blackout, "
            "camera_offline, site_offline)",
        ),
    ] = None,
) -> None:
    """Serve simulated cameras over RTSP in real time (rtsp://127.0.0.1:PORT/<site>/<view>)."""
    from pantau.sim.live import LiveCameraSpec, LiveSim, SimClock, free_udp_port
    from pantau.sim.rtsp import RtspServerError
    from pantau.sim.world import parse_local

    try:
        w, h = parse_size(size)
        events = [parse_event(e) for e in event or []]
        offices = select_offices(
            load_config(config), sites=site, count=sites, tz=ZONE, events=events
        )
        begin = parse_local(start, ZoneInfo(ZONE)) if start else None
    except (SimError, ValueError) as exc:
        fail(str(exc))
    cams = [
        LiveCameraSpec(
            o.world, view, make_scene(o.seed, view, w, h), f"{o.slug}/{view}", free_udp_port()
        )
        for o in offices
        for view in _views(views)
    ]
    live = LiveSim(cams, fps=fps, clock=SimClock(begin, speed), truth_dir=truth_dir, port=port)
    try:
        live.start()
    except RtspServerError as exc:
        fail(str(exc))
    try:
        table = Table("kantor", "profil", "kamera", "URL")
        for o in offices:
            for view in _views(views):
                table.add_row(o.name, o.world.profile.name, view, live.url(f"{o.slug}/{view}"))
        console.print(table)
        console.print(
            f"{len(cams)} cameras at {fps:g} fps, {w}x{h}; ground truth in "
            f"{truth_dir}/; Ctrl-C to stop"
        )
        deadline = time.monotonic() + duration if duration else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5)
            broken = [t for t in live.threads if t.error]
            if broken and len(broken) == len(live.threads):
                fail(f"all simulated cameras failed: {broken[0].error}")
    except KeyboardInterrupt:
        pass
    finally:
        live.stop()


@sim_app.command("record")
def record_cmd(
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    site: Annotated[list[str] | None, typer.Option("--site", help="office slug/code")] = None,
    days: Annotated[int, typer.Option(min=1, max=366)] = 7,
    first: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="first local date")
    ] = None,
    interval: Annotated[
        float, typer.Option(min=0.5, max=600, help="simulated seconds between frames")
    ] = 5.0,
    views: ViewsOpt = "interior,entrance",
    size: SizeOpt = "640x360",
    config: ConfigOpt = None,
    hours: Annotated[
        str, typer.Option(help="local hours of each day to record, e.g. 05.30-18.30")
    ] = "00.00-24.00",
) -> None:
    """Write simulated days to MP4 files faster than real time, with ground truth."""
    from pantau.sim.record import RecordError, frame_times, record

    try:
        a, _, b = hours.partition("-")
        span = (_hours(a), _hours(b))
    except ValueError as exc:
        fail(f"--hours {hours!r}: {exc} (write it as 05.30-18.30)")
    try:
        w, h = parse_size(size)
        offices = select_offices(load_config(config), sites=site, count=1, tz=ZONE)
    except SimError as exc:
        fail(str(exc))
    view_list = _views(views)
    start_day = first.date() if first else date.today() - timedelta(days=days)
    per_day = len(frame_times(offices[0].world, start_day, interval, span))
    total = per_day * days * len(view_list) * len(offices)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("rendering", total=total)
        made = []
        for o in offices:
            scenes = {v: make_scene(o.seed, v, w, h) for v in view_list}
            progress.update(task, description=f"{o.slug}")
            try:
                made += record(
                    o.world,
                    scenes,
                    out,
                    start_day,
                    days,
                    interval_s=interval,
                    hours=span,
                    progress=lambda n: progress.advance(task, n),
                )
            except RecordError as exc:
                fail(str(exc))
    console.print(
        f"{len(made)} files in {out}/ ({sum(f.frames for f in made)} frames); "
        f"ground truth: {out}/<site>/groundtruth.jsonl"
    )


def _hours(text: str) -> float:
    """ "07.30" -> 7.5; "24.00" is the end of the day."""
    text = str(parse_hhmm(text.strip()))
    if text in ("24:00", "24:00:00"):
        return 24.0
    t = datetime.strptime(text, "%H:%M").time()
    return t.hour + t.minute / 60


@sim_app.command("contact-sheet")
def contact_sheet_cmd(
    out: Annotated[Path, typer.Option("--out", help="PNG file")] = Path("contact-sheet.png"),
    site: Annotated[list[str] | None, typer.Option("--site")] = None,
    day: Annotated[datetime | None, typer.Option("--date", formats=["%Y-%m-%d"])] = None,
    config: ConfigOpt = None,
) -> None:
    """A picture of one simulated day (both views) for one or more offices."""
    import cv2

    from pantau.sim.render import contact_sheet

    try:
        offices = select_offices(
            load_config(config), sites=site or ["kel-mandonga", "kel-kambu"], tz=ZONE
        )
    except SimError as exc:
        fail(str(exc))
    the_day = day.date() if day else date.today()
    world_of: dict[int, object] = {}
    scenes, labels = [], []
    for o in offices:
        for view in VIEWS:
            scene = make_scene(o.seed, view, 640, 360)
            world_of[id(scene)] = o.world
            scenes.append(scene)
            labels.append(f"{o.name} / {view} / {o.world.profile.name}")
    first = offices[0].world
    times = [first.local(the_day, 5.0 + 1.5 * k) for k in range(13)]  # 05.00 .. 23.00

    def plan_fn(scene: object, at: datetime) -> tuple:
        present, lights, tamper, _offline = world_of[id(scene)].state_at(at, scene.view)  # type: ignore[attr-defined]
        return present, lights, tamper

    sheet = contact_sheet(scenes, times, plan_fn, labels=labels)
    if not cv2.imwrite(str(out), sheet):
        fail(f"cannot write {out}")
    console.print(f"wrote {out}")
