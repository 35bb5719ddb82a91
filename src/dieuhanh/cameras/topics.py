"""The event topics the cameras capability publishes (declared in its manifest)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from dieuhanh.cameras.models import Reason, State
from dieuhanh.core.events import Topic

STATE_CHANGED = "camera.state_changed"


class CameraStateChanged(BaseModel):
    """A camera's stream changed state (live, dead, unknown) or, staying dead, its reason."""

    model_config = ConfigDict(extra="forbid")

    camera_id: int = Field(description="Id of the camera (`GET /api/v1/cameras/{id}`).")
    name: str = Field(description="The camera's name when the change happened.")
    unit_code: str = Field(description="Official code of the unit the camera belongs to.")
    state: State = Field(description="The new state.")
    previous_state: State = Field(description="The state before the change.")
    reason: Reason | None = Field(description="Why the stream is dead (null when live).")
    detail: str | None = Field(description="What the probe saw, for a person.")
    at: datetime = Field(description="When the probe saw the change (UTC).")


TOPICS = (
    Topic(
        name=STATE_CHANGED,
        schema=CameraStateChanged,
        description=(
            "A camera's stream went live, dead or unknown, or a dead stream's reason changed "
            "(e.g. timeout → unauthorized). Published by the stream health monitor."
        ),
    ),
)
