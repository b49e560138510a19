"""Reports as CSV, and the table views the XLSX and PDF exports share.

A view is a list of typed columns over report rows, so the three formats print the same
numbers under the same headings. CSV is for machines and spreadsheets: plain numbers with a
decimal point (rates in percent, one decimal), times as "07.42" local, one header row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pantau.verdicts.labels import hhmm, label, reason_label, status_label
from pantau.verdicts.report import DayCell, GroupReport, Report, SiteReport, Stats, Trend

__all__ = [
    "VIEWS",
    "Column",
    "csv_bytes",
    "day_rows",
    "group_columns",
    "site_columns",
    "site_order",
    "table",
    "to_csv",
]

Kind = Literal["text", "int", "rate", "time", "minutes", "delta"]
View = Literal["kelurahan", "kecamatan", "harian"]
VIEWS: tuple[View, ...] = ("kelurahan", "kecamatan", "harian")


@dataclass(frozen=True)
class Column:
    """`get(row)` gives the raw value (int, 0..1 rate, minutes, text or None)."""

    key: str
    kind: Kind
    get: Callable[[Any], Any]
    heading: str | None = None

    def title(self, lang: str) -> str:
        return self.heading if self.heading is not None else label(self.key, lang)


def _stats_columns(stats: Callable[[Any], Stats], trend: Callable[[Any], Trend | None]) -> list:
    def s(attr: str) -> Callable[[Any], Any]:
        return lambda row: getattr(stats(row), attr)

    return [
        Column("working_days", "int", s("working_days")),
        Column("on_time", "int", s("on_time")),
        Column("late", "int", s("late")),
        Column("heavy_late", "int", s("heavy_late")),
        Column("not_open", "int", s("not_open")),
        Column("closed_early", "int", s("closed_early")),
        Column("unknown", "int", s("unknown")),
        Column("unknown_seen", "rate", s("unknown_seen_rate")),
        Column("pending", "int", s("pending")),
        Column("excused", "int", s("excused")),
        Column("rate_raw", "rate", s("on_time_rate")),
        Column("rate_corrected", "rate", s("corrected_rate")),
        Column("avg_open", "time", s("avg_open")),
        Column("median_open", "time", s("median_open")),
        Column("avg_late", "minutes", s("avg_late")),
        Column("service_seen", "rate", s("service_seen_rate")),
        Column("trend_rate", "delta", lambda row: (t := trend(row)) and t.rate_delta),
        Column("holidays", "int", s("holidays")),
        Column("missing", "int", s("missing")),
    ]


def site_columns(lang: str = "id") -> list[Column]:
    """Per office, in ranking order (see `site_order`)."""

    def rank(r: SiteReport) -> Any:
        if r.rank is not None:
            return r.rank
        return label("insufficient", lang) if r.stats.working_days else None

    return [
        Column("rank", "text", rank),
        Column("kecamatan", "text", lambda r: r.site.kecamatan),
        Column("site", "text", lambda r: r.site.name),
        Column("kelurahan_code", "text", lambda r: r.site.kelurahan_code),
        *_stats_columns(lambda r: r.stats, lambda r: r.trend),
    ]


def group_columns(lang: str = "id") -> list[Column]:
    """Per kecamatan, and the total row."""
    return [
        Column("kecamatan", "text", lambda g: g.name),
        Column("sites", "int", lambda g: g.sites),
        *_stats_columns(lambda g: g.stats, lambda g: g.trend),
    ]


def day_columns(lang: str = "id") -> list[Column]:
    """One row per office per day (long format)."""

    def corrected(row: tuple[SiteReport, DayCell]) -> str:
        return status_label(row[1].shown_status, lang)

    def corr(attr: str) -> Callable[[tuple[SiteReport, DayCell]], Any]:
        return lambda row: getattr(row[1].correction, attr) if row[1].correction else None

    return [
        Column("date", "text", lambda row: row[1].day.isoformat()),
        Column("kecamatan", "text", lambda row: row[0].site.kecamatan),
        Column("site", "text", lambda row: row[0].site.name),
        Column("raw_status", "text", lambda row: status_label(row[1].status, lang)),
        Column("status", "text", corrected),
        Column("scheduled", "time", lambda row: row[1].scheduled),
        Column("opened", "time", lambda row: row[1].opened),
        Column("late_minutes", "int", lambda row: row[1].late_minutes),
        Column(
            "correction_reason",
            "text",
            lambda row: reason_label(row[1].correction.reason, lang) if row[1].correction else None,
        ),
        Column("correction_note", "text", corr("note")),
        Column(
            "pending_day",
            "text",
            lambda row: label("pending_mark", lang) if row[1].pending else None,
        ),
        Column("reason", "text", lambda row: row[1].reason),
    ]


def site_order(report: Report) -> list[SiteReport]:
    """Ranked offices best first, then those without enough data, then the rest."""
    seen = {id(r) for r in (*report.ranking, *report.insufficient)}
    rest = [r for r in report.sites if id(r) not in seen]
    return [*report.ranking, *report.insufficient, *rest]


def day_rows(report: Report) -> list[tuple[SiteReport, DayCell]]:
    return [(r, r.cells[d]) for d in report.days for r in report.sites if d in r.cells]


def table(report: Report, view: View, lang: str = "id") -> tuple[list[Column], list[Any]]:
    if view == "kelurahan":
        return site_columns(lang), site_order(report)
    if view == "kecamatan":
        rows: list[GroupReport] = [*report.groups]
        total = report.total
        total_row = GroupReport(
            f"{label('total', lang)} {report.scope_name}",
            None,
            total.sites,
            total.stats,
            total.previous,
            total.trend,
        )
        return group_columns(lang), [*rows, total_row]
    if view == "harian":
        return day_columns(lang), day_rows(report)
    raise ValueError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")


def _text(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "rate":
        return f"{100 * value:.1f}"
    if kind == "time":
        return hhmm(value)
    if kind == "minutes":
        return f"{value:.1f}"
    if kind == "delta":
        return f"{value:+.1f}"
    return str(value)


def _write(columns: Sequence[Column], rows: Sequence[Any], lang: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([c.title(lang) for c in columns])
    for row in rows:
        w.writerow([_text(c.get(row), c.kind) for c in columns])
    return buf.getvalue()


def to_csv(report: Report, view: View = "kelurahan", lang: str = "id") -> str:
    """One view of the report as CSV text: `kelurahan` (per office, ranked), `kecamatan`
    (per kecamatan plus the total) or `harian` (one row per office per day)."""
    columns, rows = table(report, view, lang)
    return _write(columns, rows, lang)


def csv_bytes(report: Report, view: View = "kelurahan", lang: str = "id") -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the names right."""
    return to_csv(report, view, lang).encode("utf-8-sig")
