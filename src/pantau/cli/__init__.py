"""The `pantau` command line."""

from pantau.cli.main import app, main

__all__ = ["app", "main"]
