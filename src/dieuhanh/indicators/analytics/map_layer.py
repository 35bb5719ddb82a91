"""The indicators' layer of the operations map: any indicator as a choropleth of the communes,
chosen on the page — for the newest period that has a figure. Each commune is filled by its
legend band when the indicator has a legend, else by the quintile of its figure among the
communes' (the dashboard's colouring)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal
from dieuhanh.core.errors import InvalidInput
from dieuhanh.gis.layers import LayerClass, LayerData, LayerParam, LayerRequest, MapLayer
from dieuhanh.indicators.analytics.analytics import AnalyticsRow, analyze
from dieuhanh.indicators.catalog.models import Indicator
from dieuhanh.indicators.catalog.periods import PeriodError, resolve_periods
from dieuhanh.indicators.values.topics import VALUES_CHANGED

DEFAULT_PERIODS = "LAST_12_MONTHS"
BANDS = {
    "green": LayerClass("green", "Đạt", "Met", "#5cb85c"),
    "yellow": LayerClass("yellow", "Cần chú ý", "Watch", "#f0c419"),
    "red": LayerClass("red", "Không đạt", "Not met", "#e0453a"),
}
QUINTILE_FILL = ("#eef4fb", "#c0d8ee", "#7fb0dc", "#3b82c4", "#12508f")


def indicator_choices(session: Session, principal: Principal) -> list[tuple[str, str]]:
    query = select(Indicator.code, Indicator.name).order_by(Indicator.name)
    return [(code, name) for code, name in session.execute(query)]


def indicator_features(request: LayerRequest) -> LayerData:
    code = request.text("indicator", max_length=50)
    if not code:
        raise InvalidInput("indicator: give an indicator's code (GET /api/v1/operations/layers "
                           "lists them).", code="missing_indicator")  # fmt: skip
    spec = request.text("period", DEFAULT_PERIODS, max_length=200) or DEFAULT_PERIODS
    try:
        periods = resolve_periods(spec, request.today)
    except PeriodError as exc:
        raise InvalidInput(f"period: {exc}", code="invalid_period") from None
    result = analyze(
        request.session, indicators=[code], level="commune", parent=request.province_code,
        periods=periods, scope=request.principal.read_scope, lang=request.language,
    )  # fmt: skip
    shown = [row for row in result.rows if row.value is not None]
    if not shown:
        return LayerData([], classes=[], note=result.indicators[code].row.name)
    newest = max(row.period for row in shown)
    rows = [row for row in shown if row.period == newest]
    legend = result.indicators[code].row.legend
    note = f"{result.indicators[code].row.name} · {rows[0].period_name}"
    return _banded(rows, note) if legend else _quintiles(rows, note)


def _banded(rows: list[AnalyticsRow], note: str) -> LayerData:
    data = [[row.unit, row.color, row.value, f"{row.unit_name}: {row.value:g}"] for row in rows]
    used = {row.color for row in rows}
    return LayerData(data, classes=[band for key, band in BANDS.items() if key in used], note=note)


def _quintiles(rows: list[AnalyticsRow], note: str) -> LayerData:
    values = sorted(row.value for row in rows if row.value is not None)
    classes = min(len(QUINTILE_FILL), len(set(values)))
    breaks = sorted({values[(k * len(values)) // classes] for k in range(1, classes)})
    edges = [values[0], *breaks, values[-1]]
    # The classes used are spread over the palette: two classes are light and dark, not two
    # lights (as the dashboard does).
    legend = [
        LayerClass(f"q{k}", f"{edges[k]:g} – {edges[k + 1]:g}", f"{edges[k]:g} – {edges[k + 1]:g}",
                   QUINTILE_FILL[round(k * (len(QUINTILE_FILL) - 1) / max(1, len(breaks)))])
        for k in range(len(breaks) + 1)
    ]  # fmt: skip
    data = []
    for row in rows:
        value = row.value or 0.0
        k = sum(value >= limit for limit in breaks)
        data.append([row.unit, legend[k].code, row.value, f"{row.unit_name}: {value:g}"])
    return LayerData(data, classes=legend, note=note)


LAYER = MapLayer(
    code="indicator",
    title_vi="Chỉ tiêu theo xã, phường (bản đồ màu)",
    title_en="An indicator by commune (choropleth)",
    kind="choropleth",
    topics=(VALUES_CHANGED,),
    features=indicator_features,
    link="/units/{unit}",
    params=(
        LayerParam("indicator", "The indicator's code.", required=True, choices=indicator_choices),
        LayerParam(
            "period",
            "Periods to look in (default LAST_12_MONTHS); the newest with a figure is shown.",
        ),
    ),
    on_by_default=False,
    order=50,
)
