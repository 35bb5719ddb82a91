"""The one write path of data values: form entry, dataValueSets imports and connectors.

Every row is checked (codes, period, type, scope, entry window, approval); a bad row becomes a
conflict naming what is wrong and changes nothing, good rows are stored. Every create, update and
delete leaves a DataValueChange; values that do not change are "ignored" and leave nothing.

Built for imports of millions of values (the benchmark loads 20 million): rows are handled in
batches of :data:`BATCH`; codes come from dictionaries loaded once (:class:`Catalog`); the stored
values of a batch are fetched with one query and written with Core executemany, history likewise
(:mod:`.valuestore`); one audit-log entry summarises an import instead of one
per value. Values typed on the entry page (source ``form``) leave no audit entry: their history is
complete in data_value_changes and one audit row per keystroke-save would bury other changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Dialect, Row
from sqlalchemy.orm import Session

from dieuhanh.core.access import Principal, Scope
from dieuhanh.core.collector import older_objects_frozen
from dieuhanh.core.db.actor import get_actor
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import publish
from dieuhanh.indicators.catalog.catalog import Catalog, ElementInfo, option_code
from dieuhanh.indicators.catalog.form_models import ReportForm
from dieuhanh.indicators.catalog.models import Source
from dieuhanh.indicators.catalog.periods import Period, PeriodError, PeriodType, parse_period
from dieuhanh.indicators.catalog.valuetypes import MAX_COMMENT, ValueTypeError, normalize
from dieuhanh.indicators.values.bulkwrite import Write, no_write
from dieuhanh.indicators.values.form_index import FormIndex
from dieuhanh.indicators.values.hooks import EntryGate, reporting_of
from dieuhanh.indicators.values.overlap import Overlap
from dieuhanh.indicators.values.topics import MAX_CELLS, VALUES_CHANGED
from dieuhanh.indicators.values.valuestore import (
    Change,
    Checked,
    Key,
    Stamp,
    Stored,
    StoredLookup,
    audit_import,
    change_row,
    prepare_write,
)

BATCH = 5000
EXAMPLE_PERIOD = {
    PeriodType.DAILY: "20260315", PeriodType.WEEKLY: "2026W10", PeriodType.MONTHLY: "202603",
    PeriodType.QUARTERLY: "2026Q1", PeriodType.SIXMONTHLY: "2026S1", PeriodType.YEARLY: "2026",
}  # fmt: skip


class Strategy(StrEnum):
    CREATE_AND_UPDATE = "create_and_update"
    CREATE = "create"  # new values only; stored ones are left as they are
    UPDATE = "update"  # stored values only; new ones are left out
    DELETE = "delete"  # remove the named values, whatever value the rows carry


@dataclass(slots=True)
class ValueRow:
    """One value as a source names it: codes, not ids. ``value`` None or "" deletes (DHIS2);
    ``comment`` None keeps the stored comment, "" clears it. Not frozen: a frozen dataclass
    sets each field through ``object.__setattr__``, and an import makes one row per value
    (1.1 µs against 0.4 µs)."""

    element: str
    unit: str
    period: str
    value: str | None
    option: str | None = None
    comment: str | None = None
    row: int = 0  # the line or item number a person would count, for conflicts


@dataclass(frozen=True)
class ValueConflict:
    row: int
    object: str
    property: str
    value: str
    message: str
    error_code: str

    def to_json(self) -> dict[str, Any]:
        return {
            "object": self.object,
            "property": self.property,
            "value": self.value,
            "errorCode": self.error_code,
            "message": self.message,
            "row": self.row,
        }


@dataclass
class ImportSummary:
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0
    conflicts: list[ValueConflict] = field(default_factory=list)
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)  # about the file as a whole

    @property
    def changed(self) -> int:
        return self.imported + self.updated + self.deleted

    @property
    def status(self) -> str:
        if not self.conflicts:
            return "SUCCESS"
        return "WARNING" if self.changed or self.ignored else "ERROR"

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"description": "; ".join(self.notes)} if self.notes else {}
        return result | {
            "status": self.status,
            "importCount": {
                "imported": self.imported,
                "updated": self.updated,
                "ignored": self.ignored,
                "deleted": self.deleted,
            },
            "conflicts": [conflict.to_json() for conflict in self.conflicts],
            "dryRun": self.dry_run,
        }


class RowProblem(Exception):
    def __init__(self, prop: str, value: str, message: str, code: str, obj: str = "") -> None:
        super().__init__(message)
        self.prop, self.value, self.message, self.code, self.obj = prop, value, message, code, obj


# What a memo of an import keeps at most: a file naming more distinct codes, periods or figures
# than this starts the memo afresh, so that memory stays bounded whatever the file holds.
MEMO_LIMIT = 20_000
# Only short texts are remembered: codes and figures are; a long text is rarely seen twice.
SHORT = 40
K = TypeVar("K")
V = TypeVar("V")


def _remember(memo: dict[K, V], key: K, value: V) -> V:
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value


def _element_option(
    catalog: Catalog, code: str, given: str | None
) -> tuple[ElementInfo | None, str | RowProblem]:
    element = catalog.element(code or "")
    if element is None:
        return None, ""
    try:
        return element, option_code(element, given)
    except ValueError as exc:
        return element, RowProblem("categoryOptionCombo", given or "", str(exc), "invalid_option")


@dataclass(frozen=True)
class Context:
    session: Session
    principal: Principal | None
    source: str
    source_detail: str | None
    strategy: Strategy
    dry_run: bool
    form: ReportForm | None
    now: datetime
    catalog: Catalog
    forms: FormIndex
    # Asked per batch whether each value may change now (the reporting part's locks).
    gate: EntryGate
    # An import names a handful of periods millions of times: each is parsed once.
    periods: dict[str, Period] = field(default_factory=dict)
    # … and a few thousand element × unit pairs: each is checked against the form once, its
    # problem kept to be raised again for the next row.
    placements: dict[tuple[int, int], RowProblem | None] = field(default_factory=dict)
    # … a few dozen element × option spellings, each resolved once: the element (None:
    # unknown) and its stored option, or the problem with the option.
    options: dict[tuple[str, str | None], tuple[ElementInfo | None, str | RowProblem]] = field(
        default_factory=dict
    )
    # … and the same few thousand figures again and again (counts): each value type × text
    # normalised once. Bounded, as the memos above are by the catalog: see _remember.
    values: dict[tuple[str, str], tuple[str, float | None]] = field(default_factory=dict)

    @cached_property
    def write_scope(self) -> Scope | None:
        """The importer's write scope, worked out once per import rather than per row."""
        return self.principal.write_scope if self.principal is not None else None

    def period(self, code: str) -> Period:
        found = self.periods.get(code)
        if found is None:
            found = _remember(self.periods, code, parse_period(code))
        return found

    def element_option(
        self, code: str, given: str | None
    ) -> tuple[ElementInfo | None, str | RowProblem]:
        key = (code, given)
        found = self.options.get(key)
        if found is None:
            found = _element_option(self.catalog, code, given)
            if found[0] is not None and len(given or "") <= SHORT:
                _remember(self.options, key, found)
        return found

    @cached_property
    def form_types(self) -> frozenset[str] | None:
        """The claimed form's period type, once per import."""
        return frozenset({self.form.period_type}) if self.form else None

    @property
    def stamp(self) -> Stamp:
        who = self.principal.username if self.principal else get_actor(self.session).name
        return Stamp(self.source, self.source_detail, who, self.now)


