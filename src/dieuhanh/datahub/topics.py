"""The event topics the data hub publishes (declared in its manifest)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from dieuhanh.core.events import Topic
from dieuhanh.datahub.models import SourceState

STATE_CHANGED = "source.state_changed"


class SourceStateChanged(BaseModel):
    """A source went live, late, failing (or, never synced, appeared)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="The source's code (`GET /api/v1/sources/{code}`).")
    name: str = Field(description="The source's name when the change happened.")
    kind: str = Field(description="Connector kind, e.g. `rest_api`.")
    state: SourceState = Field(description="The new state.")
    previous_state: SourceState = Field(description="The state before the change.")
    reason: str | None = Field(description="Why, for a person: the error, or how late it is.")
    last_success_at: datetime | None = Field(description="The last successful run (UTC).")
    at: datetime = Field(description="When the change was seen (UTC).")


TOPICS = (
    Topic(
        name=STATE_CHANGED,
        schema=SourceStateChanged,
        description=(
            "A data source went late (no success as recent as its freshness asks), failing "
            "(its last run failed) or live again (recovered). Published by the data hub when "
            "a run ends and when its sync job sees time pass a freshness deadline."
        ),
    ),
)
