"""HTTP API of the indicator metadata (DHIS2-like names: dataElements, indicators, constants).

Codes are the identifiers in URLs and bodies. Reading needs a login; changing needs the
``configure_indicators`` permission.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Response
from sqlalchemy import select

from dieuhanh.core.access import Permission, require
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.analytics import national
from dieuhanh.indicators.catalog import metadata
from dieuhanh.indicators.catalog.models import Constant, DataElement, Disaggregation, Indicator
from dieuhanh.indicators.catalog.periods import PeriodError, parse_period
from dieuhanh.indicators.catalog.schemas import (
    CamelModel,
    ConstantIn,
    ConstantOut,
    DataElementIn,
    DataElementOut,
    DisaggregationIn,
    DisaggregationOut,
    IndicatorIn,
    IndicatorOut,
)

router = api_router("indicators")
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Domain = Annotated[str | None, Query(max_length=40, description="e.g. public_services")]


def _code_of(path_code: str, body_code: str | None) -> None:
    if body_code is not None and body_code != path_code:
        raise InvalidInput(
            f"The body's code '{body_code}' differs from the URL's '{path_code}'; codes do not "
            "change (create a new record instead).",
            code="code_mismatch",
        )


def _new_code(code: str | None) -> str:
    if not code:
        raise InvalidInput("code is required.", code="missing_code")
    return code


@router.get("/disaggregations", response_model=list[DisaggregationOut], summary="Disaggregations")
def list_disaggregations(db: Db) -> list[DisaggregationOut]:
    items = db.scalars(select(Disaggregation).order_by(Disaggregation.code))
    return [DisaggregationOut.of(item) for item in items]


@router.post(
    "/disaggregations",
    response_model=DisaggregationOut,
    status_code=201,
    summary="Create a disaggregation (e.g. CHANNEL: ONLINE, IN_PERSON)",
)
def create_disaggregation(
    body: DisaggregationIn, db: Db, principal: CurrentPrincipal
) -> DisaggregationOut:
    require(principal, Permission.CONFIGURE_INDICATORS)
    metadata.ensure_new(db, Disaggregation, body.code, "disaggregation", "/api/v1/disaggregations")
    item = metadata.save_disaggregation(db, body)
    db.commit()
    return DisaggregationOut.of(item)


@router.get("/dataElements", response_model=list[DataElementOut], summary="Data elements")
def list_elements(db: Db, domain: Domain = None) -> list[DataElementOut]:
    statement = select(DataElement).order_by(DataElement.code)
    if domain:
        statement = statement.where(DataElement.domain == domain)
    return [DataElementOut.of(element) for element in db.scalars(statement)]


@router.post(
    "/dataElements", response_model=DataElementOut, status_code=201, summary="Create an element"
)
def create_element(body: DataElementIn, db: Db, principal: CurrentPrincipal) -> DataElementOut:
    require(principal, Permission.CONFIGURE_INDICATORS)
    code = _new_code(body.code)
    metadata.ensure_new(db, DataElement, code, "data element", "/api/v1/dataElements")
    element = metadata.save_element(db, body)
    db.commit()
    return DataElementOut.of(element)


@router.get("/dataElements/{code}", response_model=DataElementOut, summary="One data element")
def read_element(code: str, db: Db) -> DataElementOut:
    return DataElementOut.of(metadata.by_code(db, DataElement, code, "data element"))


@router.put(
    "/dataElements/{code}",
    response_model=DataElementOut,
    summary="Change a data element (its type and disaggregation are fixed once it has values)",
)
def update_element(
    code: str, body: DataElementIn, db: Db, principal: CurrentPrincipal
) -> DataElementOut:
    require(principal, Permission.CONFIGURE_INDICATORS)
    _code_of(code, body.code)
    element = metadata.save_element(
        db, body, metadata.by_code(db, DataElement, code, "data element")
    )
    db.commit()
    return DataElementOut.of(element)


@router.get("/indicators", response_model=list[IndicatorOut], summary="Indicators")
def list_indicators(db: Db, domain: Domain = None) -> list[IndicatorOut]:
    statement = select(Indicator).order_by(Indicator.code)
    if domain:
        statement = statement.where(Indicator.domain == domain)
    return [IndicatorOut.of(indicator) for indicator in db.scalars(statement)]


@router.post(
    "/indicators",
    response_model=IndicatorOut,
    status_code=201,
    summary="Create an indicator",
    description="numerator and denominator are expressions (#{ELEMENT}, #{ELEMENT.OPTION}, "
    "C{CONSTANT}, N{INDICATOR}, R{FORM.REPORTING_RATE}, .periodOffset(-12), …). A formula "
    "that does not parse, names an unknown code or makes a cycle is refused with 422 naming "
    "the formula and the position.",
)
def create_indicator(body: IndicatorIn, db: Db, principal: CurrentPrincipal) -> IndicatorOut:
    require(principal, Permission.CONFIGURE_INDICATORS)
    code = _new_code(body.code)
    metadata.ensure_new(db, Indicator, code, "indicator", "/api/v1/indicators")
    indicator = metadata.save_indicator(db, body)
    db.commit()
    return IndicatorOut.of(indicator)


@router.get("/indicators/{code}", response_model=IndicatorOut, summary="One indicator")
def read_indicator(code: str, db: Db) -> IndicatorOut:
    return IndicatorOut.of(metadata.by_code(db, Indicator, code, "indicator"))


@router.put("/indicators/{code}", response_model=IndicatorOut, summary="Change an indicator")
def update_indicator(
    code: str, body: IndicatorIn, db: Db, principal: CurrentPrincipal
) -> IndicatorOut:
    require(principal, Permission.CONFIGURE_INDICATORS)
    _code_of(code, body.code)
    existing = metadata.by_code(db, Indicator, code, "indicator")
    indicator = metadata.save_indicator(db, body, existing)
    db.commit()
    return IndicatorOut.of(indicator)


@router.get("/constants", response_model=list[ConstantOut], summary="Constants")
def list_constants(db: Db) -> list[ConstantOut]:
    return [ConstantOut.of(c) for c in db.scalars(select(Constant).order_by(Constant.code))]


@router.post("/constants", response_model=ConstantOut, status_code=201, summary="Create a constant")
def create_constant(body: ConstantIn, db: Db, principal: CurrentPrincipal) -> ConstantOut:
    require(principal, Permission.CONFIGURE_INDICATORS)
    code = _new_code(body.code)
    metadata.ensure_new(db, Constant, code, "constant", "/api/v1/constants")
    constant = metadata.save_constant(db, body)
    db.commit()
    return ConstantOut.of(constant)


@router.put("/constants/{code}", response_model=ConstantOut, summary="Change a constant")
def update_constant(
    code: str, body: ConstantIn, db: Db, principal: CurrentPrincipal
) -> ConstantOut:
    require(principal, Permission.CONFIGURE_INDICATORS)
    _code_of(code, body.code)
    constant = metadata.save_constant(db, body, metadata.by_code(db, Constant, code, "constant"))
    db.commit()
    return ConstantOut.of(constant)


@router.put(
    "/disaggregations/{code}",
    response_model=DisaggregationOut,
    summary="Change a disaggregation's name and options",
)
def update_disaggregation(
    code: str, body: DisaggregationIn, db: Db, principal: CurrentPrincipal
) -> DisaggregationOut:
    require(principal, Permission.CONFIGURE_INDICATORS)
    _code_of(code, body.code)
    existing = metadata.by_code(db, Disaggregation, code, "disaggregation")
    item = metadata.save_disaggregation(db, body, existing)
    db.commit()
    return DisaggregationOut.of(item)


class NationalRowOut(CamelModel):
    number: str
    indicator: str
    name: str
    unit_of_measure: str | None
    value: float | None
    same_month_last_year: float | None
    year_to_date: float | None
    year_to_date_last_year: float | None


class NationalReportOut(CamelModel):
    period: str
    period_name: str
    unit: str
    unit_name: str
    rows: list[NationalRowOut]


@router.get(
    "/reports/national-monthly",
    response_model=NationalReportOut,
    summary="The monthly national report: 8 socio-economic indicators (Government Office)",
    description="Each indicator's value for the month, the same month last year and the year "
    "to date, for the province, in the order of Official Letter 7798/VPCP-KSTT. "
    "`format=csv` gives the same as CSV with Vietnamese column names.",
    responses={200: {"content": {"text/csv": {}}}},
)
def national_report(
    db: Db,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    period: Annotated[str, Query(max_length=12, description="A month, e.g. 202603")],
    format: Literal["json", "csv"] = "json",
) -> NationalReportOut | Response:
    try:
        month = parse_period(period)
    except PeriodError as exc:
        raise InvalidInput(str(exc), code="invalid_period") from None
    report = national.national_monthly(
        db, month, runtime.settings.province_code, principal.read_scope, utcnow()
    )
    if format == "csv":
        return Response(
            national.as_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="bao-cao-8-chi-tieu-{month.code}.csv"'
            },
        )
    return NationalReportOut(
        period=month.code,
        period_name=month.label("vi"),
        unit=report.unit,
        unit_name=report.unit_name,
        rows=[NationalRowOut(**vars(row)) for row in report.rows],
    )