def save_values(
    session: Session,
    principal: Principal | None,
    rows: Iterable[ValueRow],
    *,
    source: str,
    source_detail: str | None = None,
    dry_run: bool = False,
    strategy: str = Strategy.CREATE_AND_UPDATE,
    form: ReportForm | None = None,
    now: datetime | None = None,
    catalog: Catalog | None = None,
) -> ImportSummary:
    """Check and store ``rows``; the caller commits.

    ``principal`` None is the system itself (a connector configured by an administrator): no unit
    scope applies. ``form``: the rows claim to be this form's (a dataValueSet naming its
    dataSet): elements outside it and units not assigned to it are conflicts.

    ``dry_run`` checks and counts without writing; a value named twice in one batch is counted
    as the real import would count it, but twice in different batches (5,000 rows apart) it is
    counted against the stored value both times.
    """
    catalog = catalog or Catalog.load(session)
    now = now or utcnow()
    forms = FormIndex(session)
    unit_names = {u.id: u.name for u in catalog.units.values()}
    context = Context(
        session=session,
        principal=principal,
        source=Source(source).value,
        source_detail=(source_detail or None) and source_detail[:200],
        strategy=Strategy(strategy.lower()),
        dry_run=dry_run,
        form=form,
        now=now,
        catalog=catalog,
        forms=forms,
        gate=reporting_of(session).entry_gate(session, now, unit_names, forms),
    )
    summary = ImportSummary(dry_run=dry_run)
    units: set[int] = set()
    cells: dict[tuple[int, str], set[int]] = {}
    batches = (_check_batch(context, batch, summary) for batch in _batches(rows, BATCH))
    dialect = session.get_bind().dialect
    connection = session.connection()
    with older_objects_frozen(), Overlap(dialect) as database:
        checked = next(batches, None)
        if checked is not None:
            lookup = StoredLookup(dialect, checked)
            stored = lookup.found(_read(context, lookup))
            following = next(batches, None)
        while checked is not None:
            plan = _decide(context, checked, stored, summary, units)
            if not dry_run:
                _note_cells(plan, cells)
            write = _prepared_write(context, dialect, plan)
            if following is None:  # the last batch: nothing left to check meanwhile
                database.submit(write, connection)
                break
            # The next batch is read first, then this one written; this thread decides the
            # next batch and checks the one after while the database writes: two CPUs busy
            # instead of one. What the database thread runs is prepared here, so that it
            # needs the interpreter the least.
            lookup = StoredLookup(dialect, following)
            if lookup.names_any(plan.latest):  # … unless the next names a key this one changes
                read = database.submit(_write_then_read, context, write, lookup)
            else:
                read = database.submit(_read, context, lookup)
                database.submit(write, connection)
            after = next(batches, None)
            checked, following, stored = following, after, lookup.found(database.result(read))
        database.settle()
    # Checking runs a batch ahead of deciding: the conflicts in the order of the rows again.
    summary.conflicts.sort(key=lambda conflict: conflict.row)
    if summary.changed and not dry_run:
        if context.source != Source.FORM:
            counts = summary.to_json()["importCount"] | {"conflicts": len(summary.conflicts)}
            audit_import(session, context.stamp, counts, units)
        _announce(context, summary, cells)
    return summary


