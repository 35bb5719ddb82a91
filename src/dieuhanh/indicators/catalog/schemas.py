"""The JSON (and YAML) shapes of the indicator metadata: camelCase field names, as DHIS2's API.

The same models validate API bodies and the shipped configuration files, so a key misspelt in a
YAML file is refused exactly as in a request (``extra="forbid"``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from dieuhanh.indicators.catalog.models import (
    AggregationType,
    Constant,
    DataElement,
    Direction,
    Disaggregation,
    Indicator,
    ValueType,
)

CODE_PATTERN = r"^[A-Za-z0-9_\-]{1,50}$"
Code = Annotated[str, Field(pattern=CODE_PATTERN, description="1 to 50 of A-Z a-z 0-9 _ -")]


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class OptionIn(CamelModel):
    code: Code
    name: str = Field(min_length=1, max_length=230)


class DisaggregationIn(CamelModel):
    code: Code
    name: str = Field(min_length=1, max_length=230)
    options: list[OptionIn] = Field(min_length=1, max_length=200)


class DisaggregationOut(DisaggregationIn):
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def of(cls, item: Disaggregation) -> DisaggregationOut:
        return cls(
            code=item.code,
            name=item.name,
            options=[OptionIn(code=o.code, name=o.name) for o in item.options],
        )


class DataElementIn(CamelModel):
    code: Code | None = None
    name: str = Field(min_length=1, max_length=230)
    short_name: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=5000)
    value_type: ValueType = ValueType.NUMBER
    unit_of_measure: str | None = Field(default=None, max_length=50)
    aggregation_type: AggregationType = AggregationType.SUM
    domain: str | None = Field(default=None, max_length=40)
    disaggregation: str | None = Field(
        default=None, max_length=50, description="Code of a disaggregation (e.g. CHANNEL)"
    )
    zero_is_significant: bool = True


class DataElementOut(DataElementIn):
    model_config = ConfigDict(extra="ignore")
    code: str | None = None

    @classmethod
    def of(cls, element: DataElement) -> DataElementOut:
        return cls(
            code=element.code,
            name=element.name,
            short_name=element.short_name,
            description=element.description,
            value_type=ValueType(element.value_type),
            unit_of_measure=element.unit_of_measure,
            aggregation_type=AggregationType(element.aggregation_type),
            domain=element.domain,
            disaggregation=element.disaggregation.code if element.disaggregation else None,
            zero_is_significant=element.zero_is_significant,
        )


class ConstantIn(CamelModel):
    code: Code | None = None
    name: str = Field(min_length=1, max_length=230)
    value: float


class ConstantOut(ConstantIn):
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def of(cls, constant: Constant) -> ConstantOut:
        return cls(code=constant.code, name=constant.name, value=constant.value)


class LegendBand(CamelModel):
    start: float | None = Field(default=None, description="Inclusive; null: no lower bound")
    end: float | None = Field(default=None, description="Exclusive; null: no upper bound")
    color: Literal["green", "yellow", "red"]
    label: str = Field(default="", max_length=100)


class IndicatorIn(CamelModel):
    code: Code | None = None
    name: str = Field(min_length=1, max_length=230)
    numerator: str = Field(min_length=1, max_length=10_000, examples=["#{DOSSIERS_OVERDUE}"])
    denominator: str = Field(default="1", min_length=1, max_length=10_000)
    factor: float = Field(default=1.0, description="100 for a percentage, 1 for a count")
    decimals: int = Field(default=1, ge=0, le=6)
    direction: Direction = Direction.HIGHER_IS_BETTER
    target: float | None = None
    legend: list[LegendBand] | None = Field(default=None, max_length=10)
    domain: str | None = Field(default=None, max_length=40)
    unit_of_measure: str | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=5000)

    def legend_json(self) -> list[dict[str, Any]] | None:
        if self.legend is None:
            return None
        return [band.model_dump() for band in self.legend]


class IndicatorOut(IndicatorIn):
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def of(cls, indicator: Indicator) -> IndicatorOut:
        return cls(
            code=indicator.code,
            name=indicator.name,
            numerator=indicator.numerator,
            denominator=indicator.denominator,
            factor=indicator.factor,
            decimals=indicator.decimals,
            direction=Direction(indicator.direction),
            target=indicator.target,
            legend=[LegendBand(**band) for band in indicator.legend] if indicator.legend else None,
            domain=indicator.domain,
            unit_of_measure=indicator.unit_of_measure,
            description=indicator.description,
        )


class DataValueIn(CamelModel):
    """One value, as the entry page saves it (DHIS2's /dataValues parameters, in a body)."""

    de: str = Field(min_length=1, max_length=50, description="Data element code")
    pe: str = Field(min_length=1, max_length=12, description="Period code, e.g. 202603")
    ou: str = Field(min_length=1, max_length=32, description="Unit code")
    co: str | None = Field(default=None, max_length=50, description="Disaggregation option")
    value: str | None = Field(default=None, max_length=50_000, description="Empty deletes")
    comment: str | None = Field(default=None, max_length=500)


class DataValueOut(CamelModel):
    data_element: str
    period: str
    org_unit: str
    category_option_combo: str | None
    value: str | None
    comment: str | None
    stored_by: str | None
    last_updated: str | None
    history_count: int


class ChangeOut(CamelModel):
    action: str
    old_value: str | None
    new_value: str | None
    source: str
    source_detail: str | None
    changed_by: str
    changed_at: str
