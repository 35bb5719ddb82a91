"""The 1022 hotline's cases reach citizen reports through the data hub: its source stores them
as a dataset, each stored page is published, and the subscriber files one report per case —
at the unit the hub matched, once, however often the cases are read again — in the step the
hotline's state maps to, and moves it forward as the hotline moves the case: never backwards,
never over what the IOC did. A late report answered by the hotline clears its alert."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from dieuhanh.alerts.models import Alert
from dieuhanh.alerts.subscriber import subscriptions as alert_subscriptions
from dieuhanh.audit.models import AuditEntry
from dieuhanh.citizen.hotline import subscriptions
from dieuhanh.citizen.models import Channel, CitizenReport, ReportEvent
from dieuhanh.citizen.service import Step, reopen_by_citizen, take_step, watch_deadlines
from dieuhanh.core.access import Principal
from dieuhanh.core.config import ConfigError, load_settings
from dieuhanh.core.db.actor import SYSTEM, Actor, set_actor
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.events import Subscription
from dieuhanh.core.events.log import EventRecord
from dieuhanh.core.runtime import Runtime
from dieuhanh.datahub.runs import RunOutcome, run_source
from dieuhanh.datahub.service import save_source
from dieuhanh.datahub.spec import parse_spec
from dieuhanh.datahub.standins import HotlineStandIn, hotline_source
from tests.core.kit import deliver, subscribe
from tests.datahub.conftest import COMMUNES, HUB_SETTINGS

ACTOR = "datahub:hotline_1022"


@dataclass
class Hotline:
    runtime: Runtime
    stand_in: HotlineStandIn
    cases: Subscription

    def sync(self) -> RunOutcome:
        """One run of the source, and the subscriber delivered up to it."""
        outcome = run_source(self.runtime, "hotline_1022")
        deliver(self.runtime.sessions, self.cases)
        return outcome

    def case(self, number: int, state: str, *, at: datetime | None = None,
             received: datetime | None = None, answer: str | None = None) -> None:  # fmt: skip
        """What the hotline's system says of case ``number`` from now on."""
        record = self.stand_in.records[number - 1]
        if received is not None:
            record["thoi_gian"] = received.isoformat()
        record["trang_thai"] = state
        record["cap_nhat_luc"] = (at or utcnow()).replace(microsecond=0).isoformat()
        if answer is not None:
            record["ket_qua"] = answer

    def report(self, number: int) -> dict[str, Any]:
        with self.runtime.sessions() as session:
            report = session.scalars(
                select(CitizenReport).where(CitizenReport.external_id == f"1022-{number:06d}")
            ).one()
            history = session.execute(
                select(ReportEvent.action, ReportEvent.actor, ReportEvent.at)
                .where(ReportEvent.report_id == report.id)
                .order_by(ReportEvent.id)
            ).all()
            return {"id": report.id, "code": report.code, "status": report.status,
                    "answer": report.answer, "resolved_at": report.resolved_at,
                    "received_at": report.received_at, "token": report.token,
                    "history": [(a, who) for a, who, _ in history],
                    "last_step_at": history[-1][2]}  # fmt: skip


@pytest.fixture
def hotline(database_url: str, make_runtime: Callable[..., Runtime]) -> Iterator[Hotline]:
    runtime = make_runtime(database_url, datahub=HUB_SETTINGS)
    (cases,) = subscriptions(runtime)
    subscribe(runtime.sessions, cases)
    stand_in = HotlineStandIn(list(COMMUNES), cases=6)
    url = stand_in.start()
    try:
        with runtime.sessions() as session:
            set_actor(session, SYSTEM)
            save_source(session, parse_spec(hotline_source(url, schedule=None)))
            session.commit()
        yield Hotline(runtime, stand_in, cases)
    finally:
        stand_in.stop()


def topics_of(runtime: Runtime, code: str) -> list[str]:
    with runtime.sessions() as session:
        rows = session.scalars(select(EventRecord).order_by(EventRecord.id)).all()
        return [r.topic for r in rows if r.topic.startswith("citizen_report.")
                and r.payload.get("code") == code]  # fmt: skip


