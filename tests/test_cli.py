"""The `pantau` command line, end to end on SQLite in a throw-away working directory."""

from __future__ import annotations

import json
import re
import stat
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from pantau.cli import app, common
from pantau.store.db import make_engine, session_factory
from pantau.store.migrate import head_revision
from pantau.store.models import AuditEntry, Camera, Site, User

# Keep the caller's environment out of every invocation.
BASE_ENV: dict[str, str | None] = {
    "PANTAU_CONFIG": None,
    "PANTAU_DATABASE_URL": None,
    "PANTAU_DATA_DIR": None,
    "PANTAU_HOST": None,
    "PANTAU_PORT": None,
    "PANTAU_NEW_PASSWORD": None,
}
CLOSED_PG = "postgresql+psycopg://postgres@127.0.0.1:1/x"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(
    *args: str, env: Mapping[str, str | None] | None = None, input: str | None = None
) -> Result:
    """Invoke the CLI; an unexpected exception (a traceback for the user) fails the test."""
    result = CliRunner().invoke(
        app, list(args), env=BASE_ENV | dict(env or {}), input=input, catch_exceptions=False
    )
    return result


def out(result: Result) -> str:
    """stdout and stderr together, without colour codes."""
    return ANSI.sub("", result.output)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich fixes its width when imported (xdist workers export COLUMNS=80); long paths and
    table cells would then wrap mid-word. Widen both consoles for the test only."""
    for console in (common.console, common.err_console):
        monkeypatch.setattr(console, "_width", 250)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated working directory with ./pantau.yaml pointing at ./data (SQLite)."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pantau.yaml", "data_dir: data\n")
    return tmp_path


@pytest.fixture
def db(work: Path) -> Iterator[callable]:
    """Query helper on the CLI's SQLite database: db(Model) -> row count."""
    engines = []

    def count(model: type, *where: object) -> int:
        if not engines:
            engines.append(make_engine(f"sqlite:///{work / 'data' / 'pantau.db'}"))
        with session_factory(engines[0])() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

    yield count
    for e in engines:
        e.dispose()


