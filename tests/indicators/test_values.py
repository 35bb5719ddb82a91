"""The one write path of data values: conflicts per row, history, strategies, dry run, locks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dieuhanh.audit.models import AuditEntry
from dieuhanh.indicators.reporting import service
from dieuhanh.indicators.reporting.service import form_period
from dieuhanh.indicators.values.save import ValueRow, save_values
from tests.conftest import LOC_THANH, LONG_THANH
from tests.indicators.entry_setup import NOW, build, history, principal, stored, unit


@pytest.fixture
def session(runtime):
    with runtime.sessions() as session:
        build(session)
        yield session


def row(element, value, *, unit=LOC_THANH, period="202603", option=None, comment=None, n=1):
    return ValueRow(
        element=element, unit=unit, period=period, value=value, option=option, comment=comment,
        row=n,
    )  # fmt: skip


def save(session, rows, user="commune", **kwargs):
    kwargs.setdefault("now", NOW)
    summary = save_values(session, principal(session, user), rows, source="import", **kwargs)
    session.commit()
    return summary


def test_values_are_normalised_and_stored_with_history(session) -> None:
    summary = save(
        session,
        [
            row("PROCESSED", " 120 ", option="ONLINE", n=1),
            row("AMOUNT", "12.50", n=2),
            row("RATE", "85%", n=3),
            row("HAS_PLAN", "Có", n=4),
            row("NOTE", "Đã nhập đủ", comment="ghi chú", n=5),
        ],
        source_detail="march.csv",
    )
    assert summary.to_json()["importCount"] == {
        "imported": 5, "updated": 0, "ignored": 0, "deleted": 0,
    }  # fmt: skip
    assert summary.status == "SUCCESS" and summary.conflicts == []
    values = stored(session)
    assert values[("PROCESSED", LOC_THANH, "202603", "ONLINE")] == ("120", None)
    assert values[("AMOUNT", LOC_THANH, "202603", "")] == ("12.5", None)
    assert values[("RATE", LOC_THANH, "202603", "")] == ("85", None)
    assert values[("HAS_PLAN", LOC_THANH, "202603", "")] == ("true", None)
    assert values[("NOTE", LOC_THANH, "202603", "")] == ("Đã nhập đủ", "ghi chú")
    changes = history(session)
    assert [c.action for c in changes] == ["create"] * 5
    assert {(c.changed_by, c.source, c.source_detail) for c in changes} == {
        ("commune", "import", "march.csv")
    }


def test_update_ignored_and_delete(session) -> None:
    save(session, [row("AMOUNT", "10")])
    again = save(session, [row("AMOUNT", "10.0")])
    assert again.ignored == 1 and len(history(session)) == 1  # unchanged: no history
    changed = save(session, [row("AMOUNT", "11")])
    assert changed.updated == 1
    deleted = save(session, [row("AMOUNT", "")])
    assert deleted.deleted == 1
    assert ("AMOUNT", LOC_THANH, "202603", "") not in stored(session)
    assert [(c.action, c.old_value, c.new_value) for c in history(session)] == [
        ("create", None, "10"),
        ("update", "10", "11"),
        ("delete", "11", None),
    ]


def test_each_bad_row_is_a_conflict_and_good_rows_are_stored(session) -> None:
    rows = [
        row("PROCESSED", "5", option="ONLINE", n=1),  # good
        row("NO_SUCH", "5", n=2),
        row("AMOUNT", "5", unit="99999", n=3),
        row("AMOUNT", "5", period="2026-03", n=4),
        row("AMOUNT", "5", period="2026Q1", n=5),
        row("PROCESSED", "12.5", option="ONLINE", n=6),
        row("RATE", "120", n=7),
        row("HAS_PLAN", "maybe", n=8),
        row("NOTE", "x" * 50_001, n=9),
        row("AMOUNT", "5", comment="c" * 501, n=10),
        row("PROCESSED", "5", option="BY_POST", n=11),
        row("PROCESSED", "5", n=12),  # disaggregated element without an option
        row("AMOUNT", "5", unit=LONG_THANH, n=13),  # another commune
        row("AMOUNT", "5", period="202601", n=14),  # entry closed on 15 February
        row("AMOUNT", "1.234,5", n=15),
        row("OVERDUE", "2", option="IN_PERSON", n=16),  # good
    ]
    summary = save(session, rows)
    assert summary.imported == 2 and summary.status == "WARNING"
    conflicts = {c.row: c for c in summary.conflicts}
    assert sorted(conflicts) == list(range(2, 16))
    expected = {
        2: ("dataElement", "unknown data element 'NO_SUCH'"),
        3: ("orgUnit", "unknown unit '99999'"),
        4: ("period", "2026-03"),
        5: ("period", "period 2026Q1 is quarterly; give a period such as 202603"),
        6: ("value", "'12.5' is not a whole number"),
        7: ("value", "120 is not a percentage between 0 and 100"),
        8: ("value", "'maybe' is not yes/no"),
        9: ("value", "text of 50,001 characters; at most 50,000"),
        10: ("comment", "comment of 501 characters; at most 500"),
        11: ("categoryOptionCombo", "'BY_POST' is not an option of VIA"),
        12: ("categoryOptionCombo", "disaggregated by VIA: give one of ONLINE, IN_PERSON"),
        13: ("orgUnit", "may not change data of Phường Long Thành"),
        14: ("period", "entry for 202601 closed at the end of 15/02/2026"),
        15: ("value", "with a dot for decimals"),
    }
    for number, (prop, words) in expected.items():
        assert conflicts[number].property == prop, (number, conflicts[number])
        assert words in conflicts[number].message or words in conflicts[number].value, (
            number, conflicts[number].message,
        )  # fmt: skip
    assert conflicts[14].error_code == "expired"
    assert set(stored(session)) == {
        ("PROCESSED", LOC_THANH, "202603", "ONLINE"),
        ("OVERDUE", LOC_THANH, "202603", "IN_PERSON"),
    }
    assert summary.to_json()["conflicts"][0] == {
        "object": "NO_SUCH@25280", "property": "dataElement", "value": "NO_SUCH",
        "errorCode": "unknown_element", "message": "unknown data element 'NO_SUCH'", "row": 2,
    }  # fmt: skip


def test_dry_run_counts_and_writes_nothing(session) -> None:
    save(session, [row("AMOUNT", "1")])
    summary = save(
        session, [row("AMOUNT", "2", n=1), row("RATE", "50", n=2), row("NO", "1", n=3)],
        dry_run=True,
    )  # fmt: skip
    assert summary.to_json()["importCount"] == {
        "imported": 1, "updated": 1, "ignored": 0, "deleted": 0,
    }  # fmt: skip
    assert summary.to_json()["dryRun"] is True and len(summary.conflicts) == 1
    assert stored(session) == {("AMOUNT", LOC_THANH, "202603", ""): ("1", None)}
    assert len(history(session)) == 1


def test_strategies(session) -> None:
    save(session, [row("AMOUNT", "1")])
    created = save(session, [row("AMOUNT", "2"), row("RATE", "3")], strategy="create")
    assert (created.imported, created.ignored) == (1, 1)
    updated = save(session, [row("AMOUNT", "4"), row("NOTE", "x")], strategy="update")
    assert (updated.updated, updated.ignored) == (1, 1)
    deleted = save(session, [row("AMOUNT", "999"), row("NOTE", "x")], strategy="delete")
    assert (deleted.deleted, deleted.ignored) == (1, 1)
    assert stored(session) == {("RATE", LOC_THANH, "202603", ""): ("3", None)}


def test_the_same_value_twice_in_one_import(session) -> None:
    summary = save(session, [row("AMOUNT", "1", n=1), row("AMOUNT", "2", n=2)])
    assert (summary.imported, summary.updated) == (1, 1)
    assert stored(session)[("AMOUNT", LOC_THANH, "202603", "")] == ("2", None)
    assert [c.action for c in history(session)] == ["create", "update"]


def test_comment_kept_when_not_given_and_cleared_when_empty(session) -> None:
    save(session, [row("AMOUNT", "1", comment="ước tính")])
    save(session, [row("AMOUNT", "2")])
    assert stored(session)[("AMOUNT", LOC_THANH, "202603", "")] == ("2", "ước tính")
    save(session, [row("AMOUNT", "2", comment="")])
    assert stored(session)[("AMOUNT", LOC_THANH, "202603", "")] == ("2", None)


def test_approval_locks_values_until_unapproved(session) -> None:
    save(session, [row("AMOUNT", "1")])
    form = service.get_form(session, "COMMUNE_FORM")
    commune = unit(session, LOC_THANH)
    period = form_period(form, "202603")
    admin = principal(session, "operator")
    with pytest.raises(Exception, match="only a complete report can be approved"):
        service.approve(session, admin, form, commune, period, NOW)
    service.complete(session, form, commune, period, "commune", NOW)
    service.approve(session, admin, form, commune, period, NOW)
    session.commit()
    locked = save(session, [row("AMOUNT", "2"), row("AMOUNT", "", n=2)])
    assert locked.changed == 0 and len(locked.conflicts) == 2
    message = locked.conflicts[0].message
    assert "was approved by operator" in message and "unapprove" in message
    assert locked.conflicts[0].error_code == "approved"
    with pytest.raises(Exception, match="approved"):
        service.reopen(session, form, commune, period)
    service.unapprove(session, admin, form, commune, period)
    session.commit()
    assert save(session, [row("AMOUNT", "2")]).updated == 1


def test_only_the_province_approves(session) -> None:
    form = service.get_form(session, "COMMUNE_FORM")
    commune = unit(session, LOC_THANH)
    period = form_period(form, "202603")
    service.complete(session, form, commune, period, "commune", NOW)
    with pytest.raises(Exception, match="approve_reports"):
        service.approve(session, principal(session, "commune"), form, commune, period, NOW)
    with pytest.raises(Exception, match="approve_reports"):
        service.approve(session, principal(session, "dept"), form, commune, period, NOW)


def test_entry_window_and_exception(session) -> None:
    form = service.get_form(session, "COMMUNE_FORM")
    commune, other = unit(session, LOC_THANH), unit(session, LONG_THANH)
    january = form_period(form, "202601")
    state = service.entry_state(session, form, commune, january, NOW)
    assert not state.open and state.code == "expired"
    assert save(session, [row("AMOUNT", "1", period="202601")]).conflicts[0].error_code == "expired"
    service.grant_exception(
        session, principal(session, "admin"), form, other, january, NOW + timedelta(days=3),
        "Xã Long Thành được bổ sung số liệu", NOW,
    )  # fmt: skip
    session.commit()
    assert save(session, [row("AMOUNT", "1", period="202601")]).conflicts  # not for Lộc Thạnh
    service.grant_exception(
        session, principal(session, "admin"), form, commune, january, NOW + timedelta(days=3),
        "Bổ sung", NOW,
    )  # fmt: skip
    session.commit()
    assert service.entry_state(session, form, commune, january, NOW).open
    assert save(session, [row("AMOUNT", "1", period="202601")]).imported == 1
    later = NOW + timedelta(days=4)
    assert save(session, [row("AMOUNT", "2", period="202601")], now=later).conflicts


def test_future_periods_are_not_open(session) -> None:
    summary = save(session, [row("AMOUNT", "1", period="202605")])
    assert summary.conflicts[0].error_code == "not_started"


def test_on_time_is_the_end_of_the_deadline_day_in_vietnam(session) -> None:
    form = service.get_form(session, "COMMUNE_FORM")
    march = form_period(form, "202603")
    from datetime import datetime

    from tests.indicators.entry_setup import VN

    last_minute = datetime(2026, 4, 2, 23, 59, 59, tzinfo=VN)
    a = service.complete(session, form, unit(session, LOC_THANH), march, "commune", last_minute)
    b = service.complete(
        session,
        form,
        unit(session, LONG_THANH),
        march,
        "commune2",
        last_minute + timedelta(seconds=1),
    )
    assert a.on_time is True and b.on_time is False
    # Completing again keeps the first completion.
    again = service.complete(session, form, unit(session, LOC_THANH), march, "commune", NOW)
    assert again.completed_at == last_minute and again.on_time


def test_a_lock_of_any_form_holding_the_element_applies(session) -> None:
    """AMOUNT is in COMMUNE_FORM (approved) and in OTHER (not): the approval still locks it."""
    from dieuhanh.indicators.reporting import forms
    from dieuhanh.indicators.reporting.schemas import FormIn

    forms.save_form(
        session,
        FormIn(code="OTHER", name="Biểu khác", elements=["AMOUNT"], units=[LOC_THANH]),
        "75",
    )
    form = service.get_form(session, "COMMUNE_FORM")
    commune = unit(session, LOC_THANH)
    march = form_period(form, "202603")
    service.complete(session, form, commune, march, "commune", NOW)
    service.approve(session, principal(session, "admin"), form, commune, march, NOW)
    session.commit()
    summary = save(session, [row("AMOUNT", "3")])
    assert summary.conflicts and "COMMUNE_FORM" in summary.conflicts[0].message


def test_one_audit_entry_per_import(session) -> None:
    before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    save(session, [row("AMOUNT", "1", n=1), row("RATE", "2", n=2)], source_detail="file.csv")
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.id > before, AuditEntry.entity_type == "data_values")
    ).all()
    assert len(entries) == 1
    assert entries[0].after["imported"] == 2 and entries[0].note == "file.csv"
    assert entries[0].unit_id == unit(session, LOC_THANH).id


def test_big_imports_go_in_batches(session, monkeypatch) -> None:
    from dieuhanh.indicators.values import save as values

    monkeypatch.setattr(values, "BATCH", 7)
    periods = [f"2025{m:02d}" for m in range(1, 13)] + ["202601", "202602", "202603"]
    rows = [
        row("AMOUNT", str(i), period=p, n=i, unit=u)
        for i, (p, u) in enumerate(((p, u) for p in periods for u in (LOC_THANH, LONG_THANH)), 1)
    ]
    summary = save(session, rows, user="admin")
    # 2025 and early 2026 are past their entry window: only March is open.
    assert summary.imported == 2 and len(summary.conflicts) == 28
    assert {c.error_code for c in summary.conflicts} == {"expired"}


def test_bulk_writes_store_what_the_orm_stores(session) -> None:
    """The fast write path (COPY, the driver's executemany) spells dates and times exactly as
    SQLAlchemy does: SQLite compares them as text."""
    from sqlalchemy import bindparam, text

    from dieuhanh.core.db.base import UTCDateTime
    from dieuhanh.indicators.catalog.form_models import Submission

    save(session, [row("AMOUNT", "1")])
    form = service.get_form(session, "COMMUNE_FORM")
    session.add(
        Submission(
            form_id=form.id, unit_id=unit(session, LOC_THANH).id, period_code="202603",
            completed_at=NOW, completed_by="x", on_time=True,
        )
    )  # fmt: skip
    session.commit()
    raw = session.execute(
        text(
            "SELECT v.created_at, v.updated_at, c.changed_at, s.completed_at, v.period_start "
            "FROM data_values v, data_value_changes c, report_submissions s"
        )
    ).one()
    assert raw[0] == raw[1] == raw[2] == raw[3]
    assert str(raw[4]) == "2026-03-01"
    since = text("SELECT count(*) FROM data_values WHERE created_at >= :t").bindparams(
        bindparam("t", type_=UTCDateTime)
    )
    assert session.execute(since, {"t": NOW}).scalar() == 1
    assert session.execute(since, {"t": NOW + timedelta(microseconds=1)}).scalar() == 0
