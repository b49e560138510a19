"""Edge agents. Two kinds of caller:

- people (admin, operator, pimpinan): enrolment tokens, the agent list, revocation and the
  connectivity report, under /api/agents;
- agents, with their own key and nothing else, under /api/agent: enrol, hello, config and
  batch. A user's session is no agent key, so these answer 401 to users and anonymous alike.
"""

from __future__ import annotations

import gzip
import json
import time
import zlib
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from pantau.accounts import audit
from pantau.edge import items as wire
from pantau.hub import agents as hub_agents
from pantau.hub import clips as hub_clips
from pantau.hub.agents import AgentAuthError
from pantau.hub.connectivity import agent_summary, report
from pantau.hub.credentials import ENROL_PREFIX
from pantau.hub.ingest import ingest
from pantau.hub.recompute import recompute_days
from pantau.hub.siteconfig import site_config
from pantau.runtime import Runtime
from pantau.store.db import transaction
from pantau.store.models import Agent, Site
from pantau.store.types import utcnow
from pantau.verdicts.store import local_today
from pantau.web.deps import DB, Admin, CityReader, bearer_token, client_ip, runtime
from pantau.web.errors import ApiError, Invalid, NotFound
from pantau.web.schemas import In

router = APIRouter(prefix="/api/agents", tags=["agents"])
agent_router = APIRouter(prefix="/api/agent", tags=["agent (edge)"])


# ---- people -----------------------------------------------------------------------------------


class EnrolmentIn(In):
    site_id: int
    hours: float | None = Field(default=None, gt=0, le=24 * 30, description="Valid for")


@router.post("/enrolments", status_code=201)
def create_enrolment(
    body: EnrolmentIn, request: Request, scope: Admin, session: DB
) -> dict[str, Any]:
    """A one-time token for a site's agent (`pantau agent enrol --hub URL --token T`).
    Shown once; the hub keeps only its hash."""
    rt = runtime(request)
    site = session.get(Site, body.site_id)
    if site is None:
        raise Invalid(f"site {body.site_id} does not exist", "site_id")
    issued = hub_agents.create_enrolment(
        session, site, scope.username, body.hours or rt.settings.edge.enrolment_hours
    )
    audit.record(
        session,
        scope,
        "agent.enrolment.create",
        object_type="agent_enrolment",
        object_id=issued.enrolment.id,
        detail={"site_id": site.id, "expires_at": wire.iso(issued.enrolment.expires_at)},
        ip=client_ip(request),
    )
    hub = rt.settings.server.public_url or str(request.base_url).rstrip("/")
    return {
        "enrolment_id": issued.enrolment.id,
        "site_id": site.id,
        "token": issued.token,
        "expires_at": issued.enrolment.expires_at,
        "command": f"pantau agent enrol --hub {hub} --token {issued.token}",
    }


@router.get("")
def list_agents(request: Request, scope: CityReader, session: DB) -> list[dict[str, Any]]:
    """Every agent with its link state (online / offline with data pending), backlog and
    clock offset."""
    rt = runtime(request)
    now = utcnow()
    rows = session.scalars(select(Agent).order_by(Agent.site_id, Agent.id))
    return [agent_summary(a, rt.settings, now) for a in rows]