def listing(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


# ---------------------------------------------------------------- help and basics


def test_help_lists_the_commands(work: Path) -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("serve", "demo", "db", "users", "sites", "calendar", "cameras", "config"):
        assert re.search(rf"^\W*{command}\b", out(result), re.MULTILINE), command
    assert listing(work / "data") == []


def test_version(work: Path) -> None:
    result = run("--version")
    assert result.exit_code == 0 and re.match(r"pantau \d+\.\d+", result.stdout)


# ---------------------------------------------------------------- sites


def test_sites_list(work: Path) -> None:
    result = run("sites", "list")
    assert result.exit_code == 0, out(result)
    text = out(result)
    assert "65 sites (65 kantor kelurahan) in 11 kecamatan" in text
    assert "Kantor Kelurahan Andonohu" in text and "74.71.01.1005" in text
    key = work / "data" / "secret.key"
    assert (work / "data" / "pantau.db").exists() and key.exists()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.parametrize("which", ["Mandonga", "mandonga", "74.71.01"])
def test_sites_list_by_kecamatan(work: Path, which: str) -> None:
    result = run("sites", "list", "--kecamatan", which)
    assert result.exit_code == 0, out(result)
    text = out(result)
    assert "6 sites (6 kantor kelurahan) in 1 kecamatan" in text
    assert "Kantor Kelurahan Korumba" in text and "Kantor Kelurahan Kadia" not in text


def test_sites_list_unknown_kecamatan(work: Path) -> None:
    result = run("sites", "list", "--kecamatan", "Atlantis")
    assert result.exit_code == 1
    assert "no kecamatan 'Atlantis'" in out(result) and "Mandonga" in out(result)


def test_sites_import_bad_csv_writes_nothing(work: Path, db: callable) -> None:
    csv_path = write(
        work / "baru.csv",
        """
        code,kelurahan,kecamatan_code,kecamatan,lat,lon
        74.71.12.1001,Baru,74.71.12,Kecamatan Baru,-3.9,122.4
        74.71.1.5,Salah,74.71.01,Mandonga,-3.9,122.5
        """,
    )
    # Nothing at all is created when the file is rejected before the database is opened.
    result = run("sites", "import", str(csv_path))
    assert result.exit_code == 1
    text = out(result)
    assert "nothing imported" in text
    assert f"{csv_path}:3:" in text and "PP.KK.CC.LLLL" in text
    assert listing(work / "data") == []

    assert run("sites", "list").exit_code == 0
    before = (db(Site), db(AuditEntry))
    assert run("sites", "import", str(csv_path)).exit_code == 1
    assert (db(Site), db(AuditEntry)) == before == (65, 0)


def test_sites_import_good_csv(work: Path, db: callable) -> None:
    csv_path = write(
        work / "baru.csv",
        """
        code,kelurahan,kecamatan_code,kecamatan,lat,lon,kind,name,connectivity
        74.71.12.1001,Baru,74.71.12,Kecamatan Baru,-3.9,122.4,,,planned
        74.71.01.1006,Korumba,74.71.01,Mandonga,-3.972629,122.523247,,,not_connected
        """,
    )
    result = run("sites", "import", str(csv_path))
    assert result.exit_code == 0, out(result)
    assert "2 rows: 1 created, 1 updated, 0 unchanged (1 new kecamatan, 1 new kelurahan)" in out(
        result
    )
    assert db(Site) == 66
    assert db(AuditEntry, AuditEntry.action == "site.import") == 1
    again = run("sites", "import", str(csv_path))
    assert "0 created, 0 updated, 2 unchanged" in out(again)


# ---------------------------------------------------------------- users


def test_users_add_creates_user_and_audit_row(work: Path, db: callable) -> None:
    result = run(
        "users", "add", "camat.mandonga", "--role", "camat", "--scope", "74.71.01",
        "--password", "rahasia-123", "--full-name", "Camat Mandonga",
    )  # fmt: skip
    assert result.exit_code == 0, out(result)
    assert "User camat.mandonga created with role camat (74.71.01)" in out(result)
    assert db(User, User.username == "camat.mandonga", User.scope_code == "74.71.01") == 1
    assert db(AuditEntry, AuditEntry.action == "user.create", AuditEntry.actor.like("cli:%")) == 1
    listed = run("users", "list")
    assert "camat.mandonga" in out(listed) and "Camat Mandonga" in out(listed)


def test_users_add_password_from_env_or_prompt(work: Path, db: callable) -> None:
    env = {"PANTAU_NEW_PASSWORD": "dari-env-123"}
    assert run("users", "add", "op1", "--role", "operator", env=env).exit_code == 0
    prompted = run("users", "add", "op2", "--role", "operator", input="rahasia-123\nrahasia-123\n")
    assert prompted.exit_code == 0, out(prompted)
    assert db(User) == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--role", "camat"], "camat needs a kecamatan code"),
        (["--role", "lurah", "--scope", "74.71.01"], "kelurahan code '74.71.01'"),
        (["--role", "admin", "--scope", "74.71.01"], "takes no scope code"),
        (["--role", "lurah", "--scope", "74.71.01.1999"], "not in the registry"),
    ],
)
def test_users_add_bad_role_scope(work: Path, db: callable, args: list[str], expected: str) -> None:
    result = run("users", "add", "siapa", *args, "--password", "rahasia-123")
    assert result.exit_code == 1
    assert expected in out(result) and "Traceback" not in out(result)
    assert (db(User), db(AuditEntry)) == (0, 0)


def test_users_add_bad_role_name(work: Path) -> None:
    result = run("users", "add", "siapa", "--role", "bupati", "--password", "rahasia-123")
    assert result.exit_code == 2 and "bupati" in out(result)


def test_users_add_duplicate(work: Path, db: callable) -> None:
    args = ("users", "add", "budi", "--role", "operator", "--password", "rahasia-123")
    assert run(*args).exit_code == 0
    again = run(*args)
    assert again.exit_code == 1 and "already exists" in out(again)
    assert db(AuditEntry) == 1


def test_demo_without_serving(work: Path, db: callable) -> None:
    result = run("demo", "--no-serve", "--history-days", "1")
    assert result.exit_code == 0, out(result)
    assert db(User) == 5 and db(Site) == 65
    assert run("demo", "--no-serve", "--history-days", "1").exit_code == 0
    assert db(User) == 5


# ---------------------------------------------------------------- calendar


def test_calendar_show_ramadan_and_idul_fitri(work: Path) -> None:
    result = run("calendar", "show", "kel-mandonga", "--from", "2026-03-16", "--days", "10")
    assert result.exit_code == 0, out(result)
    text = out(result)
    dates = re.findall(r"2026-\d\d-\d\d", text)
    assert dates == [f"2026-03-{d}" for d in range(16, 26)]
    monday = next(line for line in text.splitlines() if "2026-03-16" in line)
    assert "Senin" in monday and "08.00–15.00 WITA" in monday and "Ramadan" in monday
    idul_fitri = next(line for line in text.splitlines() if "2026-03-21" in line)
    assert "libur" in idul_fitri and "Idul Fitri" in idul_fitri
    assert "Cuti Bersama Hari Raya Idul Fitri" in text
    wednesday_after = next(line for line in text.splitlines() if "2026-03-25" in line)
    assert "07.30–16.00 WITA" in wednesday_after


