"""Configuration: defaults, file and environment precedence, and errors that name file and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from pantau.config.loader import ConfigError, format_loc, load_settings
from pantau.config.model import STREAM_SCHEMES, Settings

CAMERA = {
    "name": "Pintu depan",
    "site": "74.71.01.1005",
    "purpose": "keamanan kantor",
    "main_stream": "rtsp://10.0.0.5:554/s",
}


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, so a stray ./pantau.yaml cannot leak into a test."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(path: Path | None, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={} if environ is None else environ)
    return str(info.value)


# ---------------------------------------------------------------- defaults and precedence


def test_no_file_at_all_runs_on_defaults(cwd: Path) -> None:
    loaded = load_settings(None, environ={})
    assert loaded.path is None
    assert loaded.warnings == []
    s = loaded.settings
    assert s.server.host == "127.0.0.1" and s.server.port == 8080
    assert s.city.timezone == "Asia/Makassar" and s.city.timezone_label == "WITA"
    assert s.cameras == [] and s.database.url is None and s.log_level == "INFO"
    assert s.data_dir == cwd / "data"
    assert s.database_url == f"sqlite:///{cwd / 'data' / 'pantau.db'}"
    assert not (cwd / "data").exists(), "loading settings must not create anything"


def test_every_field_has_a_default() -> None:
    s = Settings()
    assert s == Settings.model_validate({})


def test_pantau_yaml_in_working_directory_is_the_default(cwd: Path) -> None:
    write(cwd / "pantau.yaml", "server:\n  port: 9001\n")
    loaded = load_settings(None, environ={})
    assert loaded.path == Path("pantau.yaml")
    assert loaded.settings.server.port == 9001


def test_pantau_config_env_names_the_file(cwd: Path, tmp_path: Path) -> None:
    write(cwd / "pantau.yaml", "server:\n  port: 9001\n")
    other = write(tmp_path / "etc" / "other.yaml", "server:\n  port: 9002\n")
    loaded = load_settings(None, environ={"PANTAU_CONFIG": str(other)})
    assert loaded.path == other
    assert loaded.settings.server.port == 9002


def test_explicit_path_beats_env(cwd: Path, tmp_path: Path) -> None:
    env_file = write(tmp_path / "env.yaml", "server:\n  port: 9002\n")
    flag_file = write(tmp_path / "flag.yaml", "server:\n  port: 9003\n")
    loaded = load_settings(flag_file, environ={"PANTAU_CONFIG": str(env_file)})
    assert loaded.path == flag_file
    assert loaded.settings.server.port == 9003


def test_explicit_missing_file_is_an_error(cwd: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    msg = error_of(missing)
    assert str(missing) in msg and "not found" in msg


def test_missing_file_named_by_env_is_an_error(cwd: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    msg = error_of(None, {"PANTAU_CONFIG": str(missing)})
    assert str(missing) in msg and "not found" in msg


def test_env_overrides_beat_the_file(cwd: Path, tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        database:
          url: sqlite:////from/file.db
        server:
          port: 9001
        """,
    )
    env = {
        "PANTAU_DATABASE_URL": "postgresql+psycopg://u@db:5432/pantau",
        "PANTAU_PORT": "9100",
        "PANTAU_HOST": "0.0.0.0",
    }
    s = load_settings(cfg, environ=env).settings
    assert s.database.url == "postgresql+psycopg://u@db:5432/pantau"
    assert s.database_url == "postgresql+psycopg://u@db:5432/pantau"
    assert s.server.port == 9100 and s.server.host == "0.0.0.0"


def test_env_database_url_without_a_file(cwd: Path) -> None:
    env = {"PANTAU_DATABASE_URL": "postgresql+psycopg://u@db/pantau"}
    assert load_settings(None, environ=env).settings.database_url == env["PANTAU_DATABASE_URL"]


