"""The sync loop: the agent calls the hub (never the other way round, so it works behind NAT
and carrier-grade NAT), says hello, refreshes its cached config, then sends the outbox in
batches by priority until it is empty.

A batch is forgotten only when the hub answers that it committed it; a cut anywhere before
that (agent killed, hub stopped, link down) leaves the items in the outbox, and sending them
again changes nothing at the hub (stable ids). Failures back off exponentially with jitter;
an unknown or revoked agent stops with the hub's reason. Uploads go through a token bucket
so the site's link keeps room for everything else.
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_when_event_set,
    wait_exponential_jitter,
)

from pantau import __version__
from pantau.edge import items as wire
from pantau.edge.config_cache import ConfigCache
from pantau.edge.identity import Identity
from pantau.edge.outbox import Outbox, Pending

log = logging.getLogger(__name__)

CHUNK = 4096


class HubUnavailable(Exception):
    """Transient: the link is down, the hub is restarting or overloaded. Retried."""


class AgentRefused(Exception):
    """The hub does not accept this agent (unknown, revoked). Not retried."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"hub refused the agent ({status}): {message}")
        self.status = status


class TokenBucket:
    """At most `rate` bytes per second on average, bursts up to `burst` bytes."""

    def __init__(self, rate_bytes: float, burst: float | None = None) -> None:
        self.rate = rate_bytes
        self.capacity = burst if burst is not None else max(rate_bytes / 4, CHUNK)
        self.tokens = self.capacity
        self.at = time.monotonic()
        self._lock = threading.Lock()

    def take(self, n: int) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= n or self.tokens >= self.capacity:
                    self.tokens -= n  # a chunk larger than the burst goes, then is paid for
                    return
                time.sleep((min(n, self.capacity) - self.tokens) / self.rate)


@dataclass
class SyncSettings:
    bandwidth_kbps: float = 256.0
    batch_max_items: int = 2000
    batch_max_bytes: int = 512 * 1024
    idle_seconds: float = 30.0
    backoff_initial_seconds: float = 2.0
    backoff_max_seconds: float = 300.0
    timeout_seconds: float = 60.0
    timezone: str = "Asia/Makassar"
    recordings_dir: Path | None = None  # the site's segments, for clips the hub asks for


@dataclass
class SyncStats:
    batches: int = 0
    items: int = 0
    bytes_sent: int = 0
    rejected: int = 0
    failures: int = 0
    last_error: str | None = None
    last_rtt: float | None = None
    clock_offset: float | None = None
    history: list[str] = field(default_factory=list)


def _body_chunks(body: bytes, bucket: TokenBucket | None, counter: SyncStats) -> Iterator[bytes]:
    for start in range(0, len(body), CHUNK):
        chunk = body[start : start + CHUNK]
        if bucket is not None:
            bucket.take(len(chunk))
        counter.bytes_sent += len(chunk)
        yield chunk