def test_calendar_show_by_code_and_unknown_site(work: Path) -> None:
    by_code = run("calendar", "show", "74.71.01.1006", "--from", "2026-11-23", "--days", "1")
    assert by_code.exit_code == 0 and "Korumba" in out(by_code) and "07.30–16.00" in out(by_code)
    missing = run("calendar", "show", "kel-atlantis")
    assert missing.exit_code == 1 and "no site 'kel-atlantis'" in out(missing)


# ---------------------------------------------------------------- config


def test_config_check_ok_hides_passwords(work: Path) -> None:
    write(
        work / "pantau.yaml",
        """
        data_dir: data
        database:
          url: postgresql+psycopg://pantau:dbsecret@db.local/pantau
        cameras:
          - name: Pintu
            site: 74.71.01.1005
            purpose: keamanan kantor
            main_stream: rtsp://admin:pw123@10.0.0.5:554/s
            password: other-secret
        """,
    )
    result = run("config", "check")
    assert result.exit_code == 0, out(result)
    assert result.stdout.startswith("configuration OK")
    shown = json.loads(result.stdout.split("\n", 1)[1])
    assert shown["cameras"][0]["main_stream"] == "rtsp://admin@10.0.0.5:554/s"
    for secret in ("pw123", "other-secret", "dbsecret"):
        assert secret not in result.output
    assert listing(work / "data") == []


def test_config_check_bad_file(work: Path) -> None:
    write(
        work / "pantau.yaml",
        """
        data_dir: data
        cameras:
          - {name: Satu, site: 74.71.01.1005, purpose: keamanan, main_stream: rtsp://h/1}
          - {name: Dua, site: 74.71.01.1006, purpose: keamanan, main_stream: rtsp://h/2,
             sub_stream: "ftp://h/2"}
        """,
    )
    for args in (["config", "check"], ["sites", "list"], ["db", "upgrade"]):
        result = run(*args)
        assert result.exit_code == 2, args
        assert "pantau.yaml: cameras[1].sub_stream:" in out(result)
        assert "ftp" in out(result)
    assert listing(work / "data") == []


def test_malformed_yaml_via_cli(work: Path) -> None:
    write(work / "pantau.yaml", "data_dir: data\nserver:\n\tport: 1\n")
    result = run("sites", "list")
    assert result.exit_code == 2
    assert "pantau.yaml:3:1: malformed YAML" in out(result)
    assert listing(work) == ["pantau.yaml"]


def test_error_text_that_looks_like_markup_is_printed_verbatim(work: Path) -> None:
    write(work / "pantau.yaml", 'log_level: "[/]"\nserver:\n  host: "[bold]x"\n  port: "[red]"\n')
    result = run("config", "check")
    assert result.exit_code == 2
    assert "log_level" in out(result) and "'[/]'" in out(result)
    assert "'[red]'" in out(result)


def test_unknown_keys_warn_but_run(work: Path) -> None:
    write(work / "pantau.yaml", "data_dir: data\nserver:\n  colour: red\n")
    result = run("config", "check")
    assert result.exit_code == 0
    assert "warning:" in result.stderr and "unknown setting 'server.colour'" in result.stderr


def test_unknown_camera_site_is_a_config_error(work: Path, db: callable) -> None:
    write(
        work / "pantau.yaml",
        """
        data_dir: data
        cameras:
          - {name: Satu, site: kel-atlantis, purpose: keamanan, main_stream: rtsp://h/1}
        """,
    )
    result = run("sites", "list")
    assert result.exit_code == 2
    assert "cameras[0].site" in out(result) and "kel-atlantis" in out(result)
    assert db(Site) == 0 and db(Camera) == 0  # the seed in the same transaction rolled back


def test_config_cameras_are_listed_without_passwords(work: Path, db: callable) -> None:
    write(
        work / "pantau.yaml",
        """
        data_dir: data
        cameras:
          - name: Pintu
            site: 74.71.01.1005
            purpose: keamanan kantor
            main_stream: rtsp://admin:pw123@10.0.0.5:554/s
        """,
    )
    first = run("cameras", "list")
    assert first.exit_code == 0, out(first)
    assert "rtsp://admin@10.0.0.5:554/s" in out(first) and "pw123" not in out(first)
    assert "Kantor Kelurahan Mandonga" in out(first)
    assert run("cameras", "list").exit_code == 0
    assert db(Camera) == 1
    assert b"pw123" not in (work / "data" / "pantau.db").read_bytes()


