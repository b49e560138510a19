"""Reports as PDF (reportlab) with charts (matplotlib): what is printed and signed.

Landscape A4: the headline figures, the opening time per day against the schedule (the city
median, or the office itself for a kelurahan report), per kecamatan, the ranking with the
offices that have too little data listed apart, a heat map of offices x days coloured by
status, and the official corrections. A daily report lists every office instead of the charts.

Fonts are the DejaVu faces matplotlib ships (full Unicode, same face as the charts), so no
system font package is needed.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from pantau.verdicts.export_xlsx import HEADER_FILL
from pantau.verdicts.labels import (
    EXCUSED,
    MISSING_COLOR,
    STATUS_COLORS,
    STATUS_ORDER,
    fmt_date,
    fmt_minutes,
    fmt_number,
    fmt_rate,
    hhmm,
    label,
    reason_label,
    status_label,
)
from pantau.verdicts.report import Report, SiteReport

__all__ = ["heatmap_chart", "opening_chart", "to_pdf"]

_FONT, _BOLD = "DejaVuSans", "DejaVuSans-Bold"
_DARK = {"tidak_buka", "terlambat_berat"}


def _fonts() -> None:
    if _FONT in pdfmetrics.getRegisteredFontNames():
        return
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(_FONT, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(_BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(_FONT, normal=_FONT, bold=_BOLD)


def _hex(c: str) -> colors.Color:
    return colors.HexColor("#" + c)


def _short(name: str) -> str:
    for prefix in ("Kantor Kelurahan ", "Kantor Kecamatan "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


# ---- charts ----------------------------------------------------------------------------------


def _png(fig: Figure, dpi: int = 150) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _clock_axis(ax: Any) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: hhmm(v)))


def opening_chart(report: Report, site_id: int | None = None, lang: str = "id") -> bytes:
    """PNG: opening time per working day against the schedule line and the heavy-late
    threshold; one office, or the median over the report's offices."""
    series = report.opening_series(site_id)
    days = [p.day for p in series]
    x = np.arange(len(days))
    sched = np.array([np.nan if p.scheduled is None else p.scheduled for p in series])
    opened = np.array([np.nan if p.opened is None else p.opened for p in series])
    heavy = report.heavy_late_after.hour * 60 + report.heavy_late_after.minute

    fig = Figure(figsize=(10, 3.6))
    ax = fig.add_subplot()
    ax.step(x, sched, where="mid", color="#1F4E78", lw=2, label=label("chart_schedule", lang))
    ax.axhline(heavy, color="#C00000", ls="--", lw=1, label=label("chart_heavy", lang))
    if site_id is None:
        ms = 4 if len(days) <= 62 else 1.5  # a year of dots would blot the line out
        ax.plot(x, opened, "o-", color="#E07B00", ms=ms, lw=1, label=label("chart_median", lang))
        title = label("chart_opening_city", lang)
    else:
        site = report.site(site_id)
        ax.plot(x, opened, "-", color="#888888", lw=0.8)
        for i, d in enumerate(days):
            cell = site.cells.get(d)
            if cell is not None and cell.opened is not None and cell.working:
                ax.plot(x[i], cell.opened, "o", ms=5, color="#" + STATUS_COLORS[cell.status])
        ax.plot([], [], "o", color="#888888", label=label("chart_opened", lang))
        title = label("chart_opening_site", lang, site=site.site.name)
    finite = np.concatenate([sched[np.isfinite(sched)], opened[np.isfinite(opened)], [heavy]])
    lo = math.floor((finite.min() - 20) / 30) * 30
    hi = math.ceil((finite.max() + 20) / 30) * 30
    ax.set_ylim(lo, hi)
    ax.yaxis.set_major_locator(MultipleLocator(30 if hi - lo <= 300 else 60))
    _clock_axis(ax)
    step = max(1, math.ceil(len(days) / 31))  # a year is labelled by month below
    if report.period.kind == "year":
        ticks = [i for i, d in enumerate(days) if d.day == 1]
        ax.set_xticks(ticks, [fmt_date(days[i], lang, "MMM") for i in ticks])
    else:
        fmt = "EEE d/M" if report.period.kind == "week" else "d"
        ticks = list(range(0, len(days), step))
        ax.set_xticks(ticks, [fmt_date(days[i], lang, fmt) for i in ticks], fontsize=7)
        ax.set_xlabel(report.period.title(lang), fontsize=8)
    ax.set_xlim(-0.5, len(days) - 0.5)
    ax.set_ylabel(report.tz_label)
    ax.set_title(title, fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, ncols=3, frameon=False)
    fig.tight_layout()
    return _png(fig)


