"""Registry: the Kendari seed, CSV import, region codes, camera secrets, work calendar, users."""

from __future__ import annotations

import logging
import os
import stat
from datetime import date, time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from pantau.accounts import audit
from pantau.accounts.passwords import hash_password, verify_password
from pantau.accounts.scope import Scope
from pantau.accounts.users import UserError, create_user
from pantau.config.model import CameraConfig
from pantau.registry.cameras import CameraError, find_site, sync_config_cameras
from pantau.registry.codes import (
    CodeError,
    check_kecamatan_code,
    check_kelurahan_code,
    check_pair,
    fold,
    slugify,
)
from pantau.registry.schedule import (
    CalendarError,
    calendar_chain,
    check_calendar,
    site_day,
    site_days,
)
from pantau.registry.secrets import SecretBox, SecretError, split_credentials, with_credentials
from pantau.registry.seed import (
    CITY_CALENDAR,
    SiteImportError,
    import_rows,
    read_rows,
    seed_kendari,
    shipped_csv,
)
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import (
    AuditEntry,
    Calendar,
    CalendarRuleRow,
    Camera,
    Connectivity,
    Kecamatan,
    Kelurahan,
    Role,
    RuleKind,
    Site,
    SiteKind,
    User,
)

HEADER = "code,kelurahan,kecamatan_code,kecamatan,lat,lon"
PER_KECAMATAN = {
    "Mandonga": 6,
    "Kendari": 9,
    "Baruga": 4,
    "Poasia": 5,
    "Kendari Barat": 9,
    "Abeli": 7,
    "Wua-Wua": 4,
    "Kadia": 5,
    "Puuwatu": 6,
    "Kambu": 4,
    "Nambo": 6,
}


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def counts(session: Session) -> dict[str, int]:
    models = (Site, Kecamatan, Kelurahan, Calendar, CalendarRuleRow, Camera, User, AuditEntry)
    return {m.__name__: count(session, m) for m in models}


def write_csv(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def site_by_slug(session: Session, slug: str) -> Site:
    site = session.scalar(select(Site).where(Site.slug == slug))
    assert site is not None, slug
    return site


# ---------------------------------------------------------------- seed


def test_seed_gives_65_kelurahan_offices_in_11_kecamatan(fresh_runtime: Runtime) -> None:
    with fresh_runtime.sessions() as s:
        sites = list(s.scalars(select(Site)))
        assert len(sites) == 65
        assert {site.kind for site in sites} == {SiteKind.KANTOR_KELURAHAN}
        assert count(s, Kecamatan) == 11 and count(s, Kelurahan) == 65
        per_kec = dict(
            s.execute(
                select(Kecamatan.name, func.count(Site.id))
                .join(Site, Site.kecamatan_code == Kecamatan.code)
                .group_by(Kecamatan.name)
            ).all()
        )
        assert per_kec == PER_KECAMATAN
        # Every office sits in the kecamatan its code says, and has coordinates in Kendari.
        for site in sites:
            assert site.kelurahan_code.startswith(site.kecamatan_code + ".")
            if site.kelurahan_code == "74.71.04.1021":  # Wundumbatu: no polygon upstream
                assert site.lat is None and site.lon is None
            else:
                assert -4.2 < site.lat < -3.8 and 122.3 < site.lon < 122.8
        assert len({site.slug for site in sites}) == 65
        mandonga = site_by_slug(s, "kel-mandonga")
        assert mandonga.name == "Kantor Kelurahan Mandonga"
        assert mandonga.kelurahan_code == "74.71.01.1005"
        assert mandonga.connectivity == Connectivity.CONNECTED
        city = s.scalar(select(Calendar).where(Calendar.name == CITY_CALENDAR))
        assert city is not None and city.parent_id is None and len(city.rules) == 6


def test_seeding_twice_changes_nothing(fresh_runtime: Runtime) -> None:
    with fresh_runtime.sessions() as s:
        before = counts(s)
        stamps = dict(s.execute(select(Site.id, Site.updated_at)).all())
    with transaction(fresh_runtime.sessions) as s:
        result = seed_kendari(s)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 65)
    assert (result.kecamatan, result.kelurahan) == (0, 0)
    with fresh_runtime.sessions() as s:
        assert counts(s) == before
        assert dict(s.execute(select(Site.id, Site.updated_at)).all()) == stamps


