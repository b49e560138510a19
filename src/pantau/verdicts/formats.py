"""One report in one file format; the CLI, the API and email delivery share this."""

from __future__ import annotations

import json

from pantau.verdicts.report import Report

MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def render(report: Report, fmt: str, view: str = "kelurahan", lang: str = "id") -> bytes:
    """`fmt` is pdf, xlsx, csv (of `view`: kelurahan, kecamatan or harian) or json."""
    if fmt == "pdf":
        from pantau.verdicts.export_pdf import to_pdf  # matplotlib + reportlab: load on use

        return to_pdf(report, lang)
    if fmt == "xlsx":
        from pantau.verdicts.export_xlsx import to_xlsx

        return to_xlsx(report, lang)
    if fmt == "csv":
        from pantau.verdicts.export_csv import csv_bytes

        return csv_bytes(report, view, lang)  # type: ignore[arg-type]
    if fmt == "json":
        return json.dumps(report.to_dict(), ensure_ascii=False, indent=1).encode()
    raise ValueError(f"unknown report format {fmt!r}: use pdf, xlsx, csv or json")