class HubClient:
    def __init__(
        self,
        identity: Identity,
        settings: SyncSettings,
        bucket: TokenBucket | None,
        stats: SyncStats,
    ) -> None:
        self.identity = identity
        self.settings = settings
        self.bucket = bucket
        self.stats = stats
        self.http = httpx.Client(
            base_url=identity.hub_url.rstrip("/"),
            timeout=httpx.Timeout(settings.timeout_seconds, connect=10.0),
            headers={
                "Authorization": f"Bearer {identity.key}",
                "X-Pantau-Agent-Version": __version__,
                "User-Agent": f"pantau-agent/{__version__}",
            },
        )

    def close(self) -> None:
        self.http.close()

    def raw(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """A request whose 4xx answers (other than 401/403) the caller reads itself."""
        try:
            r = self.http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise HubUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if r.status_code in (401, 403):
            try:
                message = r.json().get("message", r.text)
            except ValueError:
                message = r.text
            raise AgentRefused(r.status_code, message)
        if r.status_code >= 500 or r.status_code in (408, 429):
            raise HubUnavailable(f"hub answered {r.status_code}: {r.text[:200]}")
        return r

    def _request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        r = self.raw(method, url, **kw)
        if r.status_code >= 400:
            raise AgentRefused(r.status_code, r.text[:400])
        return r

    def capped(self, body: bytes) -> Iterator[bytes]:
        """The body in small pieces through the token bucket (the upload cap)."""
        return _body_chunks(body, self.bucket, self.stats)

    def hello(self, backlog: dict[str, Any], config_digest: str | None) -> dict[str, Any]:
        t0 = datetime.now(UTC)
        body = {
            "agent_time": wire.iso(t0),
            "rtt_ms": None if self.stats.last_rtt is None else round(self.stats.last_rtt * 1000),
            "clock_offset": self.stats.clock_offset,
            "backlog": backlog,
            "config_digest": config_digest,
        }
        started = time.monotonic()
        r = self._request("POST", "/api/agent/hello", json=body)
        rtt = time.monotonic() - started
        t3 = datetime.now(UTC)
        out = r.json()
        self.stats.last_rtt = rtt
        hub_in = wire.parse_time(out["hub_received"])
        hub_out = wire.parse_time(out["hub_sent"])
        if hub_in is not None and hub_out is not None:
            # NTP: the agent's clock minus the hub's, from one exchange.
            self.stats.clock_offset = -(
                ((hub_in - t0).total_seconds() + (hub_out - t3).total_seconds()) / 2
            )
        return out

    def config(self) -> dict[str, Any]:
        return self._request("GET", "/api/agent/config").json()

    def send(self, batch: list[Pending], backlog: dict[str, Any]) -> dict[str, Any]:
        batch_id = uuid.uuid4().hex
        head = json.dumps(
            {"batch_id": batch_id, "sent_at": wire.iso(datetime.now(UTC)), "backlog": backlog}
        )
        items = ",".join(p.wire_json() for p in batch)
        body = gzip.compress(f'{head[:-1]}, "items": [{items}]}}'.encode(), 6)
        r = self._request(
            "POST",
            "/api/agent/batch",
            content=_body_chunks(body, self.bucket, self.stats),
            headers={
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "Content-Length": str(len(body)),
            },
        )
        out = r.json()
        if out.get("batch_id") != batch_id:
            raise HubUnavailable("hub acknowledged another batch; sending again")
        if int(out.get("accepted", -1)) + len(out.get("rejected", {})) != len(batch):
            raise HubUnavailable("hub acknowledged a different number of items; sending again")
        return out


class SyncLoop:
    def __init__(
        self,
        identity: Identity,
        outbox: Outbox,
        cache: ConfigCache,
        settings: SyncSettings,
        stop: threading.Event | None = None,
    ) -> None:
        self.identity = identity
        self.outbox = outbox
        self.cache = cache
        self.settings = settings
        self.stop = stop or threading.Event()
        self.stats = SyncStats()
        rate = settings.bandwidth_kbps * 1000 / 8
        self.bucket = TokenBucket(rate) if settings.bandwidth_kbps > 0 else None
        self.client = HubClient(identity, settings, self.bucket, self.stats)
        self.clips = None
        if settings.recordings_dir is not None:  # an agent without recordings has no clips
            from pantau.edge.clips import ClipUploader, work_dir_of

            self.clips = ClipUploader(
                self.client,
                settings.recordings_dir,
                work_dir_of(outbox.path),
                settings.bandwidth_kbps,
            )

    def round(self) -> int:
        """Hello, config if it changed, batches until the outbox is empty, then the clips the
        hub asked for (the outbox going first again whenever it has something). Items sent."""
        info = self.client.hello(self.outbox.backlog().wire(), self.cache.digest())
        if info.get("config_digest") != self.cache.digest():
            self.cache.save(self.client.config())
            log.info("site configuration updated from the hub")
        sent = self._drain()
        if self.clips is None:
            return sent
        listed = info.get("clips") or []
        self.clips.forget_others(listed)
        for clip in listed:
            while not self.stop.is_set():
                try:
                    if self.clips.upload(clip, self._outbox_waiting):
                        break
                except (HubUnavailable, AgentRefused):
                    raise
                except Exception:  # one clip's trouble must not stop the facts
                    log.exception("clip %s failed at the site; trying again later", clip.get("id"))
                    break
                sent += self._drain()
        return sent

    def _today(self) -> datetime:
        return wire.local_midnight(datetime.now(UTC), self.settings.timezone)

    def _outbox_waiting(self) -> bool:
        return self.stop.is_set() or bool(self.outbox.take(1, 1, self._today()))

    def _drain(self) -> int:
        sent = 0
        while not self.stop.is_set():
            batch = self.outbox.take(
                self.settings.batch_max_items, self.settings.batch_max_bytes, self._today()
            )
            if not batch:
                break
            after = self.outbox.backlog(excluding=batch)
            answer = self.client.send(batch, after.wire())
            rejected = answer.get("rejected", {})
            self.outbox.ack(batch, rejected)
            for key, reason in rejected.items():
                log.warning("hub refused %s: %s (set aside, not sent again)", key, reason)
            self.stats.batches += 1
            self.stats.items += len(batch)
            self.stats.rejected += len(rejected)
            sent += len(batch)
        return sent

    def _before_sleep(self, state: RetryCallState) -> None:
        self.stats.failures += 1
        exc = state.outcome.exception() if state.outcome else None
        self.stats.last_error = str(exc)
        wait = state.next_action.sleep if state.next_action else 0
        log.warning("hub unreachable (%s); trying again in %.1f s", exc, wait)

    def run(self, once: bool = False, attempts: int | None = None) -> SyncStats:
        """Until stopped (or, with `once`, until the outbox is empty once). Raises AgentRefused,
        and HubUnavailable after `attempts` failed tries in a row (default: never give up)."""
        stop = stop_when_event_set(self.stop)
        if attempts is not None:
            stop = stop | stop_after_attempt(attempts)
        retrying = Retrying(
            wait=wait_exponential_jitter(
                initial=self.settings.backoff_initial_seconds,
                max=self.settings.backoff_max_seconds,
            ),
            retry=retry_if_exception_type(HubUnavailable),
            stop=stop,
            sleep=self.stop.wait,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            while not self.stop.is_set():
                try:
                    retrying(self.round)
                except HubUnavailable:
                    if self.stop.is_set():
                        break
                    raise
                if once:
                    break
                self.stop.wait(self.settings.idle_seconds)
        finally:
            self.client.close()
        return self.stats
