"""`pantau demo`, step by step: registry, simulated history (with a progress bar), then the
hub with live simulated cameras, the feed and the rest of the history in the background."""

from __future__ import annotations

import math
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from pantau import __version__
from pantau.demo import history, setup
from pantau.demo.live import SimProcess
from pantau.pipeline.shard import ShardManager
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.types import utcnow

READY_DAYS = 1  # history written before the hub starts; older days follow in the background
CAMERAS_PER_SHARD = 8
# A simulated camera records ~0.5 GB an hour; a demo left running must not fill the disk.
CAMERA_QUOTA_GB = 1.0


@dataclass
class DemoOptions:
    port: int = 8080
    host: str = "127.0.0.1"
    live_cameras: int = 5
    history_days: int = 30
    rtsp_port: int = 8554
    serve: bool = True


@contextmanager
def _progress(console: Console, label: str) -> Iterator[tuple[Progress, int]]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[site]}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        yield bar, bar.add_task(label, total=None, site="")


def fill_history(rt: Runtime, plan: setup.DemoPlan, days: int, console: Console) -> None:
    """The simulated past of every connected office up to this minute, with a progress bar."""
    with _progress(console, f"Riwayat simulasi ({days} hari)") as (bar, task):
        total = history.fill_forward(
            rt.sessions,
            rt.settings,
            plan.sites,
            days,
            on_plan=lambda minutes: bar.update(task, total=max(1, minutes)),
            progress=lambda sim, step: bar.update(task, advance=step.minutes, site=sim.slug),
        )
        bar.update(task, completed=bar.tasks[0].total, site="")
    console.print(
        f"  {total.observations:,} observasi, {total.health:,} sampel kesehatan, "
        f"{total.incidents} insiden, {total.verdicts} putusan jam buka (data simulasi)"
    )


def _fill_missing(rt: Runtime, plan: setup.DemoPlan, days: int, console: Console) -> None:
    with rt.sessions() as session:
        todo = history.missing_days(session, rt.settings, plan.sites, days, utcnow())
    if not todo:
        return
    with _progress(console, "Hari yang belum lengkap") as (bar, task):
        bar.update(task, total=len(todo))
        for sim, day in todo:
            history.fill_day(rt.sessions, rt.settings, sim, day)
            bar.update(task, advance=1, site=f"{sim.slug} {day.isoformat()}")


def print_access(console: Console, options: DemoOptions) -> None:
    console.print(
        f"\n[bold green]Pantau {__version__} demo:[/] http://{options.host}:{options.port}/ui/"
        f"   (API: http://{options.host}:{options.port}/docs)"
    )
    console.print(
        f"Masuk / log in — kata sandi [bold]{setup.DEMO_PASSWORD}[/]: "
        + ", ".join(
            f"[bold]{name}[/] ({role.value}{' ' + code if code else ''})"
            for name, role, code, _ in setup.DEMO_USERS
        )
    )


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C: child processes are stopped


def run(rt: Runtime, options: DemoOptions, console: Console) -> None:
    """Prepare the demo; with `options.serve`, run it until Ctrl-C or SIGTERM."""
    settings = rt.settings
    if options.serve:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with transaction(rt.sessions) as session:
        setup.ensure_users(session)
        plan = setup.prepare(
            session, settings, live=options.live_cameras, rtsp_port=options.rtsp_port
        )
    live_entries = setup.entries_of(plan.live)
    sim: SimProcess | None = None
    if options.serve:  # its scenes take seconds to build: let it start while history is written
        with rt.sessions() as session:
            feed_sites = history.still_simulated(session, plan.feed)
        sim = SimProcess(
            settings,
            live_entries,
            setup.entries_of(feed_sites),
            options.history_days,
            options.rtsp_port,
        ).start()
    try:
        days = min(READY_DAYS, options.history_days) if options.serve else options.history_days
        fill_history(rt, plan, days, console)
        if not options.serve:
            _fill_missing(rt, plan, options.history_days, console)
            with rt.sessions() as session:
                facts = setup.summary(session, utcnow())
            console.print(
                f"Demo siap: {facts['offices']} kantor, {facts['not_connected']} belum terhubung, "
                f"{facts['simulated']} dengan riwayat simulasi; jalankan `pantau demo` untuk "
                "membuka ruang kendali."
            )
            print_access(console, options)
            return
        assert sim is not None
        _serve(rt, options, plan, sim, console)
    finally:
        if sim is not None:
            sim.stop()


def _serve(
    rt: Runtime, options: DemoOptions, plan: setup.DemoPlan, sim: SimProcess, console: Console
) -> None:
    import uvicorn

    from pantau.web.app import create_app

    settings = rt.settings
    try:
        port = sim.port()
        with transaction(rt.sessions) as session:
            setup.point_live_cameras(session, plan, port)
        if plan.live:
            console.print(
                f"Kamera simulasi langsung: {', '.join(s.slug for s in plan.live)} "
                f"(rtsp://127.0.0.1:{port}/<kantor>/interior)"
            )
    except RuntimeError as exc:
        console.print(f"[yellow]Kamera langsung tidak jalan:[/] {exc}")
        console.print("  (GStreamer RTSP server: jalankan scripts/bootstrap, lalu ulangi)")
    live_ids = {c.camera_id for s in plan.live for c in s.cameras}
    skip = plan.demo_camera_ids - live_ids
    sim.go()
    shards = None
    if settings.recording.camera_quota_gb is None:
        settings.recording.camera_quota_gb = CAMERA_QUOTA_GB
    if settings.ingest.enabled:
        count = max(1, min(os.cpu_count() or 1, math.ceil(len(live_ids) / CAMERAS_PER_SHARD)))
        shards = ShardManager(settings, count, frozenset(skip)).start()
    print_access(console, options)
    console.print(
        f"Riwayat {options.history_days} hari dilengkapi di latar belakang "
        f"(data simulasi, ditandai di UI). Ctrl-C untuk berhenti."
    )
    try:
        uvicorn.run(create_app(rt), host=options.host, port=options.port, log_level="warning")
    finally:
        if shards is not None:
            shards.stop()


__all__ = ["READY_DAYS", "DemoOptions", "fill_history", "run"]
