"""The agent's durable outbox: every fact waits here (SQLite, WAL) until the hub has
acknowledged it.

One row per stable key: a newer version of a fact (an incident that ended, a minute analysed
again) replaces the waiting one and takes a new sequence number, so at most one version of a
fact is ever pending and the hub only ever sees it move forward. An item is deleted only
when an acknowledgement names the key *and* the sequence number that was sent: a version
written while its predecessor was in flight stays for the next batch.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pantau.edge import items as wire

SCHEMA = """
CREATE TABLE IF NOT EXISTS item (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    at REAL NOT NULL,
    seq INTEGER NOT NULL,
    size INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS item_seq ON item (seq);
CREATE INDEX IF NOT EXISTS item_kind_seq ON item (kind, seq);
CREATE INDEX IF NOT EXISTS item_at ON item (at);
CREATE TABLE IF NOT EXISTS rejected (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
"""

COMPLETE_KINDS = (wire.OBSERVATION, wire.HEALTH, wire.INCIDENT)


@dataclass(frozen=True)
class Pending:
    key: str
    kind: str
    seq: int
    size: int
    body: str

    def wire(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "seq": self.seq, "data": json.loads(self.body)}

    def wire_json(self) -> str:
        """The same as JSON text, without parsing the stored body again (the sync's hot path)."""
        head = json.dumps({"key": self.key, "kind": self.kind, "seq": self.seq})
        return f'{head[:-1]}, "data": {self.body}}}'


@dataclass(frozen=True)
class Backlog:
    items: int
    bytes: int
    oldest: datetime | None
    complete_until: datetime | None

    def wire(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "bytes": self.bytes,
            "oldest": wire.iso(self.oldest) if self.oldest else None,
            "complete_until": wire.iso(self.complete_until) if self.complete_until else None,
        }


def _ts(at: datetime) -> float:
    if at.tzinfo is None:
        raise ValueError("naive datetime given to the outbox")
    return at.timestamp()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class Outbox:
    """Thread-safe: camera threads put, the sync loop takes and acknowledges."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(self.path), timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "PRAGMA synchronous=FULL"
        )  # an acknowledged-later fact survives power loss
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _next_seq(self, db: sqlite3.Connection, n: int) -> int:
        row = db.execute("SELECT v FROM meta WHERE k='seq'").fetchone()
        first = (int(row[0]) if row else 0) + 1
        db.execute(
            "INSERT INTO meta(k, v) VALUES('seq', ?) ON CONFLICT(k) DO UPDATE SET v=excluded.v",
            (str(first + n - 1),),
        )
        return first

    # ---- producing ----------------------------------------------------------------------

    def put(self, facts: Sequence[tuple[str, str, datetime, dict[str, Any]]]) -> int:
        """(key, kind, at, data) each; one transaction. An unchanged fact keeps its place.
        Returns how many rows were added or replaced."""
        if not facts:
            return 0
        changed = 0
        with self._tx() as db:
            seq = self._next_seq(db, len(facts))
            for i, (key, kind, at, data) in enumerate(facts):
                body = json.dumps(wire.jsonable(data), sort_keys=True, separators=(",", ":"))
                cur = db.execute(
                    "INSERT INTO item(key, kind, at, seq, size, body) VALUES(?,?,?,?,?,?) "
                    "ON CONFLICT(key) DO UPDATE SET at=excluded.at, seq=excluded.seq, "
                    "size=excluded.size, body=excluded.body WHERE item.body != excluded.body",
                    (key, kind, _ts(at), seq + i, len(body) + len(key) + 40, body),
                )
                changed += cur.rowcount
            if any(kind in COMPLETE_KINDS for _, kind, _, _ in facts):
                newest = max(_ts(at) for _, kind, at, _ in facts if kind in COMPLETE_KINDS)
                db.execute(
                    "INSERT INTO meta(k, v) VALUES('produced_until', ?) ON CONFLICT(k) "
                    "DO UPDATE SET v=max(CAST(v AS REAL), CAST(excluded.v AS REAL))",
                    (str(newest + 60),),
                )
        return changed

    # ---- sending ------------------------------------------------------------------------

    def take(self, max_items: int, max_bytes: int, today_start: datetime) -> list[Pending]:
        """The next batch by priority (incidents, today's, older backlog, snapshots), in
        production order within each class; at least one item even if it alone is larger.
        One indexed query per class: a week of backlog is not sorted again for every batch."""
        today = _ts(today_start)
        facts = "kind NOT IN ('incident', 'snapshot')"
        classes = (
            ("kind = 'incident'", ()),
            (f"{facts} AND at >= ?", (today,)),
            (f"{facts} AND at < ?", (today,)),
            ("kind = 'snapshot'", ()),
        )
        out: list[Pending] = []
        total = 0
        with self._lock:
            for where, args in classes:
                rows = self._db.execute(
                    f"SELECT key, kind, seq, size, body FROM item WHERE {where} "
                    "ORDER BY seq LIMIT ?",
                    (*args, max_items - len(out)),
                ).fetchall()
                for key, kind, seq, size, body in rows:
                    if out and total + size > max_bytes:
                        return out
                    out.append(Pending(key, kind, seq, size, body))
                    total += size
                if len(out) >= max_items:
                    break
        return out

    def ack(self, sent: Sequence[Pending], rejected: dict[str, str] | None = None) -> int:
        """Forget what the hub committed; set aside what it refused (with the reason)."""
        rejected = rejected or {}
        now = datetime.now(UTC).timestamp()
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO rejected(key, kind, reason, body, at) VALUES(?,?,?,?,?)",
                [(p.key, p.kind, rejected[p.key], p.body, now) for p in sent if p.key in rejected],
            )
            cur = db.executemany(
                "DELETE FROM item WHERE key=? AND seq=?", [(p.key, p.seq) for p in sent]
            )
            removed = cur.rowcount
        return removed

    # ---- looking ------------------------------------------------------------------------

    def backlog(self, excluding: Sequence[Pending] = ()) -> Backlog:
        """What waits, leaving out `excluding` (the batch being sent: what will remain once it
        is acknowledged). `complete_until`: every fact before it has left the outbox. The
        oldest items are found through the `at` index, skipping the batch, not by a scan."""
        skip = [p.key for p in excluding]
        not_batch = f"key NOT IN ({','.join('?' * len(skip))})" if skip else "1=1"
        kinds = ",".join("?" * len(COMPLETE_KINDS))
        with self._lock:
            n, size = self._db.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM item"
            ).fetchone()
            oldest = self._db.execute(
                f"SELECT at FROM item WHERE {not_batch} ORDER BY at LIMIT 1", skip
            ).fetchone()
            pending = self._db.execute(
                f"SELECT at FROM item WHERE kind IN ({kinds}) AND {not_batch} ORDER BY at LIMIT 1",
                (*COMPLETE_KINDS, *skip),
            ).fetchone()
            produced = self._db.execute("SELECT v FROM meta WHERE k='produced_until'").fetchone()
        n -= len(excluding)
        size -= sum(p.size for p in excluding)
        pending_ts = pending[0] if pending else None
        produced_ts = float(produced[0]) if produced else None
        complete = pending_ts if pending_ts is not None else produced_ts
        if pending_ts is not None and produced_ts is not None:
            complete = min(pending_ts, produced_ts)
        return Backlog(n, size, _dt(oldest[0] if oldest else None), _dt(complete))

    def items_since(self, since: datetime | None) -> Iterator[Pending]:
        """Everything pending (from `since` on), in sequence order: the carried-disk export."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, kind, seq, size, body FROM item WHERE at >= ? ORDER BY seq",
                (_ts(since) if since else -1e18,),
            ).fetchall()
        for row in rows:
            yield Pending(*row)

    def pending_for(self, keys: Sequence[str]) -> dict[str, Pending]:
        """What is still pending under these keys (an import receipt's), whatever its seq."""
        out: dict[str, Pending] = {}
        with self._lock:
            for key in keys:
                row = self._db.execute(
                    "SELECT key, kind, seq, size, body FROM item WHERE key=?", (key,)
                ).fetchone()
                if row is not None:
                    out[key] = Pending(*row)
        return out

    def rejected(self) -> list[tuple[str, str]]:
        with self._lock:
            return self._db.execute("SELECT key, reason FROM rejected ORDER BY at").fetchall()

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT v FROM meta WHERE k=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO meta(k, v) VALUES(?, ?) ON CONFLICT(k) DO UPDATE SET v=excluded.v",
                (key, value),
            )
