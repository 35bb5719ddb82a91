"""The answer in Vietnamese, written from the result only: every number in it is a figure the
product's queries returned (or their difference, shown as such), with units, periods named in
full and dates as dd/mm/yyyy."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dieuhanh.assistant.execute import Result, state_name
from dieuhanh.assistant.query import Operation, Order, Query
from dieuhanh.core.status import StatusSummary
from dieuhanh.indicators.catalog.periods import Period, PeriodType, parse_period

LISTED = 10  # units named in a list before "và N đơn vị khác"


def number(value: float, decimals: int | None = None) -> str:
    """Vietnamese writing: 1.234,5 — a dot between thousands, a comma before decimals."""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else min(_decimals(value), 2)
    text = f"{abs(value):,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return ("-" if value < 0 else "") + text


def _decimals(value: float) -> int:
    text = repr(float(value)).split(".")[1] if "." in repr(float(value)) else ""
    return len(text.rstrip("0"))


def amount(value: float | None, unit_of_measure: str, decimals: int | None = None) -> str:
    if value is None:
        return "chưa có số liệu"
    text = number(value, decimals)
    if not unit_of_measure:
        return text
    return f"{text}%" if unit_of_measure == "%" else f"{text} {unit_of_measure}"


def period_words(code: str, today: date) -> str:
    """ "tháng 03/2026", "quý I/2026", "năm 2026 (từ 01/01/2026 đến nay)"."""
    period = parse_period(code)
    label = period.label("vi")
    text = label[0].lower() + label[1:]
    if period.start <= today <= period.end and period.type is not PeriodType.DAILY:
        text += " (đến nay)"
    return text


def write(result: Result, today: date, zone: str) -> str:
    query = result.query
    writer = {
        Operation.VALUE: _value,
        Operation.COMPARE_LAST_YEAR: _compare,
        Operation.COMPARE_PREVIOUS: _compare,
        Operation.RANK: _rank,
        Operation.TREND: _trend,
        Operation.REPORTING: _reporting,
        Operation.STATUS: _status,
    }[query.operation]
    return writer(result, today, zone)


def _decimals_of(result: Result) -> int | None:
    return result.measure.decimals if result.measure else None


def _value(result: Result, today: date, _zone: str) -> str:
    assert result.measure is not None
    found = {(f.unit, f.period): f for f in result.figures}
    lines = []
    for unit in result.query.units:
        for period in result.query.periods:
            figure = found.get((unit, period))
            where = _unit_name(result, unit)
            when = period_words(period, today)
            if figure is None or figure.value is None:
                lines.append(f"Chưa có số liệu {_lower(result.measure.name)} của {where} {when}.")
            else:
                value = amount(figure.value, figure.unit_of_measure, _decimals_of(result))
                lines.append(f"{result.measure.name} của {where} {when} là {value}.")
    return " ".join(lines)


def _compare(result: Result, today: date, _zone: str) -> str:
    assert result.measure is not None
    found = {(f.unit, f.period): f.value for f in result.figures}
    against = (
        "cùng kỳ năm trước"
        if result.query.operation is Operation.COMPARE_LAST_YEAR
        else "kỳ liền trước"
    )
    uom, decimals = result.measure.unit_of_measure, _decimals_of(result)
    lines = []
    for unit in result.query.units:
        where = _unit_name(result, unit)
        for now, then in result.detail["pairs"]:
            a, b = found.get((unit, now)), found.get((unit, then))
            head = (
                f"{result.measure.name} của {where} {period_words(now, today)} là "
                f"{amount(a, uom, decimals)}"
            )
            tail = f"{against} ({period_words(then, today)}) là {amount(b, uom, decimals)}"
            lines.append(f"{head}; {tail}{_change(a, b, uom, decimals, result)}.")
    return " ".join(lines)


def _change(
    a: float | None, b: float | None, uom: str, decimals: int | None, result: Result
) -> str:
    if a is None or b is None:
        return ""
    difference = round(a - b, decimals if decimals is not None else 6)
    result.detail.setdefault("derived", []).append(difference)
    if difference == 0:
        return ", không thay đổi"
    verb = "tăng" if difference > 0 else "giảm"
    if uom == "%":
        return f", {verb} {number(abs(difference), decimals)} điểm phần trăm"
    return f", {verb} {amount(abs(difference), uom, decimals)}"


def _rank(result: Result, today: date, _zone: str) -> str:
    assert result.measure is not None
    query = result.query
    level = "sở, ngành" if query.level == "department" else "xã, phường"
    which = "cao nhất" if query.order is not Order.LOWEST else "thấp nhất"
    when = period_words(query.periods[0], today)
    positions = result.detail["positions"]
    if not result.figures:
        return f"Chưa có số liệu {_lower(result.measure.name)} của các {level} {when}."
    shown = [f for f in result.figures if positions[f.unit] <= (query.limit or 5)]
    decimals = _decimals_of(result)
    items = "; ".join(
        f"{positions[f.unit]}. {f.unit_name}: {amount(f.value, f.unit_of_measure, decimals)}"
        for f in shown
    )
    text = (
        f"Các {level} có {_lower(result.measure.name)} {which} {when} "
        f"(trong {number(result.detail['ranked'])} đơn vị có số liệu): {items}."
    )
    # Positions and the count of ranked units are derived from the figures: listed as such.
    result.detail.setdefault("derived", []).extend(
        [float(result.detail["ranked"]), *(float(p) for p in positions.values())]
    )
    for f in result.figures:
        if f not in shown:
            value = amount(f.value, f.unit_of_measure, _decimals_of(result))
            text += f" {f.unit_name} đứng thứ {positions[f.unit]} với {value}."
    return text


def _trend(result: Result, today: date, _zone: str) -> str:
    assert result.measure is not None
    uom, decimals = result.measure.unit_of_measure, _decimals_of(result)
    lines = []
    for unit in result.query.units:
        series = [f for f in result.figures if f.unit == unit and f.value is not None]
        where = _unit_name(result, unit)
        first, last = result.query.periods[0], result.query.periods[-1]
        span = f"từ {period_words(first, today)} đến {period_words(last, today)}"
        if not series:
            lines.append(f"Chưa có số liệu {_lower(result.measure.name)} của {where} {span}.")
            continue
        high = max(series, key=lambda f: f.value or 0.0)
        low = min(series, key=lambda f: f.value or 0.0)
        start, end = series[0], series[-1]
        direction = _direction(start.value, end.value)
        values = "; ".join(f"{f.period_name}: {amount(f.value, uom, decimals)}" for f in series)
        lines.append(
            f"{result.measure.name} của {where} {span}: {direction} từ "
            f"{amount(start.value, uom, decimals)} ({start.period_name}) xuống còn "
            f"{amount(end.value, uom, decimals)} ({end.period_name})"
            if direction == "giảm"
            else f"{result.measure.name} của {where} {span}: {direction} từ "
            f"{amount(start.value, uom, decimals)} ({start.period_name}) đến "
            f"{amount(end.value, uom, decimals)} ({end.period_name})"
        )
        lines[-1] += (
            f"; cao nhất {amount(high.value, uom, decimals)} ({high.period_name}), thấp nhất "
            f"{amount(low.value, uom, decimals)} ({low.period_name}). Chi tiết: {values}."
        )
    return " ".join(lines)


def _direction(start: float | None, end: float | None) -> str:
    if start is None or end is None or start == end:
        return "đi ngang"
    return "tăng" if end > start else "giảm"


def _reporting(result: Result, today: date, _zone: str) -> str:
    detail = result.detail
    when = period_words(result.query.periods[0], today)
    figures = {f.indicator.rsplit(".", 1)[1]: f.value for f in result.figures}
    not_sent = detail["not_sent"]
    if not not_sent:
        return (
            f"{_cap(when)}: tất cả {number(figures['EXPECTED_REPORTS'] or 0)} báo cáo "
            f"“{detail['form']}” đã được nộp."
        )
    names = ", ".join(item["name"] for item in not_sent[:LISTED])
    more = len(not_sent) - LISTED
    result.detail.setdefault("derived", []).append(float(max(len(not_sent) - LISTED, 0)))
    text = (
        f"{_cap(when)}: {number(figures['NOT_SUBMITTED'] or 0)} trên "
        f"{number(figures['EXPECTED_REPORTS'] or 0)} báo cáo “{detail['form']}” chưa được nộp: "
        f"{names}{f' và {number(more)} đơn vị khác' if more > 0 else ''}."
    )
    if any(item["due"] for item in not_sent):
        text += " Kỳ này chưa hết hạn nộp: các đơn vị trên vẫn còn thời gian."
    return text


_SUBJECTS = {"cameras": "camera", "sources": "nguồn dữ liệu", "alerts": "cảnh báo",
             "reports": "phản ánh"}  # fmt: skip


def _status(result: Result, today: date, zone: str) -> str:
    summary: StatusSummary = result.detail["summary"]
    subject = _SUBJECTS.get(summary.subject, summary.subject)
    where = result.detail.get("unit_name", "")
    if not result.figures:
        return "Trạng thái nguồn dữ liệu chỉ dành cho tài khoản xem được toàn tỉnh."
    parts = [f"{state_name(f.indicator).lower()}: {number(f.value or 0)}" for f in result.figures]
    text = f"Tình hình {subject} tại {where} hiện nay: {'; '.join(parts) or 'không có'}."
    if summary.items:
        listed = "; ".join(item_text(item, zone) for item in summary.items[:LISTED])
        state = summary.items[0].state
        text += f" Danh sách ({state_name(summary.subject + '.' + state).lower()}): {listed}."
    elif result.query.state:
        text += f" Không có {subject} nào ở trạng thái này."
    return text


def item_text(item: Any, zone: str) -> str:
    where = f" — {item.unit_name}" if item.unit_name else ""
    since = f", từ {_when(item.since, zone)}" if item.since else ""
    return f"{item.label}{where}{since}"


def _when(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M %d/%m/%Y")


def _unit_name(result: Result, code: str) -> str:
    for figure in result.figures:
        if figure.unit == code:
            # The province's stored name has no prefix ("Đồng Nai"): "tỉnh Đồng Nai" reads right.
            if code == result.detail.get("province"):
                return f"tỉnh {figure.unit_name}"
            return figure.unit_name
    names: dict[str, str] = result.detail.get("unit_names", {})
    return names.get(code, code)


def _lower(text: str) -> str:
    return text[0].lower() + text[1:] if text else text


def _cap(text: str) -> str:
    return text[0].upper() + text[1:] if text else text


def describe(query: Query, names: dict[str, str], measure_name: str | None) -> str:
    """The query as an officer reads it back: "Chỉ số: …; đơn vị: …; kỳ: …"."""
    parts = [f"Phép tính: {_OPERATIONS[query.operation]}"]
    if query.indicator:
        parts.append(f"chỉ số: {measure_name or query.indicator} ({query.code})")
    if query.units:
        parts.append("đơn vị: " + ", ".join(f"{names.get(u, u)} ({u})" for u in query.units))
    if query.level:
        parts.append("cấp: " + ("sở, ngành" if query.level == "department" else "xã, phường"))
    if query.periods:
        labels = [parse_period(p).label("vi") for p in query.periods]
        parts.append("kỳ: " + _spread(labels))
        bases = [_base(parse_period(p), query.operation) for p in query.periods]
        if any(bases):
            # The period compared with is named too: the answer states it.
            parts.append("so với kỳ: " + _spread([b.label("vi") for b in bases if b]))
    if query.subject:
        parts.append(f"đối tượng: {_SUBJECTS.get(query.subject, query.subject)}")
    if query.limit:
        parts.append(f"số đơn vị: {query.limit}")
    return "; ".join(parts)


def _spread(labels: list[str]) -> str:
    return ", ".join(labels) if len(labels) <= 3 else f"{labels[0]} – {labels[-1]}"


def _base(period: Period, operation: Operation) -> Period | None:
    if operation is Operation.COMPARE_LAST_YEAR:
        return period.same_period_last_year()
    return period.previous() if operation is Operation.COMPARE_PREVIOUS else None


_OPERATIONS = {
    Operation.VALUE: "giá trị",
    Operation.COMPARE_LAST_YEAR: "so sánh cùng kỳ năm trước",
    Operation.COMPARE_PREVIOUS: "so sánh kỳ liền trước",
    Operation.RANK: "xếp hạng",
    Operation.TREND: "xu hướng",
    Operation.REPORTING: "tình hình nộp báo cáo",
    Operation.STATUS: "trạng thái",
    Operation.BRIEFING: "tóm tắt tình hình",
}


def periods_of(query: Query) -> list[Period]:
    return [parse_period(p) for p in query.periods]
