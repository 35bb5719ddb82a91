"""Imports of many batches: the database writes one batch while the next is checked and decided
(on PostgreSQL in a second thread), and the values' references are held per batch instead of
by foreign keys (migration 0023). Same results as one batch at a time, on both databases."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from dieuhanh.core.db.engine import Timeouts, make_engine
from dieuhanh.core.errors import Conflict, InvalidInput
from dieuhanh.indicators.catalog import metadata
from dieuhanh.indicators.catalog.catalog import Catalog
from dieuhanh.indicators.catalog.models import DataElement, DataValue
from dieuhanh.indicators.catalog.schemas import DataElementIn
from dieuhanh.indicators.values import save as values
from dieuhanh.indicators.values.datavaluesets import import_data_value_set
from dieuhanh.units.models import Unit
from tests.conftest import LOC_THANH, LONG_THANH
from tests.indicators.entry_setup import NOW, build, history, principal, stored
from tests.indicators.test_values import row, save


@pytest.fixture
def session(runtime, monkeypatch):
    monkeypatch.setattr(values, "BATCH", 3)
    with runtime.sessions() as session:
        build(session)
        yield session


def _threads_of(monkeypatch) -> list[str]:
    """The names of the threads the batches' stored values were read in."""
    seen: list[str] = []
    read = values._read

    def spy(context, lookup):
        seen.append(threading.current_thread().name)
        return read(context, lookup)

    monkeypatch.setattr(values, "_read", spy)
    return seen


def test_batches_written_beside_the_checking_give_the_same_values_and_history(
    session, monkeypatch
) -> None:
    threads = _threads_of(monkeypatch)
    rows = [
        # batch 1
        row("AMOUNT", "1", n=1), row("RATE", "2", n=2), row("NOTE", "a", n=3),
        # batch 2: AMOUNT was changed by the batch before (read after its write)
        row("AMOUNT", "5", n=4), row("PROCESSED", "3", option="ONLINE", n=5),
        row("AMOUNT", "4", unit=LONG_THANH, n=6),
        # batch 3: RATE from two batches before; NOTE deleted
        row("RATE", "7", n=7), row("PROCESSED", "8", option="IN_PERSON", n=8),
        row("NOTE", "", n=9),
        # batch 4: unchanged, changed again, new
        row("AMOUNT", "4", unit=LONG_THANH, n=10), row("AMOUNT", "6", n=11),
        row("RATE", "9", unit=LONG_THANH, n=12),
    ]  # fmt: skip
    summary = save(session, rows, user="admin")

    assert summary.to_json()["importCount"] == {
        "imported": 7, "updated": 3, "ignored": 1, "deleted": 1,
    }  # fmt: skip
    assert summary.conflicts == []
    assert stored(session) == {
        ("AMOUNT", LOC_THANH, "202603", ""): ("6", None),
        ("RATE", LOC_THANH, "202603", ""): ("7", None),
        ("PROCESSED", LOC_THANH, "202603", "ONLINE"): ("3", None),
        ("PROCESSED", LOC_THANH, "202603", "IN_PERSON"): ("8", None),
        ("AMOUNT", LONG_THANH, "202603", ""): ("4", None),
        ("RATE", LONG_THANH, "202603", ""): ("9", None),
    }
    assert [(c.action, c.old_value, c.new_value) for c in history(session)] == [
        ("create", None, "1"), ("create", None, "2"), ("create", None, "a"),
        ("update", "1", "5"), ("create", None, "3"), ("create", None, "4"),
        ("update", "2", "7"), ("create", None, "8"), ("delete", "a", None),
        ("update", "5", "6"), ("create", None, "9"),
    ]  # fmt: skip
    beside = [name for name in threads if name.startswith("value-writer")]
    if session.get_bind().dialect.name == "postgresql":
        assert beside and threads[0] == "MainThread"  # the first batch is read before any write
    else:
        assert beside == []


def test_the_conflicts_come_in_the_order_of_the_rows(session) -> None:
    rows = [row("AMOUNT", "x" if n % 2 else str(n), n=n) for n in range(1, 11)]
    summary = save(session, rows, user="admin")
    assert [c.row for c in summary.conflicts] == [1, 3, 5, 7, 9]


def test_a_failed_write_is_reported_as_itself_and_nothing_is_kept(session, monkeypatch) -> None:
    """A write that fails aborts a PostgreSQL transaction: the read queued after it must not be
    what the caller hears about."""
    prepared = values.prepare_write
    calls = []

    def second_fails(dialect, *args):
        calls.append(1)
        if len(calls) == 2:
            return lambda connection: connection.execute(text("SELECT * FROM no_such_table"))
        return prepared(dialect, *args)

    monkeypatch.setattr(values, "prepare_write", second_fails)
    elements = ["AMOUNT", "RATE", "HAS_PLAN"]
    rows = [
        *(row(e, "1", n=n) for n, e in enumerate(elements, 1)),
        *(row(e, "1", unit=LONG_THANH, n=n) for n, e in enumerate(elements, 4)),
        row("NOTE", "x", n=7), row("NOTE", "y", unit=LONG_THANH, n=8),
    ]  # fmt: skip
    with pytest.raises(DBAPIError, match="no_such_table"):
        save_values_of(session, rows)
    session.rollback()
    assert stored(session) == {} and history(session) == []


def save_values_of(session, rows):
    return values.save_values(session, principal(session, "admin"), rows, source="import", now=NOW)