def test_reimport_of_the_shipped_csv_changes_nothing(fresh_runtime: Runtime) -> None:
    rows = read_rows(shipped_csv())
    assert len(rows) == 65
    with transaction(fresh_runtime.sessions) as s:
        result = import_rows(s, rows)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 65)


# ---------------------------------------------------------------- CSV import


def test_bad_code_on_line_3_names_file_line_and_pattern_and_writes_nothing(
    fresh_runtime: Runtime, tmp_path: Path
) -> None:
    csv_path = write_csv(
        tmp_path / "sites.csv",
        HEADER,
        "74.71.01.1005,Mandonga,74.71.01,Mandonga,-3.96,122.51",
        "74.71.1.5,Salah,74.71.01,Mandonga,-3.96,122.51",
        "74.71.12.1001,Baru,74.71.12,Kecamatan Baru,-3.96,122.51",
    )
    with fresh_runtime.sessions() as s:
        before = counts(s)

    with pytest.raises(SiteImportError) as info, transaction(fresh_runtime.sessions) as s:
        import_rows(s, read_rows(csv_path))
    msg = str(info.value)
    assert f"{csv_path}:3:" in msg
    assert "'74.71.1.5'" in msg and "PP.KK.CC.LLLL" in msg
    assert msg.count("\n") == 0, "only the bad line is reported"

    with fresh_runtime.sessions() as s:
        assert counts(s) == before
        assert s.get(Kecamatan, "74.71.12") is None


def test_every_bad_line_is_reported(tmp_path: Path) -> None:
    csv_path = write_csv(
        tmp_path / "sites.csv",
        HEADER,
        "74.71.01.1005,Mandonga,74.71.01,Mandonga,-3.96,122.51",
        "74.71.01.10X5,Salah,74.71.01,Mandonga,-3.96,122.51",
        "74.71.01.1006,Korumba,74.71.01,Mandonga,utara,122.51",
        "74.71.02.1001,Kendari,74.71.01,Mandonga,-3.96,122.51",
    )
    with pytest.raises(SiteImportError) as info:
        read_rows(csv_path)
    lines = str(info.value).splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"{csv_path}:3",
        f"{csv_path}:4",
        f"{csv_path}:5",
    ]
    assert "lat 'utara' is not a number" in lines[1]
    assert "74.71.02.1001 does not belong to kecamatan 74.71.01" in lines[2]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("74.71.01.1005,Mandonga,74.71.1,Mandonga,,", "kecamatan code '74.71.1'"),
        ("74.71.02.1005,Mandonga,74.71.01,Mandonga,,", "does not belong to kecamatan 74.71.01"),
        ("74.71.01.1005,Mandonga,74.71.01,Mandonga,,,kantor", "kind 'kantor' must be one of"),
        ("74.71.01.1005,Mandonga,74.71.01,Mandonga,,,,,online", "connectivity 'online'"),
        (",Mandonga,74.71.01,Mandonga,,", "kelurahan code ''"),
        ("74.71.01.1005,,74.71.01,Mandonga,,", "kelurahan name is empty"),
    ],
)
def test_bad_row(tmp_path: Path, line: str, expected: str) -> None:
    csv_path = write_csv(tmp_path / "s.csv", HEADER + ",kind,name,connectivity", line)
    with pytest.raises(SiteImportError) as info:
        read_rows(csv_path)
    assert str(info.value).startswith(f"{csv_path}:2: ")
    assert expected in str(info.value)


def test_short_row_is_an_import_error_not_a_crash(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "s.csv", HEADER, "74.71.01.1005,Mandonga")
    with pytest.raises(SiteImportError, match=r"s\.csv:2: kecamatan code ''"):
        read_rows(csv_path)


def test_missing_column_and_missing_file(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "s.csv", "code,kelurahan,kecamatan", "74.71.01.1005,M,M")
    with pytest.raises(SiteImportError, match=r"missing column.*kecamatan_code"):
        read_rows(csv_path)
    with pytest.raises(SiteImportError, match="cannot open"):
        read_rows(tmp_path / "nope.csv")


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    csv_path = tmp_path / "excel.csv"
    csv_path.write_bytes(
        ("\ufeff" + HEADER + "\n74.71.01.1005,Mandonga,74.71.01,Mandonga,-3.9,122.5\n").encode()
    )
    [row] = read_rows(csv_path)
    assert row.code == "74.71.01.1005" and row.lat == -3.9 and row.line == 2


