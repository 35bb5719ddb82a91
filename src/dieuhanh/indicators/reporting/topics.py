"""The topics the reporting part publishes: a unit's report form gone past its deadline without
a completion, and a report form completed — so that an alert rule raises on the first and
resolves on the second (issue #13: "report form overdue" as an event in)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from dieuhanh.core.events import Topic

FORM_OVERDUE = "report_form.overdue"
FORM_SUBMITTED = "report_form.submitted"


class ReportFormEvent(BaseModel):
    """One unit's report form for one period."""

    model_config = ConfigDict(extra="forbid")

    form: str = Field(description="The form's code, e.g. TK01.")
    form_name: str
    unit_code: str
    unit_name: str
    period: str = Field(description="The period's code, e.g. 202601.")
    period_label: str = Field(description="The period as people read it, e.g. Tháng 01/2026.")
    deadline: datetime = Field(description="The instant it stopped being on time.")
    on_time: bool | None = Field(description="Submitted: before the deadline; overdue: null.")
    by: str = Field(description="Who completed it; `system` for overdue.")
    at: datetime


TOPICS = (
    Topic(FORM_OVERDUE, ReportFormEvent, "A unit's report form passed its deadline without a "
          "completion (once per form × unit × period; only the most recent period is told)."),
    Topic(FORM_SUBMITTED, ReportFormEvent, "A unit completed its report form for a period "
          "(on time or late)."),
)  # fmt: skip
