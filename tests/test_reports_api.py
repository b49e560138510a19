"""Reports from stored verdicts through the API and `pantau report`, on SQLite and PostgreSQL.

One office in Korumba (camat's and lurah's scope) with three days of observation rows: on
time, 42 minutes late, never opened; the verdicts are computed by the store, the report is
read back in every format.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import insert
from typer.testing import CliRunner

from pantau.cli.main import app as cli
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Observation
from pantau.verdicts.store import recompute_range
from tests.test_verdict_rules import MON, ObsDay

Auth = Callable[[str], dict[str, str]]
TUE, WED = MON + timedelta(days=1), MON + timedelta(days=2)
WEEK = f"{MON.isocalendar().year}-W{MON.isocalendar().week:02d}"


@pytest.fixture(scope="module")
def office(client: TestClient, auth: Auth, shared_runtime: Runtime) -> dict[str, Any]:
    name = f"Kantor Laporan {uuid.uuid4().hex[:6]}"
    client.cookies.clear()
    site = client.post(
        "/api/sites",
        json={"kind": "kantor_opd", "name": name, "kelurahan_code": "74.71.01.1006"},
        headers=auth("admin"),
    ).json()["id"]
    cam = client.post(
        "/api/cameras",
        json={"site_id": site, "name": "loket", "purpose": "keamanan kantor",
              "main_stream": "rtsp://10.1.1.2/s"},
        headers=auth("admin"),
    ).json()["id"]  # fmt: skip
    rows = (
        ObsDay(MON, cameras=(cam,)).people("07.28", "16.05").list()
        + ObsDay(TUE, cameras=(cam,)).people("08.12", "16.05").list()
        + ObsDay(WED, cameras=(cam,)).list()  # seen all day, nobody came
    )
    with transaction(shared_runtime.sessions) as s:
        s.execute(insert(Observation), rows)
        recompute_range(s, shared_runtime.settings, MON, WED, [site])
    return {"site": site, "name": name}


def _mine(report: dict[str, Any], site: int) -> dict[str, Any]:
    [row] = [r for r in report["sites"] if r["site_id"] == site]
    return row


def test_week_report_counts_the_office_days(client, auth, office) -> None:
    client.cookies.clear()
    r = client.get(
        f"/api/reports?period={WEEK}&scope=kelurahan:74.71.01.1006", headers=auth("pimpinan")
    )
    assert r.status_code == 200, r.text
    stats = _mine(r.json(), office["site"])["stats"]
    assert (stats["on_time"], stats["late"], stats["not_open"]) == (1, 1, 1)
    assert r.json()["scope"]["kind"] == "kelurahan"


def test_formats_read_back(client, auth, office) -> None:
    client.cookies.clear()
    base = f"/api/reports?period={WEEK}&scope=kelurahan:74.71.01.1006"
    got = client.get(base + "&format=csv", headers=auth("admin"))
    assert got.headers["content-type"].startswith("text/csv")
    text = got.content.decode("utf-8-sig")
    assert office["name"] in text
    assert len(list(csv.reader(io.StringIO(text)))) >= 2
    xlsx = client.get(base + "&format=xlsx", headers=auth("admin"))
    book = load_workbook(io.BytesIO(xlsx.content))
    assert any(
        office["name"] in str(c.value or "") for ws in book.worksheets for row in ws for c in row
    )
    pdf = client.get(base + "&format=pdf", headers=auth("admin"))
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'attachment; filename="laporan-' in pdf.headers["content-disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Laporan" in text


def test_regional_users_get_their_own_area_only(client, auth, office) -> None:
    client.cookies.clear()
    lurah = client.get(f"/api/reports?period={WEEK}", headers=auth("lurah"))
    assert lurah.status_code == 200
    assert lurah.json()["scope"] == {
        "kind": "kelurahan", "code": "74.71.01.1006", "name": lurah.json()["scope"]["name"]
    }  # fmt: skip
    assert office["site"] in [s["site_id"] for s in lurah.json()["sites"]]
    other = client.get(
        f"/api/reports?period={WEEK}&scope=kecamatan:74.71.02", headers=auth("camat")
    )
    assert other.status_code == 403


def test_bad_periods_name_the_field(client, auth, office) -> None:
    client.cookies.clear()
    for period in ("2099-01", "bulan-lalu"):
        r = client.get(f"/api/reports?period={period}", headers=auth("admin"))
        assert r.status_code == 422, r.text
        assert "period" in r.text
    r = client.get("/api/reports?period=2026-11&scope=desa:1", headers=auth("admin"))
    assert r.status_code == 422 and "scope" in r.text


def test_cli_writes_the_same_report(office, shared_runtime, tmp_path) -> None:
    settings = shared_runtime.settings
    cfg = tmp_path / "pantau.yaml"
    cfg.write_text(f"data_dir: {settings.data_dir}\ndatabase:\n  url: {settings.database_url}\n")
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        cli,
        ["--config", str(cfg), "report", "--week", WEEK, "--kelurahan", "74.71.01.1006",
         "--format", "json", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    import json

    stats = _mine(json.loads(out.read_text()), office["site"])["stats"]
    assert (stats["on_time"], stats["late"], stats["not_open"]) == (1, 1, 1)
    bad = CliRunner().invoke(cli, ["--config", str(cfg), "report", "--month", "2099-01"])
    assert bad.exit_code == 2 and "belum dimulai" in bad.output
