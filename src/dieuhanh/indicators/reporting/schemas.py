"""The JSON (and YAML) shapes of report forms, validation rules, completions and approvals."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from dieuhanh.indicators.catalog.form_models import (
    Importance,
    MissingValueStrategy,
    Operator,
    ReportForm,
    ValidationRule,
)
from dieuhanh.indicators.catalog.periods import PeriodType
from dieuhanh.indicators.catalog.schemas import CamelModel, Code


class FormElementIn(CamelModel):
    code: Code
    section: str | None = Field(default=None, max_length=200)


class FormIn(CamelModel):
    code: Code | None = None
    name: str = Field(min_length=1, max_length=230)
    description: str | None = Field(default=None, max_length=5000)
    domain: str | None = Field(default=None, max_length=40)
    period_type: PeriodType = PeriodType.MONTHLY
    timely_days: int = Field(
        default=2, ge=0, le=366, description="On time if completed within N days after the period"
    )
    expiry_days: int | None = Field(
        default=None, ge=0, le=3660, description="Entry closes N days after the period; null: never"
    )
    approval_required: bool = False
    hide_unapproved: bool = False
    elements: list[Code | FormElementIn] = Field(default_factory=list, max_length=5000)
    units: list[str] = Field(
        default_factory=list,
        max_length=5000,
        description="Unit codes; also @communes (every commune/ward of the province), "
        "@departments, @province",
    )

    def element_entries(self) -> list[FormElementIn]:
        return [FormElementIn(code=e) if isinstance(e, str) else e for e in self.elements]


class FormOut(CamelModel):
    model_config = ConfigDict(extra="ignore")

    code: str
    name: str
    description: str | None
    domain: str | None
    period_type: str
    timely_days: int
    expiry_days: int | None
    approval_required: bool
    hide_unapproved: bool
    elements: list[FormElementIn]
    units: list[str]

    @classmethod
    def of(cls, form: ReportForm, unit_codes: dict[int, str]) -> FormOut:
        return cls(
            code=form.code,
            name=form.name,
            description=form.description,
            domain=form.domain,
            period_type=form.period_type,
            timely_days=form.timely_days,
            expiry_days=form.expiry_days,
            approval_required=form.approval_required,
            hide_unapproved=form.hide_unapproved,
            elements=[FormElementIn(code=e.element.code, section=e.section) for e in form.elements],
            units=sorted(unit_codes[u.unit_id] for u in form.units if u.unit_id in unit_codes),
        )


class ValidationRuleIn(CamelModel):
    code: Code | None = None
    name: str = Field(min_length=1, max_length=230)
    instruction: str | None = Field(default=None, max_length=5000)
    left: str = Field(min_length=1, max_length=10_000)
    operator: Operator
    right: str = Field(min_length=1, max_length=10_000)
    missing_value_strategy: MissingValueStrategy = MissingValueStrategy.SKIP_IF_ANY_MISSING
    importance: Importance = Importance.MEDIUM
    form: str | None = Field(default=None, max_length=50, description="Report form code")
    period_type: PeriodType | None = None


class ValidationRuleOut(ValidationRuleIn):
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def of(cls, rule: ValidationRule, form_codes: dict[int, str]) -> ValidationRuleOut:
        return cls(
            code=rule.code,
            name=rule.name,
            instruction=rule.instruction,
            left=rule.left,
            operator=Operator(rule.operator),
            right=rule.right,
            missing_value_strategy=MissingValueStrategy(rule.missing_value_strategy),
            importance=Importance(rule.importance),
            form=form_codes.get(rule.form_id) if rule.form_id else None,
            period_type=PeriodType(rule.period_type) if rule.period_type else None,
        )


class UnitPeriodIn(CamelModel):
    unit: str = Field(min_length=1, max_length=32, description="Unit code")
    period: str = Field(min_length=1, max_length=12, description="Period code, e.g. 202603")


class ExceptionIn(CamelModel):
    unit: str | None = Field(default=None, max_length=32, description="Unit code; null: all units")
    period: str = Field(min_length=1, max_length=12)
    open_until: datetime = Field(description="With a time zone, e.g. 2026-04-20T23:59:00+07:00")
    reason: str = Field(min_length=1, max_length=500)


class CompletionOut(CamelModel):
    form: str
    unit: str
    period: str
    complete: bool
    completed_at: datetime | None = None
    completed_by: str | None = None
    on_time: bool | None = None
    approved: bool = False
    approved_by: str | None = None
    approved_at: datetime | None = None
    entry_open: bool = True
    entry_closed_reason: str | None = None
    entry_closes_at: datetime | None = None


class ExceptionOut(CamelModel):
    form: str
    unit: str | None
    period: str
    open_until: datetime
    reason: str
    granted_by: str
    granted_at: datetime
