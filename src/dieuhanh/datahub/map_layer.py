"""The sensors' layer of the operations map: the newest reading of each device × metric (MQTT
series), drawn at the unit the device is placed in (readings carry no coordinates)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, func, select

from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import InvalidInput
from dieuhanh.datahub.models import SensorReading
from dieuhanh.datahub.topics import SENSOR_READING
from dieuhanh.gis.layers import (
    LayerClass,
    LayerData,
    LayerParam,
    LayerRequest,
    MapLayer,
    point_row,
)
from dieuhanh.units.models import Unit

DEFAULT_HOURS = 24
MAX_HOURS = 24 * 30
KNOWN_METRICS = {
    "water_level": ("Mực nước", "Water level", "#0077b6"),
    "rainfall": ("Lượng mưa", "Rainfall", "#48cae4"),
    "pm25": ("Bụi PM2.5", "PM2.5", "#9d4edd"),
}
OTHER_COLOR = "#6c757d"


def _hours(request: LayerRequest) -> int:
    text = request.text("hours", str(DEFAULT_HOURS)) or ""
    if not text.isdigit() or not 1 <= int(text) <= MAX_HOURS:
        raise InvalidInput(f"hours: a whole number of hours from 1 to {MAX_HOURS}, not "
                           f"'{text[:20]}'.", code="invalid_layer_param")  # fmt: skip
    return int(text)


def sensor_features(request: LayerRequest) -> LayerData:
    since = utcnow() - timedelta(hours=_hours(request))
    scope = request.principal.read_scope.where(SensorReading.unit_id)
    series = (SensorReading.source_id, SensorReading.device, SensorReading.metric)
    newest = (
        select(*series, func.max(SensorReading.at).label("at"))
        .where(SensorReading.at >= since, SensorReading.unit_id.is_not(None), scope)
        .group_by(*series)
        .subquery()
    )
    query = (
        select(SensorReading.device, SensorReading.metric, SensorReading.value,
               SensorReading.at, Unit.code)
        .join(newest, and_(SensorReading.source_id == newest.c.source_id,
                           SensorReading.device == newest.c.device,
                           SensorReading.metric == newest.c.metric,
                           SensorReading.at == newest.c.at))
        .join(Unit, Unit.id == SensorReading.unit_id)
        .order_by(SensorReading.device, SensorReading.metric)
    )  # fmt: skip
    rows, metrics = [], set()
    for device, metric, value, at, unit in request.session.execute(query):
        metrics.add(metric)
        name = _metric_title(metric, request.language)
        title = f"{device} · {name}: {value:g} ({request.local_time(at)})"
        rows.append(point_row(f"{device}/{metric}", None, None, unit, metric, title))
    return LayerData(rows, classes=[_metric_class(metric) for metric in sorted(metrics)])


def _metric_title(metric: str, language: str) -> str:
    known = KNOWN_METRICS.get(metric)
    if known is None:
        return metric
    return known[1] if language == "en" else known[0]


def _metric_class(metric: str) -> LayerClass:
    vi, en, color = KNOWN_METRICS.get(metric, (metric, metric, OTHER_COLOR))
    return LayerClass(metric, vi, en, color)


LAYER = MapLayer(
    code="sensors",
    title_vi="Số liệu cảm biến mới nhất",
    title_en="Latest sensor readings",
    kind="points",
    topics=(SENSOR_READING,),
    features=sensor_features,
    classes=tuple(_metric_class(metric) for metric in KNOWN_METRICS),
    link="/units/{unit}",
    params=(
        LayerParam(
            "hours", f"Readings of the last N hours (1–{MAX_HOURS}, default {DEFAULT_HOURS})."
        ),
    ),
    order=30,
)
