"""`pantau agent …` (the edge side: enrol, sync, status, export; and on the hub: token, list,
revoke) and `pantau import BUNDLE` (a carried disk at the hub)."""

from __future__ import annotations

import getpass
import signal
import socket
import threading
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import httpx
import typer
from rich.table import Table
from sqlalchemy import select

from pantau import __version__
from pantau.accounts import audit
from pantau.cli.common import (
    EXIT_CONFIG,
    CameraOption,
    FootagePath,
    JobsOption,
    SampleFpsOption,
    StartOption,
    console,
    fail,
    open_rt,
    state,
)
from pantau.config.model import Settings
from pantau.edge import identity as ident
from pantau.edge.bundle import BundleError, export
from pantau.edge.config_cache import ConfigCache
from pantau.edge.outbox import Outbox
from pantau.edge.receipt import ReceiptError, apply_receipt, read_receipt, write_receipt
from pantau.edge.sync import AgentRefused, HubUnavailable, SyncLoop, SyncSettings
from pantau.hub.agents import create_enrolment, revoke
from pantau.hub.bundles import import_bundle
from pantau.hub.connectivity import agent_summary
from pantau.hub.keys import hub_public_key, hub_signing_key
from pantau.hub.recompute import recompute_days
from pantau.registry.cameras import find_site
from pantau.store.db import transaction
from pantau.store.models import Agent
from pantau.store.types import utcnow

agent_app = typer.Typer(
    help="Edge agent: a site's own pipeline, synced to the hub.", no_args_is_help=True
)
CLI_ACTOR = f"cli:{getpass.getuser()}"
OUTBOX = "outbox.db"
RECEIPT_SUFFIX = ".receipt.json"
EXIT_REFUSED = 4
DirOption = Annotated[
    Path | None, typer.Option("--dir", help="Agent data directory (default <data_dir>/agent)")
]


def register(app: typer.Typer) -> None:
    app.add_typer(agent_app, name="agent")
    app.command("import")(import_cmd)


def agent_dir(settings: Settings, given: Path | None) -> Path:
    return given or settings.edge.agent_dir or settings.data_dir / "agent"


def sync_settings(settings: Settings) -> SyncSettings:
    e = settings.edge
    return SyncSettings(
        bandwidth_kbps=e.bandwidth_kbps,
        batch_max_items=e.batch_max_items,
        batch_max_bytes=e.batch_max_bytes,
        idle_seconds=e.idle_seconds,
        backoff_initial_seconds=e.backoff_initial_seconds,
        backoff_max_seconds=e.backoff_max_seconds,
        timeout_seconds=e.request_timeout_seconds,
        timezone=settings.city.timezone,
        recordings_dir=settings.recordings_dir,
    )


def _when(value: str, settings: Settings) -> datetime:
    """ "2026-11-20" (local midnight) or "2026-11-20 07.30" (local) or ISO with a zone."""
    tz = ZoneInfo(settings.city.timezone)
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=tz).astimezone(UTC)
        at = datetime.fromisoformat(value.replace(".", ":").replace("Z", "+00:00"))
    except ValueError:
        fail(f"--since {value!r}: use YYYY-MM-DD or 'YYYY-MM-DD HH.MM' ({settings.city.timezone})")
    return (at if at.tzinfo else at.replace(tzinfo=tz)).astimezone(UTC)


# ---------------------------------------------------------------- edge side


