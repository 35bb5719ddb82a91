"""HTTP API of analytics: indicator figures, raw element figures, outliers (issue 5)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import select

from dieuhanh.core.access import Principal, authorize
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.analytics import analytics, outliers
from dieuhanh.indicators.analytics.targets import tree_unit, unit_by_code
from dieuhanh.indicators.catalog.form_models import ReportForm
from dieuhanh.indicators.catalog.models import DataElement
from dieuhanh.indicators.catalog.periods import Period, PeriodError, resolve_periods
from dieuhanh.indicators.values.plan import IndicatorDef
from dieuhanh.indicators.values.rollup import load_tree

router = api_router("analytics")
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]

PeriodQuery = Annotated[
    str,
    Query(
        max_length=500,
        description="Period codes and relative periods separated by ';', e.g. "
        "`202601;LAST_12_MONTHS` (202603, 2026Q1, 2026S1, 2026, 2026W10, 20260315).",
    ),
]
UnitQuery = Annotated[
    str | None,
    Query(max_length=2000, description="Unit codes separated by ','; each covers its subtree."),
]
LevelQuery = Annotated[
    str | None,
    Query(description="province, commune (its communes and wards) or department, under parent."),
]
ParentQuery = Annotated[
    str | None, Query(max_length=32, description="The level's province; default: this one.")
]
ApprovedQuery = Annotated[
    bool,
    Query(
        alias="approvedOnly",
        description="Leave out values of forms that hide unapproved data until approved.",
    ),
]


def codes(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def periods_of(spec: str, runtime: Runtime) -> list[Period]:
    try:
        return resolve_periods(spec, runtime.today())
    except PeriodError as exc:
        raise InvalidInput(f"period: {exc}", code="invalid_period") from None


def language(principal: Principal, runtime: Runtime) -> str:
    return principal.language or runtime.settings.language


def default_units(unit: str | None, level: str | None, principal: Principal) -> list[str] | None:
    """With neither units nor a level, the caller's own unit (the province for its staff)."""
    if unit is None and level is None:
        return [principal.unit_code]
    return codes(unit)


@router.get(
    "/analytics",
    summary="Indicator values for units × periods, computed from the values stored now",
    description="Rows `{indicator, unit, period, value, numerator, denominator, unitName, "
    "periodName, color}`; cells without a value or numerator are left out. A unit's figure "
    "covers its subtree; ratios add numerators and denominators before dividing.",
)
def get_analytics(
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    indicator: Annotated[str, Query(max_length=2000, description="Indicator codes, ','")],
    period: PeriodQuery,
    unit: UnitQuery = None,
    level: LevelQuery = None,
    parent: ParentQuery = None,
    approved_only: ApprovedQuery = False,
) -> dict[str, Any]:
    lang = language(principal, runtime)
    result = analytics.analyze(
        db,
        indicators=codes(indicator),
        units=default_units(unit, level, principal),
        level=level,
        parent=parent or runtime.settings.province_code,
        periods=periods_of(period, runtime),
        scope=principal.read_scope,
        include_unapproved=not approved_only,
        lang=lang,
    )
    return {
        "rows": [row.to_json() for row in result.rows],
        "metaData": {
            "units": {u.code: u.name for u in result.units},
            "periods": {p.code: p.label(lang) for p in result.periods},
            "indicators": {code: describe(d) for code, d in result.indicators.items()},
        },
    }


def describe(definition: IndicatorDef) -> dict[str, Any]:
    row = definition.row
    return {
        "name": row.name,
        "numerator": row.numerator,
        "denominator": row.denominator,
        "factor": row.factor,
        "decimals": row.decimals,
        "unitOfMeasure": row.unit_of_measure,
        "direction": row.direction,
        "target": row.target,
        "legend": row.legend,
        "domain": row.domain,
    }


@router.get(
    "/analytics/dataElements",
    summary="Data element totals (CODE) or one option's (CODE.OPTION) for units × periods",
)
def get_element_values(
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    element: Annotated[str, Query(max_length=2000, description="CODE or CODE.OPTION, ','")],
    period: PeriodQuery,
    unit: UnitQuery = None,
    level: LevelQuery = None,
    parent: ParentQuery = None,
    approved_only: ApprovedQuery = False,
) -> dict[str, Any]:
    lang = language(principal, runtime)
    wanted = periods_of(period, runtime)
    rows = analytics.element_values(
        db,
        elements=codes(element),
        units=default_units(unit, level, principal),
        level=level,
        parent=parent or runtime.settings.province_code,
        periods=wanted,
        scope=principal.read_scope,
        include_unapproved=not approved_only,
        lang=lang,
    )
    return {
        "rows": [row.to_json() for row in rows],
        "metaData": {"periods": {p.code: p.label(lang) for p in wanted}},
    }


@router.get(
    "/outliers",
    summary="Values far from their unit's own history, highest score first",
    description="method `modified_z` (0.6745·|x − median| / MAD, default threshold 3.5) or `z` "
    "(|x − mean| / sd, default 3.0); each value is judged against up to 36 earlier values of "
    "the same unit, element and option, and only with at least 6 of them.",
)
def get_outliers(
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    period: PeriodQuery,
    element: Annotated[str | None, Query(max_length=2000)] = None,
    form: Annotated[str | None, Query(max_length=50)] = None,
    unit: Annotated[str | None, Query(max_length=32)] = None,
    method: outliers.Method = outliers.Method.MODIFIED_Z,
    threshold: Annotated[float | None, Query(gt=0, le=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    elements = _elements(db, codes(element), form)
    top = unit_by_code(db, unit or principal.unit_code)
    authorize(principal, "read", top.id, top.name)
    unit_ids = load_tree(db, [tree_unit(top)]).unit_ids
    scope = principal.read_scope
    if scope.unit_ids is not None:
        unit_ids &= scope.unit_ids
    found = outliers.find_outliers(
        db,
        elements=elements,
        unit_ids=unit_ids,
        periods=periods_of(period, runtime),
        method=method,
        threshold=threshold,
        limit=limit,
    )
    used = method.default_threshold if threshold is None else threshold
    return [
        {
            "element": o.element,
            "elementName": o.element_name,
            "option": o.option,
            "unit": o.unit,
            "unitName": o.unit_name,
            "period": o.period,
            "value": o.value,
            "score": round(o.score, 2),
            "mean": round(o.mean, 4),
            "median": o.median,
            "lower": round(o.lower, 4),
            "upper": round(o.upper, 4),
            "history": o.history,
            "method": method.value,
            "threshold": used,
        }
        for o in found
    ]


def _elements(db: Db, element_codes: list[str], form: str | None) -> list[DataElement]:
    if not element_codes and not form:
        raise InvalidInput("Give element codes or a form code.", code="missing_element")
    found = list(db.scalars(select(DataElement).where(DataElement.code.in_(element_codes))))
    unknown = sorted(set(element_codes) - {e.code for e in found})
    if unknown:
        raise InvalidInput(
            f"Unknown data element code(s): {', '.join(unknown)}.", code="unknown_data_element"
        )
    if form:
        report = db.scalar(select(ReportForm).where(ReportForm.code == form))
        if report is None:
            raise InvalidInput(f"Unknown report form code '{form}'.", code="unknown_form")
        known = {e.id for e in found}
        found += [item.element for item in report.elements if item.element_id not in known]
    return found