def heatmap_chart(report: Report, lang: str = "id") -> bytes:
    """PNG: offices (rows) x days (columns), each cell its status colour after corrections;
    white where no verdict exists; legend below."""
    order = [*STATUS_ORDER, "missing"]
    code = {s: i for i, s in enumerate(order)}
    rows = report.sites
    grid = np.full((len(rows), len(report.days)), code["missing"], dtype=np.int16)
    pending: list[tuple[int, int]] = []
    for r, site in enumerate(rows):
        for j, d in enumerate(report.days):
            cell = site.cells.get(d)
            if cell is not None:
                grid[r, j] = code[cell.shown_status]
                if cell.pending:
                    pending.append((j, r))
    palette = ["#" + STATUS_COLORS[s] for s in STATUS_ORDER] + ["#" + MISSING_COLOR]
    cmap = ListedColormap(palette)
    norm = BoundaryNorm(np.arange(len(order) + 1) - 0.5, len(order))

    # Landscape-page proportions: rows get thinner as offices are added (65 still readable).
    height = max(2.5, min(7.4, 1.4 + 0.1 * len(rows)))
    fig = Figure(figsize=(11, height))
    ax = fig.add_subplot()
    ax.imshow(grid, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(rows)), [_short(s.site.name) for s in rows], fontsize=6)
    days = report.days
    if report.period.kind == "year":
        ticks = [i for i, d in enumerate(days) if d.day == 1]
        ax.set_xticks(ticks, [fmt_date(days[i], lang, "MMM") for i in ticks], fontsize=7)
    else:
        ax.set_xticks(range(len(days)), [str(d.day) for d in days], fontsize=6)
    if len(days) <= 62:
        ax.set_xticks(np.arange(len(days) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(rows) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", lw=0.5)
        ax.tick_params(which="minor", length=0)
    for r in range(1, len(rows)):
        if rows[r].site.kecamatan != rows[r - 1].site.kecamatan:
            ax.axhline(r - 0.5, color="#333333", lw=0.8)  # kecamatan boundary
    ax.set_title(label("chart_heatmap", lang), fontsize=11)
    handles: list[Any] = [
        Patch(facecolor="#" + STATUS_COLORS[s], edgecolor="#999999", label=status_label(s, lang))
        for s in STATUS_ORDER
    ]
    if pending:
        xs, ys = zip(*pending, strict=True)
        ax.scatter(xs, ys, marker="o", s=6, c="#222222", linewidths=0)
        handles.append(
            Line2D([], [], marker="o", ls="", ms=3, c="#222222", label=label("pending_mark", lang))
        )
    fig.legend(handles=handles, loc="lower center", ncols=len(handles), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.45 / height, 1, 1))
    return _png(fig)


# ---- document --------------------------------------------------------------------------------


class _Styles:
    def __init__(self) -> None:
        _fonts()
        self.title = ParagraphStyle("t", fontName=_BOLD, fontSize=16, leading=20)
        self.sub = ParagraphStyle("s", fontName=_BOLD, fontSize=12, leading=16)
        self.h2 = ParagraphStyle("h2", fontName=_BOLD, fontSize=11, leading=14, spaceBefore=8)
        self.body = ParagraphStyle("b", fontName=_FONT, fontSize=9, leading=12, alignment=TA_LEFT)
        self.note = ParagraphStyle("n", parent=self.body, fontSize=8, textColor=colors.grey)
        self.cell = ParagraphStyle("c", fontName=_FONT, fontSize=7, leading=8.5)


def _table(data: list[list[Any]], widths: list[float] | None = None, size: float = 7.5) -> Table:
    t = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    t.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _FONT),
                ("FONTSIZE", (0, 0), (-1, -1), size),
                ("FONTNAME", (0, 0), (-1, 0), _BOLD),
                ("BACKGROUND", (0, 0), (-1, 0), _hex(HEADER_FILL)),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#BFBFBF")),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F2F2F2")]),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return t