@agent_app.command("enrol")
def enrol(
    ctx: typer.Context,
    hub: Annotated[
        str, typer.Option("--hub", help="The hub's URL, e.g. https://pantau.kendarikota.go.id")
    ],
    token: Annotated[str, typer.Option("--token", help="Enrolment token from an admin")],
    name: Annotated[str | None, typer.Option(help="Agent name (default: host name)")] = None,
    directory: DirOption = None,
) -> None:
    """Exchange an enrolment token for this agent's own key (stored 0600 in the data dir)."""
    settings = state(ctx).settings
    folder = agent_dir(settings, directory)
    if (folder / ident.IDENTITY).exists():
        fail(f"{folder} already holds an enrolled agent; use another --dir or remove it first")
    key = ident.signing_key(folder)
    body = {
        "name": name or socket.gethostname(),
        "public_key": ident.public_key_b64(key),
        "version": __version__,
    }
    try:
        r = httpx.post(
            f"{hub.rstrip('/')}/api/agent/enrol",
            json=body,
            headers={"Authorization": f"Bearer {token.strip()}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach the hub at {hub}: {exc}")
    if r.status_code != 201:
        try:
            message = r.json().get("message", r.text)
        except ValueError:
            message = r.text
        fail(f"hub refused enrolment ({r.status_code}): {message}", EXIT_REFUSED)
    out = r.json()
    path = ident.save(
        folder,
        ident.Identity(
            hub_url=hub.rstrip("/"),
            agent_id=out["agent_id"],
            site_id=out["site_id"],
            name=out["name"],
            key=out["key"],
        ),
    )
    console.print(f"Enrolled as agent {out['agent_id']} of site {out['site_id']}; key in {path}")


def _loaded(settings: Settings, directory: Path | None) -> tuple[Path, ident.Identity]:
    folder = agent_dir(settings, directory)
    try:
        return folder, ident.load(folder)
    except ident.NotEnrolled as exc:
        fail(str(exc), EXIT_CONFIG)


@agent_app.command("sync")
def sync(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Stop when the outbox is empty")] = False,
    attempts: Annotated[
        int | None, typer.Option(help="With --once: give up after this many failures in a row")
    ] = None,
    directory: DirOption = None,
) -> None:
    """Send the outbox to the hub until stopped (Ctrl-C / SIGTERM finish the current batch)."""
    settings = state(ctx).settings
    folder, identity = _loaded(settings, directory)
    outbox = Outbox(folder / OUTBOX)
    loop = SyncLoop(
        identity, outbox, ConfigCache(folder), sync_settings(settings), threading.Event()
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: loop.stop.set())
    try:
        stats = loop.run(once=once, attempts=attempts)
    except AgentRefused as exc:
        fail(str(exc), EXIT_REFUSED)
    except HubUnavailable as exc:
        fail(f"hub unreachable: {exc}")
    finally:
        outbox.close()
    console.print(
        f"sent {stats.items} items in {stats.batches} batches ({stats.bytes_sent} bytes), "
        f"{stats.rejected} refused, {stats.failures} failed tries"
    )


@agent_app.command("run")
def run(ctx: typer.Context, directory: DirOption = None) -> None:
    """Run the agent: the site's cameras (from the cached config) into the outbox, and the sync
    loop that empties it, until Ctrl-C / SIGTERM."""
    from pantau.edge.runner import AgentRunner

    settings = state(ctx).settings
    folder, identity = _loaded(settings, directory)
    outbox = Outbox(folder / OUTBOX)
    cache = ConfigCache(folder)
    loop = SyncLoop(identity, outbox, cache, sync_settings(settings), threading.Event())
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: loop.stop.set())
    if cache.load() is None:
        console.print("no site configuration cached yet: cameras start after the first sync")
    try:
        refused = AgentRunner(settings, outbox, cache, loop).run()
    finally:
        outbox.close()
    if refused is not None:
        fail(str(refused), EXIT_REFUSED)


@agent_app.command("analyze")
def analyze(
    ctx: typer.Context,
    path: FootagePath,
    camera: CameraOption,
    start: StartOption = None,
    sample_fps: SampleFpsOption = 0.2,
    jobs: JobsOption = None,
    directory: DirOption = None,
) -> None:
    """Analyse recordings at the site into the outbox, resumably, without the hub: the minutes
    sync with the next link (the hub evaluates their incidents and verdicts then)."""
    from pantau.cli.analysis import analyse_footage, find_footage
    from pantau.edge.runner import specs_from_config
    from pantau.edge.sink import OutboxSink

    settings = state(ctx).settings
    folder, identity = _loaded(settings, directory)
    sources = find_footage(path, start)
    cfg = ConfigCache(folder).load()
    if cfg is None:
        fail(
            "no site configuration cached yet: run `pantau agent sync --once` while the link "
            "is up, so the agent knows its cameras",
            EXIT_CONFIG,
        )
    spec = specs_from_config(cfg).get(camera)
    if spec is None:
        known = ", ".join(f"{c['id']} ({c['name']})" for c in cfg["cameras"]) or "none"
        fail(
            f"camera {camera} is not a camera of site {identity.site_id} in the cached "
            f"configuration (cameras: {known})"
        )
    outbox = Outbox(folder / OUTBOX)
    sink = OutboxSink(outbox)
    try:
        rows = analyse_footage(
            sources,
            spec,
            settings,
            lambda r: sink.observations(camera, r),
            folder / "analyze",
            sample_fps=sample_fps,
            jobs=jobs,
        )
        backlog = outbox.backlog()
    finally:
        outbox.close()
    console.print(
        f"{len(sources)} file(s), {rows} minute observations of camera {camera} into the "
        f"outbox; backlog {backlog.items} items"
    )


