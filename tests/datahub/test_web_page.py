"""The web page connector against the Resolution 57 stand-in (a real HTTP server): tables and
labelled figures read by CSS selector, reruns without duplicates, a changed layout failing the
run, and Vietnamese number formats read into values."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.connectors.web_page import column_key
from dieuhanh.datahub.models import DatasetRecord
from dieuhanh.datahub.runs import run_source
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.datahub.standins import Nq57StandIn, nq57_source
from dieuhanh.indicators.catalog.models import DataElement, DataValue
from tests.datahub.conftest import COMMUNES


@pytest.fixture
def nq57() -> Iterator[Nq57StandIn]:
    stand_in = Nq57StandIn(list(COMMUNES))
    stand_in.start()
    yield stand_in
    stand_in.stop()


def declare(runtime: Runtime, spec: dict[str, Any]) -> None:
    with runtime.sessions() as session:
        set_actor(session, SYSTEM)
        save_source(session, parse_spec(spec))
        session.commit()


def rows(runtime: Runtime, dataset: str) -> dict[str, dict[str, Any]]:
    with runtime.sessions() as session:
        found = session.scalars(select(DatasetRecord).where(DatasetRecord.dataset == dataset))
        return {row.record_key: row.data for row in found}


def test_headers_become_keys_a_person_can_type() -> None:
    assert column_key("Số nhiệm vụ") == "so_nhiem_vu"
    assert column_key(" Tỷ lệ (%) ") == "ty_le"
    assert column_key("Mã đơn vị") == "ma_don_vi"


def test_the_table_and_the_figures_are_read_and_a_rerun_changes_nothing(
    hub: Runtime, nq57: Nq57StandIn
) -> None:
    declare(hub, nq57_source(nq57.url, schedule=None))
    first = run_source(hub, "nq57_progress")
    assert first.status == "succeeded", first.error
    assert (first.fetched, first.new, first.rejected) == (len(COMMUNES) + 1, len(COMMUNES) + 1, 0)
    progress = rows(hub, "nq57_progress")
    code, name, tasks, done = nq57.rows[0]
    assert progress[code] == {
        "stt": "1",
        "ma_don_vi": code,
        "don_vi": name,
        "so_nhiem_vu": str(tasks),
        "da_hoan_thanh": str(done),
        "ty_le": f"{100 * done / tasks:.1f}".replace(".", ","),
    }
    (summary,) = rows(hub, "nq57_summary").values()
    assert summary["tong_nhiem_vu"] == f"{sum(r[2] for r in nq57.rows):,}".replace(",", ".")
    again = run_source(hub, "nq57_progress")
    assert (again.new, again.updated, again.unchanged) == (0, 0, len(COMMUNES) + 1)


def test_a_changed_layout_fails_the_run_and_keeps_what_was_stored(
    hub: Runtime, nq57: Nq57StandIn
) -> None:
    declare(hub, nq57_source(nq57.url, schedule=None))
    assert run_source(hub, "nq57_progress").status == "succeeded"
    nq57.layout_changed = True
    outcome = run_source(hub, "nq57_progress")
    assert outcome.status == "failed"
    assert "no element matches 'table#tien-do': has the page's layout changed?" in (
        outcome.error or ""
    )
    assert len(rows(hub, "nq57_progress")) == len(COMMUNES)


def test_vietnamese_numbers_land_as_values(hub: Runtime, nq57: Nq57StandIn) -> None:
    spec = nq57_source(nq57.url, schedule=None)
    spec["config"]["figures"] = []
    spec["config"]["mapping"] = {
        "progress": {
            "to": "values",
            "element": "DOCS_INCOMING",
            "unit_field": "ma_don_vi",
            "period": "202611",
            "value_field": "so_nhiem_vu",
            "value_format": "vi",
        }
    }
    declare(hub, spec)
    outcome = run_source(hub, "nq57_progress")
    assert outcome.status == "succeeded", outcome.error
    assert outcome.new == len(COMMUNES)
    with hub.sessions() as session:
        element = session.scalars(
            select(DataElement).where(DataElement.code == "DOCS_INCOMING")
        ).one()
        stored = session.scalars(
            select(DataValue).where(
                DataValue.element_id == element.id, DataValue.period_code == "202611"
            )
        ).all()
    assert sorted(int(v.value) for v in stored) == sorted(row[2] for row in nq57.rows)


def test_a_bad_selector_is_refused_when_declared() -> None:
    spec = copy.deepcopy(nq57_source("http://10.0.0.9/"))
    spec["config"]["tables"][0]["selector"] = "table[[id"
    with pytest.raises(InvalidInput) as caught:
        parse_spec(spec)
    assert caught.value.message.startswith(
        "config.tables[0].selector: 'table[[id' is not a CSS selector"
    )