def test_import_updates_connectivity_and_adds_kinds(fresh_runtime: Runtime, tmp_path: Path) -> None:
    csv_path = write_csv(
        tmp_path / "s.csv",
        HEADER + ",kind,name,connectivity",
        "74.71.01.1006,Korumba,74.71.01,Mandonga,-3.972629,122.523247,,,not_connected",
        "74.71.01.1005,Mandonga,74.71.01,Mandonga,-3.96,122.51,kantor_kecamatan,,planned",
        "74.71.01.1007,Labibia,74.71.01,Mandonga,-3.921330,122.493338,,Kantor Lurah Labibia,",
        "74.71.12.1001,Baru,74.71.12,Kecamatan Baru,-3.9,122.4,,,",
    )
    with transaction(fresh_runtime.sessions) as s:
        result = import_rows(s, read_rows(csv_path))
    assert (result.created, result.updated, result.unchanged) == (2, 2, 0)
    assert (result.kecamatan, result.kelurahan) == (1, 1)
    with fresh_runtime.sessions() as s:
        assert site_by_slug(s, "kel-korumba").connectivity == Connectivity.NOT_CONNECTED
        assert site_by_slug(s, "kel-labibia").name == "Kantor Lurah Labibia"
        kec = site_by_slug(s, "kec-mandonga")
        assert kec.kind == SiteKind.KANTOR_KECAMATAN and kec.name == "Kantor Kecamatan Mandonga"
        assert kec.connectivity == Connectivity.PLANNED
        assert site_by_slug(s, "kel-mandonga").kind == SiteKind.KANTOR_KELURAHAN
        assert s.get(Kecamatan, "74.71.12").name == "Kecamatan Baru"
        assert count(s, Site) == 67
    # The same file again: nothing left to do.
    with transaction(fresh_runtime.sessions) as s:
        again = import_rows(s, read_rows(csv_path))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


def test_same_name_in_two_kecamatan_gets_distinct_slugs(
    fresh_runtime: Runtime, tmp_path: Path
) -> None:
    csv_path = write_csv(
        tmp_path / "s.csv", HEADER, "74.71.12.1001,Mandonga,74.71.12,Kecamatan Baru,,"
    )
    with transaction(fresh_runtime.sessions) as s:
        import_rows(s, read_rows(csv_path))
    with fresh_runtime.sessions() as s:
        assert site_by_slug(s, "kel-mandonga").kelurahan_code == "74.71.01.1005"
        assert site_by_slug(s, "kel-mandonga-7471121001").kelurahan_code == "74.71.12.1001"


# ---------------------------------------------------------------- codes


@pytest.mark.parametrize("code", ["74.71.01.1005", " 74.71.01.1005 ", "74.71.10.2001"])
def test_kelurahan_code_accepted(code: str) -> None:
    assert check_kelurahan_code(code) == code.strip()


@pytest.mark.parametrize(
    "code",
    [
        "74.71.1.5",
        "74.71.01.3005",
        "74.71.01.100",
        "74.71.01.10055",
        "74-71-01-1005",
        "",
        "74.71.01",
    ],
)
def test_kelurahan_code_rejected(code: str) -> None:
    with pytest.raises(CodeError, match=r"PP\.KK\.CC\.LLLL"):
        check_kelurahan_code(code)


@pytest.mark.parametrize("code", ["74.71.01", "74.71.10 "])
def test_kecamatan_code_accepted(code: str) -> None:
    assert check_kecamatan_code(code) == code.strip()


@pytest.mark.parametrize("code", ["74.71.1", "74.71.01.1005", "7471.01", "", "74.71.0a"])
def test_kecamatan_code_rejected(code: str) -> None:
    with pytest.raises(CodeError, match=r"PP\.KK\.CC \("):
        check_kecamatan_code(code)


def test_check_pair() -> None:
    check_pair("74.71.01.1005", "74.71.01")
    for kec in ("74.71.02", "74.71.0"):
        with pytest.raises(CodeError, match="does not belong"):
            check_pair("74.71.01.1005", kec)


