"""The hub's report mailer against a real SMTP server on localhost (aiosmtpd), on SQLite and
PostgreSQL: the daily summary goes out once when due, never twice, not at all when off."""

from __future__ import annotations

import email
from datetime import datetime
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

from pantau.config.model import Settings
from pantau.runtime import Runtime
from pantau.verdicts.mailer import run_once, state_path
from tests.test_report_delivery import smtp  # noqa: F401  (fixture)
from tests.test_verdicts_store import MON, add_camera, bulk_rows, staffed_day

WITA = ZoneInfo("Asia/Makassar")


def _enable(rt: Runtime, port: int, enabled: bool = True) -> None:
    delivery = {
        "enabled": enabled,
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "daily": {"recipients": ["walikota@kendarikota.go.id", "sekda@kendarikota.go.id"]},
    }
    rt.settings = Settings.model_validate(
        rt.settings.model_dump() | {"reports": {"delivery": delivery}}
    )


def test_daily_summary_is_sent_once_when_due(fresh_runtime: Runtime, smtp) -> None:  # noqa: F811
    inbox, port = smtp
    rt = fresh_runtime
    bulk_rows(rt, staffed_day(add_camera(rt), arrive="08.12").list())
    _enable(rt, port)

    early = datetime(MON.year, MON.month, MON.day, 10, 0, tzinfo=WITA)
    assert run_once(rt, early) == []  # 10.30 WITA by default: not yet
    due = datetime(MON.year, MON.month, MON.day, 10, 31, tzinfo=WITA)
    [outcome] = run_once(rt, due)
    assert outcome.sent and outcome.kind == "daily", outcome.error
    [envelope] = inbox.envelopes
    assert sorted(envelope.rcpt_tos) == ["sekda@kendarikota.go.id", "walikota@kendarikota.go.id"]
    msg = email.message_from_bytes(envelope.content, policy=default_policy)
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "terlambat" in body.lower()  # the office opened 08.12 against 07.30
    assert [p.get_content_type() for p in msg.iter_attachments()] == ["application/pdf"]
    assert state_path(rt).exists()

    assert run_once(rt, due) == []  # sent already: a restart does not send it again
    assert len(inbox.envelopes) == 1


def test_nothing_is_sent_when_delivery_is_off(fresh_runtime: Runtime, smtp) -> None:  # noqa: F811
    inbox, port = smtp
    rt = fresh_runtime
    _enable(rt, port, enabled=False)
    assert run_once(rt, datetime(MON.year, MON.month, MON.day, 10, 31, tzinfo=WITA)) == []
    assert inbox.envelopes == []
