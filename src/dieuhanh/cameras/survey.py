"""The camera survey: what units declare (the Government Office's appendix, one row per camera
or group of cameras), entered in a form or uploaded as a spreadsheet.

An upload is checked row by row. The preview (dry run) shows every row with its problems; the
commit stores the good rows and lists the bad ones, so a unit fixes only those. A row with a
stream URL also registers the camera, so the monitor starts probing it.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from dieuhanh.cameras.models import CameraDeclaration, Purpose
from dieuhanh.cameras.service import Registry, create_camera
from dieuhanh.cameras.urls import parse_stream_url
from dieuhanh.core.access import Principal
from dieuhanh.core.errors import DieuhanhError, InvalidInput
from dieuhanh.core.redact import mask
from dieuhanh.core.tabular import Row, read_table
from dieuhanh.core.text import fold
from dieuhanh.units.service import find_unit

# Header words (folded, "_" between words) → column; the first rule whose words all appear
# (as whole words, in order within each needle) wins. The appendix's headers are sentences
# ("Đường truyền từ Camera về đầu ghi/VMS là loại đường truyền gì"), hence the careful order:
# the specific rules come before the ones matching a common word such as "đầu ghi".
HEADER_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("ma_don_vi",), "unit_code"),
    (("unit_code",), "unit_code"),
    (("ten_camera",), "name"),
    (("name",), "name"),
    (("so_luong",), "count"),
    (("count",), "count"),
    (("loai_camera",), "camera_type"),
    (("camera_type",), "camera_type"),
    (("cpnet",), "reachable_from_government_network"),
    (("van_phong_ubnd",), "reachable_from_government_network"),
    (("reachable",), "reachable_from_government_network"),
    (("toc_do",), "link_speed"),
    (("link_speed",), "link_speed"),
    (("duong_truyen",), "link_type"),
    (("link_type",), "link_type"),
    (("luong_phu",), "sub_stream_url"),
    (("sub_stream_url",), "sub_stream_url"),
    (("duong_dan",), "stream_url"),
    (("stream_url",), "stream_url"),
    (("internet", "luong"), "internet_stream"),
    (("internet_stream",), "internet_stream"),
    (("giao_thuc",), "stream_protocol"),
    (("stream_protocol",), "stream_protocol"),
    (("mo_hinh",), "connection_model"),
    (("connection_model",), "connection_model"),
    (("ip",), "ip_range"),
    (("ip_range",), "ip_range"),
    (("thong_tin", "dau_ghi"), "recorder_details"),
    (("chi_tiet", "dau_ghi"), "recorder_details"),
    (("recorder_details",), "recorder_details"),
    (("dau_ghi",), "recorder_kind"),
    (("vms",), "recorder_kind"),
    (("recorder_kind",), "recorder_kind"),
    (("model",), "model"),
    (("hang",), "manufacturer"),
    (("manufacturer",), "manufacturer"),
    (("muc_dich",), "purpose"),
    (("purpose",), "purpose"),
    (("vi_tri",), "location"),
    (("location",), "location"),
    (("vi_do",), "lat"),
    (("lat",), "lat"),
    (("kinh_do",), "lon"),
    (("lon",), "lon"),
    (("nguoi_lien_he",), "contact_name"),
    (("contact_name",), "contact_name"),
    (("dien_thoai",), "contact_phone"),
    (("contact_phone",), "contact_phone"),
    (("ghi_chu",), "notes"),
    (("notes",), "notes"),
)
REQUIRED = ("camera_type", "model", "manufacturer", "count", "location")
TEMPLATE_HEADERS = (
    ("unit_code", "Mã đơn vị"),
    ("name", "Tên camera"),
    ("camera_type", "Loại Camera (Analog/IP)"),
    ("model", "Model thiết bị"),
    ("manufacturer", "Hãng sản xuất"),
    ("count", "Số lượng Camera"),
    ("location", "Vị trí Camera"),
    ("purpose", "Mục đích"),
    ("lat", "Vĩ độ"),
    ("lon", "Kinh độ"),
    ("recorder_kind", "Sử dụng đầu ghi hay VMS"),
    ("recorder_details", "Thông tin chi tiết đầu ghi/VMS (hãng, mã thiết bị)"),
    ("internet_stream", "Luồng Camera kết nối ra Internet (Có/Không)"),
    ("stream_protocol", "Giao thức luồng (RTSP, HTTP…)"),
    ("stream_url", "Đường dẫn luồng chính (rtsp://…)"),
    ("sub_stream_url", "Đường dẫn luồng phụ"),
    ("connection_model", "Mô hình kết nối (camera → firewall → router → Internet)"),
    ("ip_range", "Dải địa chỉ IP hệ thống Camera"),
    ("reachable_from_government_network", "Truy cập được từ mạng CPNet (Có/Không)"),
    ("link_type", "Loại đường truyền (Internet/kênh thuê riêng/VPN)"),
    ("link_speed", "Tốc độ đường truyền"),
    ("contact_name", "Người liên hệ"),
    ("contact_phone", "Điện thoại"),
    ("notes", "Ghi chú"),
)
LIMITS = {"name": 200, "model": 100, "manufacturer": 100, "location": 300, "recorder_details": 300,
          "stream_protocol": 40, "connection_model": 300, "ip_range": 100, "link_type": 100,
          "link_speed": 60, "contact_name": 120, "contact_phone": 40, "notes": 500}  # fmt: skip
YES = {"co", "yes", "x", "true", "1", "da co"}
NO = {"khong", "khong co", "no", "false", "0", "chua"}


def column_for(header: str) -> str:
    padded = f"_{header}_"
    for needles, column in HEADER_RULES:
        if all(f"_{needle}_" in padded for needle in needles):
            return column
    return header


@dataclass
class RowResult:
    line: int
    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    unit_code: str | None = None
    camera_registered: bool = False


@dataclass
class SurveyReport:
    filename: str
    rows: list[RowResult]
    dry_run: bool
    declarations: int = 0
    cameras: int = 0

    def as_dict(self) -> dict[str, Any]:
        bad = [r for r in self.rows if r.errors]
        return {
            "filename": self.filename,
            "dry_run": self.dry_run,
            "rows": len(self.rows),
            "valid": len(self.rows) - len(bad),
            "invalid": len(bad),
            "declarations_created": self.declarations,
            "cameras_registered": self.cameras,
            "preview": [
                {
                    "line": r.line,
                    "unit_code": r.unit_code,
                    "errors": r.errors,
                    "values": {
                        k: (mask(v) if isinstance(v, str) else v) for k, v in r.values.items()
                    },
                }
                for r in self.rows
            ],
        }


def import_survey(
    session: Session,
    registry: Registry,
    principal: Principal,
    data: bytes,
    filename: str,
    *,
    default_unit: str,
    dry_run: bool,
) -> SurveyReport:
    table = read_table(data, filename, aliases=column_for, required=REQUIRED)
    report = SurveyReport(filename=filename, rows=[], dry_run=dry_run)
    for row in table.rows:
        result = _check_row(session, principal, row, default_unit)
        report.rows.append(result)
        if result.errors or dry_run:
            continue
        try:
            with session.begin_nested():
                _store(session, registry, principal, result, f"upload:{filename}")
        except DieuhanhError as exc:
            result.errors.append(exc.message)
            continue
        report.declarations += 1
        report.cameras += int(result.camera_registered)
    session.flush()
    return report


def declare(
    session: Session,
    registry: Registry,
    principal: Principal,
    values: dict[str, Any],
    unit_code: str,
) -> CameraDeclaration:
    """One declaration from the web form (the same checks as an uploaded row)."""
    result = _check_row(
        session,
        principal,
        Row(1, {k: str(v) for k, v in values.items() if v is not None}),
        unit_code,
    )
    if result.errors:
        raise InvalidInput("; ".join(result.errors), code="invalid_declaration")
    return _store(session, registry, principal, result, "form")


def _check_row(session: Session, principal: Principal, row: Row, default_unit: str) -> RowResult:
    values = row.values
    result = RowResult(line=row.number, values={})
    errors = result.errors
    unit = find_unit(session, values.get("unit_code") or default_unit)
    if unit is None:
        errors.append(f"unknown unit code {values.get('unit_code')}")
    elif not principal.write_scope.allows(unit.id):
        errors.append(f"{unit.name} is not your unit")
    else:
        result.unit_code = unit.code
    for column in REQUIRED:
        if not values.get(column):
            errors.append(f"{column} is empty")
    clean = result.values
    for column, limit in LIMITS.items():
        text = values.get(column, "").strip()
        if len(text) > limit:
            errors.append(f"{column} has {len(text)} characters, at most {limit}")
        clean[column] = text or None
    clean["count"] = _count(values.get("count", ""), errors)
    clean["camera_type"] = _camera_type(values.get("camera_type", ""), errors)
    clean["recorder_kind"] = _recorder_kind(values.get("recorder_kind", ""))
    clean["purpose"] = _purpose(values.get("purpose", ""), errors)
    clean["internet_stream"] = _yes_no(values.get("internet_stream", ""), "internet_stream", errors)
    clean["reachable_from_government_network"] = _yes_no(
        values.get("reachable_from_government_network", ""), "reachable_from_government_network",
        errors)  # fmt: skip
    clean["lat"], clean["lon"] = _location(values.get("lat", ""), values.get("lon", ""), errors)
    for column in ("stream_url", "sub_stream_url"):
        text = values.get(column, "").strip()
        if text:
            try:
                parse_stream_url(text, column)
            except DieuhanhError as exc:
                errors.append(exc.message)
        clean[column] = text or None
    return result


def _store(
    session: Session, registry: Registry, principal: Principal, result: RowResult, source: str
) -> CameraDeclaration:
    values = result.values
    unit = find_unit(session, result.unit_code or "")
    assert unit is not None
    fields = {k: values[k] for k in (
        "camera_type", "model", "manufacturer", "count", "location", "purpose", "recorder_kind",
        "recorder_details", "internet_stream", "stream_protocol", "connection_model", "ip_range",
        "reachable_from_government_network", "link_type", "link_speed", "notes",
    )}  # fmt: skip
    declaration = CameraDeclaration(unit=unit, unit_id=unit.id, source=source[:200], **fields)
    session.add(declaration)
    session.flush()
    if values.get("stream_url"):
        camera = create_camera(session, registry, principal, {
            "unit_code": unit.code,
            "name": values.get("name") or f"{values.get('location')} – {values.get('model')}"[:200],
            "stream_url": values["stream_url"],
            "sub_stream_url": values.get("sub_stream_url"),
            "purpose": values["purpose"], "camera_type": values["camera_type"],
            "model": values["model"], "manufacturer": values["manufacturer"],
            "recorder_kind": values["recorder_kind"], "address": values["location"],
            "lat": values["lat"], "lon": values["lon"], "ip_range": values["ip_range"],
            "link_type": values["link_type"], "network_path": values["connection_model"],
            "contact_name": values["contact_name"], "contact_phone": values["contact_phone"],
        })  # fmt: skip
        camera.declaration_id = declaration.id
        result.camera_registered = True
    return declaration


def _count(text: str, errors: list[str]) -> int:
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        if text:
            errors.append(f"count '{text[:20]}' is not a number")
        return 1
    # A spreadsheet gives "3.0" for 3; "inf", "nan" and "2.5" are not a number of cameras.
    if not math.isfinite(number) or not number.is_integer():
        errors.append(f"count '{text[:20]}' is not a whole number")
        return 1
    count = int(number)
    if not 1 <= count <= 10_000:
        errors.append(f"count {count} is not between 1 and 10,000")
    return count


def _camera_type(text: str, errors: list[str]) -> str | None:
    folded = fold(text)
    if not folded:
        return None
    if "ip" in folded.split() or folded.startswith("ip"):
        return "ip"
    if "analog" in folded or "ahd" in folded or "tvi" in folded or "cvi" in folded:
        return "analog"
    errors.append(f"camera type '{text[:30]}' is neither IP nor analog")
    return None


def _recorder_kind(text: str) -> str | None:
    folded = fold(text)
    if not folded:
        return None
    if "vms" in folded:
        return "vms"
    if folded in NO:
        return "none"
    return "nvr"  # đầu ghi, NVR, DVR, XVR


def _purpose(text: str, errors: list[str]) -> str:
    folded = fold(text)
    if not folded:
        return Purpose.OTHER.value
    for words, purpose in (
        (("hanh chinh", "tthc", "phuc vu", "public"), Purpose.PUBLIC_SERVICE),
        (("giao thong", "traffic"), Purpose.TRAFFIC),
        (("an ninh", "security"), Purpose.SECURITY),
        (("du lich", "tourism"), Purpose.TOURISM),
        (("dap", "ho chua", "thuy loi", "dam"), Purpose.DAM),
        (("cang", "cua khau", "port", "border"), Purpose.PORT_BORDER),
        (("khac", "other"), Purpose.OTHER),
    ):
        if any(word in folded for word in words):
            return purpose.value
    errors.append(
        f"purpose '{text[:30]}' is not one of: hành chính công, giao thông, an ninh, "
        "du lịch, hồ đập, cảng/cửa khẩu, khác"
    )
    return Purpose.OTHER.value


def _yes_no(text: str, column: str, errors: list[str]) -> bool | None:
    folded = fold(text)
    if not folded:
        return None
    if folded in YES or folded.startswith("co "):
        return True
    if folded in NO or folded.startswith("khong"):
        return False
    errors.append(f"{column} '{text[:20]}' should be Có or Không")
    return None


def _location(lat_text: str, lon_text: str, errors: list[str]) -> tuple[float | None, float | None]:
    if not lat_text and not lon_text:
        return None, None
    try:
        lat, lon = float(lat_text.replace(",", ".")), float(lon_text.replace(",", "."))
    except ValueError:
        errors.append(f"location '{lat_text[:20]}, {lon_text[:20]}' is not two numbers")
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        errors.append(f"location {lat}, {lon} is outside latitude/longitude ranges")
        return None, None
    return lat, lon


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _, label in TEMPLATE_HEADERS])
    writer.writerow(
        [
            "25280",
            "Camera sảnh TTPVHCC",
            "IP",
            "DS-2CD2143G2-I",
            "Hikvision",
            "1",
            "Sảnh tiếp nhận hồ sơ",
            "hành chính công",
            "11.8361",
            "106.6013",
            "Đầu ghi",
            "Hikvision DS-7608NI-K2",
            "Có",
            "RTSP",
            "rtsp://admin:matkhau@10.10.1.20:554/Streaming/Channels/101",
            "rtsp://admin:matkhau@10.10.1.20:554/Streaming/Channels/102",
            "camera → switch → firewall → router → Internet",
            "10.10.1.0/24",
            "Không",
            "Internet cáp quang",
            "100 Mbps",
            "Nguyễn Văn A",
            "0912 345 678",
            "",
        ]
    )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel then reads UTF-8
