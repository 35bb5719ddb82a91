"""DHIS2 dataValueSets: JSON and CSV import, bad files, and export → import round trips."""

from __future__ import annotations

import json

import pytest

from dieuhanh.core.errors import InvalidInput
from dieuhanh.indicators.reporting import service
from dieuhanh.indicators.values import datavaluesets
from dieuhanh.indicators.values.datavaluesets import ExportQuery, export_rows, export_statement
from dieuhanh.indicators.values.dvsformat import csv_chunks, json_chunks
from tests.conftest import LOC_THANH, LONG_THANH
from tests.indicators.entry_setup import NOW, build, history, principal, stored, unit

HEADER = (
    "dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,lastupdated,comment,"
    "followup\n"
)


@pytest.fixture
def session(runtime):
    with runtime.sessions() as session:
        build(session)
        yield session


def load(session, data, fmt, user="commune", **kwargs):
    kwargs.setdefault("now", NOW)
    summary = datavaluesets.import_data_value_set(
        session, principal(session, user), data, fmt=fmt, **kwargs
    )
    session.commit()
    return summary


def test_json_with_top_level_period_unit_and_complete_date(session) -> None:
    document = {
        "dataSet": "COMMUNE_FORM",
        "completeDate": "2026-04-02",
        "period": "202603",
        "orgUnit": LOC_THANH,
        "dataValues": [
            {"dataElement": "PROCESSED", "categoryOptionCombo": "ONLINE", "value": 120},
            {"dataElement": "PROCESSED", "categoryOptionCombo": "IN_PERSON", "value": "30"},
            {"dataElement": "AMOUNT", "categoryOptionCombo": "default", "value": 2.5,
             "comment": "ước tính"},
            {"dataElement": "HAS_PLAN", "value": True},
            {"dataElement": "NOTE", "value": "x", "orgUnit": LONG_THANH},
        ],
    }  # fmt: skip
    summary = load(session, json.dumps(document).encode(), "json", filename="march.json")
    assert summary.imported == 4 and len(summary.conflicts) == 1
    assert summary.conflicts[0].row == 5 and summary.conflicts[0].error_code == "out_of_scope"
    values = stored(session)
    assert values[("PROCESSED", LOC_THANH, "202603", "ONLINE")] == ("120", None)
    assert values[("AMOUNT", LOC_THANH, "202603", "")] == ("2.5", "ước tính")
    assert values[("HAS_PLAN", LOC_THANH, "202603", "")] == ("true", None)
    assert {c.source_detail for c in history(session)} == {"march.json"}
    form = service.get_form(session, "COMMUNE_FORM")
    march = service.form_period(form, "202603")
    submission = service.find_submission(session, form, unit(session, LOC_THANH), march)
    # A commune's own import is complete when it arrives (5 April), whatever date it claims.
    assert submission is not None and submission.completed_at == NOW and not submission.on_time


def test_the_province_may_date_a_completion(session) -> None:
    document = {
        "dataSet": "COMMUNE_FORM", "completeDate": "2026-04-01T09:00:00+07:00",
        "period": "202603", "orgUnit": LONG_THANH,
        "dataValues": [{"dataElement": "AMOUNT", "value": "1"}],
    }  # fmt: skip
    load(session, json.dumps(document).encode(), "json", user="operator")
    form = service.get_form(session, "COMMUNE_FORM")
    march = service.form_period(form, "202603")
    submission = service.find_submission(session, form, unit(session, LONG_THANH), march)
    assert submission is not None and submission.on_time


def test_dataset_rows_outside_the_form(session) -> None:
    from dieuhanh.indicators.catalog import metadata
    from dieuhanh.indicators.catalog.schemas import DataElementIn

    metadata.save_element(session, DataElementIn(code="LOOSE", name="Không thuộc biểu"))
    document = {
        "dataSet": "COMMUNE_FORM", "period": "202603",
        "dataValues": [
            {"dataElement": "LOOSE", "orgUnit": LOC_THANH, "value": "1"},
            {"dataElement": "AMOUNT", "orgUnit": "25195", "value": "1"},
        ],
    }  # fmt: skip
    summary = load(session, json.dumps(document).encode(), "json", user="admin")
    assert [c.error_code for c in summary.conflicts] == ["not_in_form", "unit_not_assigned"]
    assert summary.status == "ERROR"


def test_invalid_json_and_unknown_data_set(session) -> None:
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load(session, b'{"dataValues": [', "json")
    with pytest.raises(InvalidInput, match="unknown report form 'NOPE'"):
        load(session, b'{"dataSet": "NOPE", "dataValues": []}', "json")


