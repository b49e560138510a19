"""Carried-disk bundles: the outbox on a USB disk, for a site with no link at all.

A bundle is one tar file: `manifest.json` (who, when, how many items, the SHA-256 of the
payload), `items.jsonl.gz` (the same items the link would send) and `manifest.sig`, an
Ed25519 signature of the manifest by the agent's signing key. The hub checks the signature
with the public key it registered at enrolment, then the payload's hash, and refuses the
bundle with the reason if either fails. Import is an ingest like any batch, so importing the
same bundle twice changes nothing.

Optionally (`--recordings`) the site's recorded segments travel too, as `recordings/<path>`
members: the manifest lists each with its camera, times, size and SHA-256, so the signature
covers the footage as well and one altered byte refuses the bundle. A disk carries what a
4G link never could (principle 6: footage is pulled, not pushed — a carried disk is the
one way it moves wholesale).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from pantau.edge import items as wire
from pantau.edge.identity import Identity
from pantau.edge.outbox import Outbox
from pantau.edge.retention import local_segments
from pantau.media.export import sha256_file

FORMAT = "pantau-bundle/1"
MANIFEST, PAYLOAD, SIGNATURE = "manifest.json", "items.jsonl.gz", "manifest.sig"
MAX_MEMBER = 4 * 1024**3
RECORDINGS = "recordings/"


class BundleError(Exception):
    """The bundle is refused; the message says why."""


@dataclass
class Bundle:
    manifest: dict[str, Any]
    items: list[dict[str, Any]]

    @property
    def recordings(self) -> list[dict[str, Any]]:
        """[{member, camera_id, start, end, bytes, sha256}], as signed in the manifest."""
        return list(self.manifest.get("recordings") or [])


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(mtime), 0o600
    tar.addfile(info, io.BytesIO(data))


def export(
    outbox: Outbox,
    identity: Identity,
    key: Ed25519PrivateKey,
    out_dir: Path,
    since: datetime | None = None,
    recordings: Path | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write the pending items (from `since` on) as a signed bundle in `out_dir`, with the
    segments under `recordings` (from `since` on) if given."""
    now = datetime.now(UTC)
    segments = [
        s for s in (local_segments(recordings) if recordings else []) if not since or s.end > since
    ]
    listed = [
        {
            "member": f"{RECORDINGS}{seg.file.relative_to(recordings).as_posix()}",
            "camera_id": seg.camera_id,
            "start": wire.iso(seg.start),
            "end": wire.iso(seg.end),
            "bytes": seg.bytes,
            "sha256": sha256_file(seg.file),
        }
        for seg in segments
        if recordings is not None
    ]
    raw = io.BytesIO()
    count = 0
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for p in outbox.items_since(since):
            gz.write(json.dumps(p.wire(), separators=(",", ":")).encode() + b"\n")
            count += 1
    payload = raw.getvalue()
    backlog = outbox.backlog()
    manifest = {
        "format": FORMAT,
        "bundle_id": uuid.uuid4().hex,
        "agent_id": identity.agent_id,
        "site_id": identity.site_id,
        "agent_name": identity.name,
        "created_at": wire.iso(now),
        "since": wire.iso(since) if since else None,
        "items": count,
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        # Everything before this is in the bundle or already at the hub (a full export only).
        "complete_until": wire.iso(backlog.complete_until)
        if since is None and backlog.complete_until
        else None,
        "recordings": listed,
    }
    manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True).encode()
    signature = base64.b64encode(key.sign(manifest_bytes))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"pantau-agent{identity.agent_id}-{now:%Y%m%dT%H%M%SZ}.bundle"
    tmp = path.with_suffix(".part")
    with tarfile.open(tmp, "w") as tar:
        _add(tar, MANIFEST, manifest_bytes, now.timestamp())
        _add(tar, SIGNATURE, signature, now.timestamp())
        _add(tar, PAYLOAD, payload, now.timestamp())
        for seg, entry in zip(segments, listed, strict=True):
            info = tar.gettarinfo(str(seg.file), arcname=entry["member"])
            info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
            with seg.file.open("rb") as f:
                tar.addfile(info, f)
    tmp.replace(path)
    return path, manifest


def read_manifest(path: Path) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """(manifest, manifest bytes, signature, payload) of a bundle, without trusting any of it."""
    try:
        with tarfile.open(path, "r") as tar:
            every = {m.name: m for m in tar.getmembers()}
            members = {n: m for n, m in every.items() if not n.startswith(RECORDINGS)}
            if set(members) != {MANIFEST, SIGNATURE, PAYLOAD}:
                raise BundleError(
                    f"not a Pantau bundle: members {sorted(members)}, expected "
                    f"{sorted([MANIFEST, SIGNATURE, PAYLOAD])} (and recordings/…)"
                )
            data = {}
            for name, m in members.items():
                if not m.isfile() or m.size > MAX_MEMBER:
                    raise BundleError(f"bundle member {name} is not a plain file")
                f = tar.extractfile(m)
                assert f is not None
                data[name] = f.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"cannot read bundle {path}: {exc}") from exc
    try:
        manifest = json.loads(data[MANIFEST])
    except ValueError as exc:
        raise BundleError(f"manifest is not JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"unknown bundle format (expected {FORMAT})")
    return manifest, data[MANIFEST], data[SIGNATURE], data[PAYLOAD]


def verify(path: Path, public_key_b64: str) -> Bundle:
    """Check the signature, then the payload hash; only then parse the items."""
    manifest, manifest_bytes, signature, payload = read_manifest(path)
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    try:
        public.verify(base64.b64decode(signature), manifest_bytes)
    except (InvalidSignature, ValueError) as exc:
        raise BundleError(
            f"signature does not match agent {manifest.get('agent_id')}'s key: the manifest "
            "was altered, or the bundle is not from this agent"
        ) from exc
    digest = hashlib.sha256(payload).hexdigest()
    if digest != manifest.get("payload_sha256"):
        raise BundleError(
            f"payload altered: SHA-256 {digest[:16]}… is not the signed "
            f"{str(manifest.get('payload_sha256'))[:16]}…"
        )
    try:
        lines = gzip.decompress(payload).splitlines()
        items = [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as exc:
        raise BundleError(f"payload unreadable: {exc}") from exc
    if len(items) != manifest.get("items"):
        raise BundleError(f"payload has {len(items)} items, the manifest says {manifest['items']}")
    bundle = Bundle(manifest, items)
    _check_recordings(path, bundle.recordings)
    return bundle


def _check_recordings(path: Path, listed: list[dict[str, Any]]) -> None:
    """Every recording member is signed (listed with its SHA-256) and unaltered, and every
    listed one is there."""
    wanted = {r["member"]: r for r in listed}
    try:
        with tarfile.open(path, "r") as tar:
            seen = set()
            for m in tar:
                if not m.name.startswith(RECORDINGS):
                    continue
                entry = wanted.get(m.name)
                if entry is None or not m.isfile():
                    raise BundleError(f"recording {m.name} is not listed in the signed manifest")
                f = tar.extractfile(m)
                assert f is not None
                digest = hashlib.sha256()
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
                if digest.hexdigest() != entry["sha256"]:
                    raise BundleError(
                        f"recording {m.name} altered: its SHA-256 is not the signed one"
                    )
                seen.add(m.name)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"cannot read recordings of bundle {path}: {exc}") from exc
    missing = sorted(set(wanted) - seen)
    if missing:
        raise BundleError(f"{len(missing)} listed recordings missing, e.g. {missing[0]}")