def _note_cells(plan: Plan, cells: dict[tuple[int, str], set[int]]) -> None:
    """The (unit, period) pairs a batch changed, with their elements; bounded in memory (past
    MAX_CELLS pairs the event says ``truncated``, so one more pair is kept to know it)."""
    for element_id, unit_id, period, _ in plan.latest:
        pair = (unit_id, period)
        if pair in cells:
            cells[pair].add(element_id)
        elif len(cells) <= MAX_CELLS:
            cells[pair] = {element_id}


def _announce(
    context: Context, summary: ImportSummary, cells: dict[tuple[int, str], set[int]]
) -> None:
    catalog = context.catalog
    listed = [
        {"unit": catalog.units_by_id[unit_id].code, "period": period,
         "elements": sorted(catalog.elements_by_id[e].code for e in elements)}
        for (unit_id, period), elements in list(cells.items())[:MAX_CELLS]
    ]  # fmt: skip
    publish(context.session, VALUES_CHANGED,
            {"source": context.source, "changed": summary.changed, "cells": listed,
             "truncated": len(cells) > MAX_CELLS})  # fmt: skip


def _batches(rows: Iterable[ValueRow], size: int) -> Iterator[list[ValueRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _check_batch(context: Context, batch: list[ValueRow], summary: ImportSummary) -> list[Checked]:
    checked: list[Checked] = []
    for row in batch:
        try:
            checked.append(_check_row(context, row))
        except RowProblem as problem:
            summary.conflicts.append(_conflict(row, problem))
    return checked


def _read(context: Context, lookup: StoredLookup) -> Sequence[Row[Any]]:
    """The database reads of one batch: its periods' locks and its stored values."""
    context.gate.prefetch(lookup.pairs)
    return lookup.run(context.session.connection())


def _write_then_read(context: Context, write: Write, lookup: StoredLookup) -> Sequence[Row[Any]]:
    """Write a batch, then read what the next needs: in this order, on the one connection, so
    that a key written by this batch is found stored by the next."""
    write(context.session.connection())
    return _read(context, lookup)


def _open_for_entry(
    context: Context, checked: list[Checked], summary: ImportSummary
) -> list[Checked]:
    """The rows whose period is open to entry for their unit (the reporting part's locks,
    prefetched by :func:`_lookup`)."""
    allowed = []
    for item in checked:
        state = context.gate.check(item.element.id, item.key[1], item.period)
        if state.open:
            allowed.append(item)
            continue
        unit = context.catalog.units_by_id[item.key[1]].code
        locked = RowProblem("period", item.period.code, state.reason or "", state.code or "locked")
        summary.conflicts.append(_conflict_of(item.row, f"{item.element.code}@{unit}", locked))
    return allowed


def _conflict(row: ValueRow, problem: RowProblem) -> ValueConflict:
    return _conflict_of(row.row, problem.obj or f"{row.element}@{row.unit}", problem)


def _conflict_of(row: int, obj: str, problem: RowProblem) -> ValueConflict:
    return ValueConflict(
        row=row,
        object=obj,
        property=problem.prop,
        value=problem.value[:200],
        message=problem.message,
        error_code=problem.code,
    )


def _check_row(context: Context, row: ValueRow) -> Checked:
    element, option = context.element_option(row.element, row.option)
    if element is None:
        raise RowProblem(
            "dataElement", row.element, f"unknown data element '{row.element}'", "unknown_element"
        )
    unit = context.catalog.unit(row.unit or "")
    if unit is None:
        raise RowProblem("orgUnit", row.unit, f"unknown unit '{row.unit}'", "unknown_unit")
    try:
        period = context.period(row.period or "")
    except PeriodError as exc:
        raise RowProblem("period", row.period, str(exc), "invalid_period") from None
    if isinstance(option, RowProblem):
        raise RowProblem(option.prop, option.value, option.message, option.code)
    _check_form(context, element, unit.id, period)
    _check_scope(context, unit.id, unit.name)
    value, numeric = _checked_value(context, element, row.value)
    comment = row.comment
    if comment is not None and len(comment) > MAX_COMMENT:
        raise RowProblem(
            "comment",
            comment,
            f"comment of {len(comment)} characters; at most 500",
            "comment_too_long",
        )
    return Checked(
        row=row.row,
        key=(element.id, unit.id, period.code, option),
        period=period,
        element=element,
        value=value,
        numeric=numeric,
        comment=comment,
    )


_UNCHECKED = RowProblem("", "", "", "")


def _check_form(context: Context, element: ElementInfo, unit_id: int, period: Period) -> None:
    key = (element.id, unit_id)
    known = context.placements.get(key, _UNCHECKED)
    if known is _UNCHECKED:
        try:
            _check_form_placement(context, element, unit_id)
            known = context.placements[key] = None
        except RowProblem as found:
            known = context.placements[key] = found
    if known is not None:
        raise RowProblem(known.prop, known.value, known.message, known.code, known.obj)
    types = context.form_types or context.forms.period_types(element.id)
    # A PeriodType is a StrEnum: found in a set of strings as itself, without .value.
    if types and period.type not in types:
        examples = " or ".join(EXAMPLE_PERIOD[PeriodType(t)] for t in sorted(types))
        raise RowProblem(
            "period",
            period.code,
            f"{element.code} is reported {'/'.join(sorted(types))}: period {period.code} is "
            f"{period.type.value}; give a period such as {examples}",
            "wrong_period_type",
        )


def _check_form_placement(context: Context, element: ElementInfo, unit_id: int) -> None:
    """When the rows claim a form: the element is in it and the unit reports it."""
    form = context.form
    if form is None:
        return
    if element.id not in context.forms.form_elements.get(form.id, frozenset()):
        raise RowProblem(
            "dataElement",
            element.code,
            f"{element.code} is not in form {form.code}",
            "not_in_form",
        )
    if unit_id not in context.forms.form_units.get(form.id, frozenset()):
        unit = context.catalog.units_by_id[unit_id]
        raise RowProblem(
            "orgUnit",
            unit.code,
            f"{unit.name} does not report form {form.code}",
            "unit_not_assigned",
        )


def _check_scope(context: Context, unit_id: int, unit_name: str) -> None:
    scope, principal = context.write_scope, context.principal
    if scope is None or principal is None or scope.allows(unit_id):
        return
    raise RowProblem(
        "orgUnit",
        unit_name,
        f"your account ({principal.username}, {principal.unit_name}) may not change data of "
        f"{unit_name}",
        "out_of_scope",
    )


def _checked_value(
    context: Context, element: ElementInfo, given: str | None
) -> tuple[str | None, float | None]:
    if context.strategy is Strategy.DELETE or given is None or given.strip() == "":
        return None, None
    key = (element.value_type, given)
    known = context.values.get(key)
    if known is None:
        try:
            known = normalize(element.value_type, given)
        except ValueTypeError as exc:
            raise RowProblem(
                "value", given, f"{element.code} ({element.value_type}): {exc}", "invalid_value"
            ) from None
        if len(given) <= SHORT:
            _remember(context.values, key, known)
    value, numeric = known
    if numeric == 0 and not element.zero_is_significant:
        return None, None  # DHIS2 keeps no zero of such elements: a zero removes the value
    return value, numeric


@dataclass
class Plan:
    """What one batch changes: the stored values it read, their final state, the last row of
    each changed key and the history rows."""

    original: dict[Key, Stored | None]
    final: dict[Key, Stored | None] = field(default_factory=dict)
    latest: dict[Key, Checked] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)


def _decide(
    context: Context,
    checked: list[Checked],
    original: dict[Key, Stored | None],
    summary: ImportSummary,
    units: set[int],
) -> Plan:
    """Decide each row of a batch against the stored values (no database work)."""
    plan = Plan(original)
    # What this batch has changed so far, over ``original`` (a key named twice in one batch is
    # decided against its first change).
    current, latest, changes = plan.final, plan.latest, plan.changes
    strategy = context.strategy
    counts = {"create": 0, "update": 0, "delete": 0}
    ignored = 0
    for item in _open_for_entry(context, checked, summary):
        key = item.key
        units.add(key[1])
        before = current[key] if key in current else original.get(key)
        action = _action(strategy, item, before)
        if action is None:
            ignored += 1
            continue
        after = _after(item, before) if action != "delete" else None
        current[key] = after
        latest[key] = item
        changes.append(change_row(item, action, before, after))
        counts[action] += 1
    summary.ignored += ignored
    summary.imported += counts["create"]
    summary.updated += counts["update"]
    summary.deleted += counts["delete"]
    return plan


def _prepared_write(context: Context, dialect: Dialect, plan: Plan) -> Write:
    if context.dry_run or not plan.changes:
        return no_write
    return prepare_write(
        dialect, context.stamp, plan.original, plan.final, plan.latest, plan.changes
    )


def _action(strategy: Strategy, item: Checked, stored: Stored | None) -> str | None:
    """create, update, delete, or None (ignored)."""
    if strategy is Strategy.CREATE and stored is not None:
        return None
    if item.value is None:
        return "delete" if stored is not None else None
    if stored is None:
        return None if strategy is Strategy.UPDATE else "create"
    if stored.value == item.value and stored.comment == _new_comment(item, stored):
        return None
    return "update"


def _after(item: Checked, before: Stored | None) -> Stored:
    assert item.value is not None
    return Stored(before.id if before else None, item.value, _new_comment(item, before))


def _new_comment(item: Checked, before: Stored | None) -> str | None:
    """No comment given keeps the stored one; an empty one clears it."""
    if item.comment is None:
        return before.comment if before else None
    return item.comment or None
