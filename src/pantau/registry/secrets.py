"""Camera passwords encrypted at rest with a per-installation Fernet key file (mode 0600)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from urllib.parse import SplitResult, quote, unquote, urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)


class SecretError(Exception):
    """The key file is missing, unreadable or does not match the stored secrets."""


class SecretBox:
    """Encrypts small secrets; the key lives in a file only the service user can read."""

    def __init__(self, key_path: Path) -> None:
        self.key_path = key_path
        try:
            key = self._load_or_create()
        except OSError as exc:
            raise SecretError(
                f"{key_path}: cannot create or read the secret key: {exc.strerror or exc}"
            ) from exc
        self._fernet = Fernet(key)

    def _load_or_create(self) -> bytes:
        path = self.key_path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return self._load_or_create()
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key())
            log.info(
                "created secret key %s (keep a backup: without it camera passwords are lost)", path
            )
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning(
                "secret key %s is readable by others (mode %o); tightening to 600", path, mode
            )
            path.chmod(0o600)
        key = path.read_bytes().strip()
        try:
            Fernet(key)
        except ValueError as exc:
            raise SecretError(f"{path}: not a valid Fernet key") from exc
        return key

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as exc:
            raise SecretError(
                f"a stored camera password cannot be decrypted with {self.key_path}; "
                "was the key file replaced?"
            ) from exc


def _rebuild(parts: SplitResult, credentials: str | None) -> str:
    # Keep host[:port] exactly as written: `hostname` would drop IPv6 brackets
    # ("[fe80::1]:554" -> "fe80::1:554", unparseable) and lower-case the name.
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{credentials}@{host}" if credentials else host
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """rtsp://user:pw@host/x -> (rtsp://user@host/x, user, pw): no password reaches the DB.

    Camera passwords are often pasted unescaped ("Rahasia#9", "p@ss?"), which a URL parser
    would read as a fragment, a query or a host. The user info therefore runs to the last "@"
    before the first "/" after the scheme; a password containing "/" must be percent-encoded
    or given in the separate password field.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url, None, None
    slash = rest.find("/")
    at = rest.rfind("@", 0, slash if slash >= 0 else len(rest))
    if at < 0:
        return url, None, None
    userinfo, hostpart = rest[:at], rest[at + 1 :]
    user, has_pw, password = userinfo.partition(":")
    clean_user = unquote(user) or None
    cred = f"{quote(clean_user, safe='')}@" if clean_user else ""
    return f"{scheme}://{cred}{hostpart}", clean_user, unquote(password) if has_pw else None


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """The URL the stream reader actually opens; built in memory only."""
    if not username:
        return url
    cred = quote(username, safe="")
    if password:
        cred += ":" + quote(password, safe="")
    return _rebuild(urlsplit(url), cred)
