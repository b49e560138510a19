"""`pantau report`: the opening-hours report of a day, week, month or year, to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pantau.cli.common import EXIT_CONFIG, console, fail, open_rt


def report(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option(help="e.g. 2026-11")] = None,
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W48")] = None,
    day: Annotated[str | None, typer.Option(help="e.g. 2026-11-23")] = None,
    year: Annotated[str | None, typer.Option(help="e.g. 2026")] = None,
    kecamatan: Annotated[str | None, typer.Option(help="kecamatan code or name")] = None,
    kelurahan: Annotated[str | None, typer.Option(help="kelurahan code or site slug")] = None,
    fmt: Annotated[str, typer.Option("--format", help="pdf, xlsx, csv or json")] = "pdf",
    view: Annotated[str, typer.Option(help="csv: kelurahan, kecamatan or harian")] = "kelurahan",
    lang: Annotated[str, typer.Option(help="id (Bahasa Indonesia) or en")] = "id",
    out: Annotated[Path | None, typer.Option(help="file to write [default: a name]")] = None,
) -> None:
    """Opening-hours report (laporan kepatuhan jam buka) from the stored verdicts."""
    from pantau.verdicts.formats import render
    from pantau.verdicts.queries import make_report
    from pantau.verdicts.report import ReportError, Scope

    given = [p for p in (day, week, month, year) if p]
    if len(given) != 1:
        fail("give exactly one of --day, --week, --month or --year", EXIT_CONFIG)
    if fmt not in ("pdf", "xlsx", "csv", "json"):
        fail(f"--format {fmt!r}: use pdf, xlsx, csv or json", EXIT_CONFIG)
    if view not in ("kelurahan", "kecamatan", "harian"):
        fail(f"--view {view!r}: use kelurahan, kecamatan or harian", EXIT_CONFIG)
    if lang not in ("id", "en"):
        fail(f"--lang {lang!r}: use id or en", EXIT_CONFIG)
    if kecamatan and kelurahan:
        fail("give --kecamatan or --kelurahan, not both", EXIT_CONFIG)
    scope = (
        Scope.kecamatan(kecamatan)
        if kecamatan
        else Scope.kelurahan(kelurahan)
        if kelurahan
        else Scope.city()
    )
    with open_rt(ctx) as rt, console.status("menyusun laporan…"), rt.sessions() as session:
        try:
            rep = make_report(session, rt.settings, given[0], scope)
            data = render(rep, fmt, view, lang)
        except ReportError as exc:
            fail(str(exc), EXIT_CONFIG)
    area = (kecamatan or kelurahan or "kota").replace(" ", "-")
    target = out or Path(f"laporan-{given[0]}-{area}.{fmt}")
    target.write_bytes(data)
    console.print(f"{target} ({len(data):,} bytes)")
