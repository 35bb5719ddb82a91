"""Figures for the assistant's tests: a few values put directly (fast), or the demo's two years
(for the tests that compare every operation with the analytics API on realistic data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators import demo as indicator_demo
from dieuhanh.indicators.catalog.periods import PeriodType, period_of
from tests.indicators.builders import element_by_code, put, unit

LOC_THANH, LOC_QUANG, LOC_THANH_2 = "25280", "25292", "25294"  # Lộc Thạnh, Lộc Quang, Lộc Thành

Ask = Callable[..., dict[str, Any]]


@pytest.fixture
def demo_figures(runtime: Runtime) -> Runtime:
    """The demo's 24 months before today (the assistant reads "tháng trước" from today)."""
    assert indicator_demo.ensure_values(runtime)
    return runtime


@pytest.fixture
def few_figures(runtime: Runtime) -> dict[str, str]:
    return put_few_figures(runtime)


def put_few_figures(runtime: Runtime) -> dict[str, str]:
    """Processed and overdue dossiers of Lộc Thạnh and Lộc Quang last month, the month before
    and the same month a year earlier; the period codes by name."""
    last = period_of(PeriodType.MONTHLY, runtime.today()).previous()
    periods = {"last": last.code, "before": last.previous().code,
               "year_ago": last.same_period_last_year().code}  # fmt: skip
    figures = {
        LOC_THANH: {"last": (200, 6), "before": (180, 9), "year_ago": (150, 12)},
        LOC_QUANG: {"last": (120, 3), "before": (100, 1), "year_ago": (90, 9)},
    }
    with runtime.sessions() as session:
        processed = element_by_code(session, "DOSSIERS_PROCESSED")
        overdue = element_by_code(session, "DOSSIERS_OVERDUE")
        for code, months in figures.items():
            where = unit(session, code)
            for name, (done, late) in months.items():
                put(session, processed, where, periods[name], done, "ONLINE")
                put(session, overdue, where, periods[name], late, "ONLINE")
        session.commit()
    return periods


@pytest.fixture
def ask(client: TestClient, auth: Callable[[str], dict[str, str]]) -> Ask:
    """``ask("operator", "câu hỏi", conversation_id=…)`` → the API's answer (asserting 200)."""
    headers: dict[str, dict[str, str]] = {}

    def asking(user: str, question: str, conversation_id: str | None = None) -> dict[str, Any]:
        if user not in headers:
            headers[user] = auth(user)
        body: dict[str, Any] = {"question": question}
        if conversation_id:
            body["conversation_id"] = conversation_id
        response = client.post("/api/v1/assistant/ask", json=body, headers=headers[user])
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    return asking