def _headline(report: Report, lang: str, st: _Styles) -> list[Any]:
    t = report.total
    s = t.stats
    trend = "–"
    if t.trend is not None and t.trend.rate_delta is not None:
        trend = (
            f"{'+' if t.trend.rate_delta >= 0 else ''}{fmt_number(t.trend.rate_delta, lang)} "
            f"({label('previous', lang).lower()}: {fmt_rate(t.trend.previous_rate, lang)})"
        )
    elif not report.has_previous:
        trend = label("no_previous", lang)
    pairs = [
        (label("sites", lang), str(t.sites)),
        (label("working_days", lang), str(s.working_days)),
        (label("on_time", lang), str(s.on_time)),
        (label("rate_raw", lang), fmt_rate(s.on_time_rate, lang)),
        (
            f"{label('late', lang)} ({label('heavy_late', lang).lower()})",
            f"{s.late} ({s.heavy_late})",
        ),
        (label("rate_corrected", lang), fmt_rate(s.corrected_rate, lang)),
        (label("not_open", lang), str(s.not_open)),
        (label("avg_open", lang), f"{hhmm(s.avg_open)} {report.tz_label}"),
        (label("closed_early", lang), str(s.closed_early)),
        (label("median_open", lang), f"{hhmm(s.median_open)} {report.tz_label}"),
        (
            label("unknown", lang),
            f"{s.unknown} ({label('seen', lang)} {fmt_rate(s.unknown_seen_rate, lang)})"
            if s.unknown
            else "0",
        ),
        (label("avg_late", lang), fmt_minutes(s.avg_late, lang)),
        (label("excused", lang), str(s.excused)),
        (label("trend_rate", lang), trend),
    ]
    data = [
        [pairs[i][0], pairs[i][1], pairs[i + 1][0], pairs[i + 1][1]]
        for i in range(0, len(pairs), 2)
    ]
    table = Table(data, colWidths=[62 * mm, 40 * mm, 62 * mm, 70 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _FONT),
                ("FONTNAME", (1, 0), (1, -1), _BOLD),
                ("FONTNAME", (3, 0), (3, -1), _BOLD),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#BFBFBF")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F2F2F2")),
                ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#F2F2F2")),
            ]
        )
    )
    notes = [Paragraph(label("unknown_note", lang), st.note)]
    if s.pending:
        notes.append(Paragraph(label("pending_note", lang, n=s.pending), st.note))
    return [table, Spacer(1, 2 * mm), *notes]


def _stats_row(s: Any, lang: str, tz: str) -> list[str]:
    return [
        str(s.working_days),
        str(s.on_time),
        f"{s.late} ({s.heavy_late})",
        str(s.not_open),
        str(s.closed_early),
        str(s.unknown),
        fmt_rate(s.on_time_rate, lang),
        fmt_rate(s.corrected_rate, lang),
        hhmm(s.avg_open),
        fmt_number(s.avg_late, lang, 0) if s.avg_late is not None else "–",
    ]


def _stats_head(lang: str) -> list[str]:
    return [
        label("working_days", lang),
        label("on_time", lang),
        label("late_heavy_short", lang),
        label("not_open", lang),
        label("closed_early", lang),
        label("unknown", lang),
        "% " + label("on_time", lang).lower(),
        label("rate_corrected", lang).replace(" (%)", " %"),
        label("avg_open", lang),
        label("avg_late", lang).replace(" (menit)", "").replace(" (minutes)", ""),
    ]


def _head_cells(titles: list[str], st: _Styles) -> list[Paragraph]:
    white = ParagraphStyle(
        "hw", parent=st.cell, fontName=_BOLD, fontSize=6.5, leading=7.5, textColor=colors.white
    )
    return [Paragraph(t, white) for t in titles]


