"""Opening-hours reports over the API: the same report as `pantau report`, in any format."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from pantau.accounts.scope import Scope as AccessScope
from pantau.verdicts.formats import MEDIA, render
from pantau.verdicts.queries import make_report
from pantau.verdicts.report import ReportError, Scope
from pantau.web.deps import DB, Caller
from pantau.web.errors import Forbidden, Invalid

router = APIRouter(prefix="/api", tags=["reports"])


def _area(scope_text: str | None, caller: AccessScope, request: Request) -> Scope:
    """The asked area; a camat or lurah gets their own area and may not ask for another."""
    if scope_text in (None, "", "city", "kota"):
        asked = Scope.city()
    else:
        kind, _, code = scope_text.partition(":")
        if kind not in ("kecamatan", "kelurahan") or not code:
            raise Invalid(
                "use city, kecamatan:<code or name> or kelurahan:<code or slug>", "query.scope"
            )
        asked = Scope(kind, code)  # type: ignore[arg-type]
    if caller.sees_all:
        return asked
    own = Scope("kecamatan" if caller.role.value == "camat" else "kelurahan", caller.code)
    if asked.kind == "city":
        return own
    code, mine = (asked.code or "").casefold(), (own.code or "").casefold()
    inside = code == mine if asked.kind == own.kind else code.startswith(mine + ".")
    if asked.kind == "kecamatan" and own.kind == "kelurahan":
        inside = False
    if not inside:  # a kelurahan of the camat's own kecamatan is inside (codes nest)
        raise Forbidden(f"GET {request.url.path}", "scope", scope_text)
    return asked


@router.get("/reports")
def get_report(
    request: Request,
    session: DB,
    caller: Caller,
    period: Annotated[str, Query(description="2026-11-23, 2026-W48, 2026-11 or 2026")],
    scope: Annotated[str | None, Query(description="city, kecamatan:CODE, kelurahan:CODE")] = None,
    format: Annotated[str, Query(pattern="^(json|csv|xlsx|pdf)$")] = "json",
    view: Annotated[str, Query(pattern="^(kelurahan|kecamatan|harian)$")] = "kelurahan",
    lang: Annotated[str, Query(pattern="^(id|en)$")] = "id",
) -> Response:
    """Laporan kepatuhan jam buka: the city, a kecamatan or a kelurahan over a period."""
    area = _area(scope, caller, request)
    settings = request.app.state.runtime.settings
    try:
        report = make_report(session, settings, period, area, caller)
    except ReportError as exc:
        raise Invalid(str(exc), "query.period") from exc
    data = render(report, format, view, lang)
    headers = {}
    if format != "json":
        name = f"laporan-{report.period.key}-{(area.code or 'kota').replace(' ', '-')}.{format}"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(data, media_type=MEDIA[format], headers=headers)