def test_csv_with_and_without_header(session) -> None:
    body = (
        "PROCESSED,202603,25280,ONLINE,,7,someone,2026-04-01,,false\nAMOUNT,202603,25280,,,3,,,,\n"
    )
    with_header = load(session, (HEADER + body).encode(), "csv")
    assert with_header.imported == 2 and with_header.notes == []
    without = load(session, body.replace(",7,", ",8,").encode(), "csv")
    assert without.updated == 1 and without.ignored == 1
    assert "no header row" in without.to_json()["description"]


def test_csv_header_in_another_order(session) -> None:
    data = "orgunit;period;dataelement;value;comment\n25280;202603;AMOUNT;4;ghi chú\n"
    assert load(session, data.encode(), "csv").imported == 1
    assert stored(session)[("AMOUNT", LOC_THANH, "202603", "")] == ("4", "ghi chú")


def test_csv_in_utf16_from_excel_and_utf8_with_bom(session) -> None:
    text = HEADER.replace(",", "\t") + "NOTE\t202603\t25280\t\t\tTổng hợp\t\t\t\t\n"
    summary = load(session, b"\xff\xfe" + text.encode("utf-16-le"), "csv")
    assert summary.imported == 1
    assert stored(session)[("NOTE", LOC_THANH, "202603", "")] == ("Tổng hợp", None)
    bom = "\ufeff" + HEADER + "AMOUNT,202603,25280,,,9,,,,\n"
    assert load(session, bom.encode("utf-8"), "csv").imported == 1


def test_broken_encoding_is_one_error_and_stores_nothing(session) -> None:
    data = (HEADER + "NOTE,202603,25280,,,Tổng hợp,,,,\n").encode("utf-8")
    data += "NOTE,202603,25280,,,Đông,,,,\n".encode("cp1258")  # Windows Vietnamese
    with pytest.raises(InvalidInput) as error:
        load(session, data, "csv", filename="bad.csv")
    message = error.value.message
    assert "bad.csv" in message and "line 3" in message and "offset" in message
    assert "Save the file as UTF-8" in message
    assert stored(session) == {}


def test_utf16_without_bom_is_named(session) -> None:
    with pytest.raises(InvalidInput, match="UTF-16 text without a byte-order mark"):
        load(session, HEADER.encode("utf-16-le"), "csv")


def test_shifted_columns_are_named_per_row(session) -> None:
    data = HEADER + "AMOUNT,25280,202603,,,5,,,,\nRATE,202603,25280,,,50,,,,\n"
    summary = load(session, data.encode(), "csv")
    assert summary.imported == 1
    (conflict,) = summary.conflicts
    assert conflict.row == 2 and conflict.property == "period"
    assert "column 'period' holds '25280', expected a period such as 202603" in conflict.message
    assert "column 'orgunit'" in conflict.message


def _export(session, user, query, fmt):
    reader = principal(session, user)
    rows = export_rows(session, export_statement(session, reader, query))
    chunks = csv_chunks(rows) if fmt == "csv" else json_chunks(rows, query.data_set)
    return "".join(chunks).encode()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_then_import_gives_the_same_values(session, fmt) -> None:
    rows = [
        ("PROCESSED", "ONLINE", "120"), ("PROCESSED", "IN_PERSON", "3"), ("AMOUNT", "", "0.1"),
        ("RATE", "", "99.5"), ("HAS_PLAN", "", "false"),
        ("NOTE", "", 'Dòng 1, "trích dẫn"\nDòng 2'),
    ]  # fmt: skip
    document = {
        "dataValues": [
            {"dataElement": e, "categoryOptionCombo": o, "period": "202603", "orgUnit": u,
             "value": v, "comment": "ghi chú, có dấu phẩy" if e == "AMOUNT" else None}
            for e, o, v in rows for u in (LOC_THANH, LONG_THANH)
        ]
    }  # fmt: skip
    assert load(session, json.dumps(document).encode(), "json", user="admin").imported == 12
    before = stored(session)
    query = ExportQuery(data_set="COMMUNE_FORM", periods=["202603"])
    exported = _export(session, "admin", query, fmt)
    again = load(session, exported, fmt, user="admin")
    assert again.ignored == 12 and again.changed == 0 and not again.conflicts
    removed = load(session, exported, fmt, user="admin", strategy="delete")
    assert removed.deleted == 12 and stored(session) == {}
    restored = load(session, exported, fmt, user="admin")
    assert restored.imported == 12 and stored(session) == before


