"""Read pantau.yaml into Settings, with errors that name the file, the field path and the fix."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ValidationError

from pantau.config.model import Settings

DEFAULT_PATH = Path("pantau.yaml")
ENV_CONFIG = "PANTAU_CONFIG"
ENV_OVERRIDES = {
    "PANTAU_DATABASE_URL": ("database", "url"),
    "PANTAU_DATA_DIR": ("data_dir",),
    "PANTAU_HOST": ("server", "host"),
    "PANTAU_PORT": ("server", "port"),
}


class ConfigError(Exception):
    """A configuration problem, already phrased for the person who edits the file."""


@dataclass
class LoadedConfig:
    settings: Settings
    path: Path | None
    warnings: list[str] = field(default_factory=list)


def format_loc(loc: tuple[Any, ...]) -> str:
    """('cameras', 3, 'sub_stream') -> 'cameras[3].sub_stream'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _mask(value: Any) -> Any:
    """Hide the password of a URL quoted in an error message (rtsp://u:pw@h -> rtsp://u:***@h)."""
    if not isinstance(value, str) or "://" not in value:
        return value
    try:
        password = urlsplit(value).password
    except ValueError:
        return value
    return value.replace(f":{password}@", ":***@", 1) if password else value


def _unknown_keys(model: BaseModel, prefix: tuple[Any, ...] = ()) -> list[str]:
    found = [format_loc((*prefix, key)) for key in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            found += _unknown_keys(value, (*prefix, name))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += _unknown_keys(item, (*prefix, name, i))
    return found


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: malformed YAML: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of settings, got {type(data).__name__}"
        )
    return data


def _apply_env(data: dict[str, Any], environ: dict[str, str]) -> dict[tuple[str, ...], str]:
    """Copy PANTAU_* overrides into the data; returns {field path: variable} for messages."""
    applied: dict[tuple[str, ...], str] = {}
    for var, keys in ENV_OVERRIDES.items():
        if var in environ:
            applied[keys] = var
            node = data
            for key in keys[:-1]:
                if not isinstance(node.get(key), dict):
                    node[key] = {}
                node = node[key]
            node[keys[-1]] = environ[var]
    return applied


def resolve_path(explicit: Path | None, environ: dict[str, str] | None = None) -> Path | None:
    """Flag beats environment beats ./pantau.yaml; None means run on defaults."""
    environ = dict(os.environ) if environ is None else environ
    if explicit is not None:
        return explicit
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG])
    return DEFAULT_PATH if DEFAULT_PATH.exists() else None


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> LoadedConfig:
    """Load and validate; a named file that is missing is an error, no file at all is not."""
    environ = dict(os.environ) if environ is None else environ
    resolved = resolve_path(path, environ)
    data: dict[str, Any] = {}
    if resolved is not None:
        if not resolved.exists():
            raise ConfigError(f"{resolved}: configuration file not found")
        data = _read_yaml(resolved)
    from_env = _apply_env(data, environ)
    source = str(resolved) if resolved else "(defaults)"
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            got = err.get("input")
            shown = "" if isinstance(got, dict | list) or got is None else f" (got {_mask(got)!r})"
            msg = err["msg"].removeprefix("Value error, ")
            loc = tuple(err["loc"])
            var = from_env.get(loc)  # type: ignore[arg-type]
            where = f"environment variable {var}" if var else source
            lines.append(f"{where}: {format_loc(loc)}: {msg}{shown}")
        raise ConfigError("\n".join(lines)) from exc
    if not settings.data_dir.is_absolute():
        # A path written in the file is relative to the file; one from the environment or
        # the default is relative to the working directory, like any command-line path.
        in_file = resolved is not None and ("data_dir",) not in from_env
        base = resolved.parent if in_file and resolved is not None else Path.cwd()
        settings.data_dir = (base / settings.data_dir).resolve()
    warnings = [f"{source}: unknown setting {key!r} ignored" for key in _unknown_keys(settings)]
    return LoadedConfig(settings=settings, path=resolved, warnings=warnings)
