"""The hub's Ed25519 key: it signs import receipts (docs/edge.md, "Carried disk"), and its
public half goes to every agent in the site configuration so the agent can check them.

Made when the hub's runtime opens (so concurrent first requests never race to create it) and
read once per process."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pantau.config.model import Settings
from pantau.edge.identity import public_key_b64, signing_key

log = logging.getLogger(__name__)

HUB_KEY_DIR = "hub-key"


@functools.cache
def _key(folder: Path) -> Ed25519PrivateKey:
    return signing_key(folder)


def hub_signing_key(settings: Settings) -> Ed25519PrivateKey:
    return _key(settings.data_dir / HUB_KEY_DIR)


def hub_public_key(settings: Settings) -> str | None:
    """For the site configuration. A key the hub cannot read must not stop every agent's
    sync: the configuration goes without it (receipts then wait for a readable key)."""
    try:
        return public_key_b64(hub_signing_key(settings))
    except (OSError, ValueError) as exc:
        log.error("hub key in %s unusable, site configs go without it: %s", HUB_KEY_DIR, exc)
        return None
