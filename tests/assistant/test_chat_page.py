"""In headless Chromium: a question typed in the chat panel and sent with Enter gets the figure,
the query it ran and the link to the indicator dashboard (issue 14, "Done when")."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from dieuhanh.core.runtime import Runtime
from tests.assistant.conftest import put_few_figures
from tests.browser import log_in


@pytest.mark.browser
def test_asking_in_the_chat_panel_shows_the_figure_and_its_link(
    sqlite_runtime: Runtime, page: Page
) -> None:
    put_few_figures(sqlite_runtime)
    log_in(page, "operator")
    page.goto("/assistant")
    question = page.locator("#assistant-question")
    expect(question).to_be_focused()
    question.fill("ty le ho so tre han cua xa Lộc Thạnh thang truoc")
    question.press("Enter")

    answer = page.locator("#assistant-log li.answer").last
    expect(answer).to_contain_text("3,0%")
    expect(answer).to_contain_text("Xã Lộc Thạnh")
    expect(answer.locator(".query")).to_contain_text("OVERDUE_DOSSIER_RATE")
    link = answer.get_by_role("link", name="Xem trên bảng chỉ số")
    expect(link).to_have_attribute(
        "href", "/indicators/dashboard?unit=25280&indicator=OVERDUE_DOSSIER_RATE"
    )
    expect(question).to_be_focused()  # ready for the next question, keyboard first
