"""Report delivery by email through a real SMTP server on localhost (aiosmtpd): the message as
received, STARTTLS with login, refused and unreachable servers; and when reports are due.
"""

from __future__ import annotations

import datetime as dt
import email
import io
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterator
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError
from pypdf import PdfReader

from pantau.verdicts.delivery import (
    DeliveryError,
    Due,
    ReportDeliveryConfig,
    build_message,
    due_deliveries,
    render_attachments,
    run_due_deliveries,
    send_message,
)
from pantau.verdicts.report import Period, Report, ReportError, build_report
from tests.test_reports import ALPHA, SITES, week

TZ = ZoneInfo("Asia/Makassar")
WALIKOTA = "walikota@kendarikota.go.id"
SEKDA = "sekda@kendarikota.go.id"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler keeping every envelope; refuses recipients with 'ditolak' in them."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.logins: list[bytes] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "ditolak" in address:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _cert(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "smtp.pem", tmp / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_smtp(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    """A server that requires STARTTLS and a login (pantau / rahasia-smtp)."""
    cert, key = _cert(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"pantau",
            b"rahasia-smtp",
        )
        if ok:
            inbox.logins.append(auth_data.login)
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
        auth_required=True,
    )
    controller.start()
    try:
        yield inbox, port, cert
    finally:
        controller.stop()


def _report() -> Report:
    verdicts = [*week(1, ALPHA), *week(2, [("tidak_buka", None, None)] * 5)]
    return build_report(verdicts, SITES, "2026-W48", today=dt.date(2026, 12, 1))


def _config(port: int, **kw: Any) -> ReportDeliveryConfig:
    data = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "timeout": 10,
        "from": "Pantau Kota Kendari <pantau@kendarikota.go.id>",
        "daily": {"recipients": [WALIKOTA]},
        "weekly": {"recipients": [WALIKOTA, f"Sekretaris Daerah <{SEKDA}>"]},
        "monthly": {"recipients": [SEKDA], "at": "08.00"},
        **kw,
    }
    return ReportDeliveryConfig.model_validate(data)


def test_weekly_report_arrives_with_summary_and_attachments(smtp) -> None:
    inbox, port = smtp
    config = _config(port)
    report = _report()
    files = render_attachments(report, ["pdf", "xlsx"])
    msg = build_message(report, config, "weekly", files)
    send_message(msg, config)

    assert len(inbox.envelopes) == 1
    env = inbox.envelopes[0]
    assert env.mail_from == "pantau@kendarikota.go.id"
    assert sorted(env.rcpt_tos) == sorted([WALIKOTA, SEKDA])
    got = email.message_from_bytes(env.original_content, policy=default_policy)
    assert got["Subject"] == (
        "[Pantau] Laporan mingguan jam buka kantor – Minggu ke-48 2026 "
        "(23 November – 29 November 2026)"
    )
    assert "Sekretaris Daerah" in got["To"]
    body = got.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Yth. Bapak/Ibu,")
    assert "berikut laporan mingguan kepatuhan jam buka kantor kelurahan Kota Kendari" in body
    assert "Tepat waktu: 22,2% dari hari kerja yang terlihat" in body  # 2 of 9 judged days
    assert "tidak buka 5" in body and "tidak diketahui 1" in body
    assert "Perlu perhatian:" in body and "Kantor Kelurahan Beta (Mandonga)" in body
    attached = {part.get_filename(): part for part in got.iter_attachments()}
    assert set(attached) == {
        "laporan-kepatuhan-kota-2026-W48.pdf",
        "laporan-kepatuhan-kota-2026-W48.xlsx",
    }
    pdf = attached["laporan-kepatuhan-kota-2026-W48.pdf"]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == files["laporan-kepatuhan-kota-2026-W48.pdf"]
    text = PdfReader(io.BytesIO(pdf.get_content())).pages[0].extract_text()
    assert "Laporan Kepatuhan Jam Buka Kantor Kelurahan" in text
    xlsx = attached["laporan-kepatuhan-kota-2026-W48.xlsx"]
    assert xlsx.get_content() == files["laporan-kepatuhan-kota-2026-W48.xlsx"]


def test_starttls_and_login(tls_smtp) -> None:
    inbox, port, cert = tls_smtp
    config = _config(
        port, starttls=True, tls_ca_file=str(cert), user="pantau", password="rahasia-smtp"
    )
    report = _report()
    send_message(build_message(report, config, "daily", {}), config)
    assert inbox.logins == [b"pantau"]
    assert inbox.envelopes[0].rcpt_tos == [WALIKOTA]

    wrong = _config(
        port, starttls=True, tls_ca_file=str(cert), user="pantau", password="salah-sandi"
    )
    with pytest.raises(DeliveryError) as err:
        send_message(build_message(report, wrong, "daily", {}), wrong)
    assert f"127.0.0.1:{port}" in str(err.value) and "login" in str(err.value)
    assert "salah-sandi" not in str(err.value)

    untrusted = config.model_copy(update={"tls_ca_file": None})  # self-signed: not trusted
    with pytest.raises(DeliveryError, match=re.escape(f"127.0.0.1:{port}")):
        send_message(build_message(report, untrusted, "daily", {}), untrusted)
    assert len(inbox.envelopes) == 1


def test_refused_recipient_is_named(smtp) -> None:
    inbox, port = smtp
    config = _config(port)
    msg = build_message(
        _report(), config, "daily", {}, recipients=[WALIKOTA, "ditolak@kendarikota.go.id"]
    )
    with pytest.raises(DeliveryError, match=r"ditolak@kendarikota\.go\.id"):
        send_message(msg, config)
    assert inbox.envelopes[0].rcpt_tos == [WALIKOTA]  # the others still got it


def test_unreachable_server_gives_a_clear_error() -> None:
    port = free_port()  # nothing listens there
    config = _config(port, timeout=3)
    msg = build_message(_report(), config, "daily", {})
    with pytest.raises(DeliveryError) as err:
        send_message(msg, config)
    text = str(err.value)
    assert f"server SMTP 127.0.0.1:{port}" in text and WALIKOTA in text


def at(text: str) -> dt.datetime:
    """A local WITA time "2026-11-23 10.30" as an aware datetime."""
    day, clock = text.split()
    h, m = clock.split(".")
    return dt.datetime.combine(
        dt.date.fromisoformat(day), dt.time(int(h), int(m)), tzinfo=TZ
    ).astimezone(dt.UTC)


def kinds(dues: list[Due]) -> list[tuple[str, str]]:
    return [(d.kind, d.key) for d in dues]


def test_when_reports_are_due() -> None:
    c = _config(25)
    base = {"weekly": "2026-W47", "monthly": "2026-10"}
    assert kinds(due_deliveries(at("2026-11-24 10.29"), c, base)) == []
    assert kinds(due_deliveries(at("2026-11-24 10.30"), c, base)) == [("daily", "2026-11-24")]
    # A fresh install (nothing sent yet) sends last month's report at once.
    assert ("monthly", "2026-10") in kinds(due_deliveries(at("2026-11-24 09.00"), c, {}))
    # After sending, a restart at 15.00 sends nothing again; the next day it does.
    sent = {**base, "daily": "2026-11-24"}
    assert due_deliveries(at("2026-11-24 15.00"), c, sent) == []
    assert kinds(due_deliveries(at("2026-11-25 11.00"), c, sent)) == [("daily", "2026-11-25")]
    # Monday 08.00: last week's report; the daily waits for 10.30.
    assert kinds(due_deliveries(at("2026-11-30 08.00"), c, sent)) == [("weekly", "2026-W48")]
    # 1 December 08.00: November; still due on the 2nd if the hub was down on the 1st.
    sent = {"daily": "2026-12-01", "weekly": "2026-W49", "monthly": "2026-10"}
    assert kinds(due_deliveries(at("2026-12-01 07.59"), c, sent)) == []
    assert kinds(due_deliveries(at("2026-12-01 08.00"), c, sent)) == [("monthly", "2026-11")]
    assert ("monthly", "2026-11") in kinds(due_deliveries(at("2026-12-02 09.00"), c, sent))
    # A clock that went back a month does not resend older periods.
    sent = {"daily": "2026-12-01", "weekly": "2026-W49", "monthly": "2026-11"}
    assert due_deliveries(at("2026-11-01 09.00"), c, sent) == []
    # Holidays skip the daily summary; kinds without recipients and a disabled config nothing.
    holiday = due_deliveries(at("2026-11-24 11.00"), c, base, working_day=lambda d: False)
    assert holiday == []
    quiet = _config(25, daily={"recipients": []})
    assert due_deliveries(at("2026-11-24 11.00"), quiet, base) == []
    off = c.model_copy(update={"enabled": False})
    assert due_deliveries(at("2026-11-24 11.00"), off, {}) == []
    # The zone decides: 02.29 UTC is 10.29 WITA, not yet time for the 25th's summary.
    early = dt.datetime(2026, 11, 25, 2, 29, tzinfo=dt.UTC)
    assert due_deliveries(early, c, {**base, "daily": "2026-11-24"}) == []
    assert kinds(due_deliveries(early + dt.timedelta(minutes=1), c, base)) == [
        ("daily", "2026-11-25")
    ]
    with pytest.raises(ValueError, match="aware"):
        due_deliveries(dt.datetime(2026, 11, 24, 11, 0), c, {})


def test_run_due_deliveries_sends_once_and_never_raises(smtp) -> None:
    inbox, port = smtp
    config = _config(port)
    report = _report()
    now = at("2026-11-30 10.45")  # Monday: the daily and last week's report
    last: dict[str, str] = {"daily": "2026-11-27", "monthly": "2026-10"}

    def make(due: Due) -> Report:
        if due.kind == "daily":
            raise ReportError("tidak ada putusan untuk Kota Kendari")
        assert due.period == Period.parse("2026-W48")
        return report

    outcomes = run_due_deliveries(now, config, last, make)
    assert [(o.kind, o.key, o.sent) for o in outcomes] == [
        ("daily", "2026-11-30", False),
        ("weekly", "2026-W48", True),
    ]
    assert "tidak ada putusan" in (outcomes[0].error or "")
    assert len(inbox.envelopes) == 1
    for o in outcomes:
        if o.sent:
            last[o.kind] = o.key
    again = run_due_deliveries(now, config, last, make)
    assert [o.kind for o in again] == ["daily"]  # only the failed one is tried again
    assert len(inbox.envelopes) == 1

    down = _config(free_port(), timeout=3)
    failed = run_due_deliveries(now, down, {"daily": "2026-11-30", "monthly": "2026-10"}, make)
    assert [(o.kind, o.sent) for o in failed] == [("weekly", False)]
    assert "127.0.0.1" in (failed[0].error or "") and WALIKOTA in (failed[0].error or "")


def test_config_checks_addresses_and_times() -> None:
    c = _config(2525, daily={"recipients": [WALIKOTA], "at": "10.45"})
    assert c.daily.at == dt.time(10, 45) and c.monthly.day == 1
    assert c.sender.endswith("<pantau@kendarikota.go.id>")
    with pytest.raises(ValidationError, match="not an email address"):
        _config(2525, daily={"recipients": ["walikota"]})
    with pytest.raises(ValidationError):
        _config(2525, monthly={"recipients": [SEKDA], "day": 31})
    with pytest.raises(ValidationError):
        _config(2525, smtp_host="x")  # unknown keys are typos, not ignored