def alerts_of(runtime: Runtime, code: str) -> list[tuple[str | None, str]]:
    """(rule, state) of the report's alerts, oldest first."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(Alert.rule_code, Alert.state)
            .where(Alert.subject == f"report:{code}")
            .order_by(Alert.id)
        ).all()
        return [(rule, state) for rule, state in rows]


def test_cases_are_filed_in_the_steps_their_hotline_states_map_to(hotline: Hotline) -> None:
    answered_at = utcnow().replace(microsecond=0) - timedelta(hours=1)
    hotline.case(1, "Mới tiếp nhận")
    hotline.case(2, "Đã chuyển xử lý")
    hotline.case(3, "Đang xử lý")
    hotline.case(4, "Đã trả lời", at=answered_at,
                 answer="UBND xã đã vá ổ gà, thông báo cho người dân.")  # fmt: skip
    hotline.case(5, "ĐÃ TRẢ LỜI", at=answered_at)  # no diacritics matter, nor case
    hotline.case(6, "da chuyen xu ly")
    assert hotline.sync().new == 6
    statuses = [hotline.report(n)["status"] for n in range(1, 7)]
    assert statuses == ["new", "accepted", "accepted", "resolved", "resolved", "accepted"]

    answered = hotline.report(4)
    assert answered["answer"] == "UBND xã đã vá ổ gà, thông báo cho người dân."
    assert answered["resolved_at"] == answered_at  # when the hotline answered, not when read
    assert answered["history"] == [("created", ACTOR), ("accept", ACTOR), ("resolve", ACTOR)]
    default = "Tổng đài 1022 đã trả lời công dân (phản ánh 1022-000005)."
    assert hotline.report(5)["answer"] == default  # the case gave no answer of its own
    assert topics_of(hotline.runtime, answered["code"]) == [
        "citizen_report.created", "citizen_report.routed", "citizen_report.resolved"]  # fmt: skip
    assert topics_of(hotline.runtime, hotline.report(2)["code"]) == [
        "citizen_report.created", "citizen_report.routed"]  # fmt: skip
    with hotline.runtime.sessions() as session:
        changes = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity_type == "citizen_reports",
                AuditEntry.entity_id == str(answered["id"]),
            )
        ).all()
    assert {(entry.actor, entry.via) for entry in changes} == {(ACTOR, "system")}
    assert any((entry.after or {}).get("status") == "resolved" for entry in changes)

    assert hotline.sync().updated == 0  # read again unchanged: nothing filed, nothing moved
    with hotline.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CitizenReport)) == 6
        assert session.scalar(select(func.count()).select_from(ReportEvent)) == 13


def test_a_late_case_alerts_once_and_clears_when_the_hotline_answers(hotline: Hotline) -> None:
    runtime = hotline.runtime
    received = utcnow().replace(microsecond=0) - timedelta(days=30)
    hotline.case(3, "Đang xử lý", received=received, at=received + timedelta(hours=5))
    hotline.sync()
    late = hotline.report(3)
    assert late["status"] == "accepted"
    assert late["last_step_at"] == received + timedelta(hours=5)
    alerts = alert_subscriptions(runtime)
    subscribe(runtime.sessions, *alerts)
    with runtime.sessions() as session:
        assert watch_deadlines(session, runtime.settings) == "1 overdue, 1 escalated, 0 closed"
        session.commit()
    deliver(runtime.sessions, alerts[0])
    # The escalated (major) alert replaced the overdue (minor) one: one open alert.
    assert alerts_of(runtime, late["code"]) == [
        ("citizen_report_overdue", "resolved"),
        ("citizen_report_escalated", "open"),
    ]

    escalated_at = hotline.report(3)["last_step_at"]
    # The hotline answered ten minutes before the IOC escalated, which it could not know: the
    # answer is dated after the escalation, so the report's history stays in order.
    hotline.case(3, "Đã trả lời", at=escalated_at - timedelta(minutes=10), answer="Đã xử lý.")
    assert hotline.sync().updated == 1
    answered = hotline.report(3)
    assert (answered["status"], answered["resolved_at"]) == ("resolved", escalated_at)
    assert answered["history"][-2:] == [("escalate", "system"), ("resolve", ACTOR)]
    deliver(runtime.sessions, alerts[0])
    assert alerts_of(runtime, late["code"]) == [
        ("citizen_report_overdue", "resolved"),
        ("citizen_report_escalated", "resolved"),
    ]


def test_the_hotline_never_moves_a_report_back_nor_over_the_ioc(hotline: Hotline) -> None:
    runtime = hotline.runtime
    hotline.case(1, "Đã trả lời")
    hotline.case(2, "Đã chuyển xử lý")
    hotline.case(3, "Đang xử lý")
    hotline.case(4, "Đã trả lời", answer="Đã trả lời qua điện thoại.")
    hotline.sync()
    operator = Principal.system("nguyen.van.an", runtime.settings.province_code)
    with runtime.sessions() as session:
        set_actor(session, Actor(name="nguyen.van.an", via="web"))
        reports = {
            r.external_id: r
            for r in session.scalars(select(CitizenReport).where(
                CitizenReport.channel == Channel.IMPORT))
        }  # fmt: skip
        take_step(session, runtime.settings, operator, reports["1022-000002"], Step("start"))
        take_step(session, runtime.settings, operator, reports["1022-000003"],
                  Step("resolve", note="Đội trật tự đã xử lý tại chỗ."))  # fmt: skip
        reopen_by_citizen(session, reports["1022-000004"], reports["1022-000004"].token,
                          "Ổ gà vẫn còn.")  # fmt: skip
        session.commit()
    before = [hotline.report(n)["history"] for n in range(1, 5)]

    hotline.case(1, "Đang xử lý")  # backwards: the hotline reopened nothing in the IOC
    hotline.case(2, "Đang xử lý")  # the operator started it already
    hotline.case(3, "Đã trả lời", answer="Trả lời khác.")  # the operator answered it already
    hotline.case(4, "Đã trả lời", answer="Đã trả lời lần hai.")  # the citizen reopened it
    assert hotline.sync().updated == 4
    after = [hotline.report(n) for n in range(1, 5)]
    assert [r["status"] for r in after] == ["resolved", "in_progress", "resolved", "reopened"]
    assert [r["history"] for r in after] == before
    assert after[2]["answer"] == "Đội trật tự đã xử lý tại chỗ."


def test_an_unknown_state_word_is_logged_once_and_leaves_the_report(
    hotline: Hotline, caplog: pytest.LogCaptureFixture
) -> None:
    hotline.case(1, "Tạm dừng xử lý")
    hotline.case(2, "Tạm dừng xử lý")
    hotline.case(3, "Đã chuyển xử lý")
    with caplog.at_level(logging.WARNING, logger="dieuhanh.citizen"):
        hotline.sync()
        hotline.case(1, "Tạm dừng xử lý", at=utcnow() - timedelta(minutes=5))  # read again
        assert hotline.sync().updated == 1
    said = [r.getMessage() for r in caplog.records if "Tạm dừng xử lý" in r.getMessage()]
    assert said == ["hotline state 'Tạm dừng xử lý' is not in citizen.hotline_states: its "
                    "cases stay as they are"]  # fmt: skip
    assert [hotline.report(n)["status"] for n in (1, 2, 3)] == ["new", "new", "accepted"]


def test_a_case_stays_in_the_ioc_however_often_it_is_read(hotline: Hotline) -> None:
    assert hotline.sync().new == 6
    hotline.case(1, "Đã trả lời")  # a case changes: read again
    assert hotline.sync().updated == 1
    with hotline.runtime.sessions() as session:
        reports = session.scalars(select(CitizenReport)).all()
    assert len(reports) == 6  # not filed twice
    first = next(r for r in reports if r.external_id == "1022-000001")
    case = hotline.stand_in.records[0]
    assert first.description.startswith(case["tieu_de"])
    assert first.located_by == "source" and first.suggested_category is not None
    assert first.received_at.isoformat()[:16] == case["thoi_gian"][:16]
    assert first.status == "resolved"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ('{"Đã trả lời": "resolved", "da tra loi": "new"}', "are the same word"),
        ('{"Đã trả lời": "closed"}', "'new', 'accepted', 'in_progress' or 'resolved'"),
        ('{"  ": "new"}', "must have letters or digits"),
    ],
)
def test_the_state_map_is_checked(monkeypatch: pytest.MonkeyPatch, value: str, words: str) -> None:
    monkeypatch.setenv("DIEUHANH_CITIZEN__HOTLINE_STATES", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "citizen.hotline_states" in message and words in message
