"""The base of every settings section; its own module so that packages whose settings hang
under `Settings` (e.g. `pantau.verdicts.config`) can import it without a cycle."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Extra keys are kept (not rejected) so the loader can warn about each one with its path."""

    model_config = ConfigDict(extra="allow", validate_default=True)
