"""The typed query a question is turned into, whichever path understood it (the offline parser
or the language model's tool call): the one thing the executor runs and the answer shows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


class Operation(StrEnum):
    VALUE = "value"  # the figure for units × periods
    COMPARE_LAST_YEAR = "compare_last_year"  # against the same period a year earlier (cùng kỳ)
    COMPARE_PREVIOUS = "compare_previous"  # against the period just before (kỳ trước)
    RANK = "rank"  # the communes (or departments) ordered by the figure
    TREND = "trend"  # the figure over a series of periods
    REPORTING = "reporting"  # who has not submitted a report form for a period
    STATUS = "status"  # the state of cameras, sources, alerts or citizen reports
    BRIEFING = "briefing"  # what moved most this week, in words


class Order(StrEnum):
    HIGHEST = "highest"
    LOWEST = "lowest"


# Indicator codes are the analytics API's; an element is asked for as "#CODE" so the two
# namespaces never collide in the labelled set and in the shown query.
ELEMENT_PREFIX = "#"


@dataclass(frozen=True)
class Query:
    operation: Operation
    indicator: str | None = None  # indicator code, "#ELEMENT" code, or report form code
    units: tuple[str, ...] = ()  # unit codes; empty with a level
    level: str | None = None  # "commune" or "department" for rankings and reporting status
    periods: tuple[str, ...] = ()  # period codes, in order
    order: Order | None = None
    limit: int | None = None
    subject: str | None = None  # status: cameras, sources, alerts, reports
    state: str | None = None  # status: the state asked about (dead, failing, open, overdue)
    notes: tuple[str, ...] = field(default=(), compare=False)  # how words were read

    @property
    def is_element(self) -> bool:
        return bool(self.indicator and self.indicator.startswith(ELEMENT_PREFIX))

    @property
    def code(self) -> str | None:
        """The indicator or element code, without the element marker."""
        return self.indicator.removeprefix(ELEMENT_PREFIX) if self.indicator else None

    def key(self) -> dict[str, Any]:
        """What identifies the query: compared with the labelled set's expected queries."""
        data = self.to_json()
        data.pop("notes")
        return data

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["operation"] = self.operation.value
        data["order"] = self.order.value if self.order else None
        data["units"] = list(self.units)
        data["periods"] = list(self.periods)
        data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Query:
        return cls(
            operation=Operation(data["operation"]),
            indicator=data.get("indicator"),
            units=tuple(data.get("units") or ()),
            level=data.get("level"),
            periods=tuple(data.get("periods") or ()),
            order=Order(data["order"]) if data.get("order") else None,
            limit=data.get("limit"),
            subject=data.get("subject"),
            state=data.get("state"),
        )

    def but(self, **changes: Any) -> Query:
        return replace(self, **changes)
