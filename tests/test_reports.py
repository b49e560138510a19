"""Compliance reports on hand-made verdicts: the arithmetic, corrections, ranking, periods and
trend, and the three export formats read back by real readers (csv, openpyxl, pypdf, Pillow).

Verdicts are made through the real `Verdict` dataclass and `to_dict()`, so the report reads
exactly the shape the verdict rules and the store produce.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from pantau.registry.calendar import default_city_rules, schedule_for_day
from pantau.verdicts import decide_day
from pantau.verdicts.export_csv import to_csv
from pantau.verdicts.export_pdf import heatmap_chart, opening_chart, to_pdf
from pantau.verdicts.export_xlsx import HEADER_FILL, to_xlsx
from pantau.verdicts.labels import EXCUSED, LABELS, STATUS_COLORS, hhmm, label
from pantau.verdicts.report import Period, ReportError, Scope, build_report
from pantau.verdicts.rules import Coverage, Verdict

TZ = ZoneInfo("Asia/Makassar")
MON = date(2026, 11, 23)  # ISO week 2026-W48
WEEK = Period.parse("2026-W48")
TODAY = date(2026, 12, 15)


def hm(text: str) -> int:
    h, m = text.split(".")
    return int(h) * 60 + int(m)


def at(day: date, text: str) -> datetime:
    return (datetime.combine(day, time(0), tzinfo=TZ) + timedelta(minutes=hm(text))).astimezone(UTC)


def vd(
    site_id: int,
    day: date,
    status: str,
    opened: str | None = None,
    late: int | None = None,
    *,
    seen: tuple[int, int] = (125, 125),
    opens: str = "07.30",
    closes: str = "16.00",
) -> dict[str, Any]:
    """One verdict dict as `Verdict.to_dict()` gives it."""
    base: dict[str, Any] = {
        "day": day,
        "status": status,
        "working": status != "libur",
        "schedule_rule": "weekly",
        "schedule_reason": "Jam kerja reguler",
        "reason": f"uji {status}",
        "rules_version": "1",
        "config_digest": "test",
        "site_id": site_id,
    }
    if status == "libur":
        return Verdict(**base).to_dict()
    o, c = at(day, opens), at(day, closes)
    return Verdict(
        **base,
        scheduled_open=o,
        scheduled_close=c,
        opened_at=at(day, opened) if opened else None,
        opened_earliest=at(day, opened) if opened else None,
        opening_status=status if status != "pulang_cepat" else "tepat_waktu",
        late_minutes=late,
        opening_coverage=Coverage(o - timedelta(minutes=30), at(day, "09.35"), *seen),
        service_coverage=Coverage(o, c, hm(closes) - hm(opens), hm(closes) - hm(opens)),
    ).to_dict()


SITES = [
    {
        "id": 1,
        "slug": "kel-alpha",
        "name": "Kantor Kelurahan Alpha",
        "kelurahan_code": "74.71.01.1001",
        "kecamatan_code": "74.71.01",
        "kecamatan": "Mandonga",
    },
    {
        "id": 2,
        "slug": "kel-beta",
        "name": "Kantor Kelurahan Beta",
        "kelurahan_code": "74.71.01.1002",
        "kecamatan_code": "74.71.01",
        "kecamatan": "Mandonga",
    },
    {
        "id": 3,
        "slug": "kel-gamma",
        "name": "Kantor Kelurahan Gamma",
        "kelurahan_code": "74.71.02.1001",
        "kecamatan_code": "74.71.02",
        "kecamatan": "Kadia",
    },
]


def week(site_id: int, days: list[tuple[str, str | None, int | None]], monday: date = MON):
    """Mon..Fri verdicts from (status, opened, late), then Saturday and Sunday off."""
    out = [vd(site_id, monday + timedelta(days=i), *d) for i, d in enumerate(days)]
    out += [vd(site_id, monday + timedelta(days=5), "libur")]
    out += [vd(site_id, monday + timedelta(days=6), "libur")]
    return out


ALPHA = [
    ("tepat_waktu", "07.20", None),
    ("terlambat", "07.50", 20),
    ("terlambat_berat", "10.10", 160),
    ("tidak_diketahui", None, None),
    ("tepat_waktu", "07.25", None),
]


def test_site_counts_rates_and_times() -> None:
    verdicts = week(1, ALPHA)
    verdicts[3] = vd(1, MON + timedelta(days=3), "tidak_diketahui", seen=(125, 30))
    r = build_report(verdicts, SITES, WEEK, Scope.kelurahan("kel-alpha"), today=TODAY)
    s = r.site(1).stats
    assert (s.days, s.working_days, s.holidays) == (7, 5, 2)
    assert (s.on_time, s.late, s.heavy_late, s.not_open, s.closed_early, s.unknown) == (
        2,
        2,
        1,
        0,
        0,
        1,
    )
    assert s.judged == 4
    assert s.on_time_rate == pytest.approx(0.5)
    assert s.corrected_rate == pytest.approx(0.5)
    # Openings 07.20, 07.50, 10.10, 07.25 (the unknown day has none)
    assert s.avg_open == pytest.approx((440 + 470 + 610 + 445) / 4)
    assert hhmm(s.avg_open) == "08.11"
    assert s.median_open == pytest.approx(457.5)
    assert s.avg_late == pytest.approx(90.0)
    assert s.unknown_seen_rate == pytest.approx(30 / 125)
    assert s.service_seen_rate == pytest.approx(1.0)
    assert s.missing == 0
    assert r.scope_name == "Kantor Kelurahan Alpha"
    assert [c.status for c in r.site(1).cells.values()][:5] == [a[0] for a in ALPHA]


def test_corrections_excuse_bad_and_unknown_days_and_keep_the_raw_rate() -> None:
    verdicts = week(1, ALPHA)
    corrections = [
        {"site_id": 1, "day": MON + timedelta(days=1), "reason": "dinas_luar", "note": "SPT 12"},
        {"site_id": 1, "day": (MON + timedelta(days=3)).isoformat(), "reason": "listrik_padam"},
        {"site_id": 1, "day": MON, "reason": "lainnya", "note": "on time anyway"},
        {"site_id": 2, "day": MON, "reason": "bencana"},  # not in scope: ignored
    ]
    # A verdict row from the store may carry its correction inline.
    verdicts[2] = dict(verdicts[2], correction={"reason": "rapat_kantor_camat", "note": "rapat"})
    r = build_report(
        verdicts,
        SITES,
        WEEK,
        Scope.kelurahan("74.71.01.1001"),
        corrections=corrections,
        today=TODAY,
    )
    s = r.site(1).stats
    assert s.on_time_rate == pytest.approx(0.5)  # raw: what the cameras saw
    assert (s.excused_judged, s.excused_unknown) == (2, 1)
    # on time 2 + excused late 2 + excused unknown 1, over judged 4 + the excused unknown day
    assert s.corrected_rate == pytest.approx(5 / 5)
    assert s.late == 2  # the counts stay raw
    cells = r.site(1).cells
    assert (
        cells[MON].shown_status == "tepat_waktu"
    )  # a correction on an on-time day changes nothing
    assert cells[MON + timedelta(days=1)].shown_status == EXCUSED
    assert cells[MON + timedelta(days=3)].shown_status == EXCUSED
    assert [(c.day.weekday(), c.raw_status, c.excused) for c in r.corrections] == [
        (0, "tepat_waktu", False),
        (1, "terlambat", True),
        (2, "terlambat_berat", True),
        (3, "tidak_diketahui", True),
    ]


def test_ranking_ties_and_mostly_unknown_offices_apart() -> None:
    sites = [
        *SITES,
        {"id": 4, "slug": "kel-delta", "name": "Kantor Kelurahan Delta", "kecamatan": "Kadia"},
        {"id": 5, "slug": "kel-eps", "name": "Kantor Kelurahan Epsilon", "kecamatan": "Kadia"},
        {"id": 6, "slug": "kel-zeta", "name": "Kantor Kelurahan Zeta", "kecamatan": "Kadia"},
    ]
    ok = ("tepat_waktu", "07.20", None)
    late = ("terlambat", "07.50", 20)
    unk = ("tidak_diketahui", None, None)
    verdicts = [
        *week(1, [ok] * 5),  # 100 %, opens 07.20
        *week(2, [("tepat_waktu", "07.10", None)] * 5),  # 100 %, earlier: first
        *week(3, [ok, ok, late, late, unk]),  # 50 %, avg 07.35
        *week(4, [late, ok, late, ok, unk]),  # 50 %, avg 07.35: tie with Gamma
        *week(5, [late, late, unk, unk, unk]),  # 0 % but 3 of 5 unknown: not ranked
        vd(6, MON + timedelta(days=5), "libur"),  # only a holiday: nothing to rank
    ]
    r = build_report(verdicts, sites, WEEK, today=TODAY)
    ranks = [(x.site.id, x.rank) for x in r.ranking]
    assert ranks == [(2, 1), (1, 2), (4, 3), (3, 3)]  # ties share a rank, listed by name
    assert [x.site.id for x in r.insufficient] == [5]
    assert r.site(5).rank is None and r.site(6).rank is None
    assert r.site(5).stats.on_time_rate == 0.0  # it would have been last, as if it were late
    assert 6 not in {x.site.id for x in (*r.ranking, *r.insufficient)}


def _rows(day: date, start: str, end: str) -> list[dict[str, Any]]:
    """One camera seen all day, staffed with lights on from `start` to `end`."""
    rows = []
    for m in range(24 * 60):
        staffed = hm(start) <= m < hm(end)
        rows.append(
            {
                "camera_id": 1,
                "minute": at(day, "00.00") + timedelta(minutes=m),
                "people_max": 2 if staffed else 0,
                "zones": {},
                "lights_on": staffed,
                "coverage_seconds": 60.0,
                "tamper": {},
            }
        )
    return rows


def test_friday_schedule_comes_from_the_verdicts() -> None:
    """Same day of work on Monday and Friday: Friday closes at 16.30, so leaving at 16.10 is
    on time on Monday and an early closing on Friday."""
    rules = default_city_rules()
    fri = MON + timedelta(days=4)
    verdicts = [
        decide_day(_rows(d, "07.20", "16.10"), schedule_for_day(rules, d), site_id=1).to_dict()
        for d in (MON, fri)
    ]
    assert [v["status"] for v in verdicts] == ["tepat_waktu", "pulang_cepat"]
    r = build_report(verdicts, SITES, WEEK, Scope.kelurahan("kel-alpha"), today=TODAY)
    s = r.site(1).stats
    assert (s.working_days, s.on_time, s.closed_early) == (2, 1, 1)
    assert s.on_time_rate == pytest.approx(0.5)
    assert s.missing == 5  # Tuesday..Thursday and the weekend have no verdict
    series = {p.day: p for p in r.opening_series(1)}
    assert series[fri].scheduled == hm("07.30")
    assert series[fri].opened == pytest.approx(hm("07.20"))
    assert series[MON + timedelta(days=1)].opened is None


def test_kecamatan_and_city_aggregates_pool_the_days() -> None:
    verdicts = [
        *week(1, ALPHA),
        *week(2, [("tepat_waktu", "07.00", None)] * 4 + [("tidak_buka", None, None)]),
        *week(3, [("pulang_cepat", "07.29", None)] * 5),
    ]
    r = build_report(verdicts, SITES, WEEK, today=TODAY)
    assert [g.name for g in r.groups] == ["Kadia", "Mandonga"]
    mandonga = r.groups[1]
    assert mandonga.sites == 2
    assert mandonga.stats.working_days == 10
    assert mandonga.stats.on_time == 2 + 4
    assert mandonga.stats.not_open == 1
    assert mandonga.stats.on_time_rate == pytest.approx(6 / 9)  # pooled days, not mean of rates
    t = r.total.stats
    assert (t.working_days, t.closed_early, t.unknown) == (15, 5, 1)
    assert r.total.sites == 3
    assert t.on_time_rate == pytest.approx(6 / 14)
    assert sorted(t.opening_minutes) == sorted([440, 470, 610, 445] + [420] * 4 + [449] * 5)
    kadia = build_report(verdicts, SITES, WEEK, Scope.kecamatan("74.71.02"), today=TODAY)
    assert [s.site.id for s in kadia.sites] == [3]
    assert kadia.scope_name == "Kadia"
    by_name = build_report(verdicts, SITES, WEEK, Scope.kecamatan("mandonga"), today=TODAY)
    assert {s.site.id for s in by_name.sites} == {1, 2}
    with pytest.raises(ReportError, match="tidak ada kantor"):
        build_report(verdicts, SITES, WEEK, Scope.kecamatan("74.71.99"), today=TODAY)


def test_periods() -> None:
    assert (WEEK.start, WEEK.end, WEEK.key) == (MON, MON + timedelta(days=6), "2026-W48")
    assert Period.parse("2026-11").days[-1] == date(2026, 11, 30)
    assert Period.parse("2026-01").previous() == Period.month(2025, 12)
    assert Period.parse("2026-W01").previous().key == "2025-W52"
    assert Period.parse("2026-W53").key == "2026-W53"  # 2026 has 53 ISO weeks
    assert Period.parse("2024-02").end == date(2024, 2, 29)
    assert Period.parse("2026-11-23").previous() == Period.day(date(2026, 11, 22))
    assert Period.parse("2026").previous() == Period.year(2025)
    assert Period.parse("2026-11").title() == "November 2026"
    assert Period.parse("2026-11-27").title() == "Jumat, 27 November 2026"
    assert Period.parse("2026-11-27").title("en") == "Friday, 27 November 2026"
    for bad in ("2026-13", "2025-W53", "kemarin", "2026-11-31"):
        with pytest.raises(ReportError):
            Period.parse(bad)


def test_trend_against_the_previous_period() -> None:
    before = MON - timedelta(days=7)
    prev = week(1, [("tepat_waktu", "07.20", None)] + [("terlambat", "08.00", 30)] * 3, before)
    now = week(1, ALPHA)
    r = build_report(prev + now, SITES, WEEK, Scope.kelurahan("kel-alpha"), today=TODAY)
    assert r.has_previous and r.previous_period.key == "2026-W47"
    t = r.site(1).trend
    assert t is not None
    assert t.previous_rate == pytest.approx(0.25)
    assert t.rate_delta == pytest.approx(25.0)  # 50 % now, 25 % before
    assert t.open_delta == pytest.approx((440 + 470 + 610 + 445) / 4 - (440 + 480 * 3) / 4)
    assert r.total.trend is not None and r.total.trend.rate_delta == pytest.approx(25.0)
    alone = build_report(now, SITES, WEEK, Scope.kelurahan("kel-alpha"), today=TODAY)
    assert not alone.has_previous and alone.site(1).trend is None and alone.total.trend is None


def test_future_empty_and_partial_periods() -> None:
    verdicts = week(1, ALPHA)
    with pytest.raises(ReportError, match="belum dimulai"):
        build_report(verdicts, SITES, "2026-12", today=date(2026, 11, 30))
    with pytest.raises(ReportError, match="tidak ada putusan"):
        build_report(verdicts, SITES, "2026-10", today=TODAY)
    # The current week on Wednesday: only Monday..Wednesday are reported.
    r = build_report(verdicts[:3], SITES, WEEK, today=MON + timedelta(days=2))
    assert r.days == [MON, MON + timedelta(days=1), MON + timedelta(days=2)]
    assert r.site(1).stats.missing == 0
    assert r.site(2).stats.missing == 3
    assert r.ignored_verdicts == 0
    stray = build_report([*verdicts, vd(99, MON, "tepat_waktu", "07.00")], SITES, WEEK, today=TODAY)
    assert stray.ignored_verdicts == 1


def _report() -> Any:
    verdicts = [
        *week(1, ALPHA),
        *week(2, [("tepat_waktu", "07.00", None)] * 4 + [("tidak_buka", None, None)]),
        *week(3, [("tidak_diketahui", None, None)] * 4 + [("tepat_waktu", "07.29", None)]),
    ]
    corrections = [{"site_id": 1, "day": MON + timedelta(days=1), "reason": "dinas_luar"}]
    return build_report(verdicts, SITES, WEEK, corrections=corrections, today=TODAY)


def test_csv_parses_back() -> None:
    r = _report()
    rows = list(csv.DictReader(io.StringIO(to_csv(r, "kelurahan"))))
    assert [row["Kantor"] for row in rows] == [
        "Kantor Kelurahan Beta",
        "Kantor Kelurahan Alpha",
        "Kantor Kelurahan Gamma",
    ]
    alpha = rows[1]
    assert alpha["Peringkat"] == "2"
    assert alpha["Tepat waktu (%)"] == "50.0"
    assert alpha["Tepat waktu setelah koreksi (%)"] == "75.0"  # (2 + 1) / 4
    assert alpha["Rata-rata jam buka"] == "08.11"
    assert alpha["Terlambat berat"] == "1"
    assert alpha["Dikoreksi (alasan resmi)"] == "1"
    assert rows[2]["Peringkat"] == "Data tidak cukup"
    daily = list(csv.DictReader(io.StringIO(to_csv(r, "harian"))))
    assert len(daily) == 3 * 7
    tue = next(d for d in daily if d["Tanggal"] == "2026-11-24" and d["Kantor"].endswith("Alpha"))
    assert (tue["Status asli"], tue["Status"], tue["Alasan"]) == (
        "Terlambat",
        "Dikoreksi",
        "Dinas luar",
    )
    assert tue["Jam buka"] == "07.50" and tue["Jadwal buka"] == "07.30"
    groups = list(csv.DictReader(io.StringIO(to_csv(r, "kecamatan"))))
    assert groups[-1]["Kecamatan"] == "Total Kota Kendari"
    assert groups[-1]["Hari kerja"] == "15"
    english = list(csv.DictReader(io.StringIO(to_csv(r, "kelurahan", lang="en"))))
    assert english[0]["Office"] == "Kantor Kelurahan Beta" and "On time (%)" in english[0]
    with pytest.raises(ValueError):
        to_csv(r, "bulanan")  # type: ignore[arg-type]


def _rgb(cell: Any) -> str:
    return str(cell.fill.fgColor.rgb)[-6:]


def test_xlsx_opens_with_headers_fills_and_values() -> None:
    r = _report()
    wb = load_workbook(io.BytesIO(to_xlsx(r)))
    assert wb.sheetnames == ["Ringkasan", "Per kelurahan", "Harian"]

    summary = wb["Ringkasan"]
    assert summary["A1"].value == "Laporan Kepatuhan Jam Buka Kantor Kelurahan"
    assert "Minggu ke-48 2026" in summary["A2"].value
    figures = {
        summary.cell(row=i, column=1).value: summary.cell(row=i, column=2) for i in range(6, 25)
    }
    assert figures["Hari kerja"].value == 15
    assert figures["Tepat waktu (%)"].value == pytest.approx(7 / 10)
    assert figures["Tepat waktu (%)"].number_format == "0.0%"

    per_site = wb["Per kelurahan"]
    assert per_site.freeze_panes == "D2"
    header = [c.value for c in per_site[1]]
    assert header[:4] == ["Peringkat", "Kecamatan", "Kantor", "Kode kelurahan"]
    assert _rgb(per_site["A1"]) == HEADER_FILL and per_site["A1"].font.bold
    col = header.index("Tepat waktu (%)") + 1
    values = {
        per_site.cell(row=i, column=3).value: per_site.cell(row=i, column=col) for i in (2, 3, 4)
    }
    assert values["Kantor Kelurahan Alpha"].value == pytest.approx(0.5)
    assert values["Kantor Kelurahan Alpha"].number_format == "0.0%"
    assert values["Kantor Kelurahan Gamma"].value == pytest.approx(1.0)
    assert (
        _rgb(per_site.cell(row=1, column=header.index("Tepat waktu") + 1))
        == STATUS_COLORS["tepat_waktu"]
    )
    assert len(per_site.conditional_formatting) >= 2  # colour scale on both rate columns
    assert per_site.column_dimensions["C"].width >= len("Kantor Kelurahan Alpha")

    grid = wb["Harian"]
    assert grid.freeze_panes == "C2"
    names = [grid.cell(row=i, column=2).value for i in (2, 3, 4)]
    alpha_row = names.index("Kantor Kelurahan Alpha") + 2
    mon, tue, thu, sat = (grid.cell(row=alpha_row, column=3 + i) for i in (0, 1, 3, 5))
    assert grid.cell(row=1, column=3).value == "Sen 23/11"
    assert (mon.value, _rgb(mon)) == ("07.20", STATUS_COLORS["tepat_waktu"])
    assert (tue.value, _rgb(tue)) == ("07.50", STATUS_COLORS[EXCUSED])  # corrected
    assert (thu.value, _rgb(thu)) == ("?", STATUS_COLORS["tidak_diketahui"])
    assert (sat.value, _rgb(sat)) == ("L", STATUS_COLORS["libur"])
    legend = [grid.cell(row=i, column=2).value for i in range(6, 15)]
    assert "Tepat waktu" in legend and "Tidak diketahui" in legend


def _png_ok(data: bytes) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(data)).convert("RGB")
    assert img.width > 500 and img.height > 200
    assert len(img.getcolors(maxcolors=1 << 20) or []) > 10  # not a blank canvas
    return img


def _has_colour(img: Image.Image, hex_rgb: str, tol: int = 6) -> bool:
    want = tuple(int(hex_rgb[i : i + 2], 16) for i in (0, 2, 4))
    return any(
        all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=True))
        for _, rgb in img.getcolors(maxcolors=1 << 20)
    )


def test_charts_are_real_images() -> None:
    r = _report()
    _png_ok(opening_chart(r))
    _png_ok(opening_chart(r, site_id=1))
    heat = _png_ok(heatmap_chart(r))
    for status in ("tepat_waktu", "tidak_diketahui", EXCUSED, "libur", "tidak_buka"):
        assert _has_colour(heat, STATUS_COLORS[status]), status


def test_pdf_text_pages_and_images() -> None:
    r = _report()
    reader = PdfReader(io.BytesIO(to_pdf(r)))
    assert len(reader.pages) >= 3
    text = "\n".join(p.extract_text() for p in reader.pages)
    for needle in (
        "Laporan Kepatuhan Jam Buka Kantor Kelurahan",
        "Kota Kendari",
        "Minggu ke-48 2026",
        "Tepat waktu",
        "Terlambat",
        "Tidak diketahui",
        "Peringkat kepatuhan",
        "Data tidak cukup",
        "Koreksi resmi",
        "Dinas luar",
        "07.35 WITA",  # the city's average opening
        "08.11",  # Alpha's, in the ranking
        "Alpha",
        "Gamma",
        "Halaman 2",
    ):
        assert needle in text, needle
    assert sum(len(p.images) for p in reader.pages) == 2  # opening chart + heat map
    assert reader.metadata.title.startswith("Laporan Kepatuhan")


def test_daily_pdf_lists_every_office_with_its_reason() -> None:
    verdicts = [*week(1, ALPHA), *week(2, [("tidak_buka", None, None)] * 5)]
    r = build_report(verdicts, SITES, MON.isoformat(), today=TODAY)
    reader = PdfReader(io.BytesIO(to_pdf(r)))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Ringkasan Harian Jam Buka Kantor Kelurahan" in text
    assert "Senin, 23 November 2026" in text
    assert "uji tidak_buka" in text and "Tidak buka" in text
    assert "Tanpa data" in text  # Gamma has no verdict that day
    assert sum(len(p.images) for p in reader.pages) == 0


def test_english_labels_through_the_same_catalogue() -> None:
    assert set(LABELS["id"]) == set(LABELS["en"])
    r = _report()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(r, "en"))).pages)
    assert "Kelurahan Office Opening-Hours Compliance Report" in text
    assert "Week 48 of 2026" in text and "Not enough data" in text
    assert label("on_time", "en") == "On time"
    assert load_workbook(io.BytesIO(to_xlsx(r, "en"))).sheetnames == [
        "Summary",
        "Per kelurahan",
        "Daily",
    ]


def test_days_waiting_for_a_sites_data_are_marked_in_every_format() -> None:
    """An edge site whose agent has not sent Thursday yet: the day is `tidak_diketahui` for
    now, and every export says it is waiting for the site's data, not simply unseen."""
    verdicts = week(1, ALPHA)
    thursday = (MON + timedelta(days=3)).isoformat()
    for v in verdicts:
        if v["day"] == thursday:
            v["pending_sync"] = True
    r = build_report(verdicts, SITES[:1], WEEK, today=TODAY)
    alpha = r.site(1)
    assert [d.isoformat() for d, c in alpha.cells.items() if c.pending] == [thursday]
    assert alpha.stats.pending == 1 and r.total.stats.pending == 1
    assert r.to_dict()["total"]["stats"]["pending"] == 1

    rows = list(csv.DictReader(io.StringIO(to_csv(r, "harian"))))
    marked = {row["Tanggal"]: row["Data lokasi"] for row in rows}
    assert marked[thursday] == "menunggu data lokasi"
    assert [d for d, m in marked.items() if m] == [thursday]
    per_site = list(csv.DictReader(io.StringIO(to_csv(r, "kelurahan"))))
    assert per_site[0]["Hari menunggu data lokasi"] == "1"

    wb = load_workbook(io.BytesIO(to_xlsx(r)))
    grid = wb.worksheets[2]
    values = [c.value for c in grid[2]]
    assert str(values[2 + 3]).endswith("*"), values  # Thursday: 2 name columns, then days
    assert sum(str(v).endswith("*") for v in values if v) == 1, values
    legend = [c.value for row in grid.iter_rows() for c in row if c.value]
    assert "menunggu data lokasi" in legend

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(r))).pages)
    assert "1 hari menunggu data lokasi" in " ".join(text.split())
    daily = build_report(verdicts, SITES[:1], thursday, today=TODAY)
    day_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(daily))).pages)
    assert "(menunggu data lokasi)" in " ".join(day_text.split())
