"""The operations view's API: the layers, one layer's features, what needs attention now, and a
live stream naming the layers that changed (server-sent events)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Query, Request
from sqlalchemy.orm import Session
from sse_starlette.sse import EventSourceResponse

from dieuhanh.core.access import Principal
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.eventfeed import event_feed
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.web.shell import language_of
from dieuhanh.gis.layers import LayerRequest
from dieuhanh.operations import service

router = api_router("operations")
STREAM_POLL_SECONDS = 0.25  # as the alerts stream: an event reaches the wall within ~0.5 s
STREAM_BATCH = 1000


def layer_request(
    request: Request, db: Db, principal: Principal, params: dict[str, str] | None = None
) -> LayerRequest:
    runtime = get_runtime(request)
    return LayerRequest(
        session=db, principal=principal, params=params or {},
        province_code=runtime.settings.province_code, today=runtime.today(),
        language=language_of(request, principal), timezone=runtime.settings.timezone,
    )  # fmt: skip


@router.get(
    "/operations/layers",
    summary="The operations map's layers, with their legends and parameters",
    description="Each layer: `code`, `title` (in my language), `kind` (`points` or "
    "`choropleth`), `columns` of its rows, the event `topics` that change it, `classes` (its "
    "legend: code, title, colour), `link` (where a click goes: `{id}` / `{unit}` replaced), "
    "`on_by_default`, `attention` (whether it feeds the attention list), and `params` "
    "(name, description, required, choices).",
)
def layers(request: Request, db: Db, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    runtime = get_runtime(request)
    language = language_of(request, principal)
    return [
        service.describe(layer, db, principal, language) for layer in service.layers_of(runtime)
    ]


@router.get(
    "/operations/attention",
    summary="What needs attention now, within my unit scope: most urgent first, then newest",
    description="Items `{key, layer, urgency, title, at, link, unit_code, unit_name}` from every "
    "layer that has some (open alerts, urgent / escalated / overdue citizen reports, late "
    "directive steps); `count` is before `limit`.",
)
def attention(
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=service.MAX_ATTENTION)] = 50,
) -> dict[str, Any]:
    layers = service.layers_of(get_runtime(request))
    return service.attention(layers, layer_request(request, db, principal), limit)


@router.get(
    "/operations/stream",
    summary="Which layers changed, live (server-sent events)",
    description="A `ready` event, then `changed` events `{layers: [codes], attention: bool}` "
    "when events of a layer's topics were published (several in one poll come as one). The "
    "page re-fetches just those layers. Resumes after `Last-Event-ID`.",
    response_class=EventSourceResponse,
)
async def stream(request: Request, principal: CurrentPrincipal) -> EventSourceResponse:
    runtime = get_runtime(request)
    layers = service.layers_of(runtime)
    feeding = {layer.code for layer in layers if layer.attention is not None}

    def read(session: Session, after: int) -> tuple[int, list[dict[str, str]], bool]:
        last, changed, count = service.changes_after(session, layers, after, STREAM_BATCH)
        more = count == STREAM_BATCH
        if not changed:
            return last, [], more
        data = {"layers": sorted(changed), "attention": bool(changed & feeding)}
        return last, [{"event": "changed", "id": str(last), "data": json.dumps(data)}], more

    return event_feed(request, runtime.sessions, read, poll_seconds=STREAM_POLL_SECONDS)


@router.get(
    "/operations/layers/{code}",
    summary="One layer's features within my unit scope",
    description="`{code, kind, columns, rows, count, classes, link, note, truncated}`. Points "
    "rows: `[id, lat, lon, unit, class, title]` (no coordinates: drawn at the unit); choropleth "
    "rows: `[unit, class, value, title]`. Other query parameters are the layer's own (e.g. "
    "`indicator`, `period`; `hours` for sensors); an unknown one is refused by name.",
)
def layer_features(
    code: str, request: Request, db: Db, principal: CurrentPrincipal
) -> dict[str, Any]:
    layer = service.find_layer(get_runtime(request), code)
    params = dict(request.query_params)
    return service.features(layer, layer_request(request, db, principal, params))
