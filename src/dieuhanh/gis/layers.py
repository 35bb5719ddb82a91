"""Map layers: the extension point through which each capability puts its things on one map.

The operations view (the wall's main screen, issue #13 item 9) draws cameras, citizen reports,
sensor readings, alerts, directives and indicators, but may not import the capabilities that own
them (they sit beside it or above what it may import). Each capability instead contributes its
own ``MapLayer`` under ``MAP_LAYERS`` in its manifest; the view lists them, asks each for its
features within the caller's unit scope, and watches the event topics each names to know when
to ask again. Declared here, in gis, because every capability that draws may import gis.

A layer is one of two kinds, with compact rows (thousands of points travel as arrays, not as
GeoJSON objects with repeated keys):

- ``points``: ``POINT_COLUMNS`` = id, lat, lon, unit code, class, title. A row without
  coordinates is drawn at its unit's label point (sensors and directives are placed by unit).
- ``choropleth``: ``UNIT_COLUMNS`` = unit code, class, value, title: each commune's polygon is
  filled by its class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal
from dieuhanh.core.errors import InvalidInput

MAP_LAYERS = "gis.map_layers"
POINT_COLUMNS = ("id", "lat", "lon", "unit", "class", "title")
UNIT_COLUMNS = ("unit", "class", "value", "title")
LayerKind = Literal["points", "choropleth"]
# Attention items are ranked by these, most urgent first (the alerts' severities).
URGENCY = ("critical", "major", "minor", "warning", "info")


@dataclass(frozen=True)
class LayerClass:
    """One entry of a layer's legend: a state, a severity, a status, a band."""

    code: str
    title_vi: str
    title_en: str
    color: str  # a CSS colour: the page draws every layer with the colours its layer gives

    def as_json(self, language: str) -> dict[str, str]:
        title = self.title_en if language == "en" else self.title_vi
        return {"code": self.code, "title": title, "color": self.color}


@dataclass(frozen=True)
class LayerParam:
    """A query parameter a layer takes (e.g. which indicator), with its choices when known."""

    name: str
    description: str
    required: bool = False
    choices: Callable[[Session, Principal], list[tuple[str, str]]] | None = None


@dataclass(frozen=True)
class LayerRequest:
    """What a layer is asked with: the caller (whose unit scope applies), the parameters given,
    and the province's facts a layer cannot look up without importing the app."""

    session: Session
    principal: Principal
    params: Mapping[str, str]
    province_code: str
    today: date
    language: str
    timezone: str

    def local_time(self, moment: datetime) -> str:
        """A time as people of the province read it: 14:05 02/08/2026."""
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%H:%M %d/%m/%Y")

    def text(self, name: str, default: str | None = None, max_length: int = 100) -> str | None:
        value = self.params.get(name, default)
        if value is not None and len(value) > max_length:
            raise InvalidInput(
                f"{name}: at most {max_length} characters.", code="invalid_layer_param"
            )
        return value


@dataclass
class LayerData:
    """A layer's answer: rows in its kind's columns, and, when the legend depends on the data
    (an indicator's bands or quantiles), the classes of this answer."""

    rows: list[list[Any]]
    classes: Sequence[LayerClass] | None = None
    note: str = ""  # e.g. the period an indicator shows
    truncated: bool = False


@dataclass(frozen=True)
class AttentionItem:
    """One line of "what needs attention now": the most urgent first, then the newest."""

    layer: str
    urgency: str  # one of URGENCY
    title: str
    at: datetime
    link: str
    unit_code: str | None = None
    unit_name: str | None = None
    key: str = ""  # stable across refreshes (e.g. "alert:12"), for the page to keep its place

    def rank(self) -> tuple[int, float]:
        return (URGENCY.index(self.urgency), -self.at.timestamp())


@dataclass(frozen=True)
class MapLayer:
    """A layer one capability contributes under ``MAP_LAYERS``."""

    code: str  # short, unique, URL-safe: cameras, reports, alerts, ...
    title_vi: str
    title_en: str
    kind: LayerKind
    # Event topics (names or ``prefix.*``) whose events change this layer's features.
    topics: tuple[str, ...]
    features: Callable[[LayerRequest], LayerData]
    classes: tuple[LayerClass, ...] = ()
    # Where a click goes: "{id}" (points) or "{unit}" is replaced by the row's value.
    link: str = ""
    params: tuple[LayerParam, ...] = ()
    attention: Callable[[LayerRequest], list[AttentionItem]] | None = None
    on_by_default: bool = True
    order: int = 100

    def title(self, language: str) -> str:
        return self.title_en if language == "en" else self.title_vi


def map_layers(contributed: Sequence[object]) -> list[MapLayer]:
    """The contributed layers in their order; two with one code are refused at start."""
    layers = sorted((item for item in contributed if isinstance(item, MapLayer)),
                    key=lambda layer: (layer.order, layer.code))  # fmt: skip
    codes = [layer.code for layer in layers]
    doubled = sorted({code for code in codes if codes.count(code) > 1})
    if doubled:
        raise ValueError(f"map layers contributed twice: {', '.join(doubled)}")
    return layers


def point_row(
    id_: object, lat: float | None, lon: float | None, unit: str | None, cls: str, title: str
) -> list[Any]:
    """One ``points`` row; coordinates rounded to ~1 m (six decimals would be ~10 cm of noise
    in a 5,000-row answer)."""
    return [id_, _coordinate(lat), _coordinate(lon), unit, cls, title]


def _coordinate(value: float | None) -> float | None:
    return None if value is None else round(value, 5)
