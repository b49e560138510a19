"""Stored verdicts on SQLite and PostgreSQL: recompute from stored rows, idempotence, history
when late observations or a calendar change alter a verdict, dirty-day detection, corrections.

Observation rows are written straight into the database (no video): `ObsDay` from the rules'
tests builds a day minute by minute in WITA.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from pantau.cli.common import CliState, console
from pantau.cli.verdicts import verdicts_app
from pantau.config.model import Settings
from pantau.registry.schedule import site_day
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import (
    AuditEntry,
    Calendar,
    CalendarRuleRow,
    Camera,
    CorrectionReason,
    Observation,
    RuleKind,
    Site,
    SiteKind,
    VerdictHistory,
    VerdictRow,
)
from pantau.verdicts import decide_day
from pantau.verdicts.scheduler import run_due, run_forever
from pantau.verdicts.store import (
    CORRECTED,
    add_correction,
    candidates,
    dirty_days,
    effective_status,
    latest_correction,
    local_today,
    recompute,
    recompute_range,
    verdict_config,
)
from tests.test_verdict_rules import MON, TZ, ObsDay, local

KORUMBA = "74.71.01.1006"
AFTER = datetime(2026, 11, 28, 12, 0, tzinfo=TZ)  # "now" for a finished MON
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ---- helpers ----------------------------------------------------------------------------------


def office(session: Session, kelurahan: str = KORUMBA) -> Site:
    return session.scalars(
        select(Site)
        .where(Site.kelurahan_code == kelurahan, Site.kind == SiteKind.KANTOR_KELURAHAN)
        .order_by(Site.id)
    ).first()  # type: ignore[return-value]


def add_camera(rt: Runtime, site_id: int | None = None, name: str = "cam-layanan") -> int:
    with transaction(rt.sessions) as s:
        cam = Camera(
            site_id=site_id or office(s).id,
            name=name,
            purpose="keamanan kantor",
            main_stream="rtsp://10.0.0.5/stream",
        )
        s.add(cam)
        s.flush()
        return cam.id


def write_rows(rt: Runtime, rows: list[dict[str, Any]]) -> None:
    """Upsert like the pipeline's sink does (merge by camera and minute)."""
    with transaction(rt.sessions) as s:
        for row in rows:
            s.merge(Observation(**row))


def bulk_rows(rt: Runtime, rows: list[dict[str, Any]]) -> None:
    with transaction(rt.sessions) as s:
        s.execute(insert(Observation), rows)


def staffed_day(camera: int, arrive: str = "07.25", leave: str = "16.10") -> ObsDay:
    return ObsDay(MON, cameras=(camera,)).people(arrive, leave)


def run(rt: Runtime, site_id: int, day: date = MON, now: datetime = AFTER) -> VerdictRow | None:
    with transaction(rt.sessions) as s:
        row = recompute(s, rt.settings, site_id, day, now=now)
        if row is not None:
            s.refresh(row)
            _ = row.history, row.corrections  # load before the session closes
        return row


@contextmanager
def writes(engine: Engine) -> Iterator[list[str]]:
    """The INSERT/UPDATE/DELETE statements sent to the database inside the block."""
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def site_id_of(rt: Runtime, kelurahan: str = KORUMBA) -> int:
    with rt.sessions() as s:
        return office(s, kelurahan).id


# ---- tests ------------------------------------------------------------------------------------