def test_fold_forgives_spelling_but_not_different_names() -> None:
    assert fold("Anduonohu") == fold("Andonohu")
    assert fold("Kessilampe") == fold("Kassilampe")
    assert fold("KORUMBA") == fold("korumba")
    assert fold("Wua-Wua") == fold("Wuawua")
    assert fold("Mandonga") != fold("Korumba")
    assert fold("Kadia") != fold("Kendari")


def test_slugify() -> None:
    assert slugify("Wua-Wua") == "wua-wua"
    assert slugify("  Kantor Kelurahan Anduonohu ") == "kantor-kelurahan-anduonohu"
    assert slugify("Pos Café (Utara)") == "pos-cafe-utara"


# ---------------------------------------------------------------- secrets


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_file_is_created_private(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = tmp_path / "new" / "dir" / "secret.key"
    with caplog.at_level(logging.INFO, logger="pantau.registry.secrets"):
        box = SecretBox(key)
    assert key.exists() and mode_of(key) == 0o600
    # Private from the first byte, not created open and tightened afterwards.
    assert "created secret key" in caplog.text and "readable by others" not in caplog.text
    token = box.encrypt("pw123")
    assert b"pw123" not in token
    assert box.decrypt(token) == "pw123"


def test_key_file_is_reused(tmp_path: Path) -> None:
    key = tmp_path / "secret.key"
    token = SecretBox(key).encrypt("rahasia")
    content = key.read_bytes()
    assert SecretBox(key).decrypt(token) == "rahasia"
    assert key.read_bytes() == content


def test_world_readable_key_is_tightened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = tmp_path / "secret.key"
    token = SecretBox(key).encrypt("x")
    os.chmod(key, 0o644)
    with caplog.at_level(logging.WARNING, logger="pantau.registry.secrets"):
        box = SecretBox(key)
    assert mode_of(key) == 0o600
    assert "readable by others" in caplog.text
    assert box.decrypt(token) == "x"


@pytest.mark.parametrize("content", [b"not a key\n", b"", b"A" * 44])
def test_corrupted_key_file(tmp_path: Path, content: bytes) -> None:
    key = tmp_path / "secret.key"
    key.write_bytes(content)
    key.chmod(0o600)
    with pytest.raises(SecretError, match="not a valid Fernet key"):
        SecretBox(key)


def test_key_file_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(SecretError, match="cannot create or read"):
        SecretBox(tmp_path / "file" / "secret.key")


def test_replaced_key_cannot_decrypt(tmp_path: Path) -> None:
    token = SecretBox(tmp_path / "a.key").encrypt("pw")
    with pytest.raises(SecretError, match="was the key file replaced"):
        SecretBox(tmp_path / "b.key").decrypt(token)


@pytest.mark.parametrize(
    ("url", "clean", "user", "password"),
    [
        ("rtsp://10.0.0.5:554/s", "rtsp://10.0.0.5:554/s", None, None),
        ("rtsp://admin:pw123@10.0.0.5:554/s", "rtsp://admin@10.0.0.5:554/s", "admin", "pw123"),
        ("rtsp://admin@10.0.0.5/s", "rtsp://admin@10.0.0.5/s", "admin", None),
        (
            "rtsp://admin:p%40ss%3Aw%2Frd@cam.local:8554/live?ch=1",
            "rtsp://admin@cam.local:8554/live?ch=1",
            "admin",
            "p@ss:w/rd",
        ),
        ("rtsp://u:p@[fe80::1]:554/s", "rtsp://u@[fe80::1]:554/s", "u", "p"),
        ("http://Admin:x@CAM.Local/snap", "http://Admin@CAM.Local/snap", "Admin", "x"),
        ("rtsp://op%20x:pw@h/s", "rtsp://op%20x@h/s", "op x", "pw"),
    ],
)
def test_split_credentials(url: str, clean: str, user: str | None, password: str | None) -> None:
    assert split_credentials(url) == (clean, user, password)


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("rtsp://10.0.0.5:554/s", "p@ss:w/rd"),
        ("rtsps://cam.kendari.go.id:322/stream1", "a b%c#d?e"),
        ("rtsp://[2001:db8::5]:554/s", "pw123"),
        ("http://10.0.0.5/snap.jpg", "plain"),
    ],
)
def test_with_credentials_round_trip(url: str, password: str) -> None:
    full = with_credentials(url, "admin@kendari", password)
    assert password not in full.split("@")[-1]
    assert split_credentials(full) == (
        with_credentials(url, "admin@kendari", None),
        "admin@kendari",
        password,
    )
    assert split_credentials(with_credentials(url, "admin@kendari", None))[0].endswith(
        url.split("://", 1)[1]
    )


