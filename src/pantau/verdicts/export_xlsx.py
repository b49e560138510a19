"""Reports as an Excel workbook (openpyxl): Ringkasan, Per kelurahan, Harian.

Formatted for people who will print or forward it: styled and frozen header rows, column
widths that fit, percentages as real numbers with a % format (so they sort and sum), a colour
scale on the on-time rates, and each office-day of the day grid filled with its status colour
(legend under the grid). Times stay text "07.42" as everywhere in the UI.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pantau.verdicts.export_csv import Column, group_columns, site_columns, site_order
from pantau.verdicts.labels import (
    EXCUSED,
    STATUS_COLORS,
    STATUS_ORDER,
    STATUS_SHORT,
    fmt_date,
    hhmm,
    label,
    reason_label,
    status_label,
)
from pantau.verdicts.report import GroupReport, Report

__all__ = ["HEADER_FILL", "sheet_names", "status_fill", "to_xlsx"]

HEADER_FILL = "1F4E78"
_HEADER = PatternFill("solid", fgColor=HEADER_FILL)
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FORMATS = {"rate": "0.0%", "minutes": "0.0", "delta": "+0.0;-0.0;0.0", "int": "0"}
_FILLS = {s: PatternFill("solid", fgColor=c) for s, c in STATUS_COLORS.items()}
_DARK = {"tidak_buka", "terlambat_berat"}  # white text reads better on these fills
PENDING_MARK = "*"  # a day the site's agent has not sent in full; explained in the legend


def sheet_names(lang: str = "id") -> tuple[str, str, str]:
    """Ringkasan, Per kelurahan, Harian (in `lang`)."""
    return (label("summary", lang), label("per_kelurahan", lang), label("daily", lang))


def status_fill(status: str) -> PatternFill:
    return _FILLS[status]


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "time":
        return hhmm(value)
    return value


def _header(ws: Worksheet, row: int, titles: Sequence[str], col: int = 1) -> None:
    for i, title in enumerate(titles):
        c = ws.cell(row=row, column=col + i, value=title)
        c.fill = _HEADER
        c.font = _HEADER_FONT
        c.border = _BORDER
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _table(
    ws: Worksheet, row: int, columns: Sequence[Column], rows: Sequence[Any], lang: str
) -> int:
    """Header at `row`, data below; returns the row after the table."""
    _header(ws, row, [c.title(lang) for c in columns])
    for r, item in enumerate(rows, start=row + 1):
        for i, col in enumerate(columns, start=1):
            cell = ws.cell(row=r, column=i, value=_value(col.get(item), col.kind))
            cell.border = _BORDER
            if col.kind in _FORMATS:
                cell.number_format = _FORMATS[col.kind]
            if col.kind in ("time", "int", "rate", "minutes", "delta"):
                cell.alignment = Alignment(horizontal="right")
    last = row + len(rows)
    for i, col in enumerate(columns, start=1):
        if col.key in ("rate_raw", "rate_corrected") and rows:
            letter = get_column_letter(i)
            ws.conditional_formatting.add(
                f"{letter}{row + 1}:{letter}{last}",
                ColorScaleRule(
                    start_type="num",
                    start_value=0,
                    start_color="F8696B",
                    mid_type="num",
                    mid_value=0.75,
                    mid_color="FFEB84",
                    end_type="num",
                    end_value=1,
                    end_color="63BE7B",
                ),
            )
    return last + 1


def _widths(ws: Worksheet, minimum: int = 6, maximum: int = 40) -> None:
    """Fit each column to its longest value (headers wrap, so they count up to 16)."""
    widths: dict[int, int] = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value is None:
                continue
            text = str(c.value)
            header = str(c.fill.fgColor.rgb).endswith(HEADER_FILL)
            n = min(len(text), 16) if header else len(text)
            if isinstance(c.value, float):
                n = 7
            widths[c.column] = max(widths.get(c.column, 0), n)
    for col, n in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(minimum, min(maximum, n + 2))


def _summary(ws: Worksheet, report: Report, lang: str) -> None:
    t = report.total
    ws["A1"] = report.title(lang)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"{report.scope_title(lang)} · {report.period.title(lang)}"
    ws["A2"].font = Font(bold=True, size=12)
    ws["A3"] = (
        f"{label('generated', lang)}: {fmt_date(report.today, lang)} · "
        f"{label('times_in', lang, tz=report.tz_label)}"
    )
    st = t.stats
    figures: list[tuple[str, Any, str]] = [
        ("sites", t.sites, "int"),
        ("working_days", st.working_days, "int"),
        ("on_time", st.on_time, "int"),
        ("late", st.late, "int"),
        ("heavy_late", st.heavy_late, "int"),
        ("not_open", st.not_open, "int"),
        ("closed_early", st.closed_early, "int"),
        ("unknown", st.unknown, "int"),
        ("pending", st.pending, "int"),
        ("excused", st.excused, "int"),
        ("rate_raw", st.on_time_rate, "rate"),
        ("rate_corrected", st.corrected_rate, "rate"),
        ("avg_open", st.avg_open, "time"),
        ("median_open", st.median_open, "time"),
        ("avg_late", st.avg_late, "minutes"),
        ("service_seen", st.service_seen_rate, "rate"),
    ]
    if report.has_previous and t.trend is not None:
        figures.append(("trend_rate", t.trend.rate_delta, "delta"))
        figures.append(("trend_open", t.trend.open_delta, "delta"))
    _header(ws, 5, [label("summary", lang), report.scope_name])
    row = 6
    for key, value, kind in figures:
        ws.cell(row=row, column=1, value=label(key, lang)).border = _BORDER
        c = ws.cell(row=row, column=2, value=_value(value, kind))
        c.border = _BORDER
        c.alignment = Alignment(horizontal="right")
        if kind in _FORMATS:
            c.number_format = _FORMATS[kind]
        row += 1
    ws.cell(row=row, column=1, value=label("unknown_note", lang)).font = Font(italic=True)
    row += 2

    ws.cell(row=row, column=1, value=label("per_kecamatan", lang)).font = Font(bold=True)
    groups: list[GroupReport] = [
        *report.groups,
        GroupReport(f"{label('total', lang)}", None, t.sites, t.stats, t.previous, t.trend),
    ]
    end = _table(ws, row + 1, group_columns(lang), groups, lang)
    for c in ws[end - 1]:
        c.font = Font(bold=True)
    row = end + 1

    if report.insufficient:
        ws.cell(row=row, column=1, value=label("insufficient", lang)).font = Font(bold=True)
        ws.cell(row=row + 1, column=1, value=label("insufficient_note", lang)).font = Font(
            italic=True
        )
        row += 2
        for r in report.insufficient:
            ws.cell(row=row, column=1, value=r.site.name)
            ws.cell(row=row, column=2, value=r.stats.unknown).number_format = "0"
            row += 1
        row += 1

    if report.corrections:
        ws.cell(row=row, column=1, value=label("corrections", lang)).font = Font(bold=True)
        _header(
            ws,
            row + 1,
            [label(k, lang) for k in ("date", "site", "raw_status", "correction_reason")]
            + [label("correction_note", lang)],
        )
        row += 2
        names = {s.site.id: s.site.name for s in report.sites}
        for c in report.corrections:
            values = [
                c.day.isoformat(),
                names.get(c.site_id, str(c.site_id)),
                status_label(c.raw_status, lang) if c.raw_status else None,
                reason_label(c.reason, lang),
                c.note,
            ]
            for i, v in enumerate(values, start=1):
                ws.cell(row=row, column=i, value=v).border = _BORDER
            row += 1
    _widths(ws)
    ws.column_dimensions["A"].width = 34


def _per_site(ws: Worksheet, report: Report, lang: str) -> None:
    columns = site_columns(lang)
    rows = site_order(report)
    _table(ws, 1, columns, rows, lang)
    ws.freeze_panes = "D2"
    ws.row_dimensions[1].height = 45
    grey = PatternFill("solid", fgColor=STATUS_COLORS["libur"])
    for r, item in enumerate(rows, start=2):
        if item.rank is None:
            for c in ws[r][:4]:
                c.fill = grey
    for i, col in enumerate(columns, start=1):
        status = {
            "on_time": "tepat_waktu",
            "late": "terlambat",
            "heavy_late": "terlambat_berat",
            "not_open": "tidak_buka",
            "closed_early": "pulang_cepat",
            "unknown": "tidak_diketahui",
            "excused": EXCUSED,
        }.get(col.key)
        if status:
            head = ws.cell(row=1, column=i)
            head.fill = _FILLS[status]
            head.font = Font(bold=True, color="FFFFFF" if status in _DARK else "000000")
    _widths(ws)


def _daily(ws: Worksheet, report: Report, lang: str) -> None:
    days = report.days
    titles = [label("kecamatan", lang), label("site", lang)] + [
        fmt_date(d, lang, "EEE d/M") for d in days
    ]
    _header(ws, 1, titles)
    ws.freeze_panes = "C2"
    ws.row_dimensions[1].height = 30
    center = Alignment(horizontal="center")
    white = Font(color="FFFFFF")
    for r, site in enumerate(report.sites, start=2):
        ws.cell(row=r, column=1, value=site.site.kecamatan)
        ws.cell(row=r, column=2, value=site.site.name)
        for j, d in enumerate(days, start=3):
            cell = site.cells.get(d)
            if cell is None:
                continue
            shown = cell.shown_status
            text = hhmm(cell.opened) if cell.opened is not None and cell.working else None
            text = text or STATUS_SHORT[shown]
            c = ws.cell(row=r, column=j, value=f"{text}{PENDING_MARK}" if cell.pending else text)
            c.fill = _FILLS[shown]
            c.alignment = center
            if shown in _DARK:
                c.font = white
    row = len(report.sites) + 3
    ws.cell(row=row, column=2, value=label("legend", lang)).font = Font(bold=True)
    for i, status in enumerate(STATUS_ORDER, start=1):
        code = ws.cell(row=row + i, column=3, value=STATUS_SHORT[status])
        code.fill = _FILLS[status]
        code.alignment = center
        if status in _DARK:
            code.font = white
        ws.cell(row=row + i, column=2, value=status_label(status, lang))
    mark = ws.cell(row=row + len(STATUS_ORDER) + 1, column=3, value=PENDING_MARK)
    mark.alignment = center
    ws.cell(row=row + len(STATUS_ORDER) + 1, column=2, value=label("pending_mark", lang))
    _widths(ws, maximum=34)
    for j in range(3, len(days) + 3):
        ws.column_dimensions[get_column_letter(j)].width = 7


def to_xlsx(report: Report, lang: str = "id") -> bytes:
    """The workbook as bytes: summary with per-kecamatan table, per office (ranked), and the
    offices x days grid coloured by status."""
    wb = Workbook()
    names = sheet_names(lang)
    summary = wb.active
    summary.title = names[0]
    _summary(summary, report, lang)
    _per_site(wb.create_sheet(names[1]), report, lang)
    _daily(wb.create_sheet(names[2]), report, lang)
    wb.properties.title = f"{report.title(lang)} – {report.period.title(lang)}"
    wb.properties.creator = "Pantau"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
