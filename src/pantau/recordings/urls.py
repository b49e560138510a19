"""Signed, expiring segment URLs, so HLS players can fetch segments without an auth header.

A playlist is handed out only after the caller's scope was checked and the playback audited; the
segment URLs in it carry an HMAC over (segment id, expiry) instead of the caller's session, which
players like hls.js, Safari and ffprobe cannot attach. The key is a per-installation file,
`<data_dir>/url.key` (mode 0600); API replicas behind one proxy must share it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(hours=6)
_cache: dict[Path, UrlSigner] = {}
_lock = threading.Lock()


class UrlSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("URL signing key must be at least 32 bytes")
        self._key = key

    def signature(self, segment_id: int, exp: int) -> str:
        msg = f"segment:{segment_id}:{exp}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()

    def sign(self, segment_id: int, now: datetime, ttl: timedelta = DEFAULT_TTL) -> tuple[int, str]:
        """(expiry as Unix seconds, signature) for a segment URL."""
        exp = int((now + ttl).timestamp())
        return exp, self.signature(segment_id, exp)

    def check(self, segment_id: int, exp: int, sig: str, now: datetime) -> str | None:
        """None if valid, else why not (for the 403 message)."""
        if not hmac.compare_digest(self.signature(segment_id, exp), sig):
            return "bad signature"
        if exp < now.timestamp():
            return "link expired; reload the playlist"
        return None


def load_or_create_key(path: Path) -> bytes:
    """Read the key file, creating it (0600) on first use; tighten it if others can read it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it a moment ago
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            log.info("created URL signing key %s", path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("URL key %s is readable by others (mode %o); tightening to 600", path, mode)
        path.chmod(0o600)
    for _ in range(50):  # a process that just created the file may not have written it yet
        text = path.read_text().strip()
        if text:
            return bytes.fromhex(text)
        time.sleep(0.02)
    raise ValueError(f"URL key file {path} is empty")


def signer_for(data_dir: Path) -> UrlSigner:
    """The installation's signer, loaded once per process."""
    path = (data_dir / "url.key").resolve()
    with _lock:
        signer = _cache.get(path)
        if signer is None:
            signer = _cache[path] = UrlSigner(load_or_create_key(path))
    return signer
