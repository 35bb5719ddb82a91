"""Running a :class:`Query` through the product's own functions — the analytics engine for every
figure (the same ``analyze`` / ``element_values`` the analytics API calls), completeness for
reporting status, the camera registry, and the status providers other capabilities contribute.
Nothing here computes a figure of its own: it orders, picks and pairs what those return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dieuhanh.assistant.query import Operation, Order, Query
from dieuhanh.assistant.vocabulary import Measure, Vocabulary
from dieuhanh.cameras.models import Camera, CameraStatus, State
from dieuhanh.core.access import Principal, Scope
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.errors import InvalidInput
from dieuhanh.core.runtime import Runtime
from dieuhanh.core.status import STATUS_PROVIDERS, StatusItem, StatusSummary, provider
from dieuhanh.indicators.analytics import analytics
from dieuhanh.indicators.catalog.form_models import ReportForm
from dieuhanh.indicators.catalog.periods import Period, parse_period
from dieuhanh.indicators.reporting.completeness import State as ReportState
from dieuhanh.indicators.reporting.completeness import completeness
from dieuhanh.units.models import Unit
from dieuhanh.units.service import find_unit, subtree_ids

STATUS_LIMIT = 20


@dataclass(frozen=True)
class Figure:
    indicator: str
    indicator_name: str
    unit: str
    unit_name: str
    period: str
    period_name: str
    value: float | None
    unit_of_measure: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator,
            "unit": self.unit,
            "period": self.period,
            "value": self.value,
            "indicatorName": self.indicator_name,
            "unitName": self.unit_name,
            "periodName": self.period_name,
            "unitOfMeasure": self.unit_of_measure,
        }


@dataclass
class Result:
    query: Query
    measure: Measure | None = None
    figures: list[Figure] = field(default_factory=list)
    # The product calls made, as an officer can repeat them (the analytics API's parameters).
    calls: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)  # what the operation adds (ranks…)


class Executor:
    def __init__(
        self,
        session: Session,
        runtime: Runtime,
        principal: Principal,
        vocabulary: Vocabulary,
        *,
        lang: str = "vi",
        now: datetime | None = None,
    ) -> None:
        self.session = session
        self.runtime = runtime
        self.principal = principal
        self.vocabulary = vocabulary
        self.lang = lang
        self.now = now

    def run(self, query: Query) -> Result:
        handler = {
            Operation.VALUE: self.value,
            Operation.COMPARE_LAST_YEAR: self.compare,
            Operation.COMPARE_PREVIOUS: self.compare,
            Operation.RANK: self.rank,
            Operation.TREND: self.value,
            Operation.REPORTING: self.reporting,
            Operation.STATUS: self.status,
        }[query.operation]
        result = handler(query)
        result.detail.setdefault("province", self.vocabulary.province.code)
        return result

    # --- figures -------------------------------------------------------------------------

    def figures(
        self, query: Query, periods: list[Period], *, level: str | None = None
    ) -> tuple[list[Figure], dict[str, Any]]:
        """The analytics engine's rows for the query's measure, as the analytics API gives them."""
        code = query.code
        if code is None:
            raise InvalidInput("This query names no indicator.", code="missing_indicator")
        measure = self.vocabulary.measures[query.indicator or ""]
        units = list(query.units) if level is None else None
        parent = self.vocabulary.province.code
        scope = self.principal.read_scope
        rows: list[tuple[str, str, str, str, str, float | None]]
        if measure.is_element:
            rows = [
                (r.element, r.unit, r.unit_name, r.period, r.period_name, r.value)
                for r in analytics.element_values(
                    self.session, elements=[code], units=units, level=level, parent=parent,
                    periods=periods, scope=scope, lang=self.lang,
                )
            ]  # fmt: skip
        else:
            rows = [
                (r.indicator, r.unit, r.unit_name, r.period, r.period_name, r.value)
                for r in analytics.analyze(
                    self.session, indicators=[code], units=units, level=level, parent=parent,
                    periods=periods, scope=scope, lang=self.lang,
                ).rows
            ]  # fmt: skip
        figures = [
            Figure(query.indicator or "", measure.name, unit, unit_name, period, period_name,
                   value, measure.unit_of_measure)
            for _code, unit, unit_name, period, period_name, value in rows
        ]  # fmt: skip
        call = {
            "api": "/api/v1/analytics/dataElements" if measure.is_element else "/api/v1/analytics",
            ("element" if measure.is_element else "indicator"): code,
            "period": ";".join(p.code for p in periods),
        }
        if level is None:
            call["unit"] = ",".join(units or [])
        else:
            call.update(level=level, parent=parent)
        return figures, call

    def value(self, query: Query) -> Result:
        periods = [parse_period(code) for code in query.periods]
        figures, call = self.figures(query, periods)
        result = Result(query, self.vocabulary.measures[query.indicator or ""], figures, [call])
        result.links = self.links(query, call)
        if query.operation is Operation.TREND:
            result.detail["chart"] = self.chart(query, periods, figures)
        return result

    def compare(self, query: Query) -> Result:
        asked = [parse_period(code) for code in query.periods]
        if query.operation is Operation.COMPARE_LAST_YEAR:
            pairs = [(p, p.same_period_last_year()) for p in asked]
        else:
            pairs = [(p, p.previous()) for p in asked]
        periods = sorted({p for pair in pairs for p in pair})
        figures, call = self.figures(query, periods)
        result = Result(query, self.vocabulary.measures[query.indicator or ""], figures, [call])
        result.detail["pairs"] = [(now.code, then.code) for now, then in pairs]
        result.links = self.links(query, call)
        return result

    def rank(self, query: Query) -> Result:
        periods = [parse_period(code) for code in query.periods]
        figures, call = self.figures(query, periods, level=query.level or "commune")
        measure = self.vocabulary.measures[query.indicator or ""]
        present = [f for f in figures if f.value is not None]
        reverse = query.order is not Order.LOWEST
        # Ties keep a stable, readable order: by name.
        ordered = sorted(present, key=lambda f: f.unit_name)
        ordered.sort(key=lambda f: f.value or 0.0, reverse=reverse)
        limit = query.limit or 5
        shown = ordered[:limit]
        asked = [f for f in ordered if f.unit in query.units and f not in shown]
        result = Result(query, measure, shown + asked, [call])
        result.detail.update(
            ranked=len(ordered),
            positions={f.unit: ordered.index(f) + 1 for f in shown + asked},
        )
        result.links = self.links(query, call)
        return result

    def chart(self, query: Query, periods: list[Period], figures: list[Figure]) -> dict[str, Any]:
        """The series for the chat panel's small chart: one line per unit."""
        labels = [p.label(self.lang) for p in periods]
        series = []
        for unit in query.units:
            values = {f.period: f.value for f in figures if f.unit == unit}
            name = next((f.unit_name for f in figures if f.unit == unit), unit)
            series.append({"name": name, "values": [values.get(p.code) for p in periods]})
        return {"labels": labels, "series": series}

    def links(self, query: Query, call: dict[str, Any]) -> list[dict[str, str]]:
        api = {k: v for k, v in call.items() if k != "api"}
        links = [{"label": "Dữ liệu phân tích (API)", "href": f"{call['api']}?{urlencode(api)}"}]
        if not query.is_element:
            unit = query.units[0] if query.units else self.vocabulary.province.code
            view = urlencode({"unit": unit, "indicator": query.code})
            links.insert(
                0, {"label": "Xem trên bảng chỉ số", "href": f"/indicators/dashboard?{view}"}
            )
        return links

    # --- reporting status ----------------------------------------------------------------

    def reporting(self, query: Query) -> Result:
        form = self.session.scalar(select(ReportForm).where(ReportForm.code == query.indicator))
        if form is None:
            raise InvalidInput(f"Unknown report form {query.indicator}.", code="unknown_form")
        periods = [parse_period(code) for code in query.periods]
        scope = self.unit_scope(query.units)
        board = completeness(
            self.session, form, periods, restrict_to=scope.unit_ids, now=self.now or _now()
        )
        not_sent = [
            (row.code, row.name, state)
            for row in board.units
            for state in row.states.values()
            if state in (ReportState.MISSING, ReportState.NOT_DUE)
        ]
        late = [
            row for row in board.units if any(s is ReportState.LATE for s in row.states.values())
        ]
        period = periods[0]
        unit = (
            self.vocabulary.province if not query.units else self.vocabulary.place(query.units[0])
        )
        unit_code = unit.code if unit else self.vocabulary.province.code
        unit_name = unit.name if unit else ""
        label = period.label(self.lang)

        def figure(measure: str, name: str, value: float | None) -> Figure:
            return Figure(f"{form.code}.{measure}", f"{name} ({form.name})", unit_code,
                          unit_name, period.code, label, value, "đơn vị")  # fmt: skip

        expected = sum(len(row.states) for row in board.units)
        result = Result(query, None, [
            figure("EXPECTED_REPORTS", "Số báo cáo phải nộp", float(expected)),
            figure("ACTUAL_REPORTS", "Số báo cáo đã nộp", float(board.totals.submitted)),
            figure("NOT_SUBMITTED", "Số báo cáo chưa nộp", float(len(not_sent))),
        ])  # fmt: skip
        result.calls = [{
            "api": "/api/v1/completeness",
            "form": form.code,
            "period": ";".join(p.code for p in periods),
        }]  # fmt: skip
        result.detail.update(
            form=form.name,
            not_sent=[
                {"code": c, "name": n, "due": s is ReportState.NOT_DUE} for c, n, s in not_sent
            ],
            late=[row.name for row in late],
        )
        view = urlencode({"form": form.code, "period": period.code})
        result.links = [
            {"label": "Xem tình hình nộp báo cáo", "href": f"/reporting/completeness?{view}"}
        ]
        return result

    def unit_scope(self, codes: tuple[str, ...]) -> Scope:
        """The asker's read scope, narrowed to the asked units' subtrees."""
        scope = self.principal.read_scope
        ids: set[int] | None = None
        for code in codes:
            unit = find_unit(self.session, code)
            if unit is None:
                continue
            below = subtree_ids(self.session, unit)
            if below is None:
                ids = None
                break
            ids = (ids or set()) | below
        if ids is None:
            return scope
        if scope.unit_ids is not None:
            ids &= scope.unit_ids
        return Scope(frozenset(ids))

    # --- state of things -----------------------------------------------------------------

    def status(self, query: Query) -> Result:
        scope = self.unit_scope(query.units)
        if query.subject == "cameras":
            summary = self.cameras(scope, query.state)
        else:
            found = provider(self.runtime.extensions.of(STATUS_PROVIDERS), query.subject or "")
            if found is None:
                raise InvalidInput(
                    f"Nothing in this installation reports the state of {query.subject}.",
                    code="unknown_subject",
                )
            summary = found.summarize(self.session, scope, query.state, STATUS_LIMIT)
        unit = self.vocabulary.place(query.units[0]) if query.units else None
        unit = unit or self.vocabulary.province
        today = (self.now or _now()).astimezone(self.runtime.settings.zone).date()
        stamp = today.strftime("%Y%m%d")
        states = dict.fromkeys(_STATES.get(summary.subject, ()), 0) | summary.counts
        # Sources belong to no unit: an account limited to its unit is told so, with no count.
        hidden = not summary.counts and not scope.is_everything and summary.subject == "sources"
        figures = [] if hidden else [
            Figure(f"{summary.subject}.{state}", state_name(f"{summary.subject}.{state}"),
                   unit.code, unit.name, stamp, today.strftime("%d/%m/%Y"), float(count), "")
            for state, count in states.items()
        ]  # fmt: skip
        result = Result(query, None, figures)
        result.calls = [{"subject": summary.subject, "state": query.state, "unit": unit.code}]
        result.detail.update(summary=summary, unit_name=unit.name)
        if summary.link:
            result.links = [{"label": "Xem danh sách", "href": summary.link}]
        return result

    def cameras(self, scope: Scope, state: str | None) -> StatusSummary:
        status = func.coalesce(CameraStatus.state, State.UNKNOWN.value)
        base = select(Camera).outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
        where = [scope.where(Camera.unit_id), Camera.enabled.is_(True)]
        counts = dict(
            self.session.execute(
                select(status, func.count())
                .select_from(Camera)
                .outerjoin(CameraStatus, CameraStatus.camera_id == Camera.id)
                .where(*where)
                .group_by(status)
            ).all()
        )
        wanted = state or State.DEAD.value
        rows = self.session.execute(
            base.add_columns(Unit, CameraStatus.since)
            .join(Unit, Unit.id == Camera.unit_id)
            .where(*where, status == wanted)
            .order_by(Camera.name)
            .limit(STATUS_LIMIT)
        )
        items = [
            StatusItem(camera.name, wanted, unit.code, unit.name, since, f"/cameras/{camera.id}")
            for camera, unit, since in rows
        ]
        link = f"/cameras?{urlencode({'state': wanted})}"
        return StatusSummary("cameras", {k: int(v) for k, v in counts.items()}, items, link)


_STATES = {
    "cameras": ("dead", "live", "unknown"),
    "sources": ("failing", "late", "live", "never"),
    "alerts": ("open", "acknowledged"),
    "reports": ("overdue", "open"),
}
_STATE_NAMES = {
    "cameras.live": "Số camera đang hoạt động",
    "cameras.dead": "Số camera mất tín hiệu",
    "cameras.unknown": "Số camera chưa rõ trạng thái",
    "sources.live": "Số nguồn dữ liệu cập nhật đúng hạn",
    "sources.late": "Số nguồn dữ liệu chậm cập nhật",
    "sources.failing": "Số nguồn dữ liệu bị lỗi",
    "sources.never": "Số nguồn dữ liệu chưa chạy lần nào",
    "alerts.open": "Số cảnh báo chưa tiếp nhận",
    "alerts.acknowledged": "Số cảnh báo đã tiếp nhận, chưa xử lý xong",
    "reports.open": "Số phản ánh đang xử lý",
    "reports.overdue": "Số phản ánh quá hạn",
}


def state_name(key: str) -> str:
    return _STATE_NAMES.get(key, key)


def _now() -> datetime:
    return utcnow()
