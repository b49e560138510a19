"""The agent's outbox, sink, identity files and bandwidth cap, without a hub."""

from __future__ import annotations

import os
import stat
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pantau.edge import items as wire
from pantau.edge.config_cache import ConfigCache
from pantau.edge.identity import Identity, load, save, signing_key
from pantau.edge.outbox import Outbox
from pantau.edge.sink import OutboxSink
from pantau.edge.sync import TokenBucket
from pantau.pipeline.health import MinuteSample, State

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 11.00 WITA
TODAY = wire.local_midnight(NOW, "Asia/Makassar")  # 2026-11-28 16:00 UTC


def obs(camera: int, minute: datetime, people: int = 1) -> dict:
    return {
        "camera_id": camera,
        "minute": minute,
        "people_max": people,
        "people_mean": people,
        "zones": {},
        "tamper": {},
        "coverage_seconds": 60.0,
        "source": "live",
    }


def test_stable_keys_replace_and_unchanged_facts_keep_their_place(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    sink = OutboxSink(box)
    m = NOW - timedelta(minutes=5)
    sink.observations(1, [obs(1, m)])
    first = box.take(10, 10**6, TODAY)
    sink.observations(1, [obs(1, m)])  # the same minute, same content: nothing new
    assert box.take(10, 10**6, TODAY) == first and box.backlog().items == 1
    sink.observations(1, [obs(1, m, people=3)])  # analysed again: one item, new version
    again = box.take(10, 10**6, TODAY)
    assert len(again) == 1 and again[0].seq > first[0].seq
    assert again[0].wire()["data"]["people_max"] == 3
    assert again[0].key == wire.observation_key(1, m) == "obs/1/2026-11-29T02:55Z"


def test_priorities_and_order_within_a_stream(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    sink = OutboxSink(box)
    old = TODAY - timedelta(days=2)
    sink.snapshot("inc-a", old, b"\xff\xd8jpeg")
    sink.observations(1, [obs(1, old + timedelta(minutes=i)) for i in range(3)])
    sink.observations(1, [obs(1, NOW - timedelta(minutes=i)) for i in (2, 1)])
    sink.health(1, [MinuteSample(old, State.ONLINE, 60.0, 10.0, 800.0, 0, None)])
    sink.incidents(
        [
            {
                "id": "inc-a",
                "camera_id": 1,
                "kind": "intrusion",
                "start": old,
                "end": None,
                "detail": {},
            }
        ]
    )
    order = [(p.kind, p.key) for p in box.take(100, 10**6, TODAY)]
    assert order[0] == ("incident", "incident/inc-a")
    assert [k for _, k in order[1:3]] == [
        wire.observation_key(1, NOW - timedelta(minutes=2)),
        wire.observation_key(1, NOW - timedelta(minutes=1)),
    ]
    backlog = [k for kind, k in order[3:7]]
    assert backlog[:3] == [wire.observation_key(1, old + timedelta(minutes=i)) for i in range(3)]
    assert backlog[3] == wire.health_key(1, old)
    assert order[-1] == ("snapshot", "snapshot/inc-a")
    # The byte budget cuts the batch, but never to nothing.
    assert len(box.take(100, 1, TODAY)) == 1


def test_ack_forgets_only_the_version_that_was_sent(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    sink = OutboxSink(box)
    m1, m2 = NOW - timedelta(minutes=2), NOW - timedelta(minutes=1)
    sink.observations(1, [obs(1, m1), obs(1, m2)])
    sent = box.take(10, 10**6, TODAY)
    before = box.backlog(excluding=sent)
    assert before.items == 0 and before.complete_until == m2 + timedelta(minutes=1)
    sink.observations(1, [obs(1, m2, people=5)])  # rewritten while the batch was in flight
    key1 = wire.observation_key(1, m1)
    assert box.ack(sent, rejected={key1: "camera unknown"}) == 1
    left = box.take(10, 10**6, TODAY)
    assert [p.key for p in left] == [wire.observation_key(1, m2)]
    assert left[0].wire()["data"]["people_max"] == 5
    assert box.rejected() == [(key1, "camera unknown")]
    assert box.backlog().complete_until == m2


def test_outbox_survives_a_restart_and_concurrent_writers(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    sink = OutboxSink(box)

    def write(camera: int) -> None:
        for i in range(200):
            sink.observations(camera, [obs(camera, NOW - timedelta(minutes=i))])

    threads = [threading.Thread(target=write, args=(c,)) for c in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    box.close()
    again = Outbox(tmp_path / "o.db")
    assert again.backlog().items == 600
    seqs = [p.seq for p in again.items_since(None)]
    assert len(set(seqs)) == 600


def test_identity_and_config_files_are_private(tmp_path: Path) -> None:
    key = signing_key(tmp_path)
    assert signing_key(tmp_path).private_bytes_raw() == key.private_bytes_raw()
    save(tmp_path, Identity("http://hub", 7, 3, "agen", "pak_7_secret"))
    ConfigCache(tmp_path).save({"digest": "d", "cameras": [], "calendar": []})
    for name in ("agent.json", "signing.key", "site-config.json"):
        mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
        assert mode == 0o600, f"{name}: {oct(mode)}"
    assert load(tmp_path).key == "pak_7_secret"
    assert ConfigCache(tmp_path).digest() == "d"


def test_token_bucket_holds_the_rate() -> None:
    bucket = TokenBucket(rate_bytes=40_000, burst=4096)
    started = time.monotonic()
    for _ in range(25):
        bucket.take(4096)  # 100 KiB at 40 kB/s: about 2.5 s
    elapsed = time.monotonic() - started
    assert 2.2 < elapsed < 3.5, elapsed
