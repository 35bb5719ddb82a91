"""The data hub's forms, for those who manage sources: a dataset's schema confirmed (the fields
inferred from its records, with label, type and role), and aggregates and reconciliations
declared over the datasets' fields.

Each form posts to a page route that calls the service functions the API calls
(``confirm_schema``, ``parse`` then ``save_aggregate`` / ``save_reconciliation``); a refused form
comes back as it was sent, with the error naming the key (``right.where[0].field: …``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from dieuhanh.core.access import Permission, Principal, require
from dieuhanh.core.errors import InvalidInput, NotFound
from dieuhanh.core.http.deps import Db
from dieuhanh.core.web.shell import PagePrincipal, check_form_csrf, render
from dieuhanh.datahub import forms
from dieuhanh.datahub.datasets import ROLES, TYPES, Field, confirm_schema, schema_for_confirming
from dieuhanh.datahub.figures import OPERATORS
from dieuhanh.datahub.models import DatasetAggregate, DatasetRecord, DatasetSchema, Reconciliation
from dieuhanh.datahub.reconcile import (
    AggregateSpec,
    ReconciliationSpec,
    parse,
    save_aggregate,
    save_reconciliation,
)
from dieuhanh.indicators.catalog.models import DataElement
from dieuhanh.indicators.catalog.periods import PeriodType

router = APIRouter(include_in_schema=False)


async def read_form(request: Request) -> FormData:
    return await request.form()


SentForm = Annotated[FormData, Depends(read_form)]


# --- A dataset's schema --------------------------------------------------------------------


@router.get("/datahub/datasets/{dataset}/schema", response_class=HTMLResponse)
def schema_form(
    dataset: str, request: Request, db: Db, principal: PagePrincipal, saved: bool = False
) -> Response:
    require(principal, Permission.MANAGE_SOURCES)
    return _schema_page(request, db, principal, dataset, sent=None, saved=saved)


@router.post("/datahub/datasets/{dataset}/schema", response_class=HTMLResponse)
def schema_submit(
    dataset: str, request: Request, db: Db, principal: PagePrincipal, form: SentForm
) -> Response:
    require(principal, Permission.MANAGE_SOURCES)
    check_form_csrf(principal, _csrf(form))
    sent = _sent_fields(form)
    try:
        confirm_schema(db, dataset, [field for field in sent if field["keep"]], principal)
        db.commit()
    except InvalidInput as exc:
        db.rollback()
        return _schema_page(request, db, principal, dataset, sent=sent, error=exc.message)
    return RedirectResponse(f"/datahub/datasets/{quote(dataset)}/schema?saved=1", 303)


def _sent_fields(form: FormData) -> list[dict[str, Any]]:
    """One row per field of the form, in its order; ``keep`` when its box is ticked."""
    kept = set(form.getlist("keep"))
    columns = [form.getlist(part) for part in ("name", "label", "type", "role")]
    return [
        {"name": str(name), "label": str(label).strip(), "type": str(kind), "role": str(role),
         "keep": name in kept}
        for name, label, kind, role in zip(*columns, strict=False)
    ]  # fmt: skip


def _schema_page(
    request: Request,
    db: Session,
    principal: Principal,
    dataset: str,
    *,
    sent: list[dict[str, Any]] | None,
    saved: bool = False,
    error: str | None = None,
) -> Response:
    fields, confirmed, rest = schema_for_confirming(db, dataset)
    if not fields and confirmed is None:
        raise NotFound(f"No dataset '{dataset}': no record was stored in it.", code="not_found")
    rows = [_row(field, keep=True) for field in fields] + [
        _row(field, keep=confirmed is None) for field in rest
    ]
    if sent is not None:  # a refused form: shown as it was sent
        by_name = {row["name"]: row for row in rows}
        rows = [{**by_name.get(item["name"], _row(None, keep=False)), **item} for item in sent]
    return render(
        request,
        "datahub/schema.html",
        principal,
        status_code=422 if error else 200,
        dataset=dataset,
        rows=rows,
        confirmed=confirmed,
        types=TYPES,
        roles=ROLES,
        saved=saved,
        error=error,
    )


def _row(field: Field | None, *, keep: bool) -> dict[str, Any]:
    if field is None:
        return {"filled": 0.0, "examples": [], "type": "text", "role": "attribute", "label": ""}
    return {"name": field.name, "type": field.type, "filled": field.filled,
            "examples": field.examples, "label": field.label or "", "role": field.role,
            "keep": keep}  # fmt: skip


# --- Aggregates and reconciliations ----------------------------------------------------------


@dataclass(frozen=True)
class Declaration:
    """What the aggregate and reconciliation forms differ by; the routes are the same."""

    model: type[DatasetAggregate] | type[Reconciliation]
    spec: type[AggregateSpec] | type[ReconciliationSpec]
    save: Callable[[Session, Any], DatasetAggregate | Reconciliation]
    values_of_form: Callable[[FormData], forms.Values]
    values_of_row: Callable[[Any], forms.Values]
    body: Callable[[forms.Values], forms.Values]
    blank: Callable[[str | None], forms.Values]


DECLARATIONS = {
    "aggregate": Declaration(
        DatasetAggregate, AggregateSpec, save_aggregate, forms.aggregate_values,
        forms.aggregate_of, lambda values: values,
        lambda dataset: {"periods": "LAST_12_MONTHS", "figure": {"dataset": dataset}},
    ),
    "reconciliation": Declaration(
        Reconciliation, ReconciliationSpec, save_reconciliation, forms.reconciliation_values,
        forms.reconciliation_of, forms.reconciliation_body,
        lambda dataset: {"periods": "LAST_12_MONTHS", "left": {"element": ""},
                         "right": {"dataset": dataset}},
    ),
}  # fmt: skip


@router.get("/datahub/declare/{kind}", response_class=HTMLResponse)
def declaration_form(
    kind: str,
    request: Request,
    db: Db,
    principal: PagePrincipal,
    code: str = "",
    dataset: str = "",
) -> Response:
    """A new declaration (over ``dataset`` when given), or the one named ``code`` to change."""
    require(principal, Permission.MANAGE_SOURCES)
    declaration = _declaration(kind)
    if not code:
        values = declaration.blank(dataset or None)
        return _declaration_page(request, db, principal, kind, values, new=True)
    row = _find(db, declaration, code)
    if row is None:
        raise NotFound(f"No {kind} '{code}'.", code="not_found")
    return _declaration_page(request, db, principal, kind, declaration.values_of_row(row))


@router.post("/datahub/declare/{kind}", response_class=HTMLResponse)
def declaration_submit(
    kind: str, request: Request, db: Db, principal: PagePrincipal, form: SentForm
) -> Response:
    require(principal, Permission.MANAGE_SOURCES)
    check_form_csrf(principal, _csrf(form))
    declaration = _declaration(kind)
    values = declaration.values_of_form(form)
    try:
        row = declaration.save(db, parse(declaration.spec, declaration.body(values)))
        db.commit()
    except InvalidInput as exc:
        db.rollback()
        return _declaration_page(request, db, principal, kind, values, error=exc.message)
    return RedirectResponse(f"/datahub/reconciliations?saved={quote(row.code)}#{kind}s", 303)


def _declaration(kind: str) -> Declaration:
    if kind not in DECLARATIONS:
        raise NotFound(f"Nothing to declare as '{kind}'.", code="not_found")
    return DECLARATIONS[kind]


@dataclass
class DatasetChoice:
    name: str
    fields: list[Field]
    unit_field: str | None
    period_field: str | None


def _find(db: Session, declaration: Declaration, code: Any) -> Any:
    model = declaration.model
    return db.scalar(select(model).where(model.code == code)) if isinstance(code, str) else None


def _declaration_page(
    request: Request,
    db: Session,
    principal: Principal,
    kind: str,
    values: forms.Values,
    *,
    new: bool = False,
    error: str | None = None,
) -> Response:
    datasets = _dataset_choices(db)
    if new:
        for side in ("figure", "left", "right"):
            _default_date_field(values.get(side), datasets)
    return render(
        request,
        f"datahub/declare_{kind}.html",
        principal,
        status_code=422 if error else 200,
        values=values,
        existing=_find(db, DECLARATIONS[kind], values.get("code")) is not None,
        datasets=datasets,
        elements=db.execute(select(DataElement.code, DataElement.name).order_by(DataElement.code)),
        period_types=[period_type.value for period_type in PeriodType],
        operators=OPERATORS,
        condition_rows=forms.CONDITION_ROWS,
        error=error,
    )


def _dataset_choices(db: Session) -> list[DatasetChoice]:
    names = set(db.scalars(select(DatasetRecord.dataset).distinct()))
    names |= set(db.scalars(select(DatasetSchema.dataset)))
    choices = []
    for name in sorted(names):
        fields, _, rest = schema_for_confirming(db, name)
        every = fields + rest
        choices.append(
            DatasetChoice(name, every, _with_role(every, "unit"), _with_role(every, "period"))
        )
    return choices


def _with_role(fields: list[Field], role: str) -> str | None:
    return next((field.name for field in fields if field.role == role), None)


def _default_date_field(figure: Any, datasets: list[DatasetChoice]) -> None:
    """A new dataset figure is dated by the field confirmed (or guessed) as the period's."""
    if not isinstance(figure, dict) or "element" in figure:
        return
    if not figure.get("dataset") and datasets:
        figure["dataset"] = datasets[0].name
    chosen = next((d for d in datasets if d.name == figure.get("dataset")), None)
    if chosen is not None and not figure.get("date_field") and chosen.period_field:
        figure["date_field"] = chosen.period_field


def _csrf(form: FormData) -> str:
    token = form.get("csrf_token")
    return token if isinstance(token, str) else ""
