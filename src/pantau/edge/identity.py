"""The agent's identity in its data directory: the hub it belongs to, its key (a bearer
credential for the link) and its Ed25519 signing key (carried-disk bundles). Files are 0600.

Why two keys: the hub stores only a hash of the agent key, so it could not check an HMAC made
with it; an Ed25519 signature is checked with the public key the hub keeps, and a leaked hub
database lets nobody forge a bundle (docs/edge.md).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

IDENTITY = "agent.json"
SIGNING_KEY = "signing.key"


class NotEnrolled(Exception):
    """No identity in the data directory; the message says how to enrol."""


@dataclass
class Identity:
    hub_url: str
    agent_id: int
    site_id: int
    name: str
    key: str


def write_private(path: Path, data: bytes) -> None:
    """Write a secret file 0600 atomically (never world-readable, not even for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def signing_key(data_dir: Path) -> Ed25519PrivateKey:
    """The Ed25519 key kept in `data_dir` (an agent's; the hub's in its own folder), created on
    first use. Two processes creating it at once end with the same key: the new file is linked
    into place only if none is there yet, and the loser reads the winner's."""
    path = data_dir / SIGNING_KEY
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        mine = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}")
        write_private(mine, pem)
        try:
            os.link(mine, path)
        except FileExistsError:
            pass
        finally:
            mine.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return key


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def save(data_dir: Path, identity: Identity) -> Path:
    path = data_dir / IDENTITY
    write_private(path, json.dumps(asdict(identity), indent=2).encode())
    return path


def load(data_dir: Path) -> Identity:
    path = data_dir / IDENTITY
    if not path.exists():
        raise NotEnrolled(
            f"no agent identity in {data_dir}: run `pantau agent enrol --hub URL --token T` first"
        )
    return Identity(**json.loads(path.read_text()))
