"""In Debian's headless Chromium, offline: a citizen files a report with a photo on the public
form, placed by the phone's location on the map, and follows it by its code."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from shapely.geometry import shape
from sqlalchemy import select

from dieuhanh.core.runtime import Runtime
from dieuhanh.gis.models import Boundary
from dieuhanh.units.models import Unit

pytestmark = pytest.mark.browser


def test_a_report_with_a_photo_filed_and_followed(
    sqlite_runtime: Runtime, page: Page, tmp_path: Path
) -> None:
    with sqlite_runtime.sessions() as session:
        boundary = session.scalars(
            select(Boundary)
            .join(Unit, Unit.id == Boundary.unit_id)
            .where(Unit.name == "Phường Biên Hòa", Boundary.valid_to.is_(None))
        ).one()
        point = shape(boundary.geometry).representative_point()
    photo = tmp_path / "o-ga.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 90, 90)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": point.y, "longitude": point.x})

    page.goto("/phan-anh")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gửi phản ánh hiện trường")
    expect(page.locator("#report-map path.leaflet-interactive").first).to_be_visible()
    page.get_by_label("Lĩnh vực").select_option("road_damage")
    page.get_by_label("Mức độ nguy hiểm").select_option("high")  # the category's own question
    page.get_by_label("Nội dung phản ánh").fill("Ổ gà sâu giữa đường, đã có người té xe.")
    page.locator("input[name=photos]").set_input_files(str(photo))
    page.get_by_role("button", name="Dùng vị trí của tôi").click()
    expect(page.locator("#pin-text")).to_contain_text(f"{point.y:.5f}")
    page.get_by_label("Số điện thoại").fill("0987654321")
    page.get_by_role("button", name="Gửi phản ánh").click()

    expect(page.get_by_role("status")).to_contain_text("Đã nhận phản ánh")
    code = page.locator("#report-code").inner_text()
    assert code.startswith("PA")
    expect(page.locator("#report-unit")).to_have_text("Phường Biên Hòa")
    page.goto(f"/phan-anh/{code}")  # as anyone who has only the code
    expect(page.locator("#report-status")).to_have_text("Đã tiếp nhận")
    expect(page.locator("body")).not_to_contain_text("0987654321")
    expect(page.locator("#rate-form")).to_have_count(0)
    page.goto("/phan-anh/danh-sach")  # the public list and map show it, without the phone
    expect(page.locator("#public-reports")).to_contain_text(code)
    expect(page.locator("#public-map path.leaflet-interactive").first).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("0987654321")
    with sqlite_runtime.sessions() as session:
        from dieuhanh.citizen.models import CitizenReport

        stored = session.scalars(select(CitizenReport).where(CitizenReport.code == code)).one()
        assert stored.attributes == {"hazard": "high"}