def test_export_respects_scope_and_children(session) -> None:
    rows = [
        {"dataElement": "AMOUNT", "period": "202603", "orgUnit": u, "value": "1"}
        for u in (LOC_THANH, LONG_THANH)
    ]
    load(session, json.dumps({"dataValues": rows}).encode(), "json", user="admin")
    everything = json.loads(
        _export(session, "admin", ExportQuery(elements=["AMOUNT"], periods=["202603"]), "json")
    )
    assert len(everything["dataValues"]) == 2
    own = json.loads(
        _export(session, "commune", ExportQuery(elements=["AMOUNT"], periods=["202603"]), "json")
    )
    assert [v["orgUnit"] for v in own["dataValues"]] == [LOC_THANH]
    province = ExportQuery(
        elements=["AMOUNT"], start=None, periods=["202603"], units=["75"], children=True
    )
    assert len(json.loads(_export(session, "admin", province, "json"))["dataValues"]) == 2
    with pytest.raises(Exception, match="may not see data of"):
        _export(
            session,
            "commune",
            ExportQuery(elements=["AMOUNT"], periods=["202603"], units=[LONG_THANH]),
            "json",
        )
    with pytest.raises(InvalidInput, match="startDate and endDate"):
        _export(session, "admin", ExportQuery(elements=["AMOUNT"]), "json")
    from datetime import date

    ranged = ExportQuery(data_set="COMMUNE_FORM", start=date(2026, 1, 1), end=date(2026, 3, 31))
    assert len(json.loads(_export(session, "admin", ranged, "json"))["dataValues"]) == 2


# --- streaming: files of any size in bounded memory ---------------------------------------------


def test_header_after_the_values_still_applies(session) -> None:
    """Our export and DHIS2 write the set's keys first; a hand-made file may put them last."""
    data = b'{"dataValues": [{"dataElement": "AMOUNT", "value": "3"}], "period": "202603", "orgUnit": "25280"}'  # noqa: E501
    summary = load(session, data, "json", user="admin")
    assert summary.imported == 1 and summary.conflicts == []
    assert stored(session)[("AMOUNT", LOC_THANH, "202603", "")] == ("3", None)


def test_rows_are_read_as_stored_not_all_at_once(tmp_path) -> None:
    from dieuhanh.indicators.values.dvsformat import parse_csv, parse_json

    items = ",".join(
        json.dumps({"dataElement": "AMOUNT", "value": str(n)}) for n in range(100_000)
    )  # fmt: skip
    path = tmp_path / "big.json"
    path.write_text('{"period": "202603", "orgUnit": "25280", "dataValues": [' + items + "]}")
    with path.open("rb") as source:
        parsed = parse_json(source, "big.json")
        first = next(parsed.rows)
        assert (first.period, first.unit, first.value) == ("202603", "25280", "0")
        assert source.tell() < path.stat().st_size / 4  # not read to the end
    csv_path = tmp_path / "big.csv"
    csv_path.write_text(HEADER + "AMOUNT,202603,25280,,,1,,,,\n" * 100_000)
    with csv_path.open("rb") as source:
        parsed = parse_csv(source, "big.csv")
        assert next(parsed.rows).value == "1"
        assert source.tell() < csv_path.stat().st_size / 4


def test_a_file_broken_after_many_batches_stores_nothing(session, monkeypatch) -> None:
    from dieuhanh.indicators.values import save

    monkeypatch.setattr(save, "BATCH", 2)  # the first rows are stored before the break is read
    item = {"dataElement": "AMOUNT", "orgUnit": "25280", "value": "1"}
    good = ",".join(json.dumps(item | {"period": f"2026{m:02d}"}) for m in range(1, 10))
    data = ('{"dataValues": [' + good + ', {"dataElement": "AMOUNT", "value": ').encode()
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load(session, data, "json", user="admin")
    assert stored(session) == {} and history(session) == []


def test_a_value_named_again_in_a_later_batch(session, monkeypatch) -> None:
    from dieuhanh.indicators.values import save

    monkeypatch.setattr(save, "BATCH", 2)
    rows = [("AMOUNT", "1"), ("RATE", "2"), ("NOTE", "a"), ("AMOUNT", "4"), ("NOTE", "a")]
    data = HEADER + "".join(f"{e},202603,25280,,,{v},,,,\n" for e, v in rows)
    summary = load(session, data.encode(), "csv", user="admin")
    assert (summary.imported, summary.updated, summary.ignored) == (3, 1, 1)
    assert stored(session)[("AMOUNT", LOC_THANH, "202603", "")] == ("4", None)
    assert [change.action for change in history(session)] == ["create"] * 3 + ["update"]


def test_json_in_utf16_with_bom(session) -> None:
    document = {"period": "202603", "orgUnit": "25280",
                "dataValues": [{"dataElement": "NOTE", "value": "Tổng hợp"}]}  # fmt: skip
    data = b"\xff\xfe" + json.dumps(document, ensure_ascii=False).encode("utf-16-le")
    assert load(session, data, "json", user="admin").imported == 1
    assert stored(session)[("NOTE", LOC_THANH, "202603", "")] == ("Tổng hợp", None)