@agent_app.command("status")
def status(ctx: typer.Context, directory: DirOption = None) -> None:
    """Identity, backlog and the cached configuration of this agent."""
    settings = state(ctx).settings
    folder, identity = _loaded(settings, directory)
    outbox = Outbox(folder / OUTBOX)
    b = outbox.backlog()
    rejected = outbox.rejected()
    outbox.close()
    cfg = ConfigCache(folder).load()
    console.print(
        f"agent {identity.agent_id} ({identity.name}) of site {identity.site_id} "
        f"-> {identity.hub_url}"
    )
    console.print(f"backlog: {b.items} items, {b.bytes} bytes, oldest {b.oldest or '—'}")
    console.print(
        f"complete until: {b.complete_until or '—'}; set aside (refused): {len(rejected)}"
    )
    if cfg:
        console.print(
            f"config {cfg['digest']}: {len(cfg['cameras'])} cameras, {len(cfg['calendar'])} days"
        )
    else:
        console.print("no configuration cached yet (it comes with the first sync)")


@agent_app.command("export")
def export_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the bundle to (USB disk)")],
    since: Annotated[
        str | None, typer.Option(help="Only facts from this local date/time (default: all)")
    ] = None,
    recordings: Annotated[
        bool,
        typer.Option(
            "--recordings", help="Also carry the site's recorded segments (from --since on)"
        ),
    ] = False,
    directory: DirOption = None,
) -> None:
    """Write the pending outbox as a signed bundle for `pantau import` at the hub."""
    settings = state(ctx).settings
    folder, identity = _loaded(settings, directory)
    outbox = Outbox(folder / OUTBOX)
    try:
        path, manifest = export(
            outbox,
            identity,
            ident.signing_key(folder),
            out,
            _when(since, settings) if since else None,
            settings.recordings_dir if recordings else None,
        )
    finally:
        outbox.close()
    footage = f" and {len(manifest['recordings'])} recordings" if recordings else ""
    console.print(
        f"{manifest['items']} items{footage} -> {path} ({path.stat().st_size} bytes, signed)"
    )


@agent_app.command("receipt")
def receipt_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The .receipt.json `pantau import` wrote")],
    hub_key: Annotated[
        str | None,
        typer.Option(
            help="The hub's public key, as `pantau import` prints it: for an agent whose cached "
            "configuration has none (enrolled before receipts, no link since)"
        ),
    ] = None,
    directory: DirOption = None,
) -> None:
    """Forget what the hub took from a carried disk (its signed receipt, carried back)."""
    settings = state(ctx).settings
    folder, identity = _loaded(settings, directory)
    if not path.is_file():
        fail(f"{path}: no such file")
    outbox = Outbox(folder / OUTBOX)
    try:
        cached = (ConfigCache(folder).load() or {}).get("hub_public_key")
        receipt = read_receipt(path, cached or hub_key)
        done = apply_receipt(outbox, receipt, identity.agent_id)
        left = outbox.backlog()
    except ReceiptError as exc:
        fail(f"receipt refused: {exc}")
    finally:
        outbox.close()
    console.print(
        f"bundle {receipt.bundle_id[:12]}: {done.forgotten} items the hub has left the outbox; "
        f"{done.set_aside} refused by the hub set aside; {done.changed} changed since the export "
        f"stay; {left.items} items wait"
    )


# ---------------------------------------------------------------- hub side