def test_with_credentials_without_user_is_unchanged() -> None:
    assert with_credentials("rtsp://h:554/s", None, "pw") == "rtsp://h:554/s"
    assert with_credentials("rtsp://h:554/s", "u", None) == "rtsp://u@h:554/s"


# ---------------------------------------------------------------- cameras from the config file


def camera_cfg(**over: object) -> CameraConfig:
    data = {
        "name": "Pintu depan",
        "site": "74.71.01.1005",
        "purpose": "keamanan kantor",
        "main_stream": "rtsp://admin:pw123@10.0.0.5:554/s",
    }
    return CameraConfig.model_validate(data | over)


def test_config_camera_password_is_encrypted(fresh_runtime: Runtime) -> None:
    with transaction(fresh_runtime.sessions) as s:
        [cam] = sync_config_cameras(s, [camera_cfg()], fresh_runtime.secrets)
        cam_id = cam.id
    with fresh_runtime.sessions() as s:
        cam = s.get(Camera, cam_id)
        assert cam.main_stream == "rtsp://admin@10.0.0.5:554/s"
        assert cam.username == "admin"
        assert cam.site.slug == "kel-mandonga"
        assert b"pw123" not in cam.password_enc
        assert fresh_runtime.secrets.decrypt(cam.password_enc) == "pw123"
    with fresh_runtime.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM camera")).one()
    assert not any("pw123" in str(v) for v in row)


def test_config_camera_explicit_password_and_slug(fresh_runtime: Runtime) -> None:
    cfg = camera_cfg(
        site="kel-korumba",
        main_stream="rtsp://10.0.0.6/main",
        sub_stream="rtsp://viewer:subpw@10.0.0.6/sub",
        username="operator",
        password="rahasia",
    )
    with transaction(fresh_runtime.sessions) as s:
        [cam] = sync_config_cameras(s, [cfg], fresh_runtime.secrets)
        assert cam.site.kelurahan_code == "74.71.01.1006"
        assert cam.sub_stream == "rtsp://viewer@10.0.0.6/sub"
        assert cam.username == "operator"
        assert fresh_runtime.secrets.decrypt(cam.password_enc) == "rahasia"


def test_unknown_site_in_config_cameras(fresh_runtime: Runtime) -> None:
    with pytest.raises(CameraError) as info, transaction(fresh_runtime.sessions) as s:
        sync_config_cameras(s, [camera_cfg(site="74.71.01.1999")], fresh_runtime.secrets)
    assert info.value.field == "cameras[0].site"
    assert "74.71.01.1999" in str(info.value)
    with fresh_runtime.sessions() as s:
        assert count(s, Camera) == 0


def test_syncing_twice_does_not_duplicate(fresh_runtime: Runtime) -> None:
    cams = [camera_cfg(), camera_cfg(name="Halaman", main_stream="rtsp://10.0.0.7/s")]
    with transaction(fresh_runtime.sessions) as s:
        sync_config_cameras(s, cams, fresh_runtime.secrets)
    changed = [camera_cfg(purpose="keamanan aset"), cams[1]]
    with transaction(fresh_runtime.sessions) as s:
        sync_config_cameras(s, changed, fresh_runtime.secrets)
    with fresh_runtime.sessions() as s:
        assert count(s, Camera) == 2
        pintu = s.scalar(select(Camera).where(Camera.name == "Pintu depan"))
        assert pintu.purpose == "keamanan aset"
        assert fresh_runtime.secrets.decrypt(pintu.password_enc) == "pw123"


def test_find_site_by_id_slug_or_code(fresh_runtime: Runtime, tmp_path: Path) -> None:
    # A kantor_kecamatan site shares the code with the kelurahan office; the office wins.
    csv_path = write_csv(
        tmp_path / "s.csv",
        HEADER + ",kind",
        "74.71.01.1005,Mandonga,74.71.01,Mandonga,,,kantor_kecamatan",
    )
    with transaction(fresh_runtime.sessions) as s:
        import_rows(s, read_rows(csv_path))
    with fresh_runtime.sessions() as s:
        office = site_by_slug(s, "kel-mandonga")
        assert find_site(s, "74.71.01.1005") is office
        assert find_site(s, " kel-mandonga ") is office
        assert find_site(s, str(office.id)) is office
        assert find_site(s, "kec-mandonga").kind == SiteKind.KANTOR_KECAMATAN
        assert find_site(s, "99999") is None
        assert find_site(s, "kel-atlantis") is None


