"""JSON errors that say what is wrong and which field is at fault."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pantau.accounts import audit
from pantau.accounts.scope import Scope
from pantau.config.loader import format_loc
from pantau.store.db import transaction

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with an HTTP status, a stable code and an optional field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


class NotFound(ApiError):
    def __init__(self, what: str, ident: Any) -> None:
        super().__init__(404, "not_found", f"{what} {ident} not found")


class Conflict(ApiError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(409, "conflict", message, field)


class Invalid(ApiError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(422, "invalid", message, field)


class Forbidden(ApiError):
    """Outside the user's role or scope; the attempt is written to the audit log."""

    def __init__(self, action: str, object_type: str | None = None, object_id: Any = None) -> None:
        what = f" {object_type} {object_id}" if object_type else ""
        super().__init__(
            403, "forbidden", f"not allowed: {action}{what} is outside your role or scope"
        )
        self.action, self.object_type, self.object_id = action, object_type, object_id


def body(code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"error": code, "message": message}
    if fields:
        out["fields"] = fields
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": format_loc(tuple(e["loc"])),
                "message": e["msg"].removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return JSONResponse(body("validation_error", message, fields), status_code=422)

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        if isinstance(exc, Forbidden):
            _audit_denied(request, exc)
        fields = [{"field": exc.field, "message": exc.message}] if exc.field else None
        return JSONResponse(body(exc.code, exc.message, fields), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            body("internal_error", f"internal error ({type(exc).__name__}); see the server log"),
            status_code=500,
        )


def audit_outside(request: Request, actor: Scope | str, action: str, **kw: Any) -> None:
    """Audit in a transaction of its own: the request's transaction is about to roll back."""
    runtime = request.app.state.runtime
    try:
        with transaction(runtime.sessions) as session:
            audit.record(
                session, actor, action, ip=request.client.host if request.client else None, **kw
            )
    except Exception:  # the error response must still go out even if the audit store is down
        log.exception("could not write audit entry for %s", action)


def _audit_denied(request: Request, exc: Forbidden) -> None:
    audit_outside(
        request,
        getattr(request.state, "scope", None) or "anonymous",
        exc.action,
        object_type=exc.object_type,
        object_id=exc.object_id,
        outcome="denied",
        detail={"method": request.method, "path": request.url.path},
    )
