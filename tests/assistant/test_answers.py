"""Each operation answered with the figures the analytics API gives for the same query (issue 14,
"Done when"), on the demo's two years of figures, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.periods import PeriodType, period_of
from tests.assistant.conftest import LOC_THANH, Ask

LONG_KHANH = "26080"  # Phường Long Khánh


def api_values(
    client: TestClient, headers: dict[str, str], path: str, **params: str
) -> dict[tuple[str, str], float | None]:
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {(row["unit"], row["period"]): row["value"] for row in response.json()["rows"]}


def stated(reply: dict[str, Any]) -> dict[tuple[str, str], float | None]:
    return {(f["unit"], f["period"]): f["value"] for f in reply["figures"]}


def test_every_operation_states_the_analytics_figures(
    demo_figures: Runtime,
    client: TestClient,
    ask: Ask,
    auth: Callable[[str], dict[str, str]],
) -> None:
    headers = auth("operator")
    last = period_of(PeriodType.MONTHLY, demo_figures.today()).previous()
    analytics = "/api/v1/analytics"

    value = ask("operator", "Tỷ lệ hồ sơ trễ hạn của xã Lộc Thạnh tháng trước là bao nhiêu?")
    query = value["queries"][0]
    assert (query["operation"], query["indicator"]) == ("value", "OVERDUE_DOSSIER_RATE")
    assert (query["units"], query["periods"]) == ([LOC_THANH], [last.code])
    expected = api_values(client, headers, analytics, indicator="OVERDUE_DOSSIER_RATE",
                          unit=LOC_THANH, period=last.code)  # fmt: skip
    assert stated(value) == expected and None not in expected.values()
    figure = value["figures"][0]
    assert _vi(figure["value"]) in value["answer"] and last.label("vi").lower() in value["answer"]
    assert any(
        link["href"].startswith("/indicators/dashboard?unit=25280") for link in value["links"]
    )
    assert "Xã Lộc Thạnh (25280)" in query["text"]

    year_ago = ask("operator", "So với cùng kỳ năm ngoái thì sao?", value["conversation_id"])
    assert year_ago["queries"][0]["operation"] == "compare_last_year"
    assert stated(year_ago) == api_values(
        client, headers, analytics, indicator="OVERDUE_DOSSIER_RATE", unit=LOC_THANH,
        period=f"{last.code};{last.same_period_last_year().code}",
    )  # fmt: skip
    assert len(year_ago["figures"]) == 2 and "cùng kỳ năm trước" in year_ago["answer"]

    previous = ask("operator", "Tỷ lệ hồ sơ trực tuyến toàn tỉnh tháng trước so với kỳ trước")
    assert previous["queries"][0]["operation"] == "compare_previous"
    assert stated(previous) == api_values(
        client, headers, analytics, indicator="ONLINE_DOSSIER_RATE", unit="75",
        period=f"{last.code};{last.previous().code}",
    )  # fmt: skip

    ranking = ask("operator", "Top 5 xã có tỷ lệ văn bản ký số thấp nhất tháng trước")
    assert ranking["queries"][0]["order"] == "lowest"
    every = api_values(client, headers, analytics, indicator="DIGITAL_SIGNATURE_RATE",
                       level="commune", parent="75", period=last.code)  # fmt: skip
    lowest = sorted(v for v in every.values() if v is not None)[:5]
    assert [f["value"] for f in ranking["figures"]] == lowest
    assert all(every[key] == v for key, v in stated(ranking).items())

    trend = ask("operator", "Xu hướng số hồ sơ tiếp nhận của phường Long Khánh 6 tháng qua")
    months = [last.offset(-i).code for i in range(5, -1, -1)]
    assert trend["queries"][0]["periods"] == months
    assert stated(trend) == api_values(
        client, headers, "/api/v1/analytics/dataElements", element="DOSSIERS_RECEIVED",
        unit=LONG_KHANH, period=";".join(months),
    )  # fmt: skip
    assert trend["chart"]["series"][0]["values"] == [f["value"] for f in trend["figures"]]

    reporting = ask("operator", "Xã nào chưa nộp báo cáo tháng trước?")
    board = client.get("/api/v1/completeness", params={"form": "COMMUNE_MONTHLY",
                       "period": last.code}, headers=headers).json()  # fmt: skip
    missing = [u["unitName"] for u in board["units"] if u["periods"][last.code] == "missing"]
    counts = {f["indicator"]: f["value"] for f in reporting["figures"]}
    assert counts["COMMUNE_MONTHLY.NOT_SUBMITTED"] == len(missing)
    assert counts["COMMUNE_MONTHLY.ACTUAL_REPORTS"] == board["totals"]["submitted"]
    assert all(name in reporting["answer"] for name in missing[:10])


def _vi(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")
