"""The data entry page and the completeness scorecard: rendered server-side in both languages and
within the reader's scope; and, in a real Chromium, a commune entering a month's form by keyboard
and the province dashboard changing with it (issue 5's "done when")."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, Route, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.core.db.base import utcnow
from dieuhanh.core.runtime import Runtime
from dieuhanh.indicators.catalog import metadata
from dieuhanh.indicators.catalog.form_models import ReportForm, Submission
from dieuhanh.indicators.catalog.models import DataElement, DataValue, Indicator
from dieuhanh.indicators.catalog.periods import Period, PeriodType, period_of
from dieuhanh.indicators.catalog.schemas import (
    DataElementIn,
    DisaggregationIn,
    IndicatorIn,
    OptionIn,
)
from dieuhanh.indicators.reporting import entry_pages, forms, service
from dieuhanh.indicators.reporting.schemas import FormElementIn, FormIn, ValidationRuleIn
from dieuhanh.indicators.values.save import ValueRow, save_values
from dieuhanh.units.models import Unit
from tests.browser import log_in
from tests.conftest import LOC_THANH, LONG_THANH, login_form

FORM = "PG_FORM"
CLOSED_FORM = "PG_CLOSED"
INDICATOR = "PG_OVERDUE_RATE"
OTHER = "25195"  # a third commune whose figures are already in
NOT_REPORTING = "25217"  # Phường Phước Long: not assigned the test form
INSTRUCTION = "Số hồ sơ quá hạn không được lớn hơn số hồ sơ đã giải quyết."
LEGEND = [
    {"start": None, "end": 5, "color": "green", "label": "Tốt"},
    {"start": 5, "end": 10, "color": "yellow", "label": "Cần chú ý"},
    {"start": 10, "end": None, "color": "red", "label": "Chậm"},
]


def last_month(runtime: Runtime) -> Period:
    return period_of(PeriodType.MONTHLY, runtime.today()).previous()


def build(session: Session, period: Period) -> None:
    """A small form like COMMUNE_MONTHLY: dossiers processed and overdue by channel, a note and
    a yes/no; a rule "overdue ≤ processed"; the overdue rate with green/yellow/red bands. The
    third commune has reported this month (2 of 100 overdue) and the month before (4 of 100)."""
    metadata.save_disaggregation(
        session,
        DisaggregationIn(
            code="PG_CHANNEL",
            name="Kênh",
            options=[
                OptionIn(code="ONLINE", name="Trực tuyến"),
                OptionIn(code="IN_PERSON", name="Trực tiếp"),
            ],
        ),
    )
    for code, name, value_type, disaggregation in (
        ("PG_PROCESSED", "Số hồ sơ đã giải quyết", "integer", "PG_CHANNEL"),
        ("PG_OVERDUE", "Số hồ sơ giải quyết quá hạn", "integer", "PG_CHANNEL"),
        ("PG_NOTE", "Ghi chú của xã", "text", None),
        ("PG_HAS_PLAN", "Có kế hoạch cải cách hành chính", "boolean", None),
        ("PG_CLOSED_NOTE", "Ghi chú (biểu đã đóng)", "text", None),
    ):
        metadata.save_element(
            session,
            DataElementIn(
                code=code,
                name=name,
                value_type=value_type,
                disaggregation=disaggregation,
                unit_of_measure="hồ sơ" if value_type == "integer" else None,
                domain="public_services",
            ),
        )
    for code, expiry in ((FORM, None), (CLOSED_FORM, 0)):
        forms.save_form(
            session,
            FormIn(
                code=code,
                name="Biểu thủ tục hành chính cấp xã" if code == FORM else "Biểu đã đóng",
                period_type=PeriodType.MONTHLY,
                expiry_days=expiry,
                approval_required=True,
                elements=[
                    FormElementIn(code="PG_PROCESSED", section="Hồ sơ thủ tục hành chính"),
                    FormElementIn(code="PG_OVERDUE", section="Hồ sơ thủ tục hành chính"),
                    FormElementIn(code="PG_NOTE", section="Ghi chú"),
                    FormElementIn(code="PG_HAS_PLAN", section="Ghi chú"),
                ]
                if code == FORM
                else ["PG_CLOSED_NOTE"],  # its own element: a closed form locks its elements
                units=[LOC_THANH, LONG_THANH, OTHER],
            ),
            "75",
        )
    forms.save_validation_rule(
        session,
        ValidationRuleIn(
            code="PG_OVERDUE_LE_PROCESSED",
            name="Quá hạn không vượt số đã giải quyết",
            instruction=INSTRUCTION,
            left="#{PG_OVERDUE}",
            operator="<=",
            right="#{PG_PROCESSED}",
            importance="high",
            form=FORM,
        ),
    )
    metadata.save_indicator(
        session,
        IndicatorIn(
            code=INDICATOR,
            name="Tỷ lệ hồ sơ giải quyết quá hạn",
            numerator="#{PG_OVERDUE}",
            denominator="#{PG_PROCESSED}",
            factor=100,
            decimals=1,
            direction="lower_is_better",
            target=5,
            legend=LEGEND,
            domain="public_services",
            unit_of_measure="%",
        ),
    )
    rows = [
        ValueRow("PG_PROCESSED", OTHER, period.code, "60", "ONLINE"),
        ValueRow("PG_PROCESSED", OTHER, period.code, "40", "IN_PERSON"),
        ValueRow("PG_OVERDUE", OTHER, period.code, "2", "ONLINE"),
        ValueRow("PG_OVERDUE", OTHER, period.code, "0", "IN_PERSON"),
        ValueRow("PG_PROCESSED", OTHER, period.previous().code, "100", "ONLINE"),
        ValueRow("PG_OVERDUE", OTHER, period.previous().code, "4", "ONLINE"),
        ValueRow("PG_PROCESSED", LOC_THANH, period.previous().code, "7", "ONLINE"),
    ]
    summary = save_values(session, None, rows, source="api", source_detail="test")
    assert not summary.conflicts, summary.conflicts
    session.commit()


def stored(session: Session, unit: str, period: Period) -> dict[str, str]:
    rows = session.execute(
        select(DataElement.code, DataValue.option, DataValue.value)
        .join(DataElement, DataElement.id == DataValue.element_id)
        .join(Unit, Unit.id == DataValue.unit_id)
        .where(Unit.code == unit, DataValue.period_code == period.code)
    )
    return {f"{code}.{option}" if option else code: value for code, option, value in rows}


def login(client: TestClient, username: str) -> None:
    assert login_form(client, username).status_code == 303


def config_of(html: str, element_id: str) -> dict[str, object]:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html)
    assert found, element_id
    data: dict[str, object] = json.loads(found.group(1))
    return data


@pytest.fixture
def period(runtime: Runtime) -> Period:
    with runtime.sessions() as session:
        build(session, last_month(runtime))
    return last_month(runtime)


# --- server-side ---------------------------------------------------------------------------------


def test_pages_need_a_session(client: TestClient) -> None:
    for path in ("/reporting/entry", "/reporting/completeness"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith(f"/login?next={path}")


def test_commune_officer_enters_its_own_unit_only(client: TestClient, period: Period) -> None:
    login(client, "commune")
    page = client.get("/reporting/entry", params={"form": FORM, "period": period.code})
    assert page.status_code == 200 and '<html lang="vi">' in page.text
    html = page.text
    assert "Nhập số liệu" in html and 'id="entry-unit-name">Xã Lộc Thạnh<' in html
    assert 'id="entry-unit"' not in html  # no unit to choose: its own is fixed
    assert "Hồ sơ thủ tục hành chính" in html and "Trực tuyến" in html and "Trực tiếp" in html
    assert html.count('class="entry-cell') == 6  # 2 elements × 2 channels, a note, a yes/no
    assert "Hoàn thành" in html and "Phê duyệt" not in html.split('id="entry-actions"')[1][:600]
    config = config_of(html, "entry-config")
    assert config["unit"] == LOC_THANH and config["period"] == period.code
    assert config["canWrite"] is True and config["canApprove"] is False
    chip = re.search(rf'data-period="{period.code}" data-state="(\w+)"', html)
    assert chip and chip.group(1) == "open"
    # The value stored the month before is shown on that month's page.
    before = client.get("/reporting/entry", params={"form": FORM, "period": period.previous().code})
    assert inputs(before.text)[("PG_PROCESSED", "ONLINE")] == ("7", False)
    other = client.get("/reporting/entry", params={"form": FORM, "unit": LONG_THANH})
    assert other.status_code == 403


def test_english_page_and_the_scorecard(client: TestClient, period: Period) -> None:
    login(client, "operator")
    client.get("/lang/en?next=/")
    page = client.get("/reporting/entry", params={"form": FORM, "unit": OTHER})
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert "Data entry" in page.text and "Complete" in page.text
    assert 'id="entry-unit"' in page.text  # the province chooses among the form's units
    assert page.text.count('<option value="' + LOC_THANH) == 1
    elsewhere = client.get("/reporting/entry", params={"form": FORM, "unit": NOT_REPORTING})
    assert elsewhere.status_code == 200 and 'id="entry-not-reporting"' in elsewhere.text
    assert config_of(elsewhere.text, "entry-config")["unit"] != NOT_REPORTING
    scorecard = client.get("/reporting/completeness", params={"form": FORM})
    assert scorecard.status_code == 200 and "Reporting progress" in scorecard.text
    assert config_of(scorecard.text, "completeness-config") == {
        "form": FORM, "period": "LAST_12_MONTHS", "periodType": "monthly", "unit": None,
    }  # fmt: skip
    client.get("/lang/vi?next=/")
    login(client, "commune")
    own = client.get("/reporting/completeness", params={"form": FORM, "period": "LAST_6_MONTHS"})
    assert "Tiến độ báo cáo" in own.text and "6 tháng qua" in own.text
    assert config_of(own.text, "completeness-config")["unit"] == LOC_THANH


def test_locked_periods_are_read_only_and_say_why(
    client: TestClient, runtime: Runtime, period: Period
) -> None:
    login(client, "commune")
    landing = client.get("/reporting/entry", params={"form": CLOSED_FORM}).text
    assert config_of(landing, "entry-config")["period"] == period.next().code  # still open
    closed = client_page(client, "commune", CLOSED_FORM, period)
    assert "Đã hết hạn nhập số liệu" in closed and period.end.strftime("%d/%m/%Y") in closed
    assert all(readonly for _, readonly in inputs(closed).values())
    assert 'id="entry-complete"' not in closed
    with runtime.sessions() as session:
        form = service.get_form(session, FORM)
        unit = session.scalars(select(Unit).where(Unit.code == LOC_THANH)).one()
        service.complete(session, form, unit, period, "commune", utcnow())
        session.commit()
    province = client_page(client, "operator", FORM, period, unit=LOC_THANH)
    assert 'id="entry-approve"' in province and "Đã hoàn thành lúc" in province
    approved = client.post(
        f"/api/v1/forms/{FORM}/approvals",
        json={"unit": LOC_THANH, "period": period.code},
        headers={"X-CSRF-Token": csrf_of(province)},
    )
    assert approved.status_code == 200, approved.text
    locked = client_page(client, "commune", FORM, period)
    assert "Số liệu đã được operator phê duyệt lúc" in locked
    assert all(readonly for _, readonly in inputs(locked).values())
    assert re.search(r"<select[^>]*disabled", locked)
    assert config_of(locked, "entry-config")["canWrite"] is False
    assert f'data-period="{period.code}" data-state="approved"' in locked
    assert 'id="entry-reopen"' not in locked and 'id="entry-unapprove"' not in locked
    assert 'id="entry-unapprove"' in client_page(client, "operator", FORM, period, unit=LOC_THANH)


def test_a_viewer_sees_values_but_cannot_change_them(client: TestClient, period: Period) -> None:
    html = client_page(client, "viewer", FORM, period, unit=OTHER)
    assert "Bạn chỉ được xem số liệu" in html and 'id="entry-complete"' not in html
    assert inputs(html)[("PG_PROCESSED", "ONLINE")] == ("60", True)


def inputs(html: str) -> dict[tuple[str, str], tuple[str, bool]]:
    """The entry cells' text inputs: (element, option) → (value shown, read-only)."""
    found = {}
    for tag in re.findall(r"<input class=\"entry-cell[^>]*>", html):
        attributes = dict(re.findall(r'([a-z-]+)="([^"]*)"', tag))
        key = (attributes["data-de"], attributes["data-co"])
        found[key] = (attributes["value"], re.search(r"\sreadonly[\s>]", tag) is not None)
    return found


