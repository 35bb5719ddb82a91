"""Names on the maps are text, never HTML (issue #10): a unit named like an XSS payload and an
imported attribution with markup show as written, in a real Chromium, and inject nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from dieuhanh.core.runtime import Runtime
from dieuhanh.gis.models import BoundaryImport
from dieuhanh.units.service import get_unit
from tests.browser import log_in
from tests.conftest import LOC_THANH

pytestmark = pytest.mark.browser
PAYLOAD = "<img src=x onerror=\"document.body.dataset.xss='name'\">"
ATTRIBUTION = "<img src=y onerror=\"document.body.dataset.xss='attribution'\"> Bản đồ"


@pytest.fixture
def hostile_names(sqlite_runtime: Runtime) -> None:
    with sqlite_runtime.sessions() as session:
        get_unit(session, LOC_THANH).name = f"Xã {PAYLOAD}"
        for row in session.scalars(select(BoundaryImport)):
            row.attribution = ATTRIBUTION
        session.commit()


def hover_unit(page: Page, shape_selector: str, code: str) -> None:
    """Open the tooltip of one unit's polygon, as the mouse would."""
    index = page.evaluate(
        """async (code) => {
            const data = await (await fetch('/api/v1/boundaries?parent=75')).json();
            return data.features.findIndex((f) => f.properties.code === code);
        }""",
        code,
    )
    page.locator(shape_selector).nth(index).dispatch_event("mouseover")


def assert_nothing_injected(page: Page) -> None:
    assert page.locator("img[src='x'], img[src='y']").count() == 0
    assert page.evaluate("document.body.dataset.xss") is None


def test_province_map_shows_names_and_attribution_as_text(hostile_names, page: Page) -> None:
    log_in(page, "viewer")
    expect(page.locator("#province-map")).to_have_attribute("data-features", "95", timeout=15_000)
    expect(page.locator(".leaflet-control-attribution")).to_contain_text(ATTRIBUTION)
    hover_unit(page, "path.commune-shape", LOC_THANH)
    expect(page.locator(".leaflet-tooltip.commune-tooltip")).to_have_text(f"Xã {PAYLOAD}")
    assert_nothing_injected(page)


def test_progress_and_camera_maps_show_names_as_text(hostile_names, page: Page) -> None:
    log_in(page, "operator")
    page.goto("/cameras/progress")
    expect(page.locator("#progress-map")).to_have_attribute("data-features", "95", timeout=15_000)
    expect(page.locator(".leaflet-control-attribution")).to_contain_text(ATTRIBUTION)
    hover_unit(page, "path.progress-shape", LOC_THANH)
    expect(page.locator(".leaflet-tooltip")).to_have_text(f"Xã {PAYLOAD}")
    assert_nothing_injected(page)
    page.goto("/cameras/map")
    expect(page.locator("#camera-map")).to_have_attribute("data-ready", "true", timeout=15_000)
    expect(page.locator(".leaflet-control-attribution")).to_contain_text(ATTRIBUTION)
    hover_unit(page, "path.commune-shape", LOC_THANH)
    expect(page.locator(".leaflet-tooltip.commune-tooltip")).to_have_text(f"Xã {PAYLOAD}")
    assert_nothing_injected(page)