def test_a_file_found_broken_after_some_batches_stores_nothing(session) -> None:
    items = ",".join(
        f'{{"dataElement": "AMOUNT", "period": "202603", "orgUnit": "{u}", "value": "{n}"}}'
        for n, u in enumerate([LOC_THANH, LONG_THANH] * 5)
    )
    body = ('{"dataValues": [' + items + ', {"dataElement": ').encode()
    with pytest.raises(InvalidInput):
        import_data_value_set(session, principal(session, "admin"), body, fmt="json", now=NOW)
    session.rollback()
    assert stored(session) == {}
    assert save(session, [row("AMOUNT", "3")], user="admin").imported == 1  # still usable


def _fresh_element(session, code: str = "LOOSE") -> DataElement:
    """An element in no form: only its values name it."""
    metadata.save_element(
        session,
        DataElementIn(
            code=code, name="Chỉ tiêu lẻ", value_type="integer", domain="public_services"
        ),
    )
    session.commit()
    return session.scalars(select(DataElement).where(DataElement.code == code)).one()


def test_an_element_or_unit_with_values_cannot_be_deleted_or_renumbered(session) -> None:
    element = _fresh_element(session)
    spare = _fresh_element(session, "SPARE")
    save(session, [row("LOOSE", "5")], user="admin")
    for statement in (
        delete(DataElement).where(DataElement.id == element.id),
        update(DataElement).where(DataElement.id == element.id).values(id=element.id + 100000),
        delete(Unit).where(Unit.code == LOC_THANH),
    ):
        with pytest.raises(IntegrityError, match="still named by data values"):
            session.execute(statement)
        session.rollback()
    session.execute(delete(DataElement).where(DataElement.id == spare.id))  # no values: it goes
    session.commit()
    assert stored(session) == {("LOOSE", LOC_THANH, "202603", ""): ("5", None)}


def test_an_element_deleted_after_the_catalog_was_read_stores_nothing(runtime, session) -> None:
    element = _fresh_element(session)
    catalog = Catalog.load(session)
    session.commit()
    engine = make_engine(runtime.settings.effective_database_url)
    try:
        with engine.begin() as other:
            other.execute(delete(DataElement).where(DataElement.id == element.id))
    finally:
        engine.dispose()
    with pytest.raises(Conflict, match="deleted while the values were being stored"):
        values.save_values(
            session, principal(session, "admin"), [row("LOOSE", "5"), row("AMOUNT", "1")],
            source="import", now=NOW, catalog=catalog,
        )  # fmt: skip
    session.rollback()
    assert session.scalar(select(DataValue.id).limit(1)) is None


def test_an_import_holds_its_elements_until_it_commits(runtime, session) -> None:
    """The lock the foreign key took per row, taken per batch on PostgreSQL (SQLite's one write
    lock on the whole database does the same): a delete waits for the import, then the trigger
    refuses it."""
    element = _fresh_element(session)
    save_values_of(session, [row("LOOSE", "5")])  # not committed yet
    engine = make_engine(runtime.settings.effective_database_url, Timeouts(lock=0.3))
    try:
        with engine.connect() as other:
            with pytest.raises(DBAPIError, match=r"lock timeout|database is locked"):
                other.execute(delete(DataElement).where(DataElement.id == element.id))
            other.rollback()
            session.commit()
            with pytest.raises(IntegrityError, match="still named by data values"):
                other.execute(delete(DataElement).where(DataElement.id == element.id))
            other.rollback()
    finally:
        engine.dispose()


def test_the_memos_of_an_import_stay_bounded_and_give_the_same_values(session, monkeypatch) -> None:
    # An import remembers each code, period and figure it has checked; a file naming more
    # than MEMO_LIMIT of them starts a memo afresh. With a limit of 2 every memo overflows
    # again and again: the values, conflicts and history are those of an unbounded one.
    monkeypatch.setattr(values, "MEMO_LIMIT", 2)
    sizes: list[int] = []
    remember = values._remember

    def spy(memo, key, value):
        found = remember(memo, key, value)
        sizes.append(len(memo))
        return found

    monkeypatch.setattr(values, "_remember", spy)
    long_text = "x" * (values.SHORT + 1)
    rows = [
        row("PROCESSED", "1", option="ONLINE", n=1), row("PROCESSED", "2", option="IN_PERSON", n=2),
        row("PROCESSED", "3", option="BY_POST", n=3), row("AMOUNT", "1", n=4),
        row("RATE", "1", unit=LONG_THANH, n=5), row("PROCESSED", "1", option="ONLINE", n=6),
        row("NOTE", long_text, n=7), row("AMOUNT", "twelve", n=8), row("AMOUNT", "4", n=9),
    ]  # fmt: skip
    summary = save(session, rows, user="admin")

    assert sizes and max(sizes) <= 2
    assert [(c.row, c.error_code) for c in summary.conflicts] == [
        (3, "invalid_option"), (8, "invalid_value"),
    ]  # fmt: skip
    assert stored(session) == {
        ("PROCESSED", LOC_THANH, "202603", "ONLINE"): ("1", None),
        ("PROCESSED", LOC_THANH, "202603", "IN_PERSON"): ("2", None),
        ("AMOUNT", LOC_THANH, "202603", ""): ("4", None),
        ("RATE", LONG_THANH, "202603", ""): ("1", None),
        ("NOTE", LOC_THANH, "202603", ""): (long_text, None),
    }
