"""Enrolment tokens and agent keys: random, shown once, stored only as SHA-256.

An agent key reads `pak_<agent id>_<secret>`: the id finds the row without a scan, the secret
is compared by hash in constant time. A user's session token never parses as one, so a user
calling an agent route gets a clear 401 instead of a lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ENROL_PREFIX = "pae_"
KEY_PREFIX = "pak_"
_KEY = re.compile(r"^pak_(\d{1,12})_([A-Za-z0-9_-]{20,128})$")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_enrolment_token() -> str:
    return ENROL_PREFIX + secrets.token_urlsafe(24)


def new_agent_key(agent_id: int) -> str:
    return f"{KEY_PREFIX}{agent_id}_{secrets.token_urlsafe(32)}"


def parse_agent_key(key: str) -> tuple[int, str] | None:
    """(agent id, whole key) or None when it is not shaped like an agent key."""
    m = _KEY.match(key.strip())
    return (int(m.group(1)), key.strip()) if m else None


def matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(digest(key), stored_hash)
