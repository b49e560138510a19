"""Carried disk: `pantau agent export` at the site, `pantau import` at the hub (real
processes, both databases). Importing twice gives the same database; an altered bundle, a
bundle signed by another key, and a revoked agent's bundle are refused with the reason."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select

from pantau.edge.config_cache import CONFIG, ConfigCache
from pantau.edge.identity import Identity, save, signing_key
from pantau.edge.outbox import Outbox
from pantau.edge.receipt import Receipt, write_receipt
from pantau.edge.sink import OutboxSink
from pantau.hub.keys import hub_signing_key
from pantau.runtime import Runtime
from pantau.store.models import AuditEntry, Segment, VerdictRow
from pantau.store.types import utcnow
from tests.support.edge import PANTAU, recorded_site
from tests.test_edge_api import add_camera, admin_headers, dump_facts, enrol_agent, hub  # noqa: F401

TZ = ZoneInfo("Asia/Makassar")


def a_working_day() -> date:
    day = date.today() - timedelta(days=10)
    while day.weekday() >= 4:
        day -= timedelta(days=1)
    return day


def fill_site_day(outbox: Outbox, cam: int, day: date) -> int:
    sink = OutboxSink(outbox)
    start = datetime(day.year, day.month, day.day, 6, 0, tzinfo=TZ).astimezone(UTC)
    rows = []
    for i in range(11 * 60):
        minute = start + timedelta(minutes=i)
        local = minute.astimezone(TZ)
        people = 2 if (7, 45) <= (local.hour, local.minute) < (16, 0) else 0
        rows.append(
            {
                "camera_id": cam,
                "minute": minute,
                "people_max": people,
                "people_mean": float(people),
                "zones": {},
                "tamper": {},
                "lights_on": True,
                "coverage_seconds": 60.0,
                "samples": 12,
                "source": "live",
            }
        )
    sink.observations(cam, rows)
    night = start + timedelta(hours=16)
    sink.incidents(
        [
            {
                "id": f"bundle-{cam}",
                "camera_id": cam,
                "kind": "intrusion",
                "start": night,
                "end": night + timedelta(minutes=6),
                "detail": {},
            }
        ]
    )
    return len(rows) + 1


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PANTAU, *args], capture_output=True, text=True, timeout=120)


def rewrite(bundle: Path, out: Path, change: Any) -> Path:
    """A copy of the bundle with one member changed by `change(name, data) -> data`."""
    with tarfile.open(bundle) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(out, "w") as tar:
        for m, data in members:
            data = change(m.name, data)
            m.size = len(data)
            tar.addfile(m, io.BytesIO(data))
    return out


@dataclass
class CarriedSite:
    """A site with an enrolled agent and a day of facts in its outbox, and config files for
    the site's and the hub's `pantau` processes."""

    site_id: int
    camera: int
    agent_dir: Path
    enrolled: dict[str, Any]
    day: date
    items: int
    agent_cfg: Path
    hub_cfg: Path


def carried_site(client: Any, rt: Runtime, tmp_path: Path, slug: str) -> CarriedSite:
    site_id, cam = add_camera(rt, slug)
    agent_dir = tmp_path / "site" / "agent"
    enrolled = enrol_agent(client, admin_headers(client), site_id, agent_dir)  # key made there
    save(
        agent_dir,
        Identity("http://hub.invalid", enrolled["agent_id"], site_id, slug, enrolled["key"]),
    )
    day = a_working_day()
    outbox = Outbox(agent_dir / "outbox.db")
    n = fill_site_day(outbox, cam, day)
    outbox.close()
    agent_cfg = tmp_path / "agent.yaml"
    agent_cfg.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "site")}))
    hub_cfg = tmp_path / "hub.yaml"
    hub_cfg.write_text(
        yaml.safe_dump(
            {"data_dir": str(rt.settings.data_dir), "database": {"url": rt.settings.database_url}}
        )
    )
    return CarriedSite(site_id, cam, agent_dir, enrolled, day, n, agent_cfg, hub_cfg)


def test_export_import_twice_tamper_revoke(hub: Any, tmp_path: Path) -> None:  # noqa: F811
    client, rt = hub
    rt: Runtime
    h = admin_headers(client)
    site = carried_site(client, rt, tmp_path, "kel-korumba")
    site_id, enrolled, day, n = site.site_id, site.enrolled, site.day, site.items
    agent_cfg, hub_cfg = site.agent_cfg, site.hub_cfg
    usb = tmp_path / "usb"
    exported = run("-c", str(agent_cfg), "agent", "export", "--out", str(usb))
    assert exported.returncode == 0, exported.stderr
    (bundle,) = usb.glob("*.bundle")
    assert f"{n} items" in exported.stdout

    first = run("-c", str(hub_cfg), "import", str(bundle))
    assert first.returncode == 0, first.stderr + first.stdout
    assert f"{n} of {n} items accepted" in " ".join(first.stdout.split())
    after_first = dump_facts(rt)
    assert len(after_first["observation"]) == n - 1 and len(after_first["incident"]) == 1
    with rt.sessions() as s:
        verdict = s.scalar(
            select(VerdictRow).where(VerdictRow.site_id == site_id, VerdictRow.day == day)
        )
    assert verdict is not None, "the imported day's verdict was not computed"

    second = run("-c", str(hub_cfg), "import", str(bundle))
    assert second.returncode == 0 and "imported before" in " ".join(second.stdout.split())
    assert dump_facts(rt) == after_first  # twice = once, down to updated_at

    def flip_payload(name: str, data: bytes) -> bytes:
        if name != "items.jsonl.gz":
            return data
        lines = gzip.decompress(data).splitlines()
        item = json.loads(lines[0])
        item["data"]["people_max"] = 9
        lines[0] = json.dumps(item).encode()
        return gzip.compress(b"\n".join(lines) + b"\n")

    def more_items(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["site_id"] = 1
        return json.dumps(manifest).encode()

    cases = {
        "payload altered": rewrite(bundle, tmp_path / "a.bundle", flip_payload),
        "signature does not match": rewrite(bundle, tmp_path / "b.bundle", more_items),
    }
    other = tmp_path / "other-agent"
    signing_key(other)
    save(other, Identity("http://hub.invalid", enrolled["agent_id"], site_id, "palsu", "x"))
    fake_cfg = tmp_path / "fake.yaml"
    fake_cfg.write_text(
        yaml.safe_dump({"data_dir": str(tmp_path), "edge": {"agent_dir": str(other)}})
    )
    Outbox(other / "outbox.db").close()
    forged = run("-c", str(fake_cfg), "agent", "export", "--out", str(tmp_path / "usb2"))
    assert forged.returncode == 0, forged.stderr
    cases["signature does not match "] = next((tmp_path / "usb2").glob("*.bundle"))
    for reason, path in cases.items():
        refused = run("-c", str(hub_cfg), "import", str(path))
        assert refused.returncode != 0, f"{path.name} was accepted"
        assert reason.strip() in " ".join(refused.stderr.split()), refused.stderr
        assert dump_facts(rt) == after_first

    client.post(f"/api/agents/{enrolled['agent_id']}/revoke", headers=h)
    refused = run("-c", str(hub_cfg), "import", str(bundle))
    assert refused.returncode != 0 and "revoked" in refused.stderr
    with rt.sessions() as s:
        audit = [
            (a.action, a.outcome)
            for a in s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "agent.import")
                .order_by(AuditEntry.id)
            )
        ]
    assert audit == [("agent.import", "ok")] * 2 + [("agent.import", "refused")] * 4


def test_recordings_travel_on_the_disk(hub: Any, tmp_path: Path, media_dir: Path) -> None:  # noqa: F811
    """`agent export --recordings`: the site's segments in the signed bundle; at the hub they
    join its own recordings (file + index row) and play; twice writes nothing; one altered
    byte of footage refuses the bundle."""
    client, rt = hub
    rt: Runtime
    h = admin_headers(client)
    site_id, cam = add_camera(rt, "kel-korumba")
    agent_dir = tmp_path / "site" / "agent"
    enrolled = enrol_agent(client, h, site_id, agent_dir)
    save(
        agent_dir,
        Identity("http://hub.invalid", enrolled["agent_id"], site_id, "korumba", enrolled["key"]),
    )
    Outbox(agent_dir / "outbox.db").close()
    t0 = (utcnow() - timedelta(days=2)).replace(microsecond=0)
    recorded = recorded_site(tmp_path / "site" / "recordings", cam, t0, media_dir, 30)
    agent_cfg = tmp_path / "agent.yaml"
    agent_cfg.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "site")}))
    hub_cfg = tmp_path / "hub.yaml"
    hub_cfg.write_text(
        yaml.safe_dump(
            {"data_dir": str(rt.settings.data_dir), "database": {"url": rt.settings.database_url}}
        )
    )
    usb = tmp_path / "usb"
    exported = run("-c", str(agent_cfg), "agent", "export", "--out", str(usb), "--recordings")
    assert exported.returncode == 0, exported.stderr
    assert "3 recordings" in exported.stdout, exported.stdout
    (bundle,) = usb.glob("*.bundle")

    first = run("-c", str(hub_cfg), "import", str(bundle))
    assert first.returncode == 0, first.stderr + first.stdout
    assert "3 recordings stored (0 already here)" in " ".join(first.stdout.split())

    def stored() -> list[tuple]:
        with rt.sessions() as s:
            query = select(Segment).where(Segment.camera_id == cam).order_by(Segment.start)
            rows = s.scalars(query)
            return [(r.start, r.end, r.bytes, r.path) for r in rows]

    rows = stored()
    assert [(r[0], r[1]) for r in rows] == [(start, end) for start, end, _ in recorded]
    for (_, _, size, rel), (_, _, source) in zip(rows, recorded, strict=True):
        copy = rt.settings.recordings_dir / rel
        assert copy.read_bytes() == source.read_bytes() and size == source.stat().st_size

    when = {"from": t0.isoformat(), "to": (t0 + timedelta(seconds=30)).isoformat()}
    playlist = client.get(f"/api/cameras/{cam}/playlist.m3u8", params=when, headers=h)
    assert playlist.status_code == 200, playlist.text
    assert playlist.text.count("#EXTINF") == 3

    second = run("-c", str(hub_cfg), "import", str(bundle))
    assert second.returncode == 0, second.stderr
    assert "0 recordings stored (3 already here)" in " ".join(second.stdout.split())
    assert stored() == rows

    def flip_footage(name: str, data: bytes) -> bytes:
        if not name.startswith("recordings/") or not name.endswith(recorded[1][2].name):
            return data
        return data[:500] + bytes([data[500] ^ 0xFF]) + data[501:]

    tampered = rewrite(bundle, tmp_path / "t.bundle", flip_footage)
    refused = run("-c", str(hub_cfg), "import", str(tampered))
    assert refused.returncode != 0
    assert "altered" in refused.stderr and recorded[1][2].name in refused.stderr, refused.stderr
    assert stored() == rows


def test_a_signed_receipt_empties_the_outbox_of_what_the_hub_took(
    hub: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A site without a link: the disk goes to the hub, the receipt comes back, and the outbox
    keeps only what changed after the export. A receipt that is altered, from another hub or
    for another agent removes nothing."""
    client, rt = hub
    rt: Runtime
    site = carried_site(client, rt, tmp_path, "kel-kandai")
    site_id, enrolled, agent_dir, n = site.site_id, site.enrolled, site.agent_dir, site.items
    agent_cfg, hub_cfg = site.agent_cfg, site.hub_cfg
    r = client.get("/api/agent/config", headers={"Authorization": f"Bearer {enrolled['key']}"})
    assert r.status_code == 200 and r.json()["hub_public_key"], r.text
    ConfigCache(agent_dir).save(r.json())  # as the agent's one sync while a link was there
    usb = tmp_path / "usb"
    assert run("-c", str(agent_cfg), "agent", "export", "--out", str(usb)).returncode == 0
    (bundle,) = usb.glob("*.bundle")
    # After the export, one minute is analysed again at the site (a new seq for its key).
    outbox = Outbox(agent_dir / "outbox.db")
    changed = next(p for p in outbox.items_since(None) if p.kind == "observation")
    redone = {**changed.wire()["data"], "people_max": 3}
    assert outbox.put([(changed.key, changed.kind, datetime.now(UTC), redone)]) == 1
    outbox.close()

    imported = run("-c", str(hub_cfg), "import", str(bundle))
    assert imported.returncode == 0, imported.stderr + imported.stdout
    (receipt,) = usb.glob("*.receipt.json")
    assert receipt.name in imported.stdout

    def altered(body: dict) -> Path:
        doc = json.loads(receipt.read_text())
        doc["receipt"].update(body)
        path = tmp_path / f"altered-{len(body)}-{next(iter(body))}.json"
        path.write_text(json.dumps(doc))
        return path

    pairs = [(changed.key, changed.seq)]
    forged = write_receipt(
        tmp_path / "forged.json",
        signing_key(tmp_path / "other-hub"),
        Receipt("x", enrolled["agent_id"], site_id, "t", pairs, {}),
    )
    elsewhere = write_receipt(  # the real hub's signature, for another agent
        tmp_path / "elsewhere.json",
        hub_signing_key(rt.settings),
        Receipt("x", enrolled["agent_id"] + 1, site_id, "t", pairs, {}),
    )
    for path, reason in (
        (altered({"items": []}), "signature is not the hub's"),
        (forged, "signature is not the hub's"),
        (elsewhere, f"this is agent {enrolled['agent_id']}"),
        (tmp_path / "nothing.json", "no such file"),
    ):
        refused = run("-c", str(agent_cfg), "agent", "receipt", str(path))
        assert refused.returncode != 0 and reason in " ".join(refused.stderr.split()), refused
    outbox = Outbox(agent_dir / "outbox.db")
    assert outbox.backlog().items == n, "a refused receipt removed something"
    outbox.close()

    applied = run("-c", str(agent_cfg), "agent", "receipt", str(receipt))
    assert applied.returncode == 0, applied.stderr
    said = " ".join(applied.stdout.split())
    assert f"{n - 1} items the hub has left the outbox" in said, said
    assert "1 changed since the export stay; 1 items wait" in said, said
    outbox = Outbox(agent_dir / "outbox.db")
    [left] = list(outbox.items_since(None))
    assert left.key == changed.key and left.seq > changed.seq
    outbox.close()
    # An agent whose cached configuration has no hub key (enrolled before receipts, no link
    # since) is told so, and takes the key `pantau import` printed.
    (agent_dir / CONFIG).unlink()
    keyless = run("-c", str(agent_cfg), "agent", "receipt", str(receipt))
    assert keyless.returncode != 0 and "no hub key" in " ".join(keyless.stderr.split())
    key = imported.stdout.split("has none):")[1].split()[0]
    again = run("-c", str(agent_cfg), "agent", "receipt", str(receipt), "--hub-key", key)
    assert "0 items the hub has left the outbox" in " ".join(again.stdout.split()), again