def client_page(
    client: TestClient, username: str, form: str, period: Period, unit: str | None = None
) -> str:
    login(client, username)
    params = {"form": form, "period": period.code} | ({"unit": unit} if unit else {})
    response = client.get("/reporting/entry", params=params)
    assert response.status_code == 200, response.text
    return response.text


def csrf_of(html: str) -> str:
    return html.split('name="csrf-token" content="')[1].split('"')[0]


# --- the pure parts ------------------------------------------------------------------------------


def test_layout_groups_sections_and_disaggregations(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        build(session, last_month(runtime))
        form = session.scalars(select(ReportForm).where(ReportForm.code == FORM)).one()
        sections = entry_pages.layout(form)
        assert [s.name for s in sections] == ["Hồ sơ thủ tục hành chính", "Ghi chú"]
        first, notes = sections
        assert len(first.blocks) == 1 and first.blocks[0].totals
        assert [c.code for c in first.blocks[0].columns] == ["ONLINE", "IN_PERSON"]
        assert [r.code for r in first.blocks[0].rows] == ["PG_PROCESSED", "PG_OVERDUE"]
        assert [[r.code for r in b.rows] for b in notes.blocks] == [["PG_NOTE", "PG_HAS_PLAN"]]
        assert not notes.blocks[0].totals


def test_periods_offered_and_the_default() -> None:
    form = ReportForm(code="X", name="X", period_type="monthly")
    today = date(2026, 3, 2)
    assert entry_pages.default_period(form, today).code == "202602"
    chosen, asked = entry_pages.pick_period(form, "2026Q1", today)  # another type: the default
    assert chosen.code == "202602" and not asked
    old, asked = entry_pages.pick_period(form, "202401", today)
    assert asked
    recent = entry_pages.recent_periods(form, today, old)
    assert [p.code for p in recent[:3]] == ["202603", "202602", "202601"]
    assert recent[-1].code == "202401" and len(recent) == 13


# --- in Chromium ---------------------------------------------------------------------------------


def cell(page: Page, element: str, option: str = "") -> str:
    return f'.entry-cell[data-de="{element}"][data-co="{option}"]'


def state_of(page: Page, element: str, option: str = "") -> object:
    return page.locator(f"td.cell:has({cell(page, element, option)})")


MAP_PAINT_MS = 20_000


@pytest.mark.browser
def test_a_commune_enters_its_month_and_the_province_dashboard_changes(
    page: Page, sqlite_runtime: Runtime
) -> None:
    runtime = sqlite_runtime
    month = last_month(runtime)
    with runtime.sessions() as session:
        build(session, month)

    log_in(page, "commune")
    expect(page).to_have_url("/")
    page.goto(f"/reporting/entry?form={FORM}&period={month.code}")
    grid = page.locator("#data-entry")
    expect(grid).to_have_attribute("data-ready", "true")
    expect(page.locator("#entry-validation-summary")).to_have_text(
        "Số liệu đạt mọi quy tắc kiểm tra."
    )

    # Typing by keyboard: Tab to the next cell, Enter down the column.
    page.locator(cell(page, "PG_PROCESSED", "ONLINE")).click()
    page.keyboard.type("30")
    page.keyboard.press("Tab")
    page.keyboard.type("20")
    page.keyboard.press("Enter")
    expect(page.locator(cell(page, "PG_OVERDUE", "IN_PERSON"))).to_be_focused()
    expect(page.locator('.row-total[data-total-of="PG_PROCESSED"]')).to_have_text("50")
    page.keyboard.type("abc")  # a wrong value: refused with the server's message, not stored
    page.keyboard.press("Enter")
    refused = state_of(page, "PG_OVERDUE", "IN_PERSON")
    expect(refused).to_have_attribute("data-state", "error")
    expect(refused.locator(".cell-msg")).to_contain_text("abc")
    page.locator(cell(page, "PG_OVERDUE", "IN_PERSON")).fill("0")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowLeft")  # at the start of a cell, the arrow moves to the next one
    expect(page.locator(cell(page, "PG_OVERDUE", "ONLINE"))).to_be_focused()
    page.keyboard.type("70")  # 70 overdue of 50 processed breaks the rule…
    page.keyboard.press("Enter")
    violation = page.locator("#entry-violations li", has_text=INSTRUCTION)
    expect(violation).to_be_visible()
    expect(state_of(page, "PG_OVERDUE", "ONLINE")).to_have_class(re.compile("violates"))
    page.locator(cell(page, "PG_OVERDUE", "ONLINE")).fill("7")  # …fixed: the violation goes
    page.keyboard.press("Enter")
    expect(violation).to_have_count(0)
    expect(page.locator("#entry-validation-summary")).to_have_text(
        "Số liệu đạt mọi quy tắc kiểm tra."
    )
    for element, option in (("PG_PROCESSED", "ONLINE"), ("PG_OVERDUE", "ONLINE")):
        expect(state_of(page, element, option)).to_have_attribute("data-state", "saved")

    # The connection drops: the value waits in the browser and is sent when it comes back.
    page.context.set_offline(True)
    page.locator(cell(page, "PG_NOTE")).fill("Mạng chập chờn")
    page.keyboard.press("Tab")
    pending = page.locator("#entry-pending")
    expect(pending).to_contain_text("1 giá trị đang chờ gửi")
    expect(state_of(page, "PG_NOTE")).to_have_attribute("data-state", "waiting")
    page.context.set_offline(False)
    expect(state_of(page, "PG_NOTE")).to_have_attribute("data-state", "saved", timeout=10_000)
    expect(pending).to_be_hidden()

    with runtime.sessions() as session:
        assert stored(session, LOC_THANH, month) == {
            "PG_PROCESSED.ONLINE": "30",
            "PG_PROCESSED.IN_PERSON": "20",
            "PG_OVERDUE.ONLINE": "7",
            "PG_OVERDUE.IN_PERSON": "0",
            "PG_NOTE": "Mạng chập chờn",
        }

    page.locator(cell(page, "PG_PROCESSED", "ONLINE")).focus()
    page.get_by_role("button", name="Xem lịch sử thay đổi").click()
    expect(page.locator("#entry-history tr[data-action='create']")).to_contain_text("30")

    page.get_by_role("button", name="Hoàn thành").click()
    expect(page.locator("#entry-status")).to_contain_text("Đã hoàn thành lúc")
    expect(page.locator(f'.period-chip[data-period="{month.code}"]')).to_have_attribute(
        "data-state", "submitted"
    )
    with runtime.sessions() as session:
        assert session.scalars(select(Submission)).one().period_code == month.code

    # The province: (2 + 7) overdue of (100 + 50) processed = 6.0 %, yellow; up from the month
    # before's 4 of 107 = 3.7 %, worse for a rate where lower is better. Lộc Thạnh alone:
    # 7 / 50 = 14.0 %, red; the third commune 2 / 100 = 2.0 %, green.
    page.get_by_role("button", name="Đăng xuất").click()
    log_in(page, "operator")
    page.goto("/indicators/dashboard")
    tile = page.locator(f'.tile[data-indicator="{INDICATOR}"]')
    expect(tile.locator(".tile-value")).to_have_text("6,0%")
    expect(tile).to_have_attribute("data-band", "yellow")
    expect(tile).to_have_attribute("data-trend", "up")
    expect(tile).to_have_attribute("data-better", "false")
    tile.click()
    shapes = page.locator("#indicator-map")
    expect(shapes).to_have_attribute("data-indicator", INDICATOR)
    expect(shapes).to_have_attribute("data-period", month.code)
    # The map paints after its own request: on a loaded CI machine that took over 5 s once.
    expect(page.locator(f'path.commune-shape[data-unit="{LOC_THANH}"]')).to_have_attribute(
        "data-band", "red", timeout=MAP_PAINT_MS
    )
    expect(page.locator(f'path.commune-shape[data-unit="{OTHER}"]')).to_have_attribute(
        "data-band", "green", timeout=MAP_PAINT_MS
    )
    page.locator(f'path.commune-shape[data-unit="{LOC_THANH}"]').dispatch_event("click")
    expect(page.locator("#map-unit")).to_contain_text("14,0%")
    row = page.locator(f'#unit-table tr[data-unit="{LOC_THANH}"]')
    expect(row.locator(f'td[data-period="{month.code}"]')).to_have_text("14,0")
    page.locator("#unit-filter").fill("xa loc thanh")  # diacritics and case ignored
    expect(row).to_be_visible()
    expect(page.locator(f'#unit-table tr[data-unit="{LONG_THANH}"]')).to_be_hidden()

    page.get_by_role("link", name="EN").click()  # the same figures in English
    expect(tile.locator(".tile-value")).to_have_text("6.0%")
    expect(tile.locator(".tile-period")).to_have_text(month.start.strftime("%B %Y"))


@pytest.mark.browser
def test_an_answer_for_the_indicator_shown_before_does_not_repaint_the_map(
    page: Page, sqlite_runtime: Runtime
) -> None:
    """Choosing an indicator while the one shown first is still loading: the first one's answer,
    arriving last, must not paint its figures under the chosen indicator's name."""
    runtime = sqlite_runtime
    month = last_month(runtime)
    with runtime.sessions() as session:
        build(session, month)
        first = session.scalars(
            select(Indicator.code).where(Indicator.code != INDICATOR).order_by(Indicator.code)
        ).first()
    assert first is not None
    held: list[Route] = []

    def hold_the_first(route: Route) -> None:
        url = route.request.url
        if "level=commune" in url and f"indicator={first}&" in url:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/v1/analytics?*", hold_the_first)
    log_in(page, "operator")
    page.goto(f"/indicators/dashboard?indicator={first}")
    for _ in range(100):  # the route handler runs in Playwright's loop: give it turns, 10 s at most
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    page.locator(f'.tile[data-indicator="{INDICATOR}"]').click()
    other = page.locator(f'path.commune-shape[data-unit="{OTHER}"]')
    expect(other).to_have_attribute("data-band", "green", timeout=MAP_PAINT_MS)  # 2 of 100
    assert len(held) == 1
    with page.expect_response(lambda response: response.url == held[0].request.url):
        held[0].continue_()
    page.wait_for_timeout(500)  # bounded: the late answer's handling, had it painted
    expect(other).to_have_attribute("data-band", "green")
    expect(page.locator("#indicator-map")).to_have_attribute("data-indicator", INDICATOR)