def _groups(report: Report, lang: str, st: _Styles) -> list[Any]:
    head = _head_cells([label("kecamatan", lang), label("sites", lang), *_stats_head(lang)], st)
    data: list[list[Any]] = [head]
    for g in report.groups:
        data.append([g.name, str(g.sites), *_stats_row(g.stats, lang, report.tz_label)])
    t = report.total
    data.append([label("total", lang), str(t.sites), *_stats_row(t.stats, lang, report.tz_label)])
    table = _table(data, [38 * mm, 16 * mm] + [21 * mm] * 10)
    table.setStyle(TableStyle([("FONTNAME", (0, -1), (-1, -1), _BOLD)]))
    return [Paragraph(label("per_kecamatan", lang), st.h2), table]


def _trend_text(r: SiteReport, lang: str) -> str:
    if r.trend is None or r.trend.rate_delta is None:
        return "–"
    return f"{r.trend.rate_delta:+.1f}".replace(".", "," if lang == "id" else ".")


def _ranking(report: Report, lang: str, st: _Styles) -> list[Any]:
    out: list[Any] = [Paragraph(label("ranking", lang), st.h2)]
    head = _head_cells(
        [
            label("rank", lang),
            label("site", lang),
            label("kecamatan", lang),
            *_stats_head(lang),
            label("trend", lang),
        ],
        st,
    )
    data: list[list[Any]] = [head]
    for r in report.ranking:
        data.append(
            [
                str(r.rank),
                _short(r.site.name),
                r.site.kecamatan,
                *_stats_row(r.stats, lang, report.tz_label),
                _trend_text(r, lang),
            ]
        )
    widths = [17 * mm, 34 * mm, 27 * mm] + [18.5 * mm] * 10 + [13 * mm]
    left = TableStyle([("ALIGN", (0, 0), (2, -1), "LEFT")])
    if len(data) > 1:
        table = _table(data, widths)
        table.setStyle(left)
        out.append(table)
    if report.insufficient:
        out.append(Paragraph(label("insufficient", lang), st.h2))
        out.append(Paragraph(label("insufficient_note", lang), st.note))
        data = [head[1:3] + head[3:-1]]
        for r in report.insufficient:
            data.append(
                [_short(r.site.name), r.site.kecamatan, *_stats_row(r.stats, lang, report.tz_label)]
            )
        table = _table(data, widths[1:-1])
        table.setStyle(TableStyle([("ALIGN", (0, 0), (1, -1), "LEFT")]))
        out.append(table)
    return out


_WORST_FIRST = (
    "tidak_buka",
    "terlambat_berat",
    "terlambat",
    "pulang_cepat",
    "tidak_diketahui",
    EXCUSED,
    "tepat_waktu",
    "libur",
)


def _day_order(r: SiteReport, day: Any) -> tuple[int, int, str]:
    """Problems first (not open, very late, late by minutes, early), then unknown, on time."""
    cell = r.cells.get(day)
    if cell is None:
        return (len(_WORST_FIRST), 0, r.site.name)
    return (_WORST_FIRST.index(cell.shown_status), -(cell.late_minutes or 0), r.site.name)


def _day_list(report: Report, lang: str, st: _Styles) -> list[Any]:
    """A daily report: every office with its status, opening and reason."""
    day = report.days[0]
    head = _head_cells(
        [
            label("site", lang),
            label("kecamatan", lang),
            label("status", lang),
            label("scheduled", lang),
            label("opened", lang),
            label("late_minutes", lang),
            label("reason", lang),
        ],
        st,
    )
    data: list[list[Any]] = [head]
    fills = []
    for r in sorted(report.sites, key=lambda r: _day_order(r, day)):
        cell = r.cells.get(day)
        if cell is None:
            data.append([_short(r.site.name), r.site.kecamatan, label("missing", lang)] + [""] * 4)
            continue
        shown = cell.shown_status
        reason = cell.reason
        if cell.pending:
            reason = f"({label('pending_mark', lang)}) {reason}"
        if cell.correction is not None:
            reason = (
                f"{label('corrections', lang)}: "
                f"{reason_label(cell.correction.reason, lang)}. {reason}"
            )
        data.append(
            [
                _short(r.site.name),
                r.site.kecamatan,
                status_label(shown, lang),
                hhmm(cell.scheduled),
                hhmm(cell.opened),
                "" if cell.late_minutes is None else str(cell.late_minutes),
                Paragraph(reason, st.cell),
            ]
        )
        row = len(data) - 1
        fills.append(("BACKGROUND", (2, row), (2, row), _hex(STATUS_COLORS[shown])))
        if shown in _DARK:
            fills.append(("TEXTCOLOR", (2, row), (2, row), colors.white))
    table = _table(data, [32 * mm, 26 * mm, 26 * mm, 16 * mm, 16 * mm, 20 * mm, 131 * mm])
    table.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "LEFT"), *fills]))
    return [Paragraph(label("per_kelurahan", lang), st.h2), table]


