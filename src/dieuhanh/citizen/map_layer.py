"""The citizen reports' layer of the operations map: every open report, coloured by its status
(an overdue one stands out whatever its status); urgent, escalated and overdue reports are in
the panel of what needs attention now. A click opens the report."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from dieuhanh.citizen.models import OPEN_STATUSES, CitizenReport, ReportCategory, Status
from dieuhanh.core.db.base import utcnow
from dieuhanh.gis.layers import (
    AttentionItem,
    LayerClass,
    LayerData,
    LayerRequest,
    MapLayer,
    point_row,
)
from dieuhanh.units.models import Unit

OVERDUE = "overdue"
ATTENTION_LIMIT = 60
LINK = "/citizen/{id}"
MARKS = {
    "vi": {"escalated": "Phản ánh chuyển tỉnh", "urgent": "Phản ánh khẩn",
           "overdue": "Phản ánh quá hạn"},
    "en": {"escalated": "Report escalated", "urgent": "Urgent report",
           "overdue": "Report overdue"},
}  # fmt: skip


def _open_reports(request: LayerRequest, *columns: Any) -> Any:
    return (
        select(*columns)
        .join(ReportCategory, ReportCategory.id == CitizenReport.category_id)
        .join(Unit, Unit.id == CitizenReport.unit_id)
        .where(
            CitizenReport.status.in_(sorted(OPEN_STATUSES)),
            request.principal.read_scope.where(CitizenReport.unit_id),
        )
    )


def report_features(request: LayerRequest) -> LayerData:
    now = utcnow()
    query = _open_reports(
        request, CitizenReport.code, CitizenReport.lat, CitizenReport.lon, Unit.code,
        CitizenReport.status, CitizenReport.due_at, ReportCategory.name,
    ).order_by(CitizenReport.id)  # fmt: skip
    rows = []
    for code, lat, lon, unit, status, due_at, category in request.session.execute(query):
        shown = OVERDUE if due_at < now else status
        rows.append(point_row(code, lat, lon, unit, shown, f"{code} · {category}"))
    return LayerData(rows)


def report_attention(request: LayerRequest) -> list[AttentionItem]:
    query = (
        _open_reports(request, CitizenReport, ReportCategory.name, Unit.code, Unit.name)
        .where(or_(CitizenReport.urgent.is_(True), CitizenReport.overdue_at.is_not(None)))
        .order_by(CitizenReport.received_at.desc())
        .limit(ATTENTION_LIMIT)
    )
    marks = MARKS.get(request.language, MARKS["vi"])
    items = []
    for report, category, unit_code, unit_name in request.session.execute(query):
        if report.escalated_at is not None:
            urgency, at, mark = "major", report.escalated_at, marks["escalated"]
        elif report.urgent:
            urgency, at, mark = "critical", report.received_at, marks["urgent"]
        else:
            urgency, at, mark = "minor", report.overdue_at or report.due_at, marks["overdue"]
        items.append(AttentionItem(
            layer="reports", urgency=urgency, title=f"{mark}: {category} ({report.code})",
            at=at, link=LINK.format(id=report.code), unit_code=unit_code, unit_name=unit_name,
            key=f"report:{report.code}",
        ))  # fmt: skip
    return items


LAYER = MapLayer(
    code="reports",
    title_vi="Phản ánh hiện trường theo trạng thái",
    title_en="Citizen reports by status",
    kind="points",
    topics=("citizen_report.*",),
    features=report_features,
    attention=report_attention,
    classes=(
        LayerClass(OVERDUE, "Quá hạn", "Overdue", "#b5179e"),
        LayerClass(Status.NEW.value, "Mới", "New", "#f77f00"),
        LayerClass(Status.REOPENED.value, "Mở lại", "Reopened", "#e85d04"),
        LayerClass(Status.ACCEPTED.value, "Đã tiếp nhận", "Accepted", "#4361ee"),
        LayerClass(Status.ASSIGNED.value, "Đã phân công", "Assigned", "#3a0ca3"),
        LayerClass(Status.IN_PROGRESS.value, "Đang xử lý", "In progress", "#4cc9f0"),
    ),
    link=LINK,
    order=20,
)