@agent_app.command("token")
def token(
    ctx: typer.Context,
    site: Annotated[str, typer.Option("--site", help="Site slug, kelurahan code or id")],
    hours: Annotated[
        float | None, typer.Option(help="Valid for (default edge.enrolment_hours)")
    ] = None,
) -> None:
    """(hub) Issue a one-time enrolment token for a site's agent; audited."""
    with open_rt(ctx) as rt, transaction(rt.sessions) as session:
        found = find_site(session, site)
        if found is None:
            fail(f"site {site!r} not found")
        issued = create_enrolment(
            session, found, CLI_ACTOR, hours or rt.settings.edge.enrolment_hours
        )
        audit.record(
            session,
            CLI_ACTOR,
            "agent.enrolment.create",
            object_type="agent_enrolment",
            object_id=issued.enrolment.id,
            detail={"site_id": found.id},
        )
        console.print(
            f"token for {found.name} "
            f"(valid until {issued.enrolment.expires_at:%Y-%m-%d %H:%M} UTC):"
        )
        print(issued.token)


@agent_app.command("list")
def list_cmd(ctx: typer.Context) -> None:
    """(hub) Agents, their link state, backlog and clock offset."""
    with open_rt(ctx) as rt, rt.sessions() as session:
        table = Table("id", "site", "name", "state", "last contact (UTC)", "backlog", "clock")
        now = utcnow()
        for agent in session.scalars(select(Agent).order_by(Agent.id)):
            s = agent_summary(agent, rt.settings, now)
            table.add_row(
                str(agent.id),
                s["site"] or str(agent.site_id),
                agent.name,
                s["state_label"],
                f"{agent.last_contact_at:%Y-%m-%d %H:%M}" if agent.last_contact_at else "—",
                str(agent.backlog_items),
                "—"
                if agent.clock_offset_seconds is None
                else f"{agent.clock_offset_seconds:+.1f} s",
            )
        console.print(table)


@agent_app.command("revoke")
def revoke_cmd(ctx: typer.Context, agent_id: int) -> None:
    """(hub) Revoke an agent's key at once; audited."""
    with open_rt(ctx) as rt, transaction(rt.sessions) as session:
        agent = session.get(Agent, agent_id)
        if agent is None:
            fail(f"agent {agent_id} not found")
        revoke(session, agent, CLI_ACTOR)
        audit.record(session, CLI_ACTOR, "agent.revoke", object_type="agent", object_id=agent.id)
    console.print(f"agent {agent_id} revoked")


def import_cmd(
    ctx: typer.Context,
    bundle: Annotated[Path, typer.Argument(help="A .bundle file written by `pantau agent export`")],
    receipt: Annotated[
        bool,
        typer.Option(
            help="Write a signed receipt next to the bundle; `pantau agent receipt` at the "
            "site then empties its outbox of what was taken"
        ),
    ] = True,
) -> None:
    """(hub) Import a carried-disk bundle: verified, then upserted by stable ids (twice = once)."""
    if not bundle.is_file():
        fail(f"{bundle}: no such file")
    with open_rt(ctx) as rt:
        try:
            with transaction(rt.sessions) as session:
                result = import_bundle(session, rt.settings, bundle, CLI_ACTOR)
        except BundleError as exc:
            with transaction(rt.sessions) as session:
                audit.record(
                    session,
                    CLI_ACTOR,
                    "agent.import",
                    outcome="refused",
                    detail={"file": bundle.name, "reason": str(exc)},
                )
            fail(f"bundle refused: {exc}")
        verdicts = recompute_days(rt, result.site_id, result.days, result.spans)
    again = "" if result.first_time else " (imported before: nothing new)"
    console.print(
        f"bundle {result.bundle_id[:12]} of agent {result.agent_id}: {result.accepted} of "
        f"{result.items} items accepted{again}; {len(result.rejected)} refused; "
        f"{result.recordings} recordings stored ({result.recordings_known} already here); "
        f"{verdicts} verdicts recomputed"
    )
    for key, reason in list(result.rejected.items())[:20]:
        console.print(f"  refused {key}: {reason}")
    if not receipt:
        return
    out = bundle.with_name(bundle.stem + RECEIPT_SUFFIX)
    try:
        write_receipt(out, hub_signing_key(rt.settings), result.receipt())
    except OSError as exc:  # the import stands; only the way back is missing
        console.print(f"[yellow]imported, but no receipt written to {out}: {exc}[/yellow]")
        return
    console.print(f"receipt -> {out} (carry it back: `pantau agent receipt {out.name}`)")
    console.print(
        f"hub key (for `--hub-key` at a site that has none): {hub_public_key(rt.settings)}"
    )