def test_bad_env_value_names_the_variable(cwd: Path) -> None:
    msg = error_of(None, {"PANTAU_PORT": "eighty"})
    assert "PANTAU_PORT" in msg and "server.port" in msg and "'eighty'" in msg


def test_relative_data_dir_resolves_against_the_config_file(cwd: Path, tmp_path: Path) -> None:
    cfg = write(tmp_path / "etc" / "pantau" / "pantau.yaml", "data_dir: ../var\n")
    s = load_settings(cfg, environ={}).settings
    assert s.data_dir == (tmp_path / "etc" / "var").resolve()
    assert s.database_url == f"sqlite:///{(tmp_path / 'etc' / 'var' / 'pantau.db').resolve()}"


def test_absolute_data_dir_is_kept(cwd: Path, tmp_path: Path) -> None:
    cfg = write(tmp_path / "etc" / "pantau.yaml", f"data_dir: {tmp_path / 'abs'}\n")
    assert load_settings(cfg, environ={}).settings.data_dir == tmp_path / "abs"


def test_relative_data_dir_from_env_resolves_against_working_directory(
    cwd: Path, tmp_path: Path
) -> None:
    cfg = write(tmp_path / "etc" / "pantau.yaml", "data_dir: from-file\n")
    s = load_settings(cfg, environ={"PANTAU_DATA_DIR": "from-env"}).settings
    assert s.data_dir == cwd / "from-env"


def test_empty_file_means_defaults(cwd: Path, tmp_path: Path) -> None:
    cfg = write(tmp_path / "empty.yaml", "# nothing yet\n")
    loaded = load_settings(cfg, environ={})
    assert loaded.settings.server.port == 8080 and loaded.warnings == []


# ---------------------------------------------------------------- malformed input


def test_malformed_yaml_reports_file_line_and_column(cwd: Path, tmp_path: Path) -> None:
    cfg = write(tmp_path / "bad.yaml", "server:\n  host: 127.0.0.1\n\tport: 80\n")
    msg = error_of(cfg)
    assert f"{cfg}:3:1:" in msg
    assert "malformed YAML" in msg


def test_unclosed_bracket_reports_position(cwd: Path, tmp_path: Path) -> None:
    cfg = write(tmp_path / "bad.yaml", "log_level: INFO\ncameras: [\n")
    msg = error_of(cfg)
    assert msg.startswith(f"{cfg}:3:1: malformed YAML")


def test_top_level_must_be_a_mapping(cwd: Path, tmp_path: Path) -> None:
    cfg = write(tmp_path / "list.yaml", "- a\n- b\n")
    msg = error_of(cfg)
    assert str(cfg) in msg and "mapping" in msg and "list" in msg


