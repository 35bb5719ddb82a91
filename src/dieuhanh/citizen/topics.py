"""The topics citizen reports publish (declared in the manifest): the alerts capability
subscribes to them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from dieuhanh.citizen.models import CitizenReport, ReportCategory
from dieuhanh.core.events import Topic
from dieuhanh.units.models import Unit

CREATED = "citizen_report.created"
ROUTED = "citizen_report.routed"
OVERDUE = "citizen_report.overdue"
ESCALATED = "citizen_report.escalated"
RESOLVED = "citizen_report.resolved"
REOPENED = "citizen_report.reopened"
REFUSED = "citizen_report.refused"


class ReportEventPayload(BaseModel):
    """A report at one step of its handling. No personal data: the contact stays in the report."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="The report's code (`GET /api/v1/citizen/reports/{code}`).")
    category: str = Field(description="Its category code (Open311 service_code).")
    category_name: str
    status: str = Field(description="Its status after this step.")
    urgent: bool
    channel: str = Field(description="web, open311, hotline or import.")
    unit: str = Field(description="The code of the unit it is with.")
    unit_name: str
    lat: float | None
    lon: float | None
    due_at: datetime = Field(description="Its deadline (UTC).")
    at: datetime = Field(description="When this step happened (UTC).")


def payload(
    report: CitizenReport, category: ReportCategory, unit: Unit, at: datetime
) -> ReportEventPayload:
    return ReportEventPayload(
        code=report.code, category=category.code, category_name=category.name,
        status=report.status, urgent=report.urgent, channel=report.channel, unit=unit.code,
        unit_name=unit.name, lat=report.lat, lon=report.lon, due_at=report.due_at, at=at,
    )  # fmt: skip


def _topic(name: str, description: str) -> Topic:
    return Topic(name=name, schema=ReportEventPayload, description=description)


TOPICS = (
    _topic(CREATED, "A citizen report arrived (web form, Open311, a 1022 call, an import); "
           "`urgent` ones ask for immediate notification."),
    _topic(ROUTED, "A report was placed with a unit: when it arrives, and again when it is "
           "transferred to another unit."),
    _topic(OVERDUE, "An open report passed its deadline (working days of its category)."),
    _topic(ESCALATED, "An overdue report stayed open past citizen.escalate_after_hours more: "
           "the province takes it up."),
    _topic(RESOLVED, "The unit answered and resolved a report; the citizen may reopen it "
           "within citizen.reopen_days."),
    _topic(REOPENED, "The citizen (or staff) reopened a resolved report: back to the unit."),
    _topic(REFUSED, "The unit refused a new report (not its business, not a report); the "
           "reason is the public answer."),
)  # fmt: skip