def test_recompute_stores_the_rules_verdict_and_is_idempotent(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    cam = add_camera(rt)
    site = site_id_of(rt)
    bulk_rows(rt, staffed_day(cam).list())

    with writes(rt.engine) as statements:
        first = run(rt, site)
    assert any(s.lstrip().upper().startswith("INSERT INTO VERDICT") for s in statements)
    assert first is not None
    assert first.status == "tepat_waktu" and first.version == 1
    assert first.opened_at == local(MON, "07.25") and first.closed_at == local(MON, "16.10")
    assert first.observation_rows == 1440 and first.detail["rows"]["used"] == 1440
    assert first.first_presence_camera_id == cam and first.service_coverage == 1.0

    with writes(rt.engine) as statements:
        again = run(rt, site)
    assert statements == [], "a recompute with unchanged inputs must write nothing"
    assert again is not None and again.computed_at == first.computed_at
    assert again.version == 1 and again.history == []


def test_late_observations_turn_unknown_into_late_and_keep_history(
    fresh_runtime: Runtime,
) -> None:
    """An edge site syncs the afternoon first and the morning a day later."""
    rt = fresh_runtime
    cam = add_camera(rt)
    site = site_id_of(rt)
    day = staffed_day(cam, arrive="08.12", leave="16.05")
    rows = day.list()
    morning = [r for r in rows if r["minute"] < local(MON, "12.00")]
    afternoon = [r for r in rows if r["minute"] >= local(MON, "12.00")]
    bulk_rows(rt, afternoon)
    before = run(rt, site)
    assert before is not None and before.status == "tidak_diketahui"

    with rt.sessions() as s:
        assert dirty_days(s, rt.settings, MON, MON, now=AFTER) == []
    bulk_rows(rt, morning)
    with rt.sessions() as s:
        dirty = dirty_days(s, rt.settings, MON, MON, now=AFTER)
    assert [(d.site_id, d.day, d.why) for d in dirty] == [(site, MON, ("observations",))]

    after = run(rt, site, now=AFTER + timedelta(hours=1))
    assert after is not None and after.id == before.id
    assert after.status == "terlambat" and after.late_minutes == 42
    assert after.version == 2
    [old] = after.history
    assert old.version == 1 and old.status == "tidak_diketahui"
    assert old.change == ["observations"] and old.detail["status"] == "tidak_diketahui"
    assert old.computed_at == before.computed_at and old.superseded_at == after.computed_at
    with rt.sessions() as s:
        assert dirty_days(s, rt.settings, MON, MON, now=AFTER) == []


def test_calendar_change_is_found_and_recomputed_with_history(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    cam = add_camera(rt)
    site = site_id_of(rt)
    bulk_rows(rt, staffed_day(cam, arrive="08.00", leave="16.05").list())
    before = run(rt, site)
    assert before is not None and before.status == "terlambat" and before.late_minutes == 30

    # A circular moves the site's opening to 08.00 on that Monday.
    with transaction(rt.sessions) as s:
        city = s.scalar(select(Calendar).where(Calendar.name == "Kota Kendari"))
        cal = Calendar(name="Kalender Korumba", parent=city)
        cal.rules.append(
            CalendarRuleRow(
                kind=RuleKind.OVERRIDE,
                weekdays=[],
                opens=time(8, 0),
                closes=time(16, 0),
                start_date=MON,
                end_date=MON,
                reason="Surat edaran: apel pagi di kantor camat",
            )
        )
        s.get(Site, site).calendar = cal  # type: ignore[union-attr]
    with rt.sessions() as s:
        dirty = dirty_days(s, rt.settings, MON, MON, now=AFTER)
    assert [(d.site_id, d.why) for d in dirty] == [(site, ("calendar",))]

    after = run(rt, site)
    assert after is not None and after.status == "tepat_waktu"
    assert after.scheduled_open == local(MON, "08.00")
    [old] = after.history
    assert old.status == "terlambat" and old.change == ["calendar"]
    assert old.detail["schedule"]["open"] == local(MON, "07.30").isoformat()


def test_rows_twice_and_out_of_order_give_the_same_verdict(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    cam = add_camera(rt)
    site = site_id_of(rt)
    rows = staffed_day(cam, arrive="07.50", leave="15.20").down("07.00", "07.05").list()
    shuffled = rows[:]
    random.Random(6).shuffle(shuffled)
    for i in range(0, len(shuffled), 97):  # many small deliveries, in random order
        write_rows(rt, shuffled[i : i + 97])
    first = run(rt, site)
    assert first is not None
    with rt.sessions() as s:
        schedule = site_day(s, s.get(Site, site), MON)  # type: ignore[arg-type]
        cfg = verdict_config(rt.settings)
    expected = decide_day(rows, schedule, cfg, tz=TZ, site_id=site).to_dict()
    assert first.detail == expected
    assert first.status == "terlambat" and first.late_minutes == 20

    write_rows(rt, list(reversed(rows)))  # the whole day delivered again, backwards
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Observation)) == len(rows)
        assert dirty_days(s, rt.settings, MON, MON, now=AFTER) == []
    with writes(rt.engine) as statements:
        again = run(rt, site)
    assert statements == []
    assert again is not None and again.detail == expected and again.version == 1


def test_provisional_day_keeps_a_version_only_when_the_status_changes(
    fresh_runtime: Runtime,
) -> None:
    """While the day goes on, the last-seen time moves every pass; that is not a new version."""
    rt = fresh_runtime
    cam = add_camera(rt)
    site = site_id_of(rt)
    rows = staffed_day(cam, arrive="07.20", leave="15.00").list()

    def upto(hhmm: str) -> list[dict[str, Any]]:
        return [r for r in rows if r["minute"] < local(MON, hhmm)]

    bulk_rows(rt, upto("09.00"))
    at9 = run(rt, site, now=local(MON, "09.00"))
    assert at9 is not None and at9.status == "tepat_waktu"
    assert at9.closing_status == "tidak_diketahui"

    write_rows(rt, [r for r in upto("11.00") if r["minute"] >= local(MON, "09.00")])
    at11 = run(rt, site, now=local(MON, "11.00"))
    assert at11 is not None and at11.closed_at == local(MON, "11.00")
    assert at11.version == 1 and at11.history == []  # refreshed in place

    write_rows(rt, [r for r in rows if r["minute"] >= local(MON, "11.00")])
    final = run(rt, site)  # the next day: the verdict is final
    assert final is not None and final.status == "pulang_cepat" and final.early_minutes == 60
    assert final.version == 2
    assert [h.status for h in final.history] == ["tepat_waktu"]
    assert final.history[0].closed_at == local(MON, "11.00")


def test_recompute_range_covers_office_sites_with_cameras_only(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    cam = add_camera(rt)
    site = site_id_of(rt)
    bulk_rows(rt, staffed_day(cam).list())
    with transaction(rt.sessions) as s:
        park = Site(slug="taman-korumba", kind=SiteKind.RUANG_PUBLIK, name="Taman Korumba")
        s.add(park)
        s.flush()
        park_id = park.id
    add_camera(rt, park_id, "cam-taman")
    sunday = MON - timedelta(days=1)
    with transaction(rt.sessions) as s:
        report = recompute_range(s, rt.settings, sunday, MON + timedelta(days=1), now=AFTER)
        stored = {(r.site_id, r.day): r.status for r in s.scalars(select(VerdictRow))}
    # The camera was registered today (after MON): MON has rows, the Sunday before has none.
    assert stored == {(site, MON): "tepat_waktu"}
    assert report.created == 1 and report.total == 1
    with transaction(rt.sessions) as s:
        again = recompute_range(s, rt.settings, sunday, MON, now=AFTER)
        assert again.unchanged == 1 and again.created == again.changed == 0
        # Explicit sites are computed whatever they are, but never for a day not yet begun.
        tomorrow = AFTER.date() + timedelta(days=1)
        assert recompute(s, rt.settings, park_id, tomorrow, now=AFTER) is None
        pairs = candidates(s, rt.settings, sunday, tomorrow, [park_id], now=AFTER)
        assert pairs == [(park_id, sunday + timedelta(days=i)) for i in range(7)]


def test_rules_settings_change_marks_days_dirty(
    fresh_runtime: Runtime,
) -> None:
    rt = fresh_runtime
    cam = add_camera(rt)
    site = site_id_of(rt)
    bulk_rows(rt, staffed_day(cam, arrive="07.40").list())
    before = run(rt, site)
    assert before is not None and before.status == "terlambat"
    rt.settings = Settings.model_validate(rt.settings.model_dump() | {"verdicts": {"grace": 15}})
    with rt.sessions() as s:
        assert [d.why for d in dirty_days(s, rt.settings, MON, MON, now=AFTER)] == [("rules",)]
    after = run(rt, site)
    assert after is not None and after.status == "tepat_waktu"
    assert after.history[0].change == ["rules"]


def test_corrections_keep_the_verdict_and_the_latest_applies(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    cam = add_camera(rt)
    site = site_id_of(rt)
    bulk_rows(rt, staffed_day(cam, arrive="10.20").list())
    with transaction(rt.sessions) as s:
        row = recompute(s, rt.settings, site, MON, now=AFTER)
        assert row is not None and row.status == "terlambat_berat"
        assert effective_status(row) == "terlambat_berat" and latest_correction(row) is None
        add_correction(s, row, "rapat_kantor_camat", "Undangan camat no. 005/123", "admin")
        add_correction(s, row, CorrectionReason.DINAS_LUAR, "Surat tugas 090/77", "admin")
    with rt.sessions() as s:
        row = s.scalar(select(VerdictRow))
        assert row is not None
        assert row.status == "terlambat_berat"  # the computed verdict stays as it was
        assert effective_status(row) == CORRECTED
        latest = latest_correction(row)
        assert latest is not None and latest.reason == CorrectionReason.DINAS_LUAR
        assert [c.verdict_status for c in row.corrections] == ["terlambat_berat"] * 2
    # A recompute with other rows keeps the corrections on the new version.
    write_rows(rt, staffed_day(cam, arrive="07.20").list())
    again = run(rt, site)
    assert again is not None and again.status == "tepat_waktu" and len(again.corrections) == 2
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(VerdictHistory)) == 1


def test_heavy_late_threshold_is_one_setting() -> None:
    assert verdict_config(Settings()).heavy_late_after == time(10, 0)
    later = Settings.model_validate({"verdicts": {"heavy_late_after": "10.15"}})
    assert verdict_config(later).heavy_late_after == time(10, 15)
    again = Settings.model_validate_json(later.model_dump_json())  # as the hub's workers get it
    assert verdict_config(again).heavy_late_after == time(10, 15)


@pytest.mark.parametrize("threshold", ["09.00", "11.00"])
def test_heavy_late_threshold_changes_the_status(fresh_runtime: Runtime, threshold: str) -> None:
    rt = fresh_runtime
    cam = add_camera(rt)
    site = site_id_of(rt)
    bulk_rows(rt, staffed_day(cam, arrive="09.30").list())
    rt.settings = Settings.model_validate(
        rt.settings.model_dump() | {"verdicts": {"heavy_late_after": threshold}}
    )
    row = run(rt, site)
    assert row is not None
    assert row.status == ("terlambat_berat" if threshold == "09.00" else "terlambat")


# ---- the hub's periodic job -------------------------------------------------------------------


def test_run_due_recomputes_only_dirty_days(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    cam = add_camera(rt)
    site = site_id_of(rt)
    bulk_rows(rt, staffed_day(cam, arrive="08.12").down("06.00", "12.00").list())
    now = AFTER  # MON is within the 7 days looked back
    first = run_due(rt.sessions, rt.settings, now)
    assert first.dirty >= 1 and first.created == first.dirty and not first.failed
    with rt.sessions() as s:
        row = s.scalar(select(VerdictRow).where(VerdictRow.site_id == site, VerdictRow.day == MON))
        assert row is not None and row.status == "tidak_diketahui"
        # The camera was registered today (real time), after `now`: only MON had rows.
        assert s.scalar(select(func.count()).select_from(VerdictRow)) == 1

    idle = run_due(rt.sessions, rt.settings, now)
    assert idle.dirty == 0 and idle.created == idle.changed == 0

    full = staffed_day(cam, arrive="08.12").list()
    write_rows(rt, [r for r in full if local(MON, "06.00") <= r["minute"] < local(MON, "12.00")])
    later = run_due(rt.sessions, rt.settings, now + timedelta(minutes=5))
    assert later.dirty == 1 and later.changed == 1
    with rt.sessions() as s:
        row = s.scalar(select(VerdictRow).where(VerdictRow.site_id == site))
        assert row is not None and row.status == "terlambat" and row.version == 2

    # Nine days on, MON is out of reach: rows rewritten for it now are not looked at.
    write_rows(rt, staffed_day(cam, arrive="07.00").list())
    run_due(rt.sessions, rt.settings, now + timedelta(days=9))
    with rt.sessions() as s:
        row = s.scalar(select(VerdictRow).where(VerdictRow.site_id == site, VerdictRow.day == MON))
        assert row is not None and row.status == "terlambat" and row.version == 2


class _OnePass:
    """A stop flag that lets the loop run exactly one pass."""

    def __init__(self) -> None:
        self.waits = 0

    def is_set(self) -> bool:
        return self.waits >= 2

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        return self.waits >= 2


def test_scheduler_loop_runs_a_pass(fresh_runtime: Runtime) -> None:
    rt = fresh_runtime
    cam = add_camera(rt)
    bulk_rows(rt, staffed_day(cam).list())
    # MON is more than lookback_days before the real today: widen the window for the test.
    days = (local_today(rt.settings) - MON).days + 1
    rt.settings = Settings.model_validate(
        rt.settings.model_dump() | {"verdicts": {"lookback_days": days}}
    )
    run_forever(rt, _OnePass(), first_delay=0)
    with rt.sessions() as s:
        assert s.scalar(select(VerdictRow.status).where(VerdictRow.day == MON)) == "tepat_waktu"


# ---- the command line ---------------------------------------------------------------------------


def cli(rt: Runtime, *args: str) -> str:
    """`pantau verdicts ...` against the runtime's database (a config file naming it)."""
    cfg = rt.settings.data_dir / "pantau-cli.yaml"
    cfg.write_text(
        f"data_dir: {rt.settings.data_dir}\ndatabase:\n  url: {rt.settings.database_url}\n",
        encoding="utf-8",
    )
    root = typer.Typer()
    root.add_typer(verdicts_app, name="verdicts")
    result = CliRunner().invoke(
        root, ["verdicts", *args], obj=CliState(config_path=cfg), catch_exceptions=False
    )
    text = ANSI.sub("", result.output)
    assert result.exit_code == 0, text
    return text


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Table cells must not wrap mid-word in a narrow (xdist) terminal."""
    monkeypatch.setattr(console, "_width", 250)


def test_cli_recompute_and_show(fresh_runtime: Runtime, wide_console: None) -> None:
    rt = fresh_runtime
    cam = add_camera(rt)
    bulk_rows(rt, staffed_day(cam, arrive="08.05", leave="16.02").list())
    assert "belum ada putusan" in cli(rt, "show", "--date", MON.isoformat())

    text = cli(rt, "recompute", "--from", MON.isoformat(), "--to", MON.isoformat())
    assert "1 putusan: 1 baru" in text
    with rt.sessions() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "verdict.recompute"))
        assert entry is not None and entry.actor.startswith("cli:")
        assert entry.detail["created"] == 1
    again = cli(rt, "recompute", "--from", MON.isoformat(), "--to", MON.isoformat())
    assert "1 putusan: 0 baru, 0 berubah, 0 diperbarui, 1 tetap" in again

    shown = cli(rt, "show", "--date", MON.isoformat(), "--site", KORUMBA)
    assert "Senin, 23-11-2026" in shown
    assert "07.30–16.00 WITA" in shown and "08.05 WITA" in shown and "16.02 WITA" in shown
    assert "Terlambat" in shown and "+35 mnt" in shown and "100%" in shown


def test_cli_refuses_a_future_date(fresh_runtime: Runtime, wide_console: None) -> None:
    rt = fresh_runtime
    tomorrow = local_today(rt.settings) + timedelta(days=1)
    cfg = rt.settings.data_dir / "pantau-cli.yaml"
    cfg.write_text(f"database:\n  url: {rt.settings.database_url}\n", encoding="utf-8")
    root = typer.Typer()
    root.add_typer(verdicts_app, name="verdicts")
    result = CliRunner().invoke(
        root, ["verdicts", "show", "--date", tomorrow.isoformat()], obj=CliState(config_path=cfg)
    )
    assert result.exit_code == 1
    assert "belum tiba" in ANSI.sub("", result.output)
