"""The data hub's declaration forms as plain data.

An HTML form's fields become the very declaration the API takes (``POST /api/v1/aggregates``,
``/reconciliations``), so the same ``parse`` and ``save_*`` functions check and store it; a
stored declaration becomes the form's values again to change it. The values keep what the person
typed, so a refused form is shown again as it was sent, with the error. Aggregates and
reconciliations share the figure's part (``figure.*``, ``left.*``, ``right.*``).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from dieuhanh.core.errors import InvalidInput
from dieuhanh.datahub.models import DatasetAggregate, Reconciliation

Values = dict[str, Any]
CONDITION_ROWS = 3  # blank condition rows offered; more are added by sending the form again
NO_VALUE = ("empty", "not_empty")
_NUMBER = re.compile(r"-?\d+([.,]\d+)?")


def aggregate_values(form: FormData) -> Values:
    return _compact(
        {
            **_common(form),
            "element": _text(form, "element"),
            "option": _text(form, "option"),
            "figure": figure_values(form, "figure", dataset_only=True),
        }
    )


def reconciliation_values(form: FormData) -> Values:
    return _compact(
        {
            **_common(form),
            "left": figure_values(form, "left"),
            "right": figure_values(form, "right"),
            "tolerance_absolute": _text(form, "tolerance_absolute"),
            "tolerance_percent": _text(form, "tolerance_percent"),
        }
    )


def figure_values(form: FormData, prefix: str, *, dataset_only: bool = False) -> Values:
    """One figure: an element's stored values, or a dataset counted or summed."""
    kind = "dataset" if dataset_only else _text(form, f"{prefix}.kind")
    if kind == "element":
        # kept when blank, so that the error names the missing element rather than the kind
        return {"element": _text(form, f"{prefix}.element"), **_compact(
            {"option": _text(form, f"{prefix}.option")})}  # fmt: skip
    measure = _text(form, f"{prefix}.measure") or "count"
    if measure == "sum":
        measure = f"sum:{_text(form, f'{prefix}.sum_field')}"
    return _compact(
        {
            "dataset": _text(form, f"{prefix}.dataset"),
            "date_field": _text(form, f"{prefix}.date_field"),
            "period_type": _text(form, f"{prefix}.period_type"),
            "measure": measure,
            "where": _conditions(form, prefix),
        }
    )


def reconciliation_body(values: Values) -> Values:
    """The declaration the API takes: the tolerances as numbers, the relative one a fraction
    (the form asks for a percentage, as people say it)."""
    body = {key: value for key, value in values.items() if key != "tolerance_percent"}
    body["tolerance_absolute"] = _number(values.get("tolerance_absolute"), "tolerance_absolute")
    percent = _number(values.get("tolerance_percent"), "tolerance_relative")
    if not 0 <= percent <= 100:
        raise InvalidInput(
            f"tolerance_relative: {values['tolerance_percent']} % is not a percentage from 0 "
            "to 100",
            code="invalid_definition",
        )
    body["tolerance_relative"] = percent / 100
    return body


def aggregate_of(row: DatasetAggregate) -> Values:
    return _compact(
        {"code": row.code, "name": row.name, "periods": row.periods, "element": row.element,
         "option": row.option, "figure": dict(row.figure)}
    )  # fmt: skip


def reconciliation_of(row: Reconciliation) -> Values:
    return {
        "code": row.code, "name": row.name, "periods": row.periods,
        "left": dict(row.left), "right": dict(row.right),
        "tolerance_absolute": f"{row.tolerance_absolute:g}",
        "tolerance_percent": f"{row.tolerance_relative * 100:g}",
    }  # fmt: skip


def _common(form: FormData) -> Values:
    return {key: _text(form, key) for key in ("code", "name", "periods")}


def _conditions(form: FormData, prefix: str) -> list[Values]:
    columns = [
        form.getlist(f"{prefix}.where_{part}") for part in ("field", "op", "value", "other_field")
    ]
    conditions = []
    for field, op, value, other in zip(*columns, strict=False):
        if not str(field).strip():
            continue  # a blank row
        condition: Values = {"field": str(field).strip(), "op": str(op)}
        if str(other).strip():
            condition["other_field"] = str(other).strip()
        elif op not in NO_VALUE:
            condition["value"] = str(value).strip()
        conditions.append(condition)
    return conditions


def _number(text: Any, key: str) -> float:
    """``1,5`` or ``1.5``; blank is zero."""
    text = str(text or "0").strip()
    if not _NUMBER.fullmatch(text):
        raise InvalidInput(f"{key}: '{text}' is not a number", code="invalid_definition")
    return float(text.replace(",", "."))


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _compact(values: Values) -> Values:
    """Blank optional fields are left out, as the API's declarations leave them out."""
    return {key: value for key, value in values.items() if value not in ("", None, [])}
