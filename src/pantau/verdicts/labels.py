"""Every word the reports print, one dict per language (Bahasa Indonesia first), and the date,
time and number styles that go with them.

The project has no gettext catalogue yet; keeping all report wording here means one place to
translate and one place a catalogue can later be generated from. Dates come from Babel's CLDR
data ("Jumat, 27 November 2026"), clock times are written the Indonesian way ("07.30").
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from pantau.verdicts.rules import STATUS_LABELS

__all__ = [
    "EXCUSED",
    "LABELS",
    "LANGUAGES",
    "MISSING_COLOR",
    "STATUS_COLORS",
    "STATUS_ORDER",
    "STATUS_SHORT",
    "fmt_date",
    "fmt_minutes",
    "fmt_month",
    "fmt_number",
    "fmt_rate",
    "hhmm",
    "label",
    "reason_label",
    "status_label",
]

EXCUSED = "dikoreksi"
"""Pseudo-status of a working day, not on time, that an admin corrected with an official
reason (the same word as `verdicts.store.CORRECTED`)."""

LABELS: dict[str, dict[str, str]] = {
    "id": {
        "title": "Laporan Kepatuhan Jam Buka Kantor Kelurahan",
        "title_daily": "Ringkasan Harian Jam Buka Kantor Kelurahan",
        "city": "Kota",
        "kecamatan": "Kecamatan",
        "kelurahan": "Kelurahan",
        "site": "Kantor",
        "slug": "Kode kantor",
        "kelurahan_code": "Kode kelurahan",
        "scope": "Wilayah",
        "period": "Periode",
        "period_day": "Hari",
        "period_week": "Minggu",
        "period_month": "Bulan",
        "period_year": "Tahun",
        "week_label": "Minggu ke-{week} {year}",
        "generated": "Dibuat",
        "times_in": "semua jam dalam {tz}",
        "rank": "Peringkat",
        "sites": "Jumlah kantor",
        "working_days": "Hari kerja",
        "holidays": "Hari libur",
        "missing": "Tanpa data",
        "on_time": STATUS_LABELS["tepat_waktu"],
        "late": STATUS_LABELS["terlambat"],
        "heavy_late": STATUS_LABELS["terlambat_berat"],
        "late_heavy_short": "Terlambat (berat)",
        "seen": "terlihat",
        "not_open": STATUS_LABELS["tidak_buka"],
        "closed_early": STATUS_LABELS["pulang_cepat"],
        "unknown": STATUS_LABELS["tidak_diketahui"],
        "excused": "Dikoreksi (alasan resmi)",
        "judged": "Hari dinilai",
        "rate_raw": "Tepat waktu (%)",
        "rate_corrected": "Tepat waktu setelah koreksi (%)",
        "avg_open": "Rata-rata jam buka",
        "median_open": "Median jam buka",
        "avg_late": "Rata-rata terlambat (menit)",
        "service_seen": "Jam layanan terlihat (%)",
        "unknown_seen": "Terlihat pada hari tidak diketahui (%)",
        "trend": "Tren",
        "trend_rate": "Perubahan tepat waktu (poin %)",
        "trend_open": "Perubahan rata-rata jam buka (menit)",
        "previous": "Periode sebelumnya",
        "no_previous": "tidak ada data periode sebelumnya",
        "summary": "Ringkasan",
        "per_kelurahan": "Per kelurahan",
        "per_kecamatan": "Per kecamatan",
        "daily": "Harian",
        "ranking": "Peringkat kepatuhan",
        "insufficient": "Data tidak cukup",
        "insufficient_note": (
            "Kantor yang sebagian besar hari kerjanya tidak terlihat kamera tidak diberi "
            "peringkat: hari yang tidak terlihat bukan hari terlambat."
        ),
        "unknown_note": (
            "Hari 'Tidak diketahui' (kamera atau jaringan mati pada jam buka) tidak dihitung "
            "sebagai terlambat dan tidak masuk perhitungan persentase."
        ),
        "pending": "Hari menunggu data lokasi",
        "pending_mark": "menunggu data lokasi",
        "pending_day": "Data lokasi",
        "pending_note": (
            "{n} hari menunggu data lokasi: agen di kantor itu belum mengirim semua datanya "
            "(tanpa internet atau masih mengirim). Putusannya dihitung ulang saat data tiba."
        ),
        "corrections": "Koreksi resmi",
        "correction_reason": "Alasan",
        "correction_note": "Catatan",
        "raw_status": "Status asli",
        "status": "Status",
        "opened": "Jam buka",
        "closed": "Jam tutup",
        "scheduled": "Jadwal buka",
        "late_minutes": "Terlambat (menit)",
        "reason": "Keterangan",
        "date": "Tanggal",
        "total": "Total",
        "legend": "Keterangan warna",
        "chart_opening_city": "Median jam buka per hari dibanding jadwal",
        "chart_opening_site": "Jam buka per hari dibanding jadwal: {site}",
        "chart_schedule": "Jadwal buka",
        "chart_opened": "Jam buka",
        "chart_median": "Median jam buka",
        "chart_heavy": "Batas terlambat berat",
        "chart_heatmap": "Status harian per kantor",
        "minutes": "menit",
        "none": "–",
        "page": "Halaman {n}",
        "mail_subject_daily": "[Pantau] Ringkasan harian jam buka kantor – {period}",
        "mail_subject_weekly": "[Pantau] Laporan mingguan jam buka kantor – {period}",
        "mail_subject_monthly": "[Pantau] Laporan bulanan jam buka kantor – {period}",
        "mail_greeting": "Yth. Bapak/Ibu,",
        "mail_intro": "berikut {what} kepatuhan jam buka kantor kelurahan {scope}, {period}.",
        "mail_what_daily": "ringkasan harian",
        "mail_what_weekly": "laporan mingguan",
        "mail_what_monthly": "laporan bulanan",
        "mail_rate": (
            "Tepat waktu: {rate} dari hari kerja yang terlihat ({corrected} setelah koreksi)."
        ),
        "mail_counts": (
            "Hari kerja: {working}; tepat waktu {on_time}, terlambat {late} (berat {heavy}), "
            "tidak buka {not_open}, pulang cepat {early}, tidak diketahui {unknown}."
        ),
        "mail_avg_open": "Rata-rata jam buka {avg} {tz} (median {median} {tz}).",
        "mail_trend": "Dibanding {previous}: {delta} poin persentase.",
        "mail_worst": "Perlu perhatian:",
        "mail_unknown": "Tidak terlihat kamera ({n} kantor): {names}.",
        "mail_attached": "Laporan lengkap terlampir ({files}).",
        "mail_footer": "Pesan ini dikirim otomatis oleh Pantau. Mohon tidak membalas.",
    },
    "en": {
        "title": "Kelurahan Office Opening-Hours Compliance Report",
        "title_daily": "Daily Summary of Kelurahan Office Opening Hours",
        "city": "City",
        "kecamatan": "District",
        "kelurahan": "Kelurahan",
        "site": "Office",
        "slug": "Office code",
        "kelurahan_code": "Kelurahan code",
        "scope": "Area",
        "period": "Period",
        "period_day": "Day",
        "period_week": "Week",
        "period_month": "Month",
        "period_year": "Year",
        "week_label": "Week {week} of {year}",
        "generated": "Generated",
        "times_in": "all times in {tz}",
        "rank": "Rank",
        "sites": "Offices",
        "working_days": "Working days",
        "holidays": "Holidays",
        "missing": "No data",
        "on_time": "On time",
        "late": "Late",
        "heavy_late": "Very late",
        "late_heavy_short": "Late (very late)",
        "seen": "seen",
        "not_open": "Not open",
        "closed_early": "Closed early",
        "unknown": "Unknown",
        "excused": "Corrected (official reason)",
        "judged": "Days judged",
        "rate_raw": "On time (%)",
        "rate_corrected": "On time after corrections (%)",
        "avg_open": "Average opening time",
        "median_open": "Median opening time",
        "avg_late": "Average lateness (minutes)",
        "service_seen": "Service hours seen (%)",
        "unknown_seen": "Seen on unknown days (%)",
        "trend": "Trend",
        "trend_rate": "On-time change (% points)",
        "trend_open": "Average opening change (minutes)",
        "previous": "Previous period",
        "no_previous": "no data for the previous period",
        "summary": "Summary",
        "per_kelurahan": "Per kelurahan",
        "per_kecamatan": "Per district",
        "daily": "Daily",
        "ranking": "Compliance ranking",
        "insufficient": "Not enough data",
        "insufficient_note": (
            "Offices whose working days were mostly not seen by the cameras are not ranked: "
            "a day nobody saw is not a late day."
        ),
        "unknown_note": (
            "'Unknown' days (camera or link down over the opening) are not counted as late "
            "and are left out of the percentages."
        ),
        "pending": "Days waiting for site data",
        "pending_mark": "waiting for site data",
        "pending_day": "Site data",
        "pending_note": (
            "{n} day(s) waiting for site data: the office's agent has not sent all of it yet "
            "(no internet, or still sending). Their verdicts are recomputed when it arrives."
        ),
        "corrections": "Official corrections",
        "correction_reason": "Reason",
        "correction_note": "Note",
        "raw_status": "Original status",
        "status": "Status",
        "opened": "Opened",
        "closed": "Closed",
        "scheduled": "Scheduled open",
        "late_minutes": "Late (minutes)",
        "reason": "Details",
        "date": "Date",
        "total": "Total",
        "legend": "Colour legend",
        "chart_opening_city": "Median opening time per day against the schedule",
        "chart_opening_site": "Opening time per day against the schedule: {site}",
        "chart_schedule": "Scheduled open",
        "chart_opened": "Opened",
        "chart_median": "Median opening",
        "chart_heavy": "Very-late threshold",
        "chart_heatmap": "Daily status per office",
        "minutes": "minutes",
        "none": "–",
        "page": "Page {n}",
        "mail_subject_daily": "[Pantau] Daily office opening summary – {period}",
        "mail_subject_weekly": "[Pantau] Weekly office opening report – {period}",
        "mail_subject_monthly": "[Pantau] Monthly office opening report – {period}",
        "mail_greeting": "Dear Sir/Madam,",
        "mail_intro": "here is the {what} of kelurahan office opening hours for {scope}, {period}.",
        "mail_what_daily": "daily summary",
        "mail_what_weekly": "weekly report",
        "mail_what_monthly": "monthly report",
        "mail_rate": "On time: {rate} of the working days seen ({corrected} after corrections).",
        "mail_counts": (
            "Working days: {working}; on time {on_time}, late {late} (very late {heavy}), "
            "not open {not_open}, closed early {early}, unknown {unknown}."
        ),
        "mail_avg_open": "Average opening {avg} {tz} (median {median} {tz}).",
        "mail_trend": "Against {previous}: {delta} percentage points.",
        "mail_worst": "Needs attention:",
        "mail_unknown": "Not seen by the cameras ({n} offices): {names}.",
        "mail_attached": "The full report is attached ({files}).",
        "mail_footer": "This message was sent automatically by Pantau. Please do not reply.",
    },
}
LANGUAGES = tuple(LABELS)

_STATUS_EN = {
    "tepat_waktu": "On time",
    "terlambat": "Late",
    "terlambat_berat": "Very late",
    "tidak_buka": "Not open",
    "pulang_cepat": "Closed early",
    "libur": "Holiday",
    "tidak_diketahui": "Unknown",
    EXCUSED: "Corrected",
}
_STATUS = {"id": {**STATUS_LABELS, EXCUSED: "Dikoreksi"}, "en": _STATUS_EN}

_REASONS = {
    "id": {
        "dinas_luar": "Dinas luar",
        "rapat_kantor_camat": "Rapat di kantor camat",
        "listrik_padam": "Listrik padam",
        "gangguan_jaringan": "Gangguan jaringan",
        "bencana": "Bencana",
        "lainnya": "Lainnya",
    },
    "en": {
        "dinas_luar": "Official duty outside the office",
        "rapat_kantor_camat": "Meeting at the kecamatan office",
        "listrik_padam": "Power cut",
        "gangguan_jaringan": "Network failure",
        "bencana": "Disaster",
        "lainnya": "Other",
    },
}
"""The official correction reasons (`store.models.CorrectionReason`)."""

STATUS_SHORT = {
    "tepat_waktu": "TW",
    "terlambat": "T",
    "terlambat_berat": "TB",
    "tidak_buka": "X",
    "pulang_cepat": "PC",
    "libur": "L",
    "tidak_diketahui": "?",
    EXCUSED: "K",
}
"""Cell codes for the day grid when a day has no opening time to print."""

STATUS_ORDER = (
    "tepat_waktu",
    "terlambat",
    "terlambat_berat",
    "tidak_buka",
    "pulang_cepat",
    "tidak_diketahui",
    EXCUSED,
    "libur",
)
"""Legend order: good to bad, then the days that are not judged."""

STATUS_COLORS = {
    "tepat_waktu": "63BE7B",
    "terlambat": "FFE699",
    "terlambat_berat": "F8696B",
    "tidak_buka": "A50026",
    "pulang_cepat": "F4B183",
    "tidak_diketahui": "9DC3E6",
    EXCUSED: "C9B8E8",
    "libur": "D9D9D9",
}
"""One palette (RGB hex) for the XLSX fills and the PDF heat map. Unknown is blue, not a
shade of red: a day nobody saw is not a bad day."""
MISSING_COLOR = "FFFFFF"


def _lang(lang: str) -> str:
    if lang not in LABELS:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    return lang


def label(key: str, lang: str = "id", **values: object) -> str:
    """The label `key` in `lang`, with `{placeholders}` filled from `values`."""
    text = LABELS[_lang(lang)][key]
    return text.format(**values) if values else text


def status_label(status: str, lang: str = "id") -> str:
    return _STATUS[_lang(lang)][status]


def reason_label(reason: str, lang: str = "id") -> str:
    """An official correction reason for people; free text passes through."""
    return _REASONS[_lang(lang)].get(reason, reason)


def hhmm(minutes: float | None, lang: str = "id") -> str:
    """Local minutes after midnight as "07.42" (rounded to the minute); "–" when unknown."""
    if minutes is None:
        return LABELS[_lang(lang)]["none"]
    m = round(minutes)
    return f"{m // 60:02d}.{m % 60:02d}"


def fmt_date(day: date, lang: str = "id", fmt: str = "EEEE, d MMMM y") -> str:
    """ "Jumat, 27 November 2026" (Babel's CLDR names)."""
    return format_date(day, fmt, locale=_lang(lang))


def fmt_month(day: date, lang: str = "id") -> str:
    return format_date(day, "MMMM y", locale=_lang(lang))


def fmt_rate(rate: float | None, lang: str = "id") -> str:
    """ "87,5%" in Indonesian, "87.5%" in English; "–" when there is nothing to divide."""
    if rate is None:
        return LABELS[_lang(lang)]["none"]
    return format_percent(rate, "#,##0.0%", locale=lang)


def fmt_number(value: float | None, lang: str = "id", digits: int = 1) -> str:
    if value is None:
        return LABELS[_lang(lang)]["none"]
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, pattern, locale=lang)


def fmt_minutes(value: float | None, lang: str = "id") -> str:
    if value is None:
        return LABELS[_lang(lang)]["none"]
    return f"{fmt_number(value, lang, 0)} {LABELS[lang]['minutes']}"
