"""Reminders: deadline near, overdue, once each, and the in-app list with mark-read."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog.form_models import Reminder
from dieuhanh.indicators.reporting.reminders import jobs, send_reminders
from tests.conftest import LOC_THANH
from tests.indicators import builders as b

# 01/02/2026 10:00 in Vietnam: January's deadline (end of 02/02) is less than 2 days away,
# December's (end of 02/01) has passed.
NOW = datetime(2026, 2, 1, 3, 0, tzinfo=UTC)


def setup_form(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions() as session:
        a, b_unit = b.communes(session, 2)
        c = b.unit(session, LOC_THANH)
        report = b.form(session, "TK01", [b.element(session, "HS_XL")], [a, b_unit, c])
        b.submit(session, report, a, "202601", on_time=True)
        b.submit(session, report, b_unit, "202512", on_time=True)
        session.commit()
        return {"A": a.code, "B": b_unit.code, "C": c.code}


def reminders_by_unit(runtime: Runtime) -> set[tuple[str, str, str]]:
    """TK01's reminders (the shipped forms get theirs too, and are not this test's)."""
    with runtime.sessions() as session:
        form_id = b.form_by_code(session, "TK01").id
        rows = session.scalars(select(Reminder).where(Reminder.form_id == form_id)).all()
        codes = {u: b.unit_code(session, u) for u in {r.unit_id for r in rows}}
        return {(codes[r.unit_id], r.period_code, r.kind) for r in rows}


def test_deadline_near_and_overdue_once(runtime: Runtime) -> None:
    units = setup_form(runtime)
    with runtime.sessions() as session:
        first = send_reminders(session, NOW)
        session.commit()
        again = send_reminders(session, NOW)
        session.commit()
    assert first.created >= 4 and again.created == 0
    assert reminders_by_unit(runtime) == {
        # A completed January; B and C have until the end of 02/02.
        (units["B"], "202601", "deadline_near"),
        (units["C"], "202601", "deadline_near"),
        # B completed December; A and C did not.
        (units["A"], "202512", "overdue"),
        (units["C"], "202512", "overdue"),
    }
    with runtime.sessions() as session:
        near = session.scalars(select(Reminder).where(Reminder.kind == "deadline_near")).first()
        assert near is not None and "hạn nộp đến hết ngày 02/02/2026" in near.message


def test_no_reminder_before_the_window(runtime: Runtime) -> None:
    units = setup_form(runtime)
    with runtime.sessions() as session:
        # 30/01/2026 14:00: January's deadline is 3 days and 10 hours away, more than 2.
        run = send_reminders(session, datetime(2026, 1, 30, 7, 0, tzinfo=UTC))
        session.commit()
    assert {kind for _, _, kind in reminders_by_unit(runtime)} == {"overdue"}
    assert len(reminders_by_unit(runtime)) == 2 and run.created >= 2
    with runtime.sessions() as session:
        wider = send_reminders(session, datetime(2026, 1, 30, 7, 0, tzinfo=UTC), days_before=5)
        session.commit()
    assert len(reminders_by_unit(runtime)) == 4 and wider.created >= 2
    assert (units["C"], "202601", "deadline_near") in reminders_by_unit(runtime)


def test_the_scheduler_job_is_idempotent(runtime: Runtime) -> None:
    units = setup_form(runtime)
    (job,) = jobs(runtime)
    assert job.name == "report-reminders" and job.interval_seconds == 3600
    job.run()
    overdue = {(u, kind) for u, _, kind in reminders_by_unit(runtime) if kind == "overdue"}
    # Whatever today is, the most recent period past its deadline is one nobody completed.
    assert overdue == {(code, "overdue") for code in units.values()}
    count = len(reminders_by_unit(runtime))
    job.run()
    assert len(reminders_by_unit(runtime)) == count


def test_reminders_endpoint_and_mark_read(client: TestClient, auth, runtime: Runtime) -> None:
    units = setup_form(runtime)
    with runtime.sessions() as session:
        send_reminders(session, NOW)
        session.commit()
    headers = auth("commune")  # Lộc Thạnh = C
    listed = client.get("/api/v1/reminders", headers=headers)
    assert listed.status_code == 200, listed.text
    rows = [r for r in listed.json() if r["form"] == "TK01"]
    assert {(r["unit"], r["period"], r["kind"]) for r in rows} == {
        (LOC_THANH, "202601", "deadline_near"),
        (LOC_THANH, "202512", "overdue"),
    }
    assert all(r["readAt"] is None and not r["resolved"] for r in rows)
    near = next(r for r in rows if r["kind"] == "deadline_near")
    marked = client.post(f"/api/v1/reminders/{near['id']}/read", headers=headers)
    assert marked.status_code == 200 and marked.json()["readAt"]
    unread = client.get("/api/v1/reminders", params={"unread": "true"}, headers=headers).json()
    assert [r["kind"] for r in unread if r["form"] == "TK01"] == ["overdue"]
    assert near["id"] not in {r["id"] for r in unread}
    # Completing January resolves its reminder.
    with runtime.sessions() as session:
        b.submit(
            session,
            b.form_by_code(session, "TK01"),
            b.unit(session, LOC_THANH),
            "202601",
            on_time=True,
        )
        session.commit()
    again = {
        r["id"]: r["resolved"] for r in client.get("/api/v1/reminders", headers=headers).json()
    }
    assert again[near["id"]] is True
    # Another unit's reminders are out of a commune officer's reach.
    assert (
        client.get("/api/v1/reminders", params={"unit": units["A"]}, headers=headers).status_code
        == 403
    )
    other = client.get(
        "/api/v1/reminders", params={"unit": units["A"]}, headers=auth("admin")
    ).json()
    assert (
        client.post(f"/api/v1/reminders/{other[0]['id']}/read", headers=headers).status_code == 403
    )
    assert client.post("/api/v1/reminders/999999/read", headers=headers).status_code == 404
