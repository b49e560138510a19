"""Configuration: one YAML file validated by pydantic, with defaults for everything.

`pantau.config.model` (the tree), `.loader` (file + environment), `.section` (the base class,
importable by packages whose settings hang under the tree without an import cycle).
"""
