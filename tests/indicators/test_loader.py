"""The shipped indicator configuration and the YAML loader."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dieuhanh.core.errors import InvalidInput
from dieuhanh.indicators import loader
from dieuhanh.indicators.catalog import expression
from dieuhanh.indicators.catalog.form_models import ReportForm, ValidationRule
from dieuhanh.indicators.catalog.metadata import References, check_expression
from dieuhanh.indicators.catalog.models import DataElement, Indicator
from dieuhanh.units.models import Unit


@pytest.fixture
def session(runtime):
    with runtime.sessions() as session:
        yield session


def load(session, text, name="mine.yaml", update=False):
    report = loader.load(session, [(name, text)], province_code="75", update=update)
    session.commit()
    return report


def test_setup_loaded_the_shipped_set_and_every_formula_checks(session) -> None:
    indicators = {i.code: i for i in session.scalars(select(Indicator))}
    national = ["NAT_IIP", "NAT_RETAIL", "NAT_EXPORT", "NAT_IMPORT", "NAT_BUDGET_REVENUE",
                "NAT_BUDGET_SPENDING", "NAT_PUBINV_DISBURSED", "NAT_PUBINV_RATE",
                "NAT_CPI"]  # fmt: skip
    assert set(national) <= set(indicators)
    assert {"OVERDUE_DOSSIER_RATE", "ON_TIME_DOSSIER_RATE", "ONLINE_DOSSIER_RATE",
            "DOC_ON_TIME_RATE", "DIGITAL_SIGNATURE_RATE", "BUDGET_REVENUE_VS_PLAN",
            "BUDGET_SPENDING_VS_PLAN", "PUBLIC_INV_DISBURSEMENT_RATE",
            "REPORTS_1022_ON_TIME_RATE"} <= set(indicators)  # fmt: skip
    refs = References.load(session)
    for indicator in indicators.values():
        check_expression(indicator.numerator, "numerator", indicator.code, refs)
        check_expression(indicator.denominator, "denominator", indicator.code, refs)
    assert (
        expression.find_cycles(
            {
                i.code: [expression.parse(i.numerator), expression.parse(i.denominator)]
                for i in indicators.values()
            }
        )
        == []
    )
    for rule in session.scalars(select(ValidationRule)):
        check_expression(rule.left, "left", rule.code, refs)
        check_expression(rule.right, "right", rule.code, refs)
    forms = {f.code: f for f in session.scalars(select(ReportForm))}
    commune = forms["COMMUNE_MONTHLY"]
    assert (commune.period_type, commune.timely_days, commune.expiry_days) == ("monthly", 2, 15)
    assert commune.approval_required and len(commune.units) == 95
    departments = session.scalar(select(Unit).where(Unit.code == "STC"))
    national_form = forms["NATIONAL_MONTHLY"]
    assert [u.unit_id for u in national_form.units] == [departments.id]
    assert national_form.timely_days == 2 and len(national_form.elements) == 9
    assert len(forms["DEPARTMENT_MONTHLY"].units) == 18


def test_loading_again_keeps_edits_unless_update(session) -> None:
    element = session.scalar(select(DataElement).where(DataElement.code == "DOCS_INCOMING"))
    element.name = "Văn bản đến (đã sửa)"
    session.commit()
    files = loader.shipped_files()
    report = loader.load(session, files, province_code="75")
    assert report.created == {} and report.updated == {}
    assert report.kept["dataElements"] == 21 and report.kept["indicators"] == 21
    session.commit()
    session.refresh(element)
    assert element.name == "Văn bản đến (đã sửa)"
    updated = loader.load(session, files, province_code="75", update=True)
    session.commit()
    session.refresh(element)
    assert updated.updated["dataElements"] == 21
    assert element.name == "Số văn bản đến phải xử lý"


def test_a_file_of_ones_own(session) -> None:
    text = """
constants:
  - {code: POPULATION_K, name: Dân số (nghìn người), value: 3200}
dataElements:
  - code: VISITORS
    name: Lượt khách du lịch
    valueType: integer
forms:
  - code: TOURISM
    name: Báo cáo du lịch
    periodType: quarterly
    elements: [VISITORS]
    units: ["@province", "SVHTTDL"]
indicators:
  - code: VISITORS_PER_K
    name: Lượt khách trên nghìn dân
    numerator: "#{VISITORS}"
    denominator: "C{POPULATION_K}"
"""
    report = load(session, text)
    assert report.created == {"constants": 1, "dataElements": 1, "forms": 1, "indicators": 1}
    form = session.scalar(select(ReportForm).where(ReportForm.code == "TOURISM"))
    assert form.period_type == "quarterly" and len(form.units) == 2


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("dataElement:\n  - code: X\n", "mine.yaml line 1: unknown key 'dataElement'"),
        (
            "dataElements:\n  - code: X\n    name: x\n    valueTyp: number\n",
            "mine.yaml line 4: dataElements[0].valueTyp: unknown key",
        ),
        (
            "dataElements:\n  - code: X\n    name: x\n    valueType: money\n",
            "mine.yaml line 4: dataElements[0].valueType: Input should be",
        ),
        ("dataElements:\n  - name: x\n", "mine.yaml line 2: dataElements[0]: code is required"),
        ("dataElements: [\n", "mine.yaml line 2: not valid YAML"),
        (
            "dataElements:\n  - code: X\n    code: Y\n    name: x\n",
            "mine.yaml line 3: key 'code' appears twice",
        ),
        (
            "indicators:\n  - code: BAD\n    name: x\n    numerator: '#{DOCS_INCOMING} +'\n",
            "mine.yaml line 2: indicators[0] (BAD): numerator of BAD: ",
        ),
        (
            "indicators:\n  - code: BAD\n    name: x\n    numerator: '#{NOPE}'\n",
            "unknown data element 'NOPE' at position 0",
        ),
        ("forms:\n  - code: F\n    name: f\n    units: ['99999']\n", "Unknown unit code(s): 99999"),
        ("- just a list\n", "mine.yaml line 1: expected sections"),
    ],
)
def test_errors_name_file_line_and_key(session, text, words) -> None:
    with pytest.raises(InvalidInput) as error:
        load(session, text)
    assert words in error.value.message


def test_nothing_is_stored_when_a_later_record_fails(session) -> None:
    text = (
        "dataElements:\n  - {code: FIRST, name: a}\n"
        "indicators:\n  - {code: BROKEN, name: b, numerator: '#{FIRST'}\n"
    )
    with pytest.raises(InvalidInput):
        load(session, text)
    session.rollback()
    assert session.scalar(select(DataElement).where(DataElement.code == "FIRST")) is None


def test_cli_load(sqlite_runtime, tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from dieuhanh.cli import main

    path = tmp_path / "extra.yaml"
    path.write_text(
        "dataElements:\n  - {code: CLI_ELEMENT, name: Từ dòng lệnh}\n", encoding="utf-8"
    )
    monkeypatch.setenv("DIEUHANH_DATABASE_URL", str(sqlite_runtime.engine.url))
    monkeypatch.setenv("DIEUHANH_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["indicators", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "created 1 dataElements" in result.output
    again = CliRunner().invoke(main, ["indicators", "load", str(path)])
    assert "kept 1 dataElements" in again.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("forms:\n  - {code: F, name: f, periodTyp: monthly}\n", encoding="utf-8")
    failed = CliRunner().invoke(main, ["indicators", "load", str(bad)])
    assert (
        failed.exit_code == 2
        and "bad.yaml line 2: forms[0].periodTyp: unknown key" in failed.output
    )