def test_corrupted_secret_key_is_reported(work: Path) -> None:
    (work / "data").mkdir()
    (work / "data" / "secret.key").write_text("garbage\n")
    (work / "data" / "secret.key").chmod(0o600)
    result = run("sites", "list")
    assert result.exit_code == 2
    assert "secret.key: not a valid Fernet key" in out(result)
    assert sorted(p.name for p in (work / "data").iterdir()) == ["pantau.db", "secret.key"]


# ---------------------------------------------------------------- which file, which database


def test_config_flag_beats_env_and_env_beats_cwd(work: Path) -> None:
    env_cfg = write(work / "env" / "pantau.yaml", "data_dir: from-env\n")
    flag_cfg = write(work / "flag" / "pantau.yaml", "data_dir: from-flag\n")
    env = {"PANTAU_CONFIG": str(env_cfg)}

    assert run("sites", "list", env=env).exit_code == 0
    assert (work / "env" / "from-env" / "pantau.db").exists()

    assert run("--config", str(flag_cfg), "sites", "list", env=env).exit_code == 0
    assert (work / "flag" / "from-flag" / "pantau.db").exists()
    assert not (work / "data").exists()


def test_missing_explicit_config(work: Path) -> None:
    result = run("--config", "nope.yaml", "sites", "list")
    assert result.exit_code == 2
    assert "nope.yaml: configuration file not found" in out(result)
    result = run("sites", "list", env={"PANTAU_CONFIG": "gone.yaml"})
    assert result.exit_code == 2 and "gone.yaml" in out(result)
    assert listing(work) == ["pantau.yaml"]


def test_data_dir_relative_to_the_config_file(work: Path) -> None:
    cfg = write(work / "etc" / "pantau" / "pantau.yaml", "data_dir: ../../var/pantau\n")
    assert run("-c", str(cfg), "sites", "list").exit_code == 0
    assert (work / "var" / "pantau" / "pantau.db").exists()
    assert (work / "var" / "pantau" / "secret.key").exists()


def test_data_dir_from_env(work: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    assert run("sites", "list", env={"PANTAU_DATA_DIR": str(target)}).exit_code == 0
    assert (target / "pantau.db").exists() and not (work / "data").exists()


@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "status"], ["sites", "list"]])
@pytest.mark.parametrize("via", ["file", "env"])
def test_unreachable_database(work: Path, command: list[str], via: str) -> None:
    env = {}
    if via == "file":
        write(work / "x.yaml", f"data_dir: data\ndatabase:\n  url: {CLOSED_PG}\n")
        args = ["--config", "x.yaml", *command]
    else:
        env = {"PANTAU_DATABASE_URL": CLOSED_PG}
        args = command
    result = run(*args, env=env)
    assert result.exit_code == 3, out(result)
    assert "cannot reach database postgresql+psycopg://postgres@127.0.0.1:1/x" in out(result)
    assert not (work / "data").exists(), listing(work)
    assert not list(work.rglob("secret.key")) and not list(work.rglob("*.db"))


def test_unusable_sqlite_folder(work: Path) -> None:
    (work / "blocker").write_text("a file, not a folder")
    write(work / "pantau.yaml", "data_dir: blocker/data\n")
    result = run("sites", "list")
    assert result.exit_code == 3
    assert "cannot reach database" in out(result) and "blocker" in out(result)


# ---------------------------------------------------------------- db


def test_db_upgrade_twice_and_status(work: Path) -> None:
    head = head_revision()
    status = run("db", "status")
    assert status.exit_code == 0 and f"schema:   empty (latest {head})" in out(status)
    assert listing(work / "data") == [], "status must not create the database"

    first = run("db", "upgrade")
    assert first.exit_code == 0, out(first)
    assert f"Schema upgraded from empty to {head}." in out(first)
    assert "65 sites in the registry." in out(first)

    second = run("db", "upgrade")
    assert second.exit_code == 0
    assert f"Schema already at {head}; nothing to do." in out(second)
    assert "65 sites in the registry." in out(second)

    status = run("db", "status")
    assert status.exit_code == 0
    assert f"database: sqlite:///{work / 'data' / 'pantau.db'}" in out(status)
    assert f"schema:   {head} (latest {head})" in out(status) and "run `pantau" not in out(status)
