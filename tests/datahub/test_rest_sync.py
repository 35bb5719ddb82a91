"""The REST connector against the iGate stand-in (a real HTTP server on loopback), on SQLite
and PostgreSQL: incremental syncing, reruns without duplicates, failures recorded with their
reason, secrets, the network policy, and values landing through the one write path."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from dieuhanh.core.db.actor import SYSTEM, set_actor
from dieuhanh.core.errors import Conflict
from dieuhanh.core.events import EventRecord
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.models import DatasetRecord, DataSource, RunPayload, SourceRun
from dieuhanh.datahub.runs import payload_body, run_source
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.datahub.standins import IGateStandIn, igate_source
from dieuhanh.indicators.catalog.models import DataElement, DataValue, Source
from tests.conftest import LOC_THANH
from tests.datahub.conftest import COMMUNES


def declare(runtime: Runtime, spec: dict[str, Any]) -> None:
    with runtime.sessions() as session:
        set_actor(session, SYSTEM)
        save_source(session, parse_spec(spec))
        session.commit()


def records(runtime: Runtime) -> dict[str, dict[str, Any]]:
    with runtime.sessions() as session:
        rows = session.scalars(
            select(DatasetRecord).where(DatasetRecord.dataset == "igate_dossiers")
        )
        return {row.record_key: row.data for row in rows}


def this_month() -> str:
    return datetime.now(UTC).strftime("%Y%m")


def test_first_run_stores_every_dossier_and_monthly_values(
    hub: Runtime, igate: IGateStandIn
) -> None:
    declare(hub, igate_source(igate.url, schedule=None))
    outcome = run_source(hub, "igate_dossiers")
    assert outcome.status == "succeeded", outcome.error
    monthly = igate.monthly_statistics(this_month())["items"]
    assert outcome.fetched == 120 + len(monthly)
    assert outcome.new == 120 + len(monthly)
    assert outcome.rejected == 0
    stored = records(hub)
    assert len(stored) == 120
    assert {row["don_vi"]["ma"] for row in stored.values()} <= {code for code, _ in COMMUNES}
    # 120 dossiers in pages of 25: five pages, each kept raw; and one statistics page.
    with hub.sessions() as session:
        payloads = session.scalars(select(RunPayload).order_by(RunPayload.sequence)).all()
        assert [p.resource for p in payloads] == ["dossiers"] * 5 + ["monthly"]
        assert sum(p.records for p in payloads) == outcome.fetched
        assert b"ma_ho_so" in payload_body(payloads[0])
        element = session.scalar(select(DataElement).where(DataElement.code == "DOSSIERS_RECEIVED"))
        assert element is not None
        values = session.scalars(
            select(DataValue).where(
                DataValue.element_id == element.id, DataValue.period_code == this_month()
            )
        ).all()
        assert len(values) == len(monthly)
        assert {value.option for value in values} <= {"ONLINE", "IN_PERSON"}
        assert all(value.source == Source.CONNECTOR for value in values)
        assert all(
            value.source_detail and value.source_detail.startswith("datahub:igate_dossiers run ")
            for value in values
        )


def test_a_rerun_changes_nothing_and_fetches_only_from_the_cursor(
    hub: Runtime, igate: IGateStandIn
) -> None:
    declare(hub, igate_source(igate.url, schedule=None))
    first = run_source(hub, "igate_dossiers")
    assert first.status == "succeeded", first.error
    igate.requests.clear()
    again = run_source(hub, "igate_dossiers")
    assert again.status == "succeeded", again.error
    assert (again.new, again.updated, again.rejected) == (0, 0, 0)
    assert again.unchanged == again.fetched
    # Incremental: the second run asks from the newest update time minus the look-back hour.
    first_request = igate.requests[0]
    assert "updated_since=" in first_request
    assert again.fetched < first.fetched
    assert len(records(hub)) == 120

    igate.grow(arrivals=3, finishes=2)
    third = run_source(hub, "igate_dossiers")
    assert third.status == "succeeded", third.error
    assert third.new >= 3  # three dossiers (and this month's counts may be new or updated)
    stored = records(hub)
    assert len(stored) == 123
    finished_now = [row for row in stored.values() if row["ngay_hoan_thanh"] == row["cap_nhat_luc"]]
    assert finished_now


def test_rate_limit_is_waited_for_and_the_run_succeeds(hub: Runtime, igate: IGateStandIn) -> None:
    declare(hub, igate_source(igate.url, schedule=None))
    igate.faults = ["429"]
    outcome = run_source(hub, "igate_dossiers")
    assert outcome.status == "succeeded", outcome.error
    assert len(records(hub)) == 120


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("500", "answered HTTP 500 after 2 attempt(s)"),
        ("bad_json", "did not answer JSON"),
        ("hang:4", "did not answer within 1.5 s"),
        ("layout", "has no 'data'"),
    ],
)
def test_a_failing_server_fails_the_run_with_its_reason_and_loses_nothing(
    hub: Runtime, igate: IGateStandIn, fault: str, expected: str
) -> None:
    declare(hub, igate_source(igate.url, schedule=None))
    assert run_source(hub, "igate_dossiers").status == "succeeded"
    before = records(hub)
    igate.faults = [fault] * 2  # both attempts
    outcome = run_source(hub, "igate_dossiers")
    assert outcome.status == "failed"
    assert outcome.error is not None and expected in outcome.error
    assert records(hub) == before
    with hub.sessions() as session:
        source = session.scalars(select(DataSource)).one()
        assert source.state == "failing"
        assert source.last_error == outcome.error
        run = session.get(SourceRun, outcome.run_id)
        assert run is not None and run.status == "failed" and run.finished_at is not None
        assert source.running_until is None  # the lease is released


def test_state_changes_are_published_once_each(hub: Runtime, igate: IGateStandIn) -> None:
    declare(hub, igate_source(igate.url, schedule=None))
    run_source(hub, "igate_dossiers")  # never → live
    igate.faults = ["500", "500"]
    run_source(hub, "igate_dossiers")  # live → failing
    igate.faults = ["500", "500"]
    run_source(hub, "igate_dossiers")  # failing, still: no new event
    run_source(hub, "igate_dossiers")  # failing → live
    with hub.sessions() as session:
        events = session.scalars(
            select(EventRecord)
            .where(EventRecord.topic == "source.state_changed")
            .order_by(EventRecord.id)
        ).all()
    moves = [(e.payload["previous_state"], e.payload["state"]) for e in events]
    assert moves == [("never", "live"), ("live", "failing"), ("failing", "live")]
    assert "HTTP 500" in events[1].payload["reason"]
    assert events[2].payload["reason"] is None


def test_a_missing_secret_names_the_variable_and_no_secret_is_stored(
    hub: Runtime, igate: IGateStandIn
) -> None:
    igate.token = "igate-token-7f3a9c"
    spec = igate_source(igate.url, schedule=None)
    spec["config"]["client"]["auth"] = {
        "type": "bearer",
        "token": "${DIEUHANH_SOURCE_IGATE_TOKEN}",
    }
    declare(hub, spec)
    missing = run_source(hub, "igate_dossiers", environ={})
    assert missing.status == "failed"
    assert "DIEUHANH_SOURCE_IGATE_TOKEN is not set" in (missing.error or "")
    found = run_source(
        hub, "igate_dossiers", environ={"DIEUHANH_SOURCE_IGATE_TOKEN": "igate-token-7f3a9c"}
    )
    assert found.status == "succeeded", found.error
    with hub.sessions() as session:
        stored = [repr(source.config) for source in session.scalars(select(DataSource))] + [
            payload.reference for payload in session.scalars(select(RunPayload))
        ]
    assert not any("igate-token-7f3a9c" in text for text in stored)


def test_the_network_policy_applies_to_sources(
    database_url: str, make_runtime: Any, igate: IGateStandIn
) -> None:
    strict = make_runtime(database_url)  # the default: private ranges, no loopback
    declare(strict, igate_source(igate.url, schedule=None))
    outcome = run_source(strict, "igate_dossiers")
    assert outcome.status == "failed"
    assert "loopback address; datahub.allowed_networks does not allow it" in (outcome.error or "")
    assert igate.requests == []


def test_records_whose_unit_is_unknown_are_rejected_one_by_one(
    hub: Runtime, igate: IGateStandIn
) -> None:
    igate.communes.append(("99999", "Xã Không Có"))
    igate.grow(arrivals=30, finishes=0)
    declare(hub, igate_source(igate.url, schedule=None))
    outcome = run_source(hub, "igate_dossiers")
    assert outcome.status == "succeeded", outcome.error
    unknown = [p for p in outcome.problems if "99999" in p["message"]]
    assert unknown and outcome.rejected >= len(unknown)
    assert unknown[0]["field"] in {"don_vi.ma", "ma_don_vi"}
    assert "no unit matches '99999'" in unknown[0]["message"]
    assert len(records(hub)) == 150 - sum(1 for p in unknown if p["field"] == "don_vi.ma")


def test_a_running_source_is_not_run_twice(hub: Runtime, igate: IGateStandIn) -> None:
    declare(hub, igate_source(igate.url, schedule=None))
    with hub.sessions() as session:
        session.scalars(select(DataSource)).one().running_until = datetime(2999, 1, 1, tzinfo=UTC)
        session.commit()
    with pytest.raises(Conflict, match="running already"):
        run_source(hub, "igate_dossiers")
    with hub.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SourceRun)) == 0


def test_the_declaration_is_kept_as_given(hub: Runtime, igate: IGateStandIn) -> None:
    spec = igate_source(igate.url, schedule="*/5 * * * *")
    declare(hub, copy.deepcopy(spec))
    with hub.sessions() as session:
        source = session.scalars(select(DataSource)).one()
        assert source.config == spec["config"]
        assert source.schedule == "*/5 * * * *"
        assert source.state == "never"
    assert LOC_THANH in {code for code, _ in COMMUNES}