# ---------------------------------------------------------------- work calendar (DB glue)


def site_calendar_for(session: Session, slug: str, **kw: object) -> tuple[Site, Calendar]:
    city = session.scalar(select(Calendar).where(Calendar.name == CITY_CALENDAR))
    site = site_by_slug(session, slug)
    cal = Calendar(name=f"Kalender {site.name}", parent=city, **kw)
    session.add(cal)
    site.calendar = cal
    session.flush()
    return site, cal


def test_city_hours_for_a_site_without_its_own_calendar(fresh_runtime: Runtime) -> None:
    with fresh_runtime.sessions() as s:
        site = site_by_slug(s, "kel-mandonga")
        mon = site_day(s, site, date(2026, 11, 23))
        assert (mon.working, mon.opens, mon.closes, mon.rule) == (
            True,
            time(7, 30),
            time(16, 0),
            "weekly",
        )
        fri = site_day(s, site, date(2026, 11, 27))
        assert (fri.opens, fri.closes) == (time(7, 30), time(16, 30))
        sat = site_day(s, site, date(2026, 11, 28))
        assert not sat.working and sat.rule == "no_hours"
        ramadan = site_day(s, site, date(2026, 2, 25))
        assert (ramadan.working, ramadan.opens, ramadan.closes, ramadan.rule) == (
            True,
            time(8, 0),
            time(15, 0),
            "ramadan",
        )
        lebaran = site_day(s, site, date(2026, 3, 21))
        assert not lebaran.working and lebaran.rule == "holiday"
        assert "Idul Fitri" in lebaran.reason
        cuti = site_day(s, site, date(2026, 12, 24))
        assert not cuti.working and cuti.rule == "holiday"
        assert cuti.reason.startswith("Cuti Bersama")


def test_site_calendar_inherits_city_hours_and_its_closure_wins(fresh_runtime: Runtime) -> None:
    with transaction(fresh_runtime.sessions) as s:
        site, cal = site_calendar_for(s, "kel-mandonga")
        cal.rules.append(
            CalendarRuleRow(
                kind=RuleKind.CLOSURE,
                start_date=date(2026, 11, 23),
                end_date=date(2026, 11, 24),
                reason="Renovasi kantor",
            )
        )
    with fresh_runtime.sessions() as s:
        site = site_by_slug(s, "kel-mandonga")
        assert [c.name for c in calendar_chain(site.calendar)] == [
            CITY_CALENDAR,
            "Kalender Kantor Kelurahan Mandonga",
        ]
        closed = site_day(s, site, date(2026, 11, 23))
        assert not closed.working and closed.rule == "closure"
        assert closed.reason == "Penutupan: Renovasi kantor"
        inherited = site_day(s, site, date(2026, 11, 25))
        assert (inherited.working, inherited.opens, inherited.closes) == (
            True,
            time(7, 30),
            time(16, 0),
        )
        assert site_day(s, site, date(2026, 2, 25)).rule == "ramadan"
        # The neighbour without its own calendar is open as usual.
        other = site_day(s, site_by_slug(s, "kel-korumba"), date(2026, 11, 23))
        assert other.working and other.rule == "weekly"
        days = site_days(s, site, date(2026, 11, 22), date(2026, 11, 25))
        assert [d.rule for d in days] == ["no_hours", "closure", "closure", "weekly"]


def test_site_weekly_rule_beats_the_city_and_holidays_can_be_off(
    fresh_runtime: Runtime,
) -> None:
    with transaction(fresh_runtime.sessions) as s:
        site, cal = site_calendar_for(s, "kel-korumba", use_national_holidays=False)
        row = CalendarRuleRow(
            kind=RuleKind.WEEKLY, weekdays=[0, 1, 2, 3, 4], opens=time(8, 0), closes=time(14, 0)
        )
        check_calendar(cal, extra=row)  # different level from the city's weekly: fine
        cal.rules.append(row)
    with fresh_runtime.sessions() as s:
        site = site_by_slug(s, "kel-korumba")
        day = site_day(s, site, date(2026, 12, 24))  # cuti bersama, but holidays are off
        assert (day.working, day.opens, day.closes, day.rule) == (
            True,
            time(8, 0),
            time(14, 0),
            "weekly",
        )


