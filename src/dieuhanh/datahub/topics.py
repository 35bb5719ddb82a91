"""The event topics the data hub publishes (declared in its manifest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dieuhanh.core.events import Topic
from dieuhanh.datahub.models import SourceState

STATE_CHANGED = "source.state_changed"
RECORDS_CHANGED = "dataset.records_changed"
SENSOR_READING = "sensor.reading"


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


class ChangedRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="The record's primary key in its source.")
    unit: str | None = Field(description="The code of the unit the record was matched to.")
    change: str = Field(description="`new` or `updated`.")
    data: dict[str, Any] = Field(description="The record as the source sent it.")


class RecordsChanged(BaseModel):
    """Records of a dataset that a run added or changed (one event per page stored)."""

    model_config = ConfigDict(extra="forbid")

    dataset: str
    source: str = Field(description="The source's code.")
    run_id: int
    records: list[ChangedRecord]


class SensorReadingEvent(BaseModel):
    """The latest new reading of one sensor series in a stored batch (one event per device ×
    metric per batch: a rule over a series sees each batch's newest value)."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="The MQTT source's code.")
    device: str
    metric: str = Field(description="e.g. water_level, rainfall, pm25.")
    unit_code: str | None = Field(description="The unit the device was mapped to.")
    value: float
    at: datetime = Field(description="When the sensor measured it (UTC).")


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
    Topic(
        name=RECORDS_CHANGED,
        schema=RecordsChanged,
        description=(
            "A run stored new or changed records of a dataset (one event per page, with the "
            "records): citizen reports file the 1022 hotline's cases from it."
        ),
    ),
    Topic(
        name=SENSOR_READING,
        schema=SensorReadingEvent,
        description=(
            "New sensor readings were stored (MQTT series): the newest of each device × metric "
            "in the batch. Alert rules watch thresholds on it (water level, rainfall, PM2.5)."
        ),
    ),
)
