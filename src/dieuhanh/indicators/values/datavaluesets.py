"""DHIS2 dataValueSets import and export (issue 5): files in, values through the one write path
(:func:`dieuhanh.indicators.values.save.save_values`), and values out in the same shape, so that an
export imported again gives the same values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dieuhanh.core.access import Permission, Principal, authorize
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import DieuhanhError, InvalidInput
from dieuhanh.indicators.catalog.catalog import Catalog
from dieuhanh.indicators.catalog.form_models import ReportForm, ReportFormElement
from dieuhanh.indicators.catalog.models import DataElement, DataValue, Source, in_period_codes
from dieuhanh.indicators.values.dvsformat import (
    ExportRow,
    Input,
    ParsedSet,
    complete_moment,
    parse_csv,
    parse_json,
)
from dieuhanh.indicators.values.hooks import reporting_of
from dieuhanh.indicators.values.save import ImportSummary, Strategy, ValueConflict, save_values
from dieuhanh.units.models import Unit
from dieuhanh.units.service import find_unit

Format = Literal["json", "csv"]


def import_data_value_set(
    session: Session,
    principal: Principal | None,
    data: Input,
    *,
    fmt: Format,
    filename: str | None = None,
    source: str = Source.IMPORT,
    source_detail: str | None = None,
    dry_run: bool = False,
    strategy: str = Strategy.CREATE_AND_UPDATE,
    data_set: str | None = None,
    now: datetime | None = None,
) -> ImportSummary:
    """Import a JSON or CSV dataValueSet (bytes or a binary file, read as a stream); the caller
    commits. A file that cannot be read at all (encoding, not JSON, broken further on) raises
    InvalidInput and stores nothing; bad rows are conflicts."""
    now = now or utcnow()
    name = filename or f"dataValueSet.{fmt}"
    parsed = parse_json(data, name) if fmt == "json" else parse_csv(data, name)
    form_code = data_set or parsed.data_set
    form = _form(session, form_code) if form_code else None
    # The rows are stored as they are read: a file found broken half-way takes back what its
    # first half stored.
    with parsed, session.begin_nested():
        summary = save_values(
            session,
            principal,
            parsed.rows,
            source=source,
            source_detail=source_detail or filename,
            dry_run=dry_run,
            strategy=strategy,
            form=form,
            now=now,
            catalog=Catalog.load(session),
        )
    summary.conflicts = sorted(parsed.conflicts + summary.conflicts, key=lambda c: c.row)
    summary.notes.extend(parsed.notes)
    if form is not None and parsed.complete_date and not dry_run:
        _complete(session, principal, form, parsed, summary, now)
    return summary


def _form(session: Session, code: str) -> ReportForm:
    form = session.scalar(select(ReportForm).where(ReportForm.code == code))
    if form is None:
        raise InvalidInput(f"dataSet: unknown report form '{code}'.", code="unknown_data_set")
    return form


def _complete(
    session: Session,
    principal: Principal | None,
    form: ReportForm,
    parsed: ParsedSet,
    summary: ImportSummary,
    now: datetime,
) -> None:
    """completeDate marks the form complete for the set's unit and period (or each pair the rows
    name). Only the province (or the system) may date a completion in the past: a unit's own
    import is complete when it arrives, so timeliness cannot be claimed after the fact."""
    given = complete_moment(parsed.complete_date)
    trusted = principal is None or principal.can(Permission.APPROVE_REPORTS)
    moment = min(given, now) if given and trusted else now
    if parsed.org_unit and parsed.period:
        pairs = [(parsed.org_unit, parsed.period)]
    else:
        pairs = list(parsed.pairs)
    reporting = reporting_of(session)
    for unit_code, period_code in pairs:
        try:
            reporting.complete(session, principal, form, unit_code, period_code, moment)
        except DieuhanhError as exc:
            summary.conflicts.append(
                ValueConflict(0, form.code, "completeDate", f"{unit_code} {period_code}",
                              exc.message, exc.code)
            )  # fmt: skip


@dataclass(frozen=True)
class ExportQuery:
    data_set: str | None = None
    elements: list[str] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    start: date | None = None
    end: date | None = None
    units: list[str] = field(default_factory=list)
    children: bool = False


def export_statement(session: Session, principal: Principal, query: ExportQuery) -> Select[Any]:
    """The values asked for, within the caller's read scope; InvalidInput if the question is
    incomplete, Forbidden if a named unit is out of scope."""
    element_ids = _export_elements(session, query)
    statement = (
        select(DataValue, DataElement.code, Unit.code)
        .join(DataElement, DataElement.id == DataValue.element_id)
        .join(Unit, Unit.id == DataValue.unit_id)
        .where(DataValue.element_id.in_(element_ids))
        .where(principal.read_scope.where(DataValue.unit_id))
    )
    if query.periods:
        statement = statement.where(in_period_codes(query.periods))
    elif query.start and query.end:
        statement = statement.where(
            DataValue.period_start >= query.start, DataValue.period_end <= query.end
        )
    else:
        raise InvalidInput(
            "Give period=202603 (one or more) or startDate and endDate.", code="missing_period"
        )
    if query.units:
        statement = statement.where(DataValue.unit_id.in_(_export_units(session, principal, query)))
    return cast("Select[Any]", statement).order_by(
        Unit.code, DataValue.period_start, DataValue.period_code, DataElement.code, DataValue.option
    )


def _export_elements(session: Session, query: ExportQuery) -> list[int]:
    ids: list[int] = []
    if query.data_set:
        form = _form(session, query.data_set)
        ids += session.scalars(
            select(ReportFormElement.element_id).where(ReportFormElement.form_id == form.id)
        )
    if query.elements:
        statement = select(DataElement.code, DataElement.id).where(
            DataElement.code.in_(query.elements)
        )
        found = {code: element_id for code, element_id in session.execute(statement)}
        unknown = [code for code in query.elements if code not in found]
        if unknown:
            raise InvalidInput(
                f"Unknown data element(s): {', '.join(unknown)}.", code="unknown_element"
            )
        ids += found.values()
    if not query.data_set and not query.elements:
        raise InvalidInput("Give dataSet=FORM or dataElement=CODE.", code="missing_data_set")
    return ids


def _export_units(session: Session, principal: Principal, query: ExportQuery) -> list[int]:
    catalog = Catalog.load(session) if query.children else None
    ids: set[int] = set()
    for code in query.units:
        unit = find_unit(session, code)
        if unit is None:
            raise InvalidInput(f"orgUnit: unknown unit '{code}'.", code="unknown_unit")
        authorize(principal, "read", unit.id, unit.name)
        ids |= catalog.subtree(unit.id) if catalog else {unit.id}
    return sorted(ids)


def export_rows(session: Session, statement: Select[Any]) -> Iterator[ExportRow]:
    result = session.execute(statement.execution_options(yield_per=2000))
    for row in result:
        value, element_code, unit_code = row[0], row[1], row[2]
        yield ExportRow(
            element=element_code,
            period=value.period_code,
            unit=unit_code,
            option=value.option,
            value=value.value,
            comment=value.comment,
            stored_by=value.stored_by,
            created=value.created_at,
            last_updated=value.updated_at,
        )