def test_check_calendar_rejects_an_overlapping_rule(fresh_runtime: Runtime) -> None:
    with transaction(fresh_runtime.sessions) as s:
        _, cal = site_calendar_for(s, "kel-mandonga")
        cal.rules.append(
            CalendarRuleRow(
                kind=RuleKind.CLOSURE, start_date=date(2026, 11, 23), end_date=date(2026, 11, 27)
            )
        )
        s.flush()
        overlapping = CalendarRuleRow(
            kind=RuleKind.CLOSURE, start_date=date(2026, 11, 27), end_date=date(2026, 11, 30)
        )
        with pytest.raises(CalendarError, match="overlaps"):
            check_calendar(cal, extra=overlapping)
        after = CalendarRuleRow(
            kind=RuleKind.CLOSURE, start_date=date(2026, 11, 28), end_date=date(2026, 11, 30)
        )
        check_calendar(cal, extra=after)
        # A rule built from plain strings (not yet flushed) is checked the same way.
        as_text = CalendarRuleRow(
            kind="closure", start_date=date(2026, 11, 24), end_date=date(2026, 11, 24)
        )
        with pytest.raises(CalendarError, match="overlaps"):
            check_calendar(cal, extra=as_text)
        bad = CalendarRuleRow(
            kind=RuleKind.OVERRIDE,
            weekdays=[],
            opens=time(12, 0),
            closes=time(9, 0),
            start_date=date(2026, 12, 1),
            end_date=date(2026, 12, 1),
        )
        with pytest.raises(CalendarError, match="must be after opens"):
            check_calendar(cal, extra=bad)


def test_city_calendar_overlap_is_rejected(fresh_runtime: Runtime) -> None:
    with fresh_runtime.sessions() as s:
        city = s.scalar(select(Calendar).where(Calendar.name == CITY_CALENDAR))
        check_calendar(city)
        extra = CalendarRuleRow(
            kind=RuleKind.WEEKLY, weekdays=[4, 5], opens=time(8, 0), closes=time(12, 0)
        )
        with pytest.raises(CalendarError, match="overlaps"):
            check_calendar(city, extra=extra)


# ---------------------------------------------------------------- users


def test_create_user_hashes_with_argon2id(fresh_runtime: Runtime) -> None:
    with transaction(fresh_runtime.sessions) as s:
        user = create_user(s, "operator.satu", "rahasia-123", Role.OPERATOR, full_name="Op")
        audit.record(s, "cli:test", "user.create", object_type="user", object_id=user.id)
    with fresh_runtime.sessions() as s:
        user = s.scalar(select(User).where(User.username == "operator.satu"))
        assert user.password_hash.startswith("$argon2id$")
        assert "rahasia-123" not in user.password_hash
        assert verify_password(user.password_hash, "rahasia-123")
        assert not verify_password(user.password_hash, "rahasia-124")
        assert user.role == Role.OPERATOR and user.scope_code is None and user.active
        entry = s.scalar(select(AuditEntry))
        assert (entry.actor, entry.action, entry.object_id) == ("cli:test", "user.create", "1")
        assert entry.at.tzinfo is not None


@pytest.mark.parametrize(
    ("role", "code"),
    [
        (Role.ADMIN, None),
        (Role.OPERATOR, None),
        (Role.PIMPINAN, None),
        (Role.CAMAT, "74.71.01"),
        (Role.LURAH, "74.71.01.1006"),
    ],
)
def test_role_scope_accepted(fresh_runtime: Runtime, role: Role, code: str | None) -> None:
    with transaction(fresh_runtime.sessions) as s:
        user = create_user(s, f"u-{role.value}", "rahasia-123", role, code)
        assert user.scope_code == code


