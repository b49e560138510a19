"""Scheduled email delivery of the reports: when each is due, the message, and sending it.

* `due_deliveries(now, config, last_sent)` is pure: given the clock and the period key last
  sent per kind (the caller stores it), it says which reports to send now. A period is sent
  once: after a restart the same key is not due again, and a clock that went back does not
  resend an older period.
* `build_message` makes an `EmailMessage` with a short Indonesian summary in the body and the
  exports attached; `send_message` hands it to an SMTP server (STARTTLS and login optional).
  A failure raises `DeliveryError` naming the server and the recipients, never anything else.
* `run_due_deliveries` does all of it for the caller's scheduler and never raises: each due
  report becomes an outcome, sent or failed with the reason.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    SerializationInfo,
    field_serializer,
    field_validator,
)

from pantau.registry.calendar import parse_hhmm
from pantau.verdicts.labels import fmt_number, fmt_rate, hhmm, label, status_label
from pantau.verdicts.report import Period, Report

__all__ = [
    "DailyDelivery",
    "DeliveryError",
    "Due",
    "MonthlyDelivery",
    "Outcome",
    "ReportDeliveryConfig",
    "WeeklyDelivery",
    "attachment_name",
    "build_message",
    "due_deliveries",
    "render_attachments",
    "run_due_deliveries",
    "send_message",
    "summary_text",
]

Kind = Literal["daily", "weekly", "monthly"]
Format = Literal["pdf", "xlsx", "csv"]
KINDS: tuple[Kind, ...] = ("daily", "weekly", "monthly")
MIME = {
    "pdf": ("application", "pdf"),
    "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("text", "csv"),
}


class DeliveryError(RuntimeError):
    """A report could not be sent; the message names the server and the recipients (never the
    password)."""


# ---- settings --------------------------------------------------------------------------------


def _addresses(value: list[str]) -> list[str]:
    out = []
    for item in value:
        _, addr = parseaddr(item)
        if "@" not in addr or addr.startswith("@") or addr.endswith("@") or " " in addr:
            raise ValueError(f"not an email address: {item!r}")
        out.append(item.strip())
    return out


class _Kind(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipients: list[str] = Field(default_factory=list, description="To: addresses")
    at: time = Field(description="Local time (city zone) from which the report is sent")
    attach: list[Format] = Field(default_factory=lambda: ["pdf"])

    @field_validator("at", mode="before")
    @classmethod
    def _hhmm(cls, value: object) -> object:
        return parse_hhmm(value)

    @field_validator("recipients")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        return _addresses(value)


class DailyDelivery(_Kind):
    """Today's openings, sent once the morning is over."""

    at: time = time(10, 30)
    working_days_only: bool = Field(
        default=True, description="Send nothing on a day the city calendar says is not working"
    )


class WeeklyDelivery(_Kind):
    """Last ISO week, sent on `weekday` (0 = Monday) of the next."""

    at: time = time(8, 0)
    weekday: int = Field(default=0, ge=0, le=6)
    attach: list[Format] = Field(default_factory=lambda: ["pdf", "xlsx"])


class MonthlyDelivery(_Kind):
    """Last month, sent on `day` of the next."""

    at: time = time(8, 0)
    day: int = Field(default=1, ge=1, le=28)
    attach: list[Format] = Field(default_factory=lambda: ["pdf", "xlsx"])


