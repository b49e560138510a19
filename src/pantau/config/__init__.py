"""Configuration: one YAML file validated by pydantic, with defaults for everything."""

from pantau.config.loader import ConfigError, LoadedConfig, load_settings
from pantau.config.model import CameraConfig, Settings

__all__ = ["CameraConfig", "ConfigError", "LoadedConfig", "Settings", "load_settings"]
