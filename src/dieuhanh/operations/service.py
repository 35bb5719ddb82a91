"""The operations view's logic: the layers the capabilities contribute, their features and the
attention list within a caller's scope, and which layers a run of events changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal
from dieuhanh.core.errors import DieuhanhError, InvalidInput, NotFound
from dieuhanh.core.events import EventRecord, matches, topic_filter
from dieuhanh.core.runtime import Runtime
from dieuhanh.gis.layers import (
    MAP_LAYERS,
    POINT_COLUMNS,
    UNIT_COLUMNS,
    AttentionItem,
    LayerRequest,
    MapLayer,
    map_layers,
)

MAX_ATTENTION = 200


def layers_of(runtime: Runtime) -> list[MapLayer]:
    return map_layers(runtime.extensions.of(MAP_LAYERS))


def find_layer(runtime: Runtime, code: str) -> MapLayer:
    layers = layers_of(runtime)
    for layer in layers:
        if layer.code == code:
            return layer
    known = ", ".join(layer.code for layer in layers)
    raise NotFound(f"No map layer '{code[:40]}'; the layers are: {known}.", code="unknown_layer")


def describe(
    layer: MapLayer, session: Session, principal: Principal, language: str
) -> dict[str, Any]:
    """What the page needs to offer a layer: its title, legend, parameters and their choices."""
    return {
        "code": layer.code,
        "title": layer.title(language),
        "kind": layer.kind,
        "columns": list(POINT_COLUMNS if layer.kind == "points" else UNIT_COLUMNS),
        "topics": list(layer.topics),
        "classes": [item.as_json(language) for item in layer.classes],
        "link": layer.link,
        "on_by_default": layer.on_by_default,
        "attention": layer.attention is not None,
        "params": [
            {"name": param.name, "description": param.description, "required": param.required,
             "choices": [{"code": code, "name": name} for code, name in
                         param.choices(session, principal)] if param.choices else None}
            for param in layer.params
        ],
    }  # fmt: skip


def check_params(layer: MapLayer, params: Mapping[str, str]) -> None:
    """Refuse a parameter the layer does not take, and a required one missing, by name."""
    taken = {param.name for param in layer.params}
    unknown = sorted(set(params) - taken)
    if unknown:
        takes = ", ".join(sorted(taken)) or "no parameters"
        raise InvalidInput(f"Layer '{layer.code}' does not take '{unknown[0][:40]}'; it takes: "
                           f"{takes}.", code="unknown_layer_param")  # fmt: skip
    for param in layer.params:
        if param.required and not params.get(param.name):
            raise InvalidInput(f"Layer '{layer.code}' needs '{param.name}': {param.description}",
                               code="missing_layer_param")  # fmt: skip


def features(layer: MapLayer, request: LayerRequest) -> dict[str, Any]:
    check_params(layer, request.params)
    data = layer.features(request)
    classes = layer.classes if data.classes is None else data.classes
    return {
        "code": layer.code,
        "kind": layer.kind,
        "columns": list(POINT_COLUMNS if layer.kind == "points" else UNIT_COLUMNS),
        "rows": data.rows,
        "count": len(data.rows),
        "classes": [item.as_json(request.language) for item in classes],
        "link": layer.link,
        "note": data.note,
        "truncated": data.truncated,
    }


def attention(layers: Sequence[MapLayer], request: LayerRequest, limit: int) -> dict[str, Any]:
    """Every layer's items, the most urgent first, then the newest. A layer that fails is named
    in ``failed`` rather than emptying the whole panel."""
    items: list[AttentionItem] = []
    failed = []
    for layer in layers:
        if layer.attention is None:
            continue
        try:
            items.extend(layer.attention(request))
        except DieuhanhError:
            failed.append(layer.code)
    items.sort(key=AttentionItem.rank)
    return {
        "count": len(items),
        "items": [_item_json(item) for item in items[:limit]],
        "failed": failed,
    }


def _item_json(item: AttentionItem) -> dict[str, Any]:
    return {"key": item.key, "layer": item.layer, "urgency": item.urgency, "title": item.title,
            "at": item.at.isoformat(), "link": item.link, "unit_code": item.unit_code,
            "unit_name": item.unit_name}  # fmt: skip


# --- which layers changed -------------------------------------------------------------------


def layers_changed_by(layers: Sequence[MapLayer], topic: str) -> list[str]:
    return [
        layer.code for layer in layers if any(matches(selector, topic) for selector in layer.topics)
    ]


def changes_after(
    session: Session, layers: Sequence[MapLayer], after: int, batch: int
) -> tuple[int, set[str], int]:
    """The layers changed by the events after ``after`` (at most ``batch`` read): the last event
    id read, the layer codes, and how many events were read."""
    condition = topic_filter(sorted({topic for layer in layers for topic in layer.topics}))
    rows = session.execute(
        select(EventRecord.id, EventRecord.topic)
        .where(EventRecord.id > after, condition)
        .order_by(EventRecord.id)
        .limit(batch)
    ).all()
    changed: set[str] = set()
    for _, topic in rows:
        changed.update(layers_changed_by(layers, topic))
    return (rows[-1][0] if rows else after), changed, len(rows)