class ReportDeliveryConfig(BaseModel):
    """SMTP server and recipients per report kind (`reports.delivery` in pantau.yaml).

    A kind without recipients is never sent. `from` is accepted for `sender` in YAML.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    enabled: bool = False
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = Field(default=True, description="Upgrade the connection with STARTTLS")
    tls_ca_file: Path | None = Field(
        default=None, description="Trust this CA bundle (a private mail server) for STARTTLS"
    )
    user: str | None = None
    password: SecretStr | None = None
    sender: str = Field(default="Pantau <pantau@localhost>", alias="from")
    timeout: float = Field(default=30.0, gt=0, le=600)
    language: Literal["id", "en"] = "id"
    daily: DailyDelivery = Field(default_factory=DailyDelivery)
    weekly: WeeklyDelivery = Field(default_factory=WeeklyDelivery)
    monthly: MonthlyDelivery = Field(default_factory=MonthlyDelivery)

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _addresses([value])[0]

    @field_serializer("password", when_used="json")
    def _password(self, value: SecretStr | None, info: SerializationInfo) -> str | None:
        """Masked in JSON, except for the hub's own worker processes (context reveal)."""
        if value is None:
            return None
        reveal = isinstance(info.context, dict) and info.context.get("reveal")
        return value.get_secret_value() if reveal else str(value)

    def kind(self, kind: Kind) -> _Kind:
        return {"daily": self.daily, "weekly": self.weekly, "monthly": self.monthly}[kind]


# ---- when ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    kind: Kind
    period: Period
    send_at: datetime  # aware, UTC

    @property
    def key(self) -> str:
        return self.period.key


