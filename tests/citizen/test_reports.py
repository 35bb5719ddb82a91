"""Citizen reports end to end over HTTP, on SQLite and PostgreSQL: placed by point, address or
category, the border's neighbour offered and the report transferred, handled through its steps,
reopened by the citizen, late ones overdue then escalated (fake clock), and a commune's officer
kept to the commune's own reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.citizen.models import CitizenReport
from dieuhanh.citizen.service import watch_deadlines
from dieuhanh.citizen.workdays import WorkCalendar
from dieuhanh.core.events.log import EventRecord
from dieuhanh.core.runtime import Runtime
from tests.citizen.conftest import Places
from tests.conftest import LOC_THANH

Auth = Callable[[str], dict[str, str]]
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def enter(client: TestClient, auth: Auth, who: str = "operator", **fields: Any) -> dict[str, Any]:
    body = {"category": "road_damage", "description": "Ổ gà lớn giữa đường, xe máy dễ té.",
            "contact_phone": "0912345678", **fields}  # fmt: skip
    response = client.post("/api/v1/citizen/reports", json=body, headers=auth(who))
    assert response.status_code == 201, response.text
    return response.json()


def topics_of(runtime: Runtime, code: str) -> list[str]:
    with runtime.sessions() as session:
        rows = session.scalars(select(EventRecord).order_by(EventRecord.id)).all()
        return [r.topic for r in rows if r.topic.startswith("citizen_report.")
                and r.payload.get("code") == code]  # fmt: skip


def test_a_point_inside_bien_hoa_is_routed_to_it(
    runtime: Runtime, client: TestClient, auth: Auth, places: Places
) -> None:
    lat, lon = places.inside
    report = enter(client, auth, lat=lat, long=lon)
    assert (report["unit"], report["unit_name"], report["located_by"]) == (
        places.unit,
        "Phường Biên Hòa",
        "point",
    )
    assert report["neighbours"] == [] and report["status"] == "new"
    assert report["code"].startswith("PA") and report["contact"]["phone"] == "0912345678"
    assert topics_of(runtime, report["code"]) == ["citizen_report.created", "citizen_report.routed"]


def test_a_report_at_a_border_offers_the_neighbour_and_is_transferred(
    runtime: Runtime, client: TestClient, auth: Auth, places: Places
) -> None:
    lat, lon = places.near_border
    report = enter(client, auth, lat=lat, long=lon)
    assert report["unit"] == places.unit
    assert places.neighbour in [n["code"] for n in report["neighbours"]]
    url = f"/api/v1/citizen/reports/{report['code']}"
    no_reason = client.post(f"{url}/transfer", json={"unit": places.neighbour},
                            headers=auth("operator"))  # fmt: skip
    assert no_reason.status_code == 422 or no_reason.json()["error"]["code"] == "missing_note"
    moved = client.post(
        f"{url}/transfer",
        json={"unit": places.neighbour, "note": "Điểm phản ánh thuộc địa bàn bên kia đường."},
        headers=auth("operator"),
    ).json()
    assert (moved["unit"], moved["status"], moved["located_by"]) == (places.neighbour, "new",
                                                                     "transfer")  # fmt: skip
    assert [e["action"] for e in moved["events"]] == ["created", "transfer"]
    assert topics_of(runtime, report["code"])[-1] == "citizen_report.routed"


def test_an_address_or_a_category_places_a_report(client: TestClient, auth: Auth) -> None:
    by_address = enter(client, auth, address="Tổ 3, ấp 2, X. Lộc Thạnh")
    assert (by_address["unit"], by_address["located_by"]) == (LOC_THANH, "address")
    # Without diacritics, Lộc Thạnh and Lộc Thành read alike: asked back, not guessed.
    bare = client.post("/api/v1/citizen/reports", headers=auth("operator"), json={
        "category": "garbage", "description": "Rác", "address": "xa Loc Thanh"})  # fmt: skip
    error = bare.json()["error"]
    assert error["code"] == "ambiguous_address" and "Lộc Thành" in error["message"]
    traffic = enter(client, auth, category="traffic", address="ngã tư Vũng Tàu",
                    description="Đèn tín hiệu giao thông hỏng từ sáng.")  # fmt: skip
    assert (traffic["unit"], traffic["located_by"]) == ("SXD", "category")
    nowhere = client.post("/api/v1/citizen/reports", headers=auth("operator"), json={
        "category": "garbage", "description": "Rác", "address": "đâu đó"})  # fmt: skip
    assert nowhere.json()["error"]["code"] == "unknown_address"
    outside = client.post("/api/v1/citizen/reports", headers=auth("operator"), json={
        "category": "garbage", "description": "Rác", "lat": 21.03, "long": 105.85})  # fmt: skip
    assert (outside.status_code, outside.json()["error"]["code"]) == (422, "outside_province")


def test_handling_reopening_and_scope(runtime: Runtime, client: TestClient, auth: Auth) -> None:
    report = enter(client, auth, who="commune", address="xã Lộc Thạnh")
    url = f"/api/v1/citizen/reports/{report['code']}"
    other = client.get(url, headers=auth("commune2"))
    assert (other.status_code, other.json()["error"]["code"]) == (403, "out_of_scope")
    assert client.get("/api/v1/citizen/reports", headers=auth("commune2")).json() == []
    assert [
        r["code"] for r in client.get("/api/v1/citizen/reports", headers=auth("commune")).json()
    ] == [report["code"]]
    for action, body in (("accept", {}), ("assign", {"assignee": "commune"}), ("start", {}),
                         ("note", {"note": "Đã gọi điện cho người dân."}),
                         ("resolve", {"note": "Đã vá ổ gà ngày 03/12."})):  # fmt: skip
        response = client.post(f"{url}/{action}", json=body, headers=auth("commune"))
        assert response.status_code == 200, (action, response.text)
    resolved = response.json()
    assert (resolved["status"], resolved["answer"]) == ("resolved", "Đã vá ổ gà ngày 03/12.")
    wrong = client.post(f"{url}/start", json={}, headers=auth("commune"))
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (409, "wrong_status")
    with runtime.sessions() as session:
        token = session.scalar(
            select(CitizenReport.token).where(CitizenReport.code == report["code"])
        )
    from dieuhanh.citizen.service import get_report, reopen_by_citizen

    with runtime.sessions() as session:
        reopen_by_citizen(session, get_report(session, report["code"]), token or "",
                          "Ổ gà vẫn còn, mới chỉ đổ đá.")  # fmt: skip
        session.commit()
    back = client.get(url, headers=auth("commune")).json()
    assert (back["status"], back["unit"]) == ("reopened", LOC_THANH)
    assert (
        back["events"][-1]["note"] == "Ổ gà vẫn còn, mới chỉ đổ đá."
        and back["events"][-1]["public"]
    )
    assert topics_of(runtime, report["code"])[-2:] == ["citizen_report.resolved",
                                                       "citizen_report.reopened"]  # fmt: skip


def test_a_late_report_goes_overdue_then_escalates(
    runtime: Runtime, client: TestClient, auth: Auth
) -> None:
    report = enter(client, auth, address="xã Lộc Thạnh")
    due = datetime.fromisoformat(report["due_at"])
    with runtime.sessions() as session:
        assert watch_deadlines(session, runtime.settings, now=due - timedelta(minutes=1)) == \
            "0 overdue, 0 escalated, 0 closed"  # fmt: skip
        assert watch_deadlines(session, runtime.settings, now=due + timedelta(hours=1)) == \
            "1 overdue, 0 escalated, 0 closed"  # fmt: skip
        hours = runtime.settings.citizen.escalate_after_hours
        late = due + timedelta(hours=hours + 1)
        assert watch_deadlines(session, runtime.settings, now=late) == \
            "0 overdue, 1 escalated, 0 closed"  # fmt: skip
        assert (
            watch_deadlines(session, runtime.settings, now=late)
            == "0 overdue, 0 escalated, 0 closed"
        )  # once each
        session.commit()
    assert topics_of(runtime, report["code"])[-2:] == ["citizen_report.overdue",
                                                       "citizen_report.escalated"]  # fmt: skip
    listed = client.get("/api/v1/citizen/reports?overdue=true", headers=auth("operator")).json()
    assert [r["code"] for r in listed] == [report["code"]]


def test_deadlines_count_working_days() -> None:
    calendar = WorkCalendar(ZONE)
    friday = datetime(2026, 10, 2, 9, 0, tzinfo=ZONE)
    assert calendar.add_working_days(friday, 1) == datetime(2026, 10, 5, 17, 0, tzinfo=ZONE)
    with_day_off = WorkCalendar(ZONE, [date(2026, 10, 5)])
    assert with_day_off.add_working_days(friday, 1) == datetime(2026, 10, 6, 17, 0, tzinfo=ZONE)
    # Tết: ten working days from the eve of Tết 2026 skip the whole holiday.
    national = holidays.country_holidays("VN", years=2026)
    start = datetime(2026, 2, 13, 9, 0, tzinfo=ZONE)
    due = calendar.add_working_days(start, 10).astimezone(ZONE).date()
    days = [start.date() + timedelta(days=n) for n in range(1, (due - start.date()).days + 1)]
    working = [d for d in days if d.weekday() < 5 and d not in national]
    assert len(working) == 10 and due in working
    assert any(d in national for d in days)  # Tết was inside the span, and skipped
    assert datetime(2026, 2, 17, tzinfo=UTC).date() in national  # mùng 1 Tết Bính Ngọ


def test_figures_feed_the_1022_indicator(runtime: Runtime, client: TestClient, auth: Auth) -> None:
    """Reports become REPORTS_1022 values through the one write path: the on-time rate appears
    in analytics, and a refused report is not counted."""
    from dieuhanh.citizen.statistics import store_values

    codes = [enter(client, auth, who="commune", address="xã Lộc Thạnh")["code"] for _ in range(3)]
    steps = [(codes[0], "accept", {}), (codes[0], "resolve", {"note": "Đã xử lý."}),
             (codes[1], "refuse", {"note": "Không thuộc thẩm quyền."})]  # fmt: skip
    for code, action, body in steps:
        response = client.post(f"/api/v1/citizen/reports/{code}/{action}", json=body,
                               headers=auth("commune"))  # fmt: skip
        assert response.status_code == 200, response.text
    with runtime.sessions() as session:
        summary = store_values(session, runtime.settings, runtime.today())
        session.commit()
    assert summary.conflicts == [] and summary.imported == 2
    month = datetime.now(ZONE).strftime("%Y%m")
    rows = client.get(
        f"/api/v1/analytics?indicator=REPORTS_1022_ON_TIME_RATE&unit={LOC_THANH}&period={month}",
        headers=auth("operator"),
    ).json()["rows"]
    assert [(r["numerator"], r["denominator"], r["value"]) for r in rows] == [(1, 2, 50.0)]
    stats = client.get(f"/api/v1/citizen/statistics?period={month}", headers=auth("commune"))
    assert [(s["unit"], s["received"], s["on_time"], s["open"]) for s in stats.json()] == [
        (LOC_THANH, 2, 1, 1)
    ]
    assert client.get(f"/api/v1/citizen/statistics?period={month}",
                      headers=auth("commune2")).json() == []  # fmt: skip


def test_similar_reports_nearby_are_offered_as_duplicates(
    client: TestClient, auth: Auth, places: Places
) -> None:
    lat, lon = places.inside
    pothole = "Ổ gà lớn trước cổng trường tiểu học, xe máy té liên tục."
    first = enter(client, auth, lat=lat, long=lon, description=pothole)
    elsewhere = enter(client, auth, lat=lat + 0.01, long=lon,
                      description="Ổ gà lớn trước cổng trường tiểu học, xe máy té.")  # fmt: skip
    unrelated = enter(client, auth, lat=lat, long=lon, category="lighting",
                      description="Đèn đường tắt cả tuần nay.")  # fmt: skip
    again = "O ga to truoc cong truong tieu hoc, nhieu xe may bi te"  # typed without diacritics
    second = enter(client, auth, lat=lat + 0.0003, long=lon, description=again)
    found = client.get(f"/api/v1/citizen/reports/{second['code']}", headers=auth("operator"))
    offered = found.json()["possible_duplicates"]
    assert [c["code"] for c in offered] == [first["code"]]  # not the far one, not the lamp
    assert offered[0]["distance_m"] < 50 and offered[0]["similarity"] >= 0.2
    assert elsewhere["code"] != unrelated["code"]
    linked = client.post(f"/api/v1/citizen/reports/{second['code']}/duplicate",
                         json={"duplicate_of": first["code"], "note": "Trùng phản ánh trước."},
                         headers=auth("operator")).json()  # fmt: skip
    assert (linked["status"], linked["duplicate_of"]) == ("duplicate", first["code"])


def test_staff_correct_the_category_and_the_suggestion_learns(
    client: TestClient, auth: Auth, runtime: Runtime
) -> None:
    from dieuhanh.citizen import classifier
    from dieuhanh.citizen.intake import confirmed_categories, refresh_classifier

    text = "Xe bồn chở nước thải đổ trộm xuống mương lúc nửa đêm ở ấp Bàu Cối."
    report = enter(client, auth, address="xã Lộc Thạnh", description=text)
    url = f"/api/v1/citizen/reports/{report['code']}"
    wrong = client.post(f"{url}/categorize", json={"category": "nope"}, headers=auth("operator"))
    assert wrong.json()["error"]["code"] == "unknown_category"
    fixed = client.post(f"{url}/categorize", json={"category": "security"},
                        headers=auth("operator")).json()  # fmt: skip
    assert (
        fixed["category"] == "security" and fixed["events"][-1]["note"] == "road_damage → security"
    )
    client.post(f"{url}/accept", json={}, headers=auth("operator"))
    try:
        with runtime.sessions() as session:
            assert classifier.retrain(confirmed_categories(session)) == 1
        assert classifier.suggest(text)[0] == "security"  # learnt from the correction
        training = refresh_classifier(runtime, force=True)  # in the background
        assert training is not None
        training.join(timeout=60)
        assert not training.is_alive()
        assert refresh_classifier(runtime) is None  # fresh for an hour
    finally:
        classifier.retrain([])


def test_an_administrator_changes_a_category(client: TestClient, auth: Auth) -> None:
    url = "/api/v1/citizen/categories/garbage"
    assert client.put(url, json={"deadline_days": 1}, headers=auth("commune")).status_code == 403
    changed = client.put(url, json={"deadline_days": 1, "name": "Rác thải"}, headers=auth("admin"))
    assert changed.status_code == 200 and changed.json()["deadline_days"] == 1
    wrong = client.put(url, json={"handled_by": "department", "department_code": "25280"},
                       headers=auth("admin"))  # fmt: skip
    assert wrong.json()["error"]["code"] == "unknown_department"
    moved = client.put(url, json={"handled_by": "department", "department_code": "SNNMT"},
                       headers=auth("admin")).json()  # fmt: skip
    assert (moved["handled_by"], moved["department_code"]) == ("department", "SNNMT")
    report = enter(client, auth, category="garbage", address="xã Lộc Thạnh")
    assert (report["unit"], report["located_by"]) == ("SNNMT", "category")