def _corrections(report: Report, lang: str, st: _Styles) -> list[Any]:
    if not report.corrections:
        return []
    names = {s.site.id: s.site.name for s in report.sites}
    head = _head_cells(
        [
            label("date", lang),
            label("site", lang),
            label("raw_status", lang),
            label("correction_reason", lang),
            label("correction_note", lang),
        ],
        st,
    )
    data: list[list[Any]] = [head]
    for c in report.corrections:
        data.append(
            [
                fmt_date(c.day, lang, "EEE, d MMM y"),
                _short(names.get(c.site_id, str(c.site_id))),
                status_label(c.raw_status, lang) if c.raw_status else "",
                Paragraph(reason_label(c.reason, lang), st.cell),
                Paragraph(c.note, st.cell),
            ]
        )
    table = _table(data, [32 * mm, 36 * mm, 28 * mm, 60 * mm, 110 * mm])
    table.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "LEFT")]))
    return [KeepTogether([Paragraph(label("corrections", lang), st.h2), table])]


def _image(png: bytes, width: float, height: float) -> Image:
    """The chart scaled to fit the box, keeping its proportions."""
    w, h = ImageReader(io.BytesIO(png)).getSize()
    scale = min(width / w, height / h)
    return Image(io.BytesIO(png), width=w * scale, height=h * scale)


def to_pdf(report: Report, lang: str = "id") -> bytes:
    """The report as PDF bytes (landscape A4)."""
    st = _Styles()
    buf = io.BytesIO()
    page_w, page_h = landscape(A4)
    margin = 12 * mm
    title = report.title(lang)
    doc = SimpleDocTemplate(
        buf,
        pagesize=(page_w, page_h),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=f"{title} – {report.scope_title(lang)} – {report.period.title(lang)}",
        author="Pantau",
        lang=lang,
    )
    width = page_w - 2 * margin - 12  # the frame pads 6 pt on each side
    height = page_h - 2 * margin - 12

    def footer(canvas: Any, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(_FONT, 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(margin, 6 * mm, f"Pantau · {title} · {report.period.title(lang)}")
        canvas.drawRightString(
            page_w - margin, 6 * mm, label("page", lang, n=canvas.getPageNumber())
        )
        canvas.restoreState()

    story: list[Any] = [
        Paragraph(title, st.title),
        Paragraph(f"{report.scope_title(lang)} · {report.period.title(lang)}", st.sub),
        Paragraph(
            f"{label('generated', lang)}: {fmt_date(report.today, lang)} · "
            f"{label('times_in', lang, tz=report.tz_label)}",
            st.note,
        ),
        Spacer(1, 4 * mm),
        *_headline(report, lang, st),
    ]
    single = report.sites[0].site.id if report.scope.kind == "kelurahan" else None
    if report.period.kind == "day":
        story += _day_list(report, lang, st)
    else:
        story += [Spacer(1, 3 * mm), _image(opening_chart(report, single, lang), width, height)]
    if report.scope.kind != "kelurahan":
        story += [PageBreak(), *_groups(report, lang, st)]
        if report.period.kind != "day":  # one day is no basis for a ranking
            story += _ranking(report, lang, st)
    if report.period.kind != "day":
        story += [PageBreak(), _image(heatmap_chart(report, lang), width, height)]
    story += _corrections(report, lang, st)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