def due_deliveries(
    now: datetime,
    config: ReportDeliveryConfig,
    last_sent: Mapping[str, str | None],
    *,
    tz: str = "Asia/Makassar",
    working_day: Callable[[date], bool] | None = None,
) -> list[Due]:
    """The reports to send at `now` (aware).

    Daily: today's report from `daily.at` local until midnight (a day the hub was down past
    midnight is not sent late: the weekly and monthly reports cover it). Weekly: the previous
    ISO week from `weekly.weekday` at `weekly.at`. Monthly: the previous month from
    `monthly.day` at `monthly.at`, any time that month. `last_sent` maps kind -> the period key
    last sent ("2026-11-23", "2026-W48", "2026-11"); a key not newer than it is not due.
    `working_day(date)` (the city calendar) skips the daily summary on holidays.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    if not config.enabled:
        return []
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    today = local.date()
    out: list[Due] = []

    def maybe(kind: Kind, period: Period, send_day: date) -> None:
        spec = config.kind(kind)
        if not spec.recipients:
            return
        send_at = datetime.combine(send_day, spec.at, tzinfo=zone)
        last = last_sent.get(kind)
        if local >= send_at and (not last or period.key > last):
            out.append(Due(kind, period, send_at.astimezone(UTC)))

    if working_day is None or not config.daily.working_days_only or working_day(today):
        maybe("daily", Period.day(today), today)
    monday = today - timedelta(days=today.weekday())
    maybe(
        "weekly",
        Period.containing("week", monday - timedelta(days=1)),
        monday + timedelta(days=config.weekly.weekday),
    )
    first = today.replace(day=1)
    maybe(
        "monthly",
        Period.containing("month", first - timedelta(days=1)),
        first.replace(day=config.monthly.day),
    )
    return out


# ---- what ------------------------------------------------------------------------------------


def attachment_name(report: Report, fmt: Format) -> str:
    """ "laporan-kepatuhan-kota-2026-11.pdf", "...-kecamatan-74.71.01-2026-W48.xlsx"."""
    scope = report.scope.kind if report.scope.kind == "city" else report.scope.code
    scope = {"city": "kota"}.get(str(scope), str(scope)).replace(" ", "-").lower()
    return f"laporan-kepatuhan-{scope}-{report.period.key}.{fmt}"


def render_attachments(
    report: Report, formats: Iterable[Format], lang: str = "id"
) -> dict[str, bytes]:
    """The report exported in each format, keyed by file name."""
    out: dict[str, bytes] = {}
    for fmt in formats:
        if fmt == "pdf":
            from pantau.verdicts.export_pdf import to_pdf

            data = to_pdf(report, lang)
        elif fmt == "xlsx":
            from pantau.verdicts.export_xlsx import to_xlsx

            data = to_xlsx(report, lang)
        else:
            from pantau.verdicts.export_csv import csv_bytes

            data = csv_bytes(report, "kelurahan", lang)
        out[attachment_name(report, fmt)] = data
    return out


_SEVERITY = {"tidak_buka": 0, "terlambat_berat": 1, "terlambat": 2, "pulang_cepat": 3}


def _attention(report: Report, lang: str, limit: int) -> list[str]:
    tz = report.tz_label
    lines = []
    if report.period.kind == "day":
        day = report.days[0]
        rows = []
        for r in report.sites:
            cell = r.cells.get(day)
            if cell is None or not cell.working or cell.shown_status not in _SEVERITY:
                continue
            what = status_label(cell.status, lang)
            if cell.opened is not None:
                what += f", {label('opened', lang).lower()} {hhmm(cell.opened)} {tz}"
            if cell.late_minutes:
                what += f" (+{cell.late_minutes} {label('minutes', lang)})"
            rows.append((_SEVERITY[cell.status], -(cell.late_minutes or 0), r, what))
        rows.sort(key=lambda x: (x[0], x[1], x[2].site.name))
        lines = [f"- {r.site.name} ({r.site.kecamatan}): {what}" for _, _, r, what in rows]
    else:
        worst = [r for r in reversed(report.ranking) if (r.stats.corrected_rate or 0) < 1.0]
        for r in worst:
            s = r.stats
            lines.append(
                f"- {r.site.name} ({r.site.kecamatan}): {fmt_rate(s.corrected_rate, lang)} "
                f"{label('on_time', lang).lower()}, {label('avg_open', lang).lower()} "
                f"{hhmm(s.avg_open)} {tz}"
            )
    if len(lines) > limit:
        rest = len(lines) - limit
        lines = [*lines[:limit], f"- … {rest} " + ("lainnya" if lang == "id" else "more")]
    return lines


def summary_text(
    report: Report, kind: Kind, lang: str = "id", files: Sequence[str] = (), limit: int = 10
) -> str:
    """The short plain-text body: headline figures, who needs attention, who was not seen."""
    s = report.total.stats
    tz = report.tz_label
    parts = [
        label("mail_greeting", lang),
        "",
        label(
            "mail_intro",
            lang,
            what=label(f"mail_what_{kind}", lang),
            scope=report.scope_title(lang),
            period=report.period.title(lang),
        ),
        "",
        label(
            "mail_rate",
            lang,
            rate=fmt_rate(s.on_time_rate, lang),
            corrected=fmt_rate(s.corrected_rate, lang),
        ),
        label(
            "mail_counts",
            lang,
            working=s.working_days,
            on_time=s.on_time,
            late=s.late,
            heavy=s.heavy_late,
            not_open=s.not_open,
            early=s.closed_early,
            unknown=s.unknown,
        ),
    ]
    if s.avg_open is not None:
        parts.append(
            label("mail_avg_open", lang, avg=hhmm(s.avg_open), median=hhmm(s.median_open), tz=tz)
        )
    trend = report.total.trend
    if trend is not None and trend.rate_delta is not None:
        sign = "+" if trend.rate_delta >= 0 else ""
        parts.append(
            label(
                "mail_trend",
                lang,
                previous=report.previous_period.title(lang),
                delta=sign + fmt_number(trend.rate_delta, lang),
            )
        )
    attention = _attention(report, lang, limit)
    if attention:
        parts += ["", label("mail_worst", lang), *attention]
    if report.period.kind == "day":
        unseen = [
            r.site.name
            for r in report.sites
            if any(c.shown_status == "tidak_diketahui" for c in r.cells.values())
        ]
    else:
        unseen = [r.site.name for r in report.insufficient]
    if unseen:
        parts += ["", label("mail_unknown", lang, n=len(unseen), names=", ".join(unseen))]
    parts += ["", label("unknown_note", lang)]
    if files:
        parts += ["", label("mail_attached", lang, files=", ".join(files))]
    parts += ["", "-- ", label("mail_footer", lang)]
    return "\n".join(parts) + "\n"


def build_message(
    report: Report,
    config: ReportDeliveryConfig,
    kind: Kind,
    attachments: Mapping[str, bytes],
    *,
    recipients: Sequence[str] | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The email for `kind` with the summary in the body and `attachments` (name -> bytes)."""
    lang = config.language
    to = list(recipients if recipients is not None else config.kind(kind).recipients)
    if not to:
        raise DeliveryError(f"tidak ada penerima untuk laporan {kind}")
    msg = EmailMessage()
    period = report.period.title(lang)
    if report.scope.kind != "city":
        period = f"{report.scope_title(lang)}, {period}"
    msg["Subject"] = label(f"mail_subject_{kind}", lang, period=period)
    msg["From"] = config.sender
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    domain = parseaddr(config.sender)[1].rpartition("@")[2] or "pantau.local"
    msg["Message-ID"] = make_msgid("pantau", domain=domain)
    msg["Content-Language"] = lang
    msg.set_content(summary_text(report, kind, lang, list(attachments)))
    for name, data in attachments.items():
        maintype, subtype = MIME[name.rsplit(".", 1)[-1]]
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