@pytest.mark.parametrize(
    ("role", "code", "expected"),
    [
        (Role.CAMAT, None, "camat needs a kecamatan code"),
        (Role.CAMAT, "74.71.01.1006", "kecamatan code"),
        (Role.LURAH, None, "lurah needs a kelurahan code"),
        (Role.LURAH, "74.71.01", "kelurahan code"),
        (Role.ADMIN, "74.71.01", "takes no scope code"),
        (Role.OPERATOR, "74.71.01.1006", "takes no scope code"),
        (Role.PIMPINAN, "74.71.01", "takes no scope code"),
        (Role.CAMAT, "74.71.99", "not in the registry"),
        (Role.LURAH, "74.71.01.1999", "not in the registry"),
    ],
)
def test_role_scope_rejected(
    fresh_runtime: Runtime, role: Role, code: str | None, expected: str
) -> None:
    with pytest.raises(UserError, match=expected), transaction(fresh_runtime.sessions) as s:
        create_user(s, "someone", "rahasia-123", role, code)
    with fresh_runtime.sessions() as s:
        assert count(s, User) == 0


@pytest.mark.parametrize(
    "username", ["a", "Admin", "-admin", "with space", "admin\n", "x" * 81, "budi@kendari"]
)
def test_bad_usernames(fresh_runtime: Runtime, username: str) -> None:
    with pytest.raises(UserError, match="lower-case"), transaction(fresh_runtime.sessions) as s:
        create_user(s, username, "rahasia-123", Role.OPERATOR)


def test_duplicate_username_and_short_password(fresh_runtime: Runtime) -> None:
    with transaction(fresh_runtime.sessions) as s:
        create_user(s, "camat.mandonga", "12345678", Role.CAMAT, "74.71.01")
    with pytest.raises(UserError, match="already exists"), transaction(fresh_runtime.sessions) as s:
        create_user(s, "camat.mandonga", "rahasia-123", Role.OPERATOR)
    with pytest.raises(UserError, match="at least 8"), transaction(fresh_runtime.sessions) as s:
        create_user(s, "pendek", "1234567", Role.OPERATOR)
    with fresh_runtime.sessions() as s:
        assert list(s.scalars(select(User.username))) == ["camat.mandonga"]


def test_scope_limits_what_users_see(fresh_runtime: Runtime) -> None:
    with transaction(fresh_runtime.sessions) as s:
        camat = Scope.of(create_user(s, "camat", "rahasia-123", Role.CAMAT, "74.71.01"))
        lurah = Scope.of(create_user(s, "lurah", "rahasia-123", Role.LURAH, "74.71.01.1006"))
        pimpinan = Scope.of(create_user(s, "wali", "rahasia-123", Role.PIMPINAN))

        def visible(scope: Scope) -> list[str]:
            return list(s.scalars(scope.filter_sites(select(Site.kelurahan_code))))

        assert len(visible(camat)) == 6
        assert visible(lurah) == ["74.71.01.1006"]
        assert len(visible(pimpinan)) == 65
        unscoped = Scope(user_id=None, username="x", role=Role.LURAH, code=None)
        assert visible(unscoped) == []
        korumba = site_by_slug(s, "kel-korumba")
        assert camat.can_see_site(korumba) and lurah.can_see_site(korumba)
        assert not lurah.can_see_site(site_by_slug(s, "kel-mandonga"))
        assert not camat.can_see_site(site_by_slug(s, "kel-kadia"))


def test_password_helpers() -> None:
    h = hash_password("12345678")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "12345678") and not verify_password(h, "12345679")
    assert not verify_password("not-a-hash", "12345678")
    with pytest.raises(ValueError, match="at least 8"):
        hash_password("short")


@pytest.mark.parametrize(
    ("url", "clean", "user", "password"),
    [
        (
            "rtsp://kamera:Rahasia#9@10.0.0.5:554/cam1",
            "rtsp://kamera@10.0.0.5:554/cam1",
            "kamera",
            "Rahasia#9",
        ),
        ("rtsp://a:p@ss?x@[fe80::1]:554/s?x=1", "rtsp://a@[fe80::1]:554/s?x=1", "a", "p@ss?x"),
        ("rtsp://host/stream@1", "rtsp://host/stream@1", None, None),
        ("rtsp://u:p%2Fq@h/x", "rtsp://u@h/x", "u", "p/q"),
    ],
)
def test_unescaped_passwords_pasted_into_urls_are_split_off(url, clean, user, password):
    """Installers paste camera URLs with raw special characters; none may leak or break."""
    got_clean, got_user, got_pw = split_credentials(url)
    assert (got_clean, got_user, got_pw) == (clean, user, password)
    if password:
        assert password not in got_clean
        assert split_credentials(with_credentials(got_clean, got_user, got_pw))[2] == password