@router.get("/connectivity")
def connectivity(
    request: Request,
    scope: CityReader,
    session: DB,
    start: Annotated[date | None, Query(alias="from", description="First local date")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last local date")] = None,
    site_id: Annotated[int | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Per agent: hours connected per local day, last contact, backlog size and age,
    throughput, version and clock offset (with a warning past `edge.clock_warn_seconds`)."""
    rt = runtime(request)
    end = end or local_today(rt.settings)
    start = start or end - timedelta(days=6)
    if start > end:
        raise Invalid("from is after to", "from")
    if (end - start).days > 92:
        raise Invalid("at most 93 days at once", "to")
    return report(session, rt.settings, start, end, [site_id] if site_id is not None else None)


@router.get("/{agent_id}")
def get_agent(agent_id: int, request: Request, scope: CityReader, session: DB) -> dict[str, Any]:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    return agent_summary(agent, runtime(request).settings, utcnow())


@router.post("/{agent_id}/revoke")
def revoke_agent(agent_id: int, request: Request, scope: Admin, session: DB) -> dict[str, Any]:
    """The agent's key stops working at once (403 with the date); enrol anew to replace it."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    hub_agents.revoke(session, agent, scope.username)
    audit.record(
        session,
        scope,
        "agent.revoke",
        object_type="agent",
        object_id=agent.id,
        detail={"site_id": agent.site_id, "name": agent.name},
        ip=client_ip(request),
    )
    return agent_summary(agent, runtime(request).settings, utcnow())


# ---- agents -----------------------------------------------------------------------------------


def _refused(exc: AgentAuthError) -> ApiError:
    return ApiError(exc.status, "unauthorized" if exc.status == 401 else "forbidden", exc.message)


def current_agent(request: Request, session: DB) -> Agent:
    try:
        return hub_agents.authenticate(session, bearer_token(request))
    except AgentAuthError as exc:
        raise _refused(exc) from None


AgentCaller = Annotated[Agent, Depends(current_agent)]


def enrolment_token(request: Request) -> str:
    """The one-time token travels like every agent credential: Authorization: Bearer pae_…"""
    token = bearer_token(request)
    if not token or not token.startswith(ENROL_PREFIX):
        raise ApiError(
            401,
            "unauthorized",
            "enrolment token required: Authorization: Bearer pae_… from an admin",
        )
    return token


class EnrolIn(In):
    name: str = Field(min_length=1, max_length=120)
    public_key: str = Field(description="Ed25519 public key, base64 (bundle signatures)")
    version: str | None = Field(default=None, max_length=40)


@agent_router.post("/enrol", status_code=201)
def enrol(
    body: EnrolIn,
    request: Request,
    session: DB,
    token: Annotated[str, Depends(enrolment_token)],
) -> dict[str, Any]:
    """Exchange an enrolment token (sent as the bearer) for this agent's key (returned once,
    stored as a hash)."""
    try:
        hub_agents.check_public_key(body.public_key)
    except ValueError as exc:
        raise Invalid(str(exc), "public_key") from None
    try:
        agent, key = hub_agents.enrol(session, token, body.name, body.public_key, body.version)
    except AgentAuthError as exc:
        raise _refused(exc) from None
    audit.record(
        session,
        f"agent:{agent.id}",
        "agent.enrol",
        object_type="agent",
        object_id=agent.id,
        detail={"site_id": agent.site_id, "name": agent.name, "version": body.version},
        ip=client_ip(request),
    )
    return {"agent_id": agent.id, "site_id": agent.site_id, "name": agent.name, "key": key}


class BacklogIn(BaseModel):
    items: int = 0
    bytes: int = 0
    oldest: str | None = None
    complete_until: str | None = None


class HelloIn(BaseModel):
    agent_time: datetime
    rtt_ms: float | None = None
    clock_offset: float | None = Field(default=None, description="Agent's own NTP estimate")
    backlog: BacklogIn = Field(default_factory=BacklogIn)
    config_digest: str | None = None


@agent_router.post("/hello")
def hello(body: HelloIn, request: Request, agent: AgentCaller, session: DB) -> dict[str, Any]:
    """Each sync round starts here: the hub notes the contact, the agent's backlog, version and
    clock offset, and says whether the site's configuration changed."""
    received = utcnow()
    rt = runtime(request)
    offset = body.clock_offset
    if offset is None and body.agent_time.tzinfo is not None:
        half_rtt = (body.rtt_ms or 0) / 2000
        offset = (body.agent_time - received).total_seconds() + half_rtt
    hub_agents.record_contact(
        session,
        agent,
        at=received,
        clock_offset=offset,
        version=request.headers.get("x-pantau-agent-version"),
        backlog=body.backlog.model_dump(),
        reported_at=body.agent_time if body.agent_time.tzinfo is not None else None,
        keep_days=rt.settings.edge.contact_keep_days,
    )
    digest = site_config(session, rt.settings, rt.secrets, agent)["digest"]
    return {
        "agent_id": agent.id,
        "site_id": agent.site_id,
        "config_digest": digest,
        "clips": hub_clips.pending_for(session, agent),  # footage the control room asked for
        "hub_received": wire.iso(received),
        "hub_sent": wire.iso(utcnow()),
    }


@agent_router.get("/config")
def config(request: Request, agent: AgentCaller, session: DB) -> dict[str, Any]:
    """The site's cameras (with credentials), zones, allowed windows and calendar."""
    rt = runtime(request)
    hub_agents.record_contact(
        session,
        agent,
        version=request.headers.get("x-pantau-agent-version"),
        keep_days=rt.settings.edge.contact_keep_days,
    )
    return site_config(session, rt.settings, rt.secrets, agent)


def _agent_of(rt: Runtime, key: str | None) -> int:
    with rt.sessions() as session:
        try:
            return hub_agents.authenticate(session, key).id
        except AgentAuthError as exc:
            raise _refused(exc) from None


async def _read_body(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"batch larger than {limit} bytes; send smaller ones")
        chunks.append(chunk)
    return b"".join(chunks)


def _sent_at(payload: dict[str, Any]) -> datetime | None:
    try:
        return wire.parse_time(payload.get("sent_at"))
    except (TypeError, ValueError):
        return None  # an old agent, or garbage: the backlog is then taken as it comes


def _commit(
    rt: Runtime, agent_id: int, payload: dict[str, Any], nbytes: int, seconds: float, version: str
) -> tuple[dict[str, Any], int, set[date], dict[int, tuple[datetime, datetime]]]:
    with transaction(rt.sessions) as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        result = ingest(session, rt.settings, agent, payload["items"])
        hub_agents.record_contact(
            session,
            agent,
            items=len(result.acked),
            nbytes=nbytes,
            transfer_seconds=seconds,
            version=version,
            backlog=payload.get("backlog"),
            reported_at=_sent_at(payload),
            keep_days=rt.settings.edge.contact_keep_days,
        )
        site_id = agent.site_id
    # Committed: only now is the batch acknowledged.
    answer = {
        "batch_id": payload.get("batch_id"),
        "accepted": len(result.acked),
        "rejected": result.rejected,
        "counts": result.counts,
        "committed_at": wire.iso(utcnow()),
    }
    return answer, site_id, result.days, result.spans


@agent_router.post("/batch")
async def batch(request: Request, background: BackgroundTasks) -> dict[str, Any]:
    """Upsert a batch of items by their stable ids and acknowledge it once committed. Sending
    the same batch again changes nothing. Body: JSON (gzip allowed) with `batch_id`,
    `backlog` and `items` [{key, kind, seq, data}]."""
    rt = runtime(request)
    agent_id = await run_in_threadpool(_agent_of, rt, bearer_token(request))
    started = time.monotonic()
    raw = await _read_body(request, int(rt.settings.edge.max_batch_mb * 1024 * 1024))
    seconds = time.monotonic() - started
    try:
        if request.headers.get("content-encoding", "").lower() == "gzip":
            text = gzip.decompress(raw)
        else:
            text = raw
        payload = json.loads(text)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise Invalid(f"batch body is not (gzip) JSON: {exc}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise Invalid("batch body must be an object with an items list", "items")
    version = request.headers.get("x-pantau-agent-version", "")
    answer, site_id, days, spans = await run_in_threadpool(
        _commit, rt, agent_id, payload, len(raw), seconds, version
    )
    if days or spans:
        background.add_task(recompute_days, rt, site_id, days, spans)
    return answer


api = APIRouter()  # both routers, registered with one line in web/app.py
api.include_router(router)
api.include_router(agent_router)