def test_unknown_keys_are_warned_with_their_path(cwd: Path, tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        colour: blue
        server:
          colour: red
        cameras:
          - name: Pintu
            site: 74.71.01.1005
            purpose: keamanan kantor
            main_stream: rtsp://10.0.0.5/s
            colour: green
            zones:
              - name: pintu
                points: [[0, 0], [1, 0], [1, 1]]
                colour: grey
        """,
    )
    loaded = load_settings(cfg, environ={})
    joined = "\n".join(loaded.warnings)
    for key in ("colour", "server.colour", "cameras[0].colour", "cameras[0].zones[0].colour"):
        assert f"unknown setting '{key}'" in joined, joined
    assert len(loaded.warnings) == 4
    assert all(w.startswith(str(cfg)) for w in loaded.warnings)
    assert loaded.settings.server.port == 8080  # the rest still loads


@pytest.mark.parametrize("scheme", STREAM_SCHEMES)
def test_accepted_stream_schemes(scheme: str) -> None:
    url = f"{scheme}://10.0.0.5/s" if scheme != "file" else "file:///videos/contoh.mp4"
    s = Settings.model_validate({"cameras": [{**CAMERA, "main_stream": url, "sub_stream": url}]})
    assert s.cameras[0].main_stream == url and s.cameras[0].sub_stream == url


@pytest.mark.parametrize(
    "bad", ["ftp://10.0.0.5/s", "rtmp://10.0.0.5/live", "udp://239.0.0.1:1234", "10.0.0.5/s"]
)
def test_bad_stream_scheme_names_the_field(cwd: Path, tmp_path: Path, bad: str) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        f"""
        cameras:
          - name: Satu
            site: 74.71.01.1005
            purpose: keamanan kantor
            main_stream: rtsp://10.0.0.5/s
          - name: Dua
            site: 74.71.01.1006
            purpose: keamanan kantor
            main_stream: rtsp://10.0.0.6/s
            sub_stream: "{bad}"
        """,
    )
    msg = error_of(cfg)
    assert f"{cfg}: cameras[1].sub_stream:" in msg
    assert "rtsp, rtsps, http, https, file" in msg
    assert repr(bad) in msg
    assert "cameras[0]" not in msg


def test_all_errors_are_reported_at_once(cwd: Path, tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        log_level: LOUD
        server:
          port: 70000
        city:
          timezone: Mars/Olympus
        database:
          url: mysql://root@localhost/pantau
        cameras:
          - name: Satu
            site: 74.71.01.1005
            purpose: ok
        """,
    )
    lines = error_of(cfg).splitlines()
    fields = [line.removeprefix(f"{cfg}: ").split(":", 1)[0] for line in lines]
    assert fields == [
        "log_level",
        "database.url",
        "server.port",
        "city.timezone",
        "cameras[0].purpose",
        "cameras[0].main_stream",
    ]
    joined = "\n".join(lines)
    assert "Mars/Olympus" in joined and "Asia/Makassar" in joined
    assert "sqlite:// or postgresql+psycopg://" in joined
    assert "Field required" in joined


def test_rejected_urls_are_quoted_without_their_password(cwd: Path, tmp_path: Path) -> None:
    cfg = write(
        tmp_path / "p.yaml",
        """
        database:
          url: mysql://root:dbsecret@localhost/pantau
        cameras:
          - name: Satu
            site: 74.71.01.1005
            purpose: keamanan kantor
            main_stream: ftp://admin:pw123@10.0.0.5/s
        """,
    )
    msg = error_of(cfg)
    assert "'mysql://root:***@localhost/pantau'" in msg
    assert "'ftp://admin:***@10.0.0.5/s'" in msg
    assert "dbsecret" not in msg and "pw123" not in msg


def test_database_url_with_bad_port_is_a_config_error(cwd: Path, tmp_path: Path) -> None:
    cfg = write(tmp_path / "p.yaml", 'database:\n  url: "postgresql+psycopg://u@h:port/x"\n')
    msg = error_of(cfg)
    assert f"{cfg}: database.url:" in msg and "not valid" in msg


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([[0, 0], [1, 1]], "at least three points"),
        ([[0, 0], [1, 0], [1.5, 1]], "outside the frame"),
    ],
)
def test_bad_zone_names_the_zone(tmp_path: Path, points: list[list[float]], expected: str) -> None:
    camera = {**CAMERA, "zones": [{"name": "pintu", "points": points}]}
    cfg = tmp_path / "p.yaml"
    cfg.write_text(yaml.safe_dump({"cameras": [camera]}), encoding="utf-8")
    msg = error_of(cfg)
    assert f"{cfg}: cameras[0].zones[0].points:" in msg
    assert expected in msg


def test_config_error_touches_nothing(cwd: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    cfg = write(tmp_path / "p.yaml", f"data_dir: {data_dir}\nserver:\n  port: zero\n")
    error_of(cfg)
    assert not data_dir.exists()


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        (("cameras", 3, "sub_stream"), "cameras[3].sub_stream"),
        (("server", "colour"), "server.colour"),
        (("cameras", 0, "zones", 1, "points", 2), "cameras[0].zones[1].points[2]"),
        ((), "(top level)"),
    ],
)
def test_format_loc(loc: tuple, text: str) -> None:
    assert format_loc(loc) == text
