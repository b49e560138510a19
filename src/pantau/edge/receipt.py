"""Import receipts: the hub's signed word that it has a carried disk's items, for the site.

Why: items leave an agent's outbox only when the hub acknowledges them. Over a link that is the
answer to each batch; a site without a link never hears back, so its outbox would keep every
fact it ever exported for as long as disks go back and forth. `pantau import` writes a receipt
next to the bundle; at the site `pantau agent receipt FILE` checks the hub's signature (its
public key came with the site configuration) and forgets exactly the (key, seq) pairs the hub
took. A fact that changed after the export has a newer seq, stays, and goes with the next disk;
items the hub refused are set aside with its reason, as over the link.

Why signed: a receipt makes the site delete data. Only the hub that holds the facts may say so.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pantau.edge.outbox import Outbox

FORMAT = "pantau-import-receipt/1"


class ReceiptError(Exception):
    """A receipt that cannot be trusted or used; the message says why and what to do."""


@dataclass(frozen=True)
class Receipt:
    bundle_id: str
    agent_id: int
    site_id: int
    imported_at: str
    items: list[tuple[str, int]]
    rejected: dict[str, str]


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def write_receipt(path: Path, key: Ed25519PrivateKey, receipt: Receipt) -> Path:
    """The receipt as JSON: the body and the hub's Ed25519 signature over its canonical form."""
    body = {
        "format": FORMAT,
        "bundle_id": receipt.bundle_id,
        "agent_id": receipt.agent_id,
        "site_id": receipt.site_id,
        "imported_at": receipt.imported_at,
        "items": [list(pair) for pair in receipt.items],
        "rejected": receipt.rejected,
    }
    signature = base64.b64encode(key.sign(_canonical(body))).decode()
    path.write_text(json.dumps({"receipt": body, "signature": signature}))
    return path


def read_receipt(path: Path, hub_public_key: str | None) -> Receipt:
    """Parse and verify; raises ReceiptError naming the problem."""
    if not hub_public_key:
        raise ReceiptError(
            "the cached site configuration has no hub key (no sync yet, or an older hub): "
            "the items stay in the outbox and leave with the next link or disk"
        )
    try:
        doc = json.loads(path.read_text())
        body, signature = doc["receipt"], base64.b64decode(doc["signature"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReceiptError(f"{path}: not a receipt written by `pantau import` ({exc})") from exc
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ReceiptError(f"{path}: unknown receipt format (expected {FORMAT})")
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(hub_public_key))
        public.verify(signature, _canonical(body))
    except (InvalidSignature, ValueError) as exc:
        raise ReceiptError(
            f"{path}: the signature is not the hub's: the receipt was altered, or it comes "
            "from another hub; nothing was removed from the outbox"
        ) from exc
    try:
        return Receipt(
            str(body["bundle_id"]),
            int(body["agent_id"]),
            int(body["site_id"]),
            str(body["imported_at"]),
            [(str(k), int(s)) for k, s in body["items"]],
            {str(k): str(v) for k, v in body["rejected"].items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReceiptError(f"{path}: receipt body incomplete ({exc})") from exc


@dataclass(frozen=True)
class Applied:
    forgotten: int  # items the hub has: gone from the outbox
    set_aside: int  # items the hub refused: kept aside with its reason
    changed: int  # facts that changed since the export: they stay and travel again


def apply_receipt(outbox: Outbox, receipt: Receipt, agent_id: int) -> Applied:
    """Forget what the hub took, as if a link had acknowledged it."""
    if receipt.agent_id != agent_id:
        raise ReceiptError(
            f"the receipt is for agent {receipt.agent_id}, this is agent {agent_id}: "
            "nothing was removed from the outbox"
        )
    pending = outbox.pending_for([key for key, _ in receipt.items])
    found = [pending[k] for k, seq in receipt.items if k in pending and pending[k].seq == seq]
    set_aside = sum(1 for p in found if p.key in receipt.rejected)
    removed = outbox.ack(found, receipt.rejected)
    return Applied(removed - set_aside, set_aside, len(pending) - len(found))
