"""How long a report takes: build + each export, for a month and a year of 65 offices.

Synthetic but real-shaped input: the 65 Kendari kelurahan offices from the shipped registry
data, the city's work calendar (weekends, national holidays, cuti bersama, Ramadan hours) and
one `Verdict` per office per day made through the real dataclass and `to_dict()`, with office
profiles (punctual, late, very late, sometimes closed, flaky camera). The previous period's
verdicts are included, so the trend is computed too.

    .venv/bin/python bench/report_speed.py [--year 2026] [--month 11] [--out DIR]

Prints process CPU time (the machine is shared; wall time would measure the neighbours).
Targets: month <= 1 s, year <= 5 s for the build. "csv" is all three views (per office, per
kecamatan, one row per office-day); the first PDF pays for matplotlib's font cache.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import resource
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pantau.registry.calendar import default_city_rules, schedule_for_day
from pantau.verdicts.rules import Coverage, Verdict

TZ = ZoneInfo("Asia/Makassar")
PROFILES = ("punctual", "punctual", "punctual", "late", "very_late", "sometimes_closed", "flaky")


def kendari_sites() -> list[dict[str, Any]]:
    """The 65 kelurahan offices as report site metadata (ids 1..65 in file order)."""
    text = (resources.files("pantau.registry") / "data" / "kendari_kelurahan.csv").read_text()
    out = []
    for i, row in enumerate(csv.DictReader(io.StringIO(text)), start=1):
        out.append(
            {
                "id": i,
                "slug": "kel-" + row["kelurahan"].lower().replace(" ", "-"),
                "name": f"Kantor Kelurahan {row['kelurahan']}",
                "kelurahan_code": row["code"],
                "kecamatan_code": row["kecamatan_code"],
                "kecamatan": row["kecamatan"],
            }
        )
    return out


def _at(day: date, minutes: float) -> datetime:
    return (datetime.combine(day, time(0), tzinfo=TZ) + timedelta(minutes=minutes)).astimezone(UTC)


def synthetic_verdicts(
    sites: list[dict[str, Any]], start: date, end: date, seed: int = 7
) -> list[dict[str, Any]]:
    """One verdict dict per site per day in [start, end]."""
    rng = random.Random(seed)
    rules = default_city_rules()
    schedules = {}
    d = start
    while d <= end:
        schedules[d] = schedule_for_day(rules, d)
        d += timedelta(days=1)
    out = []
    for site in sites:
        profile = PROFILES[site["id"] % len(PROFILES)]
        for day, sch in schedules.items():
            out.append(_one(rng, site["id"], day, sch, profile).to_dict())
    return out


def _one(rng: random.Random, site_id: int, day: date, sch: Any, profile: str) -> Verdict:
    base: dict[str, Any] = {
        "day": day,
        "working": sch.working,
        "schedule_rule": sch.rule,
        "schedule_reason": sch.reason,
        "holiday_name": sch.holiday_name,
        "rules_version": "1",
        "config_digest": "synthetic",
        "site_id": site_id,
        "cameras": (site_id,),
    }
    if not sch.working:
        return Verdict(status="libur", reason=f"Libur: {sch.reason}", **base)
    o = sch.opens.hour * 60 + sch.opens.minute
    c = sch.closes.hour * 60 + sch.closes.minute
    service = Coverage(_at(day, o), _at(day, c), c - o, c - o)
    if (profile == "flaky" and rng.random() < 0.6) or rng.random() < 0.03:
        seen = rng.randint(0, 40)
        return Verdict(
            status="tidak_diketahui",
            reason="Tidak diketahui: kamera mati",
            scheduled_open=_at(day, o),
            scheduled_close=_at(day, c),
            opening_status="tidak_diketahui",
            opening_coverage=Coverage(_at(day, o - 30), _at(day, 600), 600 - o + 30, seen),
            service_coverage=Coverage(service.start, service.end, c - o, rng.randint(0, c - o)),
            **base,
        )
    if profile == "sometimes_closed" and rng.random() < 0.2:
        return Verdict(
            status="tidak_buka",
            reason="Tidak buka",
            scheduled_open=_at(day, o),
            scheduled_close=_at(day, c),
            opening_status="tidak_buka",
            service_coverage=service,
            **base,
        )
    mean, spread = {
        "punctual": (o - 10, 8),
        "late": (o + 25, 20),
        "very_late": (o + 120, 60),
    }.get(profile, (o, 15))
    opened = max(o - 40, rng.gauss(mean, spread))
    closed = min(c + 30, rng.gauss(c + 5, 10))
    late = int(opened - o) if opened - o > 5 else None
    status = "tepat_waktu"
    if late is not None:
        status = "terlambat_berat" if opened >= 600 else "terlambat"
    elif closed < c - 5:
        status = "pulang_cepat"
    return Verdict(
        status=status,
        reason="sintetis",
        scheduled_open=_at(day, o),
        scheduled_close=_at(day, c),
        opened_at=_at(day, int(opened)),
        closed_at=_at(day, int(closed)),
        opened_earliest=_at(day, int(opened)),
        closed_latest=_at(day, int(closed)),
        opening_status="tepat_waktu" if late is None else status,
        closing_status="pulang_cepat" if closed < c - 5 else "tepat_waktu",
        late_minutes=late,
        early_minutes=int(c - closed) if closed < c - 5 else None,
        staffed_minutes=int(min(closed, c) - max(opened, o)),
        service_coverage=service,
        **base,
    )


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = cpu()
    out = fn()
    return out, cpu() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--year", type=int, default=2026)
    ap.add_argument("--month", type=int, default=11)
    ap.add_argument("--out", type=Path, help="write the exported files here")
    args = ap.parse_args(argv)

    from pantau.verdicts.report import Period, build_report

    def imports() -> None:
        import pantau.verdicts.export_csv
        import pantau.verdicts.export_pdf
        import pantau.verdicts.export_xlsx  # noqa: F401

    _, t_import = timed(imports)
    print(f"importing the exporters (openpyxl, reportlab, matplotlib): {t_import:.2f} s CPU once")
    from pantau.verdicts.export_csv import VIEWS, to_csv
    from pantau.verdicts.export_pdf import to_pdf
    from pantau.verdicts.export_xlsx import to_xlsx

    def all_csv(report: Any) -> str:
        return "".join(to_csv(report, view) for view in VIEWS)

    sites = kendari_sites()
    verdicts, t_gen = timed(
        lambda: synthetic_verdicts(sites, date(args.year - 1, 1, 1), date(args.year, 12, 31))
    )
    print(f"{len(sites)} sites, {len(verdicts)} synthetic verdicts made in {t_gen:.2f} s CPU")
    today = date(args.year + 1, 1, 1)
    for period in (Period.month(args.year, args.month), Period.year(args.year)):
        report, t_build = timed(lambda p=period: build_report(verdicts, sites, p, today=today))
        line = [f"{period.kind:5s} {period.key:8s} build {t_build:6.3f} s"]
        for name, fn, ext in (
            ("csv", all_csv, "csv"),
            ("xlsx", to_xlsx, "xlsx"),
            ("pdf", to_pdf, "pdf"),
        ):
            data, t = timed(lambda f=fn, r=report: f(r))
            line.append(f"{name} {t:6.3f} s ({len(data) / 1024:,.0f} KiB)")
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                path = args.out / f"laporan-{period.key}.{ext}"
                path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        print(" | ".join(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
