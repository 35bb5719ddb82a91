"""The alerts capability's layers of the operations map: open alerts by severity (a click opens
the alert) and directives by recipient unit and state (a click opens the board filtered to that
unit). Both feed the panel of what needs attention now."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from dieuhanh.alerts.directives import late_step
from dieuhanh.alerts.models import (
    SEVERITY_RANK,
    Alert,
    AlertState,
    Directive,
    DirectiveRecipient,
    DirectiveState,
    Severity,
)
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

ACTIVE = (AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value)
ALERT_LINK = "/alerts/{id}"
BOARD_LINK = "/directives?unit={unit}"
DIRECTIVE_DAYS = 60  # as the board: directives of the last 60 days


def _active_alerts(request: LayerRequest) -> Any:
    return request.session.execute(
        select(Alert.id, Alert.severity, Alert.title, Alert.context, Alert.opened_at, Unit.code,
               Unit.name)
        .outerjoin(Unit, Unit.id == Alert.unit_id)
        .where(Alert.state.in_(ACTIVE), request.principal.read_scope.where(Alert.unit_id))
        .order_by(Alert.id)
    )  # fmt: skip


def _place(context: dict[str, Any]) -> tuple[float | None, float | None]:
    """An alert about a located thing (a citizen report) carries its point in its context."""
    lat, lon = context.get("lat"), context.get("lon")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return float(lat), float(lon)
    return None, None


def alert_features(request: LayerRequest) -> LayerData:
    rows = []
    for id_, severity, title, context, _, unit_code, _ in _active_alerts(request):
        rows.append(point_row(id_, *_place(context or {}), unit_code, severity, title))
    rows.sort(key=lambda row: -SEVERITY_RANK[Severity(row[4])])  # the most severe drawn on top
    return LayerData(rows)


def alert_attention(request: LayerRequest) -> list[AttentionItem]:
    return [
        AttentionItem(
            layer="alerts",
            urgency=severity,
            title=title,
            at=opened_at,
            link=ALERT_LINK.format(id=id_),
            unit_code=unit_code,
            unit_name=unit_name,
            key=f"alert:{id_}",
        )
        for id_, severity, title, _, opened_at, unit_code, unit_name in _active_alerts(request)
    ]


# A unit's mark is the worst of its directives' states, in this order.
ESCALATED, LATE, WAITING, WORKING, DONE = "escalated", "overdue", "sent", "working", "done"
DIRECTIVE_MARKS = (ESCALATED, LATE, WAITING, WORKING, DONE)
WORDS = {
    "vi": {"open": "chỉ đạo đang thực hiện", "late": "quá hạn", "escalated": "Chỉ đạo bị "
           "chuyển cấp", "overdue": "Chỉ đạo quá hạn", "acknowledge": "tiếp nhận",
           "result": "báo cáo kết quả"},
    "en": {"open": "directives open", "late": "late", "escalated": "Directive escalated",
           "overdue": "Directive overdue", "acknowledge": "acknowledge", "result": "report"},
}  # fmt: skip


def _mark(directive: Directive, recipient: DirectiveRecipient, now: datetime) -> str:
    if recipient.state == DirectiveState.DONE:
        return DONE
    if recipient.escalated_at is not None:
        return ESCALATED
    if late_step(directive, recipient, now):
        return LATE
    return WAITING if recipient.state == DirectiveState.SENT else WORKING


def _recipients(request: LayerRequest) -> Any:
    since = utcnow() - timedelta(days=DIRECTIVE_DAYS)
    return request.session.execute(
        select(Directive, DirectiveRecipient, Unit.code, Unit.name)
        .join(DirectiveRecipient, DirectiveRecipient.directive_id == Directive.id)
        .join(Unit, Unit.id == DirectiveRecipient.unit_id)
        .where(Directive.created_at >= since,
               request.principal.read_scope.where(DirectiveRecipient.unit_id))
        .order_by(Unit.code, Directive.id)
    )  # fmt: skip


def directive_features(request: LayerRequest) -> LayerData:
    now, words = utcnow(), WORDS.get(request.language, WORDS["vi"])
    marks: dict[str, list[str]] = {}
    for directive, recipient, unit_code, _ in _recipients(request):
        marks.setdefault(unit_code, []).append(_mark(directive, recipient, now))
    rows = []
    for unit_code, unit_marks in marks.items():
        worst = min(unit_marks, key=DIRECTIVE_MARKS.index)
        counted = Counter(unit_marks)
        title = f"{len(unit_marks) - counted[DONE]} {words['open']}"
        if late := counted[LATE] + counted[ESCALATED]:
            title += f" · {late} {words['late']}"
        rows.append(point_row(unit_code, None, None, unit_code, worst, title))
    return LayerData(rows)


def directive_attention(request: LayerRequest) -> list[AttentionItem]:
    now, words = utcnow(), WORDS.get(request.language, WORDS["vi"])
    items = []
    for directive, recipient, unit_code, unit_name in _recipients(request):
        step = late_step(directive, recipient, now)
        if step is None:
            continue
        escalated = recipient.escalated_at is not None
        heading = words["escalated" if escalated else "overdue"]
        items.append(AttentionItem(
            layer="directives", urgency="major" if escalated else "minor",
            title=f"{heading} ({words[step]}): {directive.code} {directive.title}",
            at=recipient.escalated_at or recipient.overdue_at or directive.deadline,
            link=BOARD_LINK.format(unit=unit_code), unit_code=unit_code, unit_name=unit_name,
            key=f"directive:{directive.code}:{unit_code}",
        ))  # fmt: skip
    return items


ALERTS = MapLayer(
    code="alerts",
    title_vi="Cảnh báo đang mở theo mức độ",
    title_en="Open alerts by severity",
    kind="points",
    topics=("alert.*",),
    features=alert_features,
    attention=alert_attention,
    classes=(
        LayerClass(Severity.CRITICAL.value, "Khẩn cấp", "Critical", "#b00020"),
        LayerClass(Severity.MAJOR.value, "Nghiêm trọng", "Major", "#e4572e"),
        LayerClass(Severity.MINOR.value, "Nhẹ", "Minor", "#f3a712"),
        LayerClass(Severity.WARNING.value, "Cảnh giác", "Warning", "#f6d55c"),
        LayerClass(Severity.INFO.value, "Thông tin", "Info", "#3caea3"),
    ),
    link=ALERT_LINK,
    order=5,
)

DIRECTIVES = MapLayer(
    code="directives",
    title_vi="Chỉ đạo theo đơn vị và trạng thái",
    title_en="Directives by unit and state",
    kind="points",
    topics=("directive.*",),
    features=directive_features,
    attention=directive_attention,
    classes=(
        LayerClass(ESCALATED, "Bị chuyển cấp", "Escalated", "#7b2cbf"),
        LayerClass(LATE, "Quá hạn", "Overdue", "#c9184a"),
        LayerClass(WAITING, "Chưa tiếp nhận", "Not acknowledged", "#ff9f1c"),
        LayerClass(WORKING, "Đang thực hiện", "In progress", "#2ec4b6"),
        LayerClass(DONE, "Đã báo cáo kết quả", "Reported", "#6a994e"),
    ),
    link=BOARD_LINK,
    order=40,
)