# ---- how -------------------------------------------------------------------------------------


def _recipients(msg: EmailMessage) -> list[str]:
    fields = [v for h in ("To", "Cc", "Bcc") for v in msg.get_all(h, [])]
    return [addr for _, addr in getaddresses(fields) if addr]


def send_message(msg: EmailMessage, config: ReportDeliveryConfig) -> None:
    """Send through the configured SMTP server. Raises `DeliveryError` (only) on failure."""
    to = _recipients(msg)
    where = f"{config.host}:{config.port}"
    who = ", ".join(to) or "(tanpa penerima)"
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            smtp.ehlo()
            if config.starttls:
                cafile = str(config.tls_ca_file) if config.tls_ca_file else None
                smtp.starttls(context=ssl.create_default_context(cafile=cafile))
                smtp.ehlo()
            if config.user:
                secret = config.password
                password = secret.get_secret_value() if isinstance(secret, SecretStr) else ""
                password = password or (secret if isinstance(secret, str) else "")
                smtp.login(config.user, password)
            refused = smtp.send_message(msg, to_addrs=to)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"Gagal mengirim laporan ke {who}: server SMTP {where} menolak login "
            f"{config.user!r} ({exc.smtp_code})"
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(
            f"Gagal mengirim laporan: server SMTP {where} menolak semua penerima "
            f"({', '.join(exc.recipients)})"
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(
            f"Gagal mengirim laporan ke {who}: server SMTP {where} tidak mendukung {exc}"
        ) from exc
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        reason = str(exc) or type(exc).__name__
        raise DeliveryError(
            f"Gagal mengirim laporan ke {who} melalui server SMTP {where}: {reason}"
        ) from exc
    if refused:
        raise DeliveryError(
            f"Server SMTP {where} menolak penerima {', '.join(sorted(refused))}; "
            "penerima lain sudah menerima laporan"
        )


@dataclass(frozen=True)
class Outcome:
    """One due report: sent, or not with the reason. Store `key` as last_sent[kind] when
    `sent` is true."""

    kind: Kind
    key: str
    sent: bool
    recipients: tuple[str, ...]
    error: str | None = None


def run_due_deliveries(
    now: datetime,
    config: ReportDeliveryConfig,
    last_sent: Mapping[str, str | None],
    make_report: Callable[[Due], Report],
    *,
    tz: str = "Asia/Makassar",
    working_day: Callable[[date], bool] | None = None,
    send: Callable[[EmailMessage, ReportDeliveryConfig], None] = send_message,
) -> list[Outcome]:
    """Build, export and send every due report; never raises (a scheduler calls this every
    minute or so). `make_report(due)` builds the report of `due.period` for the city."""
    outcomes = []
    for due in due_deliveries(now, config, last_sent, tz=tz, working_day=working_day):
        spec = config.kind(due.kind)
        try:
            report = make_report(due)
            files = render_attachments(report, spec.attach, config.language)
            msg = build_message(report, config, due.kind, files, now=now)
            send(msg, config)
        except Exception as exc:  # one bad report must not stop the scheduler or the others
            outcomes.append(
                Outcome(due.kind, due.key, False, tuple(spec.recipients), str(exc) or repr(exc))
            )
        else:
            outcomes.append(Outcome(due.kind, due.key, True, tuple(spec.recipients)))
    return outcomes
